"""The digest's data: what ``analyst digest`` writes as JSON (``analyst schema --digest``).

Every statement of a digest leads back to quotes: a digest fact lists its sources (the report,
its fact id, the quote and its offsets in that article), a contradiction lists each version with
its sources, and the summary, implications and analysis cite digest fact ids.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from analyst.schema import ModelInfo, Usage
from analyst.schema.shown import Shown
from analyst.stages.replies import Strict

ContradictionKind = Literal["number", "date", "role", "outcome"]


class DigestArticle(BaseModel):
    """One article the digest reads, as its report gives it."""

    id: str = Field(description="a1, a2, … in the order given")
    report: str | None = Field(description="the report's path, when it was read from a file")
    title: str | None
    source: str | None = Field(description="the article's URL or file")
    site: str | None = None
    date: str | None = Field(default=None, description="ISO 8601, as the report's metadata")
    sha256: str
    facts: int = Field(description="grounded facts the report gives")


class SourceQuote(BaseModel):
    """One report's fact behind a digest fact: its words, and the quote that proves them."""

    article: str = Field(description="the DigestArticle id")
    fact: str = Field(description="the fact's id in its report")
    text: str = Field(description="the fact as that report states it")
    evidence: str = Field(description="the verbatim quote from that article")
    start: int
    end: int
    verdict: str | None = Field(default=None, description="the verifier's verdict, when verified")


class DigestFact(BaseModel):
    """A fact stated by one or more articles: one statement, every source."""

    id: str = Field(description="d1, d2, …")
    text: str = Field(description="the statement, as the best-proved source words it")
    sources: list[SourceQuote] = Field(min_length=1)
    articles: int = Field(description="how many different articles state it")
    single_source: bool
    entities: list[str] = Field(default_factory=list, description="digest entity ids it names")
    story: int = Field(description="the story (group of articles sharing facts or names) it is in")
    first_reported: str | None = Field(
        default=None, description="the earliest date of the articles that state it (ISO 8601)"
    )


class Version(BaseModel):
    """One side of a contradiction: the digest facts that say it."""

    value: str = Field(description="what differs, as this side writes it")
    facts: list[str] = Field(description="digest fact ids")


class Contradiction(BaseModel):
    """The same statement with a different number, date, role or outcome across sources."""

    id: str = Field(description="x1, x2, …")
    kind: ContradictionKind
    versions: list[Version] = Field(min_length=2)


class Decision(BaseModel):
    """Why two facts of different articles were merged, set against each other, or kept apart."""

    a: str = Field(description="article id/fact id, e.g. a1/f3")
    b: str
    outcome: Literal["same", "contradicts", "apart"]
    how: Literal["rule", "model"]
    score: float = Field(description="word similarity 0..1 with numbers set aside")
    reason: str


class DigestRole(BaseModel):
    """A role an article gives an entity."""

    text: str
    article: str
    evidence: str
    start: int
    end: int


class DigestEntity(BaseModel):
    """A person or organisation named across articles, its names unified."""

    id: str = Field(description="n1, n2, …")
    name: str
    type: str
    aliases: list[str] = Field(default_factory=list)
    articles: list[str] = Field(description="ids of the articles that name it")
    roles: list[DigestRole] = Field(default_factory=list)


class DigestEventSource(BaseModel):
    """An article's sentence for a dated event."""

    article: str
    evidence: str
    start: int
    end: int


class DigestEvent(BaseModel):
    """A dated event, with every article that gives it."""

    date: str
    event: str
    entities: list[str] = Field(default_factory=list)
    sources: list[DigestEventSource] = Field(min_length=1)


class DigestPoint(BaseModel):
    """A sentence of the digest's interpretation, citing digest facts."""

    text: str
    facts: list[str]


class NoteSource(BaseModel):
    """One report's note behind a digest note."""

    article: str = Field(description="the DigestArticle id")
    note: str = Field(description="the note's id in its report")
    text: str


class DigestNote(BaseModel):
    """A note (``Report.notes``) that several articles compute alike: a figure or a date."""

    id: str = Field(description="k1, k2, …")
    kind: str
    text: str = Field(description="as the first source's report writes it")
    sources: list[NoteSource] = Field(min_length=2)
    articles: int


class Side(BaseModel):
    """One article's version of a figure or a date."""

    article: str
    value: str = Field(description="the amount or the ISO date, as this article gives it")
    text: str = Field(description="the sentence (or note) it stands in")
    start: int | None = Field(description="offsets in that article; null without its text")
    end: int | None


class Difference(BaseModel):
    """The same thing given with two amounts or two dates by different articles."""

    id: str = Field(description="m1, m2, …")
    kind: Literal["amount", "date"]
    sides: list[Side] = Field(min_length=2)


class Digest(Shown, BaseModel):
    """One briefing over many articles."""

    schema_version: Literal["1"] = "1"
    articles: list[DigestArticle]
    summary: str = Field(description="what the articles establish, citing nothing: see facts")
    facts: list[DigestFact]
    contradictions: list[Contradiction]
    entities: list[DigestEntity]
    timeline: list[DigestEvent]
    implications: list[DigestPoint]
    analysis: DigestPoint | None = Field(description="null when the digest was not synthesized")
    decisions: list[Decision] = Field(
        description="the pairs of facts the matching weighed that decided something: merged, "
        "set against each other, judged by the model, or kept apart though alike (score 0.5 up)"
    )
    decisions_unlisted: int = Field(
        default=0,
        description="pairs weighed and counted, not listed: kept apart by rule with a score "
        "under 0.5, or past the 5,000 listed",
    )
    notes: list[DigestNote] = Field(
        default_factory=list, description="figures and dates several articles compute alike"
    )
    differences: list[Difference] = Field(
        default_factory=list,
        description="amounts and dates that differ between articles for the same thing, from "
        "their text and notes (not only their facts)",
    )
    model: ModelInfo | None = Field(description="null when no model wrote anything")
    usage: Usage | None
    warnings: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _citations_resolve(self) -> Digest:
        ids = {f.id for f in self.facts}
        cited = [i for p in self.implications for i in p.facts]
        cited += self.analysis.facts if self.analysis else []
        cited += [i for c in self.contradictions for v in c.versions for i in v.facts]
        unknown = sorted(set(cited) - ids)
        if unknown:
            raise ValueError(f"citations of unknown digest facts: {unknown}")
        return self

    def new_facts(self) -> tuple[str | None, list[DigestFact]]:
        """The latest articles' date and the facts no earlier article states (none when the
        articles are not of at least two dates)."""
        dates = sorted({a.date[:10] for a in self.articles if a.date})
        if len(dates) < 2:
            return None, []
        latest = dates[-1]
        return latest, [f for f in self.facts if (f.first_reported or "")[:10] == latest]

    def fact(self, fact_id: str) -> DigestFact:
        """The digest fact with this id."""
        return next(f for f in self.facts if f.id == fact_id)

    def article(self, article_id: str) -> DigestArticle:
        """The article with this id."""
        return next(a for a in self.articles if a.id == article_id)


# What the model is asked for: written from the merged facts, citing their ids.
class CitedPoint(Strict):
    """An implication or the analysis, citing the digest facts it rests on."""

    text: str = Field(min_length=1, json_schema_extra={"maxLength": 600})
    facts: list[str] = Field(description="ids of the digest facts it rests on, e.g. ['d1', 'd4']")


class DigestWriting(Strict):
    """The digest's summary, implications and analysis (one reply)."""

    summary: list[str] = Field(
        min_length=2, max_length=6, description="the briefing's sentences, most important first"
    )
    implications: list[CitedPoint] = Field(min_length=3, max_length=5)
    analysis: CitedPoint


class StoryNotes(Strict):
    """The key points of one part of a long digest (the reduce step's first level)."""

    points: list[CitedPoint] = Field(min_length=1, max_length=6)


def digest_json_schema() -> dict[str, Any]:
    """The JSON Schema of ``Digest``, as ``analyst schema --digest`` prints it."""
    schema = Digest.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
