"""``analyst mcp``: analyst's tools for AI assistants, over the Model Context Protocol."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from analyst import errors
from analyst.cli.options import REPORT_FLAGS, exit_codes, fail, settings_from, with_extra
from analyst.cli.serve import LibraryOption, NoLibraryOption, is_loopback, open_library
from analyst.settings import Settings

PANEL = "Serving"


class Transport(StrEnum):
    """How the assistant talks to analyst."""

    stdio = "stdio"
    http = "http"


@settings_from(*REPORT_FLAGS)
def mcp(
    transport: Annotated[
        Transport,
        typer.Option(
            help="stdio (the assistant starts analyst) or streamable HTTP on loopback.",
            rich_help_panel=PANEL,
        ),
    ] = Transport.stdio,
    host: Annotated[
        str, typer.Option(help="With --transport http: loopback only.", rich_help_panel=PANEL)
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="With --transport http.", rich_help_panel=PANEL)] = 8765,
    library: LibraryOption = None,
    no_library: NoLibraryOption = False,
    *,
    settings: Settings,
    verbose: bool,
) -> None:
    """Serve analyst's tools (summarize, digest, report, search) to an AI assistant over MCP;
    its reports go to the library that analyst serve shows."""
    assistant = with_extra("analyst.assistant", "mcp", "mcp", verbose)
    if transport is Transport.http and not is_loopback(host):
        fail(errors.ConfigError("analyst mcp listens on loopback only (--host 127.0.0.1)"), verbose)
    kept, _ = open_library(library, no_library, settings, verbose)
    try:
        assistant.run(settings, transport=transport.value, host=host, port=port, library=kept)
    finally:
        kept.close()


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("mcp", epilog=exit_codes())(mcp)
