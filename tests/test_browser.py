"""The web chat in a real browser (Debian chromium through Playwright): ask the seed question, see the cited
answer and the sources panel (one card per article) with the quotes highlighted, follow a [n] link, reach an
earlier answer's sources, read the coverage chart's axes.

Screenshots go to a temporary folder, so a test run leaves the tracked docs/screenshot.png alone; set
NR_SCREENSHOT_DIR=docs to refresh the README's screenshot deliberately (the chat one is saved as screenshot.png)."""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path

import pytest

from .conftest import SEED_QUESTION

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
WAIT_MS = 45_000  # the longest any one step may wait
# Small dated articles of our own (two outlets, two years apart), so the chart has a date axis to show.
DATED = [
    {"title": "Harbour reopening delayed to spring", "source": "Coast Gazette", "published_at": "2024-04-02",
     "text": "The harbour will not reopen until spring, the port authority said on Tuesday. Engineers found "
             "cracks in the northern wall during a routine survey. Repairs will cost about four million."},
    {"title": "Port authority approves harbour budget", "source": "Coast Gazette", "published_at": "2026-11-16",
     "text": "The port authority approved next year's harbour budget on Monday. Dredging of the channel will "
             "start in March, and a new ferry berth is planned for the summer season."},
    {"title": "Ferry operators welcome new berth", "source": "Valley Ledger", "published_at": "2026-11-16",
     "text": "Ferry operators welcomed the planned berth. Two companies said they would add crossings once it "
             "opens, and the town council promised more parking near the quay."},
]


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    where = os.environ.get("NR_SCREENSHOT_DIR")
    folder = Path(where) if where else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def url(sample_home, tmp_path_factory):
    from ingest import Ingestor
    from rag.answer.assistant import Assistant
    from rag.core.settings import Settings
    from rag.frontends.web.page import launch

    root = tmp_path_factory.mktemp("browser")
    home = root / "home"
    shutil.copytree(sample_home, home)
    records = root / "harbour.jsonl"
    records.write_text("".join(json.dumps(r) + "\n" for r in DATED), encoding="utf-8")
    assert Ingestor(Settings(home=home)).ingest([str(records)]).counts()["added"] == len(DATED)
    settings = Settings(home=home, llm="extractive", host="127.0.0.1", port=_free_port())
    demo = launch(Assistant.from_settings(settings), settings, prevent_thread_lock=True, quiet=True)
    try:
        yield demo.local_url
    finally:
        demo.close()


@pytest.fixture(scope="module")
def page(url):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no browser at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, timeout=WAIT_MS)
        try:
            pg = browser.new_page(viewport={"width": 1400, "height": 900})
            pg.set_default_timeout(WAIT_MS)
            pg.goto(url, wait_until="domcontentloaded")
            pg.wait_for_selector("#nr-msg textarea")
            yield pg
        finally:
            browser.close()


def test_seed_question_shows_a_cited_answer_with_one_card_per_article(page, shots):
    box = page.locator("#nr-msg textarea")
    box.fill(SEED_QUESTION)
    box.press("Enter")
    page.wait_for_selector("#nr-sources-box .nr-card mark")
    page.wait_for_selector('#nr-chat a[href="#cite-1-1"]')
    answer = page.locator("#nr-chat").inner_text()
    assert "Balenciaga" in answer and "[1]" in answer
    cards = page.locator("#nr-sources-box .nr-answer-sources .nr-card")
    titles = [cards.nth(i).locator(".nr-title").inner_text() for i in range(cards.count())]
    assert titles and len(titles) == len(set(titles)), titles  # one card per article
    targets = page.locator("#nr-sources-box .nr-answer-sources [id^='cite-1-']")
    markers = set(page.locator('#nr-chat a[href^="#cite-1-"]').evaluate_all("els => els.map(e => e.getAttribute('href'))"))
    assert targets.count() == len(markers) >= 2  # every quoted span of the article sits in its one card
    # quotes from overlapping passages share one excerpt: no sentence of the article is shown twice
    shown = page.locator("#nr-sources-box .nr-answer-sources .nr-span > .nr-span-body > p.nr-passage").all_inner_texts()
    assert sum(t.count("As a mother of four") for t in shown) == 1, shown
    first = page.locator("#cite-1-1")
    assert "Kim Kardashian Balenciaga" in first.locator("xpath=ancestor::div[contains(@class,'nr-card')]").inner_text()
    assert first.locator("mark").first.inner_text().strip()
    assert "answered by extractive" in page.locator("#nr-notice").inner_text()
    page.wait_for_timeout(600)  # let the last paint settle
    page.screenshot(path=str(shots / "screenshot.png"))
    assert (shots / "screenshot.png").stat().st_size > 20_000


def test_citation_link_jumps_to_its_card(page):
    links = page.locator('#nr-chat a[href*="#cite-"]')
    n = links.count()
    assert n >= 1
    before = page.url
    # the last marker whose target is a card of its own (a quote inside a joined excerpt is tested below)
    pick = next(i for i in range(n - 1, -1, -1) if not page.locator(
        f'#{links.nth(i).get_attribute("href").split("#")[-1]}.nr-anchor').count())
    links.nth(pick).click()
    target = links.nth(pick).get_attribute("href").split("#")[-1]
    page.wait_for_selector(f"#{target}.nr-flash")
    assert page.url == before and len(page.context.pages) == 1  # no navigation, no new tab
    # a quote inside a joined excerpt (issue 27): its marker flashes the excerpt that holds it
    anchor = page.locator("#nr-sources-box .nr-answer-sources .nr-anchor").first
    target = anchor.get_attribute("id")
    page.locator(f'#nr-chat a[href="#{target}"]').first.click()
    page.wait_for_selector(f".nr-span.nr-flash #{target}", state="attached")  # the anchor itself is empty


def test_empty_message_shows_a_clear_message_and_the_chat_goes_on(page):
    page.locator("#nr-msg textarea").fill("")
    page.locator("#nr-send").click()
    page.get_by_text("The question is empty").first.wait_for()
    box = page.locator("#nr-msg textarea")
    box.fill("Did she turn down a deal?")
    box.press("Enter")
    page.wait_for_function("document.querySelector('#nr-sources-box .nr-answer-sources').innerText.includes('Did she turn down')")
    page.wait_for_selector("#nr-sources-box .nr-answer-sources .nr-card mark")
    assert "deal" in page.locator("#nr-sources-box .nr-answer-sources").inner_text()
    assert page.locator("#nr-chat").inner_text().count("Balenciaga") >= 2  # both answers are in the chat


def test_an_earlier_answers_marker_still_shows_that_answers_source(page, shots):
    page.wait_for_selector('#nr-chat a[href="#cite-2-1"]')
    older = page.locator("#answer-1")
    assert older.evaluate("el => el.tagName") == "DETAILS" and not older.evaluate("el => el.open")
    page.locator('#nr-chat a[href="#cite-1-1"]').first.click()
    page.wait_for_selector("#cite-1-1.nr-flash")
    assert older.evaluate("el => el.open")  # unfolded, and the card is on screen
    assert page.locator("#cite-1-1").is_visible() and page.locator("#cite-1-1 mark").first.inner_text().strip()
    page.wait_for_timeout(600)
    page.screenshot(path=str(shots / "earlier-answer.png"))


def _labels(page, axis: str) -> list[str]:
    """The tick labels of the chart's axis ("X" or "Y"), as Vega draws them (SVG text)."""
    return page.locator(f"#nr-chart g[aria-label^='{axis}-axis'] g.role-axis-label text").evaluate_all(
        "els => els.map(e => (e.textContent || '').trim())")


def test_coverage_chart_has_a_date_axis_whole_counts_and_follows_the_search(page, shots):
    page.get_by_role("tab", name="Coverage", exact=True).click()
    page.wait_for_selector("#nr-chart svg g.role-axis-label text")
    x, y = _labels(page, "X"), _labels(page, "Y")
    assert y and all(t.isdigit() for t in y), y  # counts: 0, 1, 2, ... never 0.2
    assert any("2025" in t for t in x) and any("2026" in t for t in x), x  # a time axis: ticks between the dates
    assert "2024-04-02" not in x  # not one category per date
    table = page.locator("#nr-table")
    assert "harbour.jsonl:1" in table.inner_text()  # rows without a link name their file
    cell = table.get_by_text("Port authority approves harbour budget").first
    fonts = cell.evaluate("el => [el, ...el.querySelectorAll('*')].map(e => getComputedStyle(e).fontFamily)")
    body = page.locator("#nr-header").evaluate("el => getComputedStyle(el).fontFamily")
    assert fonts and all(f == body for f in fonts), (set(fonts), body)  # the page's font, not monospace
    page.wait_for_timeout(600)
    page.screenshot(path=str(shots / "coverage.png"))
    page.locator("#nr-coverage-search textarea, #nr-coverage-search input").first.fill("ferry")
    page.wait_for_function("document.querySelector('#nr-found').innerText.includes('1 of')")
    page.wait_for_function("document.querySelector('#nr-chart').innerText.includes('day')")  # one day: per day
    page.get_by_role("tab", name="Chat", exact=True).click()


def test_example_question_asks_it(page):
    page.locator("#nr-new").click()
    page.wait_for_selector("#nr-sources-box .nr-empty")
    page.locator("#nr-examples").get_by_text(SEED_QUESTION).first.click()
    page.wait_for_selector("#nr-sources-box .nr-card mark")
    assert SEED_QUESTION in page.locator("#nr-chat").inner_text()


# -- issue 27: errors in view, no stray " .", chats kept across a reload, paste and remove -------------------
def test_a_long_question_error_is_in_view_and_the_box_stays_short(page):
    box = page.locator("#nr-msg textarea")
    box.fill("How much will the harbour repairs cost? " * 150)  # 6,000 characters: over the 2,000 limit
    page.locator("#nr-send").click()
    notice = page.locator("#nr-notice")
    page.wait_for_function("document.querySelector('#nr-notice').innerText.includes('limit')")
    where = notice.bounding_box()
    assert where and where["y"] >= 0 and where["y"] + where["height"] <= 900, where  # on screen, not below it
    assert box.bounding_box()["height"] < 200  # the box scrolls instead of growing past the page
    box.fill("")


def test_no_full_stop_is_left_alone_after_a_marker(page):
    after = page.locator('#nr-chat a[href*="#cite-"]').evaluate_all(
        "els => els.map(e => (e.nextSibling && e.nextSibling.textContent || '').slice(0, 2))")
    assert after and not any(t.lstrip().startswith((".", ",")) for t in after), after


def test_the_chat_comes_back_after_a_reload_and_earlier_chats_reopen(page):
    page.reload(wait_until="domcontentloaded")
    page.wait_for_selector("#nr-msg textarea")
    page.wait_for_function(f"document.querySelector('#nr-chat').innerText.includes({SEED_QUESTION!r})")
    page.wait_for_selector("#nr-sources-box .nr-card mark")  # its sources came back too
    page.locator("#nr-history input").click()
    options = page.locator("ul[role=listbox] li")
    options.first.wait_for()
    labels = [options.nth(i).inner_text() for i in range(options.count())]
    assert len(labels) >= 2 and any("2 answers" in t for t in labels), labels
    options.filter(has_text="2 answers").first.click()
    page.wait_for_function("document.querySelector('#nr-chat').innerText.includes('Did she turn down a deal?')")
    page.wait_for_selector('#nr-chat a[href="#cite-2-1"]')


def test_a_pasted_article_is_added_then_removed_from_the_coverage_table(page, shots):
    title = "Lighthouse keeper retires after forty years"
    page.get_by_role("tab", name="Add coverage", exact=True).click()
    page.locator("#nr-paste").get_by_text("Paste an article's text").click()
    for field, value in (("title", title), ("outlet", "Point News"), ("date", "2026-06-03")):
        page.locator(f"#nr-paste-{field} textarea, #nr-paste-{field} input").first.fill(value)
    page.locator("#nr-paste-text textarea").fill(
        "The lighthouse keeper Ida Solberg retired on Wednesday after forty years on the point. \"The light never "
        "went out on my watch,\" Solberg said.")
    page.locator("#nr-paste-go").click()
    page.wait_for_function("document.querySelector('#nr-report').innerText.includes('Added 1')")
    assert "pasted text" in page.locator("#nr-report").inner_text()
    page.get_by_role("tab", name="Coverage", exact=True).click()
    page.locator("#nr-coverage-search textarea, #nr-coverage-search input").first.fill("lighthouse")
    page.wait_for_function("document.querySelector('#nr-found').innerText.includes('1 of')")
    page.locator("#nr-table [data-testid^=cell-]").filter(has_text=title).first.click()
    page.wait_for_function(f"document.querySelector('#nr-picked').innerText.includes({title!r})")
    assert "Point News, 2026-06-03" in page.locator("#nr-picked").inner_text()
    page.screenshot(path=str(shots / "remove.png"))
    page.locator("#nr-remove").click()
    page.wait_for_function("document.querySelector('#nr-article-report').innerText.includes('Removed')")
    page.wait_for_function("document.querySelector('#nr-found').innerText.includes('No articles match') || "
                           "!document.querySelector('#nr-table').innerText.includes('Lighthouse')")
    assert title not in page.locator("#nr-table").inner_text()
    page.get_by_role("tab", name="Chat", exact=True).click()
