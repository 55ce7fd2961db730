"""Folders: a report for every article below a folder — concurrent, resumable, cached.

A run goes like this:

1. find the articles (``files.find_articles``), passing over links that lead out of the folder and
   the output folder itself;
2. take them up at most ``concurrency`` at a time, all on one model client: hash the article; skip
   it when the manifest says its report is done for the same bytes and the same configuration;
   otherwise mark it ``running``, drive the pipeline on the asynchronous client with the batch's
   call cache, write its reports (write-then-rename), and mark it ``ok`` — or ``failed`` with the
   kind of error — and go on with the next;
3. record the run in the manifest.

Errors that would fail every article the same way (a refused API key, an unknown model, a bad
setting) stop the batch instead. Ctrl-C once: nothing new is taken up and the articles in flight
finish; twice (or SIGTERM): those are cancelled and marked ``interrupted``. The next run picks up
what is left, and the call cache answers every model call already paid for.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from os import PathLike
from pathlib import Path, PurePath
from typing import Literal

from analyst import __version__, drive
from analyst.backends import AsyncChatClient, ChatClient, make_client
from analyst.cache import CallCache
from analyst.errors import (
    AnalystError,
    AuthenticationError,
    BudgetError,
    ConfigError,
    ContextOverflowError,
    InputError,
    ModelOutputError,
    ModelServerError,
    UnknownModelError,
)
from analyst.files import (
    ARTICLE_SUFFIXES,
    display,
    find_articles,
    mirror,
    read_bytes,
    sweep_temporaries,
    write_atomic,
)
from analyst.manifest import Manifest, Row
from analyst.pipeline import fit_input, report_calls
from analyst.pricing import cost_usd
from analyst.prompts import Prompts
from analyst.reading import Article
from analyst.render import to_json, to_markdown
from analyst.rounds import MAX_ROUND, BatchRequestError, ExportClient, Exported, RoundClient
from analyst.schema import SCHEMA_VERSION, Report, Usage
from analyst.settings import Settings
from analyst.slots import Gate, Slots, Withdrawn
from analyst.sources import load_article
from analyst.structured import Meter

# Requests in flight against a remote server when not told otherwise.
DEFAULT_CONCURRENCY = 4
# Slots of the embedded server in a batch: llama.cpp decodes them together (see the README).
LOCAL_SLOTS = 2
# Articles open at once when the requests go to a provider batch (each round holds one request
# of each): enough for large rounds, few enough to keep their texts in memory.
ROUND_ARTICLES = 2000

FORMATS: dict[str, tuple[str, Callable[[Report], str]]] = {
    "json": (".json", to_json),
    "md": (".md", to_markdown),
}
ERROR_KINDS: list[tuple[type[AnalystError], str]] = [
    (InputError, "input"),
    (ModelServerError, "model-server"),
    (ModelOutputError, "model-output"),
    (ContextOverflowError, "context"),
    (ConfigError, "config"),
    (BudgetError, "budget"),
]
# Errors every article would hit the same way: stop instead of recording each.
_FATAL = (AuthenticationError, UnknownModelError, ConfigError)
# This many articles in a row failing on the model server also stops the batch.
_SERVER_STREAK = 5

Client = ChatClient | AsyncChatClient


@dataclass
class BatchResult:
    """What a batch did; live while it runs (progress displays read it)."""

    total: int = 0
    ok: int = 0
    skipped: int = 0  # done in an earlier run (or, with retry_failed, not failed earlier)
    waiting: int = 0  # their next request was exported (--export-batch): no report yet
    failed: dict[str, int] = field(default_factory=dict)  # by error kind
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # path, kind, message
    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None
    seconds: float = 0.0
    interrupted: bool = False
    budget_exhausted: bool = False  # the run's token budget was spent; the rest was not started
    warnings: list[str] = field(default_factory=list)
    manifest: Path | None = None

    @property
    def failed_count(self) -> int:
        """Articles that failed in this run."""
        return sum(self.failed.values())

    @property
    def done(self) -> int:
        """Articles finished one way or another in this run."""
        return self.ok + self.skipped + self.failed_count + self.waiting

    def _add(self, usage: Usage) -> None:
        self.calls += usage.calls
        self.cache_hits += usage.cache_hits
        self.prompt_tokens += usage.prompt_tokens
        self.completion_tokens += usage.completion_tokens
        if usage.cost_usd is not None:
            self.cost_usd = (self.cost_usd or 0.0) + usage.cost_usd


@dataclass(frozen=True)
class BatchEvent:
    """Progress: ``planned`` (totals known), ``started``/``finished`` (one article; ``status`` is
    ok, failed or skipped), ``stopping`` (Ctrl-C: no new articles)."""

    kind: Literal["planned", "started", "finished", "stopping"]
    result: BatchResult
    path: str = ""
    status: str = ""


EventCallback = Callable[[BatchEvent], None]


def summarize_folder(
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
) -> BatchResult:
    """Write a report for every article below ``folder`` into ``out_dir``, mirroring the tree.

    ``pattern`` is a glob relative to ``folder`` (``**`` for any depth); without it every .txt,
    .md, .html, .htm, .pdf file (and .gz of one) is read. Articles done in an earlier run (same
    bytes, same settings and prompts) are skipped; ``retry_failed`` takes up only those that
    failed last time; ``force`` redoes everything. ``concurrency`` defaults to 4 for a server,
    and to the embedded server's slots. ``budget_tokens`` caps the tokens of the whole run: once
    spent, no new article starts (those under way finish) and the result says
    ``budget_exhausted``.
    Runs its own event loop; inside one, ``await asummarize_folder(...)``.
    """
    return asyncio.run(
        asummarize_folder(
            folder,
            out_dir=out_dir,
            settings=settings,
            client=client,
            concurrency=concurrency,
            formats=formats,
            pattern=pattern,
            retry_failed=retry_failed,
            force=force,
            budget_tokens=budget_tokens,
            on_event=on_event,
        )
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
) -> BatchResult:
    """``summarize_folder`` for code that already runs an event loop."""
    settings = settings or Settings()
    if retry_failed and force:
        raise ConfigError("--retry-failed and --force contradict each other; choose one")
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown or not formats:
        raise ConfigError(f"batch formats are json and md, not {', '.join(unknown) or 'none'}")
    rounds = isinstance(client, RoundClient | ExportClient)
    most = MAX_ROUND if rounds else 256
    if concurrency is not None and not 1 <= concurrency <= most:
        raise ConfigError(f"concurrency must be between 1 and {most}")
    if rounds:
        # A provider batch round holds one request of every open article.
        concurrency = concurrency or ROUND_ARTICLES
    if client is None and settings.uses_local:
        # The embedded server decodes `slots` requests together: keep that many in flight.
        concurrency = concurrency or LOCAL_SLOTS
        settings = replace(settings, local_slots=concurrency)
    concurrency = concurrency or DEFAULT_CONCURRENCY

    source, out = Path(folder), Path(out_dir)
    found = find_articles(source, pattern=pattern, exclude=out)
    if not found.paths:
        what = f"matching {pattern!r}" if pattern else f"({' '.join(ARTICLE_SUFFIXES)}, .gz)"
        raise InputError(f"no articles {what} below {source}")
    prompts = Prompts.load(settings.prompts_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the output folder {out}: {exc.strerror}") from None
    with _exclusive(out):
        sweep_temporaries(out)  # half-written reports of a killed run; we hold the lock
        batch = _Batch(
            source=source,
            out=out,
            paths=found.paths,
            settings=settings,
            prompts=prompts,
            formats=tuple(dict.fromkeys(formats)),
            retry_failed=retry_failed,
            force=force,
            budget_tokens=budget_tokens,
            on_event=on_event or (lambda _event: None),
        )
        batch.result.warnings.extend(found.skipped)
        await batch.run(client, concurrency)
        return batch.result


@contextlib.contextmanager
def _exclusive(out: Path) -> Iterator[None]:
    """One batch at a time per output folder: two would race on the same reports."""
    lock_path = out / ".analyst.lock"
    with open(lock_path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(f"another analyst batch is writing to {out}") from None
        yield


@dataclass
class _Batch:
    source: Path
    out: Path
    paths: list[PurePath]
    settings: Settings
    prompts: Prompts
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

    async def run(self, client: Client | None, concurrency: int) -> None:
        started = time.perf_counter()
        self.result.total = len(self.paths)
        owned = client is None
        client = client or make_client(self.settings)
        manifest = Manifest(self.out)
        self.result.manifest = manifest.path
        cache = CallCache(manifest.path) if self.settings.cache else None
        identity = self.settings.identity(client.model)
        config = self._config(identity)
        failed_before = manifest.failed_paths() if self.retry_failed else set()
        run_id = manifest.begin_run(config, self._describe(identity))
        self.on_event(BatchEvent("planned", self.result))
        queue = iter(self.paths)
        slots = Slots(concurrency)
        job = _Job(client, cache, manifest, identity, config, failed_before, slots)
        try:
            with self._signals():
                # `concurrency` bounds the requests in flight; four times as many articles are
                # open, so that while one is between calls (reading, grounding, writing) another
                # has its request ready for the freed slot.
                workers = (
                    concurrency
                    if isinstance(client, RoundClient | ExportClient)
                    else 4 * concurrency
                )
                self._tasks = [
                    asyncio.create_task(self._worker(queue, job))
                    for _ in range(min(workers, len(self.paths)))
                ]
                await asyncio.gather(*self._tasks, return_exceptions=True)
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
            manifest.close()
            if cache is not None:
                cache.close()
            if owned:
                await _close(client)
        if self.fatal is not None:
            raise self.fatal

    def _stopped_why(self) -> str | None:
        if self.fatal is not None:
            return " ".join(str(self.fatal).split())
        if self.result.budget_exhausted:
            return "budget"
        return "interrupted" if self.result.interrupted else None

    def _config(self, identity: str) -> str:
        return config_hash(self._describe(identity))

    def _describe(self, identity: str) -> dict[str, object]:
        return describe_config(self.settings, self.prompts, identity)

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

    async def _worker(self, queue: Iterator[PurePath], job: _Job) -> None:
        for relative in queue:  # one iterator shared by every worker
            if self.stopping:
                return
            try:
                await self._one(relative, job)
            except _FATAL as exc:
                if self.fatal is None:
                    self.fatal = exc
                self._cancel()
                return

    async def _one(self, relative: PurePath, job: _Job) -> None:
        name = display(relative)
        path = self.source / relative
        self.on_event(BatchEvent("started", self.result, name))
        meter = Meter(budget=self.settings.budget_tokens)
        started = time.perf_counter()
        try:
            data = read_bytes(path)
        except InputError as exc:
            job.manifest.start(name, "", job.config)
            self._failed(job, name, exc, meter, started)
            return
        sha256 = hashlib.sha256(data).hexdigest()
        if self._skip(job.manifest.get(name), sha256, job):
            self.result.skipped += 1
            self.on_event(BatchEvent("finished", self.result, name, "skipped"))
            return
        job.manifest.start(name, sha256, job.config)
        try:
            # On the event loop: a worker thread per read cost more than it saved (a thread hop
            # per article, and numpy's per-thread arenas in language detection took the batch
            # from 144 to 500 MB). HTML pages do hold the loop for ~0.1 s each.
            article = self._read(data, relative.name)
            calls = report_calls(
                article,
                data,
                settings=self.settings,
                prompts=self.prompts,
                model=job.client.model,
                backend=job.client.backend,
                path=display(path),
                meter=meter,
            )
            self._opened += 1
            gate = Gate(lambda: self.stopping, job.slots, self._opened)
            report = await drive.arun(calls, job.client, job.cache, job.identity, gate)
            outputs = await asyncio.to_thread(self._write, relative, report)
        except AnalystError as exc:
            self._failed(job, name, exc, meter, started)
            if isinstance(exc, _FATAL):
                raise
            return
        except Exported:  # --export-batch: its next request is in the file; no report yet
            job.manifest.finish(name, status="waiting", usage=self._usage(meter, job, started))
            self.result.waiting += 1
            self.result._add(self._usage(meter, job, started))
            self.on_event(BatchEvent("finished", self.result, name, "waiting"))
            return
        except Withdrawn:  # Ctrl-C came before its first request: nothing to finish
            job.manifest.finish(name, status="interrupted", usage=self._usage(meter, job, started))
            self.on_event(BatchEvent("finished", self.result, name, "interrupted"))
            return
        except asyncio.CancelledError:
            job.manifest.finish(name, status="interrupted", usage=self._usage(meter, job, started))
            raise
        except Exception as exc:  # a bug: keep its traceback in the manifest and go on
            detail = "".join(traceback.format_exception(exc))
            self._failed(job, name, exc, meter, started, detail=detail)
            return
        job.manifest.finish(name, status="ok", usage=report.usage, outputs=outputs)
        self.result.ok += 1
        self._server_streak = 0
        self._spend_check()
        self.result._add(report.usage)
        self.on_event(BatchEvent("finished", self.result, name, "ok"))

    def _spend_check(self) -> None:
        """Once the run's token budget is spent, start nothing new."""
        spent = self.result.prompt_tokens + self.result.completion_tokens
        if self.budget_tokens is not None and spent >= self.budget_tokens and not self.stopping:
            self.stopping = True
            self.result.budget_exhausted = True

    def _read(self, data: bytes, name: str) -> Article:
        return fit_input(load_article(data, name=name), self.settings)

    def _skip(self, row: Row | None, sha256: str, job: _Job) -> bool:
        return is_done(
            row,
            sha256,
            job.config,
            out=self.out,
            formats=self.formats,
            force=self.force,
            retry_failed=self.retry_failed,
            failed_before=job.failed_before,
        )

    def _write(self, relative: PurePath, report: Report) -> list[str]:
        return write_outputs(self.out, relative, report, self.formats)

    def _usage(self, meter: Meter, job: _Job, started: float) -> Usage:
        return Usage(
            calls=meter.calls,
            prompt_tokens=meter.prompt_tokens,
            completion_tokens=meter.completion_tokens,
            repairs=meter.repairs,
            cache_hits=meter.cache_hits,
            seconds=round(time.perf_counter() - started, 3),
            cost_usd=cost_usd(
                job.client.model, job.client.backend, meter.prompt_tokens, meter.completion_tokens
            ),
        )

    def _failed(
        self,
        job: _Job,
        name: str,
        exc: Exception,
        meter: Meter,
        started: float,
        detail: str | None = None,
    ) -> None:
        kind, message = classify(exc)
        usage = self._usage(meter, job, started)
        job.manifest.finish(
            name, status="failed", usage=usage, error_kind=kind, error=detail or message
        )
        if kind == "model-server" and not isinstance(exc, BatchRequestError):
            self._server_streak += 1
            if self._server_streak >= _SERVER_STREAK and self.fatal is None:
                # The SDK already retried each of these: the server is down, not unlucky.
                self.fatal = ModelServerError(
                    f"stopped after {self._server_streak} articles in a row failed on the model "
                    f"server; the last: {message}"
                )
                self._cancel()
        self.result.failed[kind] = self.result.failed.get(kind, 0) + 1
        self.result.failures.append((name, kind, message))
        self.result._add(usage)
        self._spend_check()
        self.on_event(BatchEvent("finished", self.result, name, "failed"))


def describe_config(settings: Settings, prompts: Prompts, identity: str) -> dict[str, object]:
    """Everything besides the article that decides its report (never the API key)."""
    s = settings
    return {
        "analyst": __version__,
        "schema_version": SCHEMA_VERSION,
        "model": identity,  # backend, server and model; never the key
        "prompts_sha256": prompts.sha256,
        "context_window": s.effective_context_window,
        "pack_tokens": s.pack_tokens,
        "extract_max_tokens": s.extract_max_tokens,
        "synth_max_tokens": s.synth_max_tokens,
        "temperature": s.temperature,
        "repairs": s.repairs,
        "keep_ungrounded": s.keep_ungrounded,
        "verify": s.verify,
        "language": s.language,
        "include_text": s.include_text,
        "max_input_tokens": s.max_input_tokens,
        "truncate": s.truncate,
    }


def config_hash(description: dict[str, object]) -> str:
    """The hash a report's manifest row keeps: a change to any setting redoes the report."""
    blob = json.dumps(description, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def is_done(
    row: Row | None,
    sha256: str,
    config: str,
    *,
    out: Path,
    formats: Sequence[str],
    force: bool,
    retry_failed: bool,
    failed_before: set[str],
) -> bool:
    """Whether an article can be skipped: its report is written for these bytes and settings
    (or, with ``retry_failed``, it did not fail last time)."""
    if force:
        return False
    if retry_failed:
        return row is None or row.path not in failed_before
    if row is None or row.status != "ok" or (row.sha256, row.config) != (sha256, config):
        return False
    # Done, unless a format asked for now was not written then (or was deleted since).
    wanted = {FORMATS[f][0] for f in formats}
    written = {o for o in row.outputs if (out / o).is_file()}
    return all(any(o.endswith(suffix) for o in written) for suffix in wanted)


def write_outputs(
    out: Path, relative: PurePath, report: Report, formats: Sequence[str]
) -> list[str]:
    """Write the report in each format under ``out``, mirroring ``relative``, atomically."""
    outputs = []
    for fmt in formats:
        suffix, render = FORMATS[fmt]
        target = mirror(out, relative, suffix)
        write_atomic(target, render(report))
        outputs.append(display(target.relative_to(out)))
    return outputs


def classify(exc: BaseException) -> tuple[str, str]:
    """The manifest's error kind and one-line message for ``exc``."""
    kind = next((k for cls, k in ERROR_KINDS if isinstance(exc, cls)), "internal")
    message = " ".join(str(exc).split()) or type(exc).__name__
    if kind == "internal":
        message = f"{type(exc).__name__}: {message} (a bug in analyst; please report it)"
    return kind, message


@dataclass(frozen=True)
class _Job:
    """What every article of one run shares."""

    client: Client
    cache: CallCache | None
    manifest: Manifest
    identity: str
    config: str
    failed_before: set[str]
    slots: Slots  # requests in flight


async def _close(client: Client) -> None:
    if isinstance(client, AsyncChatClient):
        await client.aclose()
    if isinstance(client, ChatClient):
        client.close()
