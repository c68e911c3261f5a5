"""Every command in the README's "Use it" block, run as written from a fresh checkout's point of view (a temp
folder holding only `examples/`, a temp home), and the Python example under it. A command that exits non-zero,
prints a traceback, an `error:` or a library DEBUG/WARNING line fails the test. The commands that keep running
(`serve`, `slack`, `watch`) are started, checked for the line that says they work, and stopped; the Slack bot
talks to a stub Slack API on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.slow

README = ROOT / "README.md"
LIMIT = 300  # seconds any one command may take (bounded ones: to show that they work)


def _block(heading: str, lang: str) -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index(heading):]
    m = re.search(rf"```{lang}\n(.*?)```", section, re.S)
    assert m, f"no {lang} block under {heading!r}"
    return m.group(1)


def use_it_commands() -> list[str]:
    lines = [re.sub(r"\s+#\s.*$", "", line).strip() for line in _block("## Use it", "bash").splitlines()]
    lines = [line for line in lines if line]
    assert lines[0] == ". .venv/bin/activate"  # stands for the `newsrag` on PATH the test provides
    return lines[1:]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _SlackStub(BaseHTTPRequestHandler):
    """Slack's Web API as far as starting the bot needs: every method answers ok for one bot user."""

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"ok": True, "url": "https://stub.slack/", "team": "T", "user": "newsrag", "team_id": "T1",
                           "user_id": "U1", "bot_id": "B1", "bot_user_id": "U1"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def slack_api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlackStub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/"
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """A folder that looks like a fresh clone to the README's commands, a `newsrag` on PATH, a temp home."""
    root = tmp_path_factory.mktemp("readme")
    work = root / "clone"
    work.mkdir()
    (work / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
    bin_dir = root / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "newsrag"
    shim.write_text(f"#!/bin/sh\nexec {sys.executable} -m rag.frontends.cli \"$@\"\n", encoding="utf-8")
    shim.chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false", "HOME": str(root), "NEWSRAG_HOME": str(root / "home"),
           "NEWSRAG_OLLAMA_BASE_URL": "http://127.0.0.1:9"}  # `auto` must not find a stray Ollama here
    return work, env


def _clean(command: str, out: str, err: str) -> None:
    assert "Traceback" not in out + err, f"{command}\n{err[-3000:]}"
    bad = [line for line in err.splitlines() if re.match(r"(error:|DEBUG |WARNING |\S+Warning:)", line)]
    assert not bad, f"{command} printed: {bad}"


def _run(command: str, work: Path, env: dict[str, str], code: int = 0) -> subprocess.CompletedProcess:
    out = subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True, text=True,
                         timeout=LIMIT)
    assert out.returncode == code, f"{command} exited {out.returncode}\n{out.stderr[-3000:]}"
    _clean(command, out.stdout, out.stderr)
    return out


def _until(proc: subprocess.Popen, done, what: str, timeout: float = LIMIT) -> list[str]:
    """Collect the process's stdout lines (in a thread) until `done(text)` holds; the list keeps filling."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if done("".join(lines)):
            return lines
        if proc.poll() is not None and not reader.is_alive():
            break
        time.sleep(0.2)
    raise AssertionError(f"{what}: never said it was working; stdout: {''.join(lines)[-2000:]}")


def _bounded(command: str, work: Path, env: dict[str, str], done, stop=signal.SIGTERM) -> str:
    proc = subprocess.Popen(["bash", "-c", f"exec {command}" if "&&" not in command else command], cwd=work,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    lines: list[str] = []
    try:
        lines = _until(proc, done, command)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, stop)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    time.sleep(0.3)  # the reader thread takes the last lines
    text, err = "".join(lines), proc.stderr.read()
    _clean(command, text, "\n".join(line for line in err.splitlines() if not line.startswith("interrupted")))
    return text


def test_every_use_it_command_runs(checkout, slack_api):
    work, env = checkout
    commands = use_it_commands()
    assert len(commands) >= 10 and all(re.search(r"(^|&& )newsrag ", c) for c in commands), commands
    home = Path(env["NEWSRAG_HOME"])
    for command in commands:
        words = command.split()
        verb = words[words.index("newsrag") + 1]
        if verb == "serve":
            port = _free_port()
            text = _bounded(command, work, {**env, "GRADIO_SERVER_PORT": str(port)},
                            lambda t: "ready:" in t and (home / "serve.json").exists())
            assert f"http://127.0.0.1:{port}/" in text
            assert not (home / "serve.json").exists()  # removed when the server stopped
        elif verb == "slack":
            extra = {"SLACK_BOT_TOKEN": "xoxb-readme-test", "SLACK_SIGNING_SECRET": "readme-secret",
                     "NEWSRAG_SLACK_API_URL": slack_api, "NEWSRAG_SLACK_PORT": str(_free_port())}
            text = _bounded(command, work, {**env, **extra}, lambda t: "listening on http://127.0.0.1:" in t)
            assert f":{extra['NEWSRAG_SLACK_PORT']}/slack/events" in text
        elif verb == "watch":
            text = _bounded(command, work, env, lambda t: "nothing new" in t, stop=signal.SIGINT)
            assert "failed" not in text
        else:
            refusal = verb == "ask" and "World Cup" in command
            out = _run(command, work, env, code=3 if refusal else 0)  # README "Exit codes": 3 is a refusal
            if verb == "ingest" and "--json" in words:
                assert json.loads(out.stdout)["added"] == 3
            elif verb == "ask" and "--json" in words:
                answer = json.loads(out.stdout)
                assert answer["citations"] and not answer["refused"]
            elif refusal:  # a refusal is an answer
                assert "does not" in out.stdout.lower() or "closest passages" in out.stdout.lower()
            elif verb == "ask":
                assert "[1]" in out.stdout and "Sources:" in out.stdout
            elif verb == "remove":
                assert out.stdout.startswith("removed:")
            elif verb == "list":
                assert "Kim Kardashian Balenciaga" in out.stdout
            elif verb == "eval":
                assert "plain" in out.stdout


def test_the_python_example_runs(sample_home, tmp_path, monkeypatch):
    import shutil

    home = tmp_path / "home"
    shutil.copytree(sample_home, home)
    code = _block("From Python:", "python").replace('"./.newsrag"', repr(str(home)))
    script = tmp_path / "example.py"
    script.write_text(code + "\nprint('DONE')\n", encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "NEWSRAG_HOME": str(home),
           "NEWSRAG_LLM": "extractive"}
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=LIMIT)
    assert out.returncode == 0 and out.stdout.rstrip().endswith("DONE"), out.stderr[-3000:]
    assert "Traceback" not in out.stderr and "WARNING" not in out.stderr, out.stderr[-3000:]


def test_the_langchain_names_in_the_readme_import():
    text = README.read_text(encoding="utf-8")
    assert "from rag.answer.answerers.llm import LLMAnswerer" in text
    from rag.answer.answerers.llm import LLMAnswerer
    from rag.answer.retriever import as_langchain_retriever

    assert callable(LLMAnswerer.as_runnable) and callable(as_langchain_retriever)
