"""The notes as a report shows them: grouped by what a reader asks of them, as Markdown and as a
terminal view (rich is imported only when a report is shown in the terminal)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from analyst.schema import Note, Report
from analyst.text.markdown import cites, md

if TYPE_CHECKING:
    from rich.console import RenderableType

# The notes by what a reader asks of them, in the views' order.
NOTE_GROUPS = (
    ("Numbers in perspective", ("discrepancy", "sum", "share", "multiple", "before", "change",
                                "whole", "rate", "total")),
    ("What to watch", ("watch", "pending")),
    ("Who says what", ("quote", "claim")),
    ("Tensions", ("tension",)),
)  # fmt: skip
ABSENT = {
    "numbers": "no figures to put in perspective",
    "dates": "no dates ahead of the article's own",
    "quotes": "no quotation or attributed claim",
    "tensions": "no disagreement the article records",
}


def note_groups(report: Report) -> Iterator[tuple[str, list[Note]]]:
    """The report's notes by group (only the groups that have notes)."""
    for title, kinds in NOTE_GROUPS:
        notes = [n for n in report.notes if n.kind in kinds]
        notes.sort(key=lambda n: kinds.index(n.kind) if title.startswith("Numbers") else 0)
        if notes:
            yield title, notes


def absent_line(report: Report) -> str | None:
    """What the article gave nothing to note of, in one line."""
    said = [ABSENT[k] for k in report.notes_absent if k in ABSENT]
    return ("The article gives " + "; ".join(said) + ".") if said else None


def markdown(report: Report) -> list[str]:
    """The notes as Markdown lines, by group; what the article gave nothing of."""
    if not report.notes and not report.notes_absent:
        return []  # a report written before notes
    out = ["## Notes", "", "*Computed by analyst from the article's own sentences; no model.*", ""]
    for title, notes in note_groups(report):
        out += [f"### {title}", ""]
        for n in notes:
            line = f"- **{n.id}** {md(n.text)}"
            if n.formula:
                line += f" — `{md(n.formula)}`"
            out.append(line + (f" {cites(n.facts)}" if n.facts else ""))
        out.append("")
    absent = absent_line(report)
    if absent:
        out += [f"*{md(absent)}*", ""]
    return out


def rich(report: Report) -> list[RenderableType]:
    """The notes by group, each with its id, text and formula; what the article lacked."""
    from rich.console import Group
    from rich.rule import Rule
    from rich.table import Table
    from rich.text import Text

    parts: list[RenderableType] = []
    groups = list(note_groups(report))
    absent = absent_line(report)
    if not groups and not absent:
        return parts
    parts += [Text(""), Rule("Notes (computed from the article, no model)", align="left")]
    for title, notes in groups:
        parts.append(Text(title, style="bold cyan"))
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True, style="dim")
        grid.add_column(ratio=1)
        for n in notes:
            body = Text(n.text)
            if n.facts:
                body.append(" " + cites(n.facts), "dim")
            rows: list[RenderableType] = [body]
            if n.formula:
                rows.append(Text(n.formula, style="dim"))
            grid.add_row(n.id, Group(*rows))
        parts.append(grid)
    if absent:
        parts.append(Text(absent, style="dim"))
    return parts
