"""Who says what: quotations and their speakers, claims attributed to someone, how a sentence
stands (stated, attributed, forecast, estimate), and where voices disagree.

Rules, not a model, and English ones (other languages get quotations, without speakers):

- a **quotation** is text in quotation marks of four words or more (shorter is a term the
  article marks: "poor"); its speaker is the name or description next to a speech verb beside
  it ("…," said Ravi Menon of the Clean Grid Alliance; Dana Okafor … said "…"; He said: "…"),
  a pronoun standing for the last person named or quoted before it;
- an **attribution** is a sentence that gives its claim to someone without quoting ("according
  to the city's finance office", "the regional grid operator said …", "…, Chen said");
- a speaker's **role** is what the article writes beside the name: a title before it ("City
  finance director Miguel Arroyo"), or an apposition after it ("Dana Okafor, who chairs the
  transportation committee,");
- a **tension** is a sentence that sets itself against another ("However", "but said",
  "argued that", "critics", "voted against", "denied"), with the sentence it answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

Span = tuple[int, int]

_VERBS = (
    "said|says|say|added|adds|told|tells|warned|warns|argued|argues|explained|explains|noted|"
    "notes|insisted|insists|wrote|writes|asked|asks|claimed|claims|stated|states|believes|"
    "believed|estimated|estimates|expects|expected|predicted|predicts|acknowledged|admitted|"
    "conceded|countered|cautioned|suggested|suggests|announced|confirmed|denied|maintained|"
    "stressed|replied|commented|recalled|urged|agreed|continued|concluded|welcomed"
)
_QUOTE = re.compile(r"[\"“”„«»]([^\"“”„«»\n]{2,}?)[\"“”„«»]")
_TITLES = (
    "mr|mrs|ms|miss|dr|prof|professor|sir|dame|lord|lady|president|prime minister|minister|"
    "senator|governor|mayor|judge|general|chancellor|secretary|director|chairman|chairwoman|"
    "chair|chief executive|chief|executive|ceo|cto|cfo|spokesman|spokeswoman|spokesperson|"
    "analyst|economist|member|head|leader|boss|founder|officer|official|manager|councillor|"
    "commissioner|ambassador|coach|captain|inspector|superintendent"
)
_NAME = r"(?:(?:Mr|Mrs|Ms|Dr|Prof|Sir|Dame|Lord)\.?\s+)?[A-Z][\w'’.-]+(?:\s+(?:(?:de|van|von|bin|al|da|di|le|la)\s+)?[A-Z][\w'’-]+){0,3}"
_PRONOUN = r"(?:He|She|They|he|she|they)"
_DESCRIPTION = r"(?:[Tt]he|[Aa]n?|[A-Z][\w'’-]+['’]s)\s+(?:[\w'’-]+\s+){0,5}[\w'’-]+"
_SUBJECT = rf"(?:{_NAME}|{_PRONOUN}|{_DESCRIPTION})"
_AFTER_VERB = re.compile(rf"^\s*[,:]?\s*(?:{_VERBS})\s+(?P<who>{_NAME}|{_DESCRIPTION})", re.M)
_AFTER_SUBJECT = re.compile(rf"^\s*[,:]?\s*(?P<who>{_SUBJECT})\s+(?:{_VERBS})\b")
_BEFORE = re.compile(
    rf"(?P<who>{_SUBJECT})(?:,[^,]{{3,90}},)?\s+(?:{_VERBS})(?:\s+(?:\w+\s+){{0,3}}?(?:that|:))?"
    rf"(?:[^\"“”„«»]{{0,80}})?[:,]?\s*$"
)
_ACCORDING = re.compile(rf"\baccording to (?P<who>{_NAME}|{_DESCRIPTION})")
_ENDING = re.compile(rf",\s*(?P<who>{_NAME}|{_DESCRIPTION})\s+(?:{_VERBS})\s*\.?\s*$")
_SAY = "said|says|added|adds|told|wrote|argued|warned|claimed|explained|noted|insisted"
_ENDING_VERB = re.compile(rf",\s*(?:{_SAY})\s+(?P<who>{_NAME}|{_DESCRIPTION})\s*\.?\s*$")
# The subject of a speech verb early in a sentence: "City finance director Miguel Arroyo told",
# "Northfield's chief executive, Laura Chen, said", "Engineers from the state ... told".
_MIDDLE = re.compile(rf"^(?P<who>[A-Z][^.!?\"“”]{{1,110}}?)\s+(?:{_SAY}|believes|estimated|expects)\b")
_NAME_AT_END = re.compile(rf"(?P<name>{_NAME})\s*,?\s*$")
_OF_ORG = re.compile(r"^\s+of\s+(?:the\s+)?([A-Z][\w'’&-]*(?:\s+[A-Z][\w'’&-]*)*)")
_FORECAST = re.compile(
    r"\b(will|would|expect(?:s|ed)? to|forecasts?|projected|predicts?|is set to|are set to|"
    r"plans? to|planned|scheduled|likely to|could|may|might|is to|are to|aims? to)\b",
    re.IGNORECASE,
)
_ESTIMATE = re.compile(
    r"\b(estimated?|estimates|about|roughly|around|approximately|some \d|nearly|almost|"
    r"up to|an estimated|more than|at least|as many as)\b",
    re.IGNORECASE,
)
_TENSION = re.compile(
    r"^(?:But|However|Yet|Still|Nevertheless|Nonetheless|Meanwhile, critics)\b"
    r"|\bhowever\b|\bcritics?\b|\bopponents?\b|\bargued that\b|\bvoted against\b|\bopposed?\b"
    r"|\bdisputed?\b|\bdenied\b|\bdenies\b|\brejected\b|\bdisagree\w*|\bcontested\b"
    r"|\bbut said\b|\bwelcomed\b.*\bbut\b|\binsisted\b|\bcountered\b|\bdismissed\b"
    r"|\bobject(?:ed|s|ions?)\b|\bcriticis\w+|\bcriticiz\w+|\bsceptic\w*|\bskeptic\w*",
)
_LOWER_START = re.compile(r"^(?:the|a|an)\s", re.IGNORECASE)
_NOT_SPEAKERS = frozenset(
    "it this that there which what these those i we you the a an".split()
)


@dataclass(frozen=True)
class Quotation:
    """A direct quotation and who says it (``None`` when the article does not say)."""

    text: str
    start: int  # the quoted words' span in the article's text (inside the marks)
    end: int
    speaker: str | None
    role: str | None
    sentence: int  # index into the spans given


@dataclass(frozen=True)
class Attribution:
    """A sentence that gives its claim to someone, without quoting."""

    speaker: str
    role: str | None
    start: int  # the sentence's span
    end: int
    sentence: int


@dataclass(frozen=True)
class Tension:
    """A sentence that sets itself against another, and that other sentence."""

    cue: str
    sentence: int  # the disagreeing sentence (index into the spans)
    other: int  # the sentence it answers


def quotations(text: str, spans: Sequence[Span]) -> list[Quotation]:
    """The direct quotations of ``text`` with their speakers, in order."""
    found: list[Quotation] = []
    last_person: str | None = None
    last_role: str | None = None
    line_start = 0
    for line in text.split("\n"):
        for m in _QUOTE.finditer(line):
            words = m.group(1).split()
            start, end = line_start + m.start(1), line_start + m.end(1)
            if len(words) < 4:
                continue  # a term the article marks, not something someone said
            before, after = line[: m.start()], line[m.end() :]
            who = _speaker(before, after)
            if who is not None and re.fullmatch(_PRONOUN, who):
                who, role = last_person, last_role
            else:
                role = _role(text, who, line_start, line) if who else None
            if who is None and _continues(before):
                who, role = last_person, last_role  # a quote in the same paragraph, unnamed
            if who is not None:
                last_person, last_role = who, role
            index = next((i for i, (a, b) in enumerate(spans) if a <= start < b), -1)
            found.append(Quotation(m.group(1), start, end, who, role, index))
        for name in re.findall(rf"(?:{_NAME})(?=\s+(?:{_VERBS})\b)", line):
            if name.split()[0] not in _NOT_SPEAKERS:
                last_person = name
        line_start += len(line) + 1
    return found


def _continues(before: str) -> bool:
    return not before.strip() or before.rstrip().endswith((":", ","))


def _speaker(before: str, after: str) -> str | None:
    """The speaker of a quotation from the words before and after it on its line."""
    for pattern, text in ((_AFTER_VERB, after), (_AFTER_SUBJECT, after)):
        m = pattern.match(text)
        if m and _plausible(m.group("who")):
            return _tidy(m.group("who"))
    m = _BEFORE.search(_last_sentence(before))
    if m and _plausible(m.group("who")):
        return _tidy(m.group("who"))
    return None


def _last_sentence(text: str) -> str:
    """The text after the last sentence end before a quotation (its own sentence)."""
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z\"“])", text)
    return parts[-1] if parts else text


def _plausible(who: str) -> bool:
    first = who.split()[0].lower()
    return first not in _NOT_SPEAKERS or len(who.split()) > 1 and first in ("the", "a", "an")


def _tidy(who: str) -> str:
    who = who.strip(" ,.")
    return re.sub(r"\s+", " ", who)


def _role(text: str, who: str | None, line_start: int, line: str) -> str | None:
    """What the article writes beside the speaker's name: a title before it, or an apposition
    after it, on the name's first mention."""
    if not who or _LOWER_START.match(who):
        return None
    name = re.escape(who)
    at = re.search(name, text)
    if at is None:
        return None
    org = _OF_ORG.match(text[at.end() :])
    if org:
        return org.group(1)
    after = re.match(r",\s*((?:who|the|a|an|head|chief|director|[a-z])[^,.;]{2,90}),", text[at.end() :])
    if after and not re.match(rf"(?:{_VERBS})\b", after.group(1)):
        return after.group(1).strip()
    lead = text[max(0, at.start() - 60) : at.start()]
    before = re.search(
        rf"((?:[A-Z][\w'’-]+['’]s\s+|the\s+|[A-Z][\w-]+\s+)?(?:[\w-]+\s+){{0,2}}"
        rf"(?:{_TITLES})(?:\s+of\s+[\w\s]+?)?),?\s*$",
        lead,
        re.IGNORECASE,
    )
    if before:
        role = before.group(1).strip(" ,")
        role = re.sub(r"^(?:[.!?]\s*)", "", role)
        return role if len(role.split()) <= 8 else None
    return None


def _lower_article(role: str) -> str:
    """"The two members who voted against" reads mid-sentence as "the two members …"."""
    first = role.split(" ", 1)[0]
    return role[:1].lower() + role[1:] if first in ("The", "A", "An") else role


def attributions(text: str, spans: Sequence[Span]) -> list[Attribution]:
    """Sentences that give their claim to someone without quoting, in order."""
    found = []
    last: tuple[str, str | None] | None = None
    known: dict[str, str | None] = {}
    for index, (a, b) in enumerate(spans):
        sentence = text[a:b]
        if _QUOTE.search(sentence) and len(_QUOTE.search(sentence).group(1).split()) >= 4:  # type: ignore[union-attr]
            continue  # a quotation: listed with the quotations
        who = None
        for pattern in (_ACCORDING, _ENDING, _ENDING_VERB):
            m = pattern.search(sentence)
            if m and _plausible(m.group("who")):
                who = m.group("who")
                break
        role = None
        if who is None:
            who, role = _subject(sentence)
        if who is None:
            continue
        if re.fullmatch(_PRONOUN, who):
            if last is None:
                continue
            who, role = last
        who = _tidy(who)
        who = next((k for k in known if k != who and k.endswith(" " + who)), who)  # "Chen"
        role = role or known.get(who) or _role(text, who, a, sentence)
        known.setdefault(who, role)
        last = (who, role)
        found.append(Attribution(who, role, a, b, index))
    return found


def _subject(sentence: str) -> tuple[str | None, str | None]:
    """The speaker of a sentence that opens with one ("X said …"), and a title written before
    the name or set beside it ("Northfield's chief executive, Laura Chen, said")."""
    m = _MIDDLE.match(sentence)
    if m is None:
        return None, None
    prefix = m.group("who").strip(" ,")
    verb = re.search(rf"\s(?:{_VERBS})\b", prefix)
    if verb:
        prefix = prefix[: verb.start()].strip(" ,")  # "Environmental groups welcomed … but said"
    if not prefix or len(prefix.split()) > 14 or re.search(r"\b(?:that|which|because|if|when)\b", prefix):
        return None, None
    apposition = re.match(rf"^(?P<role>[^,]+),\s*(?P<name>{_NAME}(?:\s+and\s+{_NAME})?)$", prefix)
    if apposition:
        return apposition.group("name"), _lower_article(apposition.group("role"))
    named = re.match(rf"^(?P<name>{_NAME}),\s*(?P<role>[^,]+)$", prefix)
    if named:
        return named.group("name"), named.group("role")
    if re.fullmatch(_PRONOUN, prefix):
        return prefix, None
    end = _NAME_AT_END.search(prefix)
    if end and end.start() > 0 and len(end.group("name").split()) >= 2:
        return end.group("name"), _lower_article(prefix[: end.start()].strip(" ,")) or None
    if prefix.split()[0].lower() in _NOT_SPEAKERS and len(prefix.split()) == 1:
        return None, None
    return prefix, None


def standing(sentence: str, attributed_to: str | None) -> str:
    """How a sentence stands: "attributed" (someone's word), "forecast", "estimate" or
    "stated" (the article's own)."""
    if attributed_to:
        return "attributed"
    if _FORECAST.search(sentence):
        return "forecast"
    if _ESTIMATE.search(sentence):
        return "estimate"
    return "stated"


def tensions(text: str, spans: Sequence[Span], sections: Sequence[Span]) -> list[Tension]:
    """Sentences that disagree with another, each with the sentence it answers: the one before
    it in its section (for "However", "But"), else the earlier sentence of the section that
    shares most words with it."""
    from analyst.text.support import content_words

    found = []
    for index, (a, b) in enumerate(spans):
        sentence = text[a:b]
        cue = _TENSION.search(sentence)
        if cue is None:
            continue
        section = next(((s, e) for s, e in sections if s <= a < e), (0, len(text)))
        earlier = [i for i, (x, _) in enumerate(spans[:index]) if section[0] <= x]
        if not earlier:
            continue
        if cue.start() == 0:
            other = earlier[-1]
        else:
            words = content_words(sentence)
            other = max(
                earlier,  # on a tie, the earliest: the section's lead states what is disputed
                key=lambda i: len(words & content_words(text[spans[i][0] : spans[i][1]])),
            )
        found.append(Tension(cue.group(0), index, other))
    return found
