"""The web ingest report shows every degraded input, not only the failed ones (no model needed)."""

from __future__ import annotations

from rag.frontends.web.render import report_html


def test_report_lists_warnings_with_the_name_the_user_chose():
    report = {"added": 1, "failed": 1, "passages": 3, "seconds": 0.2,
              "items": {"added": [{"title": "Harbour plan", "origin": "/tmp/up/x1/notes.txt"}],
                        "failed": [{"origin": "/tmp/up/x2/big.txt", "reason": "over NEWSRAG_MAX_INPUT_BYTES"}],
                        "warnings": [{"origin": "/tmp/up/x1/notes.txt",
                                      "reason": "encoding guessed as cp1252 <b>"}]}}
    html = report_html(report, {"/tmp/up/x1/notes.txt": "notes.txt"})
    assert "<b>warning</b>: notes.txt: encoding guessed as cp1252 &lt;b&gt;" in html
    assert "over NEWSRAG_MAX_INPUT_BYTES" in html
