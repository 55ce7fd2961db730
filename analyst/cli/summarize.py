"""``analyst summarize``: one article → its report, on the terminal or in a file."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from analyst import errors
from analyst.api import summarize_file, summarize_text, summarize_url
from analyst.cli.options import INPUT, REPORT_FLAGS, exit_codes, fail, settings_from
from analyst.cli.show import emit
from analyst.files import read_capped
from analyst.model.local import log_file
from analyst.model.seam import progress_listener
from analyst.output.formats import Format
from analyst.output.live import LiveView
from analyst.reading.fetch import is_url
from analyst.settings import Settings
from analyst.stages.context import report_listener


@settings_from(*REPORT_FLAGS, "fmt", "output")
def summarize(
    article: Annotated[
        str,
        typer.Argument(
            help="Article: a file (.txt .md .html .pdf, or .gz of one), a http(s) URL, or - for "
            "stdin.",
            rich_help_panel=INPUT,
        ),
    ],
    *,
    fmt: Format | None,
    output: Path | None,
    settings: Settings,
    verbose: bool,
) -> None:
    """Write the report of one article."""
    if output is not None:
        folder = output.parent if str(output.parent) else Path(".")
        if not folder.is_dir() or not os.access(folder, os.W_OK) or output.is_dir():
            # Fail before paying for model calls whose report could not be saved.
            fail(errors.ConfigError(f"cannot write the report to {output}"), verbose)
    if fmt is None:
        fmt = Format.of(output)
    if fmt is Format.html:
        settings = replace(settings, include_text=True)  # the page shows the article
    err = Console(stderr=True)
    if verbose and settings.uses_local:
        print(f"analyst: embedded server log: {log_file(settings.cache_dir)}", file=sys.stderr)
    show = err.is_terminal
    if show and settings.stream is None:
        settings = replace(settings, stream=True)  # to show the replies as they are written
    try:
        with err.status("reading", spinner="dots") as status, LiveView(err, status) as live:

            def on_stage(stage: str) -> None:
                if show:
                    live.stage(stage)
                elif verbose:
                    print(f"analyst: {stage}", file=sys.stderr)

            if show:
                progress_listener.set(live.reply)
                report_listener.set(live.event)
            if article == "-":
                data = read_capped(sys.stdin.buffer, settings.max_input_bytes, what="stdin")
                report = summarize_text(data, settings=settings, path=None, on_stage=on_stage)
            elif is_url(article):
                report = summarize_url(article, settings=settings, on_stage=on_stage)
            else:
                report = summarize_file(article, settings=settings, on_stage=on_stage)
    except errors.AnalystError as exc:
        fail(exc, verbose)
    emit(report, fmt, output)
    if report.no_synthesis:
        print(f"analyst: no summary or analysis: {report.no_synthesis}", file=sys.stderr)
        raise typer.Exit(errors.EXIT_NO_FACTS)


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("summarize", epilog=exit_codes())(summarize)
