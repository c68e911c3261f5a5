"""Every curl example in docs/API.md, run as written against the app served on 127.0.0.1 (the sample store,
extractive answers): each must exit 0 (`curl -f`: no HTTP error) and print JSON (or the event stream), and
together they must reach every endpoint the OpenAPI description lists. The examples that sign in run against a
server with a login and a token, given to them in the variables they name."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from .conftest import ROOT, served
from .test_web import free_port

DOC = ROOT / "docs" / "API.md"
BASE = "http://127.0.0.1:7860"
CREDENTIALS = {"NEWSRAG_API_TOKEN": "docs-token-" + "k" * 24, "NEWSRAG_AUTH_USER": "editor",
               "NEWSRAG_AUTH_PASSWORD": "docs-pass-123"}


def examples() -> list[str]:
    """The commands of the doc's bash blocks, continuation lines joined."""
    text = DOC.read_text(encoding="utf-8")
    out = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                out.append(line)
    return out


def _signs_in(command: str) -> bool:
    return "Authorization" in command or " -u " in command


@pytest.fixture(scope="module")
def servers(sample_home, tmp_path_factory):
    from rag.core.settings import Settings

    def settings(name, **kw):
        home = tmp_path_factory.mktemp(name) / "home"
        shutil.copytree(sample_home, home)
        return Settings(home=home, llm="extractive", host="127.0.0.1", port=free_port(), api_rate_limit=0, **kw)

    with served(settings("open")) as open_, served(settings(
            "locked", api_token=CREDENTIALS["NEWSRAG_API_TOKEN"], auth_user=CREDENTIALS["NEWSRAG_AUTH_USER"],
            auth_password=CREDENTIALS["NEWSRAG_AUTH_PASSWORD"])) as locked:
        yield open_, locked


def test_the_doc_has_an_example_for_every_endpoint(servers):
    import httpx

    open_, _ = servers
    paths = httpx.get(open_.url + "api/openapi.json", timeout=30).json()["paths"]
    shown = " ".join(examples())
    for path in paths:
        pattern = re.escape(BASE + path).replace(r"\{article_id\}", r"[0-9a-f]+").replace(r"\{job_id\}", r"\d+")
        assert re.search(pattern + r"(?:['?\s]|$)", shown), f"docs/API.md has no curl example for {path}"


def test_every_curl_example_runs(servers):
    open_, locked = servers
    commands = examples()
    assert len(commands) >= 12 and all(c.startswith("curl ") for c in commands), commands
    assert any(_signs_in(c) for c in commands)
    import httpx

    # an article's id comes from where its file was read (an absolute path here): the doc's id is the one a user
    # sees after the README's ingest; here the sample's own id stands in for it
    listed = httpx.get(open_.url + "api/articles", timeout=30).json()
    rows = listed["articles"] if isinstance(listed, dict) else listed
    real = next(a["id"] for a in rows if a["title"] == "Kim Kardashian Balenciaga")
    for command in commands:
        web = locked if _signs_in(command) else open_
        run = re.sub(r"/api/articles/[0-9a-z]+", f"/api/articles/{real}", command).replace(BASE, web.url.rstrip("/"))
        out = subprocess.run(["bash", "-c", run], capture_output=True, text=True, timeout=120,
                             env={"PATH": "/usr/bin:/bin", **CREDENTIALS})
        assert out.returncode == 0, f"{command}\n{out.stderr}"
        if "/api/ask/stream" in command:
            assert "event: answer" in out.stdout and "event: sentence" in out.stdout
            continue
        body = json.loads(out.stdout)
        assert body.get("error") is None, (command, body)
        if "/api/ask" in command:
            assert body["citations"] and "[1]" in body["text"]
        elif "/api/articles/" in command:
            assert body["title"] == "Kim Kardashian Balenciaga"
        elif "/api/quotes" in command:
            assert body["quotes"]
    # without the credentials the same examples are refused
    guarded = next(c for c in commands if _signs_in(c)).replace(BASE, locked.url.rstrip("/"))
    out = subprocess.run(["bash", "-c", guarded], capture_output=True, text=True, timeout=120,
                         env={"PATH": "/usr/bin:/bin"})
    assert out.returncode == 22  # curl -f on a 401
