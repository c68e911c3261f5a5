import pytest

"""rag/attribution/quotes.py and rag/attribution/quote_index.py: who is credited with a quotation in the forms the first extractor
missed (a description before the name, "saying:" cues, introducing paragraphs, pronouns, partial quotes), and
what must stay uncredited (titles, terms, possessives). Every article here is written for the test."""

import re

from rag.attribution.answerer import QuoteAnswerer
from rag.attribution.quote_index import IndexedQuote, index_quotes
from rag.attribution.quotes import find_quotes
from rag.attribution.speakers import asked_speaker
from rag.core.schema import Passage
from rag.nlp.text import same_person

pytestmark = pytest.mark.fast  # the fast tier (make test-fast): no model, no browser, no server

def _speaker(text, opening, quotes=None):
    quotes = quotes if quotes is not None else find_quotes(text, "t")
    found = [q for q in quotes if q.kind == "direct" and q.text.lstrip().startswith(opening)]
    assert found, f"no quote opens with {opening!r}"
    return found[0].speaker


def test_a_description_before_the_name_and_an_adverb_before_the_verb():
    text = ('Calls to the bakery went unanswered.\n\n'
            '"The ovens have been running all night," the shop\'s morning baker, identified only as Pell, told '
            'a local radio station.\n\n"Somebody owes me a holiday," he soon added.')
    assert _speaker(text, "The ovens") == "Pell"
    assert _speaker(text, "Somebody owes") == "Pell"  # "he" is Pell, named as the speaker, not "Calls"


def test_said_before_a_role_and_the_name():
    text = '"The charges were filed this morning," wrote county prosecutor Mira Talvik.'
    assert _speaker(text, "The charges") == "Mira Talvik"
    text = 'The ferry will stop at noon, said retired harbour pilot Oskar Brenn.'
    assert any(q.speaker == "Oskar Brenn" and q.kind == "reported" for q in find_quotes(text))


def test_saying_and_colon_cues_credit_the_sentence_subject():
    text = ('Browsing the stalls was Ilse Varga, a nurse. She waved away the new grant, saying: "It changes the '
            'forms but not what we get."\n\nBy the third day, Fire Chief Tomas Reyl revised that account: "We '
            'cannot rule out a second fire."')
    assert _speaker(text, "It changes") == "Ilse Varga"
    assert _speaker(text, "We cannot") == "Tomas Reyl"


def test_a_partial_quote_inside_a_sentence_about_someone():
    text = ('Dara Quell has run the shelter for a decade.\n\nQuell pointed to an old saying that in the valley, '
            '"if the river freezes early, the spring comes late and hungry."\n\n'
            'At the meeting, Piet Amsel thanked the "volunteers who carried sandbags through the night for us."')
    assert _speaker(text, "if the river") == "Quell"
    assert _speaker(text, "volunteers who") == "Piet Amsel"


def test_a_quote_after_a_sentence_about_its_speaker():
    text = ('Rena Holt leads the tenants\' union. Holt described the pressure on families in the block. '
            '"Rents went up three times in two years, and nobody answers the phone."')
    assert _speaker(text, "Rents went") == "Holt"


def test_a_paragraph_introducing_the_quote_that_follows():
    text = ('Mila Stroud spoke to the council on Monday.\n\n'
            'Stroud also wrote after the vote,\n\n'
            '"I respect the decision, and I will keep asking for the crossing to be lit."\n\n'
            'The Harbor Trust said,\n\n'
            '"We regret the delay and will publish the survey in full."\n\n'
            'Ana Pirez gave her view of the plan. She did not stop there:\n\n'
            '"Every family on this street has asked for the same thing for years."')
    assert _speaker(text, "I respect") == "Stroud"
    assert _speaker(text, "We regret") == "Harbor Trust"
    assert _speaker(text, "Every family") == "Ana Pirez"


def test_a_reported_statement_then_a_quote_only_paragraph():
    text = ('Professor Lio Ramsdell agreed, saying the rules were written for another decade.\n\n'
            '"Half the families I meet have two jobs and nobody to watch the children."')
    assert _speaker(text, "Half the families") == "Lio Ramsdell"


def test_a_pronoun_skips_names_inside_the_previous_quote_and_non_subjects():
    text = ('Bo Varnum, a retired teacher from Elm Park, Ohio, also picked the film as a favourite.\n\n'
            '"A fine portrait of Rosa Linde," he said. "I did not know she wrote so much."\n\n'
            'Assistant Defender Kaja Mott represents Ivo Brandt in the case. She said the order was harsh.\n\n'
            '"There is no shelter outside the city that a client could reach by nine," she said.')
    quotes = find_quotes(text, "t")
    assert _speaker(text, "A fine portrait", quotes) == "Bo Varnum"
    assert _speaker(text, "I did not know", quotes) == "Bo Varnum"
    assert "Kaja Mott" in _speaker(text, "There is no shelter", quotes)


def test_a_pronoun_after_a_subject_named_paragraphs_earlier():
    text = ('Edda Lorne has painted the coast for twenty years.\n\n'
            'Using Brightfield Studio, a popular and free drawing tool, I made a copy of one of her works.\n\n'
            '"That one looks like my own painting," she said.')
    assert _speaker(text, "That one") == "Edda Lorne"


def test_same_sentence_quotes_share_the_speaker_and_a_shared_cue():
    text = ('"We reject this claim," Rhea Dunmore said, adding that the agency followed every rule in the '
            'manual and the inspection guide it was given and "has nothing to hide from anyone."\n\n'
            'Towns have "the oldest water pipes" and "the fewest inspectors," Ulla Brandvik told reporters.')
    assert _speaker(text, "has nothing") == "Rhea Dunmore"
    assert _speaker(text, "the oldest") == "Ulla Brandvik"


def test_an_inverted_reported_cue_and_a_long_cue_sentence():
    text = ('Tova Rusk and Ansel Moreau scored for the visitors.\n\n'
            'Never saw the flag, said a grinning Rusk. Sure, sure, said Moreau.\n\n'
            '"She does that every week," he said. "And she gets away with it."\n\n'
            '"I did not plan it," Rusk said in the noisy corridor of a stadium that was emptying after the long '
            'final. "It just happened."')
    quotes = find_quotes(text, "t")
    assert any(q.speaker == "Moreau" and q.kind == "reported" for q in quotes)
    assert _speaker(text, "She does that", quotes) == "Moreau"
    assert _speaker(text, "And she gets", quotes) == "Moreau"
    assert _speaker(text, "It just happened", quotes) == "Rusk"


def test_a_speaker_of_an_organisation_before_the_cue():
    text = ('One of the jurors, Wren Castell of Harbor College, said the essay "reads like the work of someone who '
            'has listened to students for years."')
    assert _speaker(text, "reads like") == "Wren Castell"
    text = 'Harbor College President Ida Fenn said, "Our students will be on campus for the final week."'
    assert _speaker(text, "Our students") == "Ida Fenn"


def test_a_capitalised_verb_after_an_exclamation():
    text = '"They promise help every year and they do nothing!" Said Nell Okafor. "Nothing at all!"'
    assert _speaker(text, "They promise") == "Nell Okafor"
    assert _speaker(text, "Nothing at all") == "Nell Okafor"


def test_a_capitalised_verb_is_never_part_of_the_name():
    """'"…!" Said Okafor.' once made "Said Okafor" the full name behind every later "she said"."""
    text = ("Roxanne Okafor is a mother and grandmother.\n\nOkafor has written to every legislator.\n\n"
            "She said she cannot explain to her grandson why he lives in such a world.\n\n"
            "\"I cant fathom a world where they will say, 'We're with you' - and they do nothing!\" Said Okafor. "
            "\"They do absolutely nothing.\"\n\nOkafor struggled to speak about her grandson.\n\n"
            "\"How do I tell him, 'You do not have to be afraid?' The windows look just like the ones at that "
            "school,\" she said.")
    speakers = {q.speaker for q in find_quotes(text)}
    assert speakers <= {"Okafor", "Roxanne Okafor"} and "Roxanne Okafor" in speakers
    indexed = {q.speaker for q in index_quotes("a", text + '\n\nSaid Okafor: "We will keep walking."')}
    assert indexed - {None} == {"Roxanne Okafor"}  # the index's own name list reads no "Said Okafor" either


def test_a_sentence_opening_on_its_speech_verb_names_the_speaker_before_the_colon():
    text = ('The Herons scored twice.\n\nSaid Herons forward and former Kestrels captain Ivo Marsh: "He will bring '
            'some fire into that room."\n\nSaid the harbour master, Ana Ruiz: "We will rebuild the pier."')
    credited = {q.text[:7]: (q.speaker, q.description) for q in find_quotes(text)}
    assert credited["He will"] == ("Ivo Marsh", "Herons forward and former Kestrels captain")
    assert credited["We will"] == ("Ana Ruiz", "the harbour master")


def test_titles_terms_and_possessives_stay_uncredited():
    text = ('Ida Brook wrote a book called "Moved On: The Quiet Removal Of The Poor" about city rules.\n\n'
            'The dataset was built by the group Opal, which stands for "open public archive of letters."\n\n'
            'Coastal towns have "the fastest rising rents in the country, by a long way."\n\n'
            'Peter Lund\'s campaign said, "We will win this district by a wide margin next year."')
    quotes = find_quotes(text, "t")
    assert _speaker(text, "Moved On", quotes) is None
    assert _speaker(text, "open public", quotes) is None
    assert _speaker(text, "the fastest", quotes) is None
    assert _speaker(text, "We will win", quotes) is None


def test_the_index_keeps_two_people_of_one_surname_apart():
    text = ('Lina Arkwright, 48, said her son was moved to a clinic on Friday.\n\n'
            '"His condition was serious," Arkwright said.\n\n'
            'Elsewhere in the state, officials tightened the rules on gatherings.\n\n'
            '"We cannot let this spread any further," Gov. Mara Arkwright said.\n\n'
            'Mayor Arkwright opened the shelter. "Our crews are out all night," Arkwright said.')
    quotes = index_quotes("t", text)
    assert _speaker(text, "His condition", quotes) == "Lina Arkwright"
    assert _speaker(text, "We cannot", quotes) == "Mara Arkwright"
    assert _speaker(text, "Our crews", quotes) == "Mara Arkwright"


def test_a_surname_that_is_a_month_stays_in_the_name():
    text = 'In his own statement, company chief executive Lionel May said, "Our staff are back at work today."'
    assert _speaker(text, "Our staff", index_quotes("t", text)) == "Lionel May"


def test_the_asked_speaker_drops_a_role_and_an_opening_word():
    assert asked_speaker("What did Prime Minister Varga say?") == "Varga"
    assert asked_speaker("What did While Dunmore say?") == "Dunmore"
    assert asked_speaker("What did Lionel May say?") == "Lionel May"


class _Catalog:
    """The catalog reads QuoteAnswerer makes, over articles written for the test (one passage a paragraph)."""

    def __init__(self, articles):
        self.texts = articles
        self.rows = [IndexedQuote(q, title=aid, source="Test Wire", published_at=None, url=None)
                     for aid, text in articles.items() for q in index_quotes(aid, text)]

    def quotes_by_speaker(self, name):
        return [q for q in self.rows if q.quote.speaker and same_person(q.quote.speaker, name)]

    def passage_at(self, article_id, start, end):
        text = self.texts[article_id]
        for i, para in enumerate(re.finditer(r"[^\n]+", text)):
            if para.start() <= start < para.end() + 1:
                return Passage(f"{article_id}:{i}", article_id, i, para.start(), para.end(), para.group(0),
                               article_id, "Test Wire", None)
        return None

    def get(self, article_id):
        return None


def test_what_did_x_say_shows_each_articles_whole_named_quote_before_a_second_from_one_article():
    many = "\n\n".join(f'"We will open the {n} bridge before the winter comes," Ines Okoro said.'
                       for n in ("north", "south", "east", "west"))
    articles = {
        "a": "Mayor Ines Okoro toured the river on Monday.\n\n" + many,
        "b": 'Okoro spoke at the school.\n\nShe called the plan "a promise kept."\n\n'
             '"Every child in this town deserves a safe walk to school," Okoro said.',
    }
    answer = QuoteAnswerer(_Catalog(articles), max_quotes=3).answer("What did Ines Okoro say?").body
    assert "safe walk to school" in answer  # article b's words, though article a has four more quotes
    assert "a promise kept" not in answer  # a fragment comes after whole sentences


def test_what_did_x_say_prefers_quotes_the_cited_passage_itself_credits():
    articles = {
        "c": 'Ines Okoro opened the hall.\n\n"The roof took nine years to fix," she said.\n\n'
             '"Nobody should wait that long for a public building again," Okoro said.',
    }
    answer = QuoteAnswerer(_Catalog(articles), max_quotes=1).answer("What did Ines Okoro say?").body
    assert "Nobody should wait" in answer  # "she said" names nobody inside its own passage: the check would drop it
