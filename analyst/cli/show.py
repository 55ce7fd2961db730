"""Showing what a command made: on the terminal, on stdout, or atomically in a file."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

from analyst.digest.briefing import Digest
from analyst.files import printable, write_atomic
from analyst.output.formats import Format, render, renderable
from analyst.schema import Report


def emit(shown: Report | Digest, fmt: Format, output: Path | None) -> None:
    """Show ``shown`` in ``fmt``: the terminal view on a terminal, else the text on stdout or
    atomically in ``output``."""
    if fmt is Format.rich and output is None:
        Console().print(renderable(shown))
        return
    deliver(render(shown, fmt), output)


def deliver(text: str, output: Path | None) -> None:
    """``text`` on stdout, or atomically in ``output`` (on stdout too if that fails)."""
    if output is None:
        sys.stdout.write(text)
        return
    try:
        write_atomic(output, text)
    except OSError as exc:
        # Checked before any model call, so this is rare (a full disk); keep what was made.
        print(f"analyst: error: cannot write {output}: {exc.strerror}", file=sys.stderr)
        sys.stdout.write(text)
        raise typer.Exit(2) from None
    print(f"analyst: wrote {printable(str(output))}", file=sys.stderr)
