"""Provider batch endpoints: the pipeline's requests gathered into rounds and answered later.

OpenAI's Batch API answers a file of requests within a day for half the price, and
``vllm run-batch`` reads and writes the same JSONL. analyst's pipeline is a generator of
requests, so an article needs no change to run this way; only the client differs:

- ``RoundClient`` (``--submit openai-batch``) takes each request an article makes and waits.
  Once no new request has come for a moment (every open article is waiting) or the round is
  full, it uploads them all as one batch, polls it, and hands each article its reply. What an
  article asks next — synthesis after extraction, or a re-ask of an invalid reply — goes into
  the next round. Requests the provider did not finish (an expired batch) go into the next round
  too, a bounded number of times; requests that failed fail their article, which
  ``--retry-failed`` takes up again.
- ``ExportClient`` (``--export-batch FILE``) writes the requests that have no reply yet to a
  JSONL file and leaves their articles ``waiting``; ``--import-batch RESULTS`` reads a result
  file back. Running the batch again then answers those requests and exports the next round.

Every reply a batch returned is kept in the output folder's manifest (table
``batch_replies``) under its request's ``custom_id`` — the request's call-cache key — so a later
run, or a run killed while polling, never pays for a request twice; the ids of submitted
batches are kept too (table ``batches``), and a new run first collects those still open.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyst.errors import BatchRequestError, ConfigError, InputError, ModelServerError
from analyst.files import write_atomic
from analyst.model.cache import call_key
from analyst.model.seam import BatchState, ChatRequest, ClientInfo, Completion, Deferred

if TYPE_CHECKING:
    from analyst.model.openai import OpenAIChatClient
    from analyst.settings import Settings

# --stage names and the schemas of their requests.
STAGES = {"facts": "extraction", "verify": "judgements", "synthesis": "synthesis"}
# OpenAI takes at most 50,000 requests (and 200 MB) per batch file.
MAX_ROUND = 50_000

Progress = Callable[[str], None]


class BatchStore:
    """Replies and batch ids, in the manifest's database (WAL: the batch's own connection to
    the same file goes on working)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS batch_replies "
            "(key TEXT PRIMARY KEY, body TEXT NOT NULL, source TEXT, created REAL NOT NULL)"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS batches (id TEXT PRIMARY KEY, status TEXT NOT NULL, "
            "requests INTEGER NOT NULL, submitted REAL NOT NULL, finished REAL)"
        )

    def reply(self, key: str) -> dict[str, Any] | None:
        """The chat completion body stored for ``key``, if any."""
        row = self._db.execute("SELECT body FROM batch_replies WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, body: dict[str, Any], source: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO batch_replies VALUES (?, ?, ?, ?)",
            (key, json.dumps(body), source, time.time()),
        )

    def submitted(self, batch_id: str, requests: int) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO batches VALUES (?, 'submitted', ?, ?, NULL)",
            (batch_id, requests, time.time()),
        )

    def closed(self, batch_id: str, status: str) -> None:
        self._db.execute(
            "UPDATE batches SET status = ?, finished = ? WHERE id = ?",
            (status, time.time(), batch_id),
        )

    def open_batches(self) -> list[str]:
        """Batches submitted whose results were never collected (a run killed while polling)."""
        rows = self._db.execute("SELECT id FROM batches WHERE finished IS NULL ORDER BY submitted")
        return [r[0] for r in rows]

    def import_results(self, path: Path) -> tuple[int, int]:
        """Store the successful replies of a result file; returns (stored, failed lines)."""
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read batch results {path}: {exc}") from None
        stored = failed = 0
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                custom_id, body, _ = parse_result(json.loads(line))
            except (ValueError, TypeError, KeyError) as exc:
                raise InputError(f"{path}:{number}: not a batch result line ({exc})") from None
            if body is None:
                failed += 1
                continue
            self.put(custom_id, body, str(path.name))
            stored += 1
        return stored, failed

    def close(self) -> None:
        self._db.close()


def parse_result(row: dict[str, Any]) -> tuple[str, dict[str, Any] | None, str]:
    """(custom_id, chat completion body or None, error text) of one result-file line."""
    custom_id = str(row["custom_id"])
    response = row.get("response") or {}
    status = response.get("status_code")
    body = response.get("body")
    if status == 200 and isinstance(body, dict) and row.get("error") is None:
        return custom_id, body, ""
    problem = row.get("error") or (body or {}).get("error") or {}
    if isinstance(problem, dict):
        code, message = problem.get("code"), problem.get("message")
        text = ": ".join(str(x) for x in (code, message) if x) or "unknown error"
    else:
        text = str(problem)
    return custom_id, None, f"{text} (status {status})" if status else text


class BatchClient:
    """What both batch clients share: the request's key, and the replies stored for it."""

    def __init__(self, api: OpenAIChatClient, store: BatchStore, identity: str) -> None:
        self.api = api
        self.store = store
        self.identity = identity

    @property
    def info(self) -> ClientInfo:
        """The model and backend of the batch endpoint."""
        return self.api.info

    def key(self, request: ChatRequest) -> str:
        return call_key(self.identity, request)

    def stored(self, key: str) -> Completion | None:
        body = self.store.reply(key)
        return self.api.completion_from_body(body) if body is not None else None

    async def aclose(self) -> None:
        await self.api.aclose()
        self.store.close()


class ExportClient(BatchClient):
    """Answers from stored replies; every other request is written to the export file."""

    def __init__(
        self,
        api: OpenAIChatClient,
        store: BatchStore,
        identity: str,
        *,
        stage: str | None = None,
    ) -> None:
        super().__init__(api, store, identity)
        if stage is not None and stage not in STAGES:
            raise ConfigError(f"--stage is one of {', '.join(STAGES)}, not {stage!r}")
        self.schema = STAGES[stage] if stage else None
        self.lines: dict[str, dict[str, Any]] = {}
        self.held = 0  # requests of another stage, left for a later export

    async def acomplete(self, request: ChatRequest) -> Completion | Deferred:
        key = self.key(request)
        reply = self.stored(key)
        if reply is not None:
            return reply
        if self.schema is not None and request.schema.name != self.schema:
            self.held += 1
            return Deferred(f"its next request is for {request.schema.name}, not this --stage")
        self.lines[key] = self.api.batch_line(key, request)
        return Deferred("its request was exported")

    def write(self, path: Path) -> int:
        """Write the collected requests (atomically); returns how many."""
        text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in self.lines.values())
        write_atomic(path, text)
        return len(self.lines)


class RoundClient(BatchClient):
    """Collects requests into rounds, each sent as one provider batch (see the module doc)."""

    def __init__(
        self,
        api: OpenAIChatClient,
        store: BatchStore,
        identity: str,
        *,
        poll_seconds: float = 30.0,
        quiet_seconds: float = 0.5,
        max_round: int = MAX_ROUND,
        resubmits: int = 2,
        on_progress: Progress | None = None,
    ) -> None:
        super().__init__(api, store, identity)
        self.poll_seconds = poll_seconds
        self.quiet_seconds = quiet_seconds
        self.max_round = max_round
        self.resubmits = resubmits
        self.on_progress = on_progress or (lambda _message: None)
        self.rounds = 0
        self._pending: dict[str, tuple[dict[str, Any], asyncio.Future[Completion]]] = {}
        self._tries: dict[str, int] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._running: asyncio.Task[None] | None = None
        self._collecting: asyncio.Future[None] | None = None

    async def acomplete(self, request: ChatRequest) -> Completion:
        if self._collecting is None:
            self._collecting = asyncio.ensure_future(self._collect_open_batches())
        await asyncio.shield(self._collecting)
        key = self.key(request)
        reply = self.stored(key)
        if reply is not None:
            return reply
        if key in self._pending:  # the same request from another article: one line, one reply
            return await asyncio.shield(self._pending[key][1])
        line = self.api.batch_line(key, request)
        future: asyncio.Future[Completion] = asyncio.get_running_loop().create_future()
        self._pending[key] = (line, future)
        self._schedule()
        return await asyncio.shield(future)

    def _schedule(self) -> None:
        """Send the round once requests stop coming (or it is full), one round at a time."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._running is not None and not self._running.done():
            return  # the round under way reschedules when it ends
        loop = asyncio.get_running_loop()
        delay = 0.0 if len(self._pending) >= self.max_round else self.quiet_seconds
        self._timer = loop.call_later(delay, self._start)

    def _start(self) -> None:
        self._timer = None
        if self._pending:
            self._running = asyncio.get_running_loop().create_task(self._round())

    async def _round(self) -> None:
        taken = dict(list(self._pending.items())[: self.max_round])
        for key in taken:
            del self._pending[key]
        try:
            await self._send(taken)
        except Exception as exc:  # the whole round failed: every article in it learns why
            for _, future in taken.values():
                if not future.done():
                    future.set_exception(exc)
        finally:
            self._running = None
            if self._pending:
                self._schedule()

    async def _send(
        self, taken: dict[str, tuple[dict[str, Any], asyncio.Future[Completion]]]
    ) -> None:
        self.rounds += 1
        data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line, _ in taken.values())
        batch_id = await self.api.submit_batch(
            data.encode("utf-8"), description=f"analyst round {self.rounds}"
        )
        self.store.submitted(batch_id, len(taken))
        self.on_progress(f"round {self.rounds}: batch {batch_id} submitted, {len(taken)} requests")
        state = await self._wait(batch_id)
        errors = await self._collect(state)
        for key, (line, future) in taken.items():
            if future.done():
                continue
            reply = self.stored(key)
            if reply is not None:
                future.set_result(reply)
            elif key in errors:
                future.set_exception(BatchRequestError(f"the batch answered: {errors[key]}"))
            elif self._tries.get(key, 0) < self.resubmits and state.status != "failed":
                self._tries[key] = self._tries.get(key, 0) + 1
                self._pending[key] = (line, future)  # unfinished (expired): the next round
            else:
                why = "; ".join(state.errors) or f"the batch ended {state.status}"
                future.set_exception(ModelServerError(f"no answer from batch {batch_id}: {why}"))

    async def _wait(self, batch_id: str) -> BatchState:
        while True:
            state = await self.api.batch_state(batch_id)
            self.on_progress(
                f"round {self.rounds}: batch {batch_id} {state.status}, "
                f"{state.completed + state.failed}/{state.total} done"
            )
            if state.finished:
                return state
            await asyncio.sleep(self.poll_seconds)

    async def _collect(self, state: BatchState) -> dict[str, str]:
        """Store the batch's replies; return the errors of the requests that failed."""
        errors: dict[str, str] = {}
        for file_id in (state.output_file_id, state.error_file_id):
            if not file_id:
                continue
            for line in (await self.api.batch_file(file_id)).splitlines():
                if not line.strip():
                    continue
                custom_id, body, problem = parse_result(json.loads(line))
                if body is not None:
                    self.store.put(custom_id, body, state.id)
                elif "expired" not in problem:  # expired ones go round again
                    errors[custom_id] = problem
        self.store.closed(state.id, state.status)
        return errors

    async def _collect_open_batches(self) -> None:
        """Results of batches a killed run submitted but never collected."""
        for batch_id in self.store.open_batches():
            self.on_progress(f"collecting batch {batch_id} from an earlier run")
            await self._collect(await self._wait(batch_id))


def open_client(
    settings: Settings,
    out_dir: Path,
    *,
    submit: str | None,
    export: bool,
    stage: str | None,
    imports: Sequence[Path],
    poll_seconds: float,
    on_progress: Progress,
) -> RoundClient | ExportClient:
    """The batch client the flags ask for, with result files imported into the manifest."""
    from analyst.model.clients import make_batch_api

    if submit is not None and submit != "openai-batch":
        raise ConfigError(f"--submit takes openai-batch, not {submit!r}")
    if submit and export:
        raise ConfigError("--submit and --export-batch contradict each other; choose one")
    if stage is not None and not export:
        raise ConfigError("--stage goes with --export-batch")
    if poll_seconds <= 0:
        raise ConfigError("--poll-seconds must be positive")
    api = make_batch_api(settings, contact=submit is not None)
    store = BatchStore(out_dir / "manifest.sqlite")
    for path in imports:
        stored, failed = store.import_results(path)
        on_progress(
            f"imported {stored} replies from {path}" + (f" ({failed} failed)" if failed else "")
        )
    identity = settings.identity(api.info.model)
    if submit:
        return RoundClient(api, store, identity, poll_seconds=poll_seconds, on_progress=on_progress)
    return ExportClient(api, store, identity, stage=stage)
