"""Bytes -> text: BOMs, declared charsets, then charset-normalizer; binary and undecidable input refused."""

from __future__ import annotations

import codecs
import re

__all__ = ["decode", "charset_of", "declared_charset", "Unreadable"]


class Unreadable(Exception):
    """An input that cannot be read; str(error) is the one-line LoadFailure reason."""


# Single-byte encodings charset-normalizer confuses with each other on short Western text; cp1252 is the
# superset real English and Western European pages use, so it wins whenever it decodes cleanly.
_LATIN_FAMILY = {"cp1250", "cp1252", "latin_1", "iso8859_15", "iso8859_2", "iso8859_9", "cp1254", "mac_roman",
                 "iso8859_16", "iso8859_3", "iso8859_4", "iso8859_10", "iso8859_13", "iso8859_14", "cp1257"}


def charset_of(content_type: str) -> str | None:
    match = re.search(r"charset=[\"']?([\w.:-]+)", content_type, re.IGNORECASE)
    return match.group(1) if match else None


def decode(data: bytes, declared: str | None = None) -> str:
    """Bytes -> text: BOM, then UTF-8, then the declared charset, then charset-normalizer's guess."""
    for bom, encoding in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                          (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                break
    sample = data[:65536]
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13) or b == 127)
    if b"\x00" in sample or controls > len(sample) * 0.02:
        raise Unreadable("binary file, not text; pass a text, Markdown, HTML, JSON or feed file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = (declared or declared_charset(data[:4096]) or "").lower().replace("-", "").replace("_", "")
    if declared in ("iso88591", "latin1", "usascii", "ascii"):
        declared = "cp1252"  # what browsers do: pages that say latin-1 are written in windows-1252
    if declared and declared != "utf8":
        try:
            return data.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise Unreadable("unknown text encoding: re-save the file as UTF-8")
    if best.encoding in _LATIN_FAMILY:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    return str(best)


def declared_charset(head: bytes) -> str | None:
    text = head.decode("ascii", errors="ignore")
    match = re.search(r"<meta[^>]+charset=[\"']?([\w.:-]+)", text, re.IGNORECASE) or re.search(
        r"<\?xml[^>]+encoding=[\"']([\w.:-]+)", text, re.IGNORECASE
    )
    return match.group(1) if match else None
