"""The notes of a report: what analyst computed from the article (numbers in perspective, what
to watch, who says what, tensions), each with the spans it rests on (``stages/notes``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

NoteKind = Literal[
    "sum", "discrepancy", "share", "multiple", "rate", "total", "change", "before", "whole",
    "watch", "pending", "quote", "claim", "tension",
]  # fmt: skip
COMPUTED_KINDS = (
    "sum", "discrepancy", "share", "multiple", "rate", "total", "change", "before", "whole",
)  # fmt: skip


class Span(BaseModel):
    """A span of the article's text: ``source.text[start:end]``."""

    start: int
    end: int


class NoteInput(BaseModel):
    """An amount a computed note starts from, as the article states it."""

    value: float = Field(description="in the unit's base: dollars, watts, a count")
    unit: str = Field(description='"dollar", "watt hour", "percent", "" for a count')
    text: str = Field(description="as written, source.text[start:end]")
    start: int
    end: int


class Note(BaseModel):
    """What code derives from the article, tied to the sentences it rests on (no model).

    Computed notes (sum, share, multiple, rate, total, change, before, discrepancy) carry the
    ``operation`` that recomputes ``result`` from their ``inputs`` and a readable ``formula``;
    ``watch`` and ``pending`` notes look ahead (``date`` is ISO 8601 when the article's date
    allows); ``quote`` and ``claim`` notes say who says what; ``tension`` notes hold both sides.
    """

    id: str = Field(description="n1, n2, ...")
    kind: NoteKind
    text: str = Field(description="the note in one short line")
    spans: list[Span] = Field(description="the sentences (or quotation) it rests on")
    facts: list[str] = Field(
        default_factory=list, description="ids of the facts whose quotes stand in those spans"
    )
    operation: str | None = Field(
        default=None,
        description="sum | share | ratio | relative | difference | product | before_rise | "
        "before_fall | implied_whole: recompute result from the inputs' values "
        "(analyst.text.perspective.recompute)",
    )
    formula: str | None = None
    inputs: list[NoteInput] = Field(default_factory=list)
    result: float | None = None
    unit: str | None = Field(default=None, description="of the result")
    approx: bool = Field(default=False, description="an input is approximate (about, up to...)")
    date: str | None = Field(default=None, description="what to watch: ISO 8601, or null")
    date_text: str | None = None
    speaker: str | None = Field(default=None, description="who says it, as the article names")
    role: str | None = Field(default=None, description="the speaker's role, as written")
