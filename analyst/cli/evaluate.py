"""``analyst eval``: reports scored against reference summaries, or the verifier against labels."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from analyst import errors
from analyst.cli.options import INPUT, OUTPUT, exit_codes, fail, settings_from
from analyst.evaluation.articles import ArticleScore, evaluate_articles, load_articles
from analyst.evaluation.claims import evaluate_claims, load_claims
from analyst.files import printable
from analyst.secrets import redact_text
from analyst.settings import Settings


class Format(StrEnum):
    """Output formats of ``eval``."""

    rich = "rich"
    json = "json"


EVAL_FLAGS = (
    "model",
    "model_path",
    "base_url",
    "api_key",
    "timeout",
    "max_retries",
    "prompts",
    "verify",
    "no_cache",
    "verbose",
)


@settings_from(*EVAL_FLAGS)
def evaluate(
    articles: Annotated[
        Path,
        typer.Argument(
            help="JSONL: id, text, and optionally reference_summary and title; with --claims: "
            "id, text, claim, label_supported.",
            rich_help_panel=INPUT,
        ),
    ],
    claims: Annotated[
        bool,
        typer.Option(
            "--claims",
            help="Judge claims with the fact verifier against the labels.",
            rich_help_panel=INPUT,
        ),
    ] = False,
    fmt: Annotated[
        Format,
        typer.Option("--format", "-f", help="A table, or JSON.", rich_help_panel=OUTPUT),
    ] = Format.rich,
    *,
    settings: Settings,
    verbose: bool,
) -> None:
    """Score reports against reference summaries, or (--claims) the fact verifier against labels."""
    from analyst.output.terminal import claims_table, eval_table

    err = Console(stderr=True)
    try:
        if claims:
            claim_rows = load_claims(articles)
            with err.status(f"judging {len(claim_rows)} claims", spinner="dots") as status:
                judged = evaluate_claims(
                    claim_rows,
                    settings=settings,
                    on_claim=lambda c: status.update(f"judged {c.id}"),
                )
            if fmt is Format.json:
                sys.stdout.write(judged.to_json())
            else:
                Console().print(claims_table(judged))
            _all_failed([(c.error, c.exit_code) for c in judged.claims], "claim")
            return
        rows = load_articles(articles)
        with err.status(f"evaluating {len(rows)} articles", spinner="dots") as status:
            done = 0

            def on_article(score: ArticleScore) -> None:
                nonlocal done
                done += 1
                status.update(f"evaluated {done}/{len(rows)}: {score.id}")

            result = evaluate_articles(rows, settings=settings, on_article=on_article)
    except errors.AnalystError as exc:
        fail(exc, verbose)
    if fmt is Format.json:
        sys.stdout.write(result.to_json())
    else:
        Console().print(eval_table(result))
    _all_failed([(a.error, a.exit_code) for a in result.articles], "article")


def _all_failed(outcomes: list[tuple[str | None, int]], what: str) -> None:
    """Exit with the first error's code when no row could be scored: figures of nothing are not
    a result (a wrong key or a server that is down fails every row alike)."""
    if not outcomes or any(error is None for error, _ in outcomes):
        return
    error, code = outcomes[0]
    print(
        f"analyst: error: every {what} failed ({len(outcomes)}); the first: "
        f"{printable(redact_text(error or ''))}",
        file=sys.stderr,
    )
    raise typer.Exit(code or errors.ModelServerError.exit_code)


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("eval", epilog=exit_codes())(evaluate)
