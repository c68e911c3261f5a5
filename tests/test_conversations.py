"""Each web user's earlier chats (issue 27): kept per login name on the server, bounded, listed newest first,
reopened whole; a reload brings the latest back; a damaged file starts a new list instead of failing."""

from __future__ import annotations

import json

import pytest

from rag.frontends.web.conversations import DROPPED_PANEL, ConversationStore

from .conftest import SEED_QUESTION


def _exchange(n: int) -> tuple[list[dict], list[dict], list[str]]:
    chat, turns, panels = [], [], []
    for i in range(1, n + 1):
        chat += [{"role": "user", "content": f"question {i}"},
                 {"role": "assistant", "content": [{"type": "text", "text": f"answer {i} [\\[1\\]](#cite-{i}-1)"}]}]
        turns += [{"role": "user", "content": f"question {i}"}, {"role": "assistant", "content": f"answer {i} [1]"}]
        panels.append(f'<div id="cite-{i}-1">source {i}</div>')
    return chat, turns, panels


def test_chats_are_kept_per_user_newest_first_and_reopened_whole(tmp_path):
    store = ConversationStore(tmp_path)
    chat, turns, panels = _exchange(2)
    first = store.save("ana", None, chat, turns, panels)
    second = store.save("ana", None, *_exchange(1))
    assert [c["id"] for c in store.list("ana")] == [second, first]
    assert store.list("ana")[1] | {"updated_at": 0} == {"id": first, "title": "question 1", "answers": 2,
                                                        "updated_at": 0}
    assert store.list("ben") == [] and store.list(None) == []  # another login sees none of them
    got = store.get("ana", first)
    assert got["turns"] == turns and got["panels"] == panels
    assert got["chat"][1] == {"role": "assistant", "content": "answer 1 [\\[1\\]](#cite-1-1)"}  # parts joined
    assert store.get("ben", first) is None
    store.save("ana", first, *_exchange(3))  # the chat goes on: same id, now the newest
    assert [c["id"] for c in store.list("ana")] == [first, second] and store.list("ana")[0]["answers"] == 3
    assert store.delete("ana", second) and [c["id"] for c in store.list("ana")] == [first]


def test_login_names_never_become_paths(tmp_path):
    store = ConversationStore(tmp_path)
    store.save("../../etc/passwd", None, *_exchange(1))
    files = list((tmp_path / "conversations").iterdir())
    assert len(files) == 1 and files[0].parent == tmp_path / "conversations" and "passwd" not in files[0].name


def test_chats_are_bounded_in_number_answers_and_bytes(tmp_path):
    store = ConversationStore(tmp_path, max_conversations=3, max_answers=4, max_bytes=20_000)
    ids = [store.save("ana", None, *_exchange(1)) for _ in range(5)]
    assert [c["id"] for c in store.list("ana")] == ids[:-4:-1]  # the three newest
    long_id = store.save("ana", None, *_exchange(6))
    got = store.get("ana", long_id)
    # the oldest two answers dropped; their places kept, so the next answer is still number 7
    assert len(got["panels"]) == 6 and got["panels"][:2] == [DROPPED_PANEL] * 2
    assert [m["content"] for m in got["turns"]][0] == "question 3" and len(got["chat"]) == 8
    chat, turns, panels = _exchange(7)
    store.save("ana", long_id, chat, turns, got["panels"] + panels[6:])
    assert len(store.get("ana", long_id)["panels"]) == 7 and store.list("ana")[0]["answers"] == 7
    big = ["x" * 6_000]
    for _ in range(4):
        store.save("ben", None, [{"role": "user", "content": "q"}], [{"role": "user", "content": "q"}], big)
    assert len(store.list("ben")) == 3  # the oldest chat went to keep the file under max_bytes
    path = store._path("ben")
    assert path.stat().st_size <= 20_000


def test_a_damaged_file_starts_a_new_list(tmp_path, caplog):
    store = ConversationStore(tmp_path)
    store.save("ana", None, *_exchange(1))
    store._path("ana").write_text("{not json", encoding="utf-8")
    assert store.list("ana") == []
    assert "could not be read" in caplog.text
    store.save("ana", None, *_exchange(1))
    assert len(store.list("ana")) == 1 and json.loads(store._path("ana").read_text())["version"] == 1


def test_an_answered_chat_is_saved_and_a_reload_brings_it_back(handlers):
    chat, turns, _, panels, conversation_id, _ = handlers.restore("ana")
    assert (chat, turns, panels, conversation_id) == ([], [], [], None)  # nothing kept yet
    updates = list(handlers.respond_kept(SEED_QUESTION, [], [], [], "", "", "", [], None, "ana"))
    chat, turns, panel, notice, box, panels, conversation_id = updates[-1]
    history = handlers.history_update("ana", conversation_id)
    assert conversation_id and history["value"] == conversation_id
    assert [label for label, _ in history["choices"]][0].startswith("What did Kardashian say about Balenciaga? · 1 answer · ")
    restored = handlers.restore("ana")
    assert restored[0] == chat and restored[1] == turns and restored[3] == panels
    assert restored[4] == conversation_id and 'id="cite-1-1"' in restored[2]
    follow = list(handlers.respond_kept("Did she turn down a deal?", turns, chat, [], "", "", "", panels,
                                        conversation_id, "ana"))[-1]
    assert follow[6] == conversation_id and len(handlers.conversations.get("ana", conversation_id)["panels"]) == 2
    assert handlers.restore("ben")[4] is None  # another login starts empty
    reopened = handlers.open_chat(conversation_id, "ana")
    assert reopened[0] == follow[0] and reopened[5] == conversation_id
    gone = handlers.open_chat("no-such-chat", "ana")
    assert gone[0] == [] and "no longer kept" in gone[3]


def test_an_error_is_not_saved(handlers):
    updates = list(handlers.respond_kept("", [], [], [], "", "", "", [], None, "ana"))
    assert "empty" in updates[-1][3] and handlers.conversations.list("ana") == []


def _catalog(home):
    from rag.core.settings import Settings
    from rag.index import Index

    return Index(Settings(home=home), vectors=None)


def test_chats_are_kept_in_the_catalog_where_every_process_reads_them(tmp_path):
    store = ConversationStore(tmp_path, catalog=_catalog(tmp_path))
    first = store.save("ana", None, *_exchange(2))
    assert not (tmp_path / "conversations").exists()  # no file: the catalog holds them
    other = ConversationStore(tmp_path, catalog=_catalog(tmp_path))  # another process on the same home
    assert [c["id"] for c in other.list("ana")] == [first] and other.get("ana", first)["turns"] == _exchange(2)[1]
    assert other.list("ben") == []
    assert other.delete("ana", first) and store.list("ana") == []


def test_chats_kept_in_files_by_an_earlier_version_move_into_the_catalog(tmp_path):
    old = ConversationStore(tmp_path)  # the file store an earlier version wrote
    kept = old.save("ana", None, *_exchange(1))
    path = old._path("ana")
    store = ConversationStore(tmp_path, catalog=_catalog(tmp_path))
    assert [c["id"] for c in store.list("ana")] == [kept]
    assert not path.exists() and path.with_suffix(".json.moved").exists()  # moved, the file kept aside
    assert [c["id"] for c in ConversationStore(tmp_path, catalog=_catalog(tmp_path)).list("ana")] == [kept]


def test_a_catalog_that_is_away_shows_no_list_and_loses_none(tmp_path, caplog):
    from rag.core.errors import StoreError

    class Away:
        def __init__(self) -> None:
            self.data: dict[str, str] = {}
            self.up = True

        def conversations_get(self, key: str) -> str | None:
            if not self.up:
                raise StoreError("The catalog at db:5432/x is not answering.")
            return self.data.get(key)

        def conversations_put(self, key: str, text: str) -> None:
            if not self.up:
                raise StoreError("The catalog at db:5432/x is not answering.")
            self.data[key] = text

    catalog = Away()
    store = ConversationStore(tmp_path, catalog=catalog)
    kept = store.save("ana", None, *_exchange(2))
    catalog.up = False
    assert store.list("ana") == [] and store.get("ana", kept) is None  # not shown, not an error
    with pytest.raises(StoreError):  # the web page logs it and keeps the answer (page.respond_kept)
        store.save("ana", None, *_exchange(1))
    catalog.up = True
    assert [c["id"] for c in store.list("ana")] == [kept]  # the list the catalog held, whole
    assert "cannot be read now" in caplog.text
