"""The call cache: a second run pays for nothing; a changed prompt re-runs only its calls."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from analyst import Settings, summarize_text
from analyst.cli import app
from tests.conftest import EXAMPLES
from tests.fakeserver import FakeOpenAIServer

ARTICLE = str(EXAMPLES / "harbor-bridge.txt")


def _settings(server: FakeOpenAIServer, tmp_path: Path, **kw: Any) -> Settings:
    return Settings(
        base_url=server.base_url, model="m", max_retries=0, cache=True, cache_dir=tmp_path, **kw
    )


def test_second_run_makes_no_model_calls(
    server: FakeOpenAIServer, tmp_path: Path, bridge: str
) -> None:
    first = summarize_text(bridge, settings=_settings(server, tmp_path))
    assert len(server.chat_requests) == 3 and first.usage.cache_hits == 0
    second = summarize_text(bridge, settings=_settings(server, tmp_path))
    assert len(server.chat_requests) == 3  # nothing new reached the server
    assert second.usage.cache_hits == 3 and second.usage.calls == 0
    assert second.facts == first.facts and second.summary == first.summary


def test_changed_synthesis_request_reruns_only_synthesis(
    server: FakeOpenAIServer, tmp_path: Path, bridge: str
) -> None:
    summarize_text(bridge, settings=_settings(server, tmp_path))
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "synthesize_input.md").write_text('Task "synthesize" as JSON, in $language.')
    report = summarize_text(bridge, settings=_settings(server, tmp_path, prompts_dir=prompts))
    assert len(server.chat_requests) == 4
    assert server.chat_requests[-1]["response_format"]["json_schema"]["name"] == "interpretation"
    assert report.usage.cache_hits == 2 and report.usage.calls == 1


def test_edited_article_is_redone(server: FakeOpenAIServer, tmp_path: Path, bridge: str) -> None:
    summarize_text(bridge, settings=_settings(server, tmp_path))
    summarize_text(bridge.replace("7–2", "6–3"), settings=_settings(server, tmp_path))
    assert len(server.chat_requests) == 6


def test_cli_uses_the_cache_unless_told_not_to(server: FakeOpenAIServer) -> None:
    runner = CliRunner()
    args = ["summarize", ARTICLE, "--format", "json", "--base-url", server.base_url]
    args += ["--model", "m", "--api-key", "sk-canary-cache-0123456789"]
    for _ in range(2):
        assert runner.invoke(app, args).exit_code == 0
    assert len(server.chat_requests) == 3
    assert runner.invoke(app, [*args, "--no-cache"]).exit_code == 0
    assert len(server.chat_requests) == 6


def test_the_api_key_never_reaches_the_cache(
    server: FakeOpenAIServer, tmp_path: Path, bridge: str
) -> None:
    key = "sk-canary-cache-0123456789"
    summarize_text(bridge, settings=_settings(server, tmp_path, api_key=key))
    db = tmp_path / "calls.sqlite"
    with sqlite3.connect(db) as conn:
        dump = "\n".join(conn.iterdump())
    assert "harbor" in dump.lower() or "riverton" in dump.lower()  # the dump is real
    assert key not in dump
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes()


def test_a_cache_that_cannot_be_written_costs_the_cache_not_the_report(
    server: FakeOpenAIServer, tmp_path: Path, bridge: str
) -> None:
    # A full or read-only disk: sqlite's "attempt to write a readonly database" after the
    # model was paid was a traceback (exit 1). Here SQLite itself refuses every write.
    from analyst.session import Session

    with Session(_settings(server, tmp_path)) as session:
        assert session.cache is not None
        session.cache._db.execute("PRAGMA query_only = ON")
        report = session.report(session.read(bridge))
    assert report.facts and report.summary
    assert any("could not be written" in w and "readonly" in w for w in report.warnings)


def test_a_cache_folder_that_cannot_be_made_is_a_warning_in_a_subprocess(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    env = {k: v for k, v in os.environ.items() if k != "TIKTOKEN_CACHE_DIR"}
    env["ANALYST_CACHE_DIR"] = str(blocked / "cache")  # under a file: mkdir fails
    command = [sys.executable, "-m", "analyst", "summarize", ARTICLE, "--format", "json"]
    command += ["--base-url", server.base_url, "-m", "m", "--max-retries", "0"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "the call cache could not be opened" in done.stdout  # the report's warning
