"""The quote index in the catalog: filled at ingest, replaced on update, removed with the article, filled in
for a store made before it existed."""

from __future__ import annotations

import json
import time

from ingest import Ingestor
from rag.attribution.quote_index import index_quotes, surname_key
from rag.core.settings import Settings

BODY = ("Mayor Ines Okoro opened the new bridge on Sunday.\n\n"
        "\"This bridge joins two halves of one city,\" Okoro said.\n\n"
        "Engineer Paul Brandt said the span was built to last a century.")


def _write(path, body, title="Bridge opens"):
    path.write_text(json.dumps({"id": "bridge", "title": title, "source": "Town Crier", "published_at": "2026-04-01",
                                "body": body}) + "\n")
    return str(path)


def test_resolves_the_full_name_and_role_from_the_article():
    quotes = index_quotes("bridge", BODY)
    direct = next(q for q in quotes if q.kind == "direct")
    assert direct.speaker == "Ines Okoro" and direct.description and "Mayor" in direct.description
    assert BODY[direct.start:direct.end] == direct.text
    assert surname_key("Kamala Harris") == "harris" and surname_key("Sanders's") == "sanders"


def test_quotes_follow_ingest_update_and_removal(tmp_path):
    settings = Settings(home=tmp_path / "home")
    ing = Ingestor(settings)
    ing.ingest([_write(tmp_path / "a.jsonl", BODY)])
    cat = ing.catalog
    found = cat.quotes_by_speaker("Okoro")
    assert found and found[0].source == "Town Crier" and found[0].published_at == "2026-04-01"
    assert cat.find_quote_text(["halves", "city"])[0].quote.speaker == "Ines Okoro"

    changed = BODY.replace("joins two halves of one city", "is a promise kept to every resident")
    ing.ingest([_write(tmp_path / "a.jsonl", changed)])  # an update replaces the quotes
    assert not cat.find_quote_text(["halves"])
    assert cat.find_quote_text(["promise", "resident"])

    ing.remove("bridge")
    assert not cat.quotes_by_speaker("Okoro") and not cat.quotes_by_speaker("Brandt")


def test_store_made_before_the_index_is_filled_in(tmp_path):
    settings = Settings(home=tmp_path / "home")
    ing = Ingestor(settings)
    ing.ingest([_write(tmp_path / "a.jsonl", BODY)])
    cat = ing.index.catalog  # the SQLite catalog behind the Index
    cat._db.execute("DELETE FROM quotes")  # as an older store has them: none
    cat._db.execute("DELETE FROM meta WHERE key='quotes_indexed'")
    assert not cat.quotes_indexed()
    assert ing.index_quotes() == 1
    assert cat.quotes_by_speaker("Brandt") and cat.quotes_indexed()
    assert ing.index_quotes() == 0


def test_a_store_indexed_by_another_extractor_version_is_derived_again_in_batches_not_at_open(tmp_path):
    """Opening a store stamped by another extractor derives nothing (opening stays cheap at any size) and its old
    quotes keep answering; `index_quotes` then derives them again a batch per transaction, resuming where it
    stopped, and stamps the index; an ingest does a few seconds of it after its own articles."""
    import time

    from rag.attribution.quote_index import EXTRACTOR_VERSION

    settings = Settings(home=tmp_path / "home")
    ing = Ingestor(settings)
    three = tmp_path / "three.jsonl"
    three.write_text("".join(json.dumps({"id": f"b{i}", "title": f"{place} opens", "source": "Town Crier",
                                         "published_at": f"2026-04-0{i + 1}",
                                         "body": f"{place.title()} news for week {i}: {extra}\n\n"
                                                 + BODY.replace("bridge", place)}) + "\n"
                             for i, (place, extra) in enumerate((
                                 ("bridge", "traffic was light and the river ran high"),
                                 ("ferry pier", "gulls gathered over the quay all morning"),
                                 ("library", "the reading room stayed open until nine")))))
    assert len(ing.ingest([str(three)]).added) == 3
    db = ing.index.catalog._db
    # as an older extractor left it: the quotes credited to nobody, the index stamped with another version
    db.execute("UPDATE quotes SET speaker=NULL, surname=NULL")
    db.execute("UPDATE meta SET value='0' WHERE key='quotes_indexed'")
    ing.index.close()

    started = time.monotonic()
    reopened = Ingestor(settings)
    index = reopened.index
    assert not index.quotes_indexed() and index.quotes_remaining() == 3
    assert index.find_quote_text(["halves"])  # the old quotes answer meanwhile
    assert not index.quotes_by_speaker("Okoro")
    assert time.monotonic() - started < 30
    assert reopened.index_quotes(batch=1, seconds=0) == 0  # no time given: nothing done
    assert index.refresh_quotes(1) == 1 and index.quotes_remaining() == 2 and not index.quotes_indexed()
    assert {q.quote.speaker for q in index.quotes_by_speaker("Okoro")} == {"Ines Okoro"}  # the first batch is live
    assert reopened.index_quotes(batch=1) == 2  # resumes at the second article, then stamps
    assert index.quotes_indexed() and index.quotes_remaining() == 0 and reopened.index_quotes() == 0
    stamp = index.catalog._db.execute("SELECT value FROM meta WHERE key='quotes_indexed'").fetchone()[0]
    assert stamp == EXTRACTOR_VERSION
    assert {q.quote.article_id for q in index.quotes_by_speaker("Brandt")} >= {"b1"}

    index.catalog._db.execute("UPDATE meta SET value='0' WHERE key='quotes_indexed'")
    report = reopened.ingest([_write(tmp_path / "new.jsonl", BODY.replace("bridge", "tunnel"))])
    assert report.quotes_refreshed == 3 and "quotes of 3 stored articles derived again" in report.summary_line()
    assert index.quotes_indexed()


def test_the_web_server_refreshes_an_older_stores_quotes_in_the_background(tmp_path):
    from rag.attribution.refresh import QuoteRefresher

    settings = Settings(home=tmp_path / "home")
    ing = Ingestor(settings)
    ing.ingest([_write(tmp_path / "a.jsonl", BODY)])
    ing.index.catalog._db.execute("UPDATE meta SET value='0' WHERE key='quotes_indexed'")
    refresher = QuoteRefresher(lambda: ing, batch=1)
    assert refresher.start(ing.index)
    deadline = time.monotonic() + 30
    while refresher.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not refresher.running and refresher.done == 1 and ing.index.quotes_indexed()
    assert refresher.stop(1) and not QuoteRefresher(lambda: ing).start(ing.index)  # current: nothing to start


def test_the_fast_role_search_finds_exactly_what_the_pattern_finds():
    """`_role_before` tries the role pattern only near role words; it must return finditer's matches, also where a
    role word sits inside another word ("attac-king President ..."), two words before it, or after capitals."""
    from rag.attribution import quote_index as qi

    texts = [
        "Union members were seen attacking President Ada Lune, and later Forest Service Chief Vic Orr spoke.",
        "The former state Senator Jo Marsh met Vice President Kim Hale; a spokesperson Lee Tam declined.",
        "Instrumental in taking Principal Holdings public, chief executive Ana Ruiz and CEO Bo Lind left.",
        "İstanbul's Mayor Ekrem Demir and the minister Ula Berg met the Prime Minister Olaf Wen.",
        "No roles here at all, only words and Names Like These.",
    ]
    for text in texts:
        want = [(m.start(), m.end(), m.group("name")) for m in qi._ROLE_BEFORE.finditer(text)]
        assert [(m.start(), m.end(), m.group("name")) for m in qi._role_before(text)] == want, text
    assert any(qi._ROLE_BEFORE.search(t) for t in texts)
