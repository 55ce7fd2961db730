"""Reports as JSON and Markdown: plain text, no terminal library."""

from __future__ import annotations

from importlib import import_module

from analyst.output.pieces import (
    BACKGROUND,
    EXTRACTIVE_NOTE,
    LEGEND,
    analysis_pieces,
    facts_by_section,
    footer,
    header_line,
    no_synthesis_note,
    quote_shown,
    standing_note,
    verdict_note,
)
from analyst.pipeline import STAGES
from analyst.schema import Report
from analyst.text.markdown import cites, md


def to_json(report: Report) -> str:
    """The report as indented JSON, the contract ``analyst schema`` describes."""
    return report.model_dump_json(indent=2) + "\n"


def to_markdown(report: Report) -> str:
    """The report as Markdown, with the same content as the terminal view."""
    out: list[str] = [f"# {md(report.title or 'Untitled article')}", ""]
    meta = header_line(report)
    if meta:
        out += [f"*{md(meta)}*", ""]
    summary = md(report.summary) if report.summary else f"*{md(no_synthesis_note(report))}*"
    out += ["## Summary", "", summary, "", "## Key facts", "", f"*{LEGEND}*", ""]
    for heading, facts in facts_by_section(report):
        if heading:
            out += [f"### {md(heading)}", ""]
        for fact in facts:
            mark = "✓" if fact.grounded else "✗ (quote not found in the article)"
            if fact.extractive:
                mark += f" *({EXTRACTIVE_NOTE})*"
            note = verdict_note(fact)
            if note:
                mark += f" *({note})*"
            how = standing_note(fact)
            if how:
                mark += f" *({md(how)})*"
            out.append(f"- **{md(fact.id)}** {md(fact.text)} {mark}")
            if quote_shown(fact):
                out.append(f"  > {md(fact.evidence)}")
        out.append("")
    for stage in STAGES:
        if stage.view:
            out += import_module(stage.view).markdown(report)
    if not report.no_synthesis:
        out += ["## Implications", ""]
        for n, imp in enumerate(report.implications, start=1):
            ids = [md(i) for i in (*imp.facts, *imp.notes)]
            mark = f" *({BACKGROUND})*" if imp.background else ""
            out.append(f"{n}. {md(imp.text)}{mark} {cites(ids)}".rstrip())
        pieces = " ".join(
            f"{md(text)} {cites([md(i) for i in ids])}".rstrip()
            for text, ids in analysis_pieces(report)
        )
        out += ["", "## AI Analysis", ""]
        if report.analysis.composed:
            out += ["*Composed by analyst from the notes and the facts.*", ""]
        out.append(pieces)
    if report.warnings:
        out += ["", "## Warnings", ""] + [f"- {md(w)}" for w in report.warnings]
    out += ["", "---", "", f"*{md(footer(report))}*", ""]
    return "\n".join(out)
