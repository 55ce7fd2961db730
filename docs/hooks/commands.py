"""MkDocs hook: the command reference, generated from analyst's Typer app at build time.

A page holding the line ``<!-- commands -->`` gets every command in its place: its help, its
usage, its arguments and its options in their panels, with their choices and defaults. Read from
the app itself (``typer.main.get_command``), so the page cannot drift from the code.
"""

from __future__ import annotations

import re
from typing import Any

import typer.main

MARKER = "<!-- commands -->"


def on_page_markdown(markdown: str, **_kwargs: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, reference())


def reference() -> str:
    """Every command of ``analyst`` as Markdown."""
    from analyst.cli import app

    group: Any = typer.main.get_command(app)  # typer's own click (typer._click)
    out: list[str] = []
    for name, command in group.commands.items():
        out += _command(f"analyst {name}", command)
    return "\n".join(out)


def _command(path: str, command: Any) -> list[str]:
    ctx = command.make_context(path, [], resilient_parsing=True)
    usage = " ".join(command.collect_usage_pieces(ctx))
    out = [f"## `{path}`", "", _plain(command.help or ""), "", "```", f"{path} {usage}", "```", ""]
    panels: dict[str, list[tuple[str, str]]] = {}
    for param in command.params:
        record = param.get_help_record(ctx) if not param.hidden else None
        if param.param_type_name == "argument":
            record = (param.name.upper(), param.help or "")
            panel = "Arguments"
        else:
            panel = param.rich_help_panel or "Options"
        if record:
            panels.setdefault(panel, []).append(record)
    for panel, records in panels.items():
        out += [f"**{panel}**", "", "| | |", "|---|---|"]
        out += [f"| `{_cell(names)}` | {_cell(_plain(text))} |" for names, text in records]
        out.append("")
    return out


def _plain(text: str) -> str:
    """Rich markup and runs of white space out of a help text."""
    return re.sub(r"\s+", " ", re.sub(r"\[/?[a-z ]+\]", "", text)).strip()


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
