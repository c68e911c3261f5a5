"""The plain RAG recipe, as a yardstick for newsrag's retrieval: each article body cut into 1,000-character
chunks with 200 characters of overlap by LangChain's RecursiveCharacterTextSplitter, the chunk text alone
embedded with the same model, dense top-k from a Chroma collection of its own. No cleaning, no title, no
keyword search, no fusion, no date handling.

Needs `langchain-text-splitters` (pure Python, no torch).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from rag.core.errors import SettingsError
from rag.core.schema import Passage
from rag.core.settings import Settings
from rag.index import open_vectors
from rag.index.embedder import Embedder

__all__ = ["PlainBaseline", "Chunk", "CHUNK_SIZE", "CHUNK_OVERLAP"]

CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200
_COLLECTION = "plain_baseline"


@dataclass(frozen=True)
class Chunk:
    id: str
    article_id: str
    url: str | None
    text: str


def _splitter():
    try:
        from langchain_text_splitters import RecursiveCharacterTextSplitter
    except ImportError:
        raise SettingsError("The plain baseline needs LangChain's text splitter: "
                            "`pip install langchain-text-splitters` (no torch needed).") from None
    return RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)


def chunk_articles(articles: Sequence[dict[str, Any]]) -> list[Chunk]:
    """Every article body as recursive character chunks; ids are '{line}:{n}'."""
    splitter = _splitter()
    out: list[Chunk] = []
    for i, a in enumerate(articles):
        body = a.get("body") or a.get("text") or ""
        aid = str(a.get("id") or f"line{i + 1}")
        for n, text in enumerate(splitter.split_text(body)):
            out.append(Chunk(f"{i}:{n}", aid, a.get("url"), text))  # the line number: ids may repeat
    return out


class PlainBaseline:
    """Build (or reuse) the plain index under `home`, then `retrieve(question, k)` -> chunks, best first.

    The index lives in a sub-folder named after the articles' fingerprint and the recipe, so a second run on
    the same data (with `--store`) reuses it instead of embedding everything again.
    """

    def __init__(self, home: Path, embedder: Embedder) -> None:
        self.home = Path(home)
        self.embedder = embedder
        self.store = None  # the vector store of its own, once built
        self.chunks: dict[str, Chunk] = {}
        self.build_info: dict[str, Any] = {}

    def recipe(self) -> dict[str, Any]:
        return {"splitter": "langchain RecursiveCharacterTextSplitter", "chunk_size": CHUNK_SIZE,
                "chunk_overlap": CHUNK_OVERLAP, "embedded_text": "chunk only (no title)",
                "model": self.embedder.name, "search": "dense cosine top-k (Chroma)"}

    def build(self, articles: Sequence[dict[str, Any]], *, fingerprint: str = "",
              progress: Callable[[int], None] | None = None) -> dict[str, Any]:
        """Chunk and embed the articles, unless an index of the same articles with this recipe is there."""
        started = time.perf_counter()
        chunks = chunk_articles(articles)
        self.chunks = {c.id: c for c in chunks}
        key = hashlib.sha1(json.dumps([fingerprint, self.recipe(), len(chunks)]).encode()).hexdigest()[:16]
        folder = self.home / key
        done = folder / "plain-baseline.json"
        reused = done.exists()
        if not reused:
            if self.home.exists():
                for old in self.home.iterdir():  # indexes of other data or recipes
                    shutil.rmtree(old, ignore_errors=True)
        self.store = open_vectors(Settings(home=folder, collection=_COLLECTION))
        embed_seconds = 0.0
        if reused and self.store.count() != len(chunks):
            raise SettingsError(f"The plain baseline index in {folder} is incomplete: delete that folder.")
        if not reused:
            for lo in range(0, len(chunks), 256):
                part = chunks[lo:lo + 256]
                t = time.perf_counter()
                vectors = self.embedder.embed([c.text for c in part])
                embed_seconds += time.perf_counter() - t
                self.store.upsert([c.id for c in part], [_passage(c, n) for n, c in enumerate(part)], vectors)
                if progress:
                    progress(len(part))
            done.write_text(json.dumps({"chunks": len(chunks), "recipe": self.recipe()}))
        self.build_info = {"chunks": len(chunks), "reused": reused, "seconds": round(time.perf_counter() - started, 2),
                           "embed_seconds": round(embed_seconds, 2)}
        return self.build_info

    def retrieve(self, question: str, k: int = 10) -> list[Chunk]:
        """The k chunks nearest to the question, best first."""
        if self.store is None:
            raise RuntimeError("build() first")
        hits = self.store.query(self.embedder.embed_one(question), k)
        return [self.chunks[h.passage_id] for h in hits if h.passage_id in self.chunks]


def _passage(c: Chunk, n: int) -> Passage:
    return Passage(id=c.id, article_id=c.article_id, index=n, start=0, end=len(c.text), text=c.text, title="",
                   source=None, published_at=None, url=c.url)
