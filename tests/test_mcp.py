"""``analyst mcp`` end to end: the official SDK's client starts it over stdio, as an assistant
does, and calls its tools against the loopback model server."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp")

from mcp import ClientSession  # noqa: E402
from mcp.client.stdio import StdioServerParameters, stdio_client  # noqa: E402

from analyst.library import Library  # noqa: E402
from analyst.schema import report_json_schema  # noqa: E402
from tests.fakeserver import FakeOpenAIServer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT.parent / "shared" / "data" / "seed-article.txt"
ARTICLE = SEED if SEED.exists() else ROOT / "examples" / "harbor-bridge.txt"


def _env(server: FakeOpenAIServer, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANALYST_"))}
    env.update(
        OPENAI_BASE_URL=server.base_url,
        ANALYST_MODEL="fake-model",
        ANALYST_CACHE_DIR=str(cache),
        PYTHONPATH=str(ROOT),
    )
    return env


def _with_client(
    env: dict[str, str], work: Callable[[ClientSession], Awaitable[Any]], *flags: str
) -> Any:
    async def run() -> Any:
        params = StdioServerParameters(
            command=sys.executable, args=["-m", "analyst", "mcp", *flags], env=env
        )
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            return await work(session)

    return asyncio.run(asyncio.wait_for(run(), 120))


def _without_usage(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "usage"}


def test_an_assistant_lists_the_tools_and_reads_the_schema(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    async def work(session: ClientSession) -> tuple[set[str], Any]:
        tools = {t.name for t in (await session.list_tools()).tools}
        read = await session.read_resource("analyst://schema/report")
        return tools, json.loads(read.contents[0].text)  # type: ignore[union-attr]

    tools, schema = _with_client(_env(server, tmp_path / "cache"), work)
    assert tools == {"summarize", "digest", "report", "search"}
    assert schema == report_json_schema()


def test_summarize_over_mcp_is_the_command_line_report(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    env = _env(server, tmp_path / "cache")
    shown = subprocess.run(
        [sys.executable, "-m", "analyst", "summarize", str(ARTICLE), "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stderr
    cli = json.loads(shown.stdout)
    stages: list[str] = []

    async def progress(progress: float, total: float | None, message: str | None) -> None:
        stages.append(message or "")

    async def work(session: ClientSession) -> tuple[Any, Any]:
        made = await session.call_tool(
            "summarize", {"path": str(ARTICLE)}, progress_callback=progress
        )
        assert not made.is_error, made.content
        again = await session.call_tool("report", {"id": made.structured_content["id"]})
        return made.structured_content, again.structured_content

    made, again = _with_client(env, work)
    report = made["report"]
    # The same cache keys as the command line's: every call answered from its cache.
    assert report["usage"]["calls"] == 0 and report["usage"]["cache_hits"] == cli["usage"]["calls"]
    assert _without_usage(report) == _without_usage(cli)
    assert report["facts"] and all(f["grounded"] for f in report["facts"])
    assert made["markdown"].startswith("# ") and report["facts"][0]["id"] in made["markdown"]
    assert again == made
    assert any(s.startswith("extracting facts") for s in stages), stages


def test_reports_are_kept_in_the_library_for_the_next_session_and_for_serve(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    env = _env(server, tmp_path / "cache")

    async def first(session: ClientSession) -> Any:
        made = await session.call_tool("summarize", {"path": str(ARTICLE)})
        return made.structured_content

    made = _with_client(env, first)

    async def later(session: ClientSession) -> tuple[Any, Any, Any]:
        again = await session.call_tool("report", {"id": made["id"]})
        word = made["report"]["title"].split()[0]
        found = await session.call_tool("search", {"words": word})
        missing = await session.call_tool("report", {"id": "nope"})
        return again.structured_content, found.structured_content, missing

    again, found, missing = _with_client(env, later)  # a new process: the same library
    assert again["report"] == made["report"]
    assert [r["id"] for r in found["reports"]] == [made["id"]] and found["total"] == 1
    assert missing.is_error and "no report 'nope' in the library" in missing.content[0].text
    with Library(tmp_path / "cache" / "library") as library:  # what analyst serve lists
        assert library.get(made["id"]) is not None


def test_a_url_to_a_private_address_is_refused_with_its_reason(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    async def work(session: ClientSession) -> Any:
        return await session.call_tool("summarize", {"url": "http://127.0.0.1:9/story"})

    result = _with_client(_env(server, tmp_path / "cache"), work)
    assert result.is_error
    text = result.content[0].text
    assert "loopback address" in text and "--allow-private-urls" in text
    assert server.chat_requests == []  # nothing was asked of the model


def test_digest_over_mcp_merges_reports(server: FakeOpenAIServer, tmp_path: Path) -> None:
    env = _env(server, tmp_path / "cache")
    folder = ROOT / "examples" / "digest" / "articles"
    paths = []
    for article in sorted(folder.glob("*.txt"))[:2]:
        out = tmp_path / f"{article.stem}.json"
        done = subprocess.run(
            [sys.executable, "-m", "analyst", "summarize", str(article), "-o", str(out)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        paths.append(str(out))

    async def work(session: ClientSession) -> Any:
        return await session.call_tool("digest", {"sources": paths})

    result = _with_client(env, work)
    assert not result.is_error, result.content
    digest = result.structured_content["digest"]
    assert len(digest["articles"]) == 2 and digest["facts"]


def test_digest_over_mcp_reports_urls_first(server: FakeOpenAIServer, tmp_path: Path) -> None:
    from tests.test_docs import _Web

    web = _Web()
    try:
        env = _env(server, tmp_path / "cache")
        urls = [f"{web.base}/news/bridge", f"{web.base}/news/battery"]

        async def work(session: ClientSession) -> Any:
            return await session.call_tool("digest", {"sources": urls})

        result = _with_client(env, work, "--allow-private-urls")  # the pages are on loopback
    finally:
        web.server.shutdown()
        web.server.server_close()
    assert not result.is_error, result.content
    digest = result.structured_content["digest"]
    assert {a["source"] for a in digest["articles"]} == set(urls) and digest["facts"]
