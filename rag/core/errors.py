"""Error types whose messages say what to do next. Front ends translate them (CLI exit code, gr.Error, Slack reply)."""

from __future__ import annotations

__all__ = ["NewsragError", "SettingsError", "InputError", "EmptyStoreError", "LLMError", "StoreError", "QueueFull"]


class NewsragError(Exception):
    """Base class: str(error) is a message a user can act on."""


class SettingsError(NewsragError):
    """A setting is missing or wrong; the message names the variable or flag."""


class InputError(NewsragError):
    """A question or other input is unusable (empty, too long, ...)."""


class EmptyStoreError(NewsragError):
    def __init__(self, home: str = "") -> None:
        where = f" (store: {home})" if home else ""
        super().__init__(
            "Nothing has been ingested yet" + where + ". Add coverage first: "
            "`newsrag ingest examples/news` (or a folder, file, feed or URL of your own)."
        )


class LLMError(NewsragError):
    """The configured LLM could not be reached or answered badly; the message names the setting."""


class StoreError(NewsragError):
    """The vector store could not be opened or written; the message says which setting to check."""


class QueueFull(NewsragError):
    """Too many ingests are waiting (or the server is stopping): the message says when to try again."""
