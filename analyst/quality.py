"""Does the proof prove, and does the analysis interpret? Figures of one report, no model needed.

``analyst eval`` reports them per article and overall, and ``benchmarks/proof.py`` over a folder
of reports. Each is measured against the text the report's offsets refer to:

- **unsupported**: facts shown with ✓ whose content words are mostly (over half) absent from the
  sentences their quote stands in (``text.support.overlap`` < 0.5, no stemming: the plain test,
  stricter than nothing and looser than the pipeline's own gate);
- **misattributed**: facts shown with ✓ naming a number or name absent from that passage;
- **extractive**: facts that state their passage because the model's wording failed the gate;
- **copied**: the other facts whose text is their passage nearly word for word (``fuzz.ratio`` of
  the two, case and spacing aside, ≥ 90): supported, but not condensed;
- **invented**: numbers and names in the summary, implications and analysis the article never has;
- **repeated** summary sentences;
- **restated**: sentences of the implications and the analysis that restate a fact or a sentence
  of the article (``stages.gates.restates``: 0.8 of their content words, 5 or more, in one);
- **analysis words**, and whether the analysis has at least 3 sentences and 50 words;
- with ``--who``: **roles** shown and those whose words are mostly absent from their passage
  (the sentence and the one before it; ``overlap`` < 0.5) or that name a name or number the
  passage lacks (**roles unsupported**); **events** shown and those whose date is not written in
  their sentence or cannot be derived from it (**events underived**).
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from analyst.schema import Report
from analyst.stages import gates
from analyst.text import dates
from analyst.text.quotes import absent_names
from analyst.text.support import overlap, passage


@dataclass(frozen=True)
class ProofFigures:
    """The counts of one report."""

    facts: int  # shown as supported (grounded)
    unsupported: int
    misattributed: int
    extractive: int
    copied: int
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


def proof_figures(report: Report, source: str) -> ProofFigures:
    """The figures of ``report`` against ``source``, the text its offsets refer to."""
    shown = [f for f in report.facts if f.grounded and f.start is not None and f.end is not None]
    unsupported = misattributed = copied = 0
    for f in shown:
        around = passage(source, f.start or 0, f.end or 0)
        unsupported += overlap(f.text, around) < 0.5
        misattributed += bool(absent_names(f.text, around))
        plain = " ".join(f.text.lower().split()), " ".join(around.lower().split())
        copied += not f.extractive and fuzz.ratio(*plain) >= 90
    summary = gates.sentences(report.summary)
    interpret = [s for i in report.implications for s in gates.sentences(i.text)]
    interpret += gates.sentences(report.analysis.text)
    invented = sum(len(gates.invented(s, source, names=True)) for s in summary + interpret)
    article_sentences = gates.sentences(source)
    restated = sum(1 for s in interpret if gates.restates(s, report.facts, article_sentences))
    words = len(report.analysis.text.split())
    roles_unsupported = events_underived = 0
    for entity in report.entities:
        for role in entity.roles:
            around = _with_previous(source, role.start, passage(source, role.start, role.end))
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
        invented=invented,
        repeated=len(gates.repeats(summary)),
        interpretive=len(interpret),
        restated=restated,
        analysis_words=words,
        full_analysis=len(gates.sentences(report.analysis.text)) >= gates.ANALYSIS_SENTENCES
        and words >= gates.ANALYSIS_WORDS,
        entities=len(report.entities),
        roles=sum(len(e.roles) for e in report.entities),
        roles_unsupported=roles_unsupported,
        events=len(report.timeline),
        events_underived=events_underived,
    )


def _with_previous(source: str, start: int, around: str) -> str:
    """``around`` with the sentence before ``start`` (a role may name its holder there)."""
    before = passage(source, max(0, start - 2), max(0, start - 1)) if start > 1 else ""
    return f"{before} {around}" if before and before not in around else around


def recall(report: Report, names: list[str]) -> float | None:
    """Of ``names`` (people and organisations an independent reader found), the share that
    appear among the report's entities, by name or alias (either contains the other)."""
    if not names:
        return None
    known = [n.casefold() for e in report.entities for n in (e.name, *e.aliases)]
    found = sum(1 for n in names if any(n.casefold() in k or k in n.casefold() for k in known))
    return found / len(names)
