"""The ``analyst`` command: flags → Settings → Session → output.

This package is the only place where errors become exit codes (each error class carries its
own) and the only reader of ``os.environ`` (through ``Settings.from_env``). One module a command.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from analyst.cli import assistant, batch, digest, evaluate, info, render, serve, summarize
from analyst.cli.options import exit_codes
from analyst.version import __version__

app = typer.Typer(
    help="Read a news article; write its summary, quoted key facts, implications and analysis.",
    epilog=exit_codes(),
    no_args_is_help=True,
    # Locals can hold API keys: never print them in a traceback.
    pretty_exceptions_show_locals=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        print(f"analyst {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print version.")
    ] = False,
) -> None:
    """analyst: news articles in, analyst reports out."""


for module in (summarize, batch, digest, evaluate, serve, assistant, render, info):
    module.register(app)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        print("analyst: interrupted", file=sys.stderr)
        sys.exit(130)
