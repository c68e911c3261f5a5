"""Each web user's earlier chats, kept on the server so a reload brings the chat back and the page can list and
reopen earlier ones: in the catalog (one JSON document per login name; with NEWSRAG_CATALOG_URL every replica
shows a user the same list), or, without a catalog, in HOME/conversations/ (one file per login name). Chats
kept in HOME/conversations/ by an earlier version are moved into the catalog the first time their user is read;
the file is kept, renamed `*.json.moved`.

Bounded: at most MAX_CONVERSATIONS per user (the oldest go), MAX_ANSWERS answers kept per chat (the oldest
answers of a longer chat are dropped, their place kept so [n] links stay numbered) and MAX_BYTES per user file
(the oldest chats go first). Without a login every visitor is the same user (""): the page then listens on
127.0.0.1 by default, one person's machine. Writes are atomic (one catalog transaction, or a temp file renamed
over the old one).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from rag.core.errors import StoreError

__all__ = ["ConversationStore", "MAX_CONVERSATIONS", "MAX_ANSWERS", "MAX_BYTES", "DROPPED_PANEL"]

MAX_CONVERSATIONS = 30
MAX_ANSWERS = 50
MAX_BYTES = 4_000_000
TITLE_CHARS = 80
DROPPED_PANEL = '<div class="nr-note">The sources of this early answer were not kept (the chat is long).</div>'
log = logging.getLogger("newsrag.web")


class ConversationStore:
    """list / get / save / delete one user's chats; `chat` is the chatbot's messages, `turns` the plain
    history the assistant reads, `panels` each answer's sources HTML (one per answer, in order)."""

    def __init__(self, home: str | Path, *, catalog: Any = None, max_conversations: int = MAX_CONVERSATIONS,
                 max_answers: int = MAX_ANSWERS, max_bytes: int = MAX_BYTES) -> None:
        self.folder = Path(home) / "conversations"
        self.catalog = catalog  # an Index (conversations_get / conversations_put), or None for files
        self.max_conversations, self.max_answers, self.max_bytes = max_conversations, max_answers, max_bytes
        self._lock = threading.Lock()

    # -- reads ---------------------------------------------------------------------------------------------
    def list(self, user: str | None) -> list[dict[str, Any]]:
        """The user's chats, newest first: id, title, answers, updated_at (epoch seconds)."""
        try:
            with self._lock:
                chats = self._read(user)
        except StoreError as exc:  # a shared catalog that is away: no list now, nothing lost
            log.warning("web: earlier chats cannot be read now (%s)", exc)
            return []
        return [{"id": c["id"], "title": c["title"], "answers": c["answers"], "updated_at": c["updated_at"]}
                for c in chats]

    def get(self, user: str | None, conversation_id: str | None) -> dict[str, Any] | None:
        """One chat as {id, title, chat, turns, panels}; panels hold a placeholder for each dropped answer."""
        if not conversation_id:
            return None
        try:
            with self._lock:
                found = next((c for c in self._read(user) if c["id"] == conversation_id), None)
        except StoreError as exc:
            log.warning("web: earlier chats cannot be read now (%s)", exc)
            return None
        if found is None:
            return None
        panels = [DROPPED_PANEL] * int(found.get("dropped", 0)) + list(found["panels"])
        return {"id": found["id"], "title": found["title"], "chat": found["chat"], "turns": found["turns"],
                "panels": panels}

    # -- writes --------------------------------------------------------------------------------------------
    def save(self, user: str | None, conversation_id: str | None, chat: list[dict], turns: list[dict],
             panels: list[str]) -> str:
        """Store the chat (a new one when conversation_id is None or unknown); its id."""
        conversation_id = conversation_id or uuid.uuid4().hex[:16]
        with self._lock:
            chats = self._read(user)
            old = next((c for c in chats if c["id"] == conversation_id), None)
            entry = self._bounded(chat, turns, panels, old)
            entry.update(id=conversation_id, updated_at=time.time(),
                         title=(old or {}).get("title") or _title(turns or chat))
            chats = [entry] + [c for c in chats if c["id"] != conversation_id]
            self._write(user, chats[:self.max_conversations])
        return conversation_id

    def delete(self, user: str | None, conversation_id: str) -> bool:
        with self._lock:
            chats = self._read(user)
            kept = [c for c in chats if c["id"] != conversation_id]
            if len(kept) == len(chats):
                return False
            self._write(user, kept)
            return True

    # -- where they are kept -------------------------------------------------------------------------------
    @staticmethod
    def _key(user: str | None) -> str:
        """The login name hashed: it never becomes part of a path or a row key as written."""
        return hashlib.sha256((user or "").encode("utf-8")).hexdigest()[:24]

    def _path(self, user: str | None) -> Path:
        return self.folder / (self._key(user) + ".json")

    def _read(self, user: str | None) -> list[dict[str, Any]]:
        if self.catalog is None:
            return self._parse(self._read_file(user), user)
        text = self.catalog.conversations_get(self._key(user))
        if text is None:
            legacy = self._read_file(user)
            if legacy is not None:  # kept in a file by an earlier version: moved into the catalog once
                chats = self._parse(legacy, user)
                self._write(user, chats)
                self._path(user).replace(self._path(user).with_suffix(".json.moved"))
                return chats
        return self._parse(text, user)

    def _read_file(self, user: str | None) -> str | None:
        try:
            return self._path(user).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("web: earlier chats in %s could not be read (%s); starting a new list", self._path(user), exc)
            return None

    def _parse(self, text: str | None, user: str | None) -> list[dict[str, Any]]:
        if text is None:
            return []
        where = "the catalog" if self.catalog is not None else str(self._path(user))
        try:
            data = json.loads(text)
            chats = data["conversations"]
            if not isinstance(chats, list):
                raise ValueError("conversations is not a list")
            return [c for c in chats if isinstance(c, dict) and {"id", "chat", "turns", "panels"} <= set(c)]
        except (ValueError, KeyError, TypeError) as exc:  # damaged: start over, say so in the log
            log.warning("web: earlier chats in %s could not be read (%s); starting a new list", where, exc)
            return []

    def _write(self, user: str | None, chats: list[dict[str, Any]]) -> None:
        data = {"version": 1, "conversations": chats}
        text = json.dumps(data, ensure_ascii=False)
        while len(text.encode("utf-8")) > self.max_bytes and len(data["conversations"]) > 1:
            data["conversations"] = data["conversations"][:-1]  # the oldest chat goes first
            text = json.dumps(data, ensure_ascii=False)
        if self.catalog is not None:
            self.catalog.conversations_put(self._key(user), text)
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".chats-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, self._path(user))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _bounded(self, chat: list[dict], turns: list[dict], panels: list[str],
                 old: dict[str, Any] | None) -> dict[str, Any]:
        """The chat cut to its last max_answers answers (two chat messages and two turns per answer)."""
        dropped = int((old or {}).get("dropped", 0))
        panels = list(panels)
        # the panels passed in include the placeholders of answers dropped before; drop them again
        live = panels[dropped:] if len(panels) >= dropped else panels
        extra = max(0, len(live) - self.max_answers)
        keep = len(live) - extra
        return {"chat": _plain(chat)[-2 * keep:] if keep else [], "turns": _plain(turns)[-2 * keep:] if keep else [],
                "panels": live[extra:], "dropped": dropped + extra, "answers": dropped + len(live)}


def _plain(messages: list[dict]) -> list[dict[str, str]]:
    """Chat messages as {role, content} strings (what the chatbot shows and the assistant reads). The chatbot
    hands its messages back with content as a list of parts ([{"type": "text", "text": ...}]): joined."""
    out = []
    for m in messages:
        if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
            continue
        content = m.get("content")
        if isinstance(content, list):
            content = "".join(str(part.get("text") or "") for part in content
                              if isinstance(part, dict) and part.get("type", "text") == "text")
        if isinstance(content, str):
            out.append({"role": str(m["role"]), "content": content})
    return out


def _title(messages: list[dict]) -> str:
    first = next((m["content"] for m in messages if isinstance(m, dict) and m.get("role") == "user"
                  and isinstance(m.get("content"), str)), "") or "(untitled chat)"
    first = " ".join(first.split())
    return first if len(first) <= TITLE_CHARS else first[:TITLE_CHARS - 1].rstrip() + "…"
