"""``analyst batch --engine ray``: the same batch on a Ray cluster, through Ray Data.

The driver lists the articles (as the local engine does), reads the manifest once, and builds a
Ray Dataset of the files (``read_binary_files``). ``map_batches`` runs them through a pool of
analyst workers (actors): each holds an asynchronous model client per ``--base-url`` and writes
its articles' reports under ``-o``, atomically; articles are spread over the servers by their
position in the listing, so N replicas share the work evenly. Each worker runs up to
``concurrency`` articles at once on its own event loop.

What stays with the driver: the manifest. Workers return one row per article — status, error,
outputs, usage, and the model replies the pipeline accepted — and the driver writes the rows and
the replies into ``manifest.sqlite``, so SQLite has one writer however many workers there are.

What "reach" means for the call cache: workers read the driver's (``<cache_dir>/calls.sqlite``,
the one ``summarize`` and local batches use) where that path is the driver's file (one machine,
or a shared mount); a worker that cannot open it runs without one. New replies reach the cache
through the driver either way.

Faults: a worker process that dies is restarted by Ray (Ray Data's actor defaults: restarts and
task retries without limit) and its block of articles is run again.
Reports are written by rename under fixed names, and the driver records one row per article, so a
re-run block leaves nothing half-written and nothing twice.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path, PurePath
from typing import Any

from analyst.batch import results as outcome
from analyst.batch.folders import ARTICLE_SUFFIXES, find_articles
from analyst.batch.manifest import Manifest, Row
from analyst.batch.results import BatchEvent, BatchResult, EventCallback
from analyst.errors import AnalystError, ConfigError, InputError, ModelServerError, describe
from analyst.files import display
from analyst.model.cache import CallCache
from analyst.model.drive import SemaphoreGate
from analyst.model.seam import Completion, StructuredMode
from analyst.model.usage import Meter
from analyst.schema import Report, Usage
from analyst.secrets import redact_url
from analyst.session import CACHE_FILE, Session
from analyst.settings import Settings

INSTALL_HINT = 'the Ray engine needs the ray extra: pip install "analyst[ray]"'
# Articles per block handed to a worker: small enough that a restarted worker redoes little.
BLOCK = 8
MAX_BLOCKS = 20_000
WORKER_CPUS = 0.25


def identity_of(settings: Settings, model: str, base_urls: Sequence[str]) -> str:
    """One identity for a set of replicas: replies of any of them answer for all."""
    if not base_urls:
        return settings.identity(model)
    servers = "+".join(sorted(redact_url(url) for url in base_urls))
    return f"{settings.backend}|{servers}|{model}"


class _Recording(CallCache):
    """A worker's view of the call cache: reads the driver's, keeps new replies for the driver
    to write (SQLite keeps one writer)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.new: list[tuple[str, str, dict[str, Any]]] = []

    def put(self, key: str, model: str, completion: Completion) -> None:
        fields = dataclasses.asdict(completion)
        fields["mode"] = completion.mode.value
        self.new.append((key, model, fields))

    def drain(self) -> str:
        """The replies kept since the last drain, as JSON."""
        new, self.new = self.new, []
        return json.dumps(new)


class Worker:
    """One Ray actor: a session per model server, sharing one view of the call cache."""

    def __init__(self, job: dict[str, Any]) -> None:
        self.job = job
        settings: Settings = job["settings"]
        self.cache: _Recording | None = None
        if settings.cache:
            try:
                self.cache = _Recording(settings.cache_dir / CACHE_FILE)
            except Exception:  # noqa: BLE001 — the cache is an optimisation; go on without it
                self.cache = None
        urls = job["base_urls"] or [settings.base_url]
        self.sessions = [
            Session(
                dataclasses.replace(settings, base_url=url, cache=False),
                cache=self.cache,
                identity=job["identity"],
            )
            for url in urls
        ]
        self.limit: asyncio.Semaphore | None = None

    async def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        # Async: Ray Data runs several blocks at once on this actor's event loop, and the
        # semaphore keeps this worker's requests in flight at `concurrency` across all of them.
        if self.limit is None:
            self.limit = asyncio.Semaphore(self.job["concurrency"])
        gate = SemaphoreGate(self.limit)
        rows = await asyncio.gather(
            *(
                self._one(str(path), bytes(data), int(index), gate)
                for path, data, index in zip(
                    batch["path"], batch["bytes"], batch["index"], strict=True
                )
            )
        )
        columns: dict[str, Any] = {key: [row[key] for row in rows] for key in _COLUMNS}
        # The replies this worker paid for since its last block travel with the first row.
        replies = self.cache.drain() if self.cache is not None else "[]"
        columns["replies"] = [replies] + ["[]"] * (len(rows) - 1)
        return columns

    async def _one(self, path: str, data: bytes, index: int, gate: SemaphoreGate) -> dict[str, Any]:
        job = self.job
        relative = PurePath(path).relative_to(job["source"])
        name = display(relative)
        sha256 = hashlib.sha256(data).hexdigest()
        row: dict[str, Any] = {
            "name": name,
            "sha256": sha256,
            "status": "skipped",
            "kind": "",
            "error": "",
            "fatal": False,
            "outputs": "[]",
            "usage": "{}",
        }
        before: Row | None = job["manifest"].get(name)
        if outcome.is_done(
            before,
            sha256,
            job["config"],
            out=Path(job["out"]),
            relative=relative,
            formats=job["formats"],
            force=job["force"],
            retry_failed=job["retry_failed"],
            failed_before=job["failed_before"],
        ):
            return row
        session = self.sessions[index % len(self.sessions)]
        meter = Meter(budget=session.settings.budget_tokens)
        started = time.perf_counter()
        try:
            article = session.read(data, name=relative.name)
            shown = display(Path(job["source"]) / relative)
            calls = session.calls(article, path=shown, meter=meter)
            report = await session.arun(calls, gate)
            assert isinstance(report, Report)  # a model server neither defers nor withdraws
            outputs = outcome.write_outputs(Path(job["out"]), relative, report, job["formats"])
        except AnalystError as exc:
            kind, message = describe(exc)
            row.update(status="failed", kind=kind, error=message, fatal=exc.stops_batch)
            usage = meter.usage(session.info, time.perf_counter() - started)
            row["usage"] = usage.model_dump_json()
            return row
        row.update(status="ok", outputs=json.dumps(outputs), usage=report.usage.model_dump_json())
        return row


_COLUMNS = ("name", "sha256", "status", "kind", "error", "fatal", "outputs", "usage")


def run_ray(
    folder: Path,
    *,
    out_dir: Path,
    settings: Settings,
    base_urls: Sequence[str] = (),
    formats: Sequence[str] = ("json",),
    pattern: str | None = None,
    retry_failed: bool = False,
    force: bool = False,
    workers: int = 2,
    concurrency: int = 4,
    address: str | None = None,
    on_event: EventCallback | None = None,
) -> BatchResult:
    """``summarize_folder`` on Ray: the same reports, manifest and resume semantics."""
    try:
        import ray
        import ray.data
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    if settings.uses_local:
        raise ConfigError(
            "--engine ray talks to model servers: give --base-url (one per server) or an "
            "OpenAI key; the embedded model serves one machine (use --engine local)"
        )
    if retry_failed and force:
        raise ConfigError("--retry-failed and --force contradict each other; choose one")
    notify = on_event or (lambda _event: None)
    found = find_articles(folder, pattern=pattern, exclude=out_dir)
    if not found.paths:
        raise InputError(f"no articles ({' '.join(ARTICLE_SUFFIXES)}, .gz) below {folder}")
    out_dir.mkdir(parents=True, exist_ok=True)
    driver = Session(settings)  # asks a server without a named model which it serves
    model = driver.info.model
    identity = identity_of(settings, model, base_urls)
    description = outcome.describe_config(settings, driver.prompts, identity)
    config = outcome.config_hash(description)
    manifest = Manifest(out_dir)
    if driver.cache is not None:  # a manifest that still holds its batch's replies
        driver.cache.take_over(manifest.path)
    result = BatchResult(total=len(found.paths), manifest=manifest.path)
    result.warnings.extend(found.skipped)
    started = time.perf_counter()
    run_id = manifest.begin_run(config, {**description, "engine": "ray", "workers": workers})
    names = [display(p) for p in found.paths]
    snapshot = {n: r for n in names if (r := manifest.get(n)) is not None}
    notify(BatchEvent("planned", result))
    job = {
        "settings": dataclasses.replace(settings, model=model),
        "base_urls": list(base_urls),
        "source": str(folder.resolve()),
        "out": str(out_dir.resolve()),
        "formats": list(formats),
        "config": config,
        "identity": identity,
        "manifest": _Snapshot(snapshot),
        "force": force,
        "retry_failed": retry_failed,
        "failed_before": manifest.failed_paths() if retry_failed else set(),
        "concurrency": concurrency,
    }
    fatal: str | None = None
    cache = driver.cache
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    try:
        paths = [str(folder.resolve() / p) for p in found.paths]
        # One block per BLOCK articles (Ray would pack a thousand small files into one block,
        # and one block goes to one worker), and at least two per worker.
        blocks = min(len(paths), max(2 * workers, math.ceil(len(paths) / BLOCK)), MAX_BLOCKS)
        ds = ray.data.read_binary_files(paths, include_paths=True, override_num_blocks=blocks)
        order = {p: i for i, p in enumerate(paths)}
        ds = ds.map_batches(lambda b: {**b, "index": [order[p] for p in b["path"]]})
        blocks_at_once = max(2, 2 * math.ceil(concurrency / BLOCK))
        results = ds.map_batches(
            Worker,
            fn_constructor_args=(job,),
            batch_size=BLOCK,
            compute=ray.data.ActorPoolStrategy(
                size=workers,
                # Twice the blocks that hold `concurrency` articles (one request in flight
                # each), run at once on the actor's loop; its semaphore does the bounding.
                max_tasks_in_flight_per_actor=blocks_at_once,
                max_concurrent_calls_per_actor=blocks_at_once,
            ),
            # A worker mostly waits on model servers: a quarter CPU each leaves the rest to
            # reading files (and a whole CPU each starved the read tasks on a 2-core machine).
            num_cpus=WORKER_CPUS,
        )
        for out in results.iter_rows():
            for key, reply_model, fields in json.loads(out["replies"]):
                if cache is not None:
                    fields["mode"] = StructuredMode(fields["mode"])
                    cache.put(key, reply_model, Completion(**fields))
            status = out["status"]
            name = out["name"]
            if status == "skipped":
                result.skipped += 1
                notify(BatchEvent("finished", result, name, "skipped"))
                continue
            usage = Usage.model_validate_json(out["usage"])
            manifest.start(name, out["sha256"], config)
            if status == "ok":
                manifest.finish(name, status="ok", usage=usage, outputs=json.loads(out["outputs"]))
                result.ok += 1
            else:
                manifest.finish(
                    name, status="failed", usage=usage, error_kind=out["kind"], error=out["error"]
                )
                result.fail(name, out["kind"], out["error"], usage)
                if out["fatal"] and fatal is None:
                    fatal = out["error"]
            if status == "ok":
                result.add(usage)
            notify(BatchEvent("finished", result, name, status))
            if fatal is not None:
                break
    finally:
        result.seconds = round(time.perf_counter() - started, 3)
        manifest.end_run(
            run_id,
            total=result.total,
            ok=result.ok,
            failed=result.failed_count,
            skipped=result.skipped,
            interrupted=False,
            stopped=fatal,
        )
        manifest.close()
        driver.close()
    if fatal is not None:
        raise ModelServerError(f"stopped: {fatal}")
    return result


class _Snapshot:
    """The manifest's rows as the run began, shipped to every worker (read only)."""

    def __init__(self, rows: dict[str, Row]) -> None:
        self.rows = rows

    def get(self, name: str) -> Row | None:
        return self.rows.get(name)
