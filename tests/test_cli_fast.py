"""`newsrag ask` answers fast: without a server it imports only what an extractive answer needs (no torch,
sentence-transformers, gradio, LangChain chat models or Slack), and with a `newsrag serve` on the same home it
asks that server over 127.0.0.1 (same login) instead of loading anything. Plus its output: one pair of quote
marks per quote, and no library debug lines. Timings are in benchmarks/cli_bench.py, not here."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys

import numpy as np
import pytest

from .conftest import ROOT, SEED_QUESTION

# Modules whose import is most of a cold start, and that an extractive answer does not need.
HEAVY = ("torch", "transformers", "sentence_transformers", "gradio", "langchain_openai", "langchain_ollama",
         "slack_bolt", "slack_sdk", "sklearn")

# Runs `newsrag ARGS...` in this interpreter and reports, on the last line, which heavy modules it imported.
PROBE = ("import json, sys\n"
         "from rag.frontends.cli import main\n"
         "code = main(sys.argv[1:])\n"
         f"heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))\n"
         "print('\\nPROBE ' + json.dumps({'code': code, 'heavy': heavy, 'chromadb': 'chromadb' in sys.modules}))\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(home, **more) -> dict[str, str]:
    return {"NEWSRAG_HOME": str(home), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT),
            "NEWSRAG_OLLAMA_BASE_URL": "http://127.0.0.1:9", **more}


def _probe(args, env, timeout=300):
    out = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=timeout)
    head, _, tail = out.stdout.rpartition("\nPROBE ")
    assert tail, (out.stdout, out.stderr)
    return head, out.stderr, json.loads(tail)


@pytest.fixture
def home(sample_home, tmp_path):
    h = tmp_path / "home"
    shutil.copytree(sample_home, h)
    return h


def test_ask_without_a_server_imports_no_model_stack_and_prints_clean_output(home):
    shutil.rmtree(home / "keyword", ignore_errors=True)  # rebuilt on this ask: bm25s logs at DEBUG while it does
    out, err, probe = _probe(["ask", SEED_QUESTION], _env(home))
    assert probe["code"] == 0 and probe["heavy"] == [], (probe, err)
    assert probe["chromadb"]  # it did search the real store
    assert "[1]" in out and "Sources:" in out and "Kim Kardashian Balenciaga" in out
    quotes = [line.strip() for line in out.splitlines() if line.startswith("    ")]
    assert quotes and not [q for q in quotes if q.startswith(('""', '“"', '"“'))], quotes
    assert "DEBUG" not in err and "WARNING" not in err, err


def test_question_vectors_without_torch_match_sentence_transformers():
    from sentence_transformers import SentenceTransformer

    from rag.index.embedder import bundled_model_path
    from rag.index.minilm import NumpyBert, supports

    folder = bundled_model_path()
    assert supports(folder)
    texts = [SEED_QUESTION, "Who won?", "word " * 400, "Émile Zola’s “J’accuse” – 1898, $5 & 10%"]
    ours = NumpyBert(folder).encode(texts)
    theirs = SentenceTransformer(str(folder), device="cpu").encode(texts, normalize_embeddings=True)
    assert ours.dtype == np.float32 and ours.shape == theirs.shape
    assert np.abs(ours - theirs).max() < 1e-5


def test_other_model_folders_go_to_sentence_transformers(tmp_path):
    from rag.index.minilm import supports

    assert not supports(tmp_path)
    (tmp_path / "modules.json").write_text('[{"type": "sentence_transformers.models.Transformer"}]')
    assert not supports(tmp_path)


@pytest.fixture
def server(home):
    """The real web app on a free port over `home`, with a login, announced in HOME/serve.json."""
    from rag.answer.assistant import Assistant
    from rag.core.settings import Settings
    from rag.frontends.discovery import remove_server_file, write_server_file
    from rag.frontends.web.page import launch

    settings = Settings(home=home, llm="extractive", host="127.0.0.1", port=_free_port(), auth_user="ed",
                        auth_password="s3cret-pass")
    demo = launch(Assistant.from_settings(settings), settings, prevent_thread_lock=True, quiet=True)
    write_server_file(home, port=settings.port, login=True, instance=demo.instance_token)
    try:
        yield settings
    finally:
        remove_server_file(home)
        demo.close()


def test_ask_uses_the_running_server_with_the_same_login(server, home):
    env = _env(home, NEWSRAG_AUTH_USER="ed", NEWSRAG_AUTH_PASSWORD="s3cret-pass")
    out, err, probe = _probe(["ask", SEED_QUESTION, "--json"], env)
    assert probe["code"] == 0, err
    assert not probe["chromadb"] and probe["heavy"] == []  # the server searched, not this process
    answer = json.loads(out)
    assert answer["citations"] and not answer["refused"] and answer["answerer"] == "extractive"
    # the server's refusal of a bad question comes back as the CLI's error, not a local retry
    _, err, probe = _probe(["ask", "   "], env)
    assert probe["code"] == 2 and "question is empty" in err
    # a wrong login says what to fix
    _, err, probe = _probe(["ask", SEED_QUESTION], _env(home, NEWSRAG_AUTH_USER="ed", NEWSRAG_AUTH_PASSWORD="nope"))
    assert probe["code"] == 2 and "NEWSRAG_AUTH_PASSWORD" in err and "--no-server" in err
    # --no-server answers here
    out, err, probe = _probe(["ask", SEED_QUESTION, "--no-server"], env)
    assert probe["code"] == 0 and probe["chromadb"] and "[1]" in out


def test_a_stale_or_broken_server_file_is_ignored(home):
    from rag.frontends.discovery import read_server_file

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (home / "serve.json").write_text(json.dumps({"port": _free_port(), "pid": int(dead.stdout)}))
    assert read_server_file(home) is None
    out, err, probe = _probe(["ask", SEED_QUESTION], _env(home))
    assert probe["code"] == 0 and "[1]" in out, err
    # a live pid whose port answers nothing (a server that hung or is not newsrag): answered here
    (home / "serve.json").write_text(json.dumps({"port": _free_port(), "pid": os.getpid()}))
    assert read_server_file(home)["pid"] == os.getpid()
    out, err, probe = _probe(["ask", SEED_QUESTION], _env(home))
    assert probe["code"] == 0 and probe["chromadb"] and "[1]" in out, err
    (home / "serve.json").write_text("{not json")
    assert read_server_file(home) is None


def test_a_reused_pid_and_another_program_on_the_port_get_no_question_and_no_password(home):
    """Issue 27: `ask` trusted serve.json's port whenever its pid was alive; a reused pid and another program on
    the port got the login and the question. Now the server at the port must show the instance token the file
    holds before anything is sent; else the answer is made here."""
    import http.server
    import threading

    seen: list[str] = []

    class Impostor(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            seen.append("GET " + self.path)
            body = b'{"instance": "not-the-one"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):  # noqa: N802
            seen.append("POST " + self.path + " " + self.rfile.read(int(self.headers["Content-Length"] or 0)).decode())
            self.send_response(200)
            self.end_headers()

        def log_message(self, *a):
            pass

    impostor = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Impostor)
    threading.Thread(target=impostor.serve_forever, daemon=True).start()
    try:
        (home / "serve.json").write_text(json.dumps({"port": impostor.server_address[1], "pid": os.getpid(),
                                                     "root": "/", "login": True, "instance": "the-real-one"}))
        env = _env(home, NEWSRAG_AUTH_USER="ed", NEWSRAG_AUTH_PASSWORD="s3cret-pass")
        out, err, probe = _probe(["ask", SEED_QUESTION], env)
        assert probe["code"] == 0 and probe["chromadb"] and "[1]" in out, err  # answered here
        assert not [r for r in seen if r.startswith("POST")], seen  # no login, no question sent
        assert "s3cret-pass" not in " ".join(seen) and SEED_QUESTION not in " ".join(seen)
        # a file without an instance token (an older server, or a forged file) is not trusted either
        (home / "serve.json").write_text(json.dumps({"port": impostor.server_address[1], "pid": os.getpid()}))
        out, err, probe = _probe(["ask", SEED_QUESTION], env)
        assert probe["code"] == 0 and probe["chromadb"] and not [r for r in seen if r.startswith("POST")], seen
    finally:
        impostor.shutdown()


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="process start times come from /proc")
def test_a_pid_started_after_the_server_file_was_written_is_not_the_server(home):
    from rag.frontends.discovery import read_server_file

    (home / "serve.json").write_text(json.dumps({"port": _free_port(), "pid": os.getpid(), "instance": "x"}))
    assert read_server_file(home) is not None
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (home / "serve.json").write_text(json.dumps({"port": _free_port(), "pid": proc.pid, "instance": "x"}))
        os.utime(home / "serve.json", (1_000_000_000, 1_000_000_000))  # written long before that process began
        assert read_server_file(home) is None
    finally:
        proc.kill()
        proc.wait()


def test_quotes_are_printed_in_one_pair_of_marks():
    from rag.frontends.cli import _quoted

    assert _quoted('"I have been quiet," she tweeted.') == '"I have been quiet," she tweeted.'
    assert _quoted('"I appreciate the apology."') == '"I appreciate the apology."'
    assert _quoted("The council voted.") == "“The council voted.”"
    assert _quoted("x" * 400).endswith("…”") and len(_quoted("x" * 400)) == 303
