"""Storage behind one door: the Index owns the catalog (SQLite), the vectors (Chroma) and the keyword index
(SQLite FTS5). Nothing outside this package imports sqlite3, chromadb or bm25s."""

from .catalogs import open_catalog
from .index import Index
from .sqlite_catalog import ArticleRow, Staged, day_number

__all__ = ["Index", "ArticleRow", "Staged", "day_number", "open_vectors", "open_catalog"]


def open_vectors(settings, *, home=None, collection: str | None = None):
    """A bare vector store (no catalog): for a yardstick index of its own, like the plain baseline's."""
    from .vectors import ChromaVectors

    return ChromaVectors(settings, home=home, collection=collection)
