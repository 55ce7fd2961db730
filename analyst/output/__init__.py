"""Outputs: a report as JSON or Markdown (``plain``), a self-contained HTML page (``html``), a
rich terminal view (``terminal``), the batch progress bar and table (``progress``). ``FORMATS``
names the file formats a batch writes."""

from __future__ import annotations

from collections.abc import Callable

from analyst.output.html import to_html
from analyst.output.plain import to_json, to_markdown
from analyst.schema import Report

# name → (file suffix, renderer)
FORMATS: dict[str, tuple[str, Callable[[Report], str]]] = {
    "json": (".json", to_json),
    "md": (".md", to_markdown),
    "html": (".html", to_html),
}
