"""What to watch: the dates an article puts after its own, and what it says is still pending.

A dated item is a time expression ("next spring", "by June", "until 2030", "within six months",
"in April 2027") in a sentence that looks ahead: its date resolves after the article's own date,
or, when the article has none, the sentence speaks of the future ("will", "is expected to",
"plans", "scheduled"; not "since", "last", "ago"). Each is resolved to ISO 8601 at the
precision written where the article's date allows (dateparser, as the timeline does; seasons
and "within N months" here), else kept with its words and no date. A pending item is a
decision or condition the article names ("if voters approve", "must still be ratified", "to be
chosen by June", "yet to decide").

English expressions; in other languages only four-digit years in a sentence that dateparser
cannot place in the past are found (said in the README).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from analyst.text import dates

Span = tuple[int, int]

_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan\\.?|Feb\\.?|Mar\\.?|Apr\\.?|Jun\\.?|Jul\\.?|Aug\\.?|Sept?\\.?|Oct\\.?|Nov\\.?|Dec\\.?"
)
_SEASONS = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}
_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "eighteen": 18,
    "twenty": 20, "few": 3, "several": 3,
}  # fmt: skip
_LEAD = r"(?:in|by|until|till|from|before|after|through|starting|beginning|during|on|for)"
_EDGE = r"(?:early|late|mid-?|the end of|the start of|the beginning of|the middle of|end-)"
_EXPRESSION = re.compile(
    rf"\b(?:{_LEAD}\s+)?(?:{_EDGE}\s*)?"
    rf"(?:(?:the\s+)?(?:first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter\s+of\s+\d{{4}}"
    rf"|(?:{_MONTHS})(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?(?:,?\s+\d{{4}})?"
    rf"|this\s+year\s+and\s+next"
    rf"|(?:next|this|later this|early next|late next|the coming)\s+"
    rf"(?:year|month|week|spring|summer|autumn|fall|winter|quarter|decade)"
    rf"|(?:the\s+)?coming\s+(?:days|weeks|months|years)"
    rf"|(?:next\s+)?(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
    rf"|(?:spring|summer|autumn|fall|winter)\s+(?:of\s+)?\d{{4}}"
    rf"|(?:within|in|over)\s+(?:the\s+next\s+)?(?:\d+|{'|'.join(_NUMBERS)})\s+"
    rf"(?:years?|months?|weeks?|days?)"
    rf"|(?:Q[1-4]\s+)?\d{{4}}(?!\s*(?:%|per|[-–]\d)))\b",
    re.IGNORECASE,
)
_FUTURE = re.compile(
    r"\b(will|would|shall|to be|is to|are to|expect(?:s|ed)?|plan(?:s|ned)?|scheduled|due|"
    r"set to|aims?|intends?|next|until|forecast|projected|projecting|upcoming|coming|later|"
    r"should|could|may|might|must|deadline|targets?|hopes?|hoping|seeks?|wants?|outlook|"
    r"looking ahead|anticipated|continue into)\b",
    re.IGNORECASE,
)
_NOT_AHEAD = re.compile(r"\b(?:than|as) (?:had been |was )?(?:expected|forecast|planned)\b", re.I)
# A verb in the past: "-ed" (not after "be", "been", "has", "have": "has been invited",
# "has called on"), or an irregular past common in news.
_PAST_VERB = re.compile(
    r"(?<!\bbe )(?<!\bbeen )(?<!\bhas )(?<!\bhave )(?<!\bto be )\b[a-z]{2,}(?<!is)(?<!iz)ed\b"
    r"|\b(?:said|told|came|went|met|sold|bought|made|took|gave|saw|rose|fell|won|lost|held|"
    r"began|left|sent|spent|paid|hit|cut|set|put|led|got|grew|became|ran|brought)\b"
)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_PAST = re.compile(r"\b(since|last|ago|earlier|previous(?:ly)?|was|were|had|did)\b", re.I)
_PENDING = re.compile(
    r"\bif\s+(?:\w+\s+){0,4}(?:approve|agree|vote|pass|accept|sign|ratif)\w*"
    r"|\bmust (?:still |first )?be (?:ratified|approved|confirmed|signed|agreed|passed)\b"
    r"|\b(?:still |yet )?to be (?:chosen|decided|approved|announced|named|selected|agreed|"
    r"confirmed|ratified|signed|finalised|finalized|set|determined)\b"
    r"|\bsubject to\b|\bpending\b|\b(?:is|are|remains?) yet to\b|\bha(?:s|ve) (?:yet|not yet) to\b"
    r"|\bha(?:s|ve) not yet\b|\bawait(?:s|ing)\b|\bwill (?:decide|vote|rule)\b"
    r"|\bstill needs?\b|\bneeds? (?:the )?approval\b|\bunless\b|\bto draft\b",
    re.IGNORECASE,
)
_AHEAD = ("by", "until", "till", "next", "within")
_CLAUSE = re.compile(r"[,;:()—–]|\band\b|\bbut\b|\bwhile\b|\bso that\b|\bwhich\b|\bthat\b")


@dataclass(frozen=True)
class Ahead:
    """A dated item or a pending decision, with its sentence."""

    kind: str  # "watch" (dated) or "pending"
    text: str  # the clause that says it
    date_text: str | None  # the expression as written
    date: str | None  # ISO 8601 at its precision, None when it cannot be resolved
    start: int  # the expression's (or the cue's) span in the article's text
    end: int
    sentence: int  # index into the spans given


def find(
    text: str, spans: Sequence[Span], *, base: dt.datetime | None, language: str | None
) -> list[Ahead]:
    """The dated items ahead of ``base`` (the article's date, if known), in date order, and
    the pending items, in the article's order."""
    dated: list[Ahead] = []
    pending: list[Ahead] = []
    english = (language or "en") == "en"
    for index, (a, b) in enumerate(spans):
        sentence = text[a:b]
        previous = None
        for m in _EXPRESSION.finditer(sentence):
            if not english and not re.fullmatch(r"\D*\d{4}", m.group(0)):
                continue
            joined = previous is not None and re.fullmatch(
                r"\s*(?:and|or|to|-|–)\s*", sentence[previous.end() : m.start()]
            )
            previous = m
            if joined:
                continue  # "on Friday and Saturday": one item, dated by its first day
            if re.match(r"\s+[A-Z]", sentence[m.end() :]) and m.group(0).lower() in _WEEKDAYS:
                continue  # "the Sunday Telegraph": a name
            item = _dated(sentence, m, a, index, base, language)
            if item is not None and all(not _overlaps(item, d) for d in dated):
                dated.append(item)
        cue = _PENDING.search(sentence) if english else None
        if cue is not None:
            clause = _clause_of(sentence, cue.start(), cue.end())
            pending.append(
                Ahead("pending", clause, None, None, a + cue.start(), a + cue.end(), index)
            )
    dated.sort(key=lambda d: (d.date is None, d.date or "", d.start))
    return dated + pending


def _overlaps(x: Ahead, y: Ahead) -> bool:
    return x.start < y.end and y.start < x.end


def _dated(
    sentence: str,
    m: re.Match[str],
    offset: int,
    index: int,
    base: dt.datetime | None,
    language: str | None,
) -> Ahead | None:
    expression = m.group(0).strip()
    month = re.search(rf"\b(?:{_MONTHS})", expression, re.IGNORECASE)
    if month and not month.group(0)[0].isupper():
        return None  # "may have developed": a verb, not May
    lead = expression.split()[0].lower()
    if lead in ("since", "last") or re.search(r"\bago\b", sentence[m.end() : m.end() + 6]):
        return None
    before = sentence[max(0, m.start() - 12) : m.start()].lower()
    if re.search(r"\b(since|last|in the|of the|'s)\s*$", before) and not lead.startswith("next"):
        return None
    year_only = re.fullmatch(r"(?:\w+\s+)?(\d{4})", expression)
    if year_only and not (1900 <= int(year_only.group(1)) <= 2200):
        return None
    iso = _resolve(expression, base, language)
    clause = _clause_of(sentence, m.start(), m.end())
    # Whether the sentence looks ahead ("…, BA warned that yields were expected to decline"
    # looks ahead from its first clause); whether the clause of the date tells the past.
    future_words = _FUTURE.search(_NOT_AHEAD.sub(" ", sentence)) is not None
    past_words = _PAST.search(clause) is not None
    weekday = any(d in expression.lower() for d in _WEEKDAYS)
    if weekday and _PAST_VERB.search(sentence) and not _FUTURE.search(clause):
        return None  # "said on Friday", "came into force on Thursday": the week it was told
    if weekday:
        future_words = True  # "the G7 meeting taking place on Friday", no verb of the past
    if base is not None and iso is not None:
        if not _after(iso, base):
            return None
        if not re.search(r"\d{4}", expression) and not future_words and lead not in _AHEAD:
            return None  # "two cold snaps in January forced": a month alone, told in the past
        if past_words and not future_words and lead not in ("until", "by", "next"):
            return None  # "was delayed to March" in a past-tense story
    elif not future_words or (past_words and lead not in ("until", "by")):
        return None
    return Ahead("watch", clause, expression, iso, offset + m.start(), offset + m.end(), index)


def _after(iso: str, base: dt.datetime) -> bool:
    """Whether a date at its precision ends after the article's own day."""
    parts = [int(p) for p in iso.split("-")]
    if len(parts) == 1:
        return parts[0] > base.year
    if len(parts) == 2:
        return (parts[0], parts[1]) > (base.year, base.month)
    return dt.date(*parts) > base.date()


def _resolve(expression: str, base: dt.datetime | None, language: str | None) -> str | None:
    words = expression.lower()
    words = re.sub(rf"^{_LEAD}\s+", "", words)
    words = re.sub(rf"^{_EDGE}\s*", "", words).strip()
    year = re.search(r"\b(\d{4})\b", words)
    if words == "this year and next":
        return str(base.year + 1) if base is not None else None
    if "coming" in words:
        unit = words.split()[-1].rstrip("s")
        return _shift(base, 1, unit) if base is not None else None
    weekday = next((d for d in _WEEKDAYS if d in words), None)
    if weekday:
        if base is None:
            return None
        ahead = (_WEEKDAYS.index(weekday) - base.weekday()) % 7 or 7
        return (base.date() + dt.timedelta(days=ahead + (7 if "next" in words else 0))).isoformat()
    season = next((s for s in _SEASONS if s in words), None)
    if season:
        if year:
            return f"{year.group(1)}-{_SEASONS[season]:02d}"
        if base is None:
            return None
        later = base.year + (1 if "next" in words or _SEASONS[season] <= base.month else 0)
        return f"{later}-{_SEASONS[season]:02d}"
    quarter = re.search(r"(first|second|third|fourth|1st|2nd|3rd|4th|q[1-4])", words)
    if quarter and year:
        q = "first second third fourth".split()
        name = quarter.group(1)
        n = (
            int(name[1])
            if name.startswith("q")
            else (q.index(name) + 1 if name in q else int(name[0]))
        )
        return f"{year.group(1)}-{3 * n - 2:02d}"
    span = re.match(
        r"(?:within|in|over)?\s*(?:the next\s+)?(\w+)\s+(year|month|week|day)s?$", words
    )
    if span and span.group(1) in (*_NUMBERS, *map(str, range(1, 100))):
        if base is None:
            return None
        n = int(span.group(1)) if span.group(1).isdigit() else _NUMBERS[span.group(1)]
        return _shift(base, n, span.group(2))
    if re.fullmatch(r"(?:next|this|later this|early next|late next|the coming)\s+\w+", words):
        if base is None:
            return None
        unit = words.split()[-1]
        if unit in ("year", "decade"):
            return str(base.year + (0 if words.startswith(("this", "later")) else 1))
        if unit == "month":
            return _shift(base, 1, "month")
        if unit == "quarter":
            return _shift(base, 3, "month")
        return _shift(base, 7, "day")
    month = re.match(rf"({_MONTHS})", words, re.IGNORECASE)
    if month and not year and base is not None:
        # "by June" in a November article is next June: dateparser would take this year's.
        found = dates.resolve(month.group(1), base=base, language=language)
        if found is None:
            return None
        y, mo = (int(p) for p in found.iso.split("-")[:2])
        if (y, mo) <= (base.year, base.month):
            y = base.year + 1
        day = re.search(r"\b(\d{1,2})(?:st|nd|rd|th)?\b", words)
        return f"{y}-{mo:02d}" + (f"-{int(day.group(1)):02d}" if day else "")
    if year:
        found = dates.resolve(words, base=base, language=language)
        return found.iso if found is not None else year.group(1)
    return None


def _shift(base: dt.datetime, n: int, unit: str) -> str:
    if unit == "year":
        return str(base.year + n)
    if unit == "month":
        months = base.year * 12 + base.month - 1 + n
        return f"{months // 12}-{months % 12 + 1:02d}"
    days = n * (7 if unit == "week" else 1)
    return (base.date() + dt.timedelta(days=days)).isoformat()


def _clause_of(sentence: str, start: int, end: int) -> str:
    """The clause around ``sentence[start:end]``, as a reader would quote it."""
    left = max((m.end() for m in _CLAUSE.finditer(sentence, 0, start)), default=0)
    right = next((m.start() for m in _CLAUSE.finditer(sentence, end)), len(sentence))
    if len(sentence[left:right].replace(sentence[start:end], " ").split()) < 3:
        # "planned for late 2030" says little alone: take the clause before it too.
        left = max((m.end() for m in _CLAUSE.finditer(sentence, 0, max(left - 1, 0))), default=0)
    clause = sentence[left:right].strip(" .,;:")
    clause = re.sub(
        r"^(?:said|says|told \w+(?: \w+)?|argued|warned|added)\s+(?:that\s+)?", "", clause
    )
    if len(clause.split()) < 4:  # "by June" alone says nothing: take the whole sentence
        clause = sentence.strip(" .")
    return clause
