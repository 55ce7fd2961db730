"""An article as analyst reads it: the decoded text and its blocks, with character offsets.

Below both ``reading/`` (which makes an ``Article`` from bytes, HTML or PDF) and ``text/`` (which
cuts it into sections and sentences), so neither imports the other for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class Kind(StrEnum):
    """What a block of the article is."""

    TITLE = "title"
    DEK = "dek"
    BYLINE = "byline"
    HEADING = "heading"
    PARAGRAPH = "paragraph"
    SOURCE = "source"
    BOILERPLATE = "boilerplate"
    ANALYSIS = "analysis"  # an existing "AI Analysis" section: not article body


@dataclass(frozen=True, slots=True)
class Block:
    """A paragraph-sized piece of the text: ``text == source[start:end]``."""

    start: int
    end: int
    text: str
    kind: Kind


@dataclass(frozen=True, slots=True)
class Article:
    """A decoded article with its parts recognised."""

    text: str
    blocks: tuple[Block, ...]
    title: str | None = None
    dek: str | None = None
    byline: str | None = None
    date: str | None = None  # as written (the byline's) or as the page's metadata gives it
    author: str | None = None  # as the page's or the PDF's metadata gives it
    source_line: str | None = None
    warnings: tuple[str, ...] = ()
    language: str | None = None  # ISO 639-1, detected from the body
    site: str | None = None
    url: str | None = None
    kind: Literal["text", "html", "pdf"] = "text"  # the format it arrived in
    sha256: str = ""  # of the bytes (or the text, as UTF-8) it was read from

    @property
    def body(self) -> tuple[Block, ...]:
        """Headings and paragraphs: the text facts may come from."""
        return tuple(b for b in self.blocks if b.kind in (Kind.HEADING, Kind.PARAGRAPH))
