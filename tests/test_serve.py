"""``analyst serve``: the JSON API and the page, on a real uvicorn, against the loopback model
server; the page driven in a real browser."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn
from typer.testing import CliRunner

from analyst.cli import app as cli
from analyst.serve.app import create_app
from analyst.settings import Settings
from tests.conftest import EXAMPLES
from tests.fakeserver import FakeOpenAIServer, error

ARTICLE = (EXAMPLES / "harbor-bridge.txt").read_text()
CANARY = "sk-canary-7f3a9c"


class Served:
    """uvicorn serving ``create_app(...)`` on a free loopback port, in a thread."""

    def __init__(self, settings: Settings, **options: Any) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.app = create_app(settings, **options)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def client(self, **headers: str) -> httpx2.Client:
        return httpx2.Client(base_url=self.url, headers=headers, timeout=60, trust_env=False)


@pytest.fixture
def served(settings: Settings) -> Iterator[Served]:
    with Served(replace(settings, api_key=CANARY), concurrency=2, queue=2) as running:
        yield running


def test_a_report_from_text_a_file_and_a_url(served: Served, tmp_path: Path) -> None:
    with served.client() as http:
        answer = http.post("/v1/reports", json={"text": ARTICLE})
        assert answer.status_code == 200, answer.text
        report = answer.json()
        assert report["facts"] and report["source"]["text"]  # the page shows the article
        assert answer.headers["location"] == f"/v1/reports/{answer.headers['x-report-id']}"
        again = http.get(answer.headers["location"])
        assert again.status_code == 200 and again.json() == report
        page = http.get(f"/reports/{answer.headers['x-report-id']}")
        assert page.status_code == 200 and "<mark" in page.text

        upload = (EXAMPLES / "lyon-tramway.html").read_bytes()
        answer = http.post(
            "/v1/reports", files={"file": ("lyon.html", upload)}, data={"who": "true"}
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["source"]["format"] == "html"

        listed = http.get("/v1/reports").json()["reports"]
        assert [r["source"] for r in listed] == ["lyon.html", "pasted text"]
        # The address guard of a URL holds for the server's requests too.
        refused = http.post("/v1/reports", json={"url": "http://127.0.0.1:1/a"})
        assert refused.status_code == 422 and "private" in refused.json()["error"].lower()


def test_wait_false_answers_at_once_and_the_stages_show(
    served: Served, server: FakeOpenAIServer
) -> None:
    server.delay = 0.3
    with served.client() as http:
        answer = http.post("/v1/reports?wait=false", json={"text": ARTICLE})
        assert answer.status_code == 202
        where = answer.headers["location"]
        stages = set()
        while (polled := http.get(where)).status_code == 202:
            stages.add(polled.json()["stage"])
            time.sleep(0.05)
        assert polled.status_code == 200 and polled.json()["facts"]
        assert any("fact" in s for s in stages), stages


def test_a_full_queue_is_429_with_retry_after(settings: Settings, server: FakeOpenAIServer) -> None:
    server.delay = 0.5
    with Served(settings, concurrency=1, queue=1) as running, running.client() as http:
        first = http.post("/v1/reports?wait=false", json={"text": ARTICLE})
        second = http.post("/v1/reports?wait=false", json={"text": ARTICLE + " "})
        third = http.post("/v1/reports?wait=false", json={"text": ARTICLE + "  "})
        assert (first.status_code, second.status_code, third.status_code) == (202, 202, 429)
        assert int(third.headers["retry-after"]) >= 1
        assert "busy" in third.json()["error"]
        health = http.get("/healthz").json()
        assert (health["running"], health["queued"]) == (1, 1)


def test_bad_requests_get_one_clear_line(served: Served) -> None:
    with served.client() as http:
        cases = [
            (http.post("/v1/reports", json={"text": "   "}), 422, "empty"),
            (
                http.post("/v1/reports", json={"text": "a", "url": "https://x.org"}),
                422,
                "exactly one",
            ),
            (
                http.post("/v1/reports", json={"text": ARTICLE, "who": "maybe"}),
                400,
                "true or false",
            ),
            (
                http.post("/v1/reports", json={"text": ARTICLE, "model": "gpt-5"}),
                400,
                "unknown fields",
            ),
            (
                http.post(
                    "/v1/reports", content=b"{", headers={"content-type": "application/json"}
                ),
                422,
                "not JSON",
            ),
            (http.post("/v1/reports", content=b"x" * (17 * 2**20)), 413, "limit"),
            (http.get("/v1/reports/nope"), 404, "no such report"),
        ]
        for answer, status, words in cases:
            assert answer.status_code == status, (status, answer.text)
            assert words in answer.json()["error"]


def test_a_model_server_failure_has_the_cli_wording_and_no_key(
    settings: Settings, server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.auto = False
    server.enqueue(*[error(500, "upstream exploded")] * 4)
    with (
        Served(replace(settings, api_key=CANARY), concurrency=1, queue=0) as running,
        running.client() as http,
    ):
        answer = http.post("/v1/reports", json={"text": ARTICLE})
    assert answer.status_code == 502
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE)
    server.enqueue(*[error(500, "upstream exploded")] * 4)
    cli_run = CliRunner().invoke(
        cli,
        [
            "summarize",
            str(article),
            "--base-url",
            server.base_url,
            "-m",
            "fake-model",
            "--max-retries",
            "0",
            "--no-cache",
        ],
    )
    line = next(x for x in cli_run.output.splitlines() if x.startswith("analyst: error: "))
    assert answer.json()["error"] == line.removeprefix("analyst: error: ")
    assert CANARY not in answer.text and "Traceback" not in answer.text


def test_a_token_guards_every_route(settings: Settings) -> None:
    with Served(settings, token="s3cret", loopback=True) as running:
        with running.client() as http:
            for path in ("/", "/healthz", "/v1/reports", "/openapi.json", "/docs", "/reports/x"):
                assert http.get(path).status_code == 401, path
            assert http.post("/v1/reports", json={"text": ARTICLE}).status_code == 401
        with running.client(authorization="Bearer s3cret") as http:
            assert http.get("/healthz").status_code == 200
        with running.client(authorization="Bearer wrong") as http:
            assert http.get("/healthz").status_code == 401
        with running.client() as http:  # a browser's first visit keeps the token in a cookie
            first = http.get("/?token=s3cret")
            assert first.status_code == 303 and first.headers["location"] == "/"
            assert http.get("/healthz").status_code == 200


def test_other_sites_pages_are_kept_out(served: Served) -> None:
    with served.client(host="attacker.example") as http:  # DNS rebinding
        assert http.get("/healthz").status_code == 421
    with served.client(origin="https://attacker.example") as http:  # a cross-site form
        assert http.post("/v1/reports", data={"text": ARTICLE}).status_code == 403


def test_the_command_refuses_a_public_address_without_a_token() -> None:
    result = CliRunner().invoke(
        cli, ["serve", "--host", "0.0.0.0", "-m", "m", "--base-url", "http://127.0.0.1:9"]
    )
    assert result.exit_code == 2
    assert "needs --token or ANALYST_SERVE_TOKEN" in result.output


def test_openapi_describes_the_api(served: Served) -> None:
    with served.client() as http:
        document = http.get("/openapi.json").json()
        docs = http.get("/docs")
    assert "/v1/reports" in document["paths"] and "Report" in document["components"]["schemas"]
    post = document["paths"]["/v1/reports"]["post"]
    assert {"200", "413", "422", "429", "502"} <= set(post["responses"])
    assert docs.status_code == 200 and "POST /v1/reports" in docs.text
    json.dumps(document)  # plain JSON


def test_the_page_turns_a_pasted_article_into_a_report(served: Served, page: Any) -> None:
    page.goto(served.url + "/")
    page.fill("#text", ARTICLE)
    page.check("input[name=who]")
    page.click("#go")
    page.wait_for_url("**/reports/**", timeout=60_000)
    assert page.locator("#article mark").count() > 0
    assert "Riverton" in page.locator("h1").inner_text()
    page.goto(served.url + "/")
    page.wait_for_selector("#recent li a")
    assert "Riverton" in page.locator("#recent").inner_text()
    assert not page.errors


def test_a_page_that_hides_its_origin_cannot_run_a_report_and_nothing_may_frame_ours(
    settings: Settings,
) -> None:
    # Origin: null (a sandboxed frame, a data: page, a cross-origin redirect) was accepted.
    with Served(settings, token="s3cret", loopback=True) as running:
        with running.client(origin="null") as http:
            refused = http.post("/v1/reports", json={"text": ARTICLE})
            assert refused.status_code == 403 and "origin" in refused.json()["error"]
            assert refused.headers["x-frame-options"] == "DENY"
        with running.client(origin="null", authorization="Bearer s3cret") as http:
            assert http.get("/healthz").status_code == 200  # the token holder is let in
        with running.client(authorization="Bearer s3cret") as http:
            page = http.get("/")
            assert page.headers["x-frame-options"] == "DENY"
            assert page.headers["content-security-policy"] == "frame-ancestors 'none'"
            assert page.headers["x-content-type-options"] == "nosniff"


def test_legitimate_host_and_authorization_spellings_are_let_in(settings: Settings) -> None:
    token = "s3cret-ünïcode"
    with Served(settings, token=token, loopback=True) as running:
        bearer = "bearer " + token  # the scheme is case-insensitive
        for host in ("[::1]", f"LOCALHOST:{running.port}", "localhost"):
            # The header's bytes are the token's UTF-8 (httpx sends str headers as ASCII only).
            with running.client(host=host) as http:
                answer = http.get("/healthz", headers={b"authorization": bearer.encode("utf-8")})
                assert answer.status_code == 200, (host, answer.text)
        with running.client(host="attacker.example") as http:
            assert http.get("/healthz").status_code == 421


def test_more_jobs_than_are_kept_never_leaves_a_zombie(
    settings: Settings, server: FakeOpenAIServer
) -> None:
    # keep below what the queue holds: evicting found no finished job, raised StopIteration
    # (500) and left those jobs queued forever, until the server answered only 429.
    server.delay = 0.2
    with Served(settings, concurrency=2, queue=8, keep=3) as running, running.client() as http:
        sent = [http.post("/v1/reports?wait=false", json={"text": ARTICLE}) for _ in range(6)]
        assert [a.status_code for a in sent] == [202] * 6
        for answer in sent:
            while (polled := http.get(answer.headers["location"])).status_code == 202:
                time.sleep(0.05)
            assert polled.status_code in (200, 404)  # done, or let go once finished
        assert running.app.app.state.jobs.pending == 0


def test_fields_are_capped_and_option_spellings_share_a_session(served: Served) -> None:
    with served.client() as http:
        huge = http.post("/v1/reports", json={"text": ARTICLE, "name": "n" * 300_000})
        assert huge.status_code == 422 and "name is over 255 characters" in huge.json()["error"]
        jobs = served.app.app.state.jobs
        one = jobs.session({"language": "en"})
        assert jobs.session({"language": "EN"}) is one  # read into Settings first
        for n in range(40):  # a pool of sessions by options is bounded
            jobs.session({"language": "en", "who": bool(n % 2), "verify": n % 3 == 0})
        assert len(jobs._sessions) <= 16


def test_every_refusal_keeps_the_error_contract(served: Served) -> None:
    with served.client() as http:
        # A chunked body over the limit (no Content-Length to refuse it by): 500 text/plain.
        def chunks() -> Iterator[bytes]:
            for _ in range(20):
                yield b"x" * 2**20

        kind = {"content-type": "application/json"}
        big = http.post("/v1/reports", content=chunks(), headers=kind)
        assert big.status_code == 413 and "byte limit" in big.json()["error"]
        deep = http.post("/v1/reports", content=b"[" * 100_000 + b"]" * 100_000,
                         headers={"content-type": "application/json"})  # fmt: skip
        assert deep.status_code == 422 and "nested too deeply" in deep.json()["error"]
        for answer in (http.get("/nowhere"), http.delete("/v1/reports")):
            assert answer.headers["content-type"] == "application/json"
            assert answer.status_code in (404, 405) and answer.json()["error"]
        listing = http.get("/v1/reports?limit=1")
        assert listing.status_code == 200 and listing.json()["offset"] == 0


class Deadlined(Served):
    """``Served`` as ``analyst serve`` runs uvicorn (``serve.app.server``), deadlines short."""

    def __init__(self, settings: Settings, **options: Any) -> None:
        from analyst.serve.app import server

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.app = create_app(settings, body_seconds=1.0, **options)
        self.server = server(self.app, host="127.0.0.1", port=self.port, header_seconds=1.0)
        self.thread = threading.Thread(target=self.server.run, daemon=True)


def test_slow_clients_are_cut_off_and_the_token_holder_gets_in(settings: Settings) -> None:
    # Slowloris: connections that never finish their headers held the server; a body sent a
    # byte every 0.5 s was still awaited after 30 s.
    with Deadlined(settings, token="s3cret", loopback=True) as running:
        slow = []
        for _ in range(40):
            s = socket.create_connection(("127.0.0.1", running.port), timeout=10)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            slow.append(s)
        started = time.monotonic()
        with running.client(authorization="Bearer s3cret") as http:
            assert http.get("/healthz").status_code == 200  # while they hang
        for s in slow:  # each closed by the server at its header deadline
            assert s.recv(100) == b""
            s.close()
        assert time.monotonic() - started < 8
        dripping = socket.create_connection(("127.0.0.1", running.port), timeout=10)
        head = (
            b"POST /v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer s3cret\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        )
        dripping.sendall(head + b'{"text": ')
        answer = b""
        for _ in range(10):  # a byte every 0.5 s until the server answers
            time.sleep(0.5)
            with contextlib.suppress(OSError):
                dripping.sendall(b" ")
            dripping.settimeout(0.01)
            with contextlib.suppress(OSError):
                answer += dripping.recv(4096)
            if answer:
                break
        dripping.close()
        assert answer.startswith(b"HTTP/1.1 408") and b"did not arrive within 1 s" in answer
