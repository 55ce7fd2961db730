"""``analyst digest``: one briefing over many articles' reports.

analyst digest reports/ -o briefing.html          # a batch's JSON reports (no article re-read)
analyst digest articles/ -o briefing.md           # the batch first (resumable), then the digest
analyst digest FEED --since 2026-03-01 -o b.json  # a feed's items, the same way
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from analyst import errors
from analyst.batch import asummarize_folder
from analyst.batch.items import WebOptions, day
from analyst.cli.options import INPUT, OUTPUT, REPORT_FLAGS, exit_codes, fail, settings_from
from analyst.cli.progress import BatchProgress
from analyst.cli.show import emit
from analyst.digest import digest
from analyst.output.formats import Format
from analyst.reading.fetch import is_url
from analyst.settings import Settings


def _reports_in(folder: Path) -> list[Path]:
    """The JSON files below a folder (a batch's output: a feed's are in a folder a host), in
    name order."""
    return sorted(p for p in folder.rglob("*.json") if p.is_file())


@settings_from(*REPORT_FLAGS, "fmt", "output", "since", "max_items")
def digest_command(
    inputs: Annotated[
        list[str],
        typer.Argument(
            help="JSON reports, or a folder of them (a batch's output); or a folder of articles, "
            "a URL list or a feed, which are reported first (resumably, into --reports).",
            rich_help_panel=INPUT,
        ),
    ],
    reports: Annotated[
        Path | None,
        typer.Option(
            help="Where the reports of articles, URL lists and feeds go (default: "
            "NAME.reports/ beside the current folder's input).",
            rich_help_panel=OUTPUT,
        ),
    ] = None,
    facts_only: Annotated[
        bool,
        typer.Option(
            "--facts-only",
            help="No model call: merged facts, contradictions, who's who and timeline only.",
            rich_help_panel=OUTPUT,
        ),
    ] = False,
    *,
    fmt: Format | None,
    output: Path | None,
    since: str | None,
    max_items: int | None,
    settings: Settings,
    verbose: bool,
) -> None:
    """Merge many reports into one briefing: facts with every source, contradictions, who's
    who and timeline, and the summary and analysis of it all."""
    err = Console(stderr=True)
    if fmt is None:
        fmt = Format.of(output)
    try:
        paths: list[Path] = []
        found = False  # files found in a folder: one that is not a report is left out
        for item in inputs:
            path = Path(item)
            if path.is_dir() and _reports_in(path):
                paths += _reports_in(path)
                found = True
            elif path.is_file() and path.suffix == ".json":
                paths.append(path)
            elif path.is_dir() or path.is_file() or is_url(item) or item == "-":
                paths += _report_first(item, reports, since, max_items, settings, err)
                found = True
            else:
                raise errors.InputError(f"{item} is not a report, a folder, a feed or a URL list")
        if not paths:
            raise errors.InputError("no report to digest")
        if not facts_only and not err.is_terminal:
            print(f"analyst: writing the digest of {len(paths)} reports", file=sys.stderr)
        result = digest(
            paths, settings=settings, write_prose=not facts_only, skip_non_reports=found
        )
    except errors.AnalystError as exc:
        fail(exc, verbose)
    emit(result, fmt, output)


def _report_first(
    item: str,
    reports: Path | None,
    since: str | None,
    max_items: int | None,
    settings: Settings,
    err: Console,
) -> list[Path]:
    """Report the articles of ``item`` (a folder, URL list or feed) and return their reports."""
    if reports is None:
        name = Path(item.rstrip("/")).name if not is_url(item) else "feed"
        reports = Path(f"{name or 'input'}.reports")
    made = not reports.exists()
    reports.mkdir(parents=True, exist_ok=True)
    options = WebOptions(feeds=False, since=day(since), max_items=max_items, robots=True)
    try:
        with BatchProgress(err) as progress:
            result = asyncio.run(
                asummarize_folder(
                    item,
                    out_dir=reports,
                    settings=settings,
                    formats=["json"],
                    on_event=progress,
                    web_options=options,
                )
            )
    except BaseException:
        if made:
            _remove_if_bare(reports)  # a failed digest leaves no folder of nothing behind
        raise
    if result.failed_count:
        print(
            f"analyst: {result.failed_count} articles failed; the digest goes on without them "
            f"(see {result.manifest})",
            file=sys.stderr,
        )
    return _reports_in(reports)


def _remove_if_bare(folder: Path) -> None:
    """Remove ``folder`` when it holds nothing but a batch's bookkeeping (no report)."""
    if any(folder.rglob("*.json")):
        return
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file() and (
            path.name.startswith("manifest.sqlite") or path.name == ".analyst.lock"
        ):
            path.unlink(missing_ok=True)
        elif path.is_dir():
            with contextlib.suppress(OSError):
                path.rmdir()
    with contextlib.suppress(OSError):
        folder.rmdir()


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("digest", epilog=exit_codes())(digest_command)
