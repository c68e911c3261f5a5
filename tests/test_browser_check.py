"""The checked LLM answer in a real browser: with a scripted OpenAI-compatible model behind the web chat, the
supported sentence carries its [n] link, the unconfirmed one shows set apart as not confirmed by the sources
(and unlinked), and the line under the chat says what the check removed and why."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from .conftest import ingested_home
from .test_browser import ARGS, CHROMIUM, WAIT_MS
from .test_llm_check import ARTICLE, QUESTION, Scripted

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_unconfirmed_mark_and_the_removal_reasons_show_in_the_web_chat(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no browser at {CHROMIUM}: install Debian's chromium (make browser)")
    from playwright.sync_api import sync_playwright

    from rag.answer.assistant import Assistant
    from rag.check.citations import unconfirmed_mark
    from rag.core.settings import Settings
    from rag.frontends.web.page import launch

    home = ingested_home(tmp_path, [ARTICLE])
    fake = Scripted(lambda prompt: '{"verdicts": []}')
    settings = Settings(home=home, llm="openai:scripted", openai_base_url=fake.url, openai_api_key="sk-test-1",
                        llm_timeout=10, host="127.0.0.1", port=_free_port())
    demo = launch(Assistant.from_settings(settings), settings, prevent_thread_lock=True, quiet=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, timeout=WAIT_MS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.set_default_timeout(WAIT_MS)
                page.goto(demo.local_url, wait_until="domcontentloaded")
                box = page.locator("#nr-msg textarea")
                box.fill(QUESTION)
                box.press("Enter")
                page.wait_for_selector('#nr-chat a[href="#cite-1-1"]')
                page.wait_for_function(
                    "() => document.querySelector('#nr-notice') && "
                    "document.querySelector('#nr-notice').innerText.includes('removed')")
                chat = page.locator("#nr-chat")
                text = chat.inner_text()
                assert "main causes.[1]" in text
                assert "Prices will double by Christmas" in text
                mark = chat.locator("em", has_text=unconfirmed_mark())
                assert mark.count() >= 1  # set apart, not as plain cited prose
                assert mark.first.locator("xpath=ancestor::a").count() == 0
                for gone in ("phish.example", "Ignore previous", "ZAPPED", "Chamber"):
                    assert gone not in text
                notice = page.locator("#nr-notice").inner_text()
                assert "marked not confirmed by the sources" in notice
                assert "another number" in notice and "Chamber of Commerce" in notice
            finally:
                browser.close()
    finally:
        demo.close()
        fake.close()
