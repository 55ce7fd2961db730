"""Folders on this machine: a report for every article below a folder — concurrent, resumable.

A run goes like this:

1. find the articles (``folders.find_articles``), passing over links that lead out of the folder
   and the output folder itself;
2. take them up on one ``Session`` (one client, the shared call cache), at most ``concurrency``
   requests in flight: hash the article; skip it when the manifest says its report is done for the
   same bytes and configuration; otherwise mark it ``running``, drive the pipeline on the event
   loop, write its reports (write-then-rename), and mark it ``ok`` — or ``failed`` with its kind;
3. record the run in the manifest.

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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from os import PathLike
from pathlib import Path, PurePath
from typing import TypedDict

from typing_extensions import Unpack

from analyst.batch import web
from analyst.batch.folders import exclusive, sweep_temporaries
from analyst.batch.items import Item, WebOptions, list_items
from analyst.batch.manifest import Manifest
from analyst.batch.provider import MAX_ROUND, BatchClient
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
from analyst.errors import AnalystError, ConfigError, InputError, ModelServerError, describe
from analyst.files import as_path, display, read_bytes, write_atomic
from analyst.model.drive import Withdrawn
from analyst.model.seam import Client, Deferred
from analyst.model.usage import Meter, Pool
from analyst.output import FORMATS
from analyst.output.html import index_card, to_index
from analyst.reading.fetch import Fetched, is_url
from analyst.schema import Report, Usage
from analyst.session import Session
from analyst.settings import Settings

# Requests in flight against a remote server when not told otherwise.
DEFAULT_CONCURRENCY = 4
# Slots of the embedded server in a batch. A report now reads its article and writes ~50
# tokens, and reading is what two cores are busy with: 20 BBC articles took 180.5 s on 1 slot,
# 218.6 s on 2 and 227.6 s on 3 (benchmarks/local_model.py --batch, README), each added slot
# also reading the shared system text once more.
LOCAL_SLOTS = 1
# Articles open at once when the requests go to a provider batch (each round holds one request
# of each): enough for large rounds, few enough to keep their texts in memory.
ROUND_ARTICLES = 2000
# This many articles in a row failing on the model server also stops the batch.
SERVER_STREAK = 5


class FolderOptions(TypedDict, total=False):
    """The keyword arguments of ``summarize_folder`` besides the folders (see
    ``asummarize_folder``)."""

    settings: Settings | None
    client: Client | None
    concurrency: int | None
    formats: Sequence[str]
    pattern: str | None
    retry_failed: bool
    force: bool
    budget_tokens: int | None
    on_event: EventCallback | None
    web_options: WebOptions | None


def summarize_folder(
    folder: str | PathLike[str], *, out_dir: str | PathLike[str], **options: Unpack[FolderOptions]
) -> BatchResult:
    """Write a report for every article below ``folder`` into ``out_dir``, mirroring the tree.

    Runs its own event loop; inside one (Jupyter, an async app), ``await asummarize_folder``,
    which takes the same arguments and documents them.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(asummarize_folder(folder, out_dir=out_dir, **options))
    raise ConfigError(
        "summarize_folder runs its own event loop and one is already running here "
        "(Jupyter, an async app): use `await analyst.asummarize_folder(...)` instead"
    )


async def asummarize_folder(
    folder: str | PathLike[str],
    *,
    out_dir: str | PathLike[str],
    settings: Settings | None = None,
    client: Client | None = None,
    concurrency: int | None = None,
    formats: Sequence[str] = ("json",),
    pattern: str | None = None,
    retry_failed: bool = False,
    force: bool = False,
    budget_tokens: int | None = None,
    on_event: EventCallback | None = None,
    web_options: WebOptions | None = None,
) -> BatchResult:
    """Write a report for every article below ``folder`` into ``out_dir``, mirroring the tree.

    ``folder`` may also be a file of URLs (one a line; ``-``: stdin), or an RSS or Atom feed (a
    URL or a file; ``web_options`` says when a file lists feeds, and which items to take): each
    page is fetched and reported on, its reports named from its URL (``analyst.batch.items``).

    ``pattern`` is a glob relative to ``folder`` (``**`` for any depth); without it every .txt,
    .md, .html, .htm, .pdf file (and .gz of one) is read. Articles done in an earlier run (same
    bytes, same settings and prompts) are skipped; ``retry_failed`` takes up only those that
    failed last time; ``force`` redoes everything. ``concurrency`` defaults to 4 for a server,
    and to the embedded server's slots. ``budget_tokens`` caps the tokens of the whole run: once
    spent, no new article starts (those under way finish) and the result says
    ``budget_exhausted``. ``on_event`` receives progress events.
    """
    web_input = isinstance(folder, str) and (folder == "-" or is_url(folder))
    source: str | Path = str(folder) if web_input else as_path(folder, "folder")
    out = as_path(out_dir, "out_dir")
    settings = Settings.given(settings)
    if retry_failed and force:
        raise ConfigError("--retry-failed and --force contradict each other; choose one")
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown or not formats:
        known = ", ".join(FORMATS)
        raise ConfigError(f"batch formats are {known}, not {', '.join(unknown) or 'none'}")
    if "html" in formats:
        settings = replace(settings, include_text=True)  # the page shows the article
    rounds = isinstance(client, BatchClient)
    most = MAX_ROUND if rounds else 256
    if concurrency is not None and not 1 <= concurrency <= most:
        raise ConfigError(f"concurrency must be between 1 and {most}")
    # A server of the user's own says how many requests it runs at once, or shows it.
    ask_server = concurrency is None and client is None and not settings.uses_local and not rounds
    why = "--concurrency" if concurrency is not None else "the default"
    if rounds:
        # A provider batch round holds one request of every open article.
        why = why if concurrency else "a provider batch round"
        concurrency = concurrency or ROUND_ARTICLES
    if client is None and settings.uses_local:
        # The embedded server decodes `slots` requests together: keep that many in flight.
        why = why if concurrency else "the embedded server's slots"
        concurrency = concurrency or LOCAL_SLOTS
        settings = replace(settings, local_slots=concurrency)
    concurrency = concurrency or DEFAULT_CONCURRENCY

    if isinstance(source, Path) and not source.exists():
        raise InputError(f"{source} does not exist")
    options = web_options or WebOptions()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the output folder {out}: {exc.strerror}") from None
    with exclusive(out):
        sweep_temporaries(out)  # half-written reports of a killed run; we hold the lock
        manifest = Manifest(out)
        try:
            found = list_items(
                source,
                out=out,
                pattern=pattern,
                settings=settings,
                options=options,
                manifest=manifest,
            )
        except BaseException:
            manifest.close()
            raise
        session = Session(settings, client=client)
        try:
            concurrency, why, per_slot = await _fit_server(session, concurrency, why, ask_server)
        except BaseException:
            manifest.close()
            await session.aclose()
            raise
        batch = _Batch(
            source=found.folder,
            out=out,
            items=found.items,
            polite=web.Polite(settings, robots=options.robots),
            manifest_open=manifest,
            session=session,
            formats=tuple(dict.fromkeys(formats)),
            retry_failed=retry_failed,
            force=force,
            budget_tokens=budget_tokens,
            on_event=on_event or (lambda _event: None),
        )
        batch.result.warnings.extend(found.skipped)
        batch.result.concurrency = concurrency
        batch.result.concurrency_why = why
        # `concurrency` bounds the requests in flight; four times as many articles are open, so
        # that while one is between calls (reading, grounding, writing) another has its request
        # ready for the freed slot. A provider round holds one request of each open article.
        # On the embedded server, one article per slot: llama.cpp gives a request the idle slot
        # whose cache shares most with it, so each article's calls stay on the slot that read
        # it. With more open, a waiting article took the slot freed between two calls of
        # another, which then read its article (and the system text) again elsewhere: 4,937
        # prompt tokens computed for a 561-token BBC article. The same holds for a llama.cpp
        # server of the user's own, and for Ollama and LM Studio, which run llama.cpp's slots.
        open_articles = 4 * concurrency
        if rounds or per_slot or (client is None and settings.uses_local):
            open_articles = concurrency
        await batch.run(concurrency, open_articles)
        return batch.result


async def _fit_server(
    session: Session, concurrency: int, why: str, ask: bool
) -> tuple[int, str, bool]:
    """The requests in flight for this run, why, and whether to open one article per request
    (a server whose prompt cache is a slot's); the client's ``Throttle`` starts there."""
    client = session.client
    survey = None
    survey_of = getattr(client, "asurvey", None)  # clients analyst makes have it
    if survey_of is not None and not session.settings.uses_local:
        try:
            survey = await survey_of()
        except AnalystError:
            survey = None  # the first request will say what is wrong, article by article
        if ask and survey is not None and survey.slots:
            concurrency = survey.slots
            why = f"{survey.name} runs {survey.slots} slot{'s' if survey.slots > 1 else ''}"
        elif ask and survey is not None and survey.kind != "openai":
            why = (
                f"{survey.name} does not say how many requests it runs at once: fewer if it "
                "shows strain"
            )
    throttle = getattr(client, "throttle", None)
    if throttle is not None:
        throttle.start(concurrency)
    per_slot = survey is not None and survey.kind in ("llama.cpp", "ollama", "lm-studio")
    return concurrency, why, per_slot


@dataclass
class _Batch:
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
