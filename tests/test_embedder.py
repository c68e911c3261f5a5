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
