"""The shapes the synthesis calls reply in: the summary's sentences, the implications and the
analysis in parts, each citing the facts and notes it rests on; the gates' fixes."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, ValidationInfo, field_validator

from analyst.stages.replies import Strict, check_citations, check_notes


class Fix(Strict):
    """A piece of the synthesis written again after it failed a gate (``stages.gates``)."""

    where: str = Field(description='the piece\'s label, e.g. "implication 2"')
    text: str = Field(min_length=1)


class Fixes(Strict):
    """The reply to the synthesis gates' re-ask."""

    fixes: list[Fix]


# What a piece of the synthesis cites, and whether it is the model's own knowledge.
FactIds = Annotated[
    list[str], Field(description="ids of the facts this rests on, e.g. ['f1', 'f3']")
]
NoteIds = Annotated[
    list[str],
    Field(default_factory=list, description="ids of the notes this rests on, e.g. ['n2']"),
]
Background = Annotated[
    bool,
    Field(
        default=False,
        description="true when this says what the article does not: your own knowledge",
    ),
]


class _Cites(Strict):
    """A piece of the synthesis that cites facts and notes: each id must be one the call
    offered (the validation context's)."""

    @field_validator("facts", check_fields=False)
    @classmethod
    def _known(cls, ids: list[str], info: ValidationInfo) -> list[str]:
        return check_citations(ids, info)

    @field_validator("notes", check_fields=False)
    @classmethod
    def _known_notes(cls, ids: list[str], info: ValidationInfo) -> list[str]:
        return check_notes(ids, info)


class CitedText(_Cites):
    """An implication: a consequence for a party the article names, citing the facts it rests
    on. Naming the party first keeps a small model from restating a fact as a consequence."""

    party: str = Field(min_length=1, description="who it concerns, as the article names them")
    text: str = Field(
        min_length=1,
        description="what follows for them, as words that continue the party's name: "
        "'must now ...', 'stands to ...', 'may ...'",
    )
    facts: FactIds
    notes: NoteIds
    background: Background

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


class Part(_Cites):
    """One part of the analysis, citing the facts it rests on."""

    text: str = Field(
        min_length=1,
        json_schema_extra={"minLength": PART_CHARS[0], "maxLength": PART_CHARS[1]},
    )
    facts: FactIds
    notes: NoteIds
    background: Background


class AnalysisParts(Strict):
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


class Summary(Strict):
    """The reply to the summary call. The summary comes as sentences because small models do not
    keep to a length asked in words: told "about 93 words", the 1.5B model wrote 10 to 40. An
    array's item count is something a server that enforces the schema can hold them to."""

    summary: list[str] = Field(min_length=1, description="the summary's sentences, in order")

    @field_validator("summary", mode="before")
    @classmethod
    def _one_string(cls, value: Any) -> Any:
        # A server that does not enforce the schema may still send the paragraph as one string.
        return [value] if isinstance(value, str) else value


class Interpretation(Strict):
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
