"""Reports and evaluation tables as rich renderables; rich is imported only in ``output/``
and the CLI (a lint rule holds it there), and never by ``import analyst``."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from analyst.output import pieces
from analyst.pipeline import STAGES
from analyst.schema import Report
from analyst.text.markdown import cites

if TYPE_CHECKING:
    from analyst.evaluation.articles import EvalResult
    from analyst.evaluation.claims import ClaimsResult


def to_rich(report: Report) -> RenderableType:
    """The report as a rich renderable for the terminal."""
    parts: list[RenderableType] = []
    parts.append(Text(report.title or "Untitled article", style="bold"))
    meta = pieces.header_line(report)
    if meta:
        parts.append(Text(meta, style="dim"))
    summary = (
        Text(report.summary) if report.summary else Text(pieces.no_synthesis_note(report), "yellow")
    )
    parts += [Text(""), Rule("Summary", align="left"), summary, Text("")]
    parts.append(Rule("Key facts", align="left"))
    parts.append(Text(pieces.LEGEND, style="dim"))
    for heading, facts in pieces.facts_by_section(report):
        if heading:
            parts.append(Text(heading, style="bold cyan"))
        # A grid gives each fact a hanging indent under its mark and id.
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True, style="dim")
        grid.add_column(ratio=1)
        for fact in facts:
            mark = Text("✓", "green") if fact.grounded else Text("✗", "red")
            body = Text(fact.text)
            if not fact.grounded:
                body.append(" (quote not found in the article)", "red")
            if fact.extractive:
                body.append(f" ({pieces.EXTRACTIVE_NOTE})", "dim")
            note = pieces.verdict_note(fact)
            if note and fact.verification:
                style = {"supported": "green", "uncertain": "yellow"}.get(
                    fact.verification.verdict, "red"
                )
                body.append(f" ({note})", style)
            how = pieces.standing_note(fact)
            if how:
                body.append(f" ({how})", "yellow" if fact.standing == "attributed" else "dim")
            if pieces.quote_shown(fact):
                quote = Text(f'"{fact.evidence}"', style="dim italic")
                grid.add_row(mark, fact.id, Group(body, quote))
            else:
                grid.add_row(mark, fact.id, body)
        parts.append(grid)
    for stage in STAGES:
        if stage.view:
            parts += import_module(stage.view).rich(report)
    if not report.no_synthesis:
        parts += [Text(""), Rule("Implications", align="left")]
        for n, imp in enumerate(report.implications, start=1):
            line = Text(f"{n}. {imp.text} ")
            if imp.background:
                line.append(f"({pieces.BACKGROUND}) ", "yellow")
            line.append(cites([*imp.facts, *imp.notes]), "dim")
            parts.append(line)
        parts.append(Text(""))
        analysis = Text()
        for text, ids in pieces.analysis_pieces(report):
            analysis.append(("" if not analysis.plain else " ") + text)
            if ids:
                analysis.append(" " + cites(ids), "dim")
        title = "AI Analysis" + (" (composed from the notes)" if report.analysis.composed else "")
        panel = Panel(analysis, title=title, title_align="left", border_style="magenta")
        parts.append(panel)
    for warning in report.warnings:
        parts.append(Text.from_markup(f"[yellow]warning:[/] {escape(warning)}"))
    parts.append(Text(pieces.footer(report), style="dim"))
    return Group(*parts)


def eval_table(result: EvalResult) -> Table:
    """`analyst eval`: one row per article, then the means (ROUGE as F-measure x 100)."""
    table = Table(title="analyst eval", title_justify="left")
    verified = any(a.verified is not None for a in result.articles)
    names = ["article", "R-1", "R-2", "R-L", "lead-3 R-1", "facts", "grounded", "absent"]
    names += ["verified", "unsupported"] if verified else []
    # The proof figures (analyst.evaluation.proof): facts shown ✓ their passage does not carry,
    # invented terms in the synthesis, restating sentences, analysis words.
    names += ["not carried", "invented", "restated", "analysis words"]
    for name in [*names, "calls", "tokens", "cached", "s"]:
        table.add_column(name, justify="left" if name == "article" else "right")

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:.1f}"

    for a in result.articles:
        if a.error is not None:
            table.add_row(a.id, f"failed: {a.error[:60]}", *[""] * (len(names) + 2))
            continue
        r = a.rouge or {}
        lead = a.lead3_rouge or {}
        checks = [str(a.verified), str(a.unsupported)] if verified else []
        p = a.proof
        proof = (
            [
                str(p.unsupported + p.misattributed),
                str(p.invented),
                f"{p.restated}/{p.interpretive}",
                str(p.analysis_words),
            ]
            if p
            else ["-"] * 4
        )
        table.add_row(
            a.id,
            pct(r.get("rouge1")),
            pct(r.get("rouge2")),
            pct(r.get("rougeL")),
            pct(lead.get("rouge1")),
            str(a.facts),
            pct(a.grounded_rate),
            str(a.facts_with_absent_terms),
            *checks,
            *proof,
            str(a.calls),
            f"{a.tokens:,}",
            _count(a.cached_prompt_tokens),
            f"{a.seconds:.1f}",
        )
    o = result.overall()
    table.add_section()
    checks = [str(o["verified_facts"]), str(o["unsupported_facts"])] if verified else []
    table.add_row(
        f"mean of {o['articles']} ({o['failed']} failed)",
        pct(o["rouge1"]),
        pct(o["rouge2"]),
        pct(o["rougeL"]),
        pct(o["lead3_rouge1"]),
        "-" if o["facts_per_article"] is None else f"{o['facts_per_article']:.1f}",
        pct(o["grounded_rate"]),
        str(o["facts_with_absent_terms"]),
        *checks,
        pct(_add(o.get("unsupported_rate"), o.get("misattributed_rate"))) + " %",
        str(o.get("invented_terms", "-")),
        pct(o.get("restated_rate")) + " %",
        f"median {o.get('analysis_words_median', '-')}",
        str(o["calls"]),
        f"{o['tokens']:,}",
        _count(o["cached_prompt_tokens"]),
        f"{o['seconds']:.1f}",
    )
    return table


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _add(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a + b


def claims_table(result: ClaimsResult) -> Table:
    """`analyst eval --claims`: the verifier's figures against the human labels."""
    o = result.overall()
    table = Table(title="analyst eval --claims", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("claims", f"{o['claims']:,} ({o['supported_labels']:,} labelled supported)")
    table.add_row("failed", f"{o['failed']:,}")
    for key in ("accuracy", "balanced_accuracy", "auroc"):
        value = o[key]
        table.add_row(key.replace("_", " "), "-" if value is None else f"{value:.3f}")
    return table
