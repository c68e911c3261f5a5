"""Bytes -> text: BOMs, UTF-8, a declared charset, then a real detection with a confidence floor.

Detection takes charset-normalizer's candidates and scores each decoding by how plausible its text is: a
non-ASCII character should be a letter of the same script as the word around it, or punctuation. (Short
Western text is where detectors go wrong: "Zürich café" in latin-1 reads as Urdu letters in cp1006 or as
"Z³rich cafķ" in cp775, and which one depends on the length.) Among equally plausible candidates the
detector's order decides, except that windows-1252 (the superset real Western pages use) wins whenever it is
among the best or the best is another Western single-byte code page. A guess is reported as such; below the
floor the input is refused with what to do.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

__all__ = ["decode", "decode_text", "Decoded", "charset_of", "declared_charset", "Unreadable", "LoadWarning",
           "looks_binary", "utf16_without_bom"]

CONFIDENCE_FLOOR = 0.9  # share of non-ASCII characters that read as plausible text


class Unreadable(Exception):
    """An input that cannot be read; str(error) is the one-line LoadFailure reason."""


@dataclass(frozen=True)
class LoadWarning:
    """An input that was read, but not as well as it should be (a guessed encoding, a flat-text fallback, a
    feed summary instead of its page). Loaders yield it just before the article it is about."""

    origin: str
    reason: str


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    guessed: bool = False
    confidence: float = 1.0

    def note(self) -> str | None:
        if not self.guessed:
            return None
        return (f"guessed encoding: not UTF-8 and no charset declared, read as {self.encoding} (confidence "
                f"{self.confidence:.2f}); re-save it as UTF-8 if the text looks wrong")


# Single-byte encodings charset-normalizer confuses with each other on short Western text.
_LATIN_FAMILY = {"cp1250", "cp1252", "latin_1", "iso8859_15", "iso8859_2", "iso8859_9", "cp1254", "mac_roman",
                 "iso8859_16", "iso8859_3", "iso8859_4", "iso8859_10", "iso8859_13", "iso8859_14", "cp1257",
                 "cp850", "cp437", "mac_latin2", "cp775"}
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def charset_of(content_type: str) -> str | None:
    match = re.search(r"charset=[\"']?([\w.:-]+)", content_type, re.IGNORECASE)
    return match.group(1) if match else None


def looks_binary(sample: bytes) -> bool:
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13) or b == 127)
    return b"\x00" in sample or controls > len(sample) * 0.02


def utf16_without_bom(sample: bytes) -> str | None:
    """"utf-16-le" or "utf-16-be" when `sample` looks like UTF-16 text written without a BOM: Latin-script text
    has a NUL high byte in most characters, so NULs sit at odd offsets (little-endian) or even ones (big-endian)
    and almost never at the others. None otherwise (the caller still checks the decoded text)."""
    sample = sample[:65536]
    pairs = len(sample) // 2
    if pairs < 4:
        return None
    even, odd = sample[0:pairs * 2:2].count(0), sample[1:pairs * 2:2].count(0)
    if odd >= 0.3 * pairs and even <= 0.02 * pairs:
        return "utf-16-le"
    if even >= 0.3 * pairs and odd <= 0.02 * pairs:
        return "utf-16-be"
    return None


def _utf16(data: bytes) -> Decoded | None:
    encoding = utf16_without_bom(data)
    if encoding is None:
        return None
    try:
        text = data[:len(data) // 2 * 2].decode(encoding)
    except UnicodeDecodeError:
        return None
    if looks_binary(text[:32768].encode("utf-8", errors="replace")) or plausibility(text) < CONFIDENCE_FLOOR:
        return None  # 16-bit numbers, say: NUL high bytes, control characters between
    return Decoded(text, encoding, guessed=True, confidence=round(plausibility(text), 3))


def decode(data: bytes, declared: str | None = None) -> str:
    """Bytes -> text (see decode_text); raises Unreadable."""
    return decode_text(data, declared).text


def decode_text(data: bytes, declared: str | None = None) -> Decoded:
    """BOM, then UTF-8, then the declared charset, then detection; raises Unreadable for binary or undecidable
    input. `Decoded.guessed` is True only when detection chose the encoding."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data.decode(encoding), encoding)
            except UnicodeDecodeError:
                break
    if looks_binary(data[:65536]):
        if (wide := _utf16(data)) is not None:
            return wide
        raise Unreadable("binary file, not text; pass a text, Markdown, HTML, JSON or feed file")
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    named = (declared or declared_charset(data[:4096]) or "").strip().lower()
    key = named.replace("-", "").replace("_", "")
    if key in ("iso88591", "latin1", "usascii", "ascii"):
        named = "cp1252"  # what browsers do: pages that say latin-1 are written in windows-1252
    if named and key != "utf8":
        try:
            return Decoded(data.decode(named), named)
        except (LookupError, UnicodeDecodeError):
            pass
    return _detect(data)


def _detect(data: bytes) -> Decoded:
    from charset_normalizer import from_bytes

    candidates: list[tuple[str, str]] = [(m.encoding, str(m)) for m in from_bytes(data)]
    if not candidates:
        raise Unreadable("unknown text encoding: newsrag could not tell how this file is encoded; re-save it as "
                         "UTF-8")
    scored = [(plausibility(text), i, encoding, text) for i, (encoding, text) in enumerate(candidates)]
    best = max(score for score, *_ in scored)
    top = min((s for s in scored if s[0] >= best - 1e-9), key=lambda s: s[1])
    score, _, encoding, text = top
    if encoding in _LATIN_FAMILY or any(e == "cp1252" and sc >= best - 1e-9 for sc, _, e, _ in scored):
        try:
            western = data.decode("cp1252")
            if plausibility(western) >= score - 1e-9:
                encoding, text, score = "cp1252", western, plausibility(western)
        except UnicodeDecodeError:
            pass
    if score < CONFIDENCE_FLOOR:
        raise Unreadable(f"unknown text encoding: the best guess ({encoding}) reads as garbled text "
                         f"(confidence {score:.2f}, below {CONFIDENCE_FLOOR}); re-save the file as UTF-8")
    return Decoded(text, encoding, guessed=True, confidence=round(score, 3))


def _script(ch: str) -> str:
    if ch.isascii():
        return "LATIN"
    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0] if name else "?"


def plausibility(text: str, limit: int = 200_000) -> float:
    """Share of non-ASCII characters that read as text: a letter whose word is all one script, or punctuation
    and currency. 1.0 when there is nothing non-ASCII."""
    good = total = 0
    for word in re.findall(r"\S+", text[:limit]):
        if word.isascii():
            continue
        letters = {_script(c) for c in word if c.isalpha()}
        for ch in word:
            if ch.isascii():
                continue
            total += 1
            category = unicodedata.category(ch)
            if category[0] == "L":
                good += len(letters) == 1
            elif category[0] in "PZ" or category in ("Sc", "Mn"):
                good += 1
    return 1.0 if total == 0 else good / total


def declared_charset(head: bytes) -> str | None:
    text = head.decode("ascii", errors="ignore")
    match = re.search(r"<meta[^>]+charset=[\"']?([\w.:-]+)", text, re.IGNORECASE) or re.search(
        r"<\?xml[^>]+encoding=[\"']([\w.:-]+)", text, re.IGNORECASE
    )
    return match.group(1) if match else None
