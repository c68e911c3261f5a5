"""The same ingest and ask against a real `chroma run` server on 127.0.0.1."""

from __future__ import annotations

import pytest

from ingest import Ingestor
from rag.answer.assistant import Assistant
from rag.core.errors import StoreError
from rag.core.settings import Settings

from .chroma_run import ChromaServer
from .conftest import SAMPLE, SEED_QUESTION
from .pg_server import _free_port


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    try:
        server = ChromaServer(tmp_path_factory.mktemp("chroma-server"))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield server.port
    server.close()


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
