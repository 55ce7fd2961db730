"""The implications and the AI Analysis composed from the notes and the facts (no model).

On the embedded 1.5B model the prose it wrote restated the article (31 % of its sentences) or
got its numbers wrong; what an analyst adds that can be proved is in the notes. So on the
embedded model (``Settings.analysis == "auto"``, or ``"composed"`` anywhere) each implication
is one note in a sentence — the figures in perspective first, then a disagreement and what is
still undecided — and the analysis has four parts:

- significance: what the strongest computed figures show;
- context: who speaks in the story, and where they disagree;
- uncertainty: how many key facts rest on one party's word, are forecasts or estimates, and
  what is still pending;
- watch: the dates ahead, in order.

Each sentence cites the notes and the facts it rests on, and none is background: nothing here
comes from outside the article. An article that gives nothing of a kind says so in a sentence
("names no date ahead"), rather than filling the part.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence

from analyst.schema import COMPUTED_KINDS, Fact, Note
from analyst.stages.synthesize.replies import AnalysisParts, CitedText, Part
from analyst.text.figures import amount, pct

# The order computed notes are told in: what does not add up first, then the whole and its
# parts, comparisons, changes, rates.
_RANK = {kind: i for i, kind in enumerate(
    ("discrepancy", "sum", "multiple", "before", "change", "whole", "rate", "total", "share")
)}  # fmt: skip
IMPLICATIONS = 5
WATCH = 6  # dated items the analysis lists


def compose(notes: Sequence[Note], facts: Sequence[Fact]) -> tuple[list[CitedText], AnalysisParts]:
    """The implications and the analysis's parts, from ``notes`` and the supported ``facts``."""
    computed = _computed(notes)
    implications: list[CitedText] = []
    for note in computed[1:]:
        implications.append(_cited(_figure(note), [note]))
    tension = next((n for n in notes if n.kind == "tension"), None)
    if tension is not None:
        implications.append(_cited(_disagreement(tension), [tension]))
    for note in [n for n in notes if n.kind == "pending"][:2]:
        implications.append(_cited(f"Not yet settled: {_item(_after_colon(note.text))}.", [note]))
    parts = AnalysisParts.model_construct(
        significance=_significance(computed, facts),
        context=_context(notes),
        uncertainty=_uncertainty(notes, facts),
        watch=_watch(notes),
    )
    return implications[:IMPLICATIONS], parts


def _computed(notes: Sequence[Note]) -> list[Note]:
    """The computed notes worth telling, strongest first; a share already told by its sum's
    note is left out."""
    summed = {(i.start, i.end) for n in notes if n.kind in ("sum", "discrepancy") for i in n.inputs}
    kept = [
        n
        for n in notes
        if n.kind in COMPUTED_KINDS
        and not (n.kind == "share" and all((i.start, i.end) in summed for i in n.inputs))
    ]
    return sorted(kept, key=lambda n: _RANK.get(n.kind, 99))


def _cited(text: str, notes: Sequence[Note], facts: Sequence[str] = ()) -> CitedText:
    ids = list(dict.fromkeys([*facts, *(f for n in notes for f in n.facts)]))
    return CitedText.model_construct(
        party="", text=text, facts=ids, notes=[n.id for n in notes], background=False
    )


def _part(text: str, notes: Sequence[Note], facts: Sequence[str] = ()) -> Part:
    cited = _cited(text, notes, facts)
    return Part.model_construct(text=text, facts=cited.facts, notes=cited.notes, background=False)


def _figure(note: Note) -> str:
    """One computed note as a sentence a reader can check."""
    about = "about " if note.approx else ""
    if note.kind == "sum":
        *parts, whole = note.inputs
        largest = max(parts, key=lambda p: p.value)
        share = 100 * largest.value / whole.value
        listed = " + ".join(amount(p.value, p.unit) for p in parts)
        return (
            f"The figures add up: {listed} = {amount(whole.value, whole.unit)}, and the largest "
            f"part, {amount(largest.value, largest.unit)}, is {about}{pct(share)} of the whole."
        )
    if note.kind == "discrepancy":
        *parts, whole = note.inputs
        total = note.result or 0.0
        gap = amount(abs(whole.value - total), whole.unit)
        return (
            f"The figures do not add up: the parts make {amount(total, whole.unit)}, not the "
            f"{amount(whole.value, whole.unit)} given, a gap of {about}{gap}."
        )
    if note.kind == "multiple":
        return f"Set side by side, {note.text}."
    if note.kind == "change":
        return f"The move {note.text}."
    return _capital(note.text) + "."


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _disagreement(note: Note) -> str:
    if note.speaker:
        return f"Not everyone agrees: {_mid(note.speaker)} {_take([note.speaker])} the other side."
    return "Not everyone agrees: the article sets one view against another."


def _take(sides: Sequence[str]) -> str:
    """ "take" for several ("Paul Brandt and Irene Soto", "Environmental groups"), else "takes"."""
    last = sides[-1].split()[-1] if sides and sides[-1].split() else ""
    plural = len(sides) > 1 or " and " in sides[0] or (last.islower() and last.endswith("s"))
    return "take" if plural else "takes"


def _mid(who: str) -> str:
    """A speaker as written mid-sentence: "The regional grid operator" → "the regional …"."""
    words = who.split()
    # A description ("Engineers from the state …", "The regional grid operator"), not a name.
    described = words[0] in ("The", "A", "An") or (len(words) > 1 and words[1][:1].islower())
    return who[:1].lower() + who[1:] if described else who


def _facts(n: int) -> str:
    """ "eight key facts", "one key fact"."""
    return f"{words(n)} key fact{'s' if n != 1 else ''}"


def words(n: int) -> str:
    """A count the article does not write, in words: the gates hold digits to the article's."""
    from num2words import num2words  # comes with quantulum3

    return str(num2words(n))


def _significance(computed: Sequence[Note], facts: Sequence[Fact]) -> Part:
    if computed:
        first = computed[0]
        text = _figure(first)
        if len(computed) > 1:
            kinds = sorted({n.kind for n in computed}, key=lambda k: _RANK.get(k, 99))
            text += (
                f" In all, {words(len(computed))} figures can be derived from the article's own "
                "numbers "
                f"({', '.join(_KIND_WORDS.get(k, k) for k in kinds)}), each one recomputable from "
                "the sentences it cites."
            )
        else:
            text += " It is the one figure that can be derived from the article's own numbers."
        return _part(text, computed[:3])
    ids = [f.id for f in facts]
    return _part(
        f"The article gives no figures that can be set against each other: its weight is in "
        f"its {_facts(len(facts))}, which carr{'y' if len(facts) != 1 else 'ies'} the story "
        "without numbers to check.",
        [],
        ids[:3],
    )


_KIND_WORDS = {
    "sum": "parts of a whole",
    "discrepancy": "parts that do not add up",
    "share": "shares",
    "multiple": "comparisons",
    "rate": "costs per unit",
    "total": "totals over time",
    "change": "changes",
    "before": "values before a change",
    "whole": "wholes implied by a share",
}


def _context(notes: Sequence[Note]) -> Part:
    voices: dict[str, str | None] = {}
    for n in notes:
        if n.kind in ("quote", "claim") and n.speaker:
            voices.setdefault(n.speaker, n.role)
    speaking = [n for n in notes if n.kind in ("quote", "claim") and n.speaker]
    quotes = sum(1 for n in notes if n.kind == "quote")
    tensions = [n for n in notes if n.kind == "tension"]
    if not voices:
        text = "The article quotes no one and gives no claim to a named source"
        text += (
            ", though it sets one view against another." if tensions else ": it speaks for itself."
        )
        return _part(text, tensions[:1])
    named = [
        f"{_mid(who)} ({role})" if role else _mid(who) for who, role in list(voices.items())[:5]
    ]
    more = " including" if len(voices) > len(named) else ""
    text = (
        f"The story is told through {words(len(voices))} "
        f"source{'s' if len(voices) != 1 else ''}{more}: "
        f"{_join(named)}, with {words(quotes)} direct quotation{'s' if quotes != 1 else ''}."
    )
    if tensions:
        sides = [t.speaker for t in tensions if t.speaker]
        text += (
            f" They do not all agree: {_join([_mid(x) for x in sides[:2]])} "
            f"{_take(sides[:2])} another view."
            if sides
            else " They do not all agree: the article records a view against another."
        )
    return _part(text, [*speaking[:4], *tensions[:1]])


def _uncertainty(notes: Sequence[Note], facts: Sequence[Fact]) -> Part:
    total = len(facts)
    by = {k: [f for f in facts if f.standing == k] for k in ("attributed", "forecast", "estimate")}
    sources = list(dict.fromkeys(f.attributed_to for f in by["attributed"] if f.attributed_to))
    counts = []
    if by["attributed"]:
        n = len(by["attributed"])
        whose = f" ({_join([_mid(x) for x in sources[:3]])})" if sources else ""
        counts.append(f"{words(n)} rest{'s' if n == 1 else ''} on one party's word{whose}")
    if by["forecast"]:
        n = len(by["forecast"])
        counts.append(f"{words(n)} {'is a forecast' if n == 1 else 'are forecasts'}")
    if by["estimate"]:
        n = len(by["estimate"])
        counts.append(f"{words(n)} {'is an estimate' if n == 1 else 'are estimates'}")
    if counts:
        text = f"Of the {_facts(total)}, {_join(counts)}; the rest the article states as its own."
    else:
        said = f"All {_facts(total)} are" if total > 1 else f"{_facts(total).capitalize()} is"
        text = f"{said} stated by the article itself, none given to a source."
    cited = [f.id for k in by.values() for f in k]
    pending = [n for n in notes if n.kind == "pending"]
    if pending:
        items = [_item(_after_colon(n.text)) for n in pending[:2]]
        text += f" Still open: {'; '.join(items)}."
    return _part(text, pending[:2], cited[:6])


def _watch(notes: Sequence[Note]) -> Part:
    dated = [n for n in notes if n.kind == "watch"]
    if not dated:
        return _part("The article names no date ahead of its own to watch.", [])
    items: list[str] = []
    seen: set[tuple[str, str]] = set()
    cited: list[Note] = []
    for n in dated:
        what = _after_colon(n.text)
        if n.date_text:  # the date is said once, before the item
            what = re.sub(rf"\s*{re.escape(n.date_text)}\s*", " ", what).strip(" ,")
        what = _item(what)
        when = _when(n.date) if n.date else (n.date_text or "")
        if (when, what[:20]) in seen or len(items) == WATCH:
            continue
        seen.add((when, what[:20]))
        items.append(f"{when}, {what}")
        cited.append(n)
    text = re.sub(r"\s+([.,;…])", r"\1", f"What to watch: {'; '.join(items)}.")
    return _part(text.replace("….", "…"), cited)


def _when(iso: str) -> str:
    """An ISO date as a reader writes it: "2027-06" → "June 2027"."""
    parts = [int(p) for p in iso.split("-")]
    if len(parts) == 1:
        return str(parts[0])
    month = calendar.month_name[parts[1]]
    return f"{month} {parts[0]}" if len(parts) == 2 else f"{parts[2]} {month} {parts[0]}"


ITEM_WORDS = 7  # an item of a list, not the article's sentence again


def _item(text: str) -> str:
    """A clause of the article as an item of a list: a few words, no dangling preposition or
    quotation mark, in lower case unless it starts with a name."""
    text = re.sub(r"^[\"“”'‘’(\s]+|[\"“”'‘’)\s]+$", "", text)
    text = re.sub(r"^(?:Looking ahead|However|But|And|Yet|Still),?\s+", "", text)
    words = text.split()
    while words and words[-1].lower().strip(",") in _DANGLING:
        words.pop()
    clipped = " ".join(words[:ITEM_WORDS]) + ("…" if len(words) > ITEM_WORDS else "")
    first = clipped.split(" ", 1)[0]
    if first[:1].isupper() and (first.lower() in _COMMON or first.lower().endswith(("ing", "ed"))):
        clipped = clipped[:1].lower() + clipped[1:]
    return clipped


_DANGLING = frozenset("to by in until for from of on at the a an and or".split())
_COMMON = frozenset(
    "the a an it its this these those construction improvements demolition officials "
    "prices sales profits the".split()
)


def _after_colon(text: str) -> str:
    return text.split(": ", 1)[1] if ": " in text else text


def _clip(text: str, words: int) -> str:
    parts = text.rstrip(" .").split()
    return " ".join(parts) if len(parts) <= words else " ".join(parts[:words]) + "…"


def _join(items: Sequence[str]) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    if any(" and " in i for i in items):  # "Paul Brandt and Irene Soto; the finance office"
        return "; ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
