"""Make a held-out claims set, in the format of ../shared/eval/claims/claims.jsonl, from realtimeqa pages
that the shared claims set does not use, to check that the claim check carries over to rows nobody tuned on.

    python benchmarks/make_claims.py ../shared/eval/realtimeqa/articles.jsonl \\
        --exclude ../shared/eval/claims/claims.jsonl --out /tmp/heldout_claims.jsonl

Each row is a window of 3-6 sentences of a page and a claim: supported (a sentence of the window; trimmed of a
leading word; reworded: a speech verb or a unit written another way; two neighbouring sentences merged) or
unsupported (negation added or removed, a number changed, a name swapped for one from another page, the
speaker of a quote swapped, a weekday changed, a true quote inside a false statement with frames that vary,
a sentence of another page, the same behind a note prefix, a word inserted into a quote). The publishers'
text stays outside the repository: write the output to /tmp.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.nlp.sentences import sentence_spans  # noqa: E402

DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_NUM = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w,]*\d)")
_NAME = re.compile(r"(?<=[a-z,] )([A-Z][a-z]+(?: [A-Z][a-z]+)+)")
_SAID_AFTER = re.compile(r"([\"”],?\s+)([A-Z][\w'\-]+(?: [A-Z][\w'\-]+)?)(\s+(?:said|says|told|added|wrote))\b")
_AUX = re.compile(r"\b(is|are|was|were|has|have|had|will|can|could|would|should|did|does|do)\b (?!not\b)")
_NEG = re.compile(r"\b(is|are|was|were|has|have|had|will|can|could|would|should|did|does|do) not\b")
_QUOTE = re.compile(r"[\"“]([^\"“”]{30,}?)[\"”]")
_LEAD = re.compile(r"^(But|And|So|However,|Still,|Meanwhile,|Also,|Now,|Yet) (\w)")
FRAMES = ["{name} was fined last month for saying \"{q}\".", "{name} denied ever writing \"{q}\".",
          "Voters booed when {name} repeated \"{q}\".", "{name} was suspended after posting \"{q}\"."]
NOTES = ["Note: {s}", "Sources differ: {s}", "However, the passages also say: {s}", "I could not find more, but {s}"]
REWORDS = [(r"\bsaid\b", "stated"), (r"\bsays\b", "states"), (r"(\d+)%", r"\1 percent"),
           (r"\$(\d+(?:\.\d+)?) (million|billion)", r"\1 \2 dollars"), (r"\btold\b", "informed")]


def sentences(body: str) -> list[str]:
    return [body[s:e] for s, e in sentence_spans(body) if 6 <= len(body[s:e].split()) <= 60]


def windows(article: dict, rng: random.Random) -> list[list[str]]:
    sents = sentences(article["body"])
    out, i = [], 0
    while i + 3 <= len(sents):
        n = rng.randint(3, 6)
        out.append(sents[i:i + n])
        i += n
    return out


def make(articles: list[dict], rng: random.Random, per_kind: int) -> list[dict]:
    names = sorted({m.group(1) for a in articles for m in _NAME.finditer(a["body"][:3000])})
    others = [s for a in articles for s in sentences(a["body"])[:5]]
    rows: list[dict] = []
    counts: dict[str, int] = {}
    pool = [(a["id"], w) for a in articles for w in windows(a, rng)]
    rng.shuffle(pool)

    def add(aid: str, window: list[str], claim: str | None, kind: str, supported: bool) -> None:
        passage = " ".join(window)
        if claim and counts.get(kind, 0) < per_kind and claim.strip() != "":
            if not supported and claim in passage:
                return  # the change did nothing
            counts[kind] = counts.get(kind, 0) + 1
            rows.append({"id": f"h{len(rows)}", "article_id": aid, "passage": passage, "claim": claim,
                         "supported": supported, "kind": kind})

    for aid, window in pool:
        s = rng.choice(window)
        add(aid, window, s, "supported", True)
        m = _LEAD.match(s)
        add(aid, window, m and s[m.end(1) + 1:].replace(m.group(2), m.group(2).upper(), 1), "supported_trimmed", True)
        for pattern, repl in rng.sample(REWORDS, len(REWORDS)):
            hit = re.search(pattern, s)
            if hit and not any(q.start() < hit.start() < q.end() for q in _QUOTE.finditer(s)):  # quotes stay verbatim
                add(aid, window, re.sub(pattern, repl, s, count=1), "supported_reworded", True)
                break
        i = window.index(s)
        if i + 1 < len(window) and s.endswith(".") and window[i + 1][:1].isupper():
            nxt = window[i + 1]
            first = nxt.split()[0]
            joined = nxt if first in ("I",) or _NAME.match(" " + nxt) or first.isupper() else nxt[0].lower() + nxt[1:]
            add(aid, window, s[:-1] + ", and " + joined, "supported_merged", True)
        neg = _NEG.search(s)
        if neg:
            add(aid, window, s[:neg.end(1)] + s[neg.end():], "negation", False)
        else:
            aux = _AUX.search(s)
            add(aid, window, aux and s[:aux.end(1)] + " not" + s[aux.end(1):], "negation", False)
        num = _NUM.search(s)
        if num:
            value = int(num.group(1).replace(",", ""))
            new = value + rng.choice([-3, -2, -1, 1, 2, 5, 10]) if value > 3 else value + rng.randint(2, 9)
            new = f"{max(new, 0):,}" if "," in num.group(1) else str(max(new, 0))
            add(aid, window, s[:num.start(1)] + new + s[num.end(1):], "number", False)
        name = _NAME.search(s)
        if name:
            other = rng.choice([n for n in names if n not in " ".join(window)] or names)
            add(aid, window, s[:name.start(1)] + other + s[name.end(1):], "name_swap", False)
        said = _SAID_AFTER.search(s)
        near = [m.group(1) for m in _NAME.finditer(" ".join(window))]
        if said:
            # half the time someone the passage names (so only the attribution rule can tell), else a stranger
            inside = [n for n in near if n.split()[-1] not in said.group(2)]
            other = rng.choice(inside if inside and rng.random() < 0.5 else
                               [n for n in names if n.split()[-1] not in " ".join(window)] or names)
            add(aid, window, s[:said.start(2)] + other + s[said.end(2):], "speaker_swap", False)
        day = next((d for d in DAYS if re.search(rf"\b{d}\b", s)), None)
        if day:
            add(aid, window, re.sub(rf"\b{day}\b", rng.choice([d for d in DAYS if d != day]), s, count=1), "weekday",
                False)
        q = _QUOTE.search(s)
        if q:
            other = rng.choice(near if near and rng.random() < 0.5 else names)
            add(aid, window, rng.choice(FRAMES).format(name=other, q=q.group(1).strip(" ,.")), "quote_false_frame", False)
            ws = q.group(1).split()
            if len(ws) > 4:
                k = rng.randint(1, len(ws) - 2)
                altered = " ".join(ws[:k] + [rng.choice(["never", "secretly", "really", "illegally"])] + ws[k:])
                add(aid, window, s.replace(q.group(1), altered, 1), "quote_altered", False)
        foreign = rng.choice(others)
        if foreign not in " ".join(window):
            add(aid, window, foreign, "other_article", False)
            add(aid, window, rng.choice(NOTES).format(s=foreign[0].lower() + foreign[1:] if rng.random() < 0.5
                                                      else foreign), "meta_prefix", False)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("articles")
    ap.add_argument("--exclude", help="a claims file whose article ids are left out")
    ap.add_argument("--out", required=True)
    ap.add_argument("--per-kind", type=int, default=60)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    used = set()
    if args.exclude:
        used = {json.loads(line)["article_id"] for line in open(args.exclude, encoding="utf-8") if line.strip()}
    articles = [a for a in (json.loads(line) for line in open(args.articles, encoding="utf-8") if line.strip())
                if a["id"] not in used and a.get("body")]
    rows = make(articles, random.Random(args.seed), args.per_kind)
    Path(args.out).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    kinds: dict[str, int] = {}
    for r in rows:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    print(f"{len(rows)} claims from {len(articles)} pages not in the excluded set -> {args.out}: {kinds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
