"""``analyst mcp``: analyst as tools an AI assistant calls over the Model Context Protocol.

Built on the official ``mcp`` SDK (the ``mcp`` extra), over stdio — what desktop assistants and
IDE agents start — or streamable HTTP on loopback. The tools:

- ``summarize``: one article (its text, a file path, or a URL) → the report, as JSON (the
  structured content) and as Markdown, each fact with the sentence that proves it;
- ``digest``: several articles' URLs, or their JSON reports → one briefing;
- ``report``: a kept report, again, by its id;
- ``search``: the kept reports that hold some words (and of a site, a language, dates).

Every report made is kept in the library (``analyst.library``; by default the one ``analyst
serve`` shows), so an id outlives the assistant's session.

The report's JSON Schema is a resource (``analyst://schema/report``). One ``Session`` serves every
call: the same settings, call cache and limits as the command line (so a report over MCP and
``analyst summarize`` of the same article share their cache keys), and the same guard on URLs: an
assistant's URL that leads to a private address is refused unless ``--allow-private-urls``.
Progress goes to the assistant as MCP progress notifications, one per stage.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from analyst.api import source_of_file, source_of_text, source_of_url
from analyst.digest import digest as make_digest
from analyst.errors import AnalystError, InputError
from analyst.library import Library, Query, scan_if_stale
from analyst.output.plain import to_markdown
from analyst.reading.fetch import is_url
from analyst.schema import Report, report_json_schema
from analyst.secrets import redact_text
from analyst.session import Session
from analyst.settings import Settings
from analyst.version import __version__

P = ParamSpec("P")
T = TypeVar("T")
SCHEMA_URI = "analyst://schema/report"


def create(settings: Settings, library: Library | None = None) -> MCPServer[Any]:
    """The MCP server, its tools on one ``Session`` made from ``settings``; reports are kept in
    ``library`` (``None``: in memory)."""
    server: MCPServer[Any] = MCPServer(
        "analyst",
        version=__version__,
        log_level="WARNING",  # stderr is the assistant's log: no line per HTTP request
        instructions=(
            "Read a news article and get what a sharp analyst would write: a summary, key facts "
            "each proved by a sentence of the article, numbers in perspective, dates to watch, "
            "who says what, implications and an analysis. Prefer these facts and their proof to "
            "paraphrasing the page yourself."
        ),
    )
    session = Session(settings)
    kept = library if library is not None else Library(None)

    @server.tool()
    @_said
    async def summarize(
        ctx: Context,
        text: str | None = None,
        path: str | None = None,
        url: str | None = None,
    ) -> dict[str, Any]:
        """The analyst report of one article: give exactly one of its text (plain text, HTML or
        Markdown), a file path on this machine, or an http(s) URL. Returns the report as JSON
        (facts with the sentence that proves each, notes computed from the article, summary,
        implications, analysis) and as Markdown; its id fetches it again (tool ``report``)."""
        given = [x for x in (text, path, url) if x]
        if len(given) != 1:
            raise InputError("give exactly one of text, path or url")
        progress = _Progress(ctx)
        if url is not None:
            if not is_url(url):
                raise InputError(f"not an http(s) URL: {url!r}")
            source = await asyncio.to_thread(source_of_url, url, settings, progress)
        elif path is not None:
            source = await asyncio.to_thread(source_of_file, Path(path).expanduser(), settings)
        else:
            source = source_of_text(text or "", None, settings)
        article = await asyncio.to_thread(
            session.read, source.data, name=source.name, content_type=source.content_type,
            url=source.url,
        )  # fmt: skip
        report = await session.areport(article, path=source.path, on_stage=progress)
        await progress.done()
        return await asyncio.to_thread(_keep, kept, report)

    @server.tool()
    @_said
    async def digest(ctx: Context, sources: list[str]) -> dict[str, Any]:
        """One briefing over several articles: give their http(s) URLs (each is reported
        first) or the paths of their JSON reports (as ``analyst batch`` writes them). Merged
        facts with every source, contradictions between outlets, who's who and timeline across
        them, and the summary and analysis of it all."""
        if len(sources) < 2:
            raise InputError("give two or more URLs or JSON report paths")
        progress = _Progress(ctx)
        given: list[Report | Path] = []
        for source in sources:
            if is_url(source):
                fetched = await asyncio.to_thread(source_of_url, source, settings, progress)
                article = await asyncio.to_thread(
                    session.read, fetched.data, name=fetched.name,
                    content_type=fetched.content_type, url=fetched.url,
                )  # fmt: skip
                given.append(await session.areport(article, path=fetched.path, on_stage=progress))
            else:
                given.append(Path(source).expanduser())
        result = await asyncio.to_thread(make_digest, given, settings=settings)
        await progress.done()
        return {"digest": result.model_dump(mode="json")}

    @server.tool()
    @_said
    async def report(id: str) -> dict[str, Any]:  # noqa: A002 - the argument as callers see it
        """A kept report, again, by the id ``summarize`` or ``search`` gave."""
        found = await asyncio.to_thread(kept.get, id)
        if found is None:
            raise InputError(f"no report {id[:64]!r} in the library")
        return _shown(id, found)

    @server.tool()
    @_said
    async def search(
        words: str = "",
        site: str | None = None,
        language: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> dict[str, Any]:
        """The kept reports (made here, by ``analyst serve``, or files of the library's folder)
        whose title, summary, facts, notes or names hold all of ``words``, best first; or the
        newest without words. ``site``, ``language`` (ISO 639-1) and ``since``/``until``
        (YYYY-MM-DD) narrow it. Each has an id for ``report`` and a snippet of where it
        matched."""
        query = Query.of(words, site=site, language=language, since=since, until=until, limit=20)
        await asyncio.to_thread(scan_if_stale, kept)
        found = await asyncio.to_thread(kept.search, query)
        shown = [
            {k: v for k, v in e.as_json().items() if k not in ("links", "highlights")}
            for e in found.entries
        ]
        return {"total": found.total, "reports": shown}

    @server.resource(SCHEMA_URI, mime_type="application/schema+json")
    def schema() -> dict[str, Any]:
        """The JSON Schema of a report."""
        return report_json_schema()

    return server


def _said(tool: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """``tool``, its analyst errors told to the assistant as they are (one line, keys redacted):
    the SDK hides the text of any other exception as a crash."""

    @functools.wraps(tool)
    async def said(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await tool(*args, **kwargs)
        except AnalystError as exc:
            raise ToolError(redact_text(" ".join(str(exc).split()))) from None

    return said


def _keep(library: Library, report: Report) -> dict[str, Any]:
    """Keep ``report`` for the ``report`` tool (its id: the article's hash, short) and show it."""
    key = report.source.sha256[:16]
    library.add(key, report)
    return _shown(key, report)


def _shown(key: str, report: Report) -> dict[str, Any]:
    return {"id": key, "report": report.model_dump(mode="json"), "markdown": to_markdown(report)}


class _Progress:
    """The pipeline's stage messages (called on the event loop) as MCP progress notifications,
    sent in order; a failed send never fails the report."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._sent: list[asyncio.Task[None]] = []
        self._count = 0

    def __call__(self, stage: str) -> None:
        self._count += 1
        send = self._ctx.report_progress(self._count, None, stage)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # called from a worker thread (fetching a URL)
            return _close(send)
        self._sent.append(loop.create_task(_quietly(send)))

    async def done(self) -> None:
        await asyncio.gather(*self._sent)


async def _quietly(send: Coroutine[Any, Any, None]) -> None:
    try:
        await send
    except Exception:  # noqa: BLE001 - progress is a courtesy; the report goes on
        pass


def _close(send: Coroutine[Any, Any, None]) -> None:
    send.close()


def run(
    settings: Settings, *, transport: str, host: str, port: int, library: Library | None = None
) -> None:
    """Serve until the client goes away (stdio) or the process is stopped (HTTP)."""
    server = create(settings, library)
    if transport == "stdio":
        server.run("stdio")
    else:
        server.run("streamable-http", host=host, port=port)
