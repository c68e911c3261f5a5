"""A tiny deterministic embedder for tests where the model is not the point: hashed bag of stemmed-ish words.

Texts that share words get close vectors, so a passage is found by its own words; no torch is loaded."""

from __future__ import annotations

import hashlib
import re
import threading
from typing import Sequence

import numpy as np

DIM = 64


class FakeEmbedder:
    name = "fake-hash-64"
    loaded = True
    dimension = DIM

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w\w+", text.lower()):
                out[i, int(hashlib.md5(word[:6].encode()).hexdigest(), 16) % DIM] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def preload(self) -> threading.Thread:
        t = threading.Thread(target=lambda: None)
        t.start()
        return t
