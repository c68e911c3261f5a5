"""Cleaning: news boilerplate out, quotes kept verbatim, credited outlet pulled out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.cleaning import Cleaned, clean, normalize_text
from rag.core.schema import RawArticle

pytestmark = pytest.mark.fast  # the fast tier (make test-fast): no model, no browser, no server

SEED = Path(__file__).resolve().parents[1] / "examples" / "news" / "kim-kardashian-balenciaga.txt"


def raw(body: str, title: str | None = "A Title") -> RawArticle:
    return RawArticle(body=body, origin="test", title=title)


def ascii_quotes(text: str) -> str:
    """The test's own quote mapping, kept apart from the module's so a bug there cannot hide."""
    for curly, plain in (("\u201c", '"'), ("\u201d", '"'), ("\u2018", "'"), ("\u2019", "'"), ("\u00a0", " ")):
        text = text.replace(curly, plain)
    return text


@pytest.fixture(scope="module")
def seed() -> tuple[str, Cleaned]:
    body = SEED.read_text(encoding="utf-8")
    return body, clean(RawArticle(body=body, origin=str(SEED), title=None))


def test_seed_teasers_tail_and_source_line_removed(seed: tuple[str, Cleaned]) -> None:
    _, cleaned = seed
    assert "Also Read" not in cleaned.text
    assert "Explore from around the WEB" not in cleaned.text
    assert "Source: TMZ" not in cleaned.text
    assert cleaned.credited_source == "TMZ"


def test_seed_captions_removed_and_headings_kept(seed: tuple[str, Cleaned]) -> None:
    _, cleaned = seed
    lines = [line for line in cleaned.text.split("\n") if line]
    assert "Kim K with her kids" not in lines
    assert "Kim Kardashian promoting Balenciaga" not in lines
    assert "Kim Kardashian" not in lines
    assert "Balenciaga's new advertisements receives hate" not in lines
    assert len(lines) == len(set(lines))  # no repeated line of any kind
    assert "Kim Kardashian Reportedly Turned Down The Balenciaga Deal" in lines
    assert "Kardashian tweeted on Monday," in lines
    assert "In its latest apology on Instagram, Balenciaga said," in lines


def test_seed_tweet_quotes_verbatim(seed: tuple[str, Cleaned]) -> None:
    body, cleaned = seed
    starts = ("\u201cI have been quiet", "\u201cI appreciate Balenciaga", "\u201cAs a mother of four")
    quotes = [ascii_quotes(line) for line in body.split("\n") if line.startswith(starts)]
    assert len(quotes) == 3
    for quote in quotes:
        assert quote in cleaned.text
    assert '"I have been quiet for the past few days, not because I haven\'t been disgusted' in cleaned.text


def test_seed_text_shape(seed: tuple[str, Cleaned]) -> None:
    _, cleaned = seed
    assert cleaned.text == cleaned.text.strip()
    assert "\n\n\n" not in cleaned.text and "  " not in cleaned.text
    assert not re.search("[\u201c\u201d\u2018\u2019\u00a0]", cleaned.text)
    assert cleaned.text.startswith("Despite stating she's \"re-evaluating\" her future")
    assert cleaned.title.startswith("Despite stating she's") and len(cleaned.title) <= 153


def test_quote_marks_and_spaces_normalised() -> None:
    text = "\u201cA\u201d \u201eB\u201c \u00abC\u00bb ``D'' \u2018e\u2019 it\u00b4s\u00a0x\u202fy\u200bz"
    assert normalize_text(text) == "\"A\" \"B\" \"C\" \"D\" 'e' it's x yz"


def test_teasers_share_bars_and_promos_removed() -> None:
    body = "\n\n".join([
        "The county opened a new clinic on Monday.",
        "Read more: Clinic hours to change next year",
        "RELATED: Another story about clinics",
        "MORE:Three things to know about the clinic",
        "READ MORE",
        "Share this story on Facebook",
        "Email this story",
        "Advertisement",
        "Sign up for our newsletter to get the latest news",
        "Click here to read the full report.",
        "We use cookies to improve your browsing experience. By continuing you accept our privacy policy.",
        "Share prices of the clinic operator rose 4% after the news.",
        "More-than-expected demand meant longer queues on the first day.",
        "Related coverage appeared in several papers, the county said.",
    ])
    text = clean(raw(body)).text
    assert text.split("\n\n") == [
        "The county opened a new clinic on Monday.",
        "Share prices of the clinic operator rose 4% after the news.",
        "More-than-expected demand meant longer queues on the first day.",
        "Related coverage appeared in several papers, the county said.",
    ]


def test_tail_marker_cuts_the_rest() -> None:
    body = ("The dam inspection found no cracks, engineers said.\n\nThe report will be published in May.\n\n"
            "You may also like\n\nTen best lakes for swimming\n\nCelebrity chef opens restaurant")
    assert clean(raw(body)).text == ("The dam inspection found no cracks, engineers said.\n\n"
                                     "The report will be published in May.")


def test_tail_marker_early_in_the_text_only_drops_its_line() -> None:
    body = ("Comments\n\n" + "The dam inspection found no cracks in the wall, engineers said on Friday. " * 3
            + "\n\nThe report will be published in May.")
    text = clean(raw(body)).text
    assert not text.startswith("Comments") and text.endswith("The report will be published in May.")


@pytest.mark.parametrize(
    ("line", "credited"),
    [
        ("Source: TMZ", "TMZ"),
        ("Source - Reuters", "Reuters"),
        ("Via: AP", "AP"),
        ("Sources: AP, Reuters.", "AP, Reuters"),
    ],
)
def test_source_lines_become_credited_source(line: str, credited: str) -> None:
    cleaned = clean(raw(f"The port reopened after the strike ended.\n\n{line}"))
    assert cleaned.credited_source == credited
    assert cleaned.text == "The port reopened after the strike ended."


def test_source_like_sentence_is_not_a_credit() -> None:
    body = ("The port reopened.\n\n"
            "Source: a senior official who asked not to be named told reporters the strike was over.")
    cleaned = clean(raw(body))
    assert cleaned.credited_source is None
    assert "senior official" in cleaned.text


def test_caption_rules() -> None:
    body = "\n".join([
        "The festival drew record crowds on Saturday.",
        "",
        "Crowds at the main stage",  # caption block: caption + credit
        "Photo agency",
        "",
        "Main Stage Draws Record Crowd",  # a lone subheading: kept
        "",
        "Organisers said about 40,000 people attended.",
        "",
        "Fans near the gate",  # repeated caption inside a paragraph: every copy goes
        "Fans near the gate",
        "",
        "The mayor said,",  # introduces a quote: kept
        "",
        "\u201cIt was the best year yet.\u201d",
        "",
        "- Tickets sold out",  # a list is not a caption
        "- Parking was full",
    ])
    text = clean(raw(body)).text
    assert text.split("\n\n") == [
        "The festival drew record crowds on Saturday.",
        "Main Stage Draws Record Crowd",
        "Organisers said about 40,000 people attended.",
        "The mayor said,",
        '"It was the best year yet."',
        "- Tickets sold out\n- Parking was full",
    ]


def test_repeated_lone_heading_keeps_one_copy() -> None:
    body = "Brandywine\n\nBrandywine\n\nSeniors met counsellors about college applications this week."
    assert clean(raw(body)).text == "Brandywine\n\nSeniors met counsellors about college applications this week."


def test_whitespace_normalised() -> None:
    body = "  First   paragraph\u00a0here.  \r\n\r\n\r\n\n  Second\tparagraph.  \n\n\n"
    assert clean(raw(body)).text == "First paragraph here.\n\nSecond paragraph."


def test_title_cleaned_and_repeated_headline_dropped() -> None:
    body = "Mayor\u2019s \u201cGreen\u201d Plan\n\nThe mayor unveiled a green plan."
    cleaned = clean(raw(body, title="  Mayor\u2019s  \u201cGreen\u201d Plan "))
    assert cleaned.title == "Mayor's \"Green\" Plan"
    assert cleaned.text == "The mayor unveiled a green plan."


def test_missing_title_uses_first_line() -> None:
    cleaned = clean(raw("Short first line\n\nThe body goes on here with more words.", title=None))
    assert cleaned.title == "Short first line"
    assert cleaned.text.startswith("Short first line")
