"""The folders of rag/ and ingest/ import one way (docs/ARCHITECTURE.md, "may import"): a module that imports a
folder above its own fails here, naming the line."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.fast  # the fast tier (make test-fast): no model, no browser, no server

ROOT = Path(__file__).resolve().parent.parent

CORE, NLP, ATTR, INDEX, INGEST = "rag.core", "rag.nlp", "rag.attribution", "rag.index", "ingest"
LLMS, CHECK, ANSWER, JOBS, EVAL, FRONT = "rag.llms", "rag.check", "rag.answer", "rag.jobs", "rag.eval", "rag.frontends"
MAY_IMPORT = {
    CORE: set(),
    NLP: {CORE},
    ATTR: {CORE, NLP},
    INDEX: {CORE, NLP, ATTR},
    INGEST: {CORE, NLP, ATTR, INDEX},
    LLMS: {CORE, NLP},
    CHECK: {CORE, NLP, ATTR, LLMS},
    ANSWER: {CORE, NLP, ATTR, INDEX, LLMS, CHECK},
    JOBS: {CORE, NLP, ATTR, INDEX, INGEST, LLMS, CHECK, ANSWER},
    EVAL: {CORE, NLP, ATTR, INDEX, INGEST, LLMS, CHECK, ANSWER, JOBS},
    FRONT: {CORE, NLP, ATTR, INDEX, INGEST, LLMS, CHECK, ANSWER, JOBS, EVAL},
}


def _layer(module: str) -> str | None:
    return next((layer for layer in sorted(MAY_IMPORT, key=len, reverse=True)
                 if module == layer or module.startswith(layer + ".")), None)


def _imports(path: Path) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return out


def test_every_module_sits_in_a_folder_with_a_place_in_the_layers():
    loose = [p.relative_to(ROOT).as_posix() for p in (ROOT / "rag").rglob("*.py")
             if p.name != "__init__.py" or p.parent != ROOT / "rag"]
    assert [p for p in loose if _layer(p[:-3].replace("/", ".")) is None] == []


def test_imports_go_one_way():
    wrong = []
    for path in [*(ROOT / "rag").rglob("*.py"), *(ROOT / "ingest").rglob("*.py")]:
        mod = path.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".")
        mine = _layer(mod)
        if mine is None:
            continue
        for line, name in _imports(path):
            theirs = _layer(name)
            if theirs and theirs != mine and theirs not in MAY_IMPORT[mine]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {name} ({mine} may not import {theirs})")
    assert wrong == []


def test_the_layer_check_catches_an_upward_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from rag.frontends.web.page import launch\nimport rag.core.schema\n")
    names = [name for _, name in _imports(bad)]
    assert [_layer(n) for n in names] == [FRONT, CORE]
    assert FRONT not in MAY_IMPORT[CORE] and CORE in MAY_IMPORT[FRONT]
