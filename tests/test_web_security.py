"""Stored XSS and errors beside the chat: hostile article fields (javascript: URLs, markup in titles and
outlets) through ingest, the real web app on 127.0.0.1 and every renderer; bad input never hides the chat."""

from __future__ import annotations

import json
import socket

import pytest

from rag.core.links import safe_url
from rag.core.schema import Answer, Citation, Hit, Passage

from .conftest import served

TIMEOUT = 60
JS = "javascript:alert(document.cookie)"
EVIL_TITLE = 'Ferry <img src=x onerror="alert(1)"> ${alert(2)} {{x}}'
EVIL_OUTLET = "<script>alert(3)</script>Gazette"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_STORIES = {
    "harbour ferry": ("The harbour ferry service will switch to three electric boats next spring, the city council "
                      "said on Monday. The new boats carry 150 passengers each and cost twelve million euros. Captain "
                      "Mara Olsen said her crews had trained for six weeks."),
    "lake ferry": ("Lake Corvo gets its first battery ferry in May, replacing a diesel vessel built in 1978. Regional "
                   "transport director Ines Pardo told reporters the crossing will take eleven minutes and that "
                   "tickets keep their price."),
    "river ferry": ("A solar-assisted river ferry began trial runs between Oldbridge and Marsh End on Tuesday. "
                    "Engineers from the shipyard expect the charging dock to be finished by August, according to "
                    "a statement from the operator."),
}


def _story(topic: str) -> str:
    return _STORIES[topic]


def _hostile_inputs(folder) -> list[str]:
    """A JSONL record, a Markdown file with front matter and an RSS feed, each with a javascript: URL."""
    jsonl = folder / "records.jsonl"
    jsonl.write_text(json.dumps({"id": "x-1", "title": EVIL_TITLE, "source": EVIL_OUTLET, "url": JS,
                                 "published_at": "2023-10-09", "body": _story("harbour ferry")}) + "\n",
                     encoding="utf-8")
    md = folder / "lake.md"
    md.write_text(f"---\ntitle: Lake Ferry Goes Electric\nsource: Lake Post\nurl: 'JaVaScRiPt:alert(4)'\n"
                  f"date: 2023-10-10\n---\n\n{_story('lake ferry')}\n", encoding="utf-8")
    feed = folder / "feed.rss"
    feed.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>River Wire</title>'
        "<link>https://river-wire.example/</link><description>x</description><item>"
        "<title>River Ferry Goes Electric</title><link>javascript:alert(5)</link><guid>rw-1</guid>"
        f"<pubDate>Wed, 11 Oct 2023 09:15:00 GMT</pubDate><description>{_story('river ferry')}</description>"
        "</item></channel></rss>", encoding="utf-8")
    return [str(jsonl), str(md), str(feed)]


@pytest.fixture(scope="module")
def hostile_web(tmp_path_factory):
    """The web app on a free port over a store holding only the hostile articles."""
    from ingest import Ingestor
    from rag.core.settings import Settings

    root = tmp_path_factory.mktemp("xss")
    settings = Settings(home=root / "home", llm="extractive", host="127.0.0.1", port=free_port())
    report = Ingestor(settings).ingest(_hostile_inputs(root))
    assert report.counts()["added"] == 3, report.to_dict()
    with served(settings) as web:
        yield web


def _no_live_script(html: str) -> None:
    low = html.lower()
    assert 'href="javascript' not in low and "](javascript" not in low and "<script" not in low
    assert "<img" not in low and "${" not in html and "{{" not in html


# -- the link rule -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("url", [JS, " JaVaScRiPt:alert(1)", "java\tscript:alert(1)", "data:text/html,<b>x",
                                 "vbscript:msgbox(1)", "//evil.example/x", "https://user:pw@evil.example/",
                                 'https://a.example/<script>', "http://", "file:///etc/passwd"])
def test_only_http_urls_with_a_host_are_links(url):
    assert safe_url(url) is None


def test_ordinary_article_urls_stay_links():
    for url in ("https://example.com/2023/10/ferry?x=1&y=2#top", "http://news.example/it's-here"):
        assert safe_url(url) == url


# -- end to end: ingest -> store -> served app -> every renderer ------------------------------------------
def test_ingest_stores_no_javascript_url_from_jsonl_front_matter_or_feed(hostile_web):
    rows = hostile_web.assistant.catalog.listing()
    assert len(rows) == 3
    assert all(not r["url"] or r["url"].startswith("http") for r in rows), rows


def test_served_app_answers_without_script_urls_and_panels_escape_everything(hostile_web):
    from gradio_client import Client

    from rag.frontends.web.page import _Handlers

    client = Client(hostile_web.url, verbose=False, download_files=False)
    answer = client.submit("How many passengers do the electric ferry boats carry?", api_name="/ask").result(
        timeout=TIMEOUT)
    assert answer["citations"], answer
    assert all(not (c["url"] or "").lower().startswith("javascript") for c in answer["citations"])
    h = _Handlers(hostile_web.assistant, None)
    *_, (chat, _turns, panel, notice, _box, _panels) = list(h.respond(
        "How many passengers do the electric ferry boats carry?", [], [], [], "", ""))
    _no_live_script(panel)
    _no_live_script(chat[-1]["content"])
    table, *_ = h.search("")
    for cell in table["Link"]:  # the one Markdown column; Title/Outlet/Date are "str" cells, shown as text
        _no_live_script(str(cell))
    assert EVIL_TITLE in list(table["Title"])


def test_renderers_neutralise_a_javascript_url_that_reaches_them():
    """Render-time defence too: a store written by an older version may still hold such a URL."""
    from rag.frontends.slack.format import format_answer
    from rag.frontends.web.data import table_frame
    from rag.frontends.web.render import sources_html

    text = "The boats carry 150 passengers each."
    c = Citation(n=1, article_id="a", passage_id="a:0", title=EVIL_TITLE, source=EVIL_OUTLET, url=JS,
                 published_at="2023-10-09", passage=text, quote=text, start=0, end=len(text))
    p = Passage(id="a:0", article_id="a", index=0, text=text, title=EVIL_TITLE, source=EVIL_OUTLET, url=JS,
                published_at="2023-10-09", start=0, end=len(text))
    cited = sources_html(Answer(text=f"{text} [1]", citations=[c], question="q"))
    closest = sources_html(Answer(text="no", refused=True, passages=[Hit(passage=p, score=1.0)], question="q"))
    for html in (cited, closest):
        _no_live_script(html)
        assert "&lt;img src=x" in html and "javascript:alert(document.cookie)" in html  # shown as text
    table = table_frame([{"title": EVIL_TITLE, "outlet": EVIL_OUTLET, "date": "2023-10-09", "url": JS}])
    link = table["Link"][0]
    assert "](" not in link and "javascript" in link
    slack = json.dumps(format_answer(Answer(text=f"{text} [1]", citations=[c], question="q")))
    assert "javascript:" not in slack and "<script" not in slack


# -- errors beside the chat, never instead of it --------------------------------------------------------
@pytest.fixture(scope="module")
def sample_web(sample_home, tmp_path_factory):
    import shutil

    from rag.answer.assistant import Assistant
    from rag.core.settings import Settings
    from rag.frontends.web.page import launch

    home = tmp_path_factory.mktemp("errs") / "home"
    shutil.copytree(sample_home, home)
    settings = Settings(home=home, llm="extractive", host="127.0.0.1", port=free_port())
    demo = launch(Assistant.from_settings(settings), settings, prevent_thread_lock=True, quiet=True)
    try:
        yield demo.local_url
    finally:
        demo.close()


EARLIER = [{"role": "user", "content": [{"type": "text", "text": "What did Kardashian say?"}]},
           {"role": "assistant", "content": [{"type": "text", "text": "She said she was disgusted [1]."}]}]


def _texts(chat: list) -> list[str]:
    return [" ".join(part.get("text", "") for part in m["content"]) if isinstance(m["content"], list)
            else m["content"] for m in chat]


def _chat(url: str, message: str, since: str = "", until: str = "") -> tuple:
    """One turn through the served app's chat event (what the browser sends), after an earlier exchange."""
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=False)
    return client.submit(message, EARLIER, [], since, until, "", api_name="/chat").result(timeout=TIMEOUT)


@pytest.mark.parametrize("message,since,expected", [
    ("   ", "", "question is empty"),
    ("Why " + "x" * 9996, "", "limit"),
    ("What did Kardashian say about Balenciaga?", "last week", "YYYY-MM-DD"),
])
def test_bad_input_is_a_notice_beside_the_conversation(sample_web, message, since, expected):
    chat, _panel, notice, box = _chat(sample_web, message, since)
    assert _texts(chat) == _texts(EARLIER)  # the conversation stays
    assert expected in notice
    assert box == message  # given back to fix


def test_a_date_that_does_not_exist_is_read_as_text(sample_web):
    chat, panel, notice, _box = _chat(sample_web, "What did Kardashian say about Balenciaga on February 30, "
                                                           "2024?")
    assert len(chat) == 4 and "out of range" not in notice and "⚠" not in notice
    assert "cite-1" in _texts(chat)[-1] and 'id="cite-1-1"' in panel
