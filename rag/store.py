"""Chroma: an embedded persistent client under NEWSRAG_HOME, or a Chroma server when NEWSRAG_CHROMA_HOST is set.

This is the only module that imports chromadb. Vectors live here; the article catalog (rag.catalog) says
which articles are complete, so a passage of a half-written article is never shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .errors import StoreError
from .schema import Passage
from .settings import Settings

__all__ = ["VectorStore", "DenseHit"]


@dataclass
class DenseHit:
    passage_id: str
    article_id: str
    similarity: float  # cosine
    day: int = -1  # days since 1970-01-01 of the article's date, -1 when unknown


class VectorStore:
    def __init__(self, settings: Settings) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        try:
            if settings.chroma_host:
                self._client = chromadb.HttpClient(
                    host=settings.chroma_host, port=int(settings.chroma_port), settings=chroma_settings
                )
                self._client.heartbeat()
                self.where = f"chroma server {settings.chroma_host}:{settings.chroma_port}"
            else:
                path = settings.home / "chroma"
                path.mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
                self.where = str(path)
            self._col = self._client.get_or_create_collection(
                settings.collection, embedding_function=None, metadata={"hnsw:space": "cosine"}
            )
        except StoreError:
            raise
        except Exception as exc:  # chromadb raises many types; the user needs the setting to check
            hint = ("check NEWSRAG_CHROMA_HOST/NEWSRAG_CHROMA_PORT and that `chroma run` is serving there"
                    if settings.chroma_host else f"check that NEWSRAG_HOME ({settings.home}) is writable")
            raise StoreError(f"Could not open the Chroma store: {exc}. {hint}.") from exc

    def count(self) -> int:
        return self._col.count()

    def upsert(self, passages: Sequence[Passage], vectors: np.ndarray, extra: Sequence[dict] | None = None) -> None:
        if not passages:
            return
        metas = []
        for i, p in enumerate(passages):
            meta: dict[str, Any] = {
                "article_id": p.article_id, "index": p.index, "start": p.start, "end": p.end,
                "title": p.title, "source": p.source or "", "published_at": p.published_at or "",
                "day": _day_number(p.published_at), "url": p.url or "",
            }
            if extra:
                meta.update(extra[i])
            metas.append(meta)
        for lo in range(0, len(passages), 1000):
            hi = lo + 1000
            self._col.upsert(
                ids=[p.id for p in passages[lo:hi]], embeddings=vectors[lo:hi],
                documents=[p.text for p in passages[lo:hi]], metadatas=metas[lo:hi],
            )

    def delete_article(self, article_id: str, keep_below: int = 0) -> None:
        """Remove an article's passages (those with index >= keep_below: the stale tail after an update)."""
        where: dict[str, Any] = {"article_id": article_id}
        if keep_below:
            where = {"$and": [where, {"index": {"$gte": keep_below}}]}
        self._col.delete(where=where)

    def query(self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[DenseHit]:
        # No count() first: it costs ~20 ms at 100k passages, and Chroma returns fewer hits when it has fewer.
        try:
            res = self._col.query(query_embeddings=[vector], n_results=k, where=where or None,
                                  include=["metadatas", "distances"])
        except Exception:  # a backend that refuses k > count: ask again within the count
            n = self.count()
            if n == 0:
                return []
            res = self._col.query(query_embeddings=[vector], n_results=min(k, n), where=where or None,
                                  include=["metadatas", "distances"])
        out = []
        for pid, meta, dist in zip(res["ids"][0], res["metadatas"][0], res["distances"][0]):
            out.append(DenseHit(pid, str(meta["article_id"]), 1.0 - float(dist), int(meta.get("day", -1))))
        return out

    def warm(self) -> None:
        """Have Chroma load its vector index now (it does so on the first query: seconds at 100k passages)."""
        res = self._col.get(limit=1, include=["embeddings"])
        if res["ids"]:
            self._col.query(query_embeddings=[res["embeddings"][0]], n_results=1, include=[])

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        res = self._col.get(ids=list(ids), include=["embeddings"])
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(res["ids"], res["embeddings"])}

    def article_ids(self) -> set[str]:
        res = self._col.get(include=["metadatas"])
        return {str(m["article_id"]) for m in res["metadatas"]}


def _day_number(iso: str | None) -> int:
    """Days since 1970-01-01 for date-range filters inside Chroma; -1 when the date is unknown."""
    if not iso:
        return -1
    from datetime import date

    try:
        return date.fromisoformat(iso[:10]).toordinal() - date(1970, 1, 1).toordinal()
    except ValueError:
        return -1
