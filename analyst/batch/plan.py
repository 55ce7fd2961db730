"""A whole batch as ``analyst batch`` takes it, and the rules that hold whoever runs it — the
command line or Python: which engine runs what, which options go together.

``run_batch(BatchPlan(...))`` is ``analyst batch``: the articles of a folder, a URL list or a feed,
here (``run``), on a Ray cluster (``ray_engine``), or as provider batches (``provider``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, TypedDict

from analyst.batch.items import WebOptions
from analyst.batch.provider import ExportClient, open_client
from analyst.batch.results import BatchResult, EventCallback
from analyst.batch.run import DEFAULT_CONCURRENCY, asummarize_folder
from analyst.errors import ConfigError
from analyst.reading.fetch import is_url
from analyst.settings import Settings


@dataclass(frozen=True, kw_only=True)
class BatchPlan:
    """Everything a batch run is asked to do (``analyst batch``'s options, by name).

    ``folder``: a folder, a file of URLs (``-``: stdin), or a feed. ``base_urls``: the model
    servers (the first replaces ``settings.base_url``; several need ``engine="ray"``, which
    spreads the articles over them). ``submit`` ("openai-batch"), ``export_batch``,
    ``import_batch`` and ``stage``: provider batches (``provider``). ``budget_tokens``: the whole
    run's tokens (local engine only; ``settings.budget_tokens`` caps one article on both).
    """

    folder: str
    out_dir: Path
    settings: Settings
    base_urls: Sequence[str] = ()
    engine: Literal["local", "ray"] = "local"
    formats: Sequence[str] = ("json",)
    pattern: str | None = None
    retry_failed: bool = False
    force: bool = False
    concurrency: int | None = None
    budget_tokens: int | None = None
    workers: int = 2
    ray_address: str | None = None
    submit: str | None = None
    export_batch: Path | None = None
    stage: str | None = None
    import_batch: Sequence[Path] = ()
    poll_seconds: float = 30.0
    web_options: WebOptions | None = None

    @property
    def provider(self) -> bool:
        """Whether the requests go to provider batches."""
        return bool(self.submit or self.export_batch or self.import_batch)

    @property
    def web_input(self) -> bool:
        """Whether the articles come from the web (a URL list or a feed)."""
        f = self.folder
        return f == "-" or is_url(f) or Path(f).is_file()


class _Common(TypedDict):
    out_dir: Path
    settings: Settings
    formats: Sequence[str]
    pattern: str | None
    retry_failed: bool
    force: bool
    on_event: EventCallback | None


def check(plan: BatchPlan) -> None:
    """Refuse options that do not go together (a ``ConfigError`` naming them)."""
    if len(plan.base_urls) > 1 and plan.engine != "ray":
        raise ConfigError("several --base-url need --engine ray")
    if plan.engine == "ray":
        if plan.provider:
            raise ConfigError("provider batches run with --engine local")
        if plan.web_input:
            raise ConfigError("URL lists and feeds run with --engine local")
        if plan.budget_tokens is not None:
            raise ConfigError(
                "--batch-budget-tokens runs with --engine local (--budget-tokens, per "
                "article, works with both)"
            )


def run_batch(
    plan: BatchPlan,
    *,
    on_event: EventCallback | None = None,
    on_progress: Callable[[str], None] = lambda _message: None,
) -> BatchResult:
    """Run the batch ``plan`` describes; ``on_event`` receives each article's progress,
    ``on_progress`` what the provider rounds say. Runs its own event loop."""
    check(plan)
    settings = plan.settings
    if plan.base_urls:
        settings = replace(settings, base_url=plan.base_urls[0])
    # What every engine is given alike.
    common: _Common = {
        "out_dir": plan.out_dir,
        "settings": settings,
        "formats": plan.formats,
        "pattern": plan.pattern,
        "retry_failed": plan.retry_failed,
        "force": plan.force,
        "on_event": on_event,
    }
    if plan.engine == "ray":
        from analyst.batch.ray_engine import run_ray

        concurrency = plan.concurrency or DEFAULT_CONCURRENCY
        return run_ray(
            Path(plan.folder),
            base_urls=plan.base_urls,
            workers=plan.workers,
            concurrency=concurrency,
            address=plan.ray_address,
            **common,
        )
    client = None
    if plan.provider:
        client = open_client(
            settings,
            plan.out_dir,
            submit=plan.submit,
            export=plan.export_batch is not None,
            stage=plan.stage,
            imports=plan.import_batch,
            poll_seconds=plan.poll_seconds,
            on_progress=on_progress,
        )

    async def run() -> BatchResult:
        try:
            return await asummarize_folder(
                plan.folder,
                client=client,
                concurrency=plan.concurrency,
                budget_tokens=plan.budget_tokens,
                web_options=plan.web_options,
                **common,
            )
        finally:
            if client is not None:  # on this loop: its async connections live here
                await client.aclose()

    result = asyncio.run(run())
    if isinstance(client, ExportClient) and plan.export_batch is not None:
        result.exported = client.write(plan.export_batch)
    return result
