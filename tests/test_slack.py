"""The Slack bot end to end: the real Bolt app served over HTTP on 127.0.0.1, signed event payloads, and a
fake Slack Web API (also on 127.0.0.1) that records every call. Nothing here reaches Slack."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from rag.core.errors import LLMError, SettingsError
from rag.core.schema import Answer, Citation, Hit, Passage
from rag.core.settings import Settings
from rag.frontends.slack import bot as slackmod
from rag.frontends.slack.bot import (
    FAILED,
    HELP,
    RATE_LIMITED,
    WORKING,
    SlackTokens,
    create_app,
    make_http_server,
    tokens_from_env,
)
from rag.frontends.slack.format import (
    MAX_BLOCKS,
    REFUSAL,
    SECTION_LIMIT,
    bot_message_content,
    clean_slack_text,
    escape,
    format_answer,
    format_notice,
    split_mrkdwn,
)
from rag.frontends.slack.guard import (
    RateLimiter,
    RedactingFilter,
    TTLSet,
    install_redaction,
)

BOT_TOKEN = "xoxb-1111-2222-SECRETBOTTOKEN"
APP_TOKEN = "xapp-1-A111-2222-SECRETAPPTOKEN"
SIGNING_SECRET = "8f7e6d5c4b3a29180f7e6d5c4b3a2918"
BOT_USER, BOT_ID = "UBOT", "BBOT"
URL = "https://example.com/kim?a=1&b=2"
QUOTE = "I have been quiet for the past few days, not because I haven’t been disgusted and outraged by the recent Balenciaga campaigns"
ANSWER_TEXT = "Kardashian said she was “disgusted and outraged” by the campaigns [1]. She later welcomed the apology <3 & more [2]."
WAIT = 10.0


def wait_for(predicate: Callable[[], Any], timeout: float = WAIT) -> Any:
    """Poll until predicate() is truthy; bounded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")


# ---------------------------------------------------------------------------- the stand-in assistant


def _citation(n: int, url: str | None, title: str, source: str) -> Citation:
    return Citation(
        n=n, article_id="a1", passage_id=f"a1:{n}", title=title, source=source, url=url,
        published_at="2022-11-28T10:00:00", passage=QUOTE, quote=QUOTE, start=0, end=len(QUOTE),
    )


class StandIn:
    """A deterministic assistant: a fixed cited answer; records every question and history it was given."""

    def __init__(self, delay: float = 0.0, error: Exception | None = None) -> None:
        self.delay, self.error = delay, error
        self.calls: list[dict] = []
        self.lock = threading.Lock()

    def ask(self, question: str, *, history=None, sources=None, since=None, until=None) -> Answer:
        with self.lock:
            self.calls.append({"question": question, "history": history})
        time.sleep(self.delay)
        if self.error is not None:
            raise self.error
        citations = [
            _citation(1, URL, "Kim Kardashian *Ditches* Balenciaga", "TMZ"),
            _citation(2, None, "Balenciaga apologizes", "Vogue"),
        ]
        return Answer(text=ANSWER_TEXT, citations=citations, question=question, answerer="stand-in")

    def questions(self) -> list[str]:
        with self.lock:
            return [c["question"] for c in self.calls]


# ---------------------------------------------------------------------------- the fake Slack Web API


class FakeSlack:
    """Slack's Web API (and response_url endpoints) on 127.0.0.1, recording every call."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.threads: dict[tuple[str, str], list[dict]] = {}
        self.lock = threading.Lock()
        self._ts = 1700000500
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                fake._handle(self, {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()})

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if "json" in (self.headers.get("Content-Type") or ""):
                    params = json.loads(raw or "{}")
                else:
                    params = {k: v[0] for k, v in parse_qs(raw).items()}
                params.update({k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()})
                fake._handle(self, params)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.api_url = self.url + "/api/"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def _handle(self, handler: BaseHTTPRequestHandler, params: dict) -> None:
        path = urlsplit(handler.path).path
        method = path[len("/api/"):] if path.startswith("/api/") else path
        auth = handler.headers.get("Authorization") or params.get("token") or ""
        with self.lock:
            self.calls.append({"method": method, "params": params, "auth": auth})
            self._ts += 1
            ts = f"{self._ts}.000100"
        if method == "auth.test":
            if "REJECTED" in auth:
                body: dict = {"ok": False, "error": "invalid_auth"}
            else:
                body = {"ok": True, "url": "https://t.slack.com/", "team": "T", "user": "newsbot",
                        "team_id": "T1", "user_id": BOT_USER, "bot_id": BOT_ID}
        elif method in ("chat.postMessage", "chat.update"):
            body = {"ok": True, "channel": params.get("channel"), "ts": params.get("ts") or ts}
        elif method in ("chat.postEphemeral", "reactions.add", "reactions.remove"):
            body = {"ok": True}
        elif method == "conversations.replies":
            body = {"ok": True, "messages": self.threads.get((params.get("channel"), params.get("ts")), []), "has_more": False}
        elif method.startswith("/respond/"):
            body = {"ok": True}
        else:
            body = {"ok": False, "error": "unknown_method"}
        data = json.dumps(body).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def of(self, method: str) -> list[dict]:
        with self.lock:
            return [c["params"] for c in self.calls if c["method"] == method]

    def responded(self) -> list[dict]:
        with self.lock:
            return [c["params"] for c in self.calls if c["method"].startswith("/respond/")]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


# ---------------------------------------------------------------------------- the bot under test


def sign(body: str, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class Bot:
    """The real Bolt app behind rag.frontends.slack.bot.make_http_server on a free 127.0.0.1 port."""

    def __init__(self, fake: FakeSlack, assistant: Any, **options: Any) -> None:
        self.fake, self.assistant = fake, assistant
        self.app = create_app(assistant, bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=fake.api_url, **options)
        self.server = make_http_server(self.app, host="127.0.0.1", port=0)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slack/events"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self._n = 0

    def post(self, body: str, content_type: str, *, secret: str = SIGNING_SECRET, timestamp: str | None = None,
             headers: dict | None = None) -> requests.Response:
        timestamp = timestamp or str(int(time.time()))
        all_headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": timestamp,
                       "X-Slack-Signature": sign(body, timestamp, secret), **(headers or {})}
        return requests.post(self.url, data=body.encode(), headers=all_headers, timeout=10)

    def event(self, event: dict, *, event_id: str | None = None, **kw: Any) -> requests.Response:
        self._n += 1
        payload = {"token": "verification", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
                   "event_id": event_id or f"Ev{self._n:04d}{time.monotonic_ns()}", "event_time": int(time.time()),
                   "event": event}
        return self.post(json.dumps(payload), "application/json", **kw)

    def command(self, text: str, user: str = "U1") -> requests.Response:
        form = {"token": "verification", "team_id": "T1", "channel_id": "C1", "user_id": user, "user_name": "ann",
                "command": "/news", "text": text, "response_url": f"{self.fake.url}/respond/T1/{user}/{time.monotonic_ns()}",
                "trigger_id": "1.2.3", "api_app_id": "A1"}
        return self.post(urlencode(form), "application/x-www-form-urlencoded")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def fake() -> Any:
    server = FakeSlack()
    yield server
    server.close()


@pytest.fixture
def make_bot(fake: FakeSlack) -> Any:
    bots: list[Bot] = []

    def build(assistant: Any = None, **options: Any) -> Bot:
        bot = Bot(fake, assistant or StandIn(), **options)
        bots.append(bot)
        return bot

    yield build
    for bot in bots:
        bot.close()


def mention(text: str, ts: str = "1700000000.000100", *, user: str = "U1", thread_ts: str | None = None,
            channel: str = "C1") -> dict:
    event = {"type": "app_mention", "user": user, "text": f"<@{BOT_USER}> {text}", "ts": ts, "channel": channel,
             "event_ts": ts}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def dm(text: str, ts: str = "1700000001.000100", *, user: str = "U1", **extra: Any) -> dict:
    return {"type": "message", "channel_type": "im", "channel": "D1", "user": user, "text": text, "ts": ts,
            "event_ts": ts, **extra}


def all_text(params: dict) -> str:
    return params.get("text", "") + "\n" + json.dumps(params.get("blocks") or [], ensure_ascii=False)


def block_texts(params: dict) -> list[str]:
    blocks = params.get("blocks")
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks or []
    return [b["text"]["text"] for b in blocks if b.get("type") == "section"]


# ---------------------------------------------------------------------------- events


@pytest.mark.parametrize("process_before_response", [False, True])
def test_mention_answered_in_thread_with_links_and_sources(fake, make_bot, process_before_response):
    bot = make_bot(process_before_response=process_before_response)
    response = bot.event(mention("What did Kardashian say about Balenciaga?"))
    assert response.status_code == 200
    (post,) = wait_for(lambda: fake.of("chat.postMessage"))
    assert post["channel"] == "C1" and post["thread_ts"] == "1700000000.000100"
    assert bot.assistant.calls == [{"question": "What did Kardashian say about Balenciaga?", "history": None}]
    sections = block_texts(post)
    assert all(len(s) <= SECTION_LIMIT for s in sections)
    answer, sources = sections[0], "\n".join(sections[1:])
    assert "<https://example.com/kim?a=1&amp;b=2|[1]>" in answer  # [n] -> link, & escaped in the URL
    assert answer.endswith("[2].") and "|[2]>" not in answer  # no URL -> plain [2]
    assert "&lt;3 &amp; more" in answer  # <, & escaped in the text
    assert "*Sources*" in sources
    assert "[1] *Kim Kardashian Ditches Balenciaga* — TMZ, 2022-11-28 — <https://example.com/kim?a=1&amp;b=2|link>" in sources
    assert "[2] *Balenciaga apologizes* — Vogue, 2022-11-28" in sources
    assert ">_I have been quiet" in sources
    assert "Sources:" in post["text"] and "[1]" in post["text"]  # a text fallback always
    wait_for(lambda: fake.of("reactions.remove"))
    expected = {"channel": "C1", "timestamp": "1700000000.000100", "name": "hourglass_flowing_sand"}
    for method in ("reactions.add", "reactions.remove"):
        (call,) = fake.of(method)
        assert expected.items() <= call.items()


def test_follow_up_in_thread_passes_history(fake, make_bot):
    bot = make_bot()
    parent, earlier_answer, current = "1700000000.000100", "1700000002.000100", "1700000009.000100"
    answer_fallback = format_answer(StandIn().ask("q"))["text"]
    fake.threads[("C1", parent)] = [
        {"type": "message", "user": "U1", "text": f"<@{BOT_USER}> What did Kardashian say about Balenciaga?", "ts": parent},
        {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "text": answer_fallback, "ts": earlier_answer},
        {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "text": format_notice(RATE_LIMITED, "hourglass")["text"],
         "ts": "1700000003.000100"},
        {"type": "message", "bot_id": "BOTHER", "subtype": "bot_message", "text": "another bot", "ts": "1700000004.000100"},
        {"type": "message", "user": "U2", "text": "interesting &amp; odd", "ts": "1700000005.000100"},
        {"type": "message", "user": "U1", "text": f"<@{BOT_USER}> and her kids?", "ts": current},
    ]
    bot.event(mention("and her kids?", current, thread_ts=parent))
    (post,) = wait_for(lambda: fake.of("chat.postMessage"))
    assert post["thread_ts"] == parent
    assert fake.of("conversations.replies")[0]["ts"] == parent
    (call,) = bot.assistant.calls
    assert call["question"] == "and her kids?"
    assert call["history"] == [
        {"role": "user", "content": "What did Kardashian say about Balenciaga?"},
        {"role": "assistant", "content": bot_message_content(answer_fallback)},
        {"role": "user", "content": "interesting & odd"},
    ]
    assert "[1]" in call["history"][1]["content"] and "Sources" not in call["history"][1]["content"]


def test_dm_answered_and_other_messages_ignored(fake, make_bot):
    bot = make_bot()
    bot.event(dm("ignored: not a DM", "1700000001.000100", channel_type="channel"))
    bot.event(dm("ignored: edited", "1700000002.000100", subtype="message_changed"))
    bot.event(dm("ignored: another bot", "1700000003.000100", bot_id="B999"))
    bot.event(dm("ignored: bot message", "1700000004.000100", subtype="bot_message"))
    bot.event(dm("ignored: my own", "1700000005.000100", user=BOT_USER))
    time.sleep(0.3)
    bot.event(dm("What did Kardashian say?", "1700000006.000100"))
    (post,) = wait_for(lambda: fake.of("chat.postMessage"))
    time.sleep(0.3)
    assert bot.assistant.questions() == ["What did Kardashian say?"]
    assert len(fake.of("chat.postMessage")) == 1
    assert post["channel"] == "D1" and post["thread_ts"] == "1700000006.000100"


def test_retry_never_answers_twice(fake, make_bot):
    bot = make_bot()
    event = mention("What did Kardashian say?")
    assert bot.event(event, event_id="EvRETRY").status_code == 200
    retry = bot.event(event, event_id="EvRETRY", headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert retry.status_code == 200
    wait_for(lambda: fake.of("chat.postMessage"))
    bot.event(mention("second question", "1700000007.000100"))  # a sentinel that is answered after the retry
    wait_for(lambda: len(fake.of("chat.postMessage")) == 2)
    assert bot.assistant.questions().count("What did Kardashian say?") == 1


def test_same_message_via_two_events_answered_once(fake, make_bot):
    bot = make_bot()
    bot.event(mention("once please", "1700000000.000100"), event_id="EvA")
    bot.event(mention("once please", "1700000000.000100"), event_id="EvB")
    wait_for(lambda: fake.of("chat.postMessage"))
    time.sleep(0.3)
    assert len(fake.of("chat.postMessage")) == 1


def test_bad_or_stale_signature_is_401(fake, make_bot):
    bot = make_bot()
    assert bot.event(mention("forged"), secret="not-the-secret").status_code == 401
    assert bot.event(mention("stale"), timestamp=str(int(time.time()) - 600)).status_code == 401
    unsigned = requests.post(bot.url, data=json.dumps({"type": "event_callback", "event": mention("x")}),
                             headers={"Content-Type": "application/json"}, timeout=10)
    assert unsigned.status_code == 401
    time.sleep(0.2)
    assert bot.assistant.calls == [] and fake.of("chat.postMessage") == []


def test_url_verification_and_unknown_paths(make_bot):
    bot = make_bot()
    body = json.dumps({"token": "t", "challenge": "abc123", "type": "url_verification"})
    response = bot.post(body, "application/json")
    assert response.status_code == 200 and "abc123" in response.text
    assert requests.get(bot.url, timeout=10).status_code == 405
    assert requests.post(bot.url.replace("/slack/events", "/other"), data=b"{}", timeout=10).status_code == 404


def test_rate_limit_replies_politely(fake, make_bot):
    bot = make_bot(rate_limit=2)
    for i in range(3):
        bot.event(dm(f"question {i}", f"170000001{i}.000100"))
    bot.event(dm("from someone else", "1700000020.000100", user="U2"))
    posts = wait_for(lambda: (p := fake.of("chat.postMessage")) and len(p) == 4 and p)
    limited = [p for p in posts if RATE_LIMITED.replace("'", "") in p["text"].replace("'", "")]
    assert len(limited) == 1 and "You're asking faster than I can read" in limited[0]["text"]
    assert len(bot.assistant.calls) == 3 and "from someone else" in bot.assistant.questions()


def test_slash_command_answered_privately(fake, make_bot):
    bot = make_bot()
    response = bot.command("What did Kardashian say about Balenciaga?")
    assert response.status_code == 200 and WORKING in response.text
    (reply,) = wait_for(fake.responded)
    assert reply["response_type"] == "ephemeral"
    assert "<https://example.com/kim?a=1&amp;b=2|[1]>" in "\n".join(block_texts(reply))
    assert fake.of("chat.postMessage") == []  # nothing public
    assert bot.assistant.questions() == ["What did Kardashian say about Balenciaga?"]


def test_slash_command_without_question_shows_help(fake, make_bot):
    bot = make_bot()
    response = bot.command("   ")
    assert response.status_code == 200 and HELP.split(",")[0] in response.text
    time.sleep(0.3)
    assert bot.assistant.calls == [] and fake.responded() == []


def test_acknowledges_within_3_seconds_while_answering_slowly(fake, make_bot):
    bot = make_bot(StandIn(delay=2.0))
    started = time.monotonic()
    assert bot.event(mention("slow one")).status_code == 200
    assert bot.command("slow command").status_code == 200
    assert time.monotonic() - started < 1.5  # both acknowledged long before the 2 s answers
    wait_for(lambda: fake.of("chat.postMessage") and fake.responded())
    assert fake.of("reactions.add")  # a sign of life while working


def test_errors_reply_briefly_without_tokens_or_traces(fake, make_bot, caplog):
    caplog.set_level(logging.DEBUG)
    known = make_bot(StandIn(error=LLMError(f"The LLM at http://llm rejected the key {BOT_TOKEN}; set NEWSRAG_LLM.")))
    known.event(mention("one"))
    (post,) = wait_for(lambda: fake.of("chat.postMessage"))
    assert "set NEWSRAG_LLM" in post["text"] and BOT_TOKEN not in all_text(post) and "[redacted]" in post["text"]
    assert post["thread_ts"] == "1700000000.000100"

    crash = make_bot(StandIn(error=RuntimeError(f"boom {SIGNING_SECRET} {BOT_TOKEN}")))
    crash.event(mention("two", "1700000003.000100"))
    crash.command("three")
    wait_for(lambda: len(fake.of("chat.postMessage")) == 2 and fake.responded())
    replies = [all_text(p) for p in fake.of("chat.postMessage")[1:] + fake.responded()]
    for text in replies:
        assert FAILED.split(" — ")[0] in text
        assert "Traceback" not in text and "boom" not in text
        assert BOT_TOKEN not in text and SIGNING_SECRET not in text
    assert "boom" in caplog.text and "Traceback" in caplog.text  # the details went to the log, redacted
    _assert_no_secrets(caplog)


def test_no_token_in_debug_logs(fake, make_bot, caplog):
    caplog.set_level(logging.DEBUG)
    bot = make_bot()
    bot.event(mention("What did Kardashian say?"))
    bot.command("and the apology?")
    bot.event(mention("forged"), secret="wrong")
    wait_for(lambda: fake.of("chat.postMessage") and fake.responded() and fake.of("reactions.remove"))
    assert any(r.name.startswith(("slack_bolt", "slack_sdk", "rag.frontends.slack.bot")) for r in caplog.records)
    assert any(BOT_TOKEN in c["auth"] for c in fake.calls)  # the token was really used ...
    _assert_no_secrets(caplog)  # ... and never logged


def _assert_no_secrets(caplog: pytest.LogCaptureFixture) -> None:
    for secret in (BOT_TOKEN, SIGNING_SECRET, APP_TOKEN, "SECRETBOTTOKEN"):
        assert secret not in caplog.text
        assert all(secret not in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------------------- redaction, limits, dedup


def test_redacting_filter_on_messages_args_and_tracebacks(caplog):
    caplog.set_level(logging.DEBUG)
    logger = logging.getLogger("rag.frontends.slack.bot.test_redaction")
    install_redaction("my-signing-secret-value", loggers=[logger])
    logger.debug("token %s and secret %s and app %s", "xoxb-9-9-abc", "my-signing-secret-value", "xapp-1-A-2-def")
    try:
        raise RuntimeError("failed with xoxp-123-456 inside")
    except RuntimeError:
        logger.exception("while calling with %s", {"token": "xoxb-9-9-abc"})
    assert "xoxb-9-9-abc" not in caplog.text and "xapp-1-A-2-def" not in caplog.text
    assert "my-signing-secret-value" not in caplog.text and "xoxp-123-456" not in caplog.text
    assert "xoxb-[redacted]" in caplog.text and "[redacted]" in caplog.text and "Traceback" in caplog.text
    assert RedactingFilter(["abcdefgh"]).redact("x abcdefgh y xoxe.xoxp-1-zz") == "x [redacted] y xoxe.xoxp-[redacted]"


def test_rate_limiter_is_a_sliding_window():
    now = [0.0]
    limiter = RateLimiter(2, 60.0, clock=lambda: now[0])
    assert limiter.allow("u") and limiter.allow("u") and not limiter.allow("u")
    assert limiter.allow("v")
    now[0] = 59.0
    assert not limiter.allow("u")
    now[0] = 60.5  # both earlier questions left the window
    assert limiter.allow("u") and limiter.allow("u") and not limiter.allow("u")
    assert RateLimiter(0).allow("anyone")


def test_ttl_set_expires_and_is_bounded():
    now = [0.0]
    seen = TTLSet(ttl=10, maxsize=3, clock=lambda: now[0])
    assert seen.add("a") and not seen.add("a") and "a" in seen
    now[0] = 11
    assert "a" not in seen and seen.add("a")
    for key in "bcde":
        seen.add(key)
    assert len(seen) <= 3


# ---------------------------------------------------------------------------- formatting


def test_long_answers_split_into_sections_and_capped_blocks():
    long_text = " ".join(f"Sentence number {i} about the coverage [1]." for i in range(2000))
    answer = Answer(text=long_text, citations=[_citation(1, URL, "T", "S")])
    message = format_answer(answer)
    sections = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert len(message["blocks"]) <= MAX_BLOCKS and len(sections) > 10
    assert all(len(s) <= SECTION_LIMIT for s in sections)
    assert all(s.count("<") == s.count(">") for s in sections)  # never split inside a link
    assert message["text"] and len(message["text"]) < 4000
    for piece in split_mrkdwn("&amp;" * 1000, 3000):
        assert len(piece) <= 3000 and not piece.endswith("&am")


def test_refusal_is_worded_plainly_with_closest_passages():
    passage = Passage(id="a1:0", article_id="a1", index=0, start=0, end=10, text="Balenciaga apologized <b>.",
                      title="Balenciaga apologizes", source="Vogue", published_at="2022-11-29", url="https://v.example/x")
    answer = Answer(text="whatever the answerer said", refused=True, passages=[Hit(passage=passage, score=0.1)])
    message = format_answer(answer)
    assert message["text"].startswith(escape(REFUSAL) + " Closest passages:")
    joined = "\n".join(b["text"]["text"] for b in message["blocks"])
    assert "*Balenciaga apologizes* — Vogue, 2022-11-29 — <https://v.example/x|link>" in joined
    assert "&lt;b&gt;" in joined and "whatever the answerer said" not in joined
    assert format_answer(Answer(text="", refused=True))["text"] == escape(REFUSAL)


def test_unsafe_urls_and_markup_are_neutralised():
    answer = Answer(text="<!channel> look [1]", citations=[_citation(1, "javascript:alert(1)", "T|x>", "S")])
    message = format_answer(answer)
    joined = json.dumps(message)
    assert "<!channel>" not in joined and "&lt;!channel&gt;" in message["blocks"][0]["text"]["text"]
    assert "javascript:" not in joined
    bold = format_answer(Answer(text="## Summary\nShe was **disgusted** [1].", citations=[_citation(1, None, "T", "S")]))
    assert bold["blocks"][0]["text"]["text"] == "*Summary*\nShe was *disgusted* [1]."
    assert clean_slack_text("<@U1> hi <https://a.b|site> &amp; <!here> <#C1|news>") == "hi site & @here #news"


# ---------------------------------------------------------------------------- tokens, settings and run


def test_tokens_from_env_names_the_missing_variable():
    with pytest.raises(SettingsError, match="SLACK_BOT_TOKEN"):
        tokens_from_env({})
    with pytest.raises(SettingsError, match="SLACK_APP_TOKEN.*SLACK_SIGNING_SECRET"):
        tokens_from_env({"SLACK_BOT_TOKEN": BOT_TOKEN})
    with pytest.raises(SettingsError) as bad:
        tokens_from_env({"SLACK_BOT_TOKEN": "xapp-SECRETVALUE", "SLACK_SIGNING_SECRET": SIGNING_SECRET})
    assert "SECRETVALUE" not in str(bad.value) and "xoxb-" in str(bad.value)
    with pytest.raises(SettingsError, match="SLACK_APP_TOKEN"):
        tokens_from_env({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": "xoxb-wrong-kind"})
    socket = tokens_from_env({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN})
    http = tokens_from_env({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET})
    assert (socket.mode, http.mode) == ("socket", "http")
    assert BOT_TOKEN not in repr(socket) and APP_TOKEN not in repr(socket) and SIGNING_SECRET not in repr(http)


def test_run_refuses_http_mode_without_signing_secret(fake):
    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET"):
        slackmod.run(Settings(slack_api_url=fake.api_url), StandIn(), tokens=SlackTokens(bot_token=BOT_TOKEN))
    assert fake.calls == []  # refused before contacting Slack


def test_create_app_reports_bad_token_and_unreachable_api(fake):
    with pytest.raises(SettingsError, match="SLACK_BOT_TOKEN") as rejected:
        create_app(StandIn(), bot_token="xoxb-REJECTED-123", signing_secret=SIGNING_SECRET, api_url=fake.api_url)
    assert "xoxb-REJECTED-123" not in str(rejected.value)
    with socket_closed_port() as port:
        with pytest.raises(SettingsError, match="NEWSRAG_SLACK_API_URL") as unreachable:
            create_app(StandIn(), bot_token=BOT_TOKEN, api_url=f"http://127.0.0.1:{port}/api")
    assert BOT_TOKEN not in str(unreachable.value)


class socket_closed_port:
    """A port on 127.0.0.1 with nothing listening."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def __exit__(self, *exc: Any) -> None:
        pass


def test_run_from_env_socket_mode_uses_the_app_token(fake, monkeypatch):
    import slack_bolt.adapter.socket_mode as socket_mode

    started: dict = {}

    class FakeHandler:
        def __init__(self, app, app_token, **kw):
            started.update(app=app, app_token=app_token)

        def start(self):
            started["started"] = True

    monkeypatch.setattr(socket_mode, "SocketModeHandler", FakeHandler)
    settings = Settings(slack_api_url=fake.api_url)
    slackmod.run_from_env(StandIn(), settings, {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN})
    assert started["started"] and started["app_token"] == APP_TOKEN
    assert fake.of("auth.test")


def test_create_app_does_not_warn_about_the_token_it_was_not_meant_to_use(fake, monkeypatch, caplog):
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)  # Bolt reads it even though we hand it a ready client
    with caplog.at_level(logging.WARNING):
        create_app(StandIn(), bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=fake.api_url)
    assert not [r for r in caplog.records if "will be unused" in r.getMessage()], caplog.text


def test_run_from_env_http_mode_serves_on_localhost(fake, monkeypatch, capsys):
    servers: list = []
    real = slackmod.make_http_server

    def capture(app, **kw):
        server = real(app, **{**kw, "port": 0})
        servers.append((server, kw))
        return server

    monkeypatch.setattr(slackmod, "make_http_server", capture)
    settings = Settings(slack_api_url=fake.api_url, slack_port=3999)
    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET}
    thread = threading.Thread(target=slackmod.run_from_env, args=(StandIn(), settings, env), daemon=True)
    thread.start()
    server, kw = wait_for(lambda: servers and servers[0])
    try:
        assert kw["host"] == "127.0.0.1" and kw["port"] == 3999 and kw["path"] == "/slack/events"
        url = f"http://127.0.0.1:{server.server_address[1]}/slack/events"
        body, ts = json.dumps({"type": "url_verification", "challenge": "xyz"}), str(int(time.time()))
        reply = requests.post(url, data=body, timeout=10, headers={
            "Content-Type": "application/json", "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sign(body, ts)})
        assert reply.status_code == 200 and "xyz" in reply.text
    finally:
        server.shutdown()
        thread.join(timeout=5)
    assert not thread.is_alive()
    port = server.server_address[1]
    assert f"newsrag Slack bot listening on http://127.0.0.1:{port}/slack/events" in capsys.readouterr().out


# ---------------------------------------------------------------------------- the real assistant


def test_real_assistant_answers_from_the_sample_article(fake, make_bot, tmp_path):
    import ingest as ingest_mod
    import rag.answer.assistant as assistant_mod

    settings = Settings(home=tmp_path / "home", llm="extractive")
    ingest_mod.ingest(str(Path(__file__).resolve().parents[1] / "examples" / "news"), settings=settings)
    assistant = assistant_mod.Assistant.from_settings(settings)
    bot = make_bot(assistant)
    bot.event(mention("What did Kardashian say about Balenciaga?"))
    (post,) = wait_for(lambda: fake.of("chat.postMessage"), timeout=120)
    assert post["thread_ts"] == "1700000000.000100"
    answer, *rest = block_texts(post)
    sources = "\n".join(rest)
    assert "Balenciaga" in answer and "[1]" in answer
    assert "*Sources*" in sources and "[1] *" in sources and ">_" in sources
    if "coverage I have" not in answer:  # a cited answer, not a refusal
        assert any(w in sources.lower() for w in ("disgusted", "outraged", "mother of four", "apolog"))


def test_manifest_matches_what_the_bot_handles():
    yaml = pytest.importorskip("yaml")
    manifest = yaml.safe_load((Path(__file__).resolve().parents[1] / "docs" / "slack-manifest.yaml").read_text())
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mentions:read", "chat:write", "channels:history", "groups:history", "im:history", "im:read",
            "reactions:write", "commands"} <= scopes
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {"app_mention", "message.im"}
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/news"]
    assert manifest["settings"]["socket_mode_enabled"] is True and manifest["features"]["bot_user"]
