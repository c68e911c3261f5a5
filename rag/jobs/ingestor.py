"""The Ingestor for a ready Assistant: it writes into the assistant's own index (same catalog, vectors and
embedding model), so what it adds is answered at once. Front ends and `newsrag eval` build it here; the
answering side (rag/answer) never imports ingest."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingest import Ingestor
    from rag.answer.assistant import Assistant

__all__ = ["ingestor_for"]


def ingestor_for(assistant: "Assistant") -> "Ingestor":
    """An Ingestor writing into this assistant's index."""
    from ingest import Ingestor

    return Ingestor(assistant.settings, index=assistant.index, embedder=assistant.retriever.embedder)
