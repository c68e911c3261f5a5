"""newsrag: cited answers from ingested news coverage.

The names below load on first use (PEP 562), so `import rag.embedder` or `import rag.settings` does not
pull in Chroma and LangChain: app.py starts loading the embedding model before anything else."""

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
