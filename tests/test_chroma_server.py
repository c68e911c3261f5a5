"""The same ingest and ask against a real `chroma run` server on 127.0.0.1."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ingest import Ingestor
from rag.answer.assistant import Assistant
from rag.core.errors import StoreError
from rag.core.settings import Settings

from .conftest import SAMPLE, SEED_QUESTION


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = _free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen([exe, "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail("chroma run exited early")
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("chroma run did not answer within 60 s")
    yield port
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_ingest_and_ask_through_a_chroma_server(chroma_server, tmp_path):
    settings = Settings(home=tmp_path / "h", chroma_host="127.0.0.1", chroma_port=chroma_server, llm="extractive",
                        collection="server_test")
    report = Ingestor(settings).ingest([str(SAMPLE)])
    assert report.counts()["added"] == 1
    assert Ingestor(settings).ingest([str(SAMPLE)]).counts()["unchanged"] == 1
    answer = Assistant.from_settings(settings).ask(SEED_QUESTION)
    assert not answer.refused and answer.citations
    assert all(c.quote in c.passage for c in answer.citations)


def test_unreachable_server_says_which_setting_to_check(tmp_path):
    settings = Settings(home=tmp_path / "h", chroma_host="127.0.0.1", chroma_port=_free_port())
    with pytest.raises(StoreError, match="NEWSRAG_CHROMA_HOST"):
        Ingestor(settings)
