"""The embedding model loads lazily (so a server listens first) and a broken model folder says what to fix."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from rag.index.embedder import Embedder
from tests.conftest import ROOT, SEED_QUESTION

_OPEN_THEN_ASK = """
import json, sys
from rag.answer.assistant import Assistant
from rag.core.settings import Settings
a = Assistant.from_settings(Settings(home=sys.argv[1], llm="extractive"))
before = "torch" in sys.modules
threads = a.warm_up()
answer = a.ask(sys.argv[2])  # waits for the background load
for t in threads:
    t.join(60)
print(json.dumps({"torch_before": before, "loaded": a.retriever.embedder.loaded,
                  "keyword_ready": bool(a.index.keyword("Kardashian Balenciaga", 1)),
                  "refused": answer.refused, "cited": len(answer.citations)}))
"""


def test_opening_a_store_does_not_load_the_model_and_the_first_question_waits_for_it(sample_home):
    out = subprocess.run([sys.executable, "-c", _OPEN_THEN_ASK, str(sample_home), SEED_QUESTION], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"torch_before": False, "loaded": True, "keyword_ready": True, "refused": False,
                      "cited": result["cited"]}
    assert result["cited"] >= 1


def test_a_folder_that_is_not_a_model_fails_on_first_use_naming_the_setting(tmp_path):
    from rag.core.errors import SettingsError
    from rag.index.embedder import Embedder

    folder = tmp_path / "not-a-model"
    folder.mkdir()
    (folder / "README.txt").write_text("no weights here")
    emb = Embedder(str(folder))  # the folder exists: accepted until it is loaded
    thread = emb.preload()
    thread.join(120)
    for _ in range(2):  # the error is kept, not retried into a half-loaded model
        with pytest.raises(SettingsError, match="NEWSRAG_EMBEDDING_MODEL"):
            emb.embed(["a sentence"])
    assert not emb.loaded


def test_a_missing_model_folder_is_refused_at_once(tmp_path):
    from rag.core.errors import SettingsError
    from rag.index.embedder import Embedder

    with pytest.raises(SettingsError, match="cannot be downloaded offline"):
        Embedder(str(tmp_path / "nowhere"))


@pytest.mark.slow
def test_vector_cache_returns_the_same_vectors_and_skips_the_model(tmp_path):
    cached = Embedder("bundled", 8, tmp_path / "cache")
    first = cached.embed(["The council voted 7-2 on Tuesday.", "A second sentence."])
    again = Embedder("bundled", 8, tmp_path / "cache")  # a new process would start like this: no model loaded
    second = again.embed(["The council voted 7-2 on Tuesday.", "A second sentence."])
    assert not again.loaded  # every vector came from the cache
    assert np.allclose(first, second)
    mixed = again.embed(["A second sentence.", "Something new."])
    assert again.loaded and np.allclose(mixed[0], first[1])


def _fake_encode(texts):
    rng = np.random.default_rng(abs(hash(tuple(texts))) % 2**32)
    v = rng.standard_normal((len(texts), 384)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_questions_are_never_written_to_the_vector_cache(tmp_path, monkeypatch):
    """Issue 27: with NEWSRAG_EMBEDDING_CACHE set every user question was written to disk. A question's vector
    (embed_one, what retrieval asks) stays in memory; passages (ingest batches) are cached, by hash."""
    cache = tmp_path / "cache"
    e = Embedder("bundled", 8, cache)
    monkeypatch.setattr(e, "_encode", _fake_encode)
    question = "What did the mayor say about the secret harbour plan?"
    first = e.embed_one(question)
    assert np.allclose(e.embed_one(question), first)  # repeated questions still skip the encoder
    assert not cache.exists() or not [p for p in cache.rglob("*") if p.is_file()]
    e.embed(["A passage of an article.", "Another passage."])
    files = [p for p in cache.rglob("*") if p.is_file()]
    assert len(files) == 2 and not any(b"passage" in p.read_bytes() or "passage" in p.name for p in files)


def test_the_vector_cache_is_bounded_and_evicts_the_oldest(tmp_path, monkeypatch):
    import os

    cache = tmp_path / "cache"
    e = Embedder("bundled", 8, cache, cache_max_bytes=40_000)
    monkeypatch.setattr(e, "_encode", _fake_encode)
    for n in range(60):
        e.embed([f"Passage number {n} of the corpus."])
        path = e._cached_path(f"Passage number {n} of the corpus.")
        if path.exists():  # the write order in mtimes even on a coarse clock
            os.utime(path, (1_000_000 + n, 1_000_000 + n))
    sizes = [p.stat().st_size for p in cache.rglob("*.npy")]
    assert sum(sizes) <= 40_000 and len(sizes) >= 10
    assert e._cached_path("Passage number 59 of the corpus.").exists()  # the newest stay
    assert not e._cached_path("Passage number 0 of the corpus.").exists()  # the oldest went
    assert not list(cache.rglob("*.tmp"))
