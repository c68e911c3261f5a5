"""What the terminal says (issue 27): `list` shows whole outlet names, "1 passage", no terminal escapes from
stored text; `--json` errors come as JSON; a refusal has its own exit code; `watch` names what it added;
`serve` on a busy port says at once which flag to use; Ctrl+C while the web chat starts is one line."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

from .conftest import ROOT

STORY = ("The harbour ferry will add three night crossings from June, the operator said on Monday. Commuters had "
         "asked for later boats for years. The operator said the new crossings would run on weekdays.")


def _env(home, **more) -> dict[str, str]:
    return {"NEWSRAG_HOME": str(home), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT),
            "NEWSRAG_OLLAMA_BASE_URL": "http://127.0.0.1:9", **more}


def _run(args, env, timeout=300):
    return subprocess.run([sys.executable, "-m", "rag.frontends.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def home(sample_home, tmp_path):
    h = tmp_path / "home"
    shutil.copytree(sample_home, h)
    return h


def test_list_keeps_whole_outlet_names_counts_one_passage_and_prints_no_escapes(tmp_path):
    records = tmp_path / "records.jsonl"
    rows = [{"id": "nbj-1", "title": "Ferry adds night crossings \x1b]0;owned\x07\x1b[2J\x1b[31mred",
             "source": "Northgate Business Journal", "published_at": "2026-05-12", "body": STORY},
            {"id": "cg-1", "title": "Short one", "source": "Coast Gazette", "published_at": "2026-05-13",
             "body": STORY.replace("ferry", "bus").replace("crossings", "routes")}]
    records.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    env = _env(tmp_path / "h")
    assert _run(["ingest", "--quiet", str(records)], env).returncode == 0
    out = _run(["list"], env)
    assert out.returncode == 0, out.stderr
    assert "Northgate Business Journal" in out.stdout
    assert "(1 passage)" in out.stdout and "(1 passages)" not in out.stdout
    assert "\x1b" not in out.stdout and "\x07" not in out.stdout
    assert "[2J" not in out.stdout and "[31m" not in out.stdout and "owned" not in out.stdout
    assert "Ferry adds night crossings red" in out.stdout
    lines = out.stdout.splitlines()
    assert lines[0].index("Short one") == lines[1].index("Ferry adds")  # titles still line up


def test_every_cli_output_of_stored_text_is_sanitised(tmp_path):
    """Not only `list`: the ingest report (a duplicate's title), `ask` (answer, sources, --json) and `remove`
    print stored titles and outlets too; none of them may write a terminal sequence (issue 27)."""
    evil = "\x1b]0;owned\x07\x1b[2J\x1b[31m"
    records = tmp_path / "records.jsonl"
    rows = [{"id": "nbj-1", "title": f"Ferry adds night crossings {evil}red", "source": f"Northgate {evil}Journal",
             "published_at": "2026-05-12", "body": STORY},
            {"id": "nbj-2", "title": f"Copy {evil}of the ferry story", "source": "Coast Gazette",
             "published_at": "2026-05-12", "body": STORY}]
    records.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    env = _env(tmp_path / "h")
    outs = [_run(["ingest", "--quiet", str(records)], env)]
    assert "duplicate: Copy of the ferry story" in outs[0].stdout, outs[0].stdout
    outs.append(_run(["ask", "--no-server", "How many night crossings will the harbour ferry add?"], env))
    assert "Ferry adds night crossings red" in outs[-1].stdout, outs[-1].stdout
    as_json = _run(["ask", "--json", "--no-server", "How many night crossings will the harbour ferry add?"], env)
    assert "\\u001b[2J" in as_json.stdout  # JSON keeps the data, escaped: harmless on a terminal
    assert not any(c in as_json.stdout for c in "\x1b\x07\x9b\x9d") and json.loads(as_json.stdout)
    outs.append(_run(["remove", "nbj-1"], env))
    assert outs[-1].returncode == 0 and "Ferry adds night crossings red" in outs[-1].stdout
    for out in outs:
        for stream in (out.stdout, out.stderr):
            assert not any(c in stream for c in "\x1b\x07\x9b\x9d"), stream
            assert "[2J" not in stream and "[31m" not in stream and "owned" not in stream, stream


def test_ask_json_errors_are_json_and_a_refusal_has_its_own_exit_code(home):
    env = _env(home)
    empty = _run(["ask", "--json", "--no-server", ""], env)
    assert empty.returncode == 2
    error = json.loads(empty.stdout)
    assert "question is empty" in error["error"] and error["exit_code"] == 2
    plain = _run(["ask", "--no-server", ""], env)
    assert plain.returncode == 2 and plain.stderr.startswith("error: ") and not plain.stdout
    refused = _run(["ask", "--json", "--no-server", "Who won the 2022 World Cup?"], env)
    assert refused.returncode == 3 and json.loads(refused.stdout)["refused"] is True
    answered = _run(["ask", "--no-server", "What did Kardashian say about Balenciaga?"], env)
    assert answered.returncode == 0, answered.stderr


def test_watch_names_what_it_added(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "ferry.txt").write_text("Ferry service adds night crossings\n" + STORY + "\n", encoding="utf-8")
    out = _run(["watch", str(inbox), "--every", "0.1s", "--rounds", "1"], _env(tmp_path / "h"))
    assert out.returncode == 0, out.stderr
    assert f"  added: Ferry service adds night crossings ({inbox / 'ferry.txt'})" in out.stdout.splitlines()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_on_a_busy_port_says_which_flag_at_once(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = time.monotonic()
        out = _run(["serve", "--port", str(port)], _env(tmp_path / "h"), timeout=120)
        took = time.monotonic() - started
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and "launch()" not in out.stderr
    assert f"Port {port} on 127.0.0.1 is already in use" in out.stderr
    assert "--port" in out.stderr and "NEWSRAG_PORT" in out.stderr
    assert "ingesting the bundled sample" not in out.stdout  # checked before anything loads
    assert not (tmp_path / "h").exists() or not any((tmp_path / "h").iterdir())
    assert took < 60  # seconds, a generous bound for a loaded machine; it takes well under one


@pytest.mark.slow
@pytest.mark.parametrize("sig, code, word", [(signal.SIGINT, 130, "Interrupted"),
                                             (signal.SIGTERM, 143, "Terminated")])
def test_stopping_the_web_chat_while_it_starts_is_one_line(tmp_path, sig, code, word):
    """Stopped while it ingests the bundled sample into an empty store: one line on stderr, no traceback."""
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(_free_port())], cwd=ROOT,
                            env=_env(tmp_path / "h"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        first = proc.stdout.readline()  # "The store at ... is empty: ingesting the bundled sample ..."
        assert "ingesting the bundled sample" in first
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == code, err
    assert err.strip() == f"{word} while starting: the web chat was not started.", err
    assert "ready" not in out
    assert os.path.isdir(tmp_path / "h")


@pytest.mark.parametrize("raw, shown", [
    ("\x1b[31mred\x1b[0m text", "red text"),  # colour codes go whole, not just their ESC byte
    ("title\x1b]0;owned\x07 here", "title here"),  # a window-title sequence
    ("clear\x1b[2Jed", "cleared"),
    ("one\x9b31mtwo", "onetwo"),  # the one-byte CSI
    ("bell\x07 and\x00 nul", "bell and nul"),  # tabs and newlines stay; other controls go
])
def test_stored_text_is_printed_without_terminal_sequences(raw, shown):
    from rag.frontends.cli import _printable

    assert _printable(raw) == shown


def test_json_output_escapes_c1_controls():
    from rag.frontends.cli import _json

    title = "one\x9b31mtwo\x9d0;x\x07 del\x7f"
    out = _json({"title": title})
    assert not any(c in out for c in "\x9b\x9d\x07\x7f") and json.loads(out)["title"] == title
