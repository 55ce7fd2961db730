"""Reports as a rich terminal view, Markdown or JSON; the only module that draws with rich."""

from __future__ import annotations

from collections.abc import Iterator

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from analyst.schema import Fact, Report


def to_json(report: Report) -> str:
    """The report as indented JSON, the contract ``analyst schema`` describes."""
    return report.model_dump_json(indent=2) + "\n"


def _facts_by_section(report: Report) -> Iterator[tuple[str | None, list[Fact]]]:
    headings = {s.id: s.heading for s in report.sections}
    order = [s.id for s in report.sections]
    for section_id in order:
        facts = [f for f in report.facts if f.section == section_id]
        if facts:
            yield headings.get(section_id), facts


def _footer(report: Report) -> str:
    u = report.usage
    grounded = sum(1 for f in report.facts if f.grounded)
    cost = f"${u.cost_usd:.4f}" if u.cost_usd is not None else "cost unknown"
    tokens = f"{u.prompt_tokens + u.completion_tokens:,} tokens"
    if u.tokens_estimated:
        tokens += " (estimated)"
    repairs = f" · {u.repairs} re-asks" if u.repairs else ""
    return (
        f"{report.model.name} ({report.model.backend}) · {u.calls} calls{repairs} · {tokens} · "
        f"{u.seconds:.1f} s · {cost} · facts grounded {grounded}/{report.facts_extracted}"
    )


def _cites(ids: list[str]) -> str:
    return f"[{', '.join(ids)}]" if ids else ""


def to_rich(report: Report) -> RenderableType:
    """The report as a rich renderable for the terminal."""
    parts: list[RenderableType] = []
    parts.append(Text(report.title or "Untitled article", style="bold"))
    meta = " · ".join(x for x in (report.metadata.date, report.metadata.source_line) if x)
    if meta:
        parts.append(Text(meta, style="dim"))
    parts += [Text(""), Rule("Summary", align="left"), Text(report.summary), Text("")]
    parts.append(Rule("Key facts", align="left"))
    for heading, facts in _facts_by_section(report):
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
            quote = Text(f'"{fact.evidence}"', style="dim italic")
            grid.add_row(mark, fact.id, Group(body, quote))
        parts.append(grid)
    parts += [Text(""), Rule("Implications", align="left")]
    for n, imp in enumerate(report.implications, start=1):
        line = Text(f"{n}. {imp.text} ")
        line.append(_cites(imp.facts), "dim")
        parts.append(line)
    parts.append(Text(""))
    analysis = Text(report.analysis.text)
    if report.analysis.facts:
        analysis.append(" " + _cites(report.analysis.facts), "dim")
    parts.append(Panel(analysis, title="AI Analysis", title_align="left", border_style="magenta"))
    for warning in report.warnings:
        parts.append(Text.from_markup(f"[yellow]warning:[/] {escape(warning)}"))
    parts.append(Text(_footer(report), style="dim"))
    return Group(*parts)


def to_markdown(report: Report) -> str:
    """The report as Markdown, with the same content as the terminal view."""
    out: list[str] = [f"# {report.title or 'Untitled article'}", ""]
    meta = " · ".join(x for x in (report.metadata.date, report.metadata.source_line) if x)
    if meta:
        out += [f"*{meta}*", ""]
    out += ["## Summary", "", report.summary, "", "## Key facts", ""]
    for heading, facts in _facts_by_section(report):
        if heading:
            out += [f"### {heading}", ""]
        for fact in facts:
            mark = "✓" if fact.grounded else "✗ (quote not found in the article)"
            out.append(f"- **{fact.id}** {fact.text} {mark}")
            out.append(f"  > {fact.evidence}")
        out.append("")
    out += ["## Implications", ""]
    for n, imp in enumerate(report.implications, start=1):
        out.append(f"{n}. {imp.text} {_cites(imp.facts)}".rstrip())
    out += ["", "## AI Analysis", "", f"{report.analysis.text} {_cites(report.analysis.facts)}"]
    if report.warnings:
        out += ["", "## Warnings", ""] + [f"- {w}" for w in report.warnings]
    out += ["", "---", "", f"*{_footer(report)}*", ""]
    return "\n".join(out)
