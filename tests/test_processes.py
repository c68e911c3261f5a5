"""Real processes sharing one NEWSRAG_HOME: `newsrag serve` keeps answering, without a restart and without errors,
from what `newsrag watch` and two concurrent `newsrag ingest` add and what `newsrag remove` takes away, while
several `newsrag ask` run; the same with vectors on a `chroma run` server. Real model, real CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import ROOT, SAMPLE
from .test_chroma_server import _free_port, chroma_server  # noqa: F401 - the fixture

pytestmark = pytest.mark.slow

_STORIES = {
    "watch": ("Lighthouse keeper retires after forty years on Gull Rock",
              "Marta Velez, the last resident keeper of the Gull Rock lighthouse, retired on Friday after forty "
              "years of tending its lamp. The coast guard said the light will now run automatically."),
    "one": ("Orchard cooperative buys cider press for village growers",
            "Growers in the Alder Valley cooperative bought a hydraulic cider press on Monday, so members can press "
            "apples without hauling them to the city. The press cost eighteen thousand dollars."),
    "two": ("Glassblowers open studio in the old tram depot",
            "Three glassblowers opened a shared studio in the disused tram depot on Harbour Street, with two "
            "furnaces and a gallery. Classes in glass bead making start in the spring."),
}


def _write(folder: Path, key: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    title, lead = _STORIES[key]
    body = " ".join([lead] * 4)
    path = folder / f"{key}.txt"
    path.write_text(f"{title}\n{body}\n", encoding="utf-8")
    return path


def _env(home: Path, extra: dict | None = None) -> dict:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false", "NEWSRAG_HOME": str(home), "NEWSRAG_LLM": "extractive",
            "NEWSRAG_OLLAMA_BASE_URL": "http://127.0.0.1:9", **(extra or {})}


def _cli(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "rag.frontends.cli", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _done(proc: subprocess.Popen, timeout: float = 300) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode in (0, 1, 3), err[-3000:]  # 1: an ingest lists a failed input (none here); 3: refused
    return out


def _server_titles(url: str, question: str) -> list[str]:
    from gradio_client import Client

    answer = Client(url, verbose=False).predict(question, api_name="/ask")
    return [h["passage"]["title"] for h in answer["passages"]]


def _until(predicate, seconds: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.25)
    raise AssertionError(f"not within {seconds} s")


def _scenario(home: Path, env: dict, tmp: Path) -> None:
    port = _free_port()
    server = _cli(env, "serve", "--port", str(port))
    url = f"http://127.0.0.1:{port}/"
    try:
        _until(lambda: _answers_http(url), 180)
        question = {"watch": "Who retired from the Gull Rock lighthouse?",
                    "one": "What did the Alder Valley cooperative buy?",
                    "two": "Where did the glassblowers open their studio?"}
        assert _STORIES["one"][0] not in _server_titles(url, question["one"])
        watch = _cli(env, "watch", "--every", "1s", "--rounds", "3", str(_write(tmp / "feed", "watch").parent))
        ingests = [_cli(env, "ingest", "--quiet", str(_write(tmp / k, k))) for k in ("one", "two")]
        for proc in [*ingests, watch]:
            _done(proc)
        finished = time.monotonic()
        for key, q in question.items():  # the running server sees all three, without a restart
            _until(lambda: _STORIES[key][0] in _server_titles(url, q), 5)
        assert time.monotonic() - finished < 15  # each within 5 s of polling; three answers' time on a loaded machine
        asks = [_cli(env, "ask", "--json", q) for q in question.values()]
        for key, proc in zip(question, asks):
            answer = json.loads(_done(proc))
            assert _STORIES[key][0] in [h["passage"]["title"] for h in answer["passages"]]
        listed = json.loads(_done(_cli(env, "list", "--json")))
        titles = [r["title"] for r in listed]
        assert len(titles) == len(set(titles)) == 4  # the sample and three new, each once
        one = next(r["id"] for r in listed if r["title"] == _STORIES["one"][0])
        _done(_cli(env, "remove", one))
        _until(lambda: _STORIES["one"][0] not in _server_titles(url, question["one"]), 10)
        assert _STORIES["two"][0] in _server_titles(url, question["two"])
        assert server.poll() is None
    finally:
        server.terminate()
        try:
            _, err = server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            _, err = server.communicate()
    assert "Traceback" not in err and "InternalError" not in err, err[-3000:]


def _answers_http(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status < 500
    except OSError:
        return False


def test_serve_watch_two_ingests_and_asks_share_one_home(sample_home, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(sample_home, home)
    _scenario(home, _env(home), tmp_path)


def test_the_same_with_vectors_on_a_chroma_server(chroma_server, tmp_path):  # noqa: F811
    home = tmp_path / "home"
    env = _env(home, {"NEWSRAG_CHROMA_HOST": "127.0.0.1", "NEWSRAG_CHROMA_PORT": str(chroma_server),
                      "NEWSRAG_COLLECTION": "processes_test"})
    _done(_cli(env, "ingest", "--quiet", str(SAMPLE)))
    _scenario(home, env, tmp_path)
