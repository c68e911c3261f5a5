"""What comes back from a chat model, made fit to use: a reasoning model's <think> block to strip, and a failure
turned into an error that names the setting to check (never the API key)."""

from __future__ import annotations

import re
from typing import Any, Sequence

from rag.core.errors import LLMError
from rag.llms.choose import public_url

__all__ = ["THINK", "explain_llm_error"]

THINK = re.compile(r"<think>.*?(</think>|$)", re.DOTALL | re.IGNORECASE)
_KEYLIKE = re.compile(r"\b(sk-[A-Za-z0-9_\-*]{6,}|Bearer\s+\S+)")


def _exception_chain(exc: BaseException) -> list[BaseException]:
    chain, seen = [], set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _redact(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return _KEYLIKE.sub("[redacted]", text)


def explain_llm_error(exc: BaseException, name: str, chat_model: Any = None) -> LLMError:
    """Turn a chat model failure into an LLMError naming the setting to check (never the API key)."""
    family, _, model = name.partition(":")
    secrets = []
    key = getattr(chat_model, "openai_api_key", None)
    if key is not None:
        secrets.append(key.get_secret_value() if hasattr(key, "get_secret_value") else str(key))
    url = public_url(getattr(chat_model, "openai_api_base", None) or getattr(chat_model, "base_url", None))
    timeout = getattr(chat_model, "request_timeout", None)
    if timeout is None:
        timeout = (getattr(chat_model, "client_kwargs", None) or {}).get("timeout")
    chain = _exception_chain(exc)
    kinds = {cls.__name__ for e in chain for cls in type(e).__mro__}
    status = next((s for e in chain if isinstance(s := getattr(e, "status_code", None), int)), None)
    detail = _redact(f"{type(exc).__name__}: {exc}", secrets)[:300]
    where = f" at {url}" if url else ""
    waited = f"{timeout:g} s" if isinstance(timeout, (int, float)) else "the time allowed"

    if family == "openai":
        server, url_var = f"the OpenAI-compatible server{where}", "NEWSRAG_OPENAI_BASE_URL"
    elif family == "ollama":
        server, url_var = f"Ollama{where}", "NEWSRAG_OLLAMA_BASE_URL"
    else:
        return LLMError(f"The LLM ({name}) failed: {detail}. Check NEWSRAG_LLM (or use NEWSRAG_LLM=extractive).")

    if kinds & {"APITimeoutError", "TimeoutException", "TimeoutError", "ReadTimeout"} or status == 408:
        msg = f"{server} did not answer within {waited}. Check {url_var}, or raise NEWSRAG_LLM_TIMEOUT."
    elif kinds & {"AuthenticationError", "PermissionDeniedError"} or status in (401, 403):
        msg = f"{server} rejected the API key (HTTP {status or 401}). Check NEWSRAG_OPENAI_API_KEY."
    elif kinds & {"NotFoundError"} or status == 404:
        if family == "ollama":
            msg = f"{server} has no model {model!r}. Run `ollama pull {model}`, or check NEWSRAG_LLM."
        else:
            msg = (
                f"{server} has no model {model!r} (HTTP 404). Check NEWSRAG_LLM (openai:MODEL) or "
                f"NEWSRAG_OPENAI_MODEL, and that {url_var} points at the API root (often ending in /v1)."
            )
    elif kinds & {"RateLimitError"} or status == 429:
        msg = f"{server} is rate-limiting requests or the quota is used up (HTTP 429). Try again later."
    elif kinds & {"APIConnectionError", "ConnectError", "ConnectionError", "RemoteProtocolError"}:
        hint = " (is `ollama serve` running?)" if family == "ollama" else ""
        msg = f"Could not reach {server}{hint}. Check {url_var}, or set NEWSRAG_LLM=extractive."
    else:
        msg = f"{server} failed: {detail}. Check {url_var} and NEWSRAG_LLM."
    return LLMError(msg[:1].upper() + msg[1:])
