"""Storage behind one door: the Index owns the catalog (SQLite), the vectors (Chroma) and the keyword index
(SQLite FTS5). Nothing outside this package imports sqlite3, chromadb or bm25s."""

from rag.index.catalogs import open_catalog
from rag.index.index import Index
from rag.index.sqlite_catalog import ArticleRow, Staged, day_number

__all__ = ["Index", "ArticleRow", "Staged", "day_number", "open_vectors", "open_catalog"]


def open_vectors(settings, *, home=None, collection: str | None = None):
    """A bare vector store (no catalog): for a yardstick index of its own, like the plain baseline's."""
    from rag.index.vectors import ChromaVectors

    return ChromaVectors(settings, home=home, collection=collection)
