"""``analyst render``: a JSON report again, as Markdown, HTML or the terminal view, without a
model call (to make the HTML page of a report written before, or by a batch in JSON)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from analyst import errors
from analyst.cli.options import exit_codes, fail
from analyst.cli.show import emit
from analyst.files import read_bytes
from analyst.output.formats import Format
from analyst.reading.formats import load_article
from analyst.schema import Report

_CAP = 256 * 2**20  # a report with its article's text, and more


def render(
    report_path: Annotated[Path, typer.Argument(help="A JSON report (analyst's own).")],
    article: Annotated[
        Path | None,
        typer.Option(
            help="The article the report was written from, when the report does not hold its "
            "text (it was not written with --include-text): its hash must match.",
        ),
    ] = None,
    fmt: Annotated[
        Format | None,
        typer.Option("--format", "-f", help="The view (default: rich; -o FILE.html implies html)."),
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write it here.")] = None,
) -> None:
    """Show a JSON report again, as Markdown, HTML or on the terminal."""
    try:
        report = Report.model_validate_json(read_bytes(report_path, _CAP))
    except errors.AnalystError as exc:
        fail(exc, False)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or "the top"
        fail(
            errors.InputError(
                f"{report_path} is not an analyst report ({where}: {problem['msg']})"
            ),
            False,
        )
    if article is not None:
        try:
            read = load_article(read_bytes(article, _CAP), name=article.name)
        except errors.AnalystError as exc:
            fail(exc, False)
        if read.sha256 != report.source.sha256:
            fail(
                errors.InputError(f"{article} is not the article {report_path} was written from"),
                False,
            )
        report = report.model_copy(
            update={"source": report.source.model_copy(update={"text": read.text})}
        )
    if fmt is None:
        fmt = Format.of(output)
    if fmt is Format.html and report.source.text is None:
        print(
            "analyst: the report holds no article text (give --article): the page shows quotes",
            file=sys.stderr,
        )
    emit(report, fmt, output)


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("render", epilog=exit_codes())(render)
