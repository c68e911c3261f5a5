"""Settings that hold: secrets out of repr and logs, every numeric setting bounded (with the variable named),
login attempts throttled on the served app, and `newsrag eval` counting a failed question as an error."""

from __future__ import annotations

import json
import logging
import shutil
import socket
import time

import pytest
import requests

from rag.core.errors import SettingsError
from rag.core.settings import Settings

SECRETS = {"auth_password": "hunter2-pass", "openai_api_key": "sk-live-abcdef123456"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_repr_and_logs_never_show_a_secret(caplog):
    settings = Settings.from_env({"NEWSRAG_AUTH_USER": "ed", "NEWSRAG_AUTH_PASSWORD": SECRETS["auth_password"],
                                  "NEWSRAG_OPENAI_API_KEY": SECRETS["openai_api_key"]})
    caplog.set_level(logging.DEBUG)
    logging.getLogger("newsrag.test").info("settings: %s %r", settings, settings)
    for text in (repr(settings), str(settings), caplog.text):
        assert all(secret not in text for secret in SECRETS.values()), text
    assert "auth_password='***'" in repr(settings) and "llm_max_tokens=400" in repr(settings)
    assert "auth_user='ed'" in repr(settings)  # names are not secrets
    assert settings.auth_password == SECRETS["auth_password"]  # the value itself is intact


@pytest.mark.parametrize("var,value,words", [
    ("NEWSRAG_CHUNK_OVERLAP_SENTENCES", "-1", "at least 0"),
    ("NEWSRAG_NEAR_DUPLICATE_THRESHOLD", "0", "out of range"),
    ("NEWSRAG_NEAR_DUPLICATE_THRESHOLD", "1.5", "out of range"),
    ("NEWSRAG_SUPPORT_THRESHOLD", "nan", "not a finite number"),
    ("NEWSRAG_REFUSE_BELOW", "nan", "not a finite number"),
    ("NEWSRAG_REFUSE_BELOW", "-inf", "not a finite number"),
    ("NEWSRAG_LLM_TIMEOUT", "0", "out of range"),
    ("NEWSRAG_LLM_MAX_TOKENS", "0", "at least 1"),
    ("NEWSRAG_PORT", "70000", "out of range"),
    ("NEWSRAG_SLACK_RATE_LIMIT", "-3", "at least 0"),
    ("NEWSRAG_CHUNK_MIN_WORDS", "900", "CHUNK_MAX_WORDS"),
])
def test_out_of_range_settings_are_refused_naming_the_variable(var, value, words):
    with pytest.raises(SettingsError) as info:
        Settings.from_env({var: value})
    assert var in str(info.value) and words in str(info.value)


def test_in_range_settings_are_accepted():
    s = Settings.from_env({"NEWSRAG_CHUNK_OVERLAP_SENTENCES": "0", "NEWSRAG_NEAR_DUPLICATE_THRESHOLD": "1",
                           "NEWSRAG_REFUSE_BELOW": "-0.2", "NEWSRAG_PORT": "0", "NEWSRAG_SLACK_RATE_LIMIT": "0"})
    assert s.chunk_overlap_sentences == 0 and s.near_duplicate_threshold == 1.0 and s.port == 0


def test_the_default_support_threshold_is_the_checks_own():
    """Settings carries the check's threshold for NEWSRAG_SUPPORT_THRESHOLD; the two defaults are one figure."""
    from rag.check.claims import SUPPORT_THRESHOLD

    assert Settings.from_env({}).support_threshold == SUPPORT_THRESHOLD


# -- login throttling, on the served app ------------------------------------------------------------------
@pytest.fixture
def guarded(sample_home, tmp_path):
    from rag.answer.assistant import Assistant
    from rag.frontends.web.page import launch, shutdown

    home = tmp_path / "home"
    shutil.copytree(sample_home, home)
    settings = Settings(home=home, llm="extractive", host="127.0.0.1", port=free_port(), auth_user="editor",
                        auth_password="s3cret-pass")
    demo = launch(Assistant.from_settings(settings), settings, prevent_thread_lock=True, quiet=True)
    try:
        yield demo.local_url.rstrip("/")
    finally:
        shutdown(demo, timeout=10)


def _login(url: str, user: str, password: str) -> int:
    return requests.post(f"{url}/login", data={"username": user, "password": password}, timeout=10).status_code


def test_login_is_throttled_after_wrong_passwords(guarded):
    from rag.frontends.web.login import BASE_LOCK_SECONDS, MAX_FAILURES

    assert _login(guarded, "editor", "s3cret-pass") == 200
    codes = [_login(guarded, "editor", f"guess-{i}") for i in range(40)]
    assert all(c == 400 for c in codes)
    locked_at = time.monotonic()
    # locked now: even the right password is refused (a guesser cannot tell a hit while locked)
    assert _login(guarded, "editor", "s3cret-pass") == 400
    assert _login(guarded, "EDITOR ", "s3cret-pass") == 400  # the same name, spelled differently
    assert _login(guarded, "someone-else", "s3cret-pass") == 400  # wrong user name: plain failure
    # guesses while locked are not even checked: 40 tries in a second tested only MAX_FAILURES passwords
    assert MAX_FAILURES < 40
    time.sleep(max(0.0, locked_at + BASE_LOCK_SECONDS + 0.2 - time.monotonic()))
    assert _login(guarded, "editor", "s3cret-pass") == 200  # the lock ran out


def test_lock_expires_and_the_right_password_works_again():
    from rag.frontends.web.login import BASE_LOCK_SECONDS, MAX_FAILURES, LoginGuard

    now = [1000.0]
    guard = LoginGuard("editor", "pw", clock=lambda: now[0])
    assert [guard("editor", "x") for _ in range(MAX_FAILURES)] == [False] * MAX_FAILURES
    assert guard("editor", "pw") is False  # locked
    now[0] += BASE_LOCK_SECONDS + 0.01
    assert guard("editor", "pw") is True
    for _ in range(MAX_FAILURES):  # locked again for 1 s
        guard("editor", "x")
    for wait in (2.0, 4.0):  # each failure after a lock runs out doubles the next one
        now[0] += wait / 2 + 0.01
        assert guard("editor", "x") is False
        now[0] += wait - 0.1
        assert guard("editor", "pw") is False
    now[0] += 0.2
    assert guard("editor", "pw") is True


def test_a_flood_from_one_address_does_not_keep_the_real_user_out_of_another():
    """Issue 27: 50 wrong guesses a minute from anywhere locked every login. Now the guesser's address (and
    that name there) is locked; the real user, on another address, signs in."""
    from rag.frontends.web.login import ADDRESS_MAX_FAILURES, MAX_FAILURES, LoginGuard

    now = [1000.0]
    guard = LoginGuard("editor", "pw", clock=lambda: now[0])
    for i in range(600):  # ten a second for a minute, the real name and made-up ones
        now[0] += 0.1
        assert guard("editor" if i % 2 else f"user{i}", f"guess-{i}", address="203.0.113.9") is False
    assert guard("editor", "pw", address="203.0.113.9") is False  # the guesser's address is locked
    assert guard("editor", "pw", address="198.51.100.7") is True  # the real user is not
    # one name from one address: locked after MAX_FAILURES; the same name elsewhere is not
    for _ in range(MAX_FAILURES):
        guard("editor", "nope", address="192.0.2.1")
    assert guard("editor", "pw", address="192.0.2.1") is False
    assert guard("editor", "pw", address="192.0.2.2") is True
    # one address guessing many names: locked whole after ADDRESS_MAX_FAILURES
    for i in range(ADDRESS_MAX_FAILURES):
        guard(f"name{i}", "nope", address="192.0.2.50")
    assert guard("editor", "pw", address="192.0.2.50") is False


def test_logins_go_on_with_this_replicas_counts_while_the_shared_store_is_away(caplog):
    from rag.core.errors import StoreError
    from rag.frontends.web.login import MAX_FAILURES, LoginGuard, MemoryLoginStore

    class Shared(MemoryLoginStore):  # the PostgreSQL store's interface; `up` False: PostgreSQL is away
        shared, up = True, True

        def __getattribute__(self, name: str):
            if name in ("locked", "failed", "succeeded") and not object.__getattribute__(self, "up"):
                raise StoreError("The catalog at db1:5432/newsrag is not answering.")
            return object.__getattribute__(self, name)

    now = [1000.0]
    store = Shared()
    guard = LoginGuard("editor", "pw", clock=lambda: now[0], store=store)
    store.up = False
    assert guard("editor", "pw", address="198.51.100.7") is True  # a login, not an error page
    for _ in range(MAX_FAILURES):
        assert guard("editor", "nope", address="192.0.2.1") is False
    assert guard("editor", "pw", address="192.0.2.1") is False  # guessing is still slowed, here
    assert "counting on this replica" in caplog.text
    store.up = True
    assert guard("editor", "pw", address="198.51.100.7") is True  # back on the shared counts


def test_many_addresses_at_once_still_meet_a_global_ceiling():
    from rag.frontends.web.login import FLOOD_FAILURES, LoginGuard

    now = [1000.0]
    guard = LoginGuard("editor", "pw", clock=lambda: now[0])
    for i in range(FLOOD_FAILURES):
        now[0] += 0.01
        guard("editor", "nope", address=f"10.{i // 250}.{i % 250}.1")
    assert guard("editor", "pw", address="198.51.100.7") is False  # paused for everyone, briefly
    now[0] += 31
    assert guard("editor", "pw", address="198.51.100.7") is True


def test_the_served_login_throttles_per_client_address(guarded):
    """Through the real login page: 60 wrong guesses from one address (as a proxy on 127.0.0.1 reports it)
    leave the real user, on another address, able to sign in."""
    flood = {"X-Forwarded-For": "203.0.113.9"}
    codes = [requests.post(f"{guarded}/login", data={"username": "editor", "password": f"guess-{i}"},
                           headers=flood, timeout=10).status_code for i in range(60)]
    assert set(codes) == {400}
    right = {"username": "editor", "password": "s3cret-pass"}
    assert requests.post(f"{guarded}/login", data=right, headers=flood, timeout=10).status_code == 400
    assert _login(guarded, "editor", "s3cret-pass") == 200


# -- newsrag eval: an error is an error ---------------------------------------------------------------------
def test_eval_counts_a_failed_question_as_an_error_not_a_refusal(tmp_path):
    from rag.eval.run import evaluate

    articles = tmp_path / "articles.jsonl"
    articles.write_text(json.dumps({
        "id": "t1", "title": "Harbor town opens floating library", "source": "Coast Herald",
        "published_at": "2024-03-02",
        "body": "The harbor town of Wrenmouth opened a floating library on Saturday, built on a former ferry named "
                "the Gull. Mayor Ada Pellow said the boat holds about 4,000 books and will dock at three villages "
                "each week."}) + "\n", encoding="utf-8")
    questions = tmp_path / "questions.jsonl"
    rows = [{"id": "q1", "question": "What was the floating library built on?", "answer": "a former ferry",
             "type": "fact", "evidence": [{"article_id": "t1"}]},
            {"id": "q2", "question": "Why " + "x" * 5000, "answer": "Insufficient information.", "type": "null",
             "evidence": []}]
    questions.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    report = evaluate(articles, questions, progress=False)
    answers = report["overall"]["answers"]
    assert answers["errors"] == 1
    assert answers["refused_unanswerable"] == 0.0  # the too-long question was not refused: it failed
    failed = next(q for q in report["questions"] if q["id"] == "q2")
    assert failed["ask"]["error"] == "InputError" and failed["ask"]["refused"] is False


def test_eval_survives_a_crashing_question():
    from rag.eval.metrics import Gold
    from rag.eval.run import _ask

    class Crashing:
        def ask(self, question, **kw):
            raise RuntimeError("boom")

    record = _ask(Crashing(), "q", Gold(answers=[], grounded=False, checkable=False, unanswerable=False,
                                       evidence_present=False, evidence=[]))
    assert record["error"] == "RuntimeError" and record["crashed"] and record["refused"] is False


def test_a_worker_logs_its_own_info_lines_but_not_library_chatter():
    import logging

    from rag.core.logs import setup_logging

    def shown(name: str, level: int) -> bool:
        record = logging.LogRecord(name, level, __file__, 1, "m", None, None)
        return record.levelno >= handler.level and all(f.filter(record) for f in handler.filters)

    handler = setup_logging(logging.WARNING, ours=logging.INFO)
    try:
        assert shown("newsrag.worker", logging.INFO) and shown("httpx", logging.WARNING)
        assert not shown("httpx", logging.INFO) and not shown("newsrag.worker", logging.DEBUG)
        assert not shown("newsrag_other", logging.INFO)
    finally:
        setup_logging(logging.WARNING)
    assert not shown("newsrag.worker", logging.INFO)  # back to warnings only


def test_a_chroma_host_written_with_its_port_is_read_as_both():
    from rag.core.errors import SettingsError

    s = Settings.from_env({"NEWSRAG_CHROMA_HOST": "10.0.0.5:8123"})
    assert (s.chroma_host, s.chroma_port) == ("10.0.0.5", 8123)
    s = Settings.from_env({"NEWSRAG_CHROMA_HOST": "http://chroma.internal:9000/"})
    assert (s.chroma_host, s.chroma_port) == ("chroma.internal", 9000)
    assert Settings.from_env({"NEWSRAG_CHROMA_HOST": "chroma.internal"}).chroma_port == 8000
    with pytest.raises(SettingsError, match="give the port in one of them"):
        Settings.from_env({"NEWSRAG_CHROMA_HOST": "chroma.internal:9000", "NEWSRAG_CHROMA_PORT": "9100"})
