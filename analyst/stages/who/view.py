"""Who's who and the timeline as a report shows them, as Markdown and as a terminal view (rich
is imported only when a report is shown in the terminal)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from analyst.schema import Relation, Report
from analyst.text.markdown import md

if TYPE_CHECKING:
    from rich.console import RenderableType


def relations_of(report: Report, subject: str) -> list[tuple[Relation, str]]:
    """The relations that start from entity ``subject``, with the name of the other end."""
    names = {e.id: e.name for e in report.entities}
    return [(r, names.get(r.object, r.object)) for r in report.relations if r.subject == subject]


def markdown(report: Report) -> list[str]:
    """Who's who and the timeline as Markdown lines (nothing when the report has neither)."""
    out: list[str] = []
    if report.entities:
        out += ["## Who's who", ""]
        for entity in report.entities:
            also = f", also {', '.join(md(a) for a in entity.aliases)}" if entity.aliases else ""
            out.append(f"- **{md(entity.name)}** ({entity.type}{also})")
            for role in entity.roles:
                out += [f"  - {md(role.text)}", f"    > {md(role.evidence)}"]
            for relation, other in relations_of(report, entity.id):
                line = f"  - *{relation.relation}* **{md(other)}**"
                out += [line, f"    > {md(relation.evidence)}"]
        out.append("")
    if report.timeline:
        out += ["## Timeline", ""]
        for event in report.timeline:
            how = (
                f' *("{md(event.date_text)}", resolved)*' if event.date_source == "relative" else ""
            )
            out += [f"- **{event.date}** {md(event.event)}{how}", f"  > {md(event.evidence)}"]
        out.append("")
    return out


def rich(report: Report) -> list[RenderableType]:
    """Who's who (a table: name, what it is, each role with its sentence) and the timeline."""
    from rich.console import Group
    from rich.rule import Rule
    from rich.table import Table
    from rich.text import Text

    parts: list[RenderableType] = []
    if report.entities:
        parts += [Text(""), Rule("Who's who", align="left")]
        table = Table(show_header=False, box=None, padding=(0, 1))
        table.add_column(no_wrap=True, style="bold")
        table.add_column(ratio=1)
        for entity in report.entities:
            also = f" (also {', '.join(entity.aliases)})" if entity.aliases else ""
            roles: list[RenderableType] = [Text(f"{entity.type}{also}", style="dim")]
            for role in entity.roles:
                roles += [Text(role.text), Text(f'"{role.evidence}"', style="dim italic")]
            for relation, other in relations_of(report, entity.id):
                line = Text(f"{relation.relation} ", style="italic")
                line.append(other, "bold")
                roles += [line, Text(f'"{relation.evidence}"', style="dim italic")]
            table.add_row(Text(entity.name), Group(*roles))
        parts.append(table)
    if report.timeline:
        parts += [Text(""), Rule("Timeline", align="left")]
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True, style="cyan")
        grid.add_column(ratio=1)
        for event in report.timeline:
            how = f' ("{event.date_text}", resolved)' if event.date_source == "relative" else ""
            body = Text(event.event)
            body.append(how, "dim")
            grid.add_row(event.date, Group(body, Text(f'"{event.evidence}"', "dim italic")))
        parts.append(grid)
    return parts
