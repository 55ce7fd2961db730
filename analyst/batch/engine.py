"""One local batch run: the articles taken up on one ``Session``, at most so many requests in
flight; each article hashed, skipped when the manifest has its report for the same bytes and
configuration, else marked ``running``, its pipeline driven on the event loop, its reports written
(write-then-rename) and marked ``ok`` — or ``failed`` with its kind (``batch/run.py`` sets a run
up; this runs it).

An error whose class ``stops_batch`` (a refused key, an unknown model, a bad setting) stops the
batch instead of failing every article alike. Ctrl-C once: nothing new is taken up and the articles
in flight finish; twice (or SIGTERM): those are cancelled and marked ``interrupted``. The next run
picks up what is left, and the call cache answers every model call already paid for.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import signal
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from analyst.batch import web
from analyst.batch.items import Item
from analyst.batch.manifest import Manifest
from analyst.batch.results import (
    BatchEvent,
    BatchResult,
    EventCallback,
    config_hash,
    describe_config,
    is_done,
    write_outputs,
)
from analyst.batch.slots import Gate, Slots
from analyst.errors import AnalystError, InputError, ModelServerError, describe
from analyst.files import display, read_bytes, write_atomic
from analyst.model.drive import Withdrawn
from analyst.model.seam import Deferred
from analyst.model.usage import Meter, Pool
from analyst.output.html import index_card, to_index
from analyst.reading.fetch import Fetched
from analyst.schema import Report, Usage
from analyst.session import Session

# This many articles in a row failing on the model server also stops the batch.
SERVER_STREAK = 5


@dataclass
class LocalRun:
    source: Path | None  # the input folder, when it is one
    out: Path
    items: list[Item]
    polite: web.Polite
    manifest_open: Manifest
    session: Session
    formats: tuple[str, ...]
    retry_failed: bool
    force: bool
    budget_tokens: int | None
    on_event: EventCallback
    result: BatchResult = field(default_factory=BatchResult)
    stopping: bool = False
    fatal: AnalystError | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _opened: int = 0  # articles taken up so far: each one's rank for request slots
    _server_streak: int = 0  # articles failed on the model server in a row
    _manifest: Manifest | None = None
    _config: str = ""
    _failed_before: set[str] = field(default_factory=set)
    _pool: Pool | None = None  # the run's token budget, held request by request

    async def run(self, concurrency: int, open_articles: int) -> None:
        started = time.perf_counter()
        if self.budget_tokens is not None:
            self._pool = Pool(self.budget_tokens)
        self.result.total = len(self.items)
        manifest = self._manifest = self.manifest_open
        if self.session.cache is not None:  # a manifest that still holds its batch's replies
            self.session.cache.take_over(manifest.path)
        self.result.manifest = manifest.path
        description = describe_config(self.session.settings, self.session.prompts, self.identity)
        self._config = config_hash(description)
        self._failed_before = manifest.failed_paths() if self.retry_failed else set()
        run_id = manifest.begin_run(self._config, description)
        self.on_event(BatchEvent("planned", self.result))
        queue = iter(self.items)
        throttle = getattr(self.session.client, "throttle", None)
        slots = Slots(concurrency, (lambda: throttle.limit) if throttle is not None else None)
        try:
            with self._signals():
                self._tasks = [
                    asyncio.create_task(self._worker(queue, slots))
                    for _ in range(min(open_articles, len(self.items)))
                ]
                await asyncio.gather(*self._tasks, return_exceptions=True)
            if throttle is not None and throttle.halvings:
                self.result.warnings.append(
                    f"the server showed strain {throttle.halvings} time(s) (a request waited a "
                    f"whole --timeout, or a 429/503): requests in flight went down to "
                    f"{throttle.limit} of {concurrency}"
                )
        finally:
            self.result.seconds = round(time.perf_counter() - started, 3)
            self.result.interrupted = (
                self.stopping
                and self.fatal is None
                and not self.result.budget_exhausted
                and self.result.done < self.result.total
            )
            manifest.end_run(
                run_id,
                total=self.result.total,
                ok=self.result.ok,
                failed=self.result.failed_count,
                skipped=self.result.skipped,
                interrupted=self.result.interrupted,
                stopped=self._stopped_why(),
            )
            if "html" in self.formats:
                self._index(manifest)
            manifest.close()
            await self.session.aclose()
        if self.fatal is not None:
            raise self.fatal

    @property
    def identity(self) -> str:
        return self.session.identity

    @property
    def manifest(self) -> Manifest:
        assert self._manifest is not None
        return self._manifest

    def _stopped_why(self) -> str | None:
        if self.fatal is not None:
            return " ".join(str(self.fatal).split())
        if self.result.budget_exhausted:
            return "budget"
        return "interrupted" if self.result.interrupted else None

    @contextlib.contextmanager
    def _signals(self) -> Iterator[None]:
        """Ctrl-C stops taking up articles, a second one (or SIGTERM) cancels those in flight."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, self._interrupt)
        loop.add_signal_handler(signal.SIGTERM, self._cancel)
        try:
            yield
        finally:
            loop.remove_signal_handler(signal.SIGINT)
            loop.remove_signal_handler(signal.SIGTERM)

    def _interrupt(self) -> None:
        if self.stopping:
            self._cancel()
            return
        self.stopping = True
        self.on_event(BatchEvent("stopping", self.result))

    def _cancel(self) -> None:
        self.stopping = True
        for task in self._tasks:
            task.cancel()

    async def _worker(self, queue: Iterator[Item], slots: Slots) -> None:
        for item in queue:  # one iterator shared by every worker
            if self.stopping:
                return
            try:
                await self._one(item, slots)
            except AnalystError as exc:  # one that stops the batch
                if self.fatal is None:
                    self.fatal = exc
                self._cancel()
                return

    async def _one(self, item: Item, slots: Slots) -> None:
        name, relative = item.name, item.out
        self.on_event(BatchEvent("started", self.result, name))
        meter = Meter(budget=self.session.settings.budget_tokens, pool=self._pool)
        started = time.perf_counter()
        fetched: Fetched | None = None
        try:
            if item.page is not None:
                fetched = await self._fetch(item)
                if fetched is None:  # unchanged since its report: not fetched again
                    self.result.skipped += 1
                    self.on_event(BatchEvent("finished", self.result, name, "skipped"))
                    return
                data = fetched.data
            else:
                assert item.path is not None
                data = read_bytes(
                    item.path, self.session.settings.max_input_bytes, regular_only=True
                )
        except InputError as exc:
            self.manifest.start(name, "", self._config)
            self._failed(name, exc, meter, started)
            return
        sha256 = hashlib.sha256(data).hexdigest()
        if self._skip(name, relative, sha256):
            self._remember(item, fetched)
            self.result.skipped += 1
            self.on_event(BatchEvent("finished", self.result, name, "skipped"))
            return
        self.manifest.start(name, sha256, self._config)
        try:
            # On the event loop: a worker thread per read cost more than it saved (a thread hop
            # per article, and numpy's per-thread arenas in language detection took the batch
            # from 144 to 500 MB). HTML pages do hold the loop for ~0.1 s each.
            if fetched is not None:
                article = self.session.read(
                    data, name=fetched.url, content_type=fetched.content_type, url=fetched.url
                )
                shown = None
            else:
                article = self.session.read(data, name=relative.name)
                shown = display(item.path) if item.path is not None else None
            calls = self.session.calls(article, path=shown, meter=meter)
            self._opened += 1
            gate = Gate(lambda: self.stopping, slots, self._opened, meter)
            done = await self.session.arun(calls, gate)
            outputs = []
            if isinstance(done, Report):
                done = web.with_feed(done, item.page)
                outputs = await asyncio.to_thread(self._write, relative, done)
        except AnalystError as exc:
            self._failed(name, exc, meter, started)
            if self._pool is not None:
                self._pool.close(meter, finished=False)
            if self._pool is not None and self._pool.refused and not self.stopping:
                # The run's budget cannot pay for another request: start nothing new.
                self.stopping = True
                self.result.budget_exhausted = True
            if exc.stops_batch:
                raise
            return
        except asyncio.CancelledError:
            self._finish(name, "interrupted", meter, started)
            raise
        except Exception as exc:  # a bug: keep its traceback in the manifest and go on
            self._failed(name, exc, meter, started, "".join(traceback.format_exception(exc)))
            return
        if isinstance(done, Withdrawn):  # Ctrl-C or the budget came before its first request
            if self._pool is not None and self._pool.refused and not self.stopping:
                self.stopping = True
                self.result.budget_exhausted = True
            self._finish(name, "interrupted", meter, started)
            status = "interrupted"
        elif isinstance(done, Deferred):  # --export-batch: its next request is in the file
            self.result.waiting += 1
            self.result.add(self._finish(name, "waiting", meter, started))
            status = "waiting"
        else:
            card = index_card(done)
            self.manifest.finish(name, status="ok", usage=done.usage, outputs=outputs, card=card)
            self._remember(item, fetched)
            self.result.ok += 1
            self._server_streak = 0
            self._spend_check()
            self.result.add(done.usage)
            status = "ok"
        if self._pool is not None:
            self._pool.close(meter, finished=status == "ok")
        self.on_event(BatchEvent("finished", self.result, name, status))

    def _finish(self, name: str, status: str, meter: Meter, started: float) -> Usage:
        usage = meter.usage(self.session.info, time.perf_counter() - started)
        self.manifest.finish(name, status=status, usage=usage)
        return usage

    def _spend_check(self) -> None:
        """Once the run's token budget is spent, start nothing new."""
        spent = self.result.prompt_tokens + self.result.completion_tokens
        if self.budget_tokens is not None and spent >= self.budget_tokens and not self.stopping:
            self.stopping = True
            self.result.budget_exhausted = True

    def _skip(self, name: str, relative: PurePath, sha256: str) -> bool:
        return is_done(
            self.manifest.get(name),
            sha256,
            self._config,
            out=self.out,
            relative=relative,
            formats=self.formats,
            force=self.force,
            retry_failed=self.retry_failed,
            failed_before=self._failed_before,
        )

    async def _fetch(self, item: Item) -> Fetched | None:
        """The page of a web item, or None when its report is done and the page unchanged: by
        its feed version (not fetched at all), or by a conditional GET that answers 304."""
        assert item.page is not None
        row = self.manifest.get(item.name)
        done = (
            not self.force
            and row is not None
            and row.status == "ok"
            and row.config == self._config
            and all((self.out / o).is_file() for o in row.outputs)
        )
        if done and row is not None and item.page.version and row.version == item.page.version:
            return None
        if not await self.polite.allowed(item.page.url):
            raise InputError(
                f"{item.page.url}: its site's robots.txt does not allow it (--ignore-robots)"
            )
        etag = row.etag if done and row is not None else None
        modified = row.last_modified if done and row is not None else None
        async with self.polite.host(item.page.url):
            got = await asyncio.to_thread(
                web.get, item.page.url, self.session.settings, etag=etag, modified=modified
            )
        return None if got.status == 304 else got

    def _remember(self, item: Item, fetched: Fetched | None) -> None:
        if item.page is not None:
            self.manifest.remember_web(
                item.name,
                version=item.page.version,
                etag=fetched.etag if fetched else None,
                last_modified=fetched.last_modified if fetched else None,
            )

    def _index(self, manifest: Manifest) -> None:
        """``index.html`` over every article the folder's manifest knows (this run's and the
        earlier ones'), rewritten at the end of each run."""
        entries = [e for e in manifest.entries() if e["status"] != "running"]
        try:
            write_atomic(self.out / "index.html", to_index(entries, self.source))
        except OSError as exc:
            self.result.warnings.append(f"cannot write index.html: {exc.strerror}")

    def _write(self, relative: PurePath, report: Report) -> list[str]:
        return write_outputs(self.out, relative, report, self.formats)

    def _failed(
        self, name: str, exc: Exception, meter: Meter, started: float, detail: str | None = None
    ) -> None:
        kind, message = describe(exc)
        usage = meter.usage(self.session.info, time.perf_counter() - started)
        self.manifest.finish(
            name, status="failed", usage=usage, error_kind=kind, error=detail or message
        )
        if isinstance(exc, AnalystError) and exc.server_down:
            self._server_streak += 1
            if self._server_streak >= SERVER_STREAK and self.fatal is None:
                # The SDK already retried each of these: the server is down, not unlucky.
                self.fatal = ModelServerError(
                    f"stopped after {self._server_streak} articles in a row failed on the model "
                    f"server; the last: {message}"
                )
                self._cancel()
        self.result.fail(name, kind, message, usage)
        self._spend_check()
        self.on_event(BatchEvent("finished", self.result, name, "failed"))
