"""Loaders: every input format, failures that say what to do, and URLs served from a real loopback server."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.fetching import FetchError, FetchPolicy, parse_allow
from ingest.loaders import LoadWarning, iso_date, iter_inputs
from rag.core.schema import LoadFailure, RawArticle

pytestmark = pytest.mark.fast  # the fast tier (make test-fast): no model, no browser, no server

FIXTURES = Path(__file__).resolve().parent / "fixtures"
WEB = FIXTURES / "web"
REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"


def load(*targets: str | Path, timeout: float | None = None, warnings: bool = False,
         **kwargs) -> list[RawArticle | LoadFailure]:
    """Load targets; URLs on this loopback test server are allowed (NEWSRAG_FETCH_ALLOW=127.0.0.1)."""
    if timeout is not None:
        hosts, networks = parse_allow("127.0.0.1")
        kwargs["policy"] = FetchPolicy(allow_networks=networks, timeout=timeout)
    items = list(iter_inputs([str(t) for t in targets], **kwargs))
    return items if warnings else [i for i in items if not isinstance(i, LoadWarning)]


def articles(items: list) -> list[RawArticle]:
    return [i for i in items if isinstance(i, RawArticle)]


def failures(items: list) -> list[LoadFailure]:
    return [i for i in items if isinstance(i, LoadFailure)]


class OfflineFetch:
    """A fetcher for local feed files: records what was asked for and acts as if the network were down."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, url: str) -> tuple[bytes, str]:
        self.calls.append(url)
        raise FetchError("HTTP error 404 (Not Found) from URL: check the address", status=404)


# ---------------------------------------------------------------- text and Markdown


def test_txt_first_line_is_title() -> None:
    [a] = load(FIXTURES / "plain.txt")
    assert isinstance(a, RawArticle)
    assert a.title == "Harbor Ferry Adds Night Service"
    assert a.body.startswith("The harbor ferry will run")
    assert "Harbor Ferry Adds" not in a.body
    assert a.origin == str(FIXTURES / "plain.txt")


def test_markdown_front_matter_gives_metadata() -> None:
    [a] = load(FIXTURES / "front-matter.md")
    assert isinstance(a, RawArticle)
    assert a.title == "Orchard Cooperative Reports Record Apple Harvest"
    assert (a.source, a.url, a.author, a.record_id) == (
        "Valley Ledger", "https://valley-ledger.example/orchard-harvest", "Sam Patel", "vl-1001")
    assert a.published_at == "2023-10-04"
    assert "---" not in a.body and "title:" not in a.body
    assert "##" not in a.body and "Weather helped" in a.body


@pytest.mark.parametrize("head", [
    "Title: Robotics Team Wins Regional Final\nSource: Northgate Times\nDate: March 3, 2026",
    "Source: Northgate Times\ntitle:  \"Robotics Team Wins Regional Final\"\nDate: March 3, 2026",
])
def test_title_line_is_read_like_source_and_date(tmp_path: Path, head: str) -> None:
    from ingest.cleaning import clean
    from ingest.metadata import describe

    path = tmp_path / "robotics.txt"
    path.write_text(head + "\n\nThe robotics team from Northgate High won the regional final on Saturday, "
                    "beating eleven other schools.\n", encoding="utf-8")
    [a] = load(path)
    assert isinstance(a, RawArticle)
    assert a.title == "Robotics Team Wins Regional Final"
    assert "Title" not in a.body and "title" not in a.body
    cleaned = clean(a)
    assert cleaned.title == "Robotics Team Wins Regional Final"
    assert cleaned.text.startswith("The robotics team")
    meta = describe(a, cleaned)
    assert (meta.published_at, meta.credited_source) == ("2026-03-03", "Northgate Times")


def test_title_label_is_dropped_even_from_a_long_first_line(tmp_path: Path) -> None:
    path = tmp_path / "story.txt"
    path.write_text("Title: fight goes to a third round as the champion tires in the heat of the afternoon.\n"
                    "More text follows here.\n\nA second paragraph.\n", encoding="utf-8")
    [a] = load(path)
    assert isinstance(a, RawArticle) and a.title.startswith("fight goes")  # no "Title:" left


def test_markdown_heading_marks_stripped_from_title() -> None:
    [a] = load(FIXTURES / "heading.md")
    assert isinstance(a, RawArticle)
    assert a.title == "City Council Approves Bike Lane Plan"
    assert a.body.startswith("The city council voted")


def test_text_whose_first_line_is_a_paragraph_keeps_it() -> None:
    [a] = load(REPO / "examples" / "news" / "kim-kardashian-balenciaga.txt")
    assert isinstance(a, RawArticle)
    assert a.body.startswith("Despite stating she")  # the lead paragraph is body text, not a title
    assert a.title == "Kim Kardashian Balenciaga"  # made from the file name


def test_cp1252_text_decodes() -> None:
    [a] = load(FIXTURES / "cp1252.txt")
    assert isinstance(a, RawArticle)
    assert a.title == "Caf\u00e9 Owners Welcome New Square"
    assert "caf\u00e9 owners" in a.body
    assert "up \u2014 \u201cquoted\u201d praise" in a.body
    assert "na\u00efve" in a.body


def test_utf8_bom_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfPier Lights Switched On\n\nThe new pier lights were switched on tonight.\n")
    [a] = load(path)
    assert isinstance(a, RawArticle) and a.title == "Pier Lights Switched On"


# ---------------------------------------------------------------- HTML


def test_html_page_main_text_and_metadata() -> None:
    [a] = load(FIXTURES / "page.html")
    assert isinstance(a, RawArticle)
    assert a.title == "Wetland Restoration Brings Back Herons"
    assert a.source == "Lakeside Gazette"
    assert a.author == "Priya Nair"
    assert a.url == "https://lakeside-gazette.example/news/wetland-herons"
    assert a.published_at == "2023-10-07"
    assert '"We counted eleven nests this spring, up from none," said ranger Tomas Berg' in a.body
    for noise in ("Sports", "garden chairs", "All rights reserved", "Dog show", "newsletter"):
        assert noise not in a.body
    paragraphs = a.body.split("\n\n")
    assert len(paragraphs) >= 4 and all("\n" not in p for p in paragraphs)
    assert not a.body.startswith("Wetland Restoration")  # the headline is the title, not the first paragraph


def test_binary_file_is_a_failure() -> None:
    [f] = load(FIXTURES / "binary.html")
    assert isinstance(f, LoadFailure)
    assert f.reason.startswith("binary file, not text; ")


def test_random_bytes_named_html_is_a_failure(tmp_path: Path) -> None:
    path = tmp_path / "x.html"
    path.write_bytes(os.urandom(4096))
    [f] = load(path)
    assert isinstance(f, LoadFailure) and f.reason.startswith("binary file, not text; ")


def test_text_in_an_unknown_encoding_is_a_failure(tmp_path: Path) -> None:
    path = tmp_path / "odd.txt"
    path.write_bytes(bytes(range(128, 256)) * 10)
    [f] = load(path)
    assert isinstance(f, LoadFailure)
    assert "encoding" in f.reason and "UTF-8" in f.reason


@pytest.mark.parametrize("name", ["empty.txt", "empty.html"])
def test_empty_article_is_a_failure(name: str) -> None:
    [f] = load(FIXTURES / name)
    assert isinstance(f, LoadFailure)
    assert f.reason.startswith("empty article")


# ---------------------------------------------------------------- JSON and JSONL


def test_json_list_of_records() -> None:
    first, second = load(FIXTURES / "records.json")
    assert isinstance(first, RawArticle) and isinstance(second, RawArticle)
    assert (first.record_id, first.title, first.source, first.author) == (
        "j-1", "Museum Opens Textile Wing", "Metro Bulletin", "Ruth Kim")
    assert first.published_at == "2023-09-30T14:05:00+00:00"
    assert first.body.startswith("The city museum opened")
    assert second.record_id == "2"  # ids are strings whatever the input used
    assert second.published_at == "2023-10-02"  # from "date": "2023/10/02"
    assert second.body.startswith("The central library")  # from "text"


def test_jsonl_malformed_line_and_missing_body_do_not_stop_the_file() -> None:
    items = load(FIXTURES / "records.jsonl")
    kinds = [type(i).__name__ for i in items]
    assert kinds == ["RawArticle", "LoadFailure", "RawArticle", "LoadFailure", "RawArticle"]
    assert [a.record_id for a in articles(items)] == ["l-1", "l-3", "l-5"]
    bad_json, no_body = failures(items)
    assert bad_json.origin == str(FIXTURES / "records.jsonl")
    assert bad_json.reason.startswith("malformed JSON on line 3: ")
    assert "line 5" in no_body.reason and no_body.reason.startswith("empty article")
    assert articles(items)[0].published_at == "2023-10-02T08:30:00+02:00"


def test_jsonl_keeps_line_separator_characters_inside_strings(tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl"
    record = {"id": "u", "title": "T", "body": "First part\u2028second part of one line."}
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    [a] = load(path)
    assert isinstance(a, RawArticle) and "\u2028" in a.body


@pytest.mark.parametrize("ext", [".jsonl", ".json"])
def test_jsonl_line_nested_too_deep_fails_that_line_only(tmp_path: Path, ext: str) -> None:
    """Issue 27: one line 100,000 brackets deep failed the whole file without a line number and dropped the
    valid lines after it. It fails that line (named), and the lines before and after it are added."""
    path = tmp_path / f"deep{ext}"
    good = [json.dumps({"id": f"d-{n}", "title": f"T{n}", "body": f"Body of record {n}."}) for n in (1, 3)]
    path.write_text("\n".join([good[0], "[" * 100_000 + "]" * 100_000, good[1], "{" + '"a":' * 50_000]) + "\n")
    items = load(path)
    assert [a.record_id for a in articles(items)] == ["d-1", "d-3"]
    deep, broken = failures(items)
    assert "line 2" in deep.reason and "nested too deeply" in deep.reason and "fix or remove" in deep.reason
    assert "line 4" in broken.reason


@pytest.mark.parametrize("name", ["realtimeqa", "multihop_rag"])
def test_eval_articles_load_without_failures(name: str) -> None:
    path = SHARED / "eval" / name / "articles.jsonl"
    if not path.exists():
        pytest.skip(f"the eval set's articles ({path}, in ../shared beside the checkout) are not on this machine")
    lines = [line for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
    items = load(path)
    assert failures(items) == []
    assert len(items) == len(lines)
    first = json.loads(lines[0])
    assert items[0].record_id == first["id"] and items[0].body == first["body"].strip()


# ---------------------------------------------------------------- feed files


def test_rss_file_falls_back_to_entry_text_when_pages_are_unreachable() -> None:
    fetch = OfflineFetch()
    first, second = load(FIXTURES / "feed.rss", fetch=fetch)
    assert fetch.calls == ["https://riverside-daily.example/bridge-repairs",
                           "https://riverside-daily.example/school-garden"]
    assert isinstance(first, RawArticle) and isinstance(second, RawArticle)
    assert first.title == "Bridge Repairs Finish Early"
    assert first.body == ("Repairs on the old river bridge finished two weeks ahead of schedule.\n\n"
                          "The bridge reopens to cars on Friday.")
    assert first.source == "Riverside Daily"
    assert first.published_at == "2023-10-03T09:15:00+00:00"
    assert first.author == "Nora Quinn"
    assert first.url == "https://riverside-daily.example/bridge-repairs"
    assert first.record_id == "rd-bridge-1"
    assert second.body.startswith("Four more primary schools")  # content:encoded
    assert second.published_at == "2023-10-04T16:00:00+01:00"


def test_atom_file() -> None:
    first, second = load(FIXTURES / "feed.atom", fetch=OfflineFetch())
    assert isinstance(first, RawArticle) and isinstance(second, RawArticle)
    assert first.source == "Hillside Herald" and first.author == "Omar Haddad"
    assert first.body == "Volunteers put up forty new signs along the ridge trail."
    assert second.published_at == "2023-10-05T08:00:00-04:00"  # published wins over updated
    assert second.body.startswith("The town hall clock")


def test_feed_content_in_a_txt_file_is_read_as_a_feed(tmp_path: Path) -> None:
    path = tmp_path / "saved-feed.txt"
    path.write_bytes((FIXTURES / "feed.atom").read_bytes())
    items = load(path, fetch=OfflineFetch())
    assert [a.title for a in articles(items)] == ["Hiking Trail Gets New Signs", "Town Hall Clock Repaired"]


# ---------------------------------------------------------------- folders and batches


def test_folder_is_recursive_sorted_and_skips_hidden_and_unknown(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("B Title\n\nBody of b.\n", encoding="utf-8")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "c.md").write_text("# C Title\n\nBody of c.\n", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("Hidden\n\nNo.\n", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "d.txt").write_text("D\n\nNo.\n", encoding="utf-8")
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04")
    items = load(tmp_path)
    assert [Path(i.origin).relative_to(tmp_path).as_posix() for i in items] == ["a/c.md", "b.txt"]
    assert [a.title for a in articles(items)] == ["C Title", "B Title"]


def test_empty_folder_is_a_failure(tmp_path: Path) -> None:
    [f] = load(tmp_path)
    assert isinstance(f, LoadFailure) and f.reason.startswith("no articles in folder")


def test_missing_file_and_batch_keeps_going() -> None:
    items = load("no/such/file.txt", FIXTURES / "plain.txt", FIXTURES / "binary.html")
    assert isinstance(items[0], LoadFailure)
    assert items[0].reason == "file not found: check the path"
    assert isinstance(items[1], RawArticle)
    assert isinstance(items[2], LoadFailure)


def test_whole_fixture_folder_loads_without_raising() -> None:
    items = load(FIXTURES, fetch=OfflineFetch())
    assert len(articles(items)) >= 15
    assert all(f.reason and "\n" not in f.reason for f in failures(items))


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-09-28", "2023-09-28"),
        ("2023-09-28T12:00:00+00:00", "2023-09-28T12:00:00+00:00"),
        ("2023-09-28T12:00:00Z", "2023-09-28T12:00:00+00:00"),
        ("2023-09-28T12:00:00.123-0500", "2023-09-28T12:00:00-05:00"),
        ("2023-09-28 07:05", "2023-09-28T07:05:00+00:00"),
        ("Tue, 03 Oct 2023 09:15:00 GMT", "2023-10-03T09:15:00+00:00"),
        ("Mon, 02 Oct 2023 08:30:00 +0200", "2023-10-02T08:30:00+02:00"),
        ("2023/09/30", "2023-09-30"),
        ("2023/09/30/07:17", "2023-09-30T07:17:00+00:00"),
        ("Sep 28, 2023", "2023-09-28"),
        ("28 September 2023", "2023-09-28"),
        ("2023-02-30", None),
        ("last Tuesday", None),
        ("", None),
        (None, None),
        (12345, None),
    ],
)
def test_iso_date(value: object, expected: str | None) -> None:
    assert iso_date(value) == expected


def test_iso_date_from_struct_time() -> None:
    assert iso_date(time.struct_time((2023, 10, 3, 9, 15, 0, 1, 276, 0))) == "2023-10-03T09:15:00+00:00"


# ---------------------------------------------------------------- URLs, from a real server on loopback


class _Handler(http.server.BaseHTTPRequestHandler):
    user_agents: list[str] = []
    routes = {
        "/story-one.html": ("story-one.html", "text/html; charset=utf-8"),
        "/story-two.html": ("story-two.html", "text/html"),  # the page's <meta charset> says windows-1252
        "/notes.txt": ("notes.txt", "text/plain; charset=utf-8"),
        "/feed.xml": ("feed.xml", "application/rss+xml"),
        "/feed-as-text": ("feed.xml", "text/plain"),
    }

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.user_agents.append(self.headers.get("User-Agent", ""))
        if self.path == "/slow":
            time.sleep(2)
        if self.path == "/image.png":
            return self._send(200, "image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
        if self.path not in self.routes:
            return self._send(404, "text/plain", b"not found")
        name, content_type = self.routes[self.path]
        body = (WEB / name).read_bytes()
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._send(200, content_type, body.replace(b"{{BASE}}", base.encode()))

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the client may have given up (the timeout test)
            self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def web() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_article_url(web: str) -> None:
    _Handler.user_agents.clear()
    [a] = load(f"{web}/story-one.html", timeout=5)
    assert isinstance(a, RawArticle)
    assert a.title == "Night Market Returns to the Docks"
    assert a.url == f"{web}/story-one.html" and a.origin == a.url
    assert a.author == "Elena Marsh" and a.published_at == "2023-10-08"
    assert "sixty stalls" in a.body and "Front page" not in a.body
    assert _Handler.user_agents == ["newsrag/0.1"]


def test_feed_url_follows_entry_links_and_falls_back_on_404(web: str) -> None:
    one, two, three = load(f"{web}/feed.xml", timeout=5)
    assert isinstance(one, RawArticle) and isinstance(two, RawArticle) and isinstance(three, RawArticle)
    # entry 1: the page's article text and title; the page names no site, so the feed's title is the source
    assert "sixty stalls" in one.body and "Short teaser" not in one.body
    assert one.title == "Night Market Returns to the Docks"
    assert one.source == "Docklands Weekly"
    assert one.origin == f"{web}/story-one.html"
    # entry 2: the page declares its own site name, and its windows-1252 bytes decode
    assert two.source == "Valley Wire"
    assert "The operator\u2019s manager said" in two.body
    # entry 3: the link 404s, so the feed's summary is used, HTML stripped
    assert three.body == ("The rusted harbour crane was taken down on Tuesday after forty years.\n\n"
                          "Its hook will go to the maritime museum.")
    assert three.title == "Harbour Crane Removed"
    assert three.url == f"{web}/missing-story.html"
    assert three.source == "Docklands Weekly"
    assert three.author == "Ivo Petrov"
    assert three.published_at == "2023-10-10T07:30:00+00:00"


def test_feed_served_as_text_is_recognised_by_content(web: str) -> None:
    items = load(f"{web}/feed-as-text", timeout=5)
    assert len(articles(items)) == 3


def test_plain_text_url(web: str) -> None:
    [a] = load(f"{web}/notes.txt", timeout=5)
    assert isinstance(a, RawArticle)
    assert a.title == "Council Publishes Budget Summary"
    assert a.url == f"{web}/notes.txt"


def test_http_error_url(web: str) -> None:
    [f] = load(f"{web}/nothing-here.html", timeout=5)
    assert isinstance(f, LoadFailure)
    assert f.reason.startswith("HTTP error 404") and "check the address" in f.reason


def test_non_article_url(web: str) -> None:
    [f] = load(f"{web}/image.png", timeout=5)
    assert isinstance(f, LoadFailure) and f.reason.startswith("not a feed or article: ")


def test_slow_url_times_out(web: str) -> None:
    started = time.monotonic()
    [f] = load(f"{web}/slow", timeout=0.3)
    assert time.monotonic() - started < 1.5
    assert isinstance(f, LoadFailure)
    assert f.reason == ("unreachable URL (no complete answer within 0.3s): check the address or your network, "
                        "or raise NEWSRAG_FETCH_TIMEOUT")


def test_unreachable_url_and_the_batch_goes_on(web: str) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens on it now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    items = load(f"http://127.0.0.1:{port}/story.html", f"{web}/notes.txt", timeout=2)
    assert isinstance(items[0], LoadFailure)
    assert items[0].reason.startswith("unreachable URL (")
    assert items[0].reason.endswith("check the address or your network")
    assert isinstance(items[1], RawArticle)
