"""The report's JSON contract, and the shapes the model is asked to reply in.

``Report`` is what users get (``schema_version`` "1"); ``Extraction`` and ``Synthesis`` are what the
model writes. Their JSON Schemas go to the server for constrained decoding, and every reply is
validated here again, whatever the server promised.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from analyst.text.quotes import MatchKind

# 2: who's who (``entities``) and ``timeline``; reports of version 1 load, with both empty.
# 3: ``relations``, and the entity ids a fact or an implication names (``entities``);
#    ``metadata.date`` is ISO 8601 (``date_text`` as written), and the byline's parts.
# 4: ``notes`` (computed from the article: numbers in perspective, what to watch, who says
#    what, tensions), how each fact stands (``standing``, ``attributed_to``), and what each
#    implication and part of the analysis rests on (``notes``, ``background``).
# 5: a fact whose text is the article's sentence, cited by number (``cited``), and the
#    article's sentences a summary is made of (``summary_spans``).
SCHEMA_VERSION: Literal["5"] = "5"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- what the model writes --------------------------------------------------------------------


class ExtractedFact(_Strict):
    """One fact as the model reports it. The quote comes before the fact on purpose: small models
    copy more faithfully when they quote first and then write the fact from the quote."""

    section: str = Field(description="id of the section the quote is from, e.g. s2")
    evidence: str = Field(
        min_length=1,
        description="verbatim quote from that section, at most 200 characters",
        # A runaway guard for servers that enforce the schema (llama.cpp, vLLM). Kept well above
        # the 200 the prompt asks for: a cap at 240 cut sentences mid-way and the model went on
        # copying into "text". Not validated here (a long verbatim quote is still evidence), and
        # OpenAI's strict mode does not take the keyword (see openai_strict).
        json_schema_extra={"maxLength": 400},
    )
    text: str = Field(min_length=1, description="the fact in one plain sentence")


class CitingFact(_Strict):
    """One fact as the model reports it when the article's sentences are numbered: the number
    of the sentence that states it, then the fact. Nothing is copied, so nothing can drift."""

    sentence: int = Field(description="the number of the sentence that states the fact")
    text: str = Field(min_length=1, description="the fact in one plain sentence")


# The most facts an extraction call may give. Asked for "3 to 8", the 1.5B model still wrote 16
# near-copies of sentences for one 548-token BBC article, and the synthesis re-read them all. The
# pipeline sets each article's own, lower, limit (``pipeline.facts_per_call``) in the request and
# in the schema's maxItems, and keeps the first that many from servers that do not enforce it.
FACTS_PER_CALL = 8


class Extraction(_Strict):
    """The reply to one extraction call."""

    facts: list[ExtractedFact] = Field(json_schema_extra={"maxItems": FACTS_PER_CALL})


class CitingExtraction(_Strict):
    """The reply to one extraction call that cites numbered sentences."""

    facts: list[CitingFact] = Field(json_schema_extra={"maxItems": FACTS_PER_CALL})


class SentenceChoice(_Strict):
    """A reply that is only sentence numbers: the facts' sentences (``--fact-text sentence``)
    or the summary's (``--summary sentences``). A few tokens where the same sentences written
    out cost a hundred, and nothing in them can be misstated."""

    sentences: list[int] = Field(description="numbers of sentences of the article")


class CitingReply(_Strict):
    """What an extraction reply that was asked to cite sentences is read as: a fact that
    quotes instead (a server that does not enforce the schema, a model that copies anyway) is
    still evidence, located like any quote."""

    facts: list[CitingFact | ExtractedFact]


class CitedRole(_Strict):
    """A role of a person or organisation as one numbered sentence of the article states it."""

    role: str = Field(
        min_length=1,
        description="the role in the article's words",
        json_schema_extra={"maxLength": 120},  # runaway guards for servers that enforce them
    )
    sentence: int = Field(description="the number of the sentence that states the role")


class WhoEntity(_Strict):
    """A person, organisation, product or place that matters to the story."""

    name: str = Field(
        min_length=1,
        description="its fullest name in the article",
        json_schema_extra={"maxLength": 80},
    )
    type: Literal["person", "organisation", "product", "place"]
    aliases: list[str] = Field(
        description="other names the article uses for it", json_schema_extra={"maxItems": 2}
    )
    # Unbounded, the 1.5B model wrote roles until max_tokens, doubled twice (4,800 tokens).
    roles: list[CitedRole] = Field(json_schema_extra={"maxItems": 2})


class CitedEvent(_Strict):
    """A dated event as one numbered sentence of the article states it."""

    date: str = Field(
        min_length=1,
        description="the date exactly as the sentence writes it",
        json_schema_extra={"maxLength": 40},
    )
    event: str = Field(
        min_length=1,
        description="what happened, in one short sentence",
        json_schema_extra={"maxLength": 160},
    )
    who: list[str] = Field(
        description="names of the people or organisations involved",
        json_schema_extra={"maxItems": 3},
    )
    sentence: int = Field(description="the number of the sentence that states the event")


RelationKind = Literal[
    "leads", "works for", "joins", "leaves", "owns", "competes with", "partners with"
]


class CitedRelation(_Strict):
    """A relation between two entities as one numbered sentence of the article states it."""

    subject: str = Field(min_length=1, json_schema_extra={"maxLength": 80})
    relation: RelationKind
    object: str = Field(min_length=1, json_schema_extra={"maxLength": 80})
    sentence: int = Field(description="the number of the sentence that states the relation")


WHO_PER_CALL = 5
ENTITIES_PER_CALL = 8  # the people and organisations named more than once, in most articles
RELATIONS_PER_CALL = 4


class WhoWhen(_Strict):
    """The reply to the who's-who-and-timeline call."""

    entities: list[WhoEntity] = Field(json_schema_extra={"maxItems": ENTITIES_PER_CALL})
    relations: list[CitedRelation] = Field(json_schema_extra={"maxItems": RELATIONS_PER_CALL})
    events: list[CitedEvent] = Field(json_schema_extra={"maxItems": WHO_PER_CALL})


class NameKind(_Strict):
    """What the article uses a name for."""

    name: str
    type: Literal["person", "organisation", "place", "other"]


class NameKinds(_Strict):
    """The reply to the names call (``stages.who``): the names the first list left out."""

    names: list[NameKind]


class RoleAgain(_Strict):
    """A dropped role given again, with the sentence that states it."""

    name: str = Field(description="the entity's name, as the first reply gave it")
    role: str = Field(min_length=1, json_schema_extra={"maxLength": 120})
    sentence: int


class RolesAgain(_Strict):
    """The reply to the roles re-ask (``stages.who``)."""

    roles: list[RoleAgain]


class Rewrite(_Strict):
    """A fact written again from its passage, after its first wording failed the support test."""

    id: str
    text: str = Field(min_length=1)


class Rewrites(_Strict):
    """The reply to the support re-ask (``stages.support``)."""

    facts: list[Rewrite]


class Fix(_Strict):
    """A piece of the synthesis written again after it failed a gate (``stages.gates``)."""

    where: str = Field(description='the piece\'s label, e.g. "implication 2"')
    text: str = Field(min_length=1)


class Fixes(_Strict):
    """The reply to the synthesis gates' re-ask."""

    fixes: list[Fix]


def _check_citations(ids: list[str], info: ValidationInfo, kind: str = "fact") -> list[str]:
    """``ids`` once each, in order; an id the validation context does not list ("fact_ids",
    "note_ids") fails, naming the ids that may be cited."""
    known = (info.context or {}).get(f"{kind}_ids")
    if known is not None:
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise ValueError(
                f"cites unknown {kind} ids {unknown}; cite only ids from the {kind}s: "
                + (", ".join(sorted(known, key=_id_order)) or "(none)")
            )
    return list(dict.fromkeys(ids))


def _check_notes(ids: list[str], info: ValidationInfo) -> list[str]:
    return _check_citations(ids, info, "note")


def _id_order(fact_id: str) -> tuple[int, str]:
    digits = fact_id.lstrip("fn")
    return (int(digits), "") if digits.isdigit() else (1 << 30, fact_id)


class CitedText(_Strict):
    """An implication: a consequence for a party the article names, citing the facts it rests
    on. Naming the party first keeps a small model from restating a fact as a consequence."""

    party: str = Field(min_length=1, description="who it concerns, as the article names them")
    text: str = Field(
        min_length=1,
        description="what follows for them, as words that continue the party's name: "
        "'must now ...', 'stands to ...', 'may ...'",
    )
    facts: list[str] = Field(description="ids of the facts this rests on, e.g. ['f1', 'f3']")
    notes: list[str] = Field(
        default_factory=list, description="ids of the notes this rests on, e.g. ['n2']"
    )
    background: bool = Field(
        default=False,
        description="true when this says what the article does not: your own knowledge",
    )

    @field_validator("facts")
    @classmethod
    def _known(cls, ids: list[str], info: ValidationInfo) -> list[str]:
        return _check_citations(ids, info)

    @field_validator("notes")
    @classmethod
    def _known_notes(cls, ids: list[str], info: ValidationInfo) -> list[str]:
        return _check_notes(ids, info)

    @property
    def sentence(self) -> str:
        """The implication as a sentence: the party, then what follows for it. A model that
        wrote a whole sentence anyway (it starts with a capital) keeps it as written."""
        text = self.text.strip()
        if not text or not text[0].islower():
            return text
        party = self.party.strip()
        return f"{party[:1].upper()}{party[1:]} {text}"


# Each part of the analysis is one or two sentences: held to at least this many characters by
# servers that enforce the schema, so four parts make the 3 to 5 sentences and 50 words or more
# asked for (the 0.5B model, asked for "3 to 5 sentences", wrote 14 words). The upper bound is a
# runaway guard only: at 360 the seed article's "watch" part was cut mid-sentence.
PART_CHARS = (70, 800)


class Part(_Strict):
    """One part of the analysis, citing the facts it rests on."""

    text: str = Field(
        min_length=1,
        json_schema_extra={"minLength": PART_CHARS[0], "maxLength": PART_CHARS[1]},
    )
    facts: list[str] = Field(description="ids of the facts this rests on, e.g. ['f1', 'f3']")
    notes: list[str] = Field(
        default_factory=list, description="ids of the notes this rests on, e.g. ['n2']"
    )
    background: bool = Field(
        default=False,
        description="true when this says what the article does not: your own knowledge",
    )

    @field_validator("facts")
    @classmethod
    def _known(cls, ids: list[str], info: ValidationInfo) -> list[str]:
        return _check_citations(ids, info)

    @field_validator("notes")
    @classmethod
    def _known_notes(cls, ids: list[str], info: ValidationInfo) -> list[str]:
        return _check_notes(ids, info)


class AnalysisParts(_Strict):
    """What an analyst adds, asked for part by part: a small model asked for "a paragraph of
    analysis" restated the facts; asked for each part it has to say something else."""

    significance: Part = Field(description="why this matters, and to whom")
    context: Part = Field(description="what it fits into, from what the article says")
    uncertainty: Part = Field(description="what is not known yet, disputed or conditional")
    watch: Part = Field(description="what to watch next")

    def parts(self) -> list[tuple[str, Part]]:
        """The parts in reading order, by name."""
        return [(name, getattr(self, name)) for name in ANALYSIS_PARTS]

    @property
    def text(self) -> str:
        """The parts as one paragraph."""
        return " ".join(_sentence_end(p.text) for _, p in self.parts() if p.text.strip())

    @property
    def facts(self) -> list[str]:
        """Every fact id the parts cite, once, in order."""
        return list(dict.fromkeys(i for _, p in self.parts() for i in p.facts))

    @property
    def notes(self) -> list[str]:
        """Every note id the parts cite, once, in order."""
        return list(dict.fromkeys(i for _, p in self.parts() for i in p.notes))


ANALYSIS_PARTS = ("significance", "context", "uncertainty", "watch")


def _sentence_end(text: str) -> str:
    text = text.strip()
    return text if text[-1:] in ".!?。！？\"'”’)" else text + "."


class Summary(_Strict):
    """The reply to the summary call. The summary comes as sentences because small models do not
    keep to a length asked in words: told "about 93 words", the 1.5B model wrote 10 to 40. An
    array's item count is something a server that enforces the schema can hold them to."""

    summary: list[str] = Field(min_length=1, description="the summary's sentences, in order")

    @field_validator("summary", mode="before")
    @classmethod
    def _one_string(cls, value: Any) -> Any:
        # A server that does not enforce the schema may still send the paragraph as one string.
        return [value] if isinstance(value, str) else value


class Interpretation(_Strict):
    """The reply to the analysis call: the implications, then the analysis. A call of its own,
    apart from the summary: after a summary, which keeps close to the article, the 1.5B model
    went on copying article sentences into whatever came next in the same reply."""

    implications: list[CitedText] = Field(min_length=3, max_length=5)
    analysis: AnalysisParts


class Synthesis(Summary, Interpretation):
    """The summary, the implications and the analysis together: what the gates check."""

    @property
    def paragraph(self) -> str:
        return " ".join(s.strip() for s in self.summary if s.strip())


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


class Role(BaseModel):
    """A role the article gives an entity, with the sentence that states it."""

    text: str
    evidence: str
    start: int
    end: int
    match: MatchKind = MatchKind.EXACT


class Entity(BaseModel):
    """A person, organisation, product or place of the story, and its roles as stated."""

    id: str
    name: str
    type: Literal["person", "organisation", "product", "place"]
    aliases: list[str] = Field(
        default_factory=list, description="other names the article uses for it (each found)"
    )
    mentions: int = Field(description="how often the name or an alias occurs in the article")
    roles: list[Role] = Field(default_factory=list)


class Relation(BaseModel):
    """A relation between two entities of the story, with the sentence that states it."""

    subject: str = Field(description="the id of the entity the relation starts from")
    relation: RelationKind
    object: str = Field(description="the id of the entity it points to")
    evidence: str
    start: int
    end: int


class Event(BaseModel):
    """A dated event of the story, with the sentence that states it."""

    id: str
    date: str = Field(description="ISO 8601 at the precision the article gives: 2023, 2023-09, ...")
    date_text: str = Field(description="the date as the article writes it")
    date_source: Literal["stated", "relative"] = Field(
        description="stated in the sentence, or resolved from a relative expression ('on "
        "Tuesday', 'last month') against the article's own date"
    )
    event: str
    entities: list[str] = Field(default_factory=list, description="ids of the entities involved")
    evidence: str
    start: int
    end: int


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


class Report(BaseModel):
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


def strict_json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A model's JSON Schema for strict structured outputs.

    Strict mode wants every property required and no additional properties: the ``_Strict``
    models say both, and none has a default. String length keywords stay in; the OpenAI client
    drops them for OpenAI's own API, which rejects them (``openai_strict``).
    """
    return model.model_json_schema()


def openai_strict(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` without the keywords OpenAI's strict mode rejects (string lengths)."""
    cleaned: dict[str, Any] = _drop_keys(schema, {"minLength", "maxLength"})
    return cleaned


def _drop_keys(node: Any, keys: set[str]) -> Any:
    if isinstance(node, dict):
        return {k: _drop_keys(v, keys) for k, v in node.items() if k not in keys}
    if isinstance(node, list):
        return [_drop_keys(v, keys) for v in node]
    return node
