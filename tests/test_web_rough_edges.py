"""The web page's rough edges of issue 27, on the rendering and handler functions themselves (no server): a
refusal shows each article once with its overlapping passages joined, a marker's full stop stays with its
sentence, the ingest status is idle once the report is back."""

from __future__ import annotations

import threading

from rag.core.schema import Answer, Hit, Passage

ARTICLE = ("The harbour will not reopen until spring, the port authority said on Tuesday. Engineers found cracks "
           "in the northern wall during a routine survey. Repairs will cost about four million euros, and the "
           "fishing fleet will use the southern quay until the work is done. Later paragraphs say more.")


def _passage(article_id: str, start: int, end: int, text: str = ARTICLE, title: str = "Harbour delayed") -> Passage:
    return Passage(id=f"{article_id}:{start}", article_id=article_id, index=start, start=start, end=end,
                   text=text[start:end], title=title, source="Coast Gazette", published_at="2024-04-02", url=None)


def _refusal(passages: list[Passage]) -> Answer:
    return Answer(text="The coverage I have does not answer this question.", citations=[], refused=True,
                  question="Who won the cup?", passages=[Hit(passage=p, score=1.0 - i / 10)
                                                          for i, p in enumerate(passages)])


def test_refusal_panel_shows_one_card_per_article_with_overlapping_passages_joined():
    from rag.frontends.web.render import answer_sources

    other_text = "The council voted to fund a second berth."
    passages = [_passage("a", 0, 140), _passage("a", 100, 230), _passage("a", 60, 120),
                _passage("b", 0, len(other_text), other_text, "Council vote")]
    html = answer_sources(_refusal(passages), turn=2)
    assert html.count('class="nr-card nr-closest"') == 2, html
    assert html.count("Harbour delayed") == 1 and html.count("Council vote") == 1
    first = html[html.index('id="closest-2-1"'):html.index('id="closest-2-2"')]
    assert first.count("Engineers found cracks") == 1  # the overlap is shown once
    assert "routine survey" in first and "four million" in first  # joined: words of both passages
    assert 'id="closest-2-2"' in html and "second berth" in html


def test_refusal_panel_keeps_apart_stretches_that_do_not_touch():
    from rag.frontends.web.render import merged_text

    stretches = merged_text([_passage("a", 150, 230), _passage("a", 0, 60), _passage("a", 40, 90)])
    assert stretches == [ARTICLE[0:90], ARTICLE[150:230]]


def test_refusal_panel_lists_at_most_three_articles():
    from rag.frontends.web.render import answer_sources

    passages = [_passage(k, 0, 80, title=f"Story {k}") for k in "abcde"]
    html = answer_sources(_refusal(passages))
    assert html.count('class="nr-card nr-closest"') == 3 and "Story d" not in html


def test_cli_refusal_lists_each_article_once(capsys):
    from rag.frontends.cli import _print_answer

    passages = [_passage("a", 0, 140), _passage("b", 0, 60, title="Other story"), _passage("a", 100, 230)]
    _print_answer(_refusal(passages).to_dict())
    out = capsys.readouterr().out
    assert out.count("Harbour delayed") == 1 and out.count("Other story") == 1
    assert out.index("(1) Harbour delayed") < out.index("(2) Other story")


def test_ingest_status_is_idle_as_soon_as_the_job_is_seen_finished(monkeypatch):
    """The status line must not say "running (N inputs read)" beside a finished report: the job leaves the
    running slot before anyone waiting on it wakes up."""
    from rag.jobs.queue import IngestJobs

    class Report:
        def to_dict(self):
            return {"added": 1}

    def ingest(targets, progress):
        for n, t in enumerate(targets, 1):
            progress(n, t)
        return Report()

    jobs = IngestJobs(ingest)
    seen = threading.Event()
    finish = jobs._finish

    def slow_finish(job, state, **kw):  # the worker is slow to get back after finishing the job
        finish(job, state, **kw)
        seen.wait(5)

    monkeypatch.setattr(jobs, "_finish", slow_finish)
    try:
        job = jobs.submit(["a.txt", "b.txt"])
        assert job.wait(10) and job.state == "done"
        line = jobs.status_line()
        seen.set()
        assert line == "Ingest: idle.", line
    finally:
        seen.set()
        jobs.shutdown(5)


def test_a_full_stop_after_a_marker_goes_before_it():
    from rag.core.schema import Citation
    from rag.frontends.web.render import answer_markdown

    cites = [Citation(n=n, article_id="a", passage_id="a:0", title="T", source=None, url=None, published_at=None,
                      passage="p", quote="p", start=0, end=1) for n in (1, 2)]
    answer = Answer(text='She said "we listened" [1]. Fares stay the same [1] [2]. Not a marker [7].',
                    citations=cites, question="q")
    md = answer_markdown(answer, turn=1)
    assert md == ('She said "we listened".[\\[1\\]](#cite-1-1) Fares stay the same.[\\[1\\]](#cite-1-1)'
                  '[\\[2\\]](#cite-1-2) Not a marker \\[7\\].'), md
    assert " ." not in md


def test_quotes_from_overlapping_passages_share_one_excerpt():
    from rag.core.schema import Citation
    from rag.frontends.web.render import sources_html

    first, second = _passage("a", 0, 140), _passage("a", 80, 230)  # chunks of one article overlap by 60
    quotes = [(first, "Engineers found cracks"), (second, "Repairs will cost about four million euros")]
    cites = [Citation(n=n, article_id="a", passage_id=p.id, title=p.title, source=p.source, url=None,
                      published_at=p.published_at, passage=p.text, quote=q, start=ARTICLE.index(q),
                      end=ARTICLE.index(q) + len(q)) for n, (p, q) in enumerate(quotes, 1)]
    answer = Answer(text="Cracks [1]. Cost [2].", citations=cites, question="q",
                    passages=[Hit(passage=first, score=1.0), Hit(passage=second, score=0.9)])
    html = sources_html(answer, turn=4)
    shown = html[:html.index("<details>")] if "<details>" in html else html
    assert shown.count("routine survey") == 1  # the overlap is shown once
    assert "<mark>Engineers found cracks</mark>" in shown
    assert '<mark><span class="nr-anchor" id="cite-4-2"></span>Repairs will cost about four million euros</mark>' in shown
    assert 'class="nr-span nr-joined" id="cite-4-1"' in shown and html.count('class="nr-card"') == 1
