"""The web chat in a real browser (Debian chromium through Playwright): ask the seed question, see the cited
answer and the sources panel with the quote highlighted, follow a [n] link, and save docs/screenshot.png."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from .conftest import ROOT, SEED_QUESTION

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
SCREENSHOT = ROOT / "docs" / "screenshot.png"
WAIT_MS = 45_000  # the longest any one step may wait


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def url(sample_home, tmp_path_factory):
    from rag.assistant import Assistant
    from rag.settings import Settings
    from rag.web import launch

    home = tmp_path_factory.mktemp("browser") / "home"
    shutil.copytree(sample_home, home)
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


def test_seed_question_shows_a_cited_answer_with_highlighted_quote(page):
    box = page.locator("#nr-msg textarea")
    box.fill(SEED_QUESTION)
    box.press("Enter")
    page.wait_for_selector("#nr-sources-box .nr-card mark")
    page.wait_for_selector('#nr-chat a[href="#cite-1"]')
    answer = page.locator("#nr-chat").inner_text()
    assert "Balenciaga" in answer and "[1]" in answer
    cards = page.locator("#nr-sources-box .nr-card")
    assert cards.count() >= 1
    first = page.locator("#cite-1")
    assert "Kim Kardashian Balenciaga" in first.inner_text()
    assert first.locator("mark").inner_text().strip()
    assert "answered by extractive" in page.locator("#nr-notice").inner_text()
    page.wait_for_timeout(600)  # let the last paint settle
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 20_000


def test_citation_link_jumps_to_its_card(page):
    links = page.locator('#nr-chat a[href*="#cite-"]')
    n = links.count()
    assert n >= 1
    before = page.url
    links.nth(n - 1).click()
    target = links.nth(n - 1).get_attribute("href").split("#")[-1]
    page.wait_for_selector(f"#{target}.nr-flash")
    assert page.url == before and len(page.context.pages) == 1  # no navigation, no new tab


def test_empty_message_shows_a_clear_message_and_the_chat_goes_on(page):
    page.locator("#nr-msg textarea").fill("")
    page.locator("#nr-send").click()
    page.get_by_text("The question is empty").first.wait_for()
    box = page.locator("#nr-msg textarea")
    box.fill("Did she turn down a deal?")
    box.press("Enter")
    page.wait_for_function("document.querySelector('#nr-sources-box').innerText.includes('Did she turn down')")
    page.wait_for_selector("#nr-sources-box .nr-card mark")
    assert "deal" in page.locator("#nr-sources-box").inner_text()
    assert page.locator("#nr-chat").inner_text().count("Balenciaga") >= 2  # both answers are in the chat


def test_example_question_asks_it(page):
    page.locator("#nr-new").click()
    page.wait_for_selector("#nr-sources-box .nr-empty")
    page.locator("#nr-examples").get_by_text(SEED_QUESTION).first.click()
    page.wait_for_selector("#nr-sources-box .nr-card mark")
    assert SEED_QUESTION in page.locator("#nr-chat").inner_text()
