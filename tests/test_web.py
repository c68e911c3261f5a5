"""The web chat end to end: the real Gradio app served on 127.0.0.1 (sample coverage, extractive answers),
driven through gradio_client; plus the handlers and the HTML rendering on their own."""

from __future__ import annotations

import json
import os
import shutil
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest

from rag.core.schema import Answer, Citation, Hit, Passage

from .conftest import SEED_QUESTION, served

TIMEOUT = 60  # seconds any one request may take


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def web(sample_home, tmp_path_factory):
    """The app on a free port over a copy of the sample store; closed after the module."""
    from rag.core.settings import Settings

    home = tmp_path_factory.mktemp("web") / "home"
    shutil.copytree(sample_home, home)
    settings = Settings(home=home, llm="extractive", host="127.0.0.1", port=free_port())
    with served(settings) as web:
        yield web


@pytest.fixture(scope="module")
def client(web):
    from gradio_client import Client

    return Client(web.url, verbose=False, download_files=False)


def ask(client, question: str, **kw) -> dict:
    job = client.submit(question, api_name="/ask", **kw)
    return job.result(timeout=TIMEOUT)


def assert_serving(client) -> None:
    """The app still answers the seed question with a citation."""
    answer = ask(client, SEED_QUESTION)
    assert answer["citations"] and not answer["refused"]


def app_error(client, fn):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as info:
        fn()
    return str(info.value)


# -- the API ------------------------------------------------------------------------------------------------
def test_seed_question_is_answered_with_citations_of_the_seed_article(client):
    answer = ask(client, SEED_QUESTION)
    assert not answer["refused"]
    assert "[1]" in answer["text"]
    assert answer["citations"], answer
    for c in answer["citations"]:
        assert "Kardashian" in c["title"] and "Balenciaga" in c["title"]
        assert c["quote"] and c["quote"] in c["passage"]
        assert c["end"] - c["start"] == len(c["quote"])
    assert any("Balenciaga" in c["quote"] for c in answer["citations"])


def test_empty_question_gets_a_clear_message(client):
    message = app_error(client, lambda: ask(client, "   "))
    assert "question is empty" in message
    assert_serving(client)


def test_ten_thousand_character_question_gets_a_clear_message(client):
    message = app_error(client, lambda: ask(client, "Why " + "x" * 9996))
    assert "10,000 characters" in message and "limit" in message
    assert_serving(client)


def test_bad_date_filter_gets_a_clear_message(client):
    message = app_error(client, lambda: ask(client, SEED_QUESTION, since="last tuesday"))
    assert "YYYY-MM-DD" in message
    assert_serving(client)


def test_follow_up_with_history(client):
    first = ask(client, SEED_QUESTION)
    history = [{"role": "user", "content": SEED_QUESTION}, {"role": "assistant", "content": first["text"]}]
    answer = ask(client, "Did she turn down a deal?", history=history)
    assert not answer["refused"] and answer["citations"]
    assert "Kardashian" in answer["standalone_question"] or "Balenciaga" in answer["standalone_question"]
    assert any("deal" in c["passage"] for c in answer["citations"])


def test_an_oversized_history_is_refused_with_what_to_do_and_a_long_one_is_cut_to_its_last_turns(client, web):
    """Issue 27: the web `/ask` took a 2 MB history. Over the size limit it is a clear error; a long list of
    small turns is cut to its last turns (the follow-up still reads the latest subject)."""
    from rag.frontends.api.service import MAX_HISTORY_CHARS, MAX_HISTORY_TURNS

    huge = [{"role": "user", "content": "x" * 1_000_000}, {"role": "assistant", "content": "y" * 1_000_000}]
    message = app_error(client, lambda: ask(client, SEED_QUESTION, history=huge))
    assert "history" in message and f"{MAX_HISTORY_CHARS:,}" in message and "last turns" in message
    first = ask(client, SEED_QUESTION)
    filler = [{"role": r, "content": f"Filler turn {i} about the weather."} for i in range(300)
              for r in ("user", "assistant")]
    history = filler + [{"role": "user", "content": SEED_QUESTION}, {"role": "assistant", "content": first["text"]}]
    answer = ask(client, "Did she turn down a deal?", history=history)
    assert not answer["refused"] and ("Kardashian" in answer["standalone_question"]
                                      or "Balenciaga" in answer["standalone_question"])
    assert MAX_HISTORY_TURNS < len(history)
    assert_serving(client)


def test_the_service_keeps_the_last_turns_and_refuses_oversized_history():
    from rag.core.errors import InputError
    from rag.frontends.api.service import MAX_HISTORY_CHARS, MAX_HISTORY_TURNS, Service

    turns = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"turn {i}"} for i in range(100)]
    kept = Service._ask_args(None, turns, None, None, None, None)["history"]
    assert len(kept) == MAX_HISTORY_TURNS and kept[-1]["content"] == "turn 99"
    with pytest.raises(InputError, match="last turns"):
        Service._ask_args(None, [{"role": "user", "content": "z" * (MAX_HISTORY_CHARS + 1)}], None, None, None, None)


def test_question_outside_the_coverage_is_refused_with_closest_passages(client):
    answer = ask(client, "What is the weather forecast for Mars next week?")
    assert answer["refused"] and not answer["citations"]
    assert "does not answer" in answer["text"]
    assert answer["passages"]


def test_binary_upload_is_reported_and_the_app_keeps_serving(client, tmp_path):
    from gradio_client import handle_file

    blob = tmp_path / "photo.png"
    blob.write_bytes(os.urandom(4096) + b"\x00\x01\x02")
    report = client.submit([handle_file(str(blob))], "", api_name="/ingest").result(timeout=TIMEOUT)
    assert "photo.png" in report and "binary file, not text" in report
    assert "failed 1" in report
    assert_serving(client)


def test_failing_url_is_reported_and_the_app_keeps_serving(client):
    report = client.submit([], "http://127.0.0.1:9/x", api_name="/ingest").result(timeout=TIMEOUT)
    assert "http://127.0.0.1:9/x" in report and "NEWSRAG_FETCH_ALLOW" in report  # loopback: refused
    assert_serving(client)


def test_pasted_paths_are_not_read_from_the_server(client, web):
    before = web.assistant.stats()["articles"]
    report = client.submit([], "/etc/hostname\nfile:///etc/passwd", api_name="/ingest").result(timeout=TIMEOUT)
    assert report.count("not an http(s) URL") == 2
    assert web.assistant.stats()["articles"] == before


def test_nothing_to_ingest_gets_a_clear_message(client):
    message = app_error(client, lambda: client.submit([], "  \n", api_name="/ingest").result(timeout=TIMEOUT))
    assert "Nothing to ingest" in message


def test_uploaded_article_is_ingested_and_answerable(client, web, tmp_path):
    from gradio_client import handle_file

    story = tmp_path / "harbour-ferry.md"
    story.write_text("---\ntitle: Harbour Ferry Gets Electric Boats\nsource: Bay Times\ndate: 2023-10-09\n---\n"
                     "The harbour ferry service will switch to three electric boats next spring, the city said on "
                     "Monday. The new boats cost 12 million euros and carry 150 passengers each. Captain Mara Olsen "
                     "said the crews had trained on the electric boats for six weeks.\n", encoding="utf-8")
    report = client.submit([handle_file(str(story))], "", api_name="/ingest").result(timeout=TIMEOUT)
    assert "Added 1" in report and "Harbour Ferry Gets Electric Boats" in report
    assert "Bay Times" in web.assistant.stats()["sources"]
    answer = ask(client, "How many passengers do the electric ferry boats carry?", sources=["Bay Times"])
    assert answer["citations"] and all(c["source"] == "Bay Times" for c in answer["citations"])


def test_twenty_concurrent_chats_all_complete(web):
    from gradio_client import Client

    def one(i: int) -> dict:
        c = Client(web.url, verbose=False, download_files=False)
        return c.submit(SEED_QUESTION if i % 2 == 0 else "What did Balenciaga apologize for?",
                        api_name="/ask").result(timeout=120)

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(one, range(20)))
    assert len(results) == 20
    assert all(isinstance(r, dict) and r["text"] for r in results)
    assert all(r["citations"] for r in results[::2])


def test_login_is_required_when_user_and_password_are_set(web):
    from gradio_client import Client

    from rag.frontends.web.page import launch

    settings = web.settings.replace(port=free_port(), auth_user="editor", auth_password="s3cret-pass")
    demo = launch(web.assistant, settings, prevent_thread_lock=True, quiet=True)
    try:
        with pytest.raises(Exception):
            Client(demo.local_url, verbose=False)
        c = Client(demo.local_url, auth=("editor", "s3cret-pass"), verbose=False)
        assert c.submit(SEED_QUESTION, api_name="/ask").result(timeout=TIMEOUT)["citations"]
    finally:
        demo.close()


def test_half_a_login_is_a_settings_error():
    from rag.core.errors import SettingsError
    from rag.core.settings import Settings
    from rag.frontends.web.page import auth_pair

    assert auth_pair(Settings()) is None
    assert auth_pair(Settings(auth_user="a", auth_password="b")) == ("a", "b")
    with pytest.raises(SettingsError, match="NEWSRAG_AUTH_PASSWORD"):
        auth_pair(Settings(auth_user="a"))


# -- the chat handler (what the browser drives) ----------------------------------------------------------
def test_chat_handler_streams_a_linked_answer_and_the_sources_panel(web):
    from rag.frontends.web.page import _Handlers

    h = _Handlers(web.assistant, None)
    updates = list(h.respond(SEED_QUESTION, [], [], [], "", ""))
    assert len(updates) >= 2
    assert "Searching" in updates[0][0][-1]["content"]
    chat, turns, panel, notice, box, panels = updates[-1]
    assert chat[-1]["role"] == "assistant" and "](#cite-1-1)" in chat[-1]["content"]
    assert turns[-1]["role"] == "assistant" and "[1]" in turns[-1]["content"]
    assert 'id="cite-1-1"' in panel and "<mark>" in panel and len(panels) == 1
    assert "extractive" in notice and box == ""
    # a follow-up uses the turns just returned; the first answer's sources stay in the panel, folded
    chat2, turns2, panel2, _, _, panels2 = list(h.respond("Did she turn down a deal?", turns, chat, [], "", "",
                                                          panels=panels))[-1]
    assert len(turns2) == 4 and len(chat2) == 4 and "<mark>" in panel2 and len(panels2) == 2
    assert "](#cite-2-1)" in chat2[-1]["content"] and "](#cite-1-1)" in chat2[1]["content"]
    assert 'id="cite-2-1"' in panel2 and 'id="cite-1-1"' in panel2
    assert panel2.index('id="cite-2-1"') < panel2.index('<details class="nr-older" id="answer-1">') < panel2.index(
        'id="cite-1-1"')


class _StreamingAnswerer:
    """Writes the first sentence of passage 1 in three pieces, like an LLM would."""

    name = "fake-llm"

    def __init__(self) -> None:
        self.sentence = ""

    def answer(self, question, hits):
        return "".join(self.stream(question, hits))

    def stream(self, question, hits, as_of=None):
        text = hits[0].passage.text
        self.sentence = text[: text.index(".") + 1].strip()
        third = len(self.sentence) // 3
        yield from (self.sentence[:third], self.sentence[third:2 * third], self.sentence[2 * third:] + " [1]")

    def rewrite(self, question, history):
        return question


PASSAGE_QUESTION = "Did Kim Kardashian turn down the Balenciaga 2023 deal?"  # needs the model and the answerer


def test_chat_handler_streams_llm_pieces_then_the_checked_answer(web):
    from rag.answer.assistant import Assistant
    from rag.frontends.web.page import _Handlers

    fake = _StreamingAnswerer()
    assistant = Assistant(web.assistant.retriever, fake, settings=web.assistant.settings)
    # not a who-said question: those are answered from the quote index, without the answerer
    updates = list(_Handlers(assistant, None).respond(PASSAGE_QUESTION, [], [], [], "", ""))
    partial = [u[0][-1]["content"] for u in updates[1:-1]]
    # only checked text is streamed: the one sentence is released once, when the draft is complete
    assert len(partial) == 1 and partial[0].endswith("▌") and "\\[1\\]" in partial[0]
    chat, turns, panel, notice, *_ = updates[-1]
    assert "](#cite-1-1)" in chat[-1]["content"] and "▌" not in chat[-1]["content"]
    assert "fake-llm" in notice and 'id="cite-1-1"' in panel and "<mark>" in panel


def test_chat_handler_takes_the_turn_back_and_shows_the_error_beside_the_chat(web):
    from rag.frontends.web.page import _Handlers

    h = _Handlers(web.assistant, None)
    earlier = [{"role": "user", "content": "earlier"}, {"role": "assistant", "content": "an answer"}]
    updates = list(h.respond("", [], earlier, [], "", ""))
    chat, _turns, _panel, notice, box, _panels = updates[-1]
    assert chat == earlier  # the conversation stays
    assert "question is empty" in notice and box == ""


def test_coverage_helpers(web):
    from rag.frontends.web.data import SEED_QUESTION as SEED
    from rag.frontends.web.data import (
        chart_frame,
        example_questions,
        filter_rows,
        parse_urls,
    )
    from rag.frontends.web.page import _Handlers

    h = _Handlers(web.assistant, ["My own question?"])
    rows = h.rows()
    assert any("Kardashian" in r["title"] for r in rows)
    assert filter_rows(rows, "kardashian balenciaga") and not filter_rows(rows, "zzz-no-such")
    assert SEED in example_questions(web.assistant.catalog)
    assert h.examples()[0] == ["My own question?"]
    table, note, plot, undated = h.search("kardashian")
    assert len(table) == 1 and (note == "1 article" or note.startswith("1 of"))
    assert "match" in h.search("zzz-no-such")[3]
    frame = chart_frame([{"date": "2023-10-02", "outlet": "A"}, {"date": "2023-10-02", "outlet": "A"},
                         {"date": "", "outlet": "B"}])
    assert [(str(r["day"])[:10], r["outlet"], r["articles"]) for r in frame.to_dict("records")] == [
        ("2023-10-02", "A", 2)]
    urls, bad = parse_urls("https://a.example/x\n# note\n\n/etc/passwd\nhttps://a.example/x")
    assert urls == ["https://a.example/x"] and len(bad) == 1


# -- rendering ----------------------------------------------------------------------------------------------
def _answer(title: str, passage: str, quote: str, text: str) -> Answer:
    start = passage.index(quote)
    p = Passage(id="x:0", article_id="x", index=0, start=100, end=100 + len(passage), text=passage, title=title,
                source="<b>Outlet</b>", published_at="2023-10-02", url="https://example.com/a?x=1&y=\"2\"")
    c = Citation(n=1, article_id="x", passage_id="x:0", title=title, source=p.source, url=p.url,
                 published_at=p.published_at, passage=passage, quote=quote, start=100 + start,
                 end=100 + start + len(quote))
    return Answer(text=text, citations=[c], passages=[Hit(passage=p, score=1.0)], question="q <i>?</i>")


def test_sources_panel_escapes_article_text_and_marks_the_quote():
    from rag.frontends.web.render import sources_html

    passage = "Intro <script>alert(1)</script> text. The mayor said ${value} {{x}} & \"more\". Tail."
    html = sources_html(_answer("<img src=x onerror=alert(1)>", passage, 'The mayor said ${value} {{x}} & "more".',
                                "He spoke. [1]"))
    assert "<script>" not in html and "<img" not in html and "<b>Outlet" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;Outlet" in html
    assert "${" not in html and "{{" not in html
    assert '<mark>The mayor said &#36;&#123;value&#125; &#123;&#123;x&#125;&#125; &amp; &quot;more&quot;.</mark>' in html
    assert 'id="cite-1"' in html and "2023-10-02" in html and 'href="https://example.com/a?x=1&amp;y=&quot;2&quot;"' in html


def test_answer_markdown_links_markers_and_escapes_text():
    from rag.frontends.web.render import answer_markdown

    md = answer_markdown(_answer("T", "A *bold* <b>claim</b> here.", "A *bold* <b>claim</b> here.",
                                 "A *bold* <b>claim</b> here [1]. Not a marker [7]."))
    assert "[\\[1\\]](#cite-1)" in md
    assert "\\*bold\\*" in md and "&lt;b&gt;" in md and "<b>" not in md
    assert "(#cite-7)" not in md


def test_app_main_ingests_the_sample_into_an_empty_store_and_honours_gradio_port(tmp_path, monkeypatch, capsys):
    import app
    import rag.frontends.web.page

    seen = {}

    class FakeDemo:
        local_url = "http://127.0.0.1:7999/"
        instance_token = "this-server"

        def block_thread(self):
            seen["blocked"] = True
            seen["serve.json"] = json.loads((tmp_path / "empty-home" / "serve.json").read_text())

        def close(self):
            seen["closed"] = True

    def fake_launch(assistant, settings, **kw):
        seen.update(settings=settings, articles=assistant.stats()["articles"], kw=kw)
        return FakeDemo()

    monkeypatch.setattr(rag.frontends.web.page, "launch", fake_launch)
    monkeypatch.setenv("NEWSRAG_HOME", str(tmp_path / "empty-home"))
    monkeypatch.setenv("NEWSRAG_LLM", "extractive")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7999")
    assert app.main([]) == 0
    out = capsys.readouterr().out
    assert "empty: ingesting the bundled sample" in out and "added 1" in out
    assert "http://127.0.0.1:7999/" in out
    assert seen["settings"].port == 7999 and seen["settings"].host == "127.0.0.1"
    assert seen["articles"] == 1 and seen["blocked"] and seen["closed"]
    # `newsrag ask` finds the server through HOME/serve.json while it runs; the file goes when it stops
    assert seen["serve.json"]["port"] == 7999 and seen["serve.json"]["pid"] == os.getpid()
    assert seen["serve.json"]["instance"] == "this-server"  # what `ask` checks at the port first
    assert not (tmp_path / "empty-home" / "serve.json").exists()
    assert app.main(["--port", "7998"]) == 0  # not empty now: no second ingest
    assert "ingesting" not in capsys.readouterr().out and seen["settings"].port == 7998


def test_a_model_that_fails_to_load_in_the_background_is_a_clear_error_not_a_hang(web, tmp_path):
    """app.py listens before the model loads; if the load fails, questions get the settings error and the
    server keeps running."""
    from gradio_client import Client

    from rag.answer.assistant import Assistant
    from rag.frontends.web.page import launch

    broken = tmp_path / "not-a-model"
    broken.mkdir()
    settings = web.settings.replace(port=free_port(), embedding_model=str(broken))
    assistant = Assistant.from_settings(settings)
    demo = launch(assistant, settings, prevent_thread_lock=True, quiet=True)
    try:
        for thread in assistant.warm_up():
            thread.join(TIMEOUT)
        c = Client(demo.local_url, verbose=False, download_files=False)
        for _ in range(2):
            with pytest.raises(Exception, match="NEWSRAG_EMBEDDING_MODEL"):
                c.submit(PASSAGE_QUESTION, api_name="/ask").result(timeout=TIMEOUT)
    finally:
        demo.close()


# -- issue 16: one card per article, each answer's sources reachable, a dated chart that follows the search ----
def _two_spans_one_article() -> Answer:
    passages = [Passage(id=f"a:{i}", article_id="a", index=i, start=100 * i, end=100 * i + 60, text=t,
                        title="Harbour plan", source="Gazette", published_at="2025-03-04", url="https://g.example/h")
                for i, t in enumerate(["The mayor said the harbour would reopen in May.",
                                       "Fishers said they had waited two years for the harbour."])]
    other = Passage(id="b:0", article_id="b", index=0, start=0, end=40, text="The council voted to fund it.",
                    title="Council vote", source="Ledger", published_at="2025-03-05", url=None)
    quotes = [(passages[0], "the harbour would reopen in May"), (passages[1], "they had waited two years"),
              (other, "The council voted to fund it.")]
    cites = [Citation(n=n, article_id=p.article_id, passage_id=p.id, title=p.title, source=p.source, url=p.url,
                      published_at=p.published_at, passage=p.text, quote=q, start=p.start + p.text.index(q),
                      end=p.start + p.text.index(q) + len(q)) for n, (p, q) in enumerate(quotes, 1)]
    return Answer(text="It reopens [1] after a wait [2], funded [3].", citations=cites, question="harbour?",
                  passages=[Hit(passage=p, score=1.0) for p in [*passages, other]])


def test_sources_panel_has_one_card_per_article_with_every_span():
    from rag.frontends.web.render import sources_html

    html = sources_html(_two_spans_one_article(), turn=3)
    assert html.count('class="nr-card"') == 2  # two articles, three citations
    first = html[html.index('id="src-3-1"'):html.index('id="src-3-2"')]
    assert 'id="cite-3-1"' in first and 'id="cite-3-2"' in first and first.count("Harbour plan") == 1
    assert "<mark>the harbour would reopen in May</mark>" in first and "<mark>they had waited two years</mark>" in first
    assert 'id="cite-3-3"' in html[html.index('id="src-3-2"'):]


def test_sources_panel_keeps_earlier_answers_folded_and_linked():
    from rag.frontends.web.render import answer_markdown, answer_sources, sources_panel

    a = _two_spans_one_article()
    panel = sources_panel([answer_sources(a, 1), answer_sources(a, 2)])
    assert panel.index('id="cite-2-1"') < panel.index('id="answer-1"') < panel.index('id="cite-1-1"')
    assert '<details class="nr-older" id="answer-1">' in panel
    assert "(#cite-1-2)" in answer_markdown(a, 1) and "(#cite-2-2)" in answer_markdown(a, 2)


def test_chart_frame_has_dates_and_whole_counts_and_table_names_files():
    import pandas as pd

    from rag.frontends.web.data import (
        _file_name,
        chart_bucket,
        chart_frame,
        chart_top,
        table_frame,
    )

    rows = [{"title": "t", "outlet": "A", "date": "2024-04-02", "url": "", "file": "notes_[1].txt"},
            {"title": "u", "outlet": "B", "date": "2026-11-16", "url": "https://b.example/u", "file": ""}]
    frame = chart_frame(rows)
    assert pd.api.types.is_datetime64_any_dtype(frame["day"]) and frame["articles"].dtype == "int64"
    assert chart_bucket(rows) == "month" and chart_bucket(rows[:1]) == "day"
    assert chart_top(frame) == 5 and chart_top(chart_frame(rows[:1] * 9)) == 9
    links = table_frame(rows)["Link"].tolist()
    assert links[0] == "notes\\_\\[1\\].txt" and links[1].startswith("[b.example")
    assert _file_name("/tmp/gradio/abc123/my story.txt") == "my story.txt"
    assert _file_name("C:\\Users\\x\\feed.jsonl:3") == "feed.jsonl:3"
