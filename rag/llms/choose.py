"""Pick the chat model newsrag answers with, from `Settings.llm` (NEWSRAG_LLM).

Forms: ``auto`` (default), ``extractive``, ``openai`` / ``openai:MODEL`` (any OpenAI-compatible server),
``ollama`` / ``ollama:MODEL``, ``local`` (the bundled Qwen2.5-Coder-1.5B through llama.cpp, CPU; the `.[local]`
extra), ``gguf:PATH`` (any GGUF model file, through llama.cpp). ``auto`` picks an OpenAI-compatible
server if NEWSRAG_OPENAI_BASE_URL or NEWSRAG_OPENAI_API_KEY is set, else a running Ollama that has a model,
else extractive answers; it always says which one it picked and why.
"""

from __future__ import annotations

import importlib.util
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from rag.core.errors import SettingsError
from rag.core.settings import Settings

if TYPE_CHECKING:  # pragma: no cover - LangChain is imported only when a chat model is built
    from langchain_core.language_models import BaseChatModel

__all__ = ["make_chat_model", "probe_ollama", "ALLOWED_FORMS", "NO_LLM_NOTICE", "public_url"]

ALLOWED_FORMS = "auto, extractive, openai, openai:MODEL, ollama, ollama:MODEL, local, gguf:PATH"
NO_LLM_NOTICE = "No LLM configured (set NEWSRAG_LLM or NEWSRAG_OPENAI_BASE_URL); answering extractively."
_PROBE_TIMEOUT = 0.5


def public_url(url: str | None) -> str:
    """`url` without any user:password part, safe to show in messages."""
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unparseable URL)"
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _openai(settings: Settings, model: str) -> BaseChatModel:
    if not model:
        raise SettingsError("NEWSRAG_OPENAI_MODEL is empty: set it, or use NEWSRAG_LLM=openai:MODEL.")
    try:
        from langchain_openai import ChatOpenAI
    except ImportError:
        raise SettingsError(
            f"NEWSRAG_LLM=openai:{model} needs the OpenAI client: pip install langchain-openai "
            "(or set NEWSRAG_LLM=extractive)."
        ) from None
    kwargs: dict[str, Any] = {
        "model": model,
        "base_url": settings.openai_base_url,
        "api_key": settings.openai_api_key or "not-needed",
        "timeout": settings.llm_timeout,
        "max_tokens": settings.llm_max_tokens,
        "temperature": 0,
        "max_retries": 1,  # the client default (2) makes a hung server cost three full timeouts
    }
    return ChatOpenAI(**kwargs)


def _ollama(settings: Settings, model: str) -> BaseChatModel:
    if not model:
        raise SettingsError("NEWSRAG_OLLAMA_MODEL is empty: set it, or use NEWSRAG_LLM=ollama:MODEL.")
    try:
        from langchain_ollama import ChatOllama
    except ImportError:
        raise SettingsError(
            f"NEWSRAG_LLM=ollama:{model} needs the Ollama client: pip install langchain-ollama "
            "(or set NEWSRAG_LLM=extractive)."
        ) from None
    return ChatOllama(
        base_url=settings.ollama_base_url,
        model=model,
        temperature=0,
        num_predict=settings.llm_max_tokens,
        client_kwargs={"timeout": settings.llm_timeout},
    )


def _need_llama_cpp(name: str) -> None:
    if importlib.util.find_spec("xllamacpp") is None:
        raise SettingsError(f"NEWSRAG_LLM={name} needs llama.cpp for Python: pip install -e '.[local]' (or "
                            "`make local`). Or pick another LLM with NEWSRAG_LLM (extractive, openai:MODEL, ollama:MODEL).")


def _gguf(settings: Settings, path: str, name: str) -> BaseChatModel:
    """A GGUF file through llama.cpp; it loads at the first question (or `warm_up`) and stays loaded."""
    try:
        from rag.llms.gguf import GGUFChatModel
    except ImportError as exc:  # pragma: no cover - langchain-core is a core dependency
        raise SettingsError(f"NEWSRAG_LLM={name} needs langchain-core ({exc}).") from None
    _need_llama_cpp(name)
    file = Path(path).expanduser()
    if not file.is_file():
        raise SettingsError(f"NEWSRAG_LLM={name}: no model file at {file}. Give the path of a .gguf file.")
    if settings.llm_max_tokens >= settings.llm_context:
        raise SettingsError(f"NEWSRAG_LLM_MAX_TOKENS={settings.llm_max_tokens} leaves no room for passages in "
                            f"NEWSRAG_LLM_CONTEXT={settings.llm_context} tokens: lower the first or raise the second.")
    return GGUFChatModel(model_path=str(file), display_name=name, context_window=settings.llm_context,
                         max_tokens=settings.llm_max_tokens, threads=settings.llm_threads,
                         batch_threads=settings.llm_batch_threads, deadline=settings.llm_timeout)


def _local(settings: Settings) -> BaseChatModel:
    from rag.llms.bundled import LOCAL_NAME, bundled_model, part_files

    _need_llama_cpp("local")  # fail now, with the install hint, rather than at the first question
    part_files()
    return _gguf(settings, str(bundled_model()), LOCAL_NAME)


def probe_ollama(base_url: str, timeout: float = _PROBE_TIMEOUT) -> list[str] | None:
    """Model names an Ollama server at `base_url` lists (``GET /api/tags``), or None if nothing answers in time."""
    url = base_url.rstrip("/") + "/api/tags"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - URL comes from settings
            data = json.loads(response.read(1_000_000).decode("utf-8"))
    except (urllib.error.URLError, OSError, ValueError, TimeoutError):
        return None
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, list):
        return None
    names = [str(m.get("name") or m.get("model") or "") for m in models if isinstance(m, dict)]
    return [n for n in names if n]


def _pick_ollama_model(wanted: str, listed: list[str]) -> str:
    """`wanted` if Ollama lists it (with or without its ``:latest`` tag), else the first listed model."""
    for name in listed:
        if name == wanted or (":" not in wanted and name.split(":", 1)[0] == wanted):
            return wanted
    return listed[0]


def _auto(settings: Settings) -> tuple[BaseChatModel | None, str, list[str]]:
    if settings.openai_base_url or settings.openai_api_key:
        why = (
            f"NEWSRAG_OPENAI_BASE_URL is set ({public_url(settings.openai_base_url)})"
            if settings.openai_base_url
            else "NEWSRAG_OPENAI_API_KEY is set"
        )
        model = settings.openai_model
        notice = f"Using openai:{model} because {why}; set NEWSRAG_LLM to choose another answerer."
        return _openai(settings, model), f"openai:{model}", [notice]
    where = public_url(settings.ollama_base_url)
    listed = probe_ollama(settings.ollama_base_url)
    if listed:
        model = _pick_ollama_model(settings.ollama_model, listed)
        try:
            chat = _ollama(settings, model)
        except SettingsError as exc:
            return None, "extractive", [f"Ollama is running at {where}, but {exc} Answering extractively."]
        why = "" if model == settings.ollama_model else f" ({settings.ollama_model} is not pulled there)"
        notice = f"Using ollama:{model}{why} because Ollama answered at {where}; set NEWSRAG_LLM to choose."
        return chat, f"ollama:{model}", [notice]
    if listed is not None:
        return None, "extractive", [
            f"Ollama is running at {where} but has no models (try `ollama pull {settings.ollama_model}`); "
            "answering extractively."
        ]
    return None, "extractive", [NO_LLM_NOTICE]


def make_chat_model(settings: Settings) -> tuple[BaseChatModel | None, str, list[str]]:
    """The chat model for `settings.llm`, its answerer name, and notices to show the user.

    Returns ``(None, "extractive", notices)`` when answers should be extractive. Raises SettingsError
    for an unknown NEWSRAG_LLM value or when the chosen backend is not installed.
    """
    raw = (settings.llm or "auto").strip()
    kind, sep, model = raw.partition(":")
    kind, model = kind.strip().lower(), model.strip()
    if kind in {"auto", "extractive", "local"} and not model:
        if kind == "extractive":
            return None, "extractive", []
        if kind == "local":
            from rag.llms.bundled import LOCAL_NAME

            return _local(settings), LOCAL_NAME, []
        return _auto(settings)
    if kind == "openai" and (model or not sep):
        model = model or settings.openai_model
        return _openai(settings, model), f"openai:{model}", []
    if kind == "gguf" and model:
        name = f"gguf:{Path(model).name}"
        return _gguf(settings, model, name), name, []
    if kind == "ollama" and (model or not sep):
        model = model or settings.ollama_model
        return _ollama(settings, model), f"ollama:{model}", []
    raise SettingsError(f"NEWSRAG_LLM={raw!r} is not recognised. Use one of: {ALLOWED_FORMS}.")
