"""JSON and JSON Lines files -> RawArticle records; one bad record or line fails alone, the rest are kept.

A JSONL file is read a line at a time, so its size is bounded only per line (NEWSRAG_MAX_INPUT_BYTES): a line
with a NUL byte, malformed JSON, brackets nested too deep, no body or too many bytes fails that line (its number
in the reason).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rag.core.schema import LoadFailure, RawArticle

from .dates import iso_date
from .decoding import (
    LoadWarning,
    Unreadable,
    decode_text,
    looks_binary,
    utf16_without_bom,
)

__all__ = ["json_records", "jsonl_records", "jsonl_file"]

Item = RawArticle | LoadFailure | LoadWarning


def jsonl_file(path: Path, origin: str, max_bytes: int) -> Iterator[Item]:
    """Stream a JSONL file line by line (bytes split on "\\n" only, so U+2028 inside strings stays)."""
    with open(path, "rb") as f:
        head = f.read(65536)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or utf16_without_bom(head):
            # UTF-16/32 (with a BOM or without): not line-splittable as bytes
            f.seek(0)
            data = f.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise Unreadable(_too_big("the file", max_bytes) + "; or save it as UTF-8 JSONL")
            decoded = decode_text(data)
            if decoded.note():
                yield LoadWarning(origin, decoded.note())
            yield from jsonl_records(decoded.text, origin)
            return
        if head.count(b"\x00") > max(8, len(head) // 100) or (head and looks_binary(head.replace(b"\x00", b""))):
            raise Unreadable("binary file, not text; pass a text, Markdown, HTML, JSON or feed file")
        f.seek(0)
        seen = False
        guessed: list[int] = []
        number = 0
        while line := f.readline(max_bytes + 1):
            number += 1
            if len(line) > max_bytes and not line.endswith(b"\n"):
                while (rest := f.readline(1 << 20)) and not rest.endswith(b"\n"):
                    pass  # skip the rest of the long line
                yield LoadFailure(origin, f"line {number}: " + _too_big("the line", max_bytes)
                                  + ", or split that record")
                continue
            if number == 1:
                line = line.removeprefix(codecs.BOM_UTF8)
            if not line.strip():
                continue
            seen = True
            if b"\x00" in line:
                yield LoadFailure(origin, f"line {number} holds a NUL byte (binary data, not JSON): fix or remove "
                                          "that line")
                continue
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                try:
                    text = decode_text(line).text
                except Unreadable as exc:
                    yield LoadFailure(origin, f"line {number}: {exc}")
                    continue
                guessed.append(number)
            yield from _line(text, number, origin)
        if not seen:
            raise Unreadable("empty article: the JSONL file holds no records")
        if guessed:
            yield LoadWarning(origin, f"guessed encoding: {len(guessed)} line(s) were not UTF-8 (first: line "
                                      f"{guessed[0]}) and were read by detection; re-save the file as UTF-8")


def _too_big(what: str, max_bytes: int) -> str:
    return (f"too large: {what} is over NEWSRAG_MAX_INPUT_BYTES={max_bytes} ({max_bytes / 1_000_000:g} MB); "
            "raise NEWSRAG_MAX_INPUT_BYTES to read it")


def _line(line: str, number: int, origin: str) -> Iterator[Item]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        yield LoadFailure(origin, f"malformed JSON on line {number}: {exc.msg} (column {exc.colno}); fix or remove "
                                  "that line")
        return
    except RecursionError:  # brackets nested thousands deep: that line fails, the file goes on
        yield LoadFailure(origin, f"line {number}: could not read (nested too deeply to parse); fix or remove "
                                  "that line")
        return
    yield _record(record, origin, f"line {number}", f"{origin}:{number}")


def jsonl_records(text: str, origin: str) -> Iterator[Item]:
    seen = False
    # Split on "\n" only: str.splitlines would also split on U+2028 and friends inside JSON strings.
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        seen = True
        yield from _line(line, number, origin)
    if not seen:
        raise Unreadable("empty article: the JSONL file holds no records")


def json_records(text: str, origin: str) -> Iterator[Item]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":  # several objects, one a line: really JSONL
            yield from jsonl_records(text, origin)
            return
        raise Unreadable(f"malformed JSON on line {exc.lineno}: {exc.msg} (column {exc.colno}); fix the file") from exc
    if isinstance(data, dict) and not _body_of(data):
        for key in ("articles", "items", "records", "data"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
    records = data if isinstance(data, list) else [data]
    if not records:
        raise Unreadable("empty article: the JSON file holds no records")
    for number, record in enumerate(records, 1):
        yield _record(record, origin, f"record {number}", f"{origin}#{number}" if len(records) > 1 else origin)


def _body_of(record: dict[str, Any]) -> str | None:
    for key in ("body", "text", "content"):
        value = record.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _record(record: Any, origin: str, where: str, record_origin: str) -> RawArticle | LoadFailure:
    """One JSON object -> RawArticle; its origin names the record (`file:LINE` for JSONL, `file#N` for a list)."""
    if not isinstance(record, dict):
        kind = type(record).__name__
        return LoadFailure(origin, f"not an article on {where}: expected a JSON object, got {kind}; fix the file")
    body = _body_of(record)
    if body is None:
        return LoadFailure(origin, f"empty article on {where}: no body, text or content field; add the article text")
    author = record.get("author")
    if isinstance(author, list):
        author = ", ".join(str(a) for a in author if a)
    record_id = record.get("id")
    published = iso_date(record.get("published_at") or record.get("date"))
    return RawArticle(body=body, origin=record_origin, title=_opt_str(record.get("title")),
                      url=_opt_str(record.get("url")), source=_opt_str(record.get("source")),
                      published_at=published, author=_opt_str(author),
                      record_id=None if record_id is None else str(record_id),
                      updated_at=iso_date(record.get("updated_at") or record.get("modified_at")),
                      date_source="record" if published else None,
                      fetched_at=iso_date(record.get("retrieved_at") or record.get("fetched_at")))


def _opt_str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
