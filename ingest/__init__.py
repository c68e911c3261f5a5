"""Turn files, folders, feeds and URLs into clean, citable passages in Chroma."""

from .pipeline import Ingestor, IngestReport

__all__ = ["Ingestor", "IngestReport", "ingest"]


def ingest(*targets: str, settings=None) -> IngestReport:
    """Ingest paths or URLs into the store in NEWSRAG_HOME (or `settings.home`)."""
    from rag.core.settings import Settings

    return Ingestor(settings or Settings.from_env()).ingest(list(targets))
