"""``analyst summarize``: one article → its report, on the terminal or in a file."""

from __future__ import annotations

import io
import os
import sys
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from analyst import errors
from analyst.api import summarize_file, summarize_text, summarize_url
from analyst.cli.options import INPUT, OUTPUT, REPORT_FLAGS, exit_codes, fail, settings_from
from analyst.files import printable, read_capped, write_atomic
from analyst.model.local import log_file
from analyst.model.seam import progress_listener
from analyst.output.html import to_html
from analyst.output.live import LiveView
from analyst.output.plain import to_json, to_markdown
from analyst.reading.fetch import is_url
from analyst.schema import Report
from analyst.settings import Settings
from analyst.stages.context import report_listener


class Format(StrEnum):
    """Output formats of ``summarize``."""

    rich = "rich"
    json = "json"
    md = "md"
    html = "html"

    @classmethod
    def of(cls, output: Path | None) -> Format:
        """The format an output file's suffix implies (``-o report.html``); else the terminal's."""
        suffix = output.suffix.lower() if output else ""
        known = {".json": cls.json, ".md": cls.md, ".html": cls.html, ".htm": cls.html}
        return known.get(suffix, cls.rich)


@settings_from(*REPORT_FLAGS)
def summarize(
    article: Annotated[
        str,
        typer.Argument(
            help="Article: a file (.txt .md .html .pdf, or .gz of one), a http(s) URL, or - for "
            "stdin.",
            rich_help_panel=INPUT,
        ),
    ],
    fmt: Annotated[
        Format | None,
        typer.Option(
            "--format",
            "-f",
            help="The view (default: rich; -o FILE.md / .json / .html implies md / json / html).",
            rich_help_panel=OUTPUT,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write the report here (atomically).", rich_help_panel=OUTPUT
        ),
    ] = None,
    *,
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


def emit(report: Report, fmt: Format, output: Path | None) -> None:
    """Show ``report`` in ``fmt``, on stdout or atomically in ``output``."""
    from analyst.output.terminal import to_rich

    if fmt is Format.json:
        text = to_json(report)
    elif fmt is Format.html:
        text = to_html(report)
    elif fmt is Format.md:
        text = to_markdown(report)
    elif output is None:
        Console().print(to_rich(report))
        return
    else:
        buffer = io.StringIO()
        Console(file=buffer, width=100, force_terminal=False).print(to_rich(report))
        text = "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"
    deliver(text, output)


def deliver(text: str, output: Path | None) -> None:
    """``text`` on stdout, or atomically in ``output`` (on stdout too if that fails)."""
    if output is None:
        sys.stdout.write(text)
        return
    try:
        write_atomic(output, text)
    except OSError as exc:
        # Checked before any model call, so this is rare (a full disk); keep what was made.
        print(f"analyst: error: cannot write {output}: {exc.strerror}", file=sys.stderr)
        sys.stdout.write(text)
        raise typer.Exit(2) from None
    print(f"analyst: wrote {printable(str(output))}", file=sys.stderr)


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("summarize", epilog=exit_codes())(summarize)
