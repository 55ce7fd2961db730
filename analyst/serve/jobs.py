"""Reports made for requests: a bounded queue in front of one model client and call cache.

Each request's options (``--who``, ``--verify``, ``--language``, ``--keep-ungrounded``) make a
``Settings`` of their own, and so a ``Session`` of their own (their replies are cached under
their own identity); every session shares the process's one client and one call cache. At most
``concurrency`` reports run at once and ``queue`` more wait; beyond that ``submit`` refuses with
``Full``, which the app answers with 429 and ``Retry-After``. Jobs are kept in memory, the most
recent ``keep`` of them; each report made is also kept in the library (``analyst.library``: on
disk, unless ``--no-library``), which outlives the process.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import statistics
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from analyst.api import source_of_text, source_of_url
from analyst.digest import Digest, digest_calls
from analyst.digest.merge import Given, merge
from analyst.errors import AnalystError, ConfigError, describe
from analyst.library import Library
from analyst.pipeline import STAGES
from analyst.schema import Report
from analyst.session import Session
from analyst.settings import Settings
from analyst.stages.contract import Flag


def request_flags() -> tuple[Flag, ...]:
    """The stages' flags a request may set (``Flag.per_request``)."""
    return tuple(f for stage in STAGES for f in stage.flags if f.per_request)


# The options a request may set: the report's language and whether to keep unproved facts, and
# what the stages let a request choose. The model, its server and the limits are the operator's.
OPTIONS = ("language", "keep_ungrounded", *(f.setting for f in request_flags()))
# Those that are on or off.
SWITCHES = ("keep_ungrounded", *(f.setting for f in request_flags() if f.switch))
SESSIONS = 16  # sessions by options kept at once (each shares the one client and cache)
Status = Literal["queued", "running", "done", "failed"]
log = logging.getLogger("analyst.serve")


class Full(Exception):
    """The queue is full: try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"the server is busy; try again in {retry_after} s")
        self.retry_after = retry_after


@dataclass
class Job:
    """One report asked for: where it stands, and its report or error when it ends."""

    id: str
    source: str
    created: float = field(default_factory=time.time)
    status: Status = "queued"
    stage: str = "waiting for a free slot"
    report: Report | None = None
    error: str | None = None
    error_kind: str | None = None
    http_status: int = 200
    seconds: float | None = None

    def summary(self) -> dict[str, Any]:
        """What the list of recent reports shows of it."""
        return {
            "id": self.id,
            "status": self.status,
            "stage": self.stage,
            "source": self.source,
            "title": self.report.title if self.report else None,
            "created": self.created,
            "seconds": self.seconds,
            "error": self.error,
        }


@dataclass(frozen=True)
class Ask:
    """What a request asks for: the article (text or bytes, or a URL) and its options."""

    text: str | bytes | None = None
    url: str | None = None
    name: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


class Jobs:
    """The queue, the sessions by options, and the jobs by id."""

    def __init__(
        self,
        settings: Settings,
        *,
        client: Any = None,
        concurrency: int,
        queue: int,
        keep: int,
        library: Library | None = None,
    ) -> None:
        self.settings = replace(settings, include_text=True)  # the HTML page shows the article
        self.library = library if library is not None else Library(None)
        self.base = Session(self.settings, client=client)
        self.concurrency, self.queue, self.keep = concurrency, queue, keep
        self._slots = asyncio.Semaphore(concurrency)
        self._sessions: OrderedDict[tuple[tuple[str, Any], ...], Session] = OrderedDict()
        self.jobs: OrderedDict[str, Job] = OrderedDict()
        self._times: deque[float] = deque(maxlen=20)
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def pending(self) -> int:
        return sum(1 for j in self.jobs.values() if j.status in ("queued", "running"))

    def settings_for(self, options: dict[str, Any]) -> Settings:
        """The settings these options make (checked: an unknown or bad option is a
        ``ConfigError``)."""
        unknown = sorted(set(options) - set(OPTIONS))
        if unknown:
            raise ConfigError(f"unknown options {', '.join(unknown)}; known: {', '.join(OPTIONS)}")
        return Settings.given(replace(self.settings, **options)) if options else self.settings

    def session(self, options: dict[str, Any]) -> Session:
        """The session for these options, on the shared client and cache: one per distinct
        setting (options are read into Settings first, so "en-a0" and "en-a1" are one "en"),
        and at most ``SESSIONS`` kept, the least recently used let go."""
        settings = self.settings_for(options)
        key = tuple((name, getattr(settings, name)) for name in OPTIONS)
        if settings == self.settings:
            return self.base
        if key in self._sessions:
            self._sessions.move_to_end(key)
        else:
            while len(self._sessions) >= SESSIONS:
                self._sessions.popitem(last=False)  # they share the base's client and cache
            self._sessions[key] = Session(settings, client=self.base.client, cache=self.base.cache)
        return self._sessions[key]

    def submit(self, ask: Ask) -> Job:
        """Queue ``ask`` (its options checked first); ``Full`` when no room is left."""
        self.settings_for(ask.options)  # checked now; the session is made when the job runs
        if self.pending >= self.concurrency + self.queue:
            raise Full(self.retry_after())
        job = Job(id=secrets.token_urlsafe(9), source=ask.url or ask.name or "pasted text")
        self.jobs[job.id] = job
        while len(self.jobs) > self.keep:
            # Only a finished job is let go; with none, the list grows past ``keep`` for a
            # while (it raised StopIteration here, and the job stayed queued forever).
            oldest = next((i for i, j in self.jobs.items() if j.status in ("done", "failed")), None)
            if oldest is None:
                break
            del self.jobs[oldest]
        task = asyncio.get_running_loop().create_task(self._run(job, ask))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    def forget(self, id: str) -> None:
        """Drop a finished job (its report was removed from the library)."""
        job = self.jobs.get(id)
        if job is not None and job.status in ("done", "failed"):
            del self.jobs[id]

    def retry_after(self) -> int:
        """Seconds until a slot is likely free: the typical report's time, at least one."""
        typical = statistics.median(self._times) if self._times else 30.0
        waiting = self.pending - self.concurrency + 1
        return max(1, round(typical * max(1, waiting) / self.concurrency))

    async def wait(self, job: Job) -> Job:
        while job.status in ("queued", "running"):
            await asyncio.sleep(0.05)
        return job

    async def _run(self, job: Job, ask: Ask) -> None:
        started = time.perf_counter()

        def on_stage(stage: str) -> None:
            job.stage = stage

        try:
            async with self._slots:
                job.status, job.stage = "running", "reading"
                job.report = await self._report(ask, on_stage)
            await self._keep(job, job.report)
            job.status, job.stage = "done", "done"
            self._times.append(time.perf_counter() - started)
        except Exception as exc:  # every failure is the job's answer, never the server's end
            job.error_kind, job.error = describe(exc)
            job.http_status = exc.http_status if isinstance(exc, AnalystError) else 500
            job.status, job.stage = "failed", "failed"
        finally:
            job.seconds = round(time.perf_counter() - started, 3)

    async def _keep(self, job: Job, report: Report) -> None:
        """Put the report in the library before the job is done: a client told "done" finds it
        there after a restart. A library that cannot take it (a full disk) costs the report
        its place there, not the answer."""
        try:
            await asyncio.to_thread(self.library.add, job.id, report, source=job.source)
        except Exception as exc:
            log.warning("analyst: the library could not keep report %s: %s", job.id, exc)

    async def digest(self, reports: list[tuple[Report, str | None]], *, prose: bool) -> Digest:
        """The digest of ``reports`` (each with where it came from); with ``prose``, written by
        the model in a slot of the queue's, like a report."""
        given = [Given(report, source) for report, source in reports]
        if not prose:
            return await asyncio.to_thread(lambda: merge(given).digest)
        session = self.base
        async with self._slots:
            calls = digest_calls(
                given, settings=session.settings, prompts=session.prompts, info=session.info
            )
            made = await session.arun(calls)
        assert isinstance(made, Digest)  # no gate: nothing is deferred or withdrawn
        return made

    async def _report(self, ask: Ask, on_stage: Callable[[str], None]) -> Report:
        session = self.session(ask.options)
        settings = session.settings
        if ask.url is not None:
            url = ask.url
            source = await asyncio.to_thread(source_of_url, url, settings, on_stage)
        else:
            source = source_of_text(ask.text or "", ask.name, settings)
        article = await asyncio.to_thread(
            session.read,
            source.data,
            name=source.name,
            content_type=source.content_type,
            url=source.url,
        )
        return await session.areport(article, path=source.path, on_stage=on_stage)

    async def start(self) -> None:
        """Make the model client (and start the embedded server) before the first request."""
        await asyncio.to_thread(lambda: self.base.client)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.base.aclose()
