"""Shared fixtures: every test gets its own NEWSRAG_HOME and a clean NEWSRAG_* environment."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from .pg_server import pg_server, pg_url  # noqa: F401 - a real PostgreSQL for the catalog tests (tests/pg_server.py)

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "news"
SHARED = ROOT.parent / "shared"
SEED_QUESTION = "What did Kardashian say about Balenciaga?"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    for key in list(os.environ):
        if key.startswith("NEWSRAG_") or key.startswith("SLACK_") or key in ("GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT"):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("NEWSRAG_HOME", str(tmp_path / "home"))
    # auto must not find a stray Ollama on this machine: point it at a closed port.
    monkeypatch.setenv("NEWSRAG_OLLAMA_BASE_URL", "http://127.0.0.1:9")
    yield


@pytest.fixture(scope="session")
def sample_home(tmp_path_factory) -> Path:
    """A store with the bundled sample ingested once per session; copy it before writing to it."""
    from ingest import Ingestor
    from rag.core.settings import Settings

    home = tmp_path_factory.mktemp("sample") / "home"
    report = Ingestor(Settings(home=home)).ingest([str(SAMPLE)])
    assert report.counts()["added"] == 1, report.to_dict()
    return home


@pytest.fixture
def sample_settings(sample_home, tmp_path):
    """Settings over a private copy of the sample store (extractive answers)."""
    from rag.core.settings import Settings

    home = tmp_path / "sample-copy"
    shutil.copytree(sample_home, home)
    return Settings(home=home, llm="extractive")


@pytest.fixture
def handlers(sample_home, tmp_path):
    """The web page's handlers over a private copy of the sample store (fetching from 127.0.0.1 allowed, for the
    test servers); its ingest worker stopped after the test."""
    from rag.answer.assistant import Assistant
    from rag.core.settings import Settings
    from rag.frontends.web.page import _Handlers

    home = tmp_path / "home"
    shutil.copytree(sample_home, home)
    h = _Handlers(Assistant.from_settings(Settings(home=home, llm="extractive", fetch_allow="127.0.0.1")), None)
    try:
        yield h
    finally:
        h.jobs.shutdown(30)


@pytest.fixture
def sample_assistant(sample_settings):
    from rag.answer.assistant import Assistant

    return Assistant.from_settings(sample_settings)


# -- the suite leaves the work tree as it found it (tests/test_clean_tree.py) --------------------------------
def pytest_sessionstart(session):
    from .clean_tree import tree_state

    session.config._newsrag_tree = tree_state(ROOT)
    if _fast_tier(session.config):
        _forbid_models()


# -- the fast tier (`make test-fast`, `-m fast`): modules marked `fast` load no model -------------------------
def _fast_tier(config) -> bool:
    return (config.getoption("markexpr", "") or "").strip() == "fast and not model" \
        or os.environ.get("NEWSRAG_TEST_FAST") == "1"


def _forbid_models() -> None:
    """In the fast tier, loading the embedding model fails the test that asks for it (so the tier stays fast)."""
    from rag.index.embedder import Embedder

    def refuse(self, *args, **kwargs):
        raise RuntimeError("the fast tier loads no model: this test's module is marked `fast` but needs the "
                           "embedding model (use tests/fake_embedder.py, or drop the mark)")

    Embedder._load = refuse
    Embedder._light_encoder = refuse


def pytest_sessionfinish(session, exitstatus):
    from .clean_tree import describe_change, tree_state

    before = getattr(session.config, "_newsrag_tree", None)
    after = tree_state(ROOT) if before is not None else None
    if before is None or after is None:
        return
    changed = describe_change(before, after)
    if changed:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = ("The test run changed the work tree (tests must write to temp folders):\n  "
                   + "\n  ".join(changed))
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_line(message, red=True)
        else:  # pragma: no cover
            print(message)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def ingested_home(root: Path, records, **settings) -> Path:
    """A NEWSRAG_HOME under `root` holding these article records (dicts as a JSONL line each), every one added."""
    import json

    from ingest import Ingestor
    from rag.core.settings import Settings

    records = list(records)
    path = root / "articles.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    home = root / "home"
    report = Ingestor(Settings(home=home, **settings)).ingest([str(path)])
    assert report.counts()["added"] == len(records), report.to_dict()
    return home


@contextlib.contextmanager
def served(settings):
    """The web chat for `settings`, served on its port until the block ends: demo, url, assistant, settings."""
    from rag.answer.assistant import Assistant
    from rag.frontends.web.page import launch

    assistant = Assistant.from_settings(settings)
    demo = launch(assistant, settings, prevent_thread_lock=True, quiet=True)
    try:
        yield SimpleNamespace(demo=demo, url=demo.local_url, assistant=assistant, settings=settings)
    finally:
        demo.close()
