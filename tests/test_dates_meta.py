"""Every article dated, credited and bylined: dates from the record, metadata, URL, dateline or a relative
"2 days ago"; outlet and author from the byline; byline and dateline lines out of the passage text."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone

import pytest

from ingest import Ingestor
from ingest.bylines import read_head
from ingest.cleaning import clean
from ingest.datelines import parse_dateline
from ingest.dates import date_from_url
from ingest.metadata import describe
from rag.core.schema import RawArticle
from rag.core.settings import Settings
from rag.frontends.cli import main as cli_main
from rag.index.sqlite_catalog import SqliteCatalog as Catalog

LEDGER = """Harbor tunnel reopens after repairs

By Dana Ruiz, Harbor City Ledger
Published March 14, 2024

The harbor tunnel reopened on Thursday after eleven months of repairs, and the first buses crossed before
dawn. Transport chief Mira Olsen said the new ventilation fans had been the hardest part of the work.

"We promised March and we delivered March," Olsen said at the tunnel mouth.
"""

HADDAD = """<!doctype html><html><head><title>Ferry pier closes for good</title></head><body><article>
<h1>Ferry pier closes for good</h1>
<p>By Omar Haddad | November 19, 2026</p>
<p>The town council voted on Tuesday to close the old ferry pier for good, ending more than a century of
crossings to the island. Council member Ruth Amsel said the pilings had rotted beyond repair.</p>
<p>Islanders will be served by a new pier two kilometres to the north from the spring, the council said.</p>
</article></body></html>"""

RELATIVE = ("Posted 2 days ago\n\nThe valley orchard cooperative picked a record pear harvest this season, its "
            "chair said, crediting a mild spring and new netting that kept the birds off the trees.")


def _ingest(tmp_path, files: dict[str, str]):
    folder = tmp_path / "in"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    settings = Settings(home=tmp_path / "home", chunk_min_words=10, chunk_max_words=40)
    report = Ingestor(settings).ingest([str(folder)])
    assert not report.failed, report.to_dict()
    catalog = Catalog(settings.home)
    return catalog, {r.article.origin.rsplit("/", 1)[-1].split(":")[0]: r.article for r in catalog.articles()}


def _passages_of(catalog: Catalog, article_id: str):
    return [p for p in catalog.passages() if p.article_id == article_id]


def test_dateline_and_byline_give_date_outlet_and_author_and_leave_the_text(tmp_path):
    records = [
        {"id": "rel", "title": "Record pear harvest", "body": RELATIVE, "retrieved_at": "2026-11-21T09:00:00Z"},
        {"id": "rel-nofetch", "title": "Record pear harvest again", "body": RELATIVE.replace("pear", "plum")},
        {"id": "url", "title": "Night trams approved", "url": "https://news.example/2023/09/25/night-trams/",
         "body": "The city council voted on Tuesday to approve a night tram line linking the university district "
                 "to the central station, with trams every twenty minutes."},
    ]
    catalog, arts = _ingest(tmp_path, {
        "ledger.txt": LEDGER, "pier.html": HADDAD,
        "records.jsonl": "\n".join(json.dumps(r) for r in records),
    })
    ledger = arts["ledger.txt"]
    # Once "unknown outlet · undated": now the dateline's day and the byline's outlet and author.
    assert (ledger.published_at, ledger.date_source) == ("2024-03-14", "text")
    assert (ledger.source, ledger.author) == ("Harbor City Ledger", "Dana Ruiz")
    assert "By Dana Ruiz" not in ledger.text and "Published March" not in ledger.text

    pier = arts["pier.html"]
    assert pier.published_at == "2026-11-19" and pier.author == "Omar Haddad"
    for row in (ledger, pier):
        passages = _passages_of(catalog, row.id)
        assert passages and all(p.text == row.text[p.start:p.end] for p in passages)
        assert all(p.published_at == row.published_at for p in passages)
    assert not any("Omar Haddad" in p.text or "November 19, 2026" in p.text for p in _passages_of(catalog, pier.id))

    by_id = {a.id: a for a in arts.values()} | {r.article.id: r.article for r in catalog.articles()}
    assert (by_id["rel"].published_at, by_id["rel"].date_source) == ("2026-11-19", "relative")
    assert by_id["rel-nofetch"].published_at is None and by_id["rel-nofetch"].date_source is None  # never a guess
    assert (by_id["url"].published_at, by_id["url"].date_source) == ("2023-09-25", "url")
    assert by_id["url"].source == "news.example"  # the URL's host when nothing names the outlet


def test_the_seed_shows_tmz_as_its_credited_source(sample_settings, capsys):
    catalog = Catalog(sample_settings.home)
    (row,) = catalog.articles()
    assert row.article.source is None and row.article.credited_source == "TMZ"
    assert {p.source for p in catalog.passages()} == {"TMZ"}  # shown beside each passage, not "unknown outlet"
    assert cli_main(["--home", str(sample_settings.home), "list"]) == 0
    assert "TMZ (credited)" in capsys.readouterr().out


def test_record_date_beats_url_and_text_and_an_updated_day_is_kept():
    raw = RawArticle(body="Aug. 28, 2025 Updated Aug. 29, 2025, 4:47 p.m. ET\n\n" + RELATIVE, origin="r",
                     url="https://news.example/2025/08/27/story", published_at="2025-08-26", date_source="record")
    meta = describe(raw, clean(raw))
    assert (meta.published_at, meta.date_source, meta.updated_at) == ("2025-08-26", "record", "2025-08-29")
    no_record = RawArticle(body=raw.body, origin="r", url=raw.url)
    assert describe(no_record, clean(no_record)).date_source == "url"
    text_only = RawArticle(body=raw.body, origin="r")
    meta = describe(text_only, clean(text_only))
    assert (meta.published_at, meta.updated_at, meta.date_source) == ("2025-08-28", "2025-08-29", "text")
    assert "Updated" not in clean(text_only).text


@pytest.mark.parametrize(("line", "published", "updated"), [
    ("Published March 14, 2024", "2024-03-14", None),
    ("Aug. 28, 2025 Updated Aug. 29, 2025, 4:47 p.m. ET", "2025-08-28", "2025-08-29"),
    ("Published 10:02 AM EDT, Fri March 15, 2024", "2024-03-15", None),
    ("Published: 14 March 2024 | Updated: 15 March 2024", "2024-03-14", "2024-03-15"),
    ("2024-03-14", "2024-03-14", None),
])
def test_datelines(line, published, updated):
    found = parse_dateline(line, datetime(2026, 12, 1, tzinfo=timezone.utc))
    assert found is not None and (found.published_at, found.updated_at) == (published, updated)


@pytest.mark.parametrize("line", [
    "The crew launched Sept. 21, 2022 for what was to be a six-month mission.",  # a date in a sentence
    "Aug. 28",  # no year: which one?
    "Published Dec. 25, 2027",  # after the fetch time
    "Dec. 25, 1931:",  # a timeline's heading
    "a month ago",  # which day?
])
def test_what_is_not_a_dateline(line):
    assert parse_dateline(line, datetime(2026, 12, 1, tzinfo=timezone.utc)) is None


def test_relative_dateline_needs_the_fetch_time():
    assert parse_dateline("2 days ago") is None
    found = parse_dateline("2 days ago", datetime(2026, 11, 21, 9, tzinfo=timezone.utc))
    assert found.published_at == "2026-11-19" and found.relative


def test_head_lines_only_and_story_text_kept():
    story = "The council met on Tuesday and voted to close the pier, ending a century of crossings to the island."
    head = read_head([["By the time the vote came, the pier was already closed to cars and bikes."], [story]])
    assert head.author is None and not head.drop  # "By the time ..." is a sentence, not a byline
    head = read_head([["Dana Ruiz"], ["Harbor City Ledger"], [story]])
    assert (head.author, head.outlet, head.drop) == ("Dana Ruiz", "Harbor City Ledger", {(0, 0), (1, 0)})
    head = read_head([["Kyiv, Ukraine NewsDesk \u2014"], [story]])
    assert head.drop == {(0, 0)} and head.author is None
    assert read_head([["Kicker"], ["Published March 14, 2024"]]).published_at == "2024-03-14"
    # the head ends where the story starts, and after HEAD_LINES lines: a date line later is story text
    assert read_head([[story], ["Published March 14, 2024"]]).published_at is None
    assert read_head([["Kicker"]] * 6 + [["Published March 14, 2024"]]).published_at is None


def test_url_dates():
    assert date_from_url("https://www.example.com/story/news/2023/09/25/slug/70959432007/") == "2023-09-25"
    assert date_from_url("https://example.com/20230925/slug") == "2023-09-25"
    assert date_from_url("https://example.com/news/954729/slug") is None
    assert date_from_url("https://example.com/2023/13/01/slug") is None
    assert date_from_url("https://example.com/a?d=2023/09/01/") is None


def test_an_old_store_gets_the_new_columns_and_its_dates_on_the_next_ingest(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    db = sqlite3.connect(home / "catalog.sqlite")
    db.executescript("""CREATE TABLE articles (
      id TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT, url TEXT, published_at TEXT, author TEXT,
      credited_source TEXT, ingested_at TEXT NOT NULL, content_hash TEXT NOT NULL, origin TEXT, text TEXT NOT NULL,
      state TEXT NOT NULL, duplicate_of TEXT, passage_count INTEGER NOT NULL DEFAULT 0, signature BLOB);""")
    db.execute("INSERT INTO articles VALUES ('old','Old story',NULL,NULL,NULL,NULL,NULL,'2024-01-01','h','o',"
               "'Some text of an old story.','ready',NULL,0,NULL)")
    db.commit()
    db.close()
    row = Catalog(home).get("old")
    assert row.article.title == "Old story" and row.article.date_source is None and row.article.updated_at is None

    path = tmp_path / "a.jsonl"
    record = {"id": "n1", "title": "Night trams approved", "url": "https://news.example/night-trams/",
              "body": "The city council voted on Tuesday to approve a night tram line linking the university "
                      "district to the central station, with trams every twenty minutes."}
    path.write_text(json.dumps(record))
    settings = Settings(home=tmp_path / "home2")
    Ingestor(settings).ingest([str(path)])
    path.write_text(json.dumps({**record, "published_at": "2024-03-10"}))  # the same text, now dated
    report = Ingestor(settings).ingest([str(path)])
    assert report.counts()["updated"] == 1
    assert Catalog(settings.home).get("n1").article.published_at == "2024-03-10"
    assert Ingestor(settings).ingest([str(path)]).counts()["unchanged"] == 1


def _html(head: str, story: str) -> str:
    return (f"<!doctype html><html><head><title>Tide mill reopens</title>{head}</head><body><article>"
            f"<h1>Tide mill reopens</h1><p>{story}</p><p>The mill grinds flour twice a day when the tide turns, "
            "and volunteers run tours for schools on weekday mornings through the summer.</p></article></body></html>")


def test_html_metadata_dates_and_no_date_from_the_story_text(tmp_path):
    from ingest.loaders import iter_inputs

    story = ("The tide mill on the estuary reopened on Saturday after a restoration that began on Aug. 23, 2021, "
             "when the old wheel was lifted out by crane.")
    dated = tmp_path / "dated.html"
    dated.write_text(_html('<meta property="article:published_time" content="2024-03-14T08:00:00Z">'
                           '<meta property="article:modified_time" content="2024-03-16T10:00:00Z">', story))
    undated = tmp_path / "undated.html"
    undated.write_text(_html("", story))
    raws = {r.origin.rsplit("/", 1)[-1]: r for r in iter_inputs([str(dated), str(undated)])}
    d = raws["dated.html"]
    meta = describe(d, clean(d))
    assert (meta.published_at, meta.updated_at, meta.date_source) == ("2024-03-14", "2024-03-16", "metadata")
    u = raws["undated.html"]
    # a date the story mentions is not the day it was published
    assert describe(u, clean(u)).published_at is None


def test_a_feed_entry_is_dated_by_the_feed_and_credited_to_it(tmp_path):
    from ingest.loaders import iter_inputs

    feed = tmp_path / "feed.xml"
    feed.write_text("""<?xml version="1.0"?><rss version="2.0"><channel><title>Valley Courier</title>
<item><title>Orchard picks record pear harvest</title><pubDate>Tue, 05 Mar 2024 09:00:00 GMT</pubDate>
<description>The Millbrook orchard cooperative picked a record pear harvest this season, its chair said,
crediting a mild spring and new netting that kept the birds off the trees.</description></item>
</channel></rss>""")
    (raw,) = [r for r in iter_inputs([str(feed)]) if isinstance(r, RawArticle)]
    meta = describe(raw, clean(raw))
    assert (meta.published_at, meta.date_source, meta.source) == ("2024-03-05", "feed", "Valley Courier")
