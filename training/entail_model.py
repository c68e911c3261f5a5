"""A trained second opinion for the claim check: a small cross-encoder (all-MiniLM-L6-v2's first layers
fine-tuned on claim / premise pairs, training/train_entail.py) that reads a claim beside the few passage
statements sharing most of its words and gives the probability that they state it.

Tried as a veto on the claim check's "supported" verdicts (a probability under a threshold: "unconfirmed"); it
did not pay on RAGTruth's held-out half (training/README.md), so it is not part of the product: no weights ship
and the check is the rules alone. This module is what training/eval_entail.py scores a checkpoint with: numpy, on
the bundled MiniLM's word embeddings and tokenizer (rag/index/minilm.py) plus a weights file of the fine-tuned
layers.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.nlp.lexical import content_words
from rag.nlp.sentences import statement_spans
from rag.nlp.text import fold

__all__ = ["EntailModel", "premise"]

MODEL_FILE = Path(__file__).resolve().parent / "model" / "entail.safetensors"
_OFF = {"0", "false", "no", "off", "none"}
PREMISE_WORDS = 60  # the statements most like the claim, up to about this many words (the file's .json may say)
MAX_TOKENS = 96
_LOCK = threading.Lock()
_LOADED: dict[str, EntailModel | None] = {}


def premise(claim: str, passage: str, max_words: int = PREMISE_WORDS) -> str:
    """The passage statements that share most of the claim's content words, best first until about `max_words`
    words, then put back in passage order."""
    words = set(content_words(fold(claim)))
    text = fold(passage)
    spans = [(s, e) for s, e in statement_spans(text) if text[s:e].strip()] or [(0, len(text))]
    scored = []
    for i, (s, e) in enumerate(spans):
        bag = set(content_words(text[s:e]))
        scored.append((-len(words & bag), i))
    scored.sort()
    chosen, total = [], 0
    for _, i in scored:
        n = len(text[spans[i][0]:spans[i][1]].split())
        if chosen and total + n > max_words:
            continue
        chosen.append(i)
        total += n
        if total >= max_words or len(chosen) >= 4:
            break
    out = " ".join(text[spans[i][0]:spans[i][1]].strip() for i in sorted(chosen))
    toks = out.split()
    return " ".join(toks[:max_words * 2]) if len(toks) > max_words * 2 else out


class EntailModel:
    """probabilities(claims, premises) -> P(the premise states the claim), in numpy (no torch)."""

    def __init__(self, path: str | Path) -> None:
        from safetensors.numpy import load_file

        from rag.index.embedder import bundled_model_path
        from rag.index.minilm import NumpyBert

        path = Path(path)
        tuned = load_file(str(path))
        meta = json.loads((path.with_suffix(".json")).read_text(encoding="utf-8")) if path.with_suffix(".json").is_file() else {}
        self.meta = meta
        base = bundled_model_path()
        self.bert = NumpyBert(base)
        self.bert.layers = int(meta.get("layers", self.bert.layers))  # the first N layers were fine-tuned
        self.premise_words = int(meta.get("premise_words", PREMISE_WORDS))
        # the fine-tuned layers replace the bundled ones (the word embeddings were frozen and are not shipped)
        fresh = {k: v.astype(np.float32) for k, v in tuned.items() if not k.startswith("head.")}
        self.bert.w = {k: v for k, v in self.bert.w.items()
                       if not k.startswith("encoder.layer.") or int(k.split(".")[2]) < self.bert.layers}
        if fresh:
            tmp = dict(self.bert.w)
            for k, v in fresh.items():
                tmp[k] = v
            self.bert.w = tmp
            self.bert.w = _fold_layers(self.bert.w, self.bert.layers)
        self.head_w = tuned["head.weight"].astype(np.float32).reshape(-1)
        self.head_b = float(tuned["head.bias"].astype(np.float32).reshape(-1)[0])
        self.bert.tokenizer.enable_truncation(max_length=int(meta.get("max_tokens", MAX_TOKENS)),
                                              strategy="longest_first")
        self.bert.tokenizer.no_padding()

    def probabilities(self, claims: Sequence[str], premises: Sequence[str]) -> np.ndarray:
        from rag.index.minilm import _one_blas_thread

        out = []
        with _one_blas_thread():
            for c, p in zip(claims, premises):
                out.append(self._one(c, p))
        return np.array(out, dtype=np.float32)

    def _one(self, claim: str, prem: str) -> float:
        enc = self.bert.tokenizer.encode(claim, prem)
        ids = np.array([enc.ids], dtype=np.int64)
        types = np.array([enc.type_ids], dtype=np.int64)
        w = self.bert.w
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][np.arange(ids.shape[1])][None]
             + w["embeddings.token_type_embeddings.weight"][types])
        from rag.index.minilm import _layer_norm

        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.bert.eps)
        for i in range(self.bert.layers):
            x = self._layer(x, f"encoder.layer.{i}.")
        pooled = x[0].mean(0)
        logit = float(pooled @ self.head_w + self.head_b)
        return 1.0 / (1.0 + np.exp(-logit))


    def _layer(self, x: np.ndarray, p: str) -> np.ndarray:
        """NumpyBert's layer for one unpadded text, with GELU's tanh form (10x faster than erf in numpy; within
        about 1e-3 of it, which moves a probability by less than 0.002 here)."""
        from rag.index.minilm import _layer_norm

        w, eps = self.bert.w, self.bert.eps
        _, n, d = x.shape
        h = self.bert.heads
        hd = d // h
        qkv = x[0] @ w[p + "qkv.weight"] + w[p + "qkv.bias"]
        q, k, v = (t.reshape(n, h, hd).transpose(1, 0, 2) for t in np.split(qkv, 3, axis=-1))
        scores = q @ k.transpose(0, 2, 1) / np.float32(np.sqrt(hd))
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        context = ((scores / scores.sum(-1, keepdims=True)) @ v).transpose(1, 0, 2).reshape(n, d)
        attn = context @ w[p + "attention.output.dense.weight"] + w[p + "attention.output.dense.bias"]
        x = _layer_norm(attn + x[0], w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps)
        mid = x @ w[p + "intermediate.dense.weight"] + w[p + "intermediate.dense.bias"]
        mid = 0.5 * mid * (1.0 + np.tanh(np.float32(0.7978845608) * (mid + np.float32(0.044715) * mid * mid * mid)))
        out = mid @ w[p + "output.dense.weight"] + w[p + "output.dense.bias"]
        return _layer_norm(out + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)[None]


def _fold_layers(w: dict, layers: int) -> dict:
    """Lay out fine-tuned layer weights (stored as torch's nn.Linear: out x in, q/k/v apart) as NumpyBert does."""
    for i in range(layers):
        p = f"encoder.layer.{i}."
        qkv = [p + f"attention.self.{n}" for n in ("query", "key", "value")]
        if qkv[0] + ".weight" not in w:
            continue
        w[p + "qkv.weight"] = np.ascontiguousarray(np.concatenate([w.pop(n + ".weight") for n in qkv], axis=0).T)
        w[p + "qkv.bias"] = np.concatenate([w.pop(n + ".bias") for n in qkv])
        for name in ("attention.output.dense", "intermediate.dense", "output.dense"):
            w[p + name + ".weight"] = np.ascontiguousarray(w[p + name + ".weight"].T)
    return w
