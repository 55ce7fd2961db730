"""``Session``: one configured way of writing reports, shared by every entry point.

A session owns what reports have in common: the settings, the prompts, the model client (made on
first use when none is given), the call cache (``<cache_dir>/calls.sqlite``, shared by
``summarize``, ``batch``, Ray workers and ``eval``, so no reply is paid for twice) and the identity
that keys it. ``summarize_*``, the batch engines and ``analyst eval`` all go through one::

    with Session(settings) as session:
        report = session.report(session.read(data, name="a.txt"))
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

from analyst.article import Article
from analyst.model import drive
from analyst.model.ask import Calls
from analyst.model.cache import CallCache
from analyst.model.clients import make_client
from analyst.model.seam import (
    ChatClient,
    Client,
    ClientInfo,
    Deferred,
    ModelClient,
    close_client,
)
from analyst.model.usage import Meter
from analyst.pipeline import fit_input, report_calls
from analyst.prompts import Prompts
from analyst.reading.formats import load_article
from analyst.schema import Report
from analyst.settings import Settings

R = TypeVar("R")
StageCallback = Callable[[str], None]
CACHE_FILE = "calls.sqlite"


class Session:
    """Settings, prompts, client, call cache and identity for any number of reports.

    ``client``: any ``ChatClient``/``AsyncChatClient`` (yours is not closed by the session);
    without one, ``make_client(settings)`` makes one on first use and the session closes it.
    ``cache``: a ``CallCache`` to use instead of the one ``settings.cache`` opens.
    ``identity``: what keys cached replies, when not ``settings.identity(model)`` (replicas).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        client: Client | None = None,
        cache: CallCache | None = None,
        identity: str | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.prompts = Prompts.load(self.settings.prompts_dir)
        self._client = client
        self._owned: ModelClient | None = None
        self._cache = cache
        self._own_cache = cache is None and self.settings.cache
        self.cache_problem: str | None = None  # why the call cache could not be opened
        self._identity = identity

    @property
    def client(self) -> Client:
        """The model client (made on first use)."""
        if self._client is None:
            self._owned = make_client(self.settings)
            self._client = self._owned
        return self._client

    @property
    def info(self) -> ClientInfo:
        """The model and backend reports name."""
        return self.client.info

    @property
    def cache(self) -> CallCache | None:
        """The call cache, opened on first use (``None`` with ``settings.cache`` off, or when
        it cannot be opened: a full or read-only disk costs the cache, never the report)."""
        if self._cache is None and self._own_cache:
            try:
                self._cache = CallCache(self.settings.cache_dir / CACHE_FILE)
            except (sqlite3.Error, OSError) as exc:
                self._own_cache = False
                self.cache_problem = f"the call cache could not be opened ({exc}); it is off"
        return self._cache

    def _with_cache_problem(self, report: Report) -> Report:
        """``report`` with a warning when the cache stopped on the way."""
        problem = self._cache.problem if self._cache is not None else self.cache_problem
        if problem is None or problem in report.warnings:
            return report
        return report.model_copy(update={"warnings": [*report.warnings, problem]})

    @property
    def identity(self) -> str:
        """What makes this session's replies comparable across runs (never the key)."""
        return self._identity or self.settings.identity(self.info.model)

    def read(
        self,
        data: bytes | str,
        *,
        name: str | None = None,
        content_type: str | None = None,
        url: str | None = None,
    ) -> Article:
        """The article in ``data`` (text, HTML, PDF, gzip), held to ``max_input_tokens``."""
        article = load_article(
            data,
            name=name,
            content_type=content_type,
            url=url,
            max_bytes=self.settings.max_input_bytes,
        )
        return fit_input(article, self.settings)

    def calls(
        self,
        article: Article,
        *,
        path: str | None = None,
        meter: Meter | None = None,
        on_stage: StageCallback | None = None,
    ) -> Calls[Report]:
        """The report on ``article`` as a computation of model calls (for a driver to answer)."""
        return report_calls(
            article,
            settings=self.settings,
            prompts=self.prompts,
            info=self.info,
            path=path,
            notify=on_stage,
            meter=meter,
        )

    def run(self, calls: Calls[R]) -> R:
        """Answer ``calls`` on the blocking client, the cache first."""
        client = self.client
        if not isinstance(client, ChatClient):
            raise TypeError("this session's client is asynchronous: use arun / areport")
        return drive.run(calls, client, self.cache, self.identity)

    async def arun(
        self, calls: Calls[R], gate: drive.Gate | None = None
    ) -> R | Deferred | drive.Withdrawn:
        """Answer ``calls`` on the event loop, the cache first; each request passes ``gate``."""
        return await drive.arun(calls, self.client, self.cache, self.identity, gate)

    def report(
        self,
        article: Article,
        *,
        path: str | None = None,
        on_stage: StageCallback | None = None,
    ) -> Report:
        """The report on ``article`` (as ``read`` made it); ``path`` is what the report names."""
        if self._client is None:
            (on_stage or (lambda _stage: None))("preparing the model")
        return self._with_cache_problem(self.run(self.calls(article, path=path, on_stage=on_stage)))

    async def areport(
        self,
        article: Article,
        *,
        path: str | None = None,
        on_stage: StageCallback | None = None,
    ) -> Report:
        """``report`` without blocking the event loop."""
        done = await self.arun(self.calls(article, path=path, on_stage=on_stage))
        if not isinstance(done, Report):
            raise TypeError(f"this session's client did not answer ({done!r}); use a batch")
        return self._with_cache_problem(done)

    def close(self) -> None:
        """Close the cache and the client the session made (not a client it was given)."""
        if self._cache is not None and self._own_cache:
            self._cache.close()
            self._cache = None
        if self._owned is not None:
            self._owned.close()
            self._owned = self._client = None

    async def aclose(self) -> None:
        """``close`` for the event loop (the asynchronous connections too)."""
        if self._owned is not None:
            await close_client(self._owned)
            self._owned = self._client = None
        self.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
