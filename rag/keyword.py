"""The BM25 keyword index (bm25s), persisted beside Chroma and rebuilt whenever the catalog has moved on."""

from __future__ import annotations

import json
import logging
import shutil
import threading
from pathlib import Path

import numpy as np

from .catalog import Catalog

__all__ = ["KeywordIndex"]

logging.getLogger("bm25s").setLevel(logging.WARNING)


def _stemmer():
    try:
        import Stemmer

        return Stemmer.Stemmer("english")
    except ImportError:  # PyStemmer is a dependency; without it BM25 still works on whole words
        return None


class KeywordIndex:
    def __init__(self, home: Path, catalog: Catalog) -> None:
        self.dir = home / "keyword"
        self.catalog = catalog
        self._lock = threading.Lock()
        self._stem = _stemmer()
        self._version = -1
        self._bm25 = None
        self.ids: list[str] = []
        self.article_ids: list[str] = []
        self.sources: np.ndarray = np.array([], dtype=object)
        self.days: np.ndarray = np.array([], dtype=np.int64)

    def ensure(self) -> None:
        """Load the saved index, or rebuild it if the catalog changed since it was saved."""
        version = self.catalog.version()
        if version == self._version:
            return
        with self._lock:
            if version == self._version:
                return
            if not self._load(version):
                self._rebuild(version)

    def _tokenize(self, texts: list[str]):
        import bm25s

        return bm25s.tokenize(texts, stopwords="en", stemmer=self._stem, show_progress=False)

    def _rebuild(self, version: int) -> None:
        import bm25s

        from .store import _day_number

        passages = self.catalog.passages()
        self.ids = [p.id for p in passages]
        self.article_ids = [p.article_id for p in passages]
        self.sources = np.array([p.source or "" for p in passages], dtype=object)
        self.days = np.array([_day_number(p.published_at) for p in passages], dtype=np.int64)
        self._bm25 = None
        if passages:
            bm25 = bm25s.BM25()
            bm25.index(self._tokenize([f"{p.title}\n{p.text}" for p in passages]), show_progress=False)
            self._bm25 = bm25
        tmp = self.dir.with_name("keyword.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self._bm25 is not None:
            self._bm25.save(str(tmp / "bm25"), show_progress=False)
        meta = {"version": version, "ids": self.ids, "article_ids": self.article_ids,
                "sources": self.sources.tolist(), "days": self.days.tolist()}
        (tmp / "meta.json").write_text(json.dumps(meta))
        shutil.rmtree(self.dir, ignore_errors=True)
        tmp.rename(self.dir)  # the saved index is swapped whole, never half-written
        self._version = version

    def _load(self, version: int) -> bool:
        meta_path = self.dir / "meta.json"
        if not meta_path.exists():
            return False
        try:
            meta = json.loads(meta_path.read_text())
            if meta.get("version") != version:
                return False
            import bm25s

            self._bm25 = bm25s.BM25.load(str(self.dir / "bm25"), show_progress=False) if meta["ids"] else None
        except Exception:  # a damaged index is rebuilt from the catalog, the source of truth
            return False
        self.ids, self.article_ids = meta["ids"], meta["article_ids"]
        self.sources = np.array(meta["sources"], dtype=object)
        self.days = np.array(meta["days"], dtype=np.int64)
        self._version = version
        return True

    def mask(self, sources: list[str] | None, since_day: int | None, until_day: int | None) -> np.ndarray | None:
        if not sources and since_day is None and until_day is None:
            return None
        m = np.ones(len(self.ids), dtype=bool)
        if sources:
            m &= np.isin(self.sources, list(sources))
        if since_day is not None:
            m &= self.days >= since_day
        if until_day is not None:
            m &= (self.days <= until_day) & (self.days >= 0)
        return m

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        self.ensure()
        if self._bm25 is None or not self.ids:
            return []
        tokens = self._tokenize([query])
        vocab_inv = {v: t for t, v in tokens.vocab.items()}
        words = [vocab_inv[i] for i in tokens.ids[0]]
        if not words:
            return []
        scores = self._bm25.get_scores(words, weight_mask=mask.astype(np.float32) if mask is not None else None)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]
