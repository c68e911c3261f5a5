"""Near-duplicate detection: MinHash over word 5-shingles, so the same wire story on two sites is stored once."""

from __future__ import annotations

import hashlib

import numpy as np

from rag.nlp.sentences import words

__all__ = ["signature", "NearDuplicates", "content_hash"]

_PERMS = 64
_PRIME = np.uint64((1 << 61) - 1)
_rng = np.random.default_rng(20221128)
_A = _rng.integers(1, (1 << 31) - 1, size=_PERMS, dtype=np.uint64)
_B = _rng.integers(0, (1 << 31) - 1, size=_PERMS, dtype=np.uint64)


def content_hash(title: str, text: str) -> str:
    return hashlib.sha256((" ".join(title.split()) + "\n" + " ".join(text.split())).encode()).hexdigest()


def signature(text: str, k: int = 5) -> np.ndarray | None:
    """A 64-value MinHash signature, or None for texts too short to judge (under 30 words)."""
    toks = words(text)
    if len(toks) < 30:
        return None
    shingles = {" ".join(toks[i:i + k]) for i in range(len(toks) - k + 1)}
    hashes = np.fromiter(
        (int.from_bytes(hashlib.blake2b(s.encode(), digest_size=4).digest(), "little") for s in shingles),
        dtype=np.uint64, count=len(shingles),
    )
    mixed = (np.outer(hashes, _A) + _B) % _PRIME
    return (mixed.min(axis=0) & np.uint64(0xFFFFFFFF)).astype(np.uint32)


class NearDuplicates:
    """The signatures of stored stories; `match` names the first one a new text copies.

    Given `lookup(signature) -> (ids, signatures)` (the catalog's band table: only stories sharing a MinHash band),
    stored signatures are read for each new story, a few at a time; otherwise `ids`/`sigs` are every stored story's.
    Stories added during this run are kept here until the run ends (they may not be committed yet)."""

    def __init__(self, ids: list[str], sigs: np.ndarray, threshold: float, lookup=None) -> None:
        self.ids = list(ids)
        self.sigs = sigs if len(ids) else np.zeros((0, _PERMS), dtype=np.uint32)
        self.threshold = threshold
        self.lookup = lookup
        self._gone: set[str] = set()  # stored stories replaced during this run (their stored signature is old)

    def match(self, sig: np.ndarray | None) -> str | None:
        if sig is None:
            return None
        ids, sigs = self.ids, self.sigs
        if self.lookup is not None:
            stored, stored_sigs = self.lookup(sig)
            here = set(self.ids)
            keep = [i for i, a in enumerate(stored) if a not in self._gone and a not in here]
            if keep:
                ids = [stored[i] for i in keep] + ids
                sigs = np.vstack([stored_sigs[keep], sigs])
        if not ids:
            return None
        sim = (sigs == sig).mean(axis=1)
        best = int(sim.argmax())
        return ids[best] if sim[best] >= self.threshold else None

    def add(self, article_id: str, sig: np.ndarray | None) -> None:
        if sig is not None:
            self.ids.append(article_id)
            self.sigs = np.vstack([self.sigs, sig[None, :]])

    def remove(self, article_id: str) -> None:
        self._gone.add(article_id)
        keep = [i for i, a in enumerate(self.ids) if a != article_id]
        self.ids = [self.ids[i] for i in keep]
        self.sigs = self.sigs[keep]
