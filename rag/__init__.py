"""newsrag: cited answers from ingested news coverage.

The names below load on first use (PEP 562), so importing one submodule (`rag.settings`, `rag.embedder`)
does not pull in Chroma and LangChain as well."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__all__ = ["ask", "Assistant", "Answer", "Citation", "Hit", "Settings", "NewsragError"]

_WHERE = {"ask": "assistant", "Assistant": "assistant", "NewsragError": "errors", "Answer": "schema",
          "Citation": "schema", "Hit": "schema", "Settings": "settings"}

if TYPE_CHECKING:
    from .assistant import Assistant, ask
    from .errors import NewsragError
    from .schema import Answer, Citation, Hit
    from .settings import Settings


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'rag' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
