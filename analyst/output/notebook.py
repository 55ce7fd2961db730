"""Reports and digests in Jupyter: the HTML page (the same template and escaping as
``-o report.html``) in a sandboxed frame, and the Markdown view.

The page goes in an ``<iframe srcdoc>`` whose whole text is escaped: its styles cannot restyle the
notebook, and its scripts run sandboxed (no access to the notebook's page, cookies or kernel) —
where the notebook does not trust an output, it drops the frame's scripts as any other's. Text
from the article is escaped twice over: by the page's template, then as the attribute's value.
"""

from __future__ import annotations

import html

from analyst.digest.briefing import Digest
from analyst.output import digest as digest_views
from analyst.output.html import to_html
from analyst.output.plain import to_markdown
from analyst.schema import Report
from analyst.schema.shown import show_as

HEIGHT = 640  # pixels: the frame scrolls; a report page is taller than a notebook cell


def framed(page: str, title: str) -> str:
    """``page`` (a whole HTML document) in a sandboxed frame, for a notebook's output."""
    return (
        f'<iframe title="{html.escape(title)}" sandbox="allow-scripts allow-popups" '
        f'style="width: 100%; height: {HEIGHT}px; border: 1px solid #ccc" '
        f'srcdoc="{html.escape(page, quote=True)}"></iframe>'
    )


def _report_html(report: Report) -> str:
    return framed(to_html(report), report.title or "analyst report")


def _digest_html(digest: Digest) -> str:
    return framed(digest_views.to_html(digest), "analyst digest")


show_as(Report, "text/html", _report_html)
show_as(Report, "text/markdown", to_markdown)
show_as(Digest, "text/html", _digest_html)
show_as(Digest, "text/markdown", digest_views.to_markdown)
