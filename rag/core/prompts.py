"""Prompt files and fixed user-facing strings: the top-level `prompts/` package (passages are fenced for a model
in rag/llms/fencing.py)."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

from rag.core.errors import SettingsError

__all__ = ["load_prompt"]

_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_REPO_PROMPTS = Path(__file__).resolve().parents[2] / "prompts"


@lru_cache(maxsize=None)
def load_prompt(name: str) -> str:
    """Return the text of `prompts/<name>.md` (e.g. ``load_prompt("answer")``), without trailing whitespace.

    Looked up as package data of the top-level `prompts` package, falling back to the `prompts/` folder
    next to `rag/` in a source checkout.
    """
    if not _NAME.match(name):
        raise SettingsError(f"Bad prompt name {name!r}: use a bare name such as 'answer' or 'rewrite'.")
    filename = f"{name}.md"
    try:
        text = resources.files("prompts").joinpath(filename).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError, TypeError):
        path = _REPO_PROMPTS / filename
        if not path.is_file():
            raise SettingsError(
                f"Prompt {filename!r} not found (looked in the 'prompts' package and {_REPO_PROMPTS}). "
                "Reinstall newsrag or restore the prompts/ folder."
            ) from None
        text = path.read_text(encoding="utf-8")
    return text.strip()
