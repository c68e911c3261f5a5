"""The web page's article actions (issue 27), on the real handlers over a copy of the sample store: paste an
article's text (title, outlet, date, link), pick a row of the coverage table, remove it, fetch its URL again
(from a page served on 127.0.0.1)."""

from __future__ import annotations

import http.server
import threading
from types import SimpleNamespace

import pytest

STORY = ("The lighthouse keeper Ida Solberg retired on Wednesday after forty years on the point. \"The light "
         "never went out on my watch,\" Solberg said. The harbour board will automate the lamp next spring.")


class _Page(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args) -> None:
        pass


def _page(title: str, text: str) -> bytes:
    return (f"<html><head><title>{title}</title><meta property='og:site_name' content='Point News'>"
            f"<meta property='article:published_time' content='2026-06-04'></head><body><article><h1>{title}</h1>"
            f"<p>{text}</p></article></body></html>").encode()


@pytest.fixture
def site():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/lighthouse"
    finally:
        server.shutdown()
        server.server_close()


def _pick(h, title: str) -> str:
    number = next(i for i, r in enumerate(h.rows()) if r["title"] == title)
    article_id, line = h.selected("", SimpleNamespace(index=[number, 0]))
    assert title in line and article_id
    return article_id


def test_pasted_text_is_ingested_with_its_fields_and_pasting_it_again_updates_it(handlers):
    report = handlers.paste("Lighthouse keeper retires", "Point News", "2026-06-03", "", STORY)
    assert "Added 1" in report and "Lighthouse keeper retires" in report and "pasted text" in report
    [row] = [r for r in handlers.rows() if r["title"] == "Lighthouse keeper retires"]
    assert (row["outlet"], row["date"], row["file"]) == ("Point News", "2026-06-03", "pasted text")
    assert not list((handlers.assistant.settings.home / "pasted").iterdir())  # the file is not kept
    answer = handlers.assistant.ask("What did Solberg say about the light?")
    assert any(c.title == "Lighthouse keeper retires" for c in answer.citations)
    again = handlers.paste("Lighthouse keeper retires after forty years", "Point News", "2026-06-03", "", STORY)
    assert "updated 1" in again.lower() or "Updated 1" in again
    titles = [r["title"] for r in handlers.rows()]
    assert "Lighthouse keeper retires after forty years" in titles and "Lighthouse keeper retires" not in titles


@pytest.mark.parametrize("fields, words", [
    (("T", "O", "", "", "too short"), "at least a sentence"),
    (("T", "O", "June 3rd", "", STORY), "YYYY-MM-DD"),
    (("T", "O", "", "javascript:alert(1)", STORY), "http(s)"),
])
def test_pasted_text_with_a_bad_field_gets_a_message_naming_it(handlers, fields, words):
    from gradio.exceptions import Error

    before = len(handlers.rows())
    with pytest.raises(Error) as info:
        handlers.paste(*fields)
    assert words in info.value.message
    assert len(handlers.rows()) == before


def test_a_selected_row_is_removed(handlers):
    handlers.paste("Lighthouse keeper retires", "Point News", "2026-06-03", "", STORY)
    article_id = _pick(handlers, "Lighthouse keeper retires")
    line, cleared = handlers.remove(article_id)
    assert "Removed **Lighthouse keeper retires**" in line and "Paste its text again" in line and cleared == ""
    assert "Lighthouse keeper retires" not in [r["title"] for r in handlers.rows()]
    assert not handlers.assistant.ask("What did Solberg say about the light?").citations
    from gradio.exceptions import Error

    with pytest.raises(Error, match="Select an article"):
        handlers.remove(article_id)


def test_a_selected_row_with_a_url_is_fetched_again_and_updated(handlers, site):
    _Page.body = _page("Lighthouse keeper retires", STORY)
    assert handlers._run_job([site], None)["added"] == 1
    article_id = _pick(handlers, "Lighthouse keeper retires")
    assert "has not changed" in handlers.refetch(article_id)
    _Page.body = _page("Lighthouse keeper retires", STORY + " The board named her successor, Leif Dahl.")
    assert "is updated" in handlers.refetch(article_id)
    assert "Leif Dahl" in handlers.assistant.catalog.get(article_id).article.text  # the stored copy is the new one
    assert [r["title"] for r in handlers.rows()].count("Lighthouse keeper retires") == 1


def test_a_row_without_a_url_cannot_be_fetched_again(handlers):
    from gradio.exceptions import Error

    article_id = _pick(handlers, "Kim Kardashian Balenciaga")
    with pytest.raises(Error) as info:
        handlers.refetch(article_id)
    assert "no URL" in info.value.message and "upload its file again" in info.value.message
