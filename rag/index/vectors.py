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

from rag.core.errors import StoreError
from rag.core.schema import Passage
from rag.core.settings import Settings
from rag.index.sqlite_catalog import day_number

__all__ = ["ChromaVectors", "DenseHit"]

_BATCH = 5000  # Chroma's largest batch here is 5,461


@dataclass
class DenseHit:
    passage_id: str
    article_id: str
    similarity: float  # cosine
    day: int = -1  # days since 1970-01-01 of the article's date, -1 when unknown
    vid: str = ""  # the vector id (a passage version)


class _Tier:
    """One Chroma collection: embedded under a folder, or on a Chroma server."""

    def __init__(self, settings: Settings, name: str, path) -> None:
        self.settings, self.name, self.path = settings, name, path
        self.col: Any = None

    def open(self) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        s = self.settings
        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        try:
            if s.chroma_host:
                client = chromadb.HttpClient(host=s.chroma_host, port=int(s.chroma_port), settings=chroma_settings)
                client.heartbeat()
            else:
                self.path.mkdir(parents=True, exist_ok=True)
                _forget_shared_system(str(self.path))  # a system cached in this process may predate others' writes
                client = chromadb.PersistentClient(path=str(self.path), settings=chroma_settings)
            self.col = client.get_or_create_collection(self.name, embedding_function=None,
                                                       metadata={"hnsw:space": "cosine"})
        except StoreError:
            raise
        except Exception as exc:  # chromadb raises many types; the user needs the setting to check
            hint = ("check NEWSRAG_CHROMA_HOST/NEWSRAG_CHROMA_PORT and that `chroma run` is serving there"
                    if s.chroma_host else f"check that NEWSRAG_HOME ({self.path.parent}) is writable")
            raise StoreError(f"Could not open the Chroma store: {exc}. {hint}.") from exc

    def upsert(self, vids: Sequence[str], vectors: np.ndarray, metas: list[dict[str, Any]]) -> None:
        for lo in range(0, len(vids), _BATCH):
            hi = lo + _BATCH
            self.col.upsert(ids=list(vids[lo:hi]), embeddings=vectors[lo:hi], metadatas=metas[lo:hi])

    def delete(self, vids: Sequence[str]) -> None:
        for lo in range(0, len(vids), _BATCH):
            self.col.delete(ids=list(vids[lo:lo + _BATCH]))

    def present(self, vids: Sequence[str]) -> set[str]:
        out: set[str] = set()
        for lo in range(0, len(vids), _BATCH):
            out.update(self.col.get(ids=list(vids[lo:lo + _BATCH]), include=[])["ids"])
        return out

    def query(self, vector: np.ndarray, k: int, where: dict[str, Any] | None) -> list[DenseHit]:
        """The k nearest vectors passing `where`. Chroma filters a large collection slowly (seconds at 1M
        vectors), so an unfiltered query for WIDEN x k is tried first and filtered here; only when fewer than k
        of those pass does Chroma filter. Either way the result is the k nearest that pass."""
        if where:
            wide = self._query(vector, WIDEN * k, None)
            passed = [h for h, meta in wide if _matches(meta, where)]
            if len(passed) >= k or len(wide) < WIDEN * k:  # enough, or the whole collection was read
                return passed[:k]
        return [h for h, _ in self._query(vector, k, where)]

    def _query(self, vector: np.ndarray, k: int, where: dict[str, Any] | None) -> list[tuple[DenseHit, dict]]:
        col = self.col
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
            out.append((DenseHit(vid.split("@")[0], str(meta["article_id"]), 1.0 - float(dist),
                                 int(meta.get("day", -1)), vid), meta))
        return out

    def get(self, vids: Sequence[str]) -> dict[str, np.ndarray]:
        if not vids:
            return {}
        res = self.col.get(ids=list(vids), include=["embeddings"])
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(res["ids"], res["embeddings"])}

    def page(self, offset: int, limit: int, include: list[str]) -> dict:
        return self.col.get(include=include, limit=limit, offset=offset)

    def ids(self) -> set[str]:
        out: set[str] = set()
        offset = 0
        while True:
            res = self.page(offset, 10000, [])
            if not res["ids"]:
                return out
            out.update(res["ids"])
            offset += len(res["ids"])

    def warm(self) -> None:
        res = self.col.get(limit=1, include=["embeddings"])
        if res["ids"]:
            self.col.query(query_embeddings=[res["embeddings"][0]], n_results=1, include=[])


# Embedded, new vectors go to a small "fresh" collection beside the main one (its own folder, so its own Chroma
# system): a writer adds an article without loading the main vector index (at 1M passages that load was 23 of
# the 25 s an add took), and a reader that sees another process's write reloads only the fresh index. Once the
# fresh index holds FRESH_MAX vectors, the writer moves them into the main one (compact()). Deleting vectors that
# live in the main index waits for that too when the main index is past EAGER_MAIN vectors (loading it would cost
# seconds); until then they stay there, never returned (the catalog says which vectors are live).
WIDEN = 3  # a filtered dense search first reads this many times k unfiltered neighbours (see _Tier.query)
FRESH_MAX = 20_000
EAGER_MAIN = 50_000
_MAIN_MARK = "newsrag-main-version"  # in the main folder: bumped whenever the main index is written


class ChromaVectors:
    def __init__(self, settings: Settings, *, home=None, collection: str | None = None) -> None:
        self.settings = settings
        self._home = home or settings.home
        self._name = collection or settings.collection
        self._lock = threading.RLock()
        self.shared = bool(settings.chroma_host)  # a server: every process sees the same index already
        self._main = _Tier(settings, self._name, self._home / "chroma")
        self._fresh = None if self.shared else _Tier(settings, self._name, self._home / "chroma-fresh")
        self._main_mark: str | None = None
        self._fresh_empty: bool | None = None
        if self.shared:
            self._open_main()
        else:
            self._fresh.open()
        self.where = (f"chroma server {settings.chroma_host}:{settings.chroma_port}" if self.shared
                      else str(self._main.path))

    # -- the main index is opened when first needed: a writer adding an article never needs it ------------------
    @property
    def _main_open(self) -> bool:
        return self._main.col is not None

    def _open_main(self) -> _Tier:
        with self._lock:
            if not self._main_open:
                self._main_mark = self._read_mark()
                self._main.open()
            return self._main

    def _read_mark(self) -> str:
        try:
            return (self._main.path / _MAIN_MARK).read_text()
        except OSError:
            return ""

    def _bump_mark(self) -> None:
        self._main.path.mkdir(parents=True, exist_ok=True)
        mark = self._main.path / _MAIN_MARK
        tmp = mark.with_suffix(".tmp")
        tmp.write_text(str(int(self._read_mark() or 0) + 1))
        tmp.replace(mark)
        self._main_mark = self._read_mark()

    def reopen(self) -> None:
        """Load the embedded store afresh (another process wrote to it); a server needs nothing. The main index
        is reloaded only when it was written (a compaction, a deletion), and dropped before it is loaded again so
        that two copies are never held at once."""
        if self.shared:
            return
        with self._lock:
            # Not close(): Chroma's close stops whichever system is cached for the path, perhaps another
            # instance's. The old client is dropped; a query still running on it finishes on the old copy.
            self._fresh.open()
            self._fresh_empty = None
            if self._main_open and self._read_mark() != self._main_mark:
                self._main.col = None  # loaded again when next needed

    def _fresh_is_empty(self) -> bool:
        """Whether the fresh index holds nothing (asked once per reopen or write, not per query: an empty
        collection's query costs a refusal and a count)."""
        if self._fresh_empty is None:
            self._fresh_empty = self._fresh.col.count() == 0
        return self._fresh_empty

    def _tiers(self) -> list[_Tier]:
        return [self._open_main()] + ([self._fresh] if self._fresh else [])

    def count(self) -> int:
        with self._lock:
            return sum(t.col.count() for t in self._tiers())

    def upsert(self, vids: Sequence[str], passages: Sequence[Passage], vectors: np.ndarray,
               gen: int = 0) -> None:
        if not passages:
            return
        # Only what a query filters on or returns: the text, title and url live in the catalog. Storing them
        # here too (Chroma indexes documents for its own full-text search) made a write 2.6x slower.
        metas: list[dict[str, Any]] = [{"article_id": p.article_id, "source": p.source or "",
                                        "day": day_number(p.published_at)} for p in passages]
        with self._lock:
            (self._fresh or self._open_main()).upsert(vids, vectors, metas)
            self._fresh_empty = None

    def delete(self, vids: Sequence[str]) -> list[str]:
        """Delete vectors; returns those left for the next compaction (in a large embedded main index)."""
        vids = list(vids)
        if not vids:
            return []
        with self._lock:
            if self._fresh is None:
                self._main.delete(vids)
                return []
            here = self._fresh.present(vids)
            self._fresh.delete([v for v in vids if v in here])
            self._fresh_empty = None
            rest = [v for v in vids if v not in here]
            if not rest:
                return []
            main = self._open_main()
            if main.col.count() > EAGER_MAIN:
                return rest
            main.delete(rest)
            self._bump_mark()
            return []

    def due(self) -> bool:
        """Whether the fresh index is full enough to move into the main one."""
        with self._lock:
            return self._fresh is not None and self._fresh.col.count() >= FRESH_MAX

    def compact(self, deleted: Sequence[str] = ()) -> int:
        """Move the fresh vectors into the main index and delete `deleted` from it (vectors the catalog no longer
        holds); returns how many moved. Killed part way, a vector may be in both for a while (queries keep one
        copy), never in neither: it leaves the fresh index only after the main index has it."""
        if self._fresh is None:
            return 0
        with self._lock:
            main = self._open_main()
            if deleted:
                main.delete(list(deleted))
                self._bump_mark()
            moved = 0
            while True:
                res = self._fresh.page(0, _BATCH, ["embeddings", "metadatas"])
                if not res["ids"]:
                    break
                main.upsert(res["ids"], np.asarray(res["embeddings"], dtype=np.float32), list(res["metadatas"]))
                self._bump_mark()
                self._fresh.delete(res["ids"])
                self._fresh_empty = None
                moved += len(res["ids"])
            return moved

    def query(self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[DenseHit]:
        # No count() first: it costs ~20 ms at 100k passages, and Chroma returns fewer hits when it has fewer.
        with self._lock:
            tiers = [t for t in self._tiers() if t is not self._fresh or not self._fresh_is_empty()]
        best: dict[str, DenseHit] = {}
        for tier in tiers:
            for hit in tier.query(vector, k, where):
                if hit.vid not in best or hit.similarity > best[hit.vid].similarity:
                    best[hit.vid] = hit  # a vector in both during a compaction counts once
        return sorted(best.values(), key=lambda h: -h.similarity)[:k]

    def warm(self) -> None:
        """Have Chroma load its vector index now (it does so on the first query: seconds at 100k passages)."""
        with self._lock:
            for tier in self._tiers():
                tier.warm()

    def vectors(self, vids: Sequence[str]) -> dict[str, np.ndarray]:
        if not vids:
            return {}
        with self._lock:
            got = self._fresh.get(vids) if self._fresh else {}
            missing = [v for v in vids if v not in got]
            if missing:
                got.update(self._open_main().get(missing))
        return got

    def ids(self) -> set[str]:
        """Every vector id (for checks and tests: a full scan)."""
        with self._lock:
            return set().union(*(t.ids() for t in self._tiers()))


def _matches(meta: dict[str, Any], where: dict[str, Any]) -> bool:
    """Whether metadata passes a filter written in Chroma's syntax, the part the retriever writes: $and, and
    $lte / $gte / $in / $eq on one field."""
    if "$and" in where:
        return all(_matches(meta, w) for w in where["$and"])
    for field, cond in where.items():
        value = meta.get(field)
        if not isinstance(cond, dict):
            cond = {"$eq": cond}
        for op, arg in cond.items():
            if op == "$eq" and value != arg or op == "$in" and value not in arg:
                return False
            if op in ("$lte", "$gte") and (value is None or (value > arg if op == "$lte" else value < arg)):
                return False
            if op not in ("$eq", "$in", "$lte", "$gte"):
                raise ValueError(f"unsupported filter {op}")
    return True


def _forget_shared_system(path: str) -> None:
    """Chroma shares one system (with its in-memory vector index) per path in a process; drop ours from that
    cache so the next client loads what is on disk now. Clients still holding the old one keep it."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient._identifier_to_system.pop(path, None)
    SharedSystemClient._identifier_to_refcount.pop(path, None)
