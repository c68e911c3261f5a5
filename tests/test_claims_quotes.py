import pytest

"""rag/nlp/text.py and rag/attribution/quotes.py: one normalisation, one speech pattern, and who is credited with which words."""

from rag.attribution.quotes import credited, find_quotes
from rag.attribution.speakers import speaker_terms
from rag.nlp.text import SPEECH, clip, name_key, normalize, same_person, same_text

pytestmark = pytest.mark.fast  # the fast tier (make test-fast): no model, no browser, no server

def _by_text(text):
    return {q.text.strip(' ,."'): q for q in find_quotes(text, "a1")}


def test_normalize_folds_quotes_dashes_and_space():
    assert normalize("“It’s  done” — she\u00a0said") == "\"it's done\" - she said"
    assert same_text("Balenciaga's ad", "Balenciaga’s  ad!")
    assert clip("one two three four five", 12).endswith("…") and len(clip("one two three four five", 12)) <= 12


def test_names_are_not_stemmed():
    assert name_key("Kamala Harris's") == "kamala harris"
    assert speaker_terms("Kamala Harris") == ["kamala harris", "harris", "kamala"]
    assert same_person("Harris", "Kamala Harris") and not same_person("Harris", "Kamala Harrison")


def test_speech_pattern():
    assert SPEECH.search("the mayor tweeted on Friday") and SPEECH.search("according to the police")
    assert not SPEECH.search("the mayor walked home")


def test_quote_with_cue_after_and_inherited_second_quote():
    text = '“I plan to get my flu shot soon,” Lena Rehm said. “They should be here in late August.”'
    quotes = _by_text(text)
    assert quotes["I plan to get my flu shot soon"].speaker == "Lena Rehm"
    assert quotes["They should be here in late August"].speaker == "Lena Rehm"


def test_said_name_with_apposition_and_role_title():
    text = ('"We will appeal the ruling," said Tom Baker, a spokesperson for the city. '
            '"The fund is empty," Finance Minister Ana Ruiz told reporters.')
    quotes = _by_text(text)
    q = quotes["We will appeal the ruling"]
    assert q.speaker == "Tom Baker" and "spokesperson" in q.description
    q = quotes["The fund is empty"]
    assert q.speaker == "Ana Ruiz" and q.description == "Finance Minister"


def test_cue_before_quote_and_pronoun_resolution():
    text = ('Mara Quint spoke on Sunday.\n\n"I have been quiet for days," she wrote. '
            'Her lawyer, Ed Fox, said: "No comment."')
    quotes = _by_text(text)
    assert quotes["I have been quiet for days"].speaker == "Mara Quint"
    assert quotes["I have been quiet for days"].via_pronoun
    assert quotes["No comment"].speaker == "Ed Fox"


def test_multi_paragraph_quote_is_one_quote():
    text = '"This is the first paragraph of a long quote.\n\n"And this is the second one," Mayor Ann Lee said.'
    quotes = find_quotes(text)
    assert len(quotes) == 1 and quotes[0].speaker == "Ann Lee" and "second one" in quotes[0].text


def test_reported_statements_and_posts():
    text = ("In a statement, Velmora said it was reviewing the campaign. Jo Harris tweeted that the vote was a "
            "disgrace. The bridge will close, Dana Cole said.")
    kinds = {q.speaker: q.kind for q in find_quotes(text)}
    assert kinds == {"Velmora": "statement", "Jo Harris": "post", "Dana Cole": "reported"}


def test_credited_span():
    text = '"The plan is dead," Smith said. "We start again," Jones said.'
    quotes = find_quotes(text)
    assert credited(quotes, text.index("plan"), text.index("plan") + 4) == {"Smith"}
    assert credited(quotes, 0, len(text)) == {"Smith", "Jones"}
    assert credited(quotes, text.index("Smith"), text.index("Smith") + 3) == set()


def test_a_surname_that_is_also_a_role_word_stays_the_name():
    quotes = find_quotes('"The enemy is at our borders," Gov. Jim Justice said at a briefing.')
    assert quotes[0].speaker == "Jim Justice" and quotes[0].description == "Gov."


def test_a_quote_closed_by_a_full_stop_takes_no_cue_from_the_next_sentence():
    text = 'The memo said it would stop "prosecuting minor tickets." Mayor Jo Frey said police would continue.'
    quotes = find_quotes(text)
    assert next(q for q in quotes if q.kind == "direct").speaker is None
    assert any(q.speaker == "Jo Frey" and q.kind == "reported" for q in quotes)


def test_a_quote_only_paragraph_after_a_credited_quote_continues_it():
    from rag.attribution.quotes import find_quotes

    text = ('"We will reopen the bridge in May," Mayor Lena Ruiz said on Friday.\n\n'
            '"Safety comes first, and the joint will be fixed before anyone crosses."\n\n'
            'The council met later.\n\n"Nobody told us," one resident complained.')
    quotes = find_quotes(text)
    assert [q.speaker for q in quotes[:2]] == ["Lena Ruiz", "Lena Ruiz"] or \
        [q.speaker for q in quotes[:2]] == ["Mayor Lena Ruiz", "Mayor Lena Ruiz"]
    assert all(q.speaker is None or "Ruiz" not in q.speaker for q in quotes[2:])
