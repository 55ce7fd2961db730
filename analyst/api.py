"""The one-article functions of the public API, blocking and async: thin wrappers on ``Session``.

report = summarize_text(text, settings=Settings(model="gpt-4o-mini", api_key="sk-..."))
report = await asummarize_url("https://example.org/story", settings=settings)
"""

from __future__ import annotations

import asyncio
from os import PathLike
from pathlib import Path

from analyst.files import display, read_bytes
from analyst.reading.fetch import Fetched, fetch
from analyst.schema import Report
from analyst.session import Client, Session, StageCallback
from analyst.settings import Settings


def summarize_text(
    text: str | bytes,
    *,
    settings: Settings | None = None,
    client: Client | None = None,
    path: str | None = None,
    on_stage: StageCallback | None = None,
) -> Report:
    """Report on one article given as text or bytes (plain text, HTML, PDF or gzip: sniffed)."""
    with Session(settings, client=client) as session:
        # The article is read first: a bad one fails before any server is asked anything.
        article = session.read(text, name=path)
        return session.report(article, raw=text, path=path, on_stage=on_stage)


def summarize_file(
    path: str | PathLike[str],
    *,
    settings: Settings | None = None,
    client: Client | None = None,
    on_stage: StageCallback | None = None,
) -> Report:
    """Report on the article at ``path``: text, Markdown, HTML, PDF, or a .gz of one."""
    p = Path(path)
    data = read_bytes(p)
    with Session(settings, client=client) as session:
        article = session.read(data, name=p.name)
        return session.report(article, raw=data, path=display(p), on_stage=on_stage)


def summarize_url(
    url: str,
    *,
    settings: Settings | None = None,
    client: Client | None = None,
    on_stage: StageCallback | None = None,
) -> Report:
    """Fetch the page (or PDF) at ``url`` and report on it."""
    with Session(settings, client=client) as session:
        got = _fetch(session, url, on_stage)
        article = session.read(got.data, name=got.url, content_type=got.content_type, url=got.url)
        return session.report(article, raw=got.data, path=url, on_stage=on_stage)


async def asummarize_text(
    text: str | bytes,
    *,
    settings: Settings | None = None,
    client: Client | None = None,
    path: str | None = None,
    on_stage: StageCallback | None = None,
) -> Report:
    """``summarize_text`` for code that runs an event loop (apps, notebooks)."""
    async with Session(settings, client=client) as session:
        article = session.read(text, name=path)
        return await session.areport(article, raw=text, path=path, on_stage=on_stage)


async def asummarize_file(
    path: str | PathLike[str],
    *,
    settings: Settings | None = None,
    client: Client | None = None,
    on_stage: StageCallback | None = None,
) -> Report:
    """``summarize_file`` for code that runs an event loop."""
    p = Path(path)
    data = await asyncio.to_thread(read_bytes, p)
    async with Session(settings, client=client) as session:
        article = session.read(data, name=p.name)
        return await session.areport(article, raw=data, path=display(p), on_stage=on_stage)


async def asummarize_url(
    url: str,
    *,
    settings: Settings | None = None,
    client: Client | None = None,
    on_stage: StageCallback | None = None,
) -> Report:
    """``summarize_url`` for code that runs an event loop (the fetch runs in a thread)."""
    async with Session(settings, client=client) as session:
        got = await asyncio.to_thread(_fetch, session, url, on_stage)
        article = session.read(got.data, name=got.url, content_type=got.content_type, url=got.url)
        return await session.areport(article, raw=got.data, path=url, on_stage=on_stage)


def _fetch(session: Session, url: str, on_stage: StageCallback | None) -> Fetched:
    (on_stage or (lambda _stage: None))("fetching the page")
    s = session.settings
    return fetch(url, timeout=s.fetch_timeout, max_bytes=s.max_download_bytes)
