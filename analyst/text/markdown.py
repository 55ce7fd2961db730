"""Text from the article or the model, written into Markdown so that it shows as exactly that
text: the one escaping every Markdown view uses (reports, digests, the stages' views)."""

from __future__ import annotations

import re


def cites(ids: list[str]) -> str:
    """Cited ids as "[f1, n2]" (nothing when there are none)."""
    return f"[{', '.join(ids)}]" if ids else ""


# Markdown's inline syntax: emphasis, code, links and images, raw HTML, tables, strikethrough,
# entities, and the backslash itself.
_INLINE = re.compile(r"([\\`*_\[\]<>|~&])")
# What starts a block when it starts a line: a heading, quote, list item, rule or setext line.
_BLOCK_START = re.compile(r"^(\s*)([#>+=-]|\d+[.)])")


def md(text: str) -> str:
    """Text from the article or the model as Markdown that renders as exactly that text.

    It is untrusted: a ``<script>``, a ``[link](http://evil)``, ``*emphasis*`` or a line that
    starts with ``#`` must show as written, not become HTML, a link, style or a heading. Line
    breaks become spaces, so no text can end its list item or quote and start a block of its own.
    """
    text = _INLINE.sub(r"\\\1", " ".join(text.split()))
    return _BLOCK_START.sub(_defuse_block, text)


def _defuse_block(match: re.Match[str]) -> str:
    lead, mark = match.groups()
    # "1. " is defused as "1\. " (a digit takes no backslash); "# " as "\# ".
    return lead + (mark[:-1] + "\\" + mark[-1] if mark[0].isdigit() else "\\" + mark)
