"""newsrag: cited answers from ingested news coverage.

The names below load on first use (PEP 562), so importing one submodule (`rag.core.settings`, `rag.index.embedder`)
does not pull in Chroma and LangChain as well."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__all__ = ["ask", "Assistant", "Answer", "Citation", "Hit", "Settings", "NewsragError"]

_WHERE = {"ask": "answer.assistant", "Assistant": "answer.assistant", "NewsragError": "core.errors",
          "Answer": "core.schema", "Citation": "core.schema", "Hit": "core.schema", "Settings": "core.settings"}

if TYPE_CHECKING:
    from rag.answer.assistant import Assistant, ask
    from rag.core.errors import NewsragError
    from rag.core.schema import Answer, Citation, Hit
    from rag.core.settings import Settings


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'rag' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
