"""``analyst batch``: every article below a folder, resumable — here, on Ray, or as provider
batches."""

from __future__ import annotations

import inspect
import sys
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

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
    OptInt,
    OptPath,
    OptStr,
    exit_codes,
    fail,
    flag,
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


# analyst batch's own flags, by the name of the BatchPlan field each sets (plan.py).
PLAN = {
    "out_dir": flag(
        None,
        Path,
        "Folder for the reports and the manifest.",
        OUTPUT,
        "--output",
        "-o",
        default=inspect.Parameter.empty,
    ),
    "pattern": flag(
        None,
        OptStr,
        'Only files matching this glob, relative to FOLDER, e.g. "2026-*/**/*.txt".',
        INPUT,
        "--glob",
    ),
    "formats": flag(
        None,
        str,
        "Report files to write: json, md, html, or several (json,html); html also writes "
        "index.html.",
        OUTPUT,
        "--format",
        "-f",
        default="json",
    ),
    "concurrency": flag(
        None,
        OptInt,
        "Requests in flight (default: a llama.cpp server's slots; 4 elsewhere, fewer if the "
        "server shows strain; the embedded server's slots, 1).",
        BATCH,
    ),
    "retry_failed": flag(
        None,
        bool,
        "Only the articles that failed last time.",
        BATCH,
        "--retry-failed",
        default=False,
    ),
    "force": flag(
        None,
        bool,
        "Redo every article, ignoring earlier results.",
        BATCH,
        "--force",
        default=False,
    ),
    "batch_budget_tokens": flag(  # BatchPlan.budget_tokens (--budget-tokens is an article's)
        None, OptInt, "Tokens the whole run may cost; then no new article starts.", BATCH
    ),
    "base_urls": flag(
        None,
        list[str] | None,
        "OpenAI-compatible server (env: OPENAI_BASE_URL); with --engine ray, repeat it for "
        "several replicas and the articles are spread over them.",
        MODEL,
        "--base-url",
    ),
    "engine": flag(
        None, Engine, "This process, or a Ray cluster (extra: ray).", ENGINES, default=Engine.local
    ),
    "ray_address": flag(
        None, OptStr, "With --engine ray: the cluster to join, e.g. auto.", ENGINES
    ),
    "workers": flag(None, int, "With --engine ray: analyst worker processes.", ENGINES, default=2),
    "submit": flag(
        None,
        Submit | None,
        "Send the requests as provider batches (half the price, answers within 24 h), "
        "polling until every report is written.",
        ENGINES,
    ),
    "export_batch": flag(
        None,
        OptPath,
        "Write the requests that have no reply yet to this JSONL (OpenAI Batch and vllm "
        "run-batch format) instead of calling the model; their articles wait.",
        ENGINES,
    ),
    "stage": flag(
        None, Stage | None, "With --export-batch, only the requests of this stage.", ENGINES
    ),
    "import_batch": flag(
        None,
        list[Path] | None,
        "Replies from a batch result file (repeatable); kept in the manifest.",
        ENGINES,
    ),
    "poll_seconds": flag(
        None, float, "With --submit: seconds between polls of a batch.", ENGINES, default=30.0
    ),
    "feeds": flag(
        None, bool, "The input file lists feeds, not articles.", INPUT, "--feeds", default=False
    ),
    "ignore_robots": flag(
        None, bool, "Fetch pages robots.txt disallows.", INPUT, "--ignore-robots", default=False
    ),
}


@settings_from(*(n for n in REPORT_FLAGS if n != "base_url"), "since", "max_items", options=PLAN)
def batch(
    folder: Annotated[
        str,
        typer.Argument(
            help="Folder of articles (.txt .md .html .pdf, .gz of those), recursively; or a "
            "file of URLs (one a line; - for stdin); or an RSS/Atom feed (URL or file).",
            rich_help_panel=INPUT,
        ),
    ],
    *,
    options: dict[str, Any],
    since: str | None,
    max_items: int | None,
    settings: Settings,
    verbose: bool,
) -> None:
    """Write a report for every article below FOLDER (or of a URL list, or a feed);
    resumable, cached, one manifest."""
    err = Console(stderr=True)
    feeds, robots = options.pop("feeds"), not options.pop("ignore_robots")
    options["formats"] = [f.strip() for f in options["formats"].split(",") if f.strip()]
    options["base_urls"] = options["base_urls"] or []
    options["import_batch"] = options["import_batch"] or []
    options["budget_tokens"] = options.pop("batch_budget_tokens")
    try:
        if max_items is not None and max_items < 1:
            raise errors.ConfigError("--max-items must be at least 1")
        web = WebOptions(feeds=feeds, since=day(since), max_items=max_items, robots=robots)
        plan = BatchPlan(folder=folder, settings=settings, web_options=web, **options)
        check(plan)
        served = replace(settings, base_url=plan.base_urls[0]) if plan.base_urls else settings
        if verbose and served.uses_local:
            print(f"analyst: embedded server log: {log_file(settings.cache_dir)}", file=sys.stderr)
        with BatchProgress(err) as progress:
            result = run_batch(
                plan,
                on_event=progress,
                on_progress=lambda message: err.print(f"analyst: {escape(message)}"),
            )
        if result.exported is not None:
            written = f"{result.exported} requests to {plan.export_batch}"
            print(f"analyst: wrote {written}", file=sys.stderr)
    except errors.AnalystError as exc:
        fail(exc, verbose)
    _batch_exit(result, plan.budget_tokens)


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
