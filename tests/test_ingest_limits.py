"""Bounded work per input through the whole ingest: the report lists what was degraded, a long article is
embedded in batches with progress that moves, and a CLI ingest stopped by SIGTERM exits cleanly having
written nothing half-way."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from ingest import Ingestor
from rag.core.settings import Settings
from rag.index.sqlite_catalog import SqliteCatalog as Catalog

REPO = Path(__file__).resolve().parents[1]
SENTENCE = "The harbour ferry will run at night from May, the council said on Monday after a long vote. "


class CountingEmbedder:
    """A scripted embedder (the Ingestor's injected collaborator): fixed unit vectors, records batch sizes."""

    dimension = 384

    def __init__(self) -> None:
        self.calls: list[int] = []

    def embed(self, texts):
        self.calls.append(len(texts))
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        vectors[:, 0] = 1.0
        return vectors


def long_article(path: Path, paragraphs: int) -> Path:
    parts = [f"Paragraph {i}: " + SENTENCE * 6 + f"Rider count {i} was noted by the clerk." for i in range(paragraphs)]
    path.write_text("Long Ferry Story\n\n" + "\n\n".join(parts) + "\n", encoding="utf-8")
    return path


def test_long_article_is_embedded_in_batches_with_progress(tmp_path: Path) -> None:
    embedder = CountingEmbedder()
    ingestor = Ingestor(Settings(home=tmp_path / "home", embed_batch_size=32), embedder=embedder)
    seen: list[tuple[int, int]] = []
    report = ingestor.ingest([str(long_article(tmp_path / "long.txt", 900))],
                             embed_progress=lambda done, total: seen.append((done, total)))
    assert report.counts()["added"] == 1 and report.passages > 200
    assert max(embedder.calls) <= 32 and sum(embedder.calls) == report.passages
    totals = {total for _, total in seen}
    assert totals == {report.passages}
    assert [done for done, _ in seen] == sorted(done for done, _ in seen) and seen[-1][0] == report.passages
    assert len(seen) >= report.passages // 32  # it moved, batch by batch


def test_report_names_every_degraded_and_skipped_input_in_text_and_json(tmp_path: Path, capsys) -> None:
    from rag.frontends.cli import main

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "latin.txt").write_bytes("Night Trams\n\nZürich café owners welcome the night trams, the city said."
                                       .encode("latin-1"))
    (folder / "gone.txt").symlink_to(tmp_path / "missing.txt")
    (folder / "lines.jsonl").write_bytes(b'{"id": "ok", "body": "The ferry runs at night from May, they said."}\n'
                                         b'{"id": "bad", "body": "bro\x00ken"}\n')
    home = str(tmp_path / "home")
    code = main(["--home", home, "ingest", "--quiet", str(folder)])
    text = capsys.readouterr().out
    main(["--home", home, "ingest", "--json", str(folder)])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert "warnings 1" in text and "warning: " in text and "guessed encoding" in text
    assert "failed: " in text and "broken symbolic link" in text and "line 2 holds a NUL byte" in text
    assert data["warnings"] == 1 and data["items"]["warnings"][0]["reason"].startswith("guessed encoding")
    reasons = " | ".join(f["reason"] for f in data["items"]["failed"])
    assert "broken symbolic link" in reasons and "NUL byte" in reasons


def test_sigterm_during_a_cli_ingest_exits_cleanly_and_writes_nothing_half_way(tmp_path: Path) -> None:
    home = tmp_path / "home"
    article = long_article(tmp_path / "long.txt", 3000)
    env = {**os.environ, "PYTHONPATH": str(REPO), "NEWSRAG_HOME": str(home), "NEWSRAG_EMBED_BATCH_SIZE": "16"}
    proc = subprocess.Popen([sys.executable, "-m", "rag.frontends.cli", "ingest", str(article)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen: list[bytes] = []

    def read() -> None:  # the progress line says when passages are being embedded (nothing is stored yet then)
        for chunk in iter(lambda: proc.stderr.read1(4096), b""):
            seen.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            if re.search(rb"embedding (\d+)/", b"".join(seen)) and int(re.findall(rb"embedding (\d+)/",
                                                                                    b"".join(seen))[-1]) >= 64:
                break
            time.sleep(0.2)
        assert proc.poll() is None, b"".join(seen)[-2000:]
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
        reader.join(timeout=10)
        err = b"".join(seen)
    finally:
        if proc.poll() is None:
            proc.kill()
    err_text = err.decode(errors="replace")
    assert proc.returncode == 143, err_text[-2000:]
    assert "terminated: stopped" in err_text and "terminate called" not in err_text
    assert "Traceback" not in err_text
    catalog = Catalog(home)
    assert catalog.pending_ids() == [] and catalog.articles() == []
