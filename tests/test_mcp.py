"""`newsrag mcp` driven by the MCP SDK's own client: over stdio (the command spawned as a subprocess, as a desktop
client starts it) and over streamable HTTP on 127.0.0.1 (with and without the bearer token), on a copy of the
bundled sample store with extractive answers. And the same answer, byte for byte, from `rag.ask`, the web chat,
Slack's text, `/api/ask` and the MCP `ask` tool."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import anyio
import pytest

from .conftest import ROOT, SEED_QUESTION, served
from .test_web import free_port

TIMEOUT = 180
TOKEN = "mcp-test-token-" + "q" * 24


def _env(home, **extra) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
            "HOME": str(home.parent), "NEWSRAG_HOME": str(home), "NEWSRAG_LLM": "extractive",
            "NEWSRAG_OLLAMA_BASE_URL": "http://127.0.0.1:9", **extra}


@pytest.fixture
def home(sample_home, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(sample_home, home)
    return home


def stdio(home, **extra):
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(command=sys.executable, args=["-m", "rag.frontends.cli", "mcp"], env=_env(home, **extra),
                                   cwd=str(home.parent))
    return Client(params, read_timeout_seconds=TIMEOUT)


def run(coro_fn, *args):
    return anyio.run(coro_fn, *args)


# -- stdio -----------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_stdio_session_lists_the_tools_and_calls_each_on_the_sample(home):
    from mcp import MCPError

    async def session():
        async with stdio(home) as client:
            assert "newsrag://article/{id}" in client.instructions  # prompts/mcp_instructions.md
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert set(tools) == {"ask", "search", "quotes", "coverage"}  # no `add` unless the setting allows it
            for tool in tools.values():
                assert tool.description and tool.output_schema and tool.input_schema["type"] == "object"
            assert tools["ask"].input_schema["required"] == ["question"]
            assert set(tools["ask"].input_schema["properties"]) == {"question", "as_of", "sources", "since", "until"}
            assert tools["ask"].annotations.read_only_hint

            seed = await client.call_tool("ask", {"question": SEED_QUESTION})
            assert not seed.is_error
            answer = seed.structured_content
            assert not answer["refused"] and answer["citations"] and "[1]" in answer["text"]
            quotes = " ".join(c["quote"] for c in answer["citations"])
            assert "disgusted and outraged" in quotes  # her words, with a checked citation
            c = answer["citations"][0]
            assert c["title"] == "Kim Kardashian Balenciaga" and c["source"] == "TMZ"
            readable = seed.content[0].text
            assert readable.startswith(answer["text"]) and "Sources:" in readable
            assert f"newsrag://article/{c['article_id']}" in readable

            refused = await client.call_tool("ask", {"question": "Who won the 1998 World Cup final?"})
            assert not refused.is_error and refused.structured_content["refused"]
            assert not refused.structured_content["citations"]

            empty = await client.call_tool("ask", {"question": "   "})
            assert empty.is_error
            assert empty.content[0].text == "The question is empty: type a question about the ingested news."
            bad_date = await client.call_tool("ask", {"question": SEED_QUESTION, "since": "last week"})
            assert bad_date.is_error and "'last week' is not a date: use YYYY-MM-DD" in bad_date.content[0].text
            malformed = await client.call_tool("ask", {"question": 5})
            assert malformed.is_error and "question" in malformed.content[0].text
            missing = await client.call_tool("search", {})
            assert missing.is_error and "query" in missing.content[0].text

            found = (await client.call_tool("search", {"query": "Balenciaga campaign", "k": 2})).structured_content
            assert len(found["passages"]) == 2 and found["passages"][0]["passage"]["source"] == "TMZ"
            said = (await client.call_tool("quotes", {"speaker": "Kardashian", "topic": "Balenciaga"})
                    ).structured_content
            assert said["total"] >= 1 and {q["speaker"] for q in said["quotes"]} == {"Kim Kardashian"}
            nobody = await client.call_tool("quotes", {})
            assert nobody.is_error and "Give a speaker, a topic, or both" in nobody.content[0].text
            coverage = (await client.call_tool("coverage", {})).structured_content
            assert coverage["articles"] == 1 and coverage["outlets"] == {"TMZ": 1} and coverage["undated"] == 1

            templates = (await client.list_resource_templates()).resource_templates
            assert [t.uri_template for t in templates] == ["newsrag://article/{article_id}"]
            text = (await client.read_resource(f"newsrag://article/{c['article_id']}")).contents[0].text
            assert text.startswith("# Kim Kardashian Balenciaga") and c["quote"][:40] in " ".join(text.split())
            listing = json.loads((await client.read_resource("newsrag://articles")).contents[0].text)
            assert [a["id"] for a in listing["articles"]] == [c["article_id"]]
            with pytest.raises(MCPError) as info:
                await client.read_resource("newsrag://article/0123456789abcdef")
            assert "No article has the id" in info.value.message
            with pytest.raises(MCPError):
                await client.read_resource("newsrag://nothing/here")
            unknown = await client.call_tool("delete_everything", {})
            assert unknown.is_error and "delete_everything" in unknown.content[0].text

    run(session)


@pytest.mark.slow
def test_add_is_offered_only_when_enabled_and_goes_through_the_front_doors(home):
    text = ("The Lowmoor library reopened on Saturday after a two-year rebuild. \"We have three times the shelf "
            "space we had before,\" said librarian Odile Fenwick, who ran the project. The rebuild cost 2 million "
            "pounds, the council said.")

    async def session():
        async with stdio(home, NEWSRAG_MCP_ALLOW_ADD="1") as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert "add" in tools and not tools["add"].annotations.read_only_hint
            refused = await client.call_tool("add", {"url_or_text": "http://127.0.0.1:9/private"})
            assert refused.is_error
            (failed,) = refused.structured_content["report"]["items"]["failed"]
            assert "loopback" in failed["reason"]
            added = await client.call_tool("add", {"url_or_text": text, "title": "Lowmoor library reopens",
                                                   "source": "Lowmoor Post", "published_at": "2026-10-10"})
            assert not added.is_error and added.structured_content["report"]["added"] == 1
            again = await client.call_tool("add", {"url_or_text": text, "title": "Lowmoor library reopens",
                                                   "source": "Lowmoor Post", "published_at": "2026-10-10"})
            assert again.structured_content["report"]["unchanged"] == 1  # the same story again is recognised
            answer = (await client.call_tool("ask", {"question": "What did Odile Fenwick say about the library?"})
                      ).structured_content
            assert "three times the shelf space" in answer["text"]
            assert answer["citations"][0]["source"] == "Lowmoor Post"

    run(session)


# -- streamable HTTP -------------------------------------------------------------------------------------------
class _Server:
    """`newsrag mcp --http` as a subprocess, stopped with SIGINT; the line that says it is ready, read from stdout."""

    def __init__(self, home, port: int, **extra) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "rag.frontends.cli", "mcp", "--http", "--port", str(port)],
                                     env=_env(home, **extra), cwd=str(home.parent), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True)
        self.lines: list[str] = []
        threading.Thread(target=lambda: self.lines.extend(iter(self.proc.stdout.readline, "")), daemon=True).start()

    def ready(self) -> str:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline and self.proc.poll() is None:
            for line in self.lines:
                if "ready: " in line:
                    return line.split("ready: ", 1)[1].split()[0]
            time.sleep(0.1)
        raise AssertionError(f"not ready: {''.join(self.lines)} {self.proc.stderr.read() if self.proc.poll() else ''}")

    def stop(self, how: int = signal.SIGINT) -> tuple[int, str]:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, how)
        try:
            code = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            code = self.proc.wait()
        return code, self.proc.stderr.read()


@pytest.mark.slow
def test_an_http_session_needs_the_token_and_then_answers(home):
    import httpx
    import httpx2
    from mcp import Client, MCPError
    from mcp.client.streamable_http import streamable_http_client

    port = free_port()
    server = _Server(home, port, NEWSRAG_API_TOKEN=TOKEN)
    try:
        url = server.ready()
        assert url == f"http://127.0.0.1:{port}/mcp"
        r = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, timeout=30)
        assert r.status_code == 401 and "NEWSRAG_API_TOKEN" in r.json()["error"]
        r = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, timeout=30,
                       headers={"Authorization": "Bearer not-the-token"})
        assert r.status_code == 401

        async def without_token():
            async with Client(url, read_timeout_seconds=30) as client:
                await client.list_tools()

        with pytest.raises(ExceptionGroup) as refused:  # the SDK's client reports the 401 as an error response
            run(without_token)
        assert refused.group_contains(MCPError)

        async def with_token():
            http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=TIMEOUT)
            async with http, Client(streamable_http_client(url, http_client=http), read_timeout_seconds=TIMEOUT) as c:
                assert {t.name for t in (await c.list_tools()).tools} == {"ask", "search", "quotes", "coverage"}
                result = await c.call_tool("ask", {"question": SEED_QUESTION})
                assert not result.is_error and result.structured_content["citations"]
                return result.structured_content

        answer = run(with_token)
        assert "disgusted and outraged" in " ".join(c["quote"] for c in answer["citations"])
    finally:
        code, err = server.stop()
    assert code == 0 and "Traceback" not in err, err
    assert "Stopped." in "".join(server.lines)


@pytest.mark.slow
def test_sigterm_stops_the_http_server_cleanly(home):
    server = _Server(home, free_port())
    try:
        server.ready()
    finally:
        code, err = server.stop(signal.SIGTERM)
    assert code == 0 and "Traceback" not in err, err


def test_http_off_loopback_needs_a_token(tmp_path):
    from rag.core.errors import SettingsError
    from rag.core.settings import Settings
    from rag.frontends.api.mcp import _loopback, http_app

    with pytest.raises(SettingsError) as info:
        http_app(None, Settings(home=tmp_path / "home"), "0.0.0.0")
    assert "NEWSRAG_API_TOKEN" in str(info.value) and "127.0.0.1" in str(info.value)
    assert _loopback("127.0.0.1") and _loopback("localhost") and _loopback("::1")
    assert not _loopback("0.0.0.0") and not _loopback("192.168.1.4") and not _loopback("example.com")


def test_the_cli_refuses_to_listen_off_loopback_without_a_token(home):
    out = subprocess.run([sys.executable, "-m", "rag.frontends.cli", "mcp", "--http", "--host", "0.0.0.0", "--port", "0"],
                         env=_env(home), cwd=str(home.parent), capture_output=True, text=True, timeout=TIMEOUT)
    assert out.returncode == 2 and "error:" in out.stderr and "NEWSRAG_API_TOKEN" in out.stderr


def test_a_taken_port_is_a_clear_error(home):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run([sys.executable, "-m", "rag.frontends.cli", "mcp", "--http", "--port", str(port)], env=_env(home),
                             cwd=str(home.parent), capture_output=True, text=True, timeout=TIMEOUT)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert f"error: Cannot listen on 127.0.0.1:{port}" in out.stderr and "--port" in out.stderr


# -- one answer everywhere -------------------------------------------------------------------------------------
@pytest.mark.slow
def test_the_same_answer_from_every_front_door(home, monkeypatch):
    import httpx
    from gradio_client import Client as GradioClient

    import rag
    import rag.answer.assistant
    from rag.core.settings import Settings
    from rag.frontends.slack.format import SOURCES_MARKER, format_answer, unescape

    monkeypatch.setenv("NEWSRAG_HOME", str(home))
    monkeypatch.setenv("NEWSRAG_LLM", "extractive")
    monkeypatch.setattr(rag.answer.assistant, "_default", None)
    texts = {"rag.ask": rag.ask(SEED_QUESTION).text}
    settings = Settings(home=home, llm="extractive", host="127.0.0.1", port=free_port())
    with served(settings) as web:
        texts["web chat"] = GradioClient(web.url, verbose=False).predict(SEED_QUESTION, api_name="/ask")["text"]
        slack = format_answer(web.assistant.ask(SEED_QUESTION))["text"]
        texts["slack"] = unescape(slack.split(SOURCES_MARKER)[0])
        texts["/api/ask"] = httpx.post(web.url + "api/ask", json={"question": SEED_QUESTION}, timeout=TIMEOUT
                                       ).json()["text"]

    async def mcp_ask():
        async with stdio(home) as client:
            return (await client.call_tool("ask", {"question": SEED_QUESTION})).structured_content["text"]

    texts["mcp ask"] = run(mcp_ask)
    assert "[1]" in texts["rag.ask"]
    assert {name: text == texts["rag.ask"] for name, text in texts.items()} == {name: True for name in texts}
