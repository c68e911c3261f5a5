"""The JSON API beside the web chat (rag/frontends/api/http.py), through real HTTP on 127.0.0.1: the app served as
`newsrag serve` serves it (sample coverage, extractive answers), driven with httpx. Each endpoint, the SSE
stream, bad input (a clear 4xx JSON error), the body size limit, the rate limit, the login and the token, and 50
concurrent asks."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from .conftest import ROOT, SEED_QUESTION, served
from .test_web import free_port

TIMEOUT = 120


def _settings(home, **kw):
    from rag.core.settings import Settings

    return Settings(home=home, llm="extractive", host="127.0.0.1", port=free_port(), **kw)


@pytest.fixture(scope="module")
def api(sample_home, tmp_path_factory):
    """The app (no login, no rate limit) over a copy of the sample store."""
    home = tmp_path_factory.mktemp("api") / "home"
    shutil.copytree(sample_home, home)
    with served(_settings(home, api_rate_limit=0, api_max_body_bytes=4096)) as web:
        web.http = httpx.Client(base_url=web.url.rstrip("/"), timeout=TIMEOUT)
        yield web
        web.http.close()


@pytest.fixture
def locked(sample_home, tmp_path):
    """The app with the web chat's login and an API token set."""
    home = tmp_path / "home"
    shutil.copytree(sample_home, home)
    with served(_settings(home, auth_user="editor", auth_password="s3cret-pass", api_token="tok-" + "x" * 30,
                          api_rate_limit=0)) as web:
        yield web


def sse(text: str) -> list[tuple[str, dict]]:
    """Server-sent events as (event, data) pairs."""
    out = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        out.append((fields.get("event", "message"), json.loads(fields["data"])))
    return out


def error_of(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and body["error"].strip()
    return body["error"]


# -- answers ---------------------------------------------------------------------------------------------------
def test_ask_gives_the_checked_answer_of_the_assistant(api):
    r = api.http.post("/api/ask", json={"question": SEED_QUESTION})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert not answer["refused"] and answer["citations"] and "[1]" in answer["text"]
    c = answer["citations"][0]
    assert {"title", "source", "published_at", "url", "quote", "start", "end"} <= set(c)
    assert "disgusted and outraged" in " ".join(x["quote"] for x in answer["citations"])
    local = api.assistant.ask(SEED_QUESTION).to_dict()
    assert answer["text"] == local["text"]
    assert answer["citations"] == local["citations"]
    assert set(answer) == set(local)  # whatever Answer.to_dict() carries, the API carries


def test_a_question_the_sample_cannot_answer_is_refused_with_the_closest_passages(api):
    answer = api.http.post("/api/ask", json={"question": "Who won the 1998 World Cup final?"}).json()
    assert answer["refused"] and not answer["citations"] and answer["passages"]


def test_the_stream_sends_checked_sentences_then_the_answer(api):
    with api.http.stream("POST", "/api/ask/stream", json={"question": SEED_QUESTION}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = sse(r.read().decode())
    names = [e for e, _ in events]
    assert names[-1] == "answer" and set(names[:-1]) == {"sentence"} and len(names) >= 2
    answer = events[-1][1]
    assert "".join(d["text"] for _, d in events[:-1]).strip() == answer["text"].strip()
    assert answer["citations"] and answer["text"] == api.http.post("/api/ask", json={"question": SEED_QUESTION}
                                                                   ).json()["text"]


def test_bad_input_to_the_stream_is_a_json_error_not_a_stream(api):
    r = api.http.post("/api/ask/stream", json={"question": "  "})
    assert "question is empty" in error_of(r, 400)


@pytest.mark.parametrize("body, expected", [
    ({"question": ""}, "The question is empty: type a question about the ingested news."),
    ({"question": "x" * 3000}, "NEWSRAG_MAX_QUESTION_CHARS"),
    ({"question": SEED_QUESTION, "since": "last week"}, "'last week' is not a date: use YYYY-MM-DD"),
    ({"question": 5}, "question: Input should be a valid string"),
    ({"q": SEED_QUESTION}, "question: Field required"),
    ({"question": SEED_QUESTION, "sorce": ["TMZ"]}, "sorce: Extra inputs are not permitted"),
    ({"question": SEED_QUESTION, "history": [{"role": "bot", "content": "hi"}]}, "history.0.role"),
])
def test_bad_ask_bodies_get_a_clear_400(api, body, expected):
    assert expected in error_of(api.http.post("/api/ask", json=body), 400)


def test_a_body_that_is_not_json_says_what_to_send(api):
    r = api.http.post("/api/ask", content=b"question=hello", headers={"Content-Type": "application/json"})
    assert "not a JSON object" in error_of(r, 400)


# -- reads -----------------------------------------------------------------------------------------------------
def test_search_quotes_coverage_and_articles(api):
    found = api.http.get("/api/search", params={"q": "Balenciaga campaign", "k": 2}).json()
    assert len(found["passages"]) == 2 and {"score", "dense", "keyword"} <= set(found["passages"][0])
    assert found["passages"][0]["passage"]["title"] == "Kim Kardashian Balenciaga"

    quotes = api.http.get("/api/quotes", params={"speaker": "Kardashian", "topic": "Balenciaga"}).json()
    assert quotes["total"] >= 1 and all(q["speaker"] == "Kim Kardashian" for q in quotes["quotes"])
    assert any("disgusted and outraged" in q["text"] for q in quotes["quotes"])
    assert api.http.get("/api/quotes", params={"speaker": "Nobody Atall"}).json()["total"] == 0
    on_topic = api.http.get("/api/quotes", params={"topic": "children safety"}).json()  # no speaker: the words
    assert on_topic["total"] >= 1 and all("children" in q["text"].lower() for q in on_topic["quotes"])

    coverage = api.http.get("/api/coverage").json()
    assert coverage["articles"] >= 1 and coverage["outlets"].get("TMZ") == 1

    listing = api.http.get("/api/articles", params={"q": "kardashian"}).json()
    assert listing["total"] == 1
    row = listing["articles"][0]
    article = api.http.get(f"/api/articles/{row['id']}").json()
    assert article["title"] == row["title"] and "Balenciaga" in article["text"] and article["passages"] >= 1
    assert "origin" not in article and article["file"] == "kim-kardashian-balenciaga.txt"  # no server paths


@pytest.mark.parametrize("path, params, status, expected", [
    ("/api/search", {}, 400, "q: Field required"),
    ("/api/search", {"q": "x", "k": 0}, 400, "k: Input should be greater than or equal to 1"),
    ("/api/search", {"q": "x", "until": "2024-02-30"}, 400, "is not a date"),
    ("/api/quotes", {}, 400, "Give a speaker, a topic, or both"),
    ("/api/articles", {"limit": "many"}, 400, "limit: Input should be a valid integer"),
    ("/api/articles/0123456789abcdef", {}, 404, "No article has the id"),
    ("/api/jobs/999999", {}, 404, "No ingest job has the id 999999"),
    ("/api/jobs/x", {}, 400, "job_id: Input should be a valid integer"),
])
def test_bad_reads_get_a_clear_error(api, path, params, status, expected):
    assert expected in error_of(api.http.get(path, params=params), status)


def test_the_openapi_description_names_every_endpoint(api):
    doc = api.http.get("/api/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {"/api/ask", "/api/ask/stream", "/api/search", "/api/quotes", "/api/coverage",
                                 "/api/articles", "/api/articles/{article_id}", "/api/ingest", "/api/jobs/{job_id}"}
    ask = doc["paths"]["/api/ask"]["post"]
    assert "AskRequest" in json.dumps(ask["requestBody"]) and "413" in ask["responses"]
    assert "question" in doc["components"]["schemas"]["AskRequest"]["required"]
    assert {"bearer", "basic"} <= set(doc["components"]["securitySchemes"])


# -- limits ----------------------------------------------------------------------------------------------------
def test_an_oversized_body_is_refused_with_413(api):
    big = {"question": SEED_QUESTION, "history": [{"role": "user", "content": "y" * 5000}]}
    assert "NEWSRAG_API_MAX_BODY_BYTES" in error_of(api.http.post("/api/ask", json=big), 413)


def test_an_oversized_chunked_body_without_a_length_is_refused_too(api):
    def chunks():
        yield b'{"question": "'
        for _ in range(10):
            yield b"z" * 1000
        yield b'"}'

    r = api.http.post("/api/ask", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.request.headers.get("transfer-encoding") == "chunked" and "content-length" not in r.request.headers
    assert "over 4,096 bytes" in error_of(r, 413)


def test_the_rate_limit_answers_429_with_retry_after(sample_home, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(sample_home, home)
    with served(_settings(home, api_rate_limit=3)) as web, httpx.Client(base_url=web.url.rstrip("/")) as http:
        codes = [http.get("/api/coverage").status_code for _ in range(3)]
        r = http.get("/api/coverage")
        assert codes == [200, 200, 200]
        assert "NEWSRAG_API_RATE_LIMIT" in error_of(r, 429) and r.headers["retry-after"] == "60"
        assert http.get("/").status_code == 200  # the web chat itself is not limited by the API's rate


def test_an_empty_store_says_what_to_ingest_with_409(tmp_path):
    with served(_settings(tmp_path / "empty")) as web, httpx.Client(base_url=web.url.rstrip("/")) as http:
        message = error_of(http.post("/api/ask", json={"question": SEED_QUESTION}), 409)
        assert "Nothing has been ingested yet" in message and "newsrag ingest" in message
        assert http.get("/api/articles").json() == {"total": 0, "offset": 0, "articles": []}


# -- login -----------------------------------------------------------------------------------------------------
def test_a_login_or_the_token_is_required_when_set(locked):
    base = locked.url.rstrip("/")
    with httpx.Client(base_url=base, timeout=TIMEOUT) as http:
        r = http.get("/api/coverage")
        assert "Authorization: Bearer" in error_of(r, 401) and r.headers["www-authenticate"].startswith("Bearer")
        assert http.post("/api/ask", json={"question": SEED_QUESTION}).status_code == 401
        assert http.get("/api/coverage", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert http.get("/api/coverage", auth=("editor", "wrong")).status_code == 401
        ok = http.get("/api/coverage", headers={"Authorization": f"Bearer {locked.settings.api_token}"})
        assert ok.status_code == 200 and ok.json()["articles"] == 1
        assert http.get("/api/coverage", auth=("editor", "s3cret-pass")).status_code == 200
        # the web chat's login cookie works too
        assert http.post("/login", data={"username": "editor", "password": "s3cret-pass"}).status_code == 200
        answer = http.post("/api/ask", json={"question": SEED_QUESTION})
        assert answer.status_code == 200 and answer.json()["citations"]


# -- ingest ----------------------------------------------------------------------------------------------------
def _job(http: httpx.Client, job: dict) -> dict:
    deadline = time.monotonic() + TIMEOUT
    while job["state"] in ("waiting", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
        job = http.get(f"/api/jobs/{job['id']}").json()
    return job


def test_a_loopback_url_is_refused_by_the_ingest(api):
    r = api.http.post("/api/ingest", json={"urls": ["http://127.0.0.1:9/secret"]})
    assert r.status_code == 202 and r.headers["location"] == f"/api/jobs/{r.json()['id']}"
    job = _job(api.http, r.json())
    assert job["state"] == "done" and job["report"]["added"] == 0
    (failed,) = job["report"]["items"]["failed"]
    assert "loopback" in failed["reason"] and "NEWSRAG_FETCH_ALLOW" in failed["reason"]


@pytest.mark.parametrize("body, expected", [
    ({}, "Nothing to ingest"),
    ({"urls": ["/etc/passwd"]}, '"/etc/passwd" is not an http(s) URL'),
    ({"urls": ["file:///etc/passwd"]}, "is not an http(s) URL"),
    ({"articles": [{"text": "  "}]}, "articles[0] has no text"),
    ({"articles": [{"title": "no text"}]}, "articles.0.text: Field required"),
])
def test_bad_ingest_requests_get_a_clear_400(api, body, expected):
    assert expected in error_of(api.http.post("/api/ingest", json=body), 400)


def test_an_article_sent_as_text_is_ingested_and_answerable(api):
    text = ("Harbour officials in Port Elvane opened the new ferry terminal on Tuesday. \"The terminal doubles the "
            "number of crossings we can run each day,\" said harbour master Ilse Marrow. The terminal cost 40 "
            "million euros and took three years to build, officials said.")
    r = api.http.post("/api/ingest", json={"articles": [{"text": text, "title": "Port Elvane opens ferry terminal",
                                                         "source": "Elvane Courier", "published_at": "2026-11-03"}]})
    job = _job(api.http, r.json())
    assert job["state"] == "done" and job["report"]["added"] == 1, job
    assert job["report"]["items"]["added"][0]["origin"] == "api-articles.jsonl:1"  # no server paths
    listing = api.http.get("/api/articles", params={"source": "Elvane Courier"}).json()
    assert [a["title"] for a in listing["articles"]] == ["Port Elvane opens ferry terminal"]
    assert listing["articles"][0]["date"] == "2026-11-03"
    answer = api.http.post("/api/ask", json={"question": "What did Ilse Marrow say about the ferry terminal?"}).json()
    assert "doubles the number of crossings" in answer["text"] and answer["citations"][0]["source"] == "Elvane Courier"
    days = api.http.get("/api/coverage", params={"since": "2026-11-01"}).json()["days"]
    assert days == [{"day": "2026-11-03", "outlet": "Elvane Courier", "articles": 1}]


# -- load ------------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_fifty_concurrent_asks_all_complete(api):
    questions = [SEED_QUESTION, "Did Kardashian turn down a deal?", "What did Balenciaga apologise for?",
                 "Who won the 1998 World Cup final?"]

    def one(i: int) -> int:
        with httpx.Client(base_url=api.url.rstrip("/"), timeout=300) as http:
            return http.post("/api/ask", json={"question": questions[i % 4]}).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        codes = list(pool.map(one, range(50)))
    assert codes == [200] * 50


@pytest.mark.slow
def test_newsrag_serve_serves_the_api_beside_the_chat(sample_home, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(sample_home, home)
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "HOME": str(tmp_path),
           "NEWSRAG_HOME": str(home), "NEWSRAG_LLM": "extractive", "NEWSRAG_OLLAMA_BASE_URL": "http://127.0.0.1:9",
           "NEWSRAG_API_TOKEN": "serve-token-" + "z" * 20}
    proc = subprocess.Popen([sys.executable, "-m", "rag.frontends.cli", "serve", "--port", str(port)], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("JSON API:"):
                break
        assert lines[-1].strip() == f"JSON API: http://127.0.0.1:{port}/api/ (docs/API.md)", lines
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=TIMEOUT) as http:
            assert http.post("/api/ask", json={"question": SEED_QUESTION}).status_code == 401
            answer = http.post("/api/ask", json={"question": SEED_QUESTION},
                               headers={"Authorization": f"Bearer {env['NEWSRAG_API_TOKEN']}"})
            assert answer.status_code == 200 and answer.json()["citations"]
            assert http.get("/").status_code == 200  # the chat, open: the token guards the API only
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=120) == 0
