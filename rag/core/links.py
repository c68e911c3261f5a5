"""Which article URLs may become links: http(s) only, with a host, no control characters or credentials.

Article URLs come from untrusted input (JSONL fields, front matter, feed `link`s). A `javascript:`, `data:`
or `vbscript:` URL rendered as a link runs script in the reader's browser (stored XSS), so every front end
asks `safe_url` before it writes an `href`, and ingest stores only URLs that pass it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["safe_url", "MAX_URL_CHARS"]

MAX_URL_CHARS = 2048
# Browsers drop tabs and newlines inside a scheme ("java\tscript:"); refuse every control character and space.
# Quotes are allowed: every renderer escapes them ("&quot;" in HTML, %22 in Markdown).
_BAD_CHARS = re.compile(r"[\x00-\x20\x7f-\x9f<>`]")


def safe_url(url: object) -> str | None:
    """`url` (stripped) when it is an absolute http(s) URL with a host and no credentials, else None."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or len(url) > MAX_URL_CHARS or _BAD_CHARS.search(url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # "http://[::1" and other unparseable netlocs
        return None
    if parts.scheme.lower() not in ("http", "https") or not host or "@" in parts.netloc:
        return None
    return url
