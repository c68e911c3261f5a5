"""load -> clean -> dedup -> chunk -> embed -> store, with progress and a per-input report.

Storage is the Index's (rag.index): a batch of new article versions is staged beside the live ones, embedded,
and made live in one step, so an ingest killed at any point leaves the old or the new version answerable; the next
ingest drops whatever was left staged.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterable

import numpy as np

from rag.attribution.quote_index import index_quotes
from rag.core.errors import NewsragError
from rag.core.links import safe_url
from rag.core.schema import Article, LoadFailure, Passage, RawArticle
from rag.core.settings import Settings
from rag.index import Index, Staged
from rag.index.bands import BANDS_FROM
from rag.index.embedder import Embedder

from .chunking import chunk_article
from .cleaning import clean
from .decoding import LoadWarning
from .dedup import NearDuplicates, content_hash, signature
from .fetching import FetchPolicy
from .loaders import iter_inputs
from .metadata import describe

__all__ = ["Ingestor", "IngestReport"]

_BATCH_PASSAGES = 256


@dataclass
class IngestReport:
    added: list[dict] = field(default_factory=list)
    updated: list[dict] = field(default_factory=list)
    unchanged: list[dict] = field(default_factory=list)
    duplicates: list[dict] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)  # read, but degraded: a guessed encoding, a flat fallback
    passages: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    quotes_refreshed: int = 0  # stored articles whose quotes this run derived again (an older extractor's store)

    @property
    def ok(self) -> bool:
        return not self.failed

    def counts(self) -> dict[str, int]:
        return {k: len(getattr(self, k)) for k in ("added", "updated", "unchanged", "duplicates", "failed")}

    def to_dict(self) -> dict:
        return {**self.counts(), "warnings": len(self.warnings), "passages": self.passages,
                "seconds": round(self.seconds, 3), "embed_seconds": round(self.embed_seconds, 3),
                "items": {k: getattr(self, k)
                          for k in ("added", "updated", "unchanged", "duplicates", "failed", "warnings")}}

    def summary_line(self) -> str:
        c = self.counts()
        return (f"added {c['added']}, updated {c['updated']}, unchanged {c['unchanged']}, "
                f"duplicates {c['duplicates']}, failed {c['failed']}"
                + (f", warnings {len(self.warnings)}" if self.warnings else "")
                + f" ({self.passages} passage{'' if self.passages == 1 else 's'}, {self.seconds:.1f}s)"
                + (f"; quotes of {self.quotes_refreshed} stored articles derived again" if self.quotes_refreshed
                   else ""))


class Ingestor:
    """Owns the write path. Batches are written one at a time per store (the Index's writer lock); reading,
    cleaning and embedding run beside other writers."""

    def __init__(self, settings: Settings, *, index: Index | None = None, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.index = index or Index(settings)
        self._embedder = embedder
        self._kinds: dict[str, str] = {}  # article id -> "added" | "updated", for the report
        self._embed_progress: Callable[[int, int], None] | None = None

    @property
    def catalog(self) -> Index:
        """The index, under the name callers used for the catalog's reads."""
        return self.index

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            s = self.settings
            self._embedder = Embedder.shared(s.embedding_model, s.embed_batch_size, s.embedding_cache,
                                             s.embedding_cache_max_mb * 1_000_000)
        return self._embedder

    # -- public ----------------------------------------------------------------------------------------------
    def ingest(self, targets: Iterable[str], *, progress: Callable[[int, str], None] | None = None,
               fetch: Callable | None = None,
               embed_progress: Callable[[int, int], None] | None = None) -> IngestReport:
        """Ingest files, folders, feeds and URLs. `progress(n_done, label)` is called after each input and
        `embed_progress(done, total)` after each batch of passages embedded. URLs are fetched under the
        settings' FetchPolicy (or by `fetch(url) -> (bytes, content_type)`). Interrupted (KeyboardInterrupt,
        SIGTERM turned into one by the CLI), it removes what it had begun and raises."""
        started = time.perf_counter()
        report = IngestReport()
        self._embed_progress = embed_progress
        # The writer lock is held per batch write only (Index.write, _flush), not for the whole run: reading,
        # cleaning and embedding run beside other writers (another worker, `watch`, the web chat), and each batch
        # is checked again under the lock against what they stored meanwhile.
        self.repair()
        threshold = self.settings.near_duplicate_threshold
        if threshold >= BANDS_FROM:  # a stored story is read only when it shares a MinHash band
            near = NearDuplicates([], np.zeros((0, 0), dtype=np.uint32), threshold,
                                  lookup=self.index.near_candidates)
        else:
            near = NearDuplicates(*self.index.signatures(), threshold)
        batch: list[Staged] = []
        try:
            self._run(iter_inputs(targets, policy=FetchPolicy.from_settings(self.settings), fetch=fetch),
                      near, batch, report, progress)
        except BaseException:
            self.repair()  # nothing half-written stays: what was staged and not made live goes
            raise
        # an older extractor's store: a few seconds of its quote refresh, after this run's own articles
        report.quotes_refreshed = self.index_quotes(seconds=self.settings.quote_refresh_seconds)
        report.seconds = time.perf_counter() - started
        return report

    def _run(self, items: Iterable, near: NearDuplicates, batch: list, report: IngestReport,
             progress: Callable[[int, str], None] | None) -> None:
        n = 0
        for item in items:
            if isinstance(item, LoadWarning):
                report.warnings.append({"origin": item.origin, "reason": item.reason})
                continue
            n += 1
            if isinstance(item, LoadFailure):
                report.failed.append({"origin": item.origin, "reason": item.reason})
            else:
                try:
                    if any(b.article.id == _article_id(item) for b in batch):
                        self._flush(batch, report)
                    self._one(item, near, batch, report)
                except NewsragError as exc:
                    report.failed.append({"origin": item.origin, "reason": str(exc)})
                if sum(len(b.passages) for b in batch) >= _BATCH_PASSAGES:
                    self._flush(batch, report)
            if progress:
                progress(n, getattr(item, "origin", ""))
        self._flush(batch, report)

    def remove(self, id_or_url: str) -> Article | None:
        """Remove one article (by id or url) and its passages; its recorded duplicates go with it."""
        with self.index.writing():
            row = self.index.get(id_or_url) or self.index.find(url=id_or_url)
            if row is None:
                return None
            self.index.remove([row.article.id])
            return row.article

    def index_quotes(self, seconds: float | None = None, batch: int = 200,
                     stop: Callable[[], bool] | None = None) -> int:
        """Bring the quote index up to this extractor (a store indexed by an older one, or before the index
        existed), `batch` articles per transaction, for at most `seconds` (None: until done) or until `stop()`;
        returns how many articles were done. Each batch takes the writer lock on its own, so other writers
        interleave, and the old quotes answer until a batch replaces them."""
        done, deadline = 0, None if seconds is None else time.monotonic() + seconds
        while not (stop and stop()) and (deadline is None or time.monotonic() < deadline):
            n = self.index.refresh_quotes(batch)
            if not n:
                break
            done += n
        return done

    def repair(self) -> list[str]:
        """Drop what a killed ingest left staged (never visible: the live versions stay as they were)."""
        return self.index.repair()

    # -- steps -----------------------------------------------------------------------------------------------
    def _one(self, raw: RawArticle, near: NearDuplicates, batch: list, report: IngestReport) -> None:
        cleaned = clean(raw)
        if len(cleaned.text.split()) < 5:
            report.failed.append({"origin": raw.origin, "reason": "empty article: no text left after cleaning"})
            return
        meta = describe(raw, cleaned)
        article = Article(
            id=_article_id(raw), title=cleaned.title or "(untitled)", text=cleaned.text,
            source=meta.source, url=safe_url(raw.url), published_at=meta.published_at,
            author=meta.author, credited_source=meta.credited_source,
            ingested_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            content_hash=content_hash(cleaned.title, cleaned.text), origin=raw.origin,
            updated_at=meta.updated_at, date_source=meta.date_source,
        )
        entry = {"id": article.id, "title": article.title, "origin": raw.origin}
        existing = self.index.get(article.id)
        if existing and _same(existing.article, article):
            report.unchanged.append(entry)
            return
        if existing is None:
            same = self.index.find(url=article.url, content_hash=article.content_hash)
            # the same text at another URL stays unchanged; at this URL, new dates or credits make an update
            if same and same.article.content_hash == article.content_hash and (
                    same.article.url != article.url or _same(same.article, article)):
                report.unchanged.append({**entry, "id": same.article.id})
                return
            if same:  # the same url with new text: an update of that article
                article = _with_id(article, same.article.id)
                existing = same
        sig = signature(article.text)
        if existing is None or existing.duplicate_of:
            dup_of = near.match(sig)
            if dup_of:  # staged with the batch: made live with its original, never pointing at a missing one
                first = next((b.article for b in batch if b.article.id == dup_of), None)
                if first is None:
                    row = self.index.get(dup_of)
                    first = row.article if row else None
                batch.append(Staged(article, duplicate_of=dup_of))
                report.duplicates.append({**entry, "duplicate_of": dup_of,
                                          "of_title": first.title if first else dup_of, "source": article.source})
                return
        passages = chunk_article(article, min_words=self.settings.chunk_min_words,
                                 max_words=self.settings.chunk_max_words,
                                 overlap=self.settings.chunk_overlap_sentences)
        if existing and not existing.duplicate_of:
            near.remove(article.id)
        near.add(article.id, sig)
        batch.append(Staged(article, passages, sig.tobytes() if sig is not None else None,
                            quotes=index_quotes(article.id, article.text)))  # live and retired with the article
        self._kinds[article.id] = "updated" if existing else "added"

    def _flush(self, batch: list[Staged], report: IngestReport) -> None:
        if not batch:
            return

        def embed(passages: list[Passage]) -> np.ndarray:
            t = time.perf_counter()
            texts = [f"{p.title}\n{p.text}" for p in passages]
            # Embedded shortest first, so each slice pads its texts to about the same length (in the batch's
            # order, a slice pads every text to its longest one), then put back in the passages' order.
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
            slices = []  # in slices, so a long article shows progress (and an interrupt lands between slices)
            step = max(16, self.settings.embed_batch_size)
            for start in range(0, len(texts), step):
                slices.append(self.embedder.embed([texts[i] for i in order[start:start + step]]))
                if self._embed_progress is not None:
                    self._embed_progress(min(start + step, len(texts)), len(texts))
            report.embed_seconds += time.perf_counter() - t
            if not slices:
                return np.zeros((0, 0), dtype=np.float32)
            stacked = np.concatenate(slices)
            vectors = np.empty_like(stacked)
            vectors[order] = stacked  # row i of `stacked` is passage order[i]'s
            return vectors

        vectors = embed([p for s in batch for p in s.passages])  # outside the writer lock: writers embed side by side
        with self.index.writing():
            kept, kept_vectors = self._still_to_write(batch, vectors, report)
            if kept:
                self.index.write(kept, vectors=kept_vectors)  # staged, vectors in, made live in one step
        for s in kept:
            if s.duplicate_of is None:
                getattr(report, self._kinds.pop(s.article.id, "added")).append(
                    {"id": s.article.id, "title": s.article.title, "origin": s.article.origin,
                     "passages": len(s.passages)})
                report.passages += len(s.passages)
        batch.clear()

    def _still_to_write(self, batch: list[Staged], vectors: np.ndarray, report: IngestReport):
        """Under the writer lock: the batch less what another writer stored meanwhile (the same version, or the
        same text or url under another id: reported unchanged), with their vectors' rows."""
        kept, rows, start, ids = [], [], 0, set()
        for s in batch:
            a, n = s.article, len(s.passages)
            span, start = range(start, start + n), start + n
            if s.duplicate_of is None:
                live = self.index.get(a.id)
                same = live is not None and _same(live.article, a)
                if live is None and self._kinds.get(a.id) == "added":
                    other = self.index.find(url=a.url, content_hash=a.content_hash)
                    same = other is not None and other.article.content_hash == a.content_hash
                if same:
                    self._kinds.pop(a.id, None)
                    report.unchanged.append({"id": a.id, "title": a.title, "origin": a.origin})
                    continue
                if live is not None and self._kinds.get(a.id) == "added":
                    self._kinds[a.id] = "updated"  # another writer added another version meanwhile
            elif s.duplicate_of not in ids and self.index.get(s.duplicate_of) is None:
                continue  # its original was removed meanwhile: nothing to point at
            kept.append(s)
            ids.add(a.id)
            rows.extend(span)
        if not kept or vectors is None or not len(vectors):
            return kept, None
        return kept, vectors[rows] if rows else None


def _article_id(raw: RawArticle) -> str:
    if raw.record_id and re.fullmatch(r"[A-Za-z0-9_.\-]{1,80}", raw.record_id):
        return raw.record_id
    key = raw.record_id or raw.url or raw.origin or raw.body
    return "a" + hashlib.sha1(key.encode()).hexdigest()[:15]


def _with_id(article: Article, new_id: str) -> Article:
    from dataclasses import replace

    return replace(article, id=new_id)


# What an unchanged article keeps: its text and what is known of it (a store ingested before articles were
# dated gets its dates on the next ingest of the same input).
_KEPT = ("content_hash", "published_at", "updated_at", "date_source", "source", "author", "credited_source")


def _same(old: Article, new: Article) -> bool:
    return all(getattr(old, k) == getattr(new, k) for k in _KEPT)
