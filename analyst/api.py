"""The one-article functions of the public API, blocking and async: thin wrappers on ``Session``.

    report = summarize_text(text, settings=Settings(model="gpt-4o-mini", api_key="sk-..."))
    report = await asummarize_url("https://example.org/story", settings=settings)

Each reads the article first, so a bad one fails before any server is asked anything.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from os import PathLike

from analyst.article import Article
from analyst.errors import ConfigError, InputError
from analyst.files import as_path, display, read_bytes
from analyst.model.seam import Client
from analyst.reading.fetch import fetch, is_url
from analyst.schema import Report
from analyst.secrets import redact_url
from analyst.session import Session, StageCallback
from analyst.settings import Settings


@dataclass(frozen=True)
class _Source:
    """An article's bytes (or text) and what is known of where they came from."""

    data: bytes | str
    path: str | None
    name: str | None = None
    content_type: str | None = None
    url: str | None = None

    def report(self, session: Session, on_stage: StageCallback | None) -> Report:
        with session:
            return session.report(self._read(session), path=self.path, on_stage=on_stage)

    async def areport(self, session: Session, on_stage: StageCallback | None) -> Report:
        async with session:
            article = self._read(session)
            return await session.areport(article, path=self.path, on_stage=on_stage)

    def _read(self, session: Session) -> Article:
        return session.read(self.data, name=self.name, content_type=self.content_type, url=self.url)


def _text(text: str | bytes, path: str | None, settings: Settings | None) -> _Source:
    if isinstance(text, bytearray | memoryview):
        text = bytes(text)
    if not isinstance(text, str | bytes):
        raise ConfigError(f"the article must be str or bytes, not {type(text).__name__}")
    if path is not None and not isinstance(path, str):
        raise ConfigError(f"path must be str or None, not {type(path).__name__}")
    limit = Settings.given(settings).max_input_bytes
    if len(text) > limit:
        raise InputError(f"the article is over the {limit:,}-byte cap (max_input_bytes)")
    return _Source(text, path, name=path)


def _file(path: str | PathLike[str], settings: Settings | None) -> _Source:
    p = as_path(path, "path")
    return _Source(read_bytes(p, Settings.given(settings).max_input_bytes), display(p), name=p.name)


def _url(url: str, settings: Settings | None, on_stage: StageCallback | None) -> _Source:
    if not isinstance(url, str) or not is_url(url):
        shown = repr(url) if isinstance(url, str) else type(url).__name__
        raise InputError(f"the URL must be an http:// or https:// address, not {shown}")
    s = Settings.given(settings)
    (on_stage or (lambda _stage: None))("fetching the page")
    got = fetch(url, **s.fetch_limits())
    # A URL's userinfo and secret-looking query values never reach the report.
    final = redact_url(got.url)
    return _Source(got.data, redact_url(url), name=final, content_type=got.content_type, url=final)


# What ``analyst serve`` and ``analyst mcp`` read an article's text, URL or file with, as the
# functions below do.
source_of_text, source_of_url, source_of_file = _text, _url, _file


def summarize_text(
    text: str | bytes,
    *,
    settings: Settings | None = None,
    client: Client | None = None,
    path: str | None = None,
    on_stage: StageCallback | None = None,
) -> Report:
    """Report on one article given as text or bytes (plain text, HTML, PDF or gzip: sniffed)."""
    return _text(text, path, settings).report(Session(settings, client=client), on_stage)


def summarize_file(
    path: str | PathLike[str],
    *,
    settings: Settings | None = None,
    client: Client | None = None,
    on_stage: StageCallback | None = None,
) -> Report:
    """Report on the article at ``path``: text, Markdown, HTML, PDF, or a .gz of one."""
    return _file(path, settings).report(Session(settings, client=client), on_stage)


def summarize_url(
    url: str,
    *,
    settings: Settings | None = None,
    client: Client | None = None,
    on_stage: StageCallback | None = None,
) -> Report:
    """Fetch the page (or PDF) at ``url`` and report on it."""
    source = _url(url, settings, on_stage)
    return source.report(Session(settings, client=client), on_stage)


async def asummarize_text(
    text: str | bytes,
    *,
    settings: Settings | None = None,
    client: Client | None = None,
    path: str | None = None,
    on_stage: StageCallback | None = None,
) -> Report:
    """``summarize_text`` for code that runs an event loop (apps, notebooks)."""
    return await _text(text, path, settings).areport(Session(settings, client=client), on_stage)


async def asummarize_file(
    path: str | PathLike[str],
    *,
    settings: Settings | None = None,
    client: Client | None = None,
    on_stage: StageCallback | None = None,
) -> Report:
    """``summarize_file`` for code that runs an event loop (the file is read in a thread)."""
    source = await asyncio.to_thread(_file, path, settings)
    return await source.areport(Session(settings, client=client), on_stage)


async def asummarize_url(
    url: str,
    *,
    settings: Settings | None = None,
    client: Client | None = None,
    on_stage: StageCallback | None = None,
) -> Report:
    """``summarize_url`` for code that runs an event loop (the fetch runs in a thread)."""
    source = await asyncio.to_thread(_url, url, settings, on_stage)
    return await source.areport(Session(settings, client=client), on_stage)
