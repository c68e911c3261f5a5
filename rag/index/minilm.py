"""A BERT sentence encoder in numpy, for the plain models newsrag ships (all-MiniLM-L6-v2: BERT, mean pooling,
normalised), so answering a question does not import torch, transformers and sentence-transformers (most of a
cold start: about 5 s of imports for a 20 ms forward pass).

It reads the same folder sentence-transformers reads (config.json, model.safetensors, tokenizer.json,
1_Pooling) and computes the same function; tests/test_embedder.py checks that its vectors match
sentence-transformers' to float32 precision. `supports(folder)` says whether a folder is such a model; any
other folder goes to sentence-transformers.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Sequence

import numpy as np

__all__ = ["NumpyBert", "supports"]

_MODULES = ["sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling",
            "sentence_transformers.models.Normalize"]


_BLAS = None


def _one_blas_thread():
    """A few texts are small matrix products: BLAS worker threads only add waiting, and on a busy machine (the
    keyword search runs beside the question's embedding) a great deal of it. Measured under load 3: a question
    41.8 / 146.5 ms p50 / p95 with OpenBLAS's 2 threads, 22.8 / 24.6 ms with one (docs/BENCHMARKS.md)."""
    global _BLAS
    try:
        if _BLAS is None:
            from threadpoolctl import ThreadpoolController

            _BLAS = ThreadpoolController()
        return _BLAS.limit(limits=1, user_api="blas")
    except Exception:  # noqa: BLE001 - threadpoolctl missing or unable to read a library: leave threads as they are
        return contextlib.nullcontext()


def _json(path: Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def supports(folder: str | Path) -> bool:
    """True for a sentence-transformers folder holding a plain absolute-position BERT with GELU, mean pooling
    and normalisation, with safetensors weights and a fast tokenizer."""
    f = Path(folder)
    try:
        modules = [m.get("type") for m in _json(f / "modules.json")]
        config = _json(f / "config.json")
        pooling = _json(f / "1_Pooling" / "config.json")
    except (OSError, ValueError, AttributeError, TypeError):
        return False
    other_pooling = [k for k, v in pooling.items() if k.startswith("pooling_mode_") and v and k != "pooling_mode_mean_tokens"]
    return (modules == _MODULES and config.get("model_type") == "bert" and config.get("hidden_act") == "gelu"
            and config.get("position_embedding_type", "absolute") == "absolute"
            and bool(pooling.get("pooling_mode_mean_tokens")) and not other_pooling
            and (f / "model.safetensors").is_file() and (f / "tokenizer.json").is_file())


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to about 1e-7 (Abramowitz and Stegun 7.1.26), enough for float32 GELU."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x * np.float32(0.7071067811865476)))


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


class NumpyBert:
    """encode(texts) -> unit-length float32 vectors, as SentenceTransformer(folder).encode(normalize_embeddings=True)."""

    def __init__(self, folder: str | Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        f = Path(folder)
        config = _json(f / "config.json")
        try:
            max_len = int(_json(f / "sentence_bert_config.json").get("max_seq_length") or 512)
        except OSError:
            max_len = 512
        self.max_len = min(max_len, int(config.get("max_position_embeddings", 512)))
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        weights = load_file(str(f / "model.safetensors"))
        self.w = {k.removeprefix("bert."): v.astype(np.float32, copy=False) for k, v in weights.items()}
        # Each linear layer's weight stored transposed and contiguous (x @ W.T on the stored W makes BLAS read
        # it across rows: 1.6x slower for a question), and a layer's query, key and value as one product.
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            qkv = [p + f"attention.self.{n}" for n in ("query", "key", "value")]
            self.w[p + "qkv.weight"] = np.concatenate([self.w.pop(n + ".weight") for n in qkv], axis=0)
            self.w[p + "qkv.bias"] = np.concatenate([self.w.pop(n + ".bias") for n in qkv])
            for name in ("qkv", "attention.output.dense", "intermediate.dense", "output.dense"):
                self.w[p + name + ".weight"] = np.ascontiguousarray(self.w[p + name + ".weight"].T)
        self.dimension = int(config["hidden_size"])
        self.tokenizer = Tokenizer.from_file(str(f / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_len)
        pad_id = int(config.get("pad_token_id", 0) or 0)
        self.tokenizer.enable_padding(pad_id=pad_id, pad_token=self.tokenizer.id_to_token(pad_id) or "[PAD]")

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        with _one_blas_thread():
            out = [self._batch(list(texts[i:i + batch_size])) for i in range(0, len(texts), batch_size)]
        return np.concatenate(out) if out else np.zeros((0, self.dimension), dtype=np.float32)

    def _batch(self, texts: list[str]) -> np.ndarray:
        enc = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.float32)
        types = np.array([e.type_ids for e in enc], dtype=np.int64)
        w = self.w
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][np.arange(ids.shape[1])][None]
             + w["embeddings.token_type_embeddings.weight"][types])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]  # padded keys get no attention
        for i in range(self.layers):
            x = self._layer(x, bias, f"encoder.layer.{i}.")
        summed = (x * mask[:, :, None]).sum(1)
        pooled = summed / np.clip(mask.sum(1, keepdims=True), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self.w[name + ".weight"] + self.w[name + ".bias"]  # the weight stored transposed

    def _layer(self, x: np.ndarray, bias: np.ndarray, p: str) -> np.ndarray:
        b, n, d = x.shape
        h, hd = self.heads, d // self.heads

        def split(t: np.ndarray) -> np.ndarray:
            return t.reshape(b, n, h, hd).transpose(0, 2, 1, 3)

        q, k, v = (split(t) for t in np.split(self._linear(x, p + "qkv"), 3, axis=-1))
        scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(hd)) + bias
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        probs = scores / scores.sum(-1, keepdims=True)
        context = (probs @ v).transpose(0, 2, 1, 3).reshape(b, n, d)
        attn = self._linear(context, p + "attention.output.dense")
        x = _layer_norm(attn + x, self.w[p + "attention.output.LayerNorm.weight"],
                        self.w[p + "attention.output.LayerNorm.bias"], self.eps)
        mid = _gelu(self._linear(x, p + "intermediate.dense"))
        out = self._linear(mid, p + "output.dense")
        return _layer_norm(out + x, self.w[p + "output.LayerNorm.weight"], self.w[p + "output.LayerNorm.bias"],
                           self.eps)
