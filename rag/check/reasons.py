"""Why the check removed or did not confirm a sentence, in words for the user (templates in
prompts/check_reasons.md, one `rule: template` line each)."""

from __future__ import annotations

from functools import lru_cache
from typing import Mapping

from rag.core.prompts import load_prompt

__all__ = ["reason", "removed_lines", "doubted_lines"]


@lru_cache(maxsize=1)
def _templates() -> dict[str, str]:
    out = {}
    for line in load_prompt("check_reasons").splitlines():
        key, _, template = line.partition(":")
        if template.strip():
            out[key.strip()] = template.strip()
    return out


def reason(record: Mapping) -> str:
    """One line for a removed (or unconfirmed) sentence's record: {"verdict", "rule", "detail", "passage"}."""
    templates = _templates()
    rule, detail = str(record.get("rule") or ""), str(record.get("detail") or "")
    if record.get("verdict") == "unconfirmed":
        template = templates.get(f"unconfirmed_{rule}", templates["unconfirmed"])  # a rule may word its own
        text = template.format(rule=rule or "uncited", detail=detail or "-")
    else:
        text = templates.get(rule, "{detail}").format(detail=detail or rule)
    n = record.get("passage")
    return f"[{n}] {text}" if n and record.get("verdict") == "contradicted" else text


def removed_lines(dropped: list[Mapping]) -> list[str]:
    """'“sentence” — reason' per removed sentence, for the CLI, the web chat and Slack."""
    return [f"“{' '.join(str(d.get('sentence', '')).split())}” — {reason(d)}" for d in dropped]


def doubted_lines(verdicts: list[Mapping]) -> list[str]:
    """'“sentence” — reason' per sentence kept marked because the LLM pass read a passage as contradicting it
    (it marks, it never removes: rag/check/citations.py), for the CLI, the web chat and Slack."""
    return removed_lines([v for v in verdicts if v.get("kept") and v.get("verdict") == "unconfirmed"
                          and v.get("rule") == "llm"])
