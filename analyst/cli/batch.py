"""``analyst batch``: every article below a folder, resumable — here, on Ray, or as provider
batches."""

from __future__ import annotations

import sys
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from analyst import errors
from analyst.batch import BatchResult
from analyst.batch.items import WebOptions, day
from analyst.batch.plan import BatchPlan, check, run_batch
from analyst.cli.options import (
    BATCH,
    ENGINES,
    INPUT,
    MODEL,
    OUTPUT,
    REPORT_FLAGS,
    exit_codes,
    fail,
    settings_from,
)
from analyst.cli.progress import BatchProgress, summary_table
from analyst.files import printable
from analyst.model.local import log_file
from analyst.settings import Settings


class Engine(StrEnum):
    """Where the batch runs."""

    local = "local"
    ray = "ray"


class Submit(StrEnum):
    """Provider batch APIs."""

    openai_batch = "openai-batch"


class Stage(StrEnum):
    """Stages whose requests --export-batch can take alone."""

    facts = "facts"
    verify = "verify"
    synthesis = "synthesis"


@settings_from(*(n for n in REPORT_FLAGS if n != "base_url"), "since", "max_items")
def batch(
    folder: Annotated[
        str,
        typer.Argument(
            help="Folder of articles (.txt .md .html .pdf, .gz of those), recursively; or a "
            "file of URLs (one a line; - for stdin); or an RSS/Atom feed (URL or file).",
            rich_help_panel=INPUT,
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="Folder for the reports and the manifest.",
            rich_help_panel=OUTPUT,
        ),
    ],
    glob: Annotated[
        str | None,
        typer.Option(
            help='Only files matching this glob, relative to FOLDER, e.g. "2026-*/**/*.txt".',
            rich_help_panel=INPUT,
        ),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="Report files to write: json, md, html, or several (json,html); html also "
            "writes index.html.",
            rich_help_panel=OUTPUT,
        ),
    ] = "json",
    concurrency: Annotated[
        int | None,
        typer.Option(
            help="Requests in flight (default: a llama.cpp server's slots; 4 elsewhere, fewer "
            "if the server shows strain; the embedded server's slots, 1).",
            rich_help_panel=BATCH,
        ),
    ] = None,
    retry_failed: Annotated[
        bool,
        typer.Option(
            "--retry-failed", help="Only the articles that failed last time.", rich_help_panel=BATCH
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Redo every article, ignoring earlier results.", rich_help_panel=BATCH
        ),
    ] = False,
    batch_budget_tokens: Annotated[
        int | None,
        typer.Option(
            help="Tokens the whole run may cost; then no new article starts.",
            rich_help_panel=BATCH,
        ),
    ] = None,
    base_url: Annotated[
        list[str] | None,
        typer.Option(
            help="OpenAI-compatible server (env: OPENAI_BASE_URL); with --engine ray, repeat it "
            "for several replicas and the articles are spread over them.",
            rich_help_panel=MODEL,
        ),
    ] = None,
    engine: Annotated[
        Engine,
        typer.Option(help="This process, or a Ray cluster (extra: ray).", rich_help_panel=ENGINES),
    ] = Engine.local,
    ray_address: Annotated[
        str | None,
        typer.Option(
            help="With --engine ray: the cluster to join, e.g. auto.", rich_help_panel=ENGINES
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(help="With --engine ray: analyst worker processes.", rich_help_panel=ENGINES),
    ] = 2,
    submit: Annotated[
        Submit | None,
        typer.Option(
            help="Send the requests as provider batches (half the price, answers within 24 h), "
            "polling until every report is written.",
            rich_help_panel=ENGINES,
        ),
    ] = None,
    export_batch: Annotated[
        Path | None,
        typer.Option(
            help="Write the requests that have no reply yet to this JSONL (OpenAI Batch and "
            "vllm run-batch format) instead of calling the model; their articles wait.",
            rich_help_panel=ENGINES,
        ),
    ] = None,
    stage: Annotated[
        Stage | None,
        typer.Option(
            help="With --export-batch, only the requests of this stage.", rich_help_panel=ENGINES
        ),
    ] = None,
    import_batch: Annotated[
        list[Path] | None,
        typer.Option(
            help="Replies from a batch result file (repeatable); kept in the manifest.",
            rich_help_panel=ENGINES,
        ),
    ] = None,
    poll_seconds: Annotated[
        float,
        typer.Option(
            help="With --submit: seconds between polls of a batch.", rich_help_panel=ENGINES
        ),
    ] = 30.0,
    feeds: Annotated[
        bool,
        typer.Option(
            "--feeds", help="The input file lists feeds, not articles.", rich_help_panel=INPUT
        ),
    ] = False,
    ignore_robots: Annotated[
        bool,
        typer.Option(
            "--ignore-robots", help="Fetch pages robots.txt disallows.", rich_help_panel=INPUT
        ),
    ] = False,
    *,
    since: str | None,
    max_items: int | None,
    settings: Settings,
    verbose: bool,
) -> None:
    """Write a report for every article below FOLDER (or of a URL list, or a feed);
    resumable, cached, one manifest."""
    formats = [f.strip() for f in fmt.split(",") if f.strip()]
    err = Console(stderr=True)
    try:
        web_options = WebOptions(
            feeds=feeds,
            since=day(since),
            max_items=max_items,
            robots=not ignore_robots,
        )
        if max_items is not None and max_items < 1:
            raise errors.ConfigError("--max-items must be at least 1")
        plan = BatchPlan(
            folder=folder,
            out_dir=output,
            settings=settings,
            base_urls=base_url or [],
            engine=engine.value,
            formats=formats,
            pattern=glob,
            retry_failed=retry_failed,
            force=force,
            concurrency=concurrency,
            budget_tokens=batch_budget_tokens,
            workers=workers,
            ray_address=ray_address,
            submit=submit.value if submit else None,
            export_batch=export_batch,
            stage=stage.value if stage else None,
            import_batch=import_batch or [],
            poll_seconds=poll_seconds,
            web_options=web_options,
        )
        check(plan)
        served = replace(settings, base_url=base_url[0]) if base_url else settings
        if verbose and served.uses_local:
            print(f"analyst: embedded server log: {log_file(settings.cache_dir)}", file=sys.stderr)
        with BatchProgress(err) as progress:
            result = run_batch(
                plan,
                on_event=progress,
                on_progress=lambda message: err.print(f"analyst: {escape(message)}"),
            )
        if result.exported is not None:
            print(f"analyst: wrote {result.exported} requests to {export_batch}", file=sys.stderr)
    except errors.AnalystError as exc:
        fail(exc, verbose)
    _batch_exit(result, batch_budget_tokens)


def _batch_exit(result: BatchResult, batch_budget_tokens: int | None) -> None:
    """The end of a batch: warnings, the table, and the exit code."""
    for warning in result.warnings:
        print(f"analyst: skipped {printable(warning)}", file=sys.stderr)
    Console().print(summary_table(result))
    print(f"analyst: manifest: {printable(str(result.manifest))}", file=sys.stderr)
    if result.budget_exhausted:
        print(
            f"analyst: the batch's token budget ({batch_budget_tokens:,}) is spent; "
            f"{result.total - result.done} articles were not started — run again with a "
            "larger --batch-budget-tokens to go on",
            file=sys.stderr,
        )
        raise typer.Exit(errors.BudgetError.exit_code)
    if result.interrupted:
        print(
            "analyst: interrupted; run the same command again to resume where it stopped",
            file=sys.stderr,
        )
        raise typer.Exit(errors.EXIT_INTERRUPTED)
    if result.waiting:
        print(
            f"analyst: {result.waiting} articles wait for batch replies: run the requests "
            "(OpenAI Batch, or vllm run-batch -i REQUESTS -o RESULTS), then run this again "
            "with --import-batch RESULTS (and --export-batch for the next round)",
            file=sys.stderr,
        )
    if result.failed_count:
        print(
            f"analyst: {result.failed_count} of {result.total} articles failed; "
            "fix them and run again with --retry-failed",
            file=sys.stderr,
        )
        raise typer.Exit(errors.EXIT_BATCH_FAILURES)


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("batch", epilog=exit_codes())(batch)
