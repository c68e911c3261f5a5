"""The vector store: Chroma, embedded under NEWSRAG_HOME or a Chroma server (NEWSRAG_CHROMA_HOST).

This is the only module that imports chromadb. It holds vectors by vector id (a passage version); which ids are
live is the catalog's business. An embedded Chroma keeps its vector index in the memory of each process, so a
reader whose catalog moved on because another process wrote calls `reopen()` to load what is on disk now.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..errors import StoreError
from ..schema import Passage
from ..settings import Settings
from .sqlite_catalog import day_number

__all__ = ["ChromaVectors", "DenseHit"]

_BATCH = 5000  # Chroma's largest batch here is 5,461


@dataclass
class DenseHit:
    passage_id: str
    article_id: str
    similarity: float  # cosine
    day: int = -1  # days since 1970-01-01 of the article's date, -1 when unknown
    vid: str = ""  # the vector id (a passage version)


class ChromaVectors:
    def __init__(self, settings: Settings, *, home=None, collection: str | None = None) -> None:
        self.settings = settings
        self._home = home or settings.home
        self._name = collection or settings.collection
        self._lock = threading.RLock()
        self.shared = bool(settings.chroma_host)  # a server: every process sees the same index already
        self._open()

    def _open(self) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        s = self.settings
        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        try:
            if s.chroma_host:
                self._client = chromadb.HttpClient(host=s.chroma_host, port=int(s.chroma_port),
                                                   settings=chroma_settings)
                self._client.heartbeat()
                self.where = f"chroma server {s.chroma_host}:{s.chroma_port}"
            else:
                path = self._home / "chroma"
                path.mkdir(parents=True, exist_ok=True)
                _forget_shared_system(str(path))  # a system cached in this process may predate others' writes
                self._client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
                self.where = str(path)
            self._col = self._client.get_or_create_collection(self._name, embedding_function=None,
                                                              metadata={"hnsw:space": "cosine"})
        except StoreError:
            raise
        except Exception as exc:  # chromadb raises many types; the user needs the setting to check
            hint = ("check NEWSRAG_CHROMA_HOST/NEWSRAG_CHROMA_PORT and that `chroma run` is serving there"
                    if s.chroma_host else f"check that NEWSRAG_HOME ({self._home}) is writable")
            raise StoreError(f"Could not open the Chroma store: {exc}. {hint}.") from exc

    def reopen(self) -> None:
        """Load the embedded store afresh (another process wrote to it); a server needs nothing."""
        if self.shared:
            return
        with self._lock:
            # Not close(): Chroma's close stops whichever system is cached for the path, perhaps another
            # instance's. The old client is dropped; a query still running on it finishes on the old copy.
            self._open()

    def count(self) -> int:
        with self._lock:
            return self._col.count()

    def upsert(self, vids: Sequence[str], passages: Sequence[Passage], vectors: np.ndarray,
               gen: int = 0) -> None:
        if not passages:
            return
        # Only what a query filters on or returns: the text, title and url live in the catalog. Storing them
        # here too (Chroma indexes documents for its own full-text search) made a write 2.6x slower.
        metas: list[dict[str, Any]] = [{"article_id": p.article_id, "source": p.source or "",
                                        "day": day_number(p.published_at)} for p in passages]
        with self._lock:
            for lo in range(0, len(passages), _BATCH):
                hi = lo + _BATCH
                self._col.upsert(ids=list(vids[lo:hi]), embeddings=vectors[lo:hi], metadatas=metas[lo:hi])

    def delete(self, vids: Sequence[str]) -> None:
        with self._lock:
            for lo in range(0, len(vids), _BATCH):
                self._col.delete(ids=list(vids[lo:lo + _BATCH]))

    def query(self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[DenseHit]:
        # No count() first: it costs ~20 ms at 100k passages, and Chroma returns fewer hits when it has fewer.
        with self._lock:
            col = self._col
        try:
            res = col.query(query_embeddings=[vector], n_results=k, where=where or None,
                            include=["metadatas", "distances"])
        except Exception:  # a backend that refuses k > count: ask again within the count
            n = col.count()
            if n == 0:
                return []
            res = col.query(query_embeddings=[vector], n_results=min(k, n), where=where or None,
                            include=["metadatas", "distances"])
        out = []
        for vid, meta, dist in zip(res["ids"][0], res["metadatas"][0], res["distances"][0]):
            if meta is None:  # a vector deleted under this query
                continue
            out.append(DenseHit(vid.split("@")[0], str(meta["article_id"]), 1.0 - float(dist),
                                int(meta.get("day", -1)), vid))
        return out

    def warm(self) -> None:
        """Have Chroma load its vector index now (it does so on the first query: seconds at 100k passages)."""
        with self._lock:
            res = self._col.get(limit=1, include=["embeddings"])
            if res["ids"]:
                self._col.query(query_embeddings=[res["embeddings"][0]], n_results=1, include=[])

    def vectors(self, vids: Sequence[str]) -> dict[str, np.ndarray]:
        if not vids:
            return {}
        with self._lock:
            res = self._col.get(ids=list(vids), include=["embeddings"])
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(res["ids"], res["embeddings"])}

    def ids(self) -> set[str]:
        """Every vector id (for checks and tests: a full scan)."""
        out: set[str] = set()
        offset = 0
        with self._lock:
            while True:
                res = self._col.get(include=[], limit=10000, offset=offset)
                if not res["ids"]:
                    return out
                out.update(res["ids"])
                offset += len(res["ids"])


def _forget_shared_system(path: str) -> None:
    """Chroma shares one system (with its in-memory vector index) per path in a process; drop ours from that
    cache so the next client loads what is on disk now. Clients still holding the old one keep it."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient._identifier_to_system.pop(path, None)
    SharedSystemClient._identifier_to_refcount.pop(path, None)
