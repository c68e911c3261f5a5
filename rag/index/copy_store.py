"""`newsrag migrate --to postgresql://… --chroma HOST:PORT`: copy a store (the embedded one under NEWSRAG_HOME,
or any other) into a PostgreSQL catalog and a Chroma server, without embedding anything again.

Articles are copied in batches through the target Index's own staged write (articles, passages, quotes,
signatures and the stored vectors together), originals before the duplicates that point at them, so the target
is whole after every batch and a copy stopped part way can be run again: articles already there with the same
content are skipped. The source is only read.
"""

from __future__ import annotations

from typing import Callable

from rag.core.errors import StoreError
from rag.core.settings import Settings
from rag.index.index import Index
from rag.index.sqlite_catalog import Staged

__all__ = ["copy_store"]

_BATCH = 200  # articles per staged write


def copy_store(source: Settings, target: Settings, *, progress: Callable[[int, int], None] | None = None) -> dict:
    """Copy every live article of `source` into `target`; returns counts (copied, skipped, passages)."""
    if source.catalog_url and source.catalog_url == target.catalog_url and source.chroma_host == target.chroma_host:
        raise StoreError("The source and the target are the same store: give another --to or --chroma.")
    src, dst = Index(source), Index(target)
    try:
        rows = src.articles()
        rows.sort(key=lambda r: r.duplicate_of is not None)  # originals first: a duplicate never points at nothing
        done = {"copied": 0, "skipped": 0, "passages": 0}
        for lo in range(0, len(rows), _BATCH):
            batch = [r for r in rows[lo:lo + _BATCH] if not _already(dst, r)]
            done["skipped"] += min(_BATCH, len(rows) - lo) - len(batch)
            if batch:
                done["passages"] += _copy(src, dst, batch)
                done["copied"] += len(batch)
            if progress:
                progress(min(lo + _BATCH, len(rows)), len(rows))
        if src.quotes_indexed() and not dst.quotes_indexed():
            dst.put_quotes({})  # the quotes came with their articles: stamp the target's quote index current
        return done
    finally:
        src.close()
        dst.close()


def _already(dst: Index, row) -> bool:
    have = dst.get(row.article.id)
    return have is not None and have.article.content_hash == row.article.content_hash


def _copy(src: Index, dst: Index, rows) -> int:
    import numpy as np

    sigs = src.catalog.signatures_of([r.article.id for r in rows])
    items, passages = [], []
    for r in rows:
        if r.duplicate_of:
            items.append(Staged(r.article, duplicate_of=r.duplicate_of))
            continue
        ps = src.passages_by_id(src.passage_ids(r.article.id))
        ordered = [ps[i] for i in src.passage_ids(r.article.id) if i in ps]
        items.append(Staged(r.article, ordered, sigs.get(r.article.id), quotes=src.quotes(r.article.id)))
        passages += ordered
    vectors = src.passage_vectors([p.id for p in passages])
    missing = [p.id for p in passages if p.id not in vectors]
    if missing:
        raise StoreError(f"The source store has no vectors for {len(missing)} passages (first: {missing[0]}): run "
                         "`newsrag ingest` on it once to repair it, then migrate again.")
    dst.write(items, vectors=np.stack([vectors[p.id] for p in passages]) if passages else None)
    return len(passages)
