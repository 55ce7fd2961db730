"""The one list of formats, and the one way to render a report or a digest in one of them: what
``summarize``, ``render``, ``digest`` and ``batch`` all write."""

from __future__ import annotations

import io
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from analyst.digest.briefing import Digest
from analyst.output import digest as digest_views
from analyst.output.html import to_html
from analyst.output.plain import to_json, to_markdown
from analyst.schema import Report

if TYPE_CHECKING:
    from rich.console import RenderableType


class Format(StrEnum):
    """A view of a report or a digest: the terminal's (``rich``), or a file's."""

    rich = "rich"
    json = "json"
    md = "md"
    html = "html"

    @classmethod
    def of(cls, output: Path | None) -> Format:
        """The format an output file's suffix implies (``-o report.html``); else the terminal's."""
        suffix = output.suffix.lower() if output else ""
        return _BY_SUFFIX.get(suffix, cls.rich)

    @property
    def suffix(self) -> str:
        """The file suffix a batch gives it."""
        return {"json": ".json", "md": ".md", "html": ".html"}.get(self.value, ".txt")


_BY_SUFFIX = {".json": Format.json, ".md": Format.md, ".html": Format.html, ".htm": Format.html}
# What a batch writes: the formats a file holds whole.
FILE_FORMATS = (Format.json, Format.md, Format.html)


def render(shown: Report | Digest, fmt: Format) -> str:
    """``shown`` as text in ``fmt``. The terminal's view as text is the report's rich view as
    plain text 100 columns wide, and the digest's Markdown (the terminal shows it rendered)."""
    if isinstance(shown, Digest):
        if fmt is Format.json:
            return digest_views.to_json(shown)
        return (
            digest_views.to_html(shown) if fmt is Format.html else digest_views.to_markdown(shown)
        )
    if fmt is Format.json:
        return to_json(shown)
    if fmt is Format.html:
        return to_html(shown)
    if fmt is Format.md:
        return to_markdown(shown)
    from rich.console import Console

    buffer = io.StringIO()
    Console(file=buffer, width=100, force_terminal=False).print(renderable(shown))
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


def renderable(shown: Report | Digest) -> RenderableType:
    """What the terminal shows of ``shown`` (rich is imported only here and in the views)."""
    if isinstance(shown, Digest):
        from rich.markdown import Markdown

        return Markdown(digest_views.to_markdown(shown))
    from analyst.output.terminal import to_rich

    return to_rich(shown)
