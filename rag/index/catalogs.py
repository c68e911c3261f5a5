"""Which catalog a process uses: PostgreSQL when NEWSRAG_CATALOG_URL is set, else SQLite under NEWSRAG_HOME.
Only this package knows which one is in use; both fill base.CatalogBackend and the Index's reads."""

from __future__ import annotations

from rag.core.settings import Settings

__all__ = ["open_catalog"]


def open_catalog(settings: Settings):
    if settings.catalog_url:
        from rag.index.pg.catalog import PgCatalog

        return PgCatalog(settings.catalog_url)
    from rag.index.sqlite_catalog import SqliteCatalog

    return SqliteCatalog(settings.home)
