"""Decoding, partial files, unreadable entries and size limits: every skipped or degraded input is reported."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.decoding import Unreadable, decode_text
from ingest.fetching import FetchPolicy
from ingest.loaders import LoadWarning, iter_inputs
from rag.core.schema import LoadFailure, RawArticle

pytestmark = pytest.mark.fast  # the fast tier (make test-fast): no model, no browser, no server

REPO = Path(__file__).resolve().parents[1]


def load(*targets, **kwargs) -> list:
    return list(iter_inputs([str(t) for t in targets], **kwargs))


# ---------------------------------------------------------------- decoding


@pytest.mark.parametrize("repeat", [1, 2, 3, 5, 8, 13, 40, 200])
def test_latin1_decodes_right_whatever_its_length_and_the_guess_is_reported(tmp_path: Path, repeat: int) -> None:
    path = tmp_path / "zurich.txt"
    body = " ".join(["Zürich café"] * repeat)
    path.write_bytes(f"Night Trams\n\n{body}, the city said.\n".encode("latin-1"))
    items = load(path)
    warning, article = items
    assert isinstance(article, RawArticle) and article.body == f"{body}, the city said."
    assert isinstance(warning, LoadWarning) and warning.reason.startswith("guessed encoding: ")
    assert "cp1252" in warning.reason and "UTF-8" in warning.reason


@pytest.mark.parametrize("text, encoding", [
    ("Привет, как дела? Всё хорошо, сказал мэр.", "cp1251"),
    ("Ελληνικά κείμενα εδώ, είπε ο δήμαρχος.", "cp1253"),
    ("Zażółć gęślą jaźń, powiedział burmistrz.", "cp1250"),
    ("Œuvre — “quoted” naïve €5 à la carte.", "cp1252"),
])
def test_detection_reads_other_single_byte_code_pages(text: str, encoding: str) -> None:
    decoded = decode_text(text.encode(encoding))
    assert decoded.text == text and decoded.guessed


def test_utf8_and_declared_charsets_are_not_guesses() -> None:
    assert not decode_text("Zürich café".encode()).guessed
    page = '<html><head><meta charset="windows-1252"></head><body>Zürich café</body></html>'
    decoded = decode_text(page.encode("cp1252"))
    assert "Zürich café" in decoded.text and not decoded.guessed


def test_below_the_confidence_floor_is_refused_with_what_to_do() -> None:
    with pytest.raises(Unreadable, match="unknown text encoding: .*re-save (it|the file) as UTF-8"):
        decode_text(bytes(range(128, 256)) * 10)


STORY16 = "Ferry adds night crossings\n\nThe harbour ferry will run at night from May, the council said. Zürich café."


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_read_not_called_binary(tmp_path: Path, encoding: str) -> None:
    """Issue 27: UTF-16LE text without a BOM was refused as "binary file"; its NUL high bytes give it away."""
    decoded = decode_text(STORY16.encode(encoding))
    assert decoded.text == STORY16 and decoded.encoding == encoding and decoded.guessed
    path = tmp_path / "story.txt"
    path.write_bytes(STORY16.encode(encoding))
    items = load(path)
    warning, article = items
    assert isinstance(warning, LoadWarning) and encoding in warning.reason
    assert isinstance(article, RawArticle) and article.title == "Ferry adds night crossings"
    assert "Zürich café" in article.body
    records = tmp_path / "records.jsonl"
    lines = [json.dumps({"id": f"r{i}", "title": f"T{i}", "body": f"Story {i}: the ferry runs at night from May."},
                        ensure_ascii=False) for i in range(3)]
    records.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    assert [a.record_id for a in load(records) if isinstance(a, RawArticle)] == ["r0", "r1", "r2"]


def test_binary_with_nul_high_bytes_is_still_binary() -> None:
    """16-bit numbers (NUL every other byte, but control characters between) are not UTF-16 text."""
    with pytest.raises(Unreadable, match="binary file"):
        decode_text(bytes(b for n in range(2000) for b in (n % 31, 0)))


# ---------------------------------------------------------------- JSONL: one bad line fails alone


def test_one_nul_byte_fails_that_line_only(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    lines = [json.dumps({"id": f"r{i}", "title": f"T{i}", "body": f"Story number {i} about the harbour ferry."})
             for i in range(1, 6)]
    data = "\n".join(lines).encode()
    data = data.replace(b'"Story number 3', b'"Story\x00 number 3')
    path.write_bytes(data + b"\n")
    items = load(path)
    assert [type(i).__name__ for i in items] == ["RawArticle", "RawArticle", "LoadFailure", "RawArticle",
                                                 "RawArticle"]
    assert items[2].reason.startswith("line 3 holds a NUL byte")
    assert [i.record_id for i in items if isinstance(i, RawArticle)] == ["r1", "r2", "r4", "r5"]


def test_a_line_over_the_byte_limit_fails_alone(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    small = json.dumps({"id": "s", "body": "A short story about the ferry."})
    huge = json.dumps({"id": "h", "body": "word " * 5000})
    path.write_text(f"{small}\n{huge}\n{small.replace('s', 't', 1)}\n", encoding="utf-8")
    items = load(path, policy=FetchPolicy(max_bytes=4096))
    assert [type(i).__name__ for i in items] == ["RawArticle", "LoadFailure", "RawArticle"]
    assert items[1].reason.startswith("line 2: too large") and "NEWSRAG_MAX_INPUT_BYTES=4096" in items[1].reason


def test_jsonl_with_a_latin1_line_keeps_it_and_warns(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    good = json.dumps({"id": "a", "body": "Plain story about the ferry."}).encode()
    odd = json.dumps({"id": "b", "body": "Zürich café story."}, ensure_ascii=False).encode("latin-1")
    path.write_bytes(good + b"\n" + odd + b"\n")
    items = load(path)
    assert [type(i).__name__ for i in items] == ["RawArticle", "RawArticle", "LoadWarning"]
    assert items[1].body == "Zürich café story." and "line 2" in items[2].reason


# ---------------------------------------------------------------- unreadable entries are reported


def test_broken_link_and_link_loop_in_a_folder_are_reported(tmp_path: Path) -> None:
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "good.txt").write_text("Ferry Story\n\nThe harbour ferry will run at night from May.\n")
    (folder / "gone.txt").symlink_to(tmp_path / "missing.txt")
    (folder / "loop").symlink_to(folder)
    items = load(folder)
    failures = {Path(i.origin).name: i.reason for i in items if isinstance(i, LoadFailure)}
    assert failures["gone.txt"].startswith("broken symbolic link")
    assert "loop" in failures and "already read" in failures["loop"]
    assert [i.title for i in items if isinstance(i, RawArticle)] == ["Ferry Story"]


def test_unreadable_subfolder_and_file_are_reported(tmp_path: Path) -> None:
    """Run in a process that permissions apply to: root reads everything, so as root the loader runs under
    setpriv without the capabilities that override file permissions."""
    folder = tmp_path / "news"
    (folder / "locked").mkdir(parents=True)
    (folder / "good.txt").write_text("Ferry Story\n\nThe harbour ferry will run at night from May.\n")
    (folder / "locked" / "hidden-away.txt").write_text("Locked Story\n\nNobody can read this one at all.\n")
    (folder / "secret.txt").write_text("Secret Story\n\nThis file cannot be read by the ingest.\n")
    os.chmod(folder / "locked", 0o000)
    os.chmod(folder / "secret.txt", 0o000)
    script = ("import json, sys; from ingest.loaders import iter_inputs; "
              "print(json.dumps([[type(i).__name__, getattr(i, 'origin', ''), getattr(i, 'reason', '')] "
              "for i in iter_inputs([sys.argv[1]])]))")
    prefix: list[str] = []
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: file permissions cannot be made to apply")
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
    try:
        out = subprocess.run([*prefix, sys.executable, "-c", script, str(folder)], capture_output=True, text=True,
                             timeout=120, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    finally:
        os.chmod(folder / "locked", 0o755)
        os.chmod(folder / "secret.txt", 0o644)
    assert out.returncode == 0, out.stderr
    items = json.loads(out.stdout)
    failed = {Path(origin).name: reason for kind, origin, reason in items if kind == "LoadFailure"}
    assert failed["locked"].startswith("cannot read folder (Permission denied)")
    assert failed["secret.txt"].startswith("cannot read file (Permission denied)")
    assert [kind for kind, *_ in items].count("RawArticle") == 1


# ---------------------------------------------------------------- size limits


def test_a_20mb_text_file_is_refused_at_once_naming_the_setting(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with open(path, "wb") as f:
        f.write(b"Huge Story\n\n")
        f.write(b"The ferry will run at night from May, the council said. " * 360_000)
    started = time.monotonic()
    [f] = load(path)
    assert time.monotonic() - started < 1.0
    assert isinstance(f, LoadFailure)
    assert f.reason.startswith("too large: 20.2 MB is over NEWSRAG_MAX_INPUT_BYTES=10000000 (10 MB)")
    assert "raise NEWSRAG_MAX_INPUT_BYTES" in f.reason


def test_the_limit_is_a_bounded_setting() -> None:
    from rag.core.errors import SettingsError
    from rag.core.settings import Settings

    assert Settings.from_env({"NEWSRAG_MAX_INPUT_BYTES": "50000000"}).max_input_bytes == 50_000_000
    with pytest.raises(SettingsError, match="NEWSRAG_MAX_INPUT_BYTES=10 is out of range"):
        Settings.from_env({"NEWSRAG_MAX_INPUT_BYTES": "10"})
    with pytest.raises(SettingsError, match="NEWSRAG_FETCH_ALLOW: 'not a host!' is neither"):
        Settings.from_env({"NEWSRAG_FETCH_ALLOW": "127.0.0.1, not a host!"})
