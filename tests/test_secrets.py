"""A canary API key is found nowhere: output, errors, --verbose, reports, manifest, caches."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyst import Settings
from analyst.cli import app
from tests.conftest import EXAMPLES
from tests.fakeserver import FakeOpenAIServer, error, reply

CANARY = "sk-canary-7f3a9c1e5b2d4f60a8e1c3b5d7f9a2c4"


def _everything_under(*roots: Path) -> bytes:
    blob = b""
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                blob += path.read_bytes()
    return blob


def test_the_key_reaches_the_server_and_nothing_else(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("ANALYST_CACHE_DIR", str(cache))
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    runner = CliRunner()
    base = ["--base-url", server.base_url, "--model", "m", "-v"]
    outputs: list[str] = []

    def run(*args: str) -> None:
        result = runner.invoke(app, [*args, *base])
        outputs.append(result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit)

    article = str(EXAMPLES / "harbor-bridge.txt")
    for fmt in ("json", "md", "rich"):
        run("summarize", article, "--format", fmt, "-o", str(tmp_path / f"report.{fmt}"))
    # Errors that echo the key back: the SDK's 401 text, a 500 body, a model's last reply.
    server.enqueue(error(401, f"Incorrect API key provided: {CANARY}"))
    run("summarize", article, "--no-cache")
    server.enqueue(error(500, f"upstream failed for key {CANARY}"))
    run("summarize", article, "--no-cache", "--max-retries", "0")
    server.enqueue(*[reply(f"not json {CANARY}")] * 3)
    run("summarize", article, "--no-cache")
    # A batch: reports, Markdown, manifest and its call cache.
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text((EXAMPLES / "grid-battery.txt").read_text("utf-8"))
    run("batch", str(folder), "-o", str(tmp_path / "out"), "--format", "json,md")
    assert any(h.get("authorization") == f"Bearer {CANARY}" for h in server.headers)
    assert CANARY not in "\n".join(outputs)
    assert CANARY.encode() not in _everything_under(tmp_path)
    assert "sk-canary" not in repr(Settings.from_env({"OPENAI_API_KEY": CANARY}))
    # The outputs were real: reports were written and the errors were reported.
    assert (tmp_path / "report.json").stat().st_size > 1000
    assert (tmp_path / "out" / "manifest.sqlite").exists()
    assert any("refused the API key" in o for o in outputs)
    assert any("***" in o for o in outputs)  # the echoed key was scrubbed, not dropped silently


def test_tracebacks_of_bugs_never_show_locals() -> None:
    # A bug's traceback is kept (it is a bug), but Typer must not print the frames' locals,
    # where a Settings or a key could sit.
    assert app.pretty_exceptions_show_locals is False
