"""What the work tree looks like to git, so the test session can prove it left it as it found it."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

__all__ = ["tree_state", "describe_change"]


def _git(root: Path, *args: str) -> bytes | None:
    try:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout if out.returncode == 0 else None


def tree_state(root: Path) -> dict[str, str] | None:
    """Path -> a digest of its status and content, for every changed or untracked (not ignored) path; None
    outside a git checkout. Equal states mean nothing was written, deleted or rewritten."""
    status = _git(root, "status", "--porcelain", "-z", "--untracked-files=all")
    if status is None:
        return None
    state: dict[str, str] = {}
    for entry in filter(None, status.split(b"\0")):
        code, path = entry[:2].decode(), entry[3:].decode("utf-8", "surrogateescape")
        file = root / path
        try:
            digest = hashlib.sha1(file.read_bytes()).hexdigest() if file.is_file() else "-"
        except OSError:
            digest = "?"
        state[path] = f"{code} {digest}"
    return state


def describe_change(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """One line per path whose state differs, e.g. ' M docs/screenshot.png (was clean)'."""
    lines = []
    for path in sorted(set(before) | set(after)):
        if before.get(path) != after.get(path):
            was = before.get(path, "clean")
            lines.append(f"{after.get(path, 'clean (restored)')} {path} (was {was})")
    return lines
