"""Which catalog a process uses: PostgreSQL when NEWSRAG_CATALOG_URL is set, else SQLite under NEWSRAG_HOME.
Only this package knows which one is in use; both fill base.CatalogBackend and the Index's reads."""

from __future__ import annotations

from ..settings import Settings

__all__ = ["open_catalog"]


def open_catalog(settings: Settings):
    if settings.catalog_url:
        from .pg_catalog import PgCatalog

        return PgCatalog(settings.catalog_url)
    from .sqlite_catalog import SqliteCatalog

    return SqliteCatalog(settings.home)
