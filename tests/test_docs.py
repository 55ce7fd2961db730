"""Every command the documentation shows runs, as shown, against the loopback test server.

The pages (``docs/*.md`` and the README) are read for fenced blocks of shell; each line that runs
``analyst``, ``curl`` or ``vllm run-batch`` is run in order, page by page, in a folder that has the
files the pages name (an article, a folder of them, reports, a PDF, a URL list, a feed, labelled
JSONL). What the test machine cannot be is substituted, and only that (``_local``): the model
servers, OpenAI and the web pages are the loopback servers the test starts; ``vllm run-batch`` is
played by the extractive responder; a Ray cluster is a local one; the embedded model is the small
one. A command must exit 0 (``analyst serve`` must answer); a page whose command fails names it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest

from analyst.errors import ModelServerError
from analyst.model import local
from tests.fakeserver import FakeOpenAIServer
from tests.test_rounds import _run_requests

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PAGES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
RUNS = re.compile(
    r"^(?:pip install \S+ && )?(?:[A-Z_]+=\S+\s+)*"
    r"(?:analyst\s|curl\s|vllm run-batch\s|cat \S+ \| analyst\s)"
)
SHELL = ("", "console", "sh", "bash", "shell")


def commands(page: Path) -> list[str]:
    """The runnable lines of ``page``'s shell blocks, continuations joined, in order."""
    found: list[str] = []
    fence: str | None = None
    pending = ""
    for line in page.read_text("utf-8").splitlines():
        if line.startswith("```"):
            fence = None if fence is not None else line[3:].strip()
            continue
        if fence not in SHELL:
            continue
        line = pending + line.strip()
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        if RUNS.match(line):
            found.append(line)
    return found


RUNNABLE = [p for p in PAGES if commands(p)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class _Web:
    """The web pages and feeds the pages fetch: an article, a feed of two, their items."""

    def __init__(self) -> None:
        story = (EXAMPLES / "lyon-tramway.html").read_bytes()
        text = (EXAMPLES / "grid-battery.txt").read_bytes()
        self.port = _free_port()
        base = f"http://127.0.0.1:{self.port}"
        items = "".join(
            f"<item><title>{name}</title><link>{base}/news/{name}</link>"
            f"<pubDate>Wed, 1{n} Nov 2026 08:00:00 GMT</pubDate></item>"
            for n, name in enumerate(("bridge", "battery"))
        )
        feed = (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>'
            f"<link>{base}/</link>{items}</channel></rss>"
        ).encode()
        routes = {
            "/news/story": ("text/html; charset=utf-8", story),
            "/news/bridge": (
                "text/plain; charset=utf-8",
                (EXAMPLES / "harbor-bridge.txt").read_bytes(),
            ),
            "/news/battery": ("text/plain; charset=utf-8", text),
            "/news/rss.xml": ("application/rss+xml", feed),
            "/rss.xml": ("application/rss+xml", feed),
        }

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:
                kind, body = routes.get(self.path, ("text/plain", b"not here"))
                self.send_response(200 if self.path in routes else 404)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = base


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[FakeOpenAIServer, _Web]]:
    model = FakeOpenAIServer().start()
    web = _Web()
    yield model, web
    model.stop()
    web.server.shutdown()
    web.server.server_close()


def _env(model: FakeOpenAIServer, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANALYST_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["OPENAI_BASE_URL"] = model.base_url
    env["ANALYST_MODEL"] = "fake-model"
    env["ANALYST_CACHE_DIR"] = str(cache)
    env["PYTHONPATH"] = str(ROOT)
    return env


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, servers: tuple[FakeOpenAIServer, _Web]) -> Path:
    """A folder with every file the pages name."""
    from fpdf import FPDF

    model, web = servers
    folder = tmp_path_factory.mktemp("docs")
    article = (EXAMPLES / "grid-battery.txt").read_text("utf-8")
    (folder / "article.txt").write_text(article, "utf-8")
    for name in ("saved-page.html", "le-monde.html"):
        shutil.copy(EXAMPLES / "lyon-tramway.html", folder / name)
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    pdf.multi_cell(0, 6, article.encode("latin-1", "replace").decode("latin-1"))
    pdf.output(str(folder / "report.pdf"))
    shutil.copy(folder / "report.pdf", folder / "article.pdf")
    (folder / "articles").mkdir()
    for name in ("harbor-bridge.txt", "grid-battery.txt"):
        shutil.copy(EXAMPLES / name, folder / "articles" / name)
    dated = folder / "articles" / "2026-11" / "12"  # for --glob "2026-*/**/*.txt"
    dated.mkdir(parents=True)
    shutil.copy(EXAMPLES / "digest" / "articles" / "riverton-courier.txt", dated / "courier.txt")
    shutil.copytree(EXAMPLES, folder / "examples", ignore=shutil.ignore_patterns("*.png", "*.py"))
    (folder / "urls.txt").write_text(
        f"# two stories\n{web.base}/news/bridge\n{web.base}/news/battery\n", "utf-8"
    )
    (folder / "feeds.txt").write_text(f"{web.base}/news/rss.xml\n", "utf-8")
    (folder / "saved-feed.xml").write_bytes(
        subprocess.run(["curl", "-s", f"{web.base}/rss.xml"], capture_output=True).stdout
        if shutil.which("curl")
        else b""
    )
    rows = [
        {"id": name, "text": (EXAMPLES / name).read_text("utf-8"), "reference_summary": "A vote."}
        for name in ("harbor-bridge.txt", "grid-battery.txt")
    ]
    for name in ("articles.jsonl", "dev.jsonl"):
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    claims = [
        {"id": "c1", "text": article, "claim": "The plant stores energy.", "label_supported": True},
        {"id": "c2", "text": article, "claim": "The plant burns coal.", "label_supported": False},
    ]
    (folder / "claims.jsonl").write_text("".join(json.dumps(c) + "\n" for c in claims), "utf-8")
    env = _env(model, folder / "cache")
    for made in (
        "analyst batch articles/ -o reports/",
        "analyst summarize article.txt -o report.json",
    ):
        done = subprocess.run(
            ["bash", "-c", made], cwd=folder, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
    return folder


def _small_model() -> Path | None:
    try:
        local.part_paths(local.MODELS["qwen2.5-coder-0.5b"])
    except ModelServerError:
        return None
    if not local.runtime_available():
        return None
    from analyst.settings import default_cache_dir

    return local.ensure_model_file(local.MODELS["qwen2.5-coder-0.5b"], default_cache_dir())


def _local(command: str, model: FakeOpenAIServer, web: _Web, serve_port: int) -> str | None:
    """``command`` as it runs here (``None``: it needs what this machine lacks)."""
    command = re.sub(r"\s+#\s.*$", "", command)  # a trailing comment
    command = re.sub(r"^pip install \S+ && ", "", command)  # installed already
    command = command.replace("https://example.org", web.base)
    command = re.sub(r"http://(?:127\.0\.0\.1|vllm-\d+):\d+/v1", model.base_url, command)
    command = re.sub(r"--model M\b", "--model fake-model", command)
    command = command.replace("localhost:8000", f"127.0.0.1:{serve_port}")
    command = command.replace("/shared/archive", "articles").replace("/shared/reports", "ray-out")
    command = command.replace(" --ray-address auto", "").replace("--workers 8", "--workers 2")
    command = command.replace("../shared/data/dev/claims/summac_dev.jsonl", "claims.jsonl")
    if "--model-path" in command or "local:" in command:
        small = _small_model()
        if small is None:
            return None
        command = re.sub(r"--model-path \S+", f"--model-path {small}", command)
    if command.startswith("analyst serve") or " analyst serve" in command:
        command += f" --port {serve_port}"
    if "--submit" in command:
        command += " --poll-seconds 0.01"  # the loopback Batch API answers at once
    fetches = web.base in command or re.search(
        r"urls\.txt|feeds\.txt|feed\.xml|\| analyst", command
    )
    if re.search(r"\banalyst (?:summarize|batch|digest)\b", command) and fetches:
        command += " --allow-private-urls"  # the web pages are on loopback
    return command


def _vllm(command: str, cwd: Path) -> None:
    """``vllm run-batch -i IN -o OUT``, played: each request answered by the extractive
    responder, as vLLM or OpenAI would write the results."""
    m = re.search(r"-i (\S+) -o (\S+)", command)
    assert m, command
    (cwd / m.group(2)).write_text(_run_requests(cwd / m.group(1)), "utf-8")


def _serve(command: str, cwd: Path, env: dict[str, str], port: int) -> subprocess.Popen[str]:
    log = cwd / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            ["bash", "-c", f"exec {command}"], cwd=cwd, env=env, text=True, stdout=out, stderr=out
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{command!r} exited {process.returncode}: {log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    pytest.fail(f"{command!r} did not listen on {port} within 60 s")


@pytest.mark.parametrize("page", RUNNABLE, ids=[p.name for p in RUNNABLE])
def test_every_command_of_the_page_runs(
    page: Path, base: Path, servers: tuple[FakeOpenAIServer, _Web], tmp_path: Path
) -> None:
    model, web = servers
    work = tmp_path / "work"
    shutil.copytree(base, work)
    env = _env(model, work / "cache")
    port = _free_port()
    served: subprocess.Popen[str] | None = None
    try:
        for shown in commands(page):
            command = _local(shown, model, web, port)
            if command is None:
                continue  # the small embedded model is not installed here
            if command.startswith("vllm run-batch"):
                _vllm(command, work)
                continue
            if command.startswith("analyst serve"):
                if served is not None:
                    served.terminate()
                    served.wait(10)
                served = _serve(command, work, env, port)
                continue
            done = subprocess.run(
                ["bash", "-o", "pipefail", "-c", command],
                cwd=work,
                env=env,
                stdin=subprocess.DEVNULL,  # analyst mcp serves stdin until it ends
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert done.returncode == 0, (
                f"{page.name}: {shown!r} (run as {command!r}) exited {done.returncode}:\n"
                f"{done.stderr[-2000:]}"
            )
    finally:
        if served is not None:
            served.terminate()
            served.wait(10)


def test_the_pages_show_commands_at_all() -> None:
    """The reader above finds the commands (a change of fences would make it find none)."""
    assert len([c for p in PAGES for c in commands(p)]) >= 40
