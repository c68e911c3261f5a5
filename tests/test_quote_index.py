"""The quote index in the catalog: filled at ingest, replaced on update, removed with the article, filled in
for a store made before it existed."""

from __future__ import annotations

import json

from ingest import Ingestor
from rag.quote_index import index_quotes, surname_key
from rag.settings import Settings

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


def test_a_store_indexed_by_another_extractor_version_is_derived_again_when_opened(tmp_path):
    from rag.quote_index import EXTRACTOR_VERSION

    settings = Settings(home=tmp_path / "home")
    ing = Ingestor(settings)
    ing.ingest([_write(tmp_path / "a.jsonl", BODY)])
    db = ing.index.catalog._db
    # as an older extractor left it: the quote credited to nobody, the index stamped with another version
    db.execute("UPDATE quotes SET speaker=NULL, surname=NULL")
    db.execute("UPDATE meta SET value='0' WHERE key='quotes_indexed'")
    assert not ing.index.catalog.quotes_indexed()
    ing.index.close()

    reopened = Ingestor(settings).index
    assert reopened.quotes_by_speaker("Okoro")[0].quote.speaker == "Ines Okoro"
    assert reopened.quotes_indexed()
    stamp = reopened.catalog._db.execute("SELECT value FROM meta WHERE key='quotes_indexed'").fetchone()[0]
    assert stamp == EXTRACTOR_VERSION
