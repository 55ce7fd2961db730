"""The report's JSON contract: what users get, as ``analyst schema`` prints it.

The shapes the model is asked to reply in belong to the stages that ask (``Extraction`` in
``stages/extract.py``, ``Synthesis`` in ``stages/synthesize/replies.py``...): a stage owns its
replies; the report is the one versioned contract they all feed. Its parts that a stage adds
are in this package's modules named for it (``notes``, ``who``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from analyst.schema.notes import COMPUTED_KINDS, Note, NoteInput, NoteKind, Span
from analyst.schema.shown import Shown
from analyst.schema.who import Entity, Event, Relation, RelationKind, Role
from analyst.text.quotes import MatchKind

__all__ = [
    "COMPUTED_KINDS",
    "SCHEMA_VERSION",
    "Analysis",
    "Entity",
    "Event",
    "Fact",
    "Implication",
    "Metadata",
    "ModelInfo",
    "Note",
    "NoteInput",
    "NoteKind",
    "Relation",
    "RelationKind",
    "Report",
    "Role",
    "SectionInfo",
    "SourceInfo",
    "Span",
    "Standing",
    "Usage",
    "Verification",
    "report_json_schema",
]

# 2: who's who (``entities``) and ``timeline``; reports of version 1 load, with both empty.
# 3: ``relations``, and the entity ids a fact or an implication names (``entities``);
#    ``metadata.date`` is ISO 8601 (``date_text`` as written), and the byline's parts.
# 4: ``notes`` (computed from the article: numbers in perspective, what to watch, who says
#    what, tensions), how each fact stands (``standing``, ``attributed_to``), and what each
#    implication and part of the analysis rests on (``notes``, ``background``).
# 5: a fact whose text is the article's sentence, cited by number (``cited``), and the
#    article's sentences a summary is made of (``summary_spans``).
SCHEMA_VERSION: Literal["5"] = "5"


# ---- what users get ---------------------------------------------------------------------------


class SourceInfo(BaseModel):
    """The article read: where from, its hash, its size in characters and tokens."""

    path: str | None
    sha256: str = Field(description="of the bytes as read (the page, the PDF, the gzip file)")
    chars: int = Field(description="of the text the offsets refer to")
    tokens: int
    url: str | None = Field(
        default=None, description="where it was fetched from, or the page's own"
    )
    format: Literal["text", "html", "pdf"] = "text"
    text: str | None = Field(
        default=None, description="the text the offsets refer to (with --include-text)"
    )


class Metadata(BaseModel):
    """What the article says about itself, outside its body."""

    date: str | None = Field(
        default=None,
        description="ISO 8601 at the precision given (2026-10-14, 2026-10); null when none can "
        "be read (date_text then holds what was written)",
    )
    date_text: str | None = Field(default=None, description="the date as the article writes it")
    byline: str | None = Field(default=None, description="the byline line as written")
    author: str | None = Field(default=None, description="from the byline or the page")
    read_time: str | None = Field(default=None, description='as written: "5 min read"')
    handle: str | None = Field(default=None, description='a social handle: "@riverton_ledger"')
    source_line: str | None = None
    dek: str | None = None
    site: str | None = Field(default=None, description="the site's name, for web pages")
    language: str | None = Field(
        default=None, description="the article's language (ISO 639-1), detected"
    )


class SectionInfo(BaseModel):
    """A section of the body: ``source[start:end]`` spans its paragraphs."""

    id: str
    heading: str | None
    start: int
    end: int
    tokens: int


class Verification(BaseModel):
    """What ``--verify`` concluded: does the fact follow from the article, not only its quote?"""

    verdict: Literal["supported", "unsupported", "uncertain"] = Field(
        description="unsupported facts are left out of the implications and the analysis"
    )
    support: float = Field(ge=0, le=1, description="the verifier's score, for ranking")
    lexical: float | None = Field(
        description="the word-overlap signal in it; null when the fact and the article are in "
        "different languages and the model's verdict stands alone"
    )


class Fact(BaseModel):
    """A key fact with the quote that proves it; ``source[start:end]`` is the quote as matched."""

    id: str
    section: str
    text: str
    evidence: str
    start: int | None
    end: int | None
    match: MatchKind
    grounded: bool
    absent_terms: list[str] = Field(
        default_factory=list,
        description="numbers or names in the fact's text that the article never mentions",
    )
    verification: Verification | None = Field(
        default=None, description="set when the report was written with --verify"
    )
    support: float | None = Field(
        default=None,
        description="share of the fact's content words found in the sentences its quote stands "
        "in; a grounded fact is shown as supported (✓) when it is at least 0.6 and every number "
        "and name of the fact is there too (null: not tested, the report is in another language)",
    )
    extractive: bool = Field(
        default=False,
        description="the model's own wording failed the support test, so the fact's text is the "
        "article's sentence that its quote stands in",
    )
    cited: bool = Field(
        default=False,
        description="the fact is the article's sentence, which the model cited by number "
        "(--fact-text sentence): its text is that sentence, less a trailing attribution "
        "(moved to attributed_to)",
    )
    entities: list[str] = Field(
        default_factory=list,
        description="ids of the who's-who entities the fact names (with --who)",
    )
    standing: Standing | None = Field(
        default=None,
        description="how the article gives it: stated (its own word), attributed (someone's: "
        "attributed_to), forecast, or estimate (null in reports before version 4)",
    )
    attributed_to: str | None = Field(
        default=None, description="who the article gives the fact to, as it names them"
    )

    @model_validator(mode="after")
    def _offsets(self) -> Fact:
        if self.grounded and (self.start is None or self.end is None or self.end <= self.start):
            raise ValueError(f"grounded fact {self.id} needs start < end")
        return self


Standing = Literal["stated", "attributed", "forecast", "estimate"]


class Implication(BaseModel):
    """A consequence of the facts, citing them by id; for an implication, the party it concerns."""

    text: str
    facts: list[str]
    party: str | None = None
    entities: list[str] = Field(
        default_factory=list, description="ids of the who's-who entities it names (with --who)"
    )
    notes: list[str] = Field(default_factory=list, description="ids of the notes it rests on")
    background: bool = Field(
        default=False,
        description="it says what the article does not (the model's own knowledge): shown as "
        "background in every view",
    )


class Analysis(BaseModel):
    """The "AI Analysis" paragraph: its parts (significance, context, uncertainty, what to
    watch) composed, and every fact id they cite."""

    text: str
    facts: list[str]
    notes: list[str] = Field(default_factory=list, description="every note id the parts cite")
    composed: bool = Field(
        default=False,
        description="composed by analyst from the notes and facts (no model prose), as on the "
        "embedded model",
    )
    parts: dict[str, Implication] | None = Field(
        default=None,
        description="the paragraph's parts by name (significance, context, uncertainty, watch), "
        "each citing its facts; null in reports written before the analysis came in parts",
    )


class ModelInfo(BaseModel):
    """Which model wrote the report, where, and how its output was constrained."""

    name: str
    backend: str
    structured_mode: Literal["json_schema", "json_object", "prompt"]


class Usage(BaseModel):
    """What the report cost: calls, tokens (all attempts), re-asks, seconds, dollars."""

    calls: int
    prompt_tokens: int
    completion_tokens: int
    repairs: int
    seconds: float
    cost_usd: float | None = Field(description="null when the model's price is unknown")
    cache_hits: int = Field(default=0, description="calls answered from the call cache (free)")
    tokens_estimated: bool = Field(
        default=False, description="true when the server did not report usage and tiktoken did"
    )
    cached_prompt_tokens: int | None = Field(
        default=None,
        description="of prompt_tokens, those the server took from its prompt cache (the shared "
        "article prefix) instead of computing; null when it does not say",
    )


class Report(Shown, BaseModel):
    """An analyst report on one article."""

    schema_version: Literal["1", "2", "3", "4", "5"] = SCHEMA_VERSION
    title: str | None
    summary: str
    summary_spans: list[Span] = Field(
        default_factory=list,
        description="where each sentence of the summary stands in source.text, when the summary "
        "is the article's own sentences (--summary sentences); empty when the model wrote it",
    )
    source: SourceInfo
    metadata: Metadata
    sections: list[SectionInfo]
    facts: list[Fact]
    implications: list[Implication]
    analysis: Analysis
    model: ModelInfo
    usage: Usage
    facts_extracted: int = Field(description="facts the model proposed, before grounding")
    entities: list[Entity] = Field(
        default_factory=list, description="who's who (with --who; empty in version 1 reports)"
    )
    relations: list[Relation] = Field(
        default_factory=list,
        description="relations between entities the article states (with --who; empty before "
        "version 3)",
    )
    timeline: list[Event] = Field(
        default_factory=list, description="dated events in order (with --who)"
    )
    notes: list[Note] = Field(
        default_factory=list,
        description="what analyst computed from the article (empty before version 4)",
    )
    notes_absent: list[str] = Field(
        default_factory=list,
        description="what the article gave nothing to note of: numbers, dates ahead, "
        "quotations, disagreement",
    )
    language: str | None = Field(
        default=None, description="the language the summary, facts and analysis are written in"
    )
    prompts_sha256: str
    warnings: list[str] = Field(default_factory=list)
    no_synthesis: str | None = Field(
        default=None,
        description="why the report has no summary, implications or analysis: no fact of the "
        "article was supported by its quote, and nothing unproved is written (null: it has them)",
    )

    @model_validator(mode="after")
    def _citations_resolve(self) -> Report:
        ids = {f.id for f in self.facts}
        cited = [i for imp in self.implications for i in imp.facts] + self.analysis.facts
        unknown = sorted(set(cited) - ids)
        if unknown:
            raise ValueError(f"citations of unknown facts: {unknown}")
        notes = {n.id for n in self.notes}
        cited = [i for imp in self.implications for i in imp.notes] + self.analysis.notes
        unknown = sorted(set(cited) - notes)
        if unknown:
            raise ValueError(f"citations of unknown notes: {unknown}")
        return self

    def note(self, note_id: str) -> Note:
        """The note with this id."""
        return next(n for n in self.notes if n.id == note_id)

    def fact(self, fact_id: str) -> Fact:
        """The fact with this id."""
        return next(f for f in self.facts if f.id == fact_id)


def report_json_schema() -> dict[str, Any]:
    """The JSON Schema of ``Report``, as ``analyst schema`` prints it."""
    schema = Report.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
