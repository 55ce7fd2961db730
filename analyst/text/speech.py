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
_NAME = (
    r"(?:(?:Mr|Mrs|Ms|Dr|Prof|Sir|Dame|Lord)\.?\s+)?[A-Z][\w'’.-]+"
    r"(?:\s+(?:(?:de|den|der|du|del|della|van|von|bin|al|da|di|dos|le|la)\s+)?[A-Z][\w'’-]+){0,3}"
)
_PRONOUN = r"(?:He|She|They|he|she|they)"
_DESCRIPTION = r"(?:[Tt]he|[Aa]n?|[A-Z][\w'’-]+['’]s)\s+(?:[\w'’-]+\s+){0,5}[\w'’-]+"
_ACCORDING = re.compile(rf"\baccording to (?P<who>{_NAME}|{_DESCRIPTION})")
_ENDING = re.compile(rf",\s*(?P<who>{_NAME}|{_DESCRIPTION})\s+(?:{_VERBS})\s*\.?\s*$")
_SAY = "said|says|added|adds|told|wrote|argued|warned|claimed|explained|noted|insisted"
_ENDING_VERB = re.compile(rf",\s*(?:{_SAY})\s+(?P<who>{_NAME}|{_DESCRIPTION})\s*\.?\s*$")
# The subject of a speech verb early in a sentence: "City finance director Miguel Arroyo told",
# "Northfield's chief executive, Laura Chen, said", "Engineers from the state ... told".
_MIDDLE = re.compile(
    rf"^(?P<who>[A-Z][^.!?\"“”]{{1,110}}?)\s+(?:{_SAY}|believes|estimated|expects)\b"
)
_NAME_AT_END = re.compile(rf"(?P<name>{_NAME})\s*,?\s*$")
_OF_ORG = re.compile(r"^\s+of\s+(?:the\s+)?([A-Z][\w'’&-]*(?:\s+[A-Z][\w'’&-]*)*)")
_LOWER_START = re.compile(r"^(?:the|a|an)\s", re.IGNORECASE)
_NOT_SPEAKERS = frozenset("it this that there which what these those i we you the a an".split())


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


def quotations(text: str, spans: Sequence[Span]) -> list[Quotation]:
    """The direct quotations of ``text`` with their speakers, in order."""
    found: list[Quotation] = []
    last: tuple[str | None, str | None] = (None, None)  # the person last quoted or named
    known: dict[str, str | None] = {}
    line_start = 0
    for line in text.split("\n"):
        quoted = [m for m in _QUOTE.finditer(line) if len(m.group(1).split()) >= 4]
        # The line's own speaker: a speech verb outside the quotation marks, and the name
        # beside it ("…," said X; X said "…"; He added: "…").
        bare = _QUOTE.sub(lambda m: '"' + "q" * (len(m.group(0)) - 2) + '"', line)
        speaker: str | None = None
        for m in quoted:
            start, end = line_start + m.start(1), line_start + m.end(1)
            who, said = _resolve(_line_speaker(_sentence_around(bare, m.start(), m.end())), last)
            if who is None and _continues(line[: m.start()]):
                who, said = last  # a paragraph that goes on quoting the last speaker
            if who is not None:
                who = next(
                    (k for k in known if k != who and k.endswith(" " + who.split()[-1])), who
                )
                said = said or known.get(who) or _role(text, who, line_start, line)
                last, speaker = (who, said), who
                known.setdefault(who, said)
            index = next((i for i, (a, b) in enumerate(spans) if a <= start < b), -1)
            found.append(Quotation(m.group(1), start, end, who, said, index))
        if speaker is None:
            named = _resolve(_line_speaker(bare), last) if not quoted else (None, None)
            person = named if named[0] else _person_named(bare)
            if person is not None and person[0] is not None:
                last = (person[0], person[1])
                known.setdefault(person[0], person[1])
        line_start += len(line) + 1
    return found


def _resolve(
    found: tuple[str | None, str | None], last: tuple[str | None, str | None]
) -> tuple[str | None, str | None]:
    """A pronoun stands for the last person named or quoted."""
    who, role = found
    if who is not None and re.fullmatch(_PRONOUN, who):
        return last
    return who, role


def _sentence_around(bare: str, start: int, end: int) -> str:
    """The sentence of a line that holds a quotation (quotations masked, so their own full
    stops do not count)."""
    left = max((m.end() for m in re.finditer(r"[.!?]\s+", bare[:start])), default=0)
    right = re.search(r"[.!?](?:\s|$)", bare[end:])
    return bare[left : end + right.end() if right else len(bare)]


def _continues(before: str) -> bool:
    return not before.strip() or before.rstrip().endswith((":", ","))


_SPEECH = re.compile(
    rf"\b(?:{_VERBS}|calls|called|described|describes|reported|found|attacked|criticised|"
    r"criticized|branded|dismissed)\b"
)
_NAME_RUN = re.compile(_NAME)
_COMMON_CAPITALS = frozenset(
    "on in at the but however last this that it its while when after before as and for "
    "monday tuesday wednesday thursday friday saturday sunday january february march april "
    "may june july august september october november december".split()
)


def _line_speaker(line: str) -> tuple[str | None, str | None]:
    """The speaker of a line's quotations (their text masked), and a role written beside them.

    The speech verb outside the quotation marks decides: after it, the last name before a
    comma ("said Moscow-based US lawyer Jamie Firestone, who …"); before it, the last name
    of the words that lead to it ("BA chairman Martin Broughton said"), else a description
    ("the report") or a pronoun, which the caller resolves."""
    for verb in _SPEECH.finditer(line):
        if line[: verb.start()].count('"') % 2:
            continue  # inside a quotation
        lead = line[: verb.start()]
        lead = lead[lead.rfind('"') + 1 :] if '"' in lead else lead
        lead = re.split(r"[.;!?]\s", lead)[-1].strip(" ,:")
        if re.search(rf"(?:^|\s){_PRONOUN}$", lead):
            return lead.split()[-1], None  # "…, he said": whoever was named before
        relative = re.search(r",?\s*(?:which|who)(?:\s+(?:has|have|had))?$", lead)
        if relative:
            # "the International Air Transport Association (IATA), which has attacked …"
            antecedent = re.sub(r"\s*\([^)]*\)\s*$", "", lead[: relative.start()])
            who, role = _name_in(antecedent.strip(), last=True)
            if who:
                return who, role
        # "Nick Van den Brul of BNP Paribas described": the speaker, not the employer.
        lead = re.split(r"\s+(?:of|at|from|for)\s+(?=[A-Z])", lead)[0]
        tail = re.split(
            r'[,.;:"(]|\s(?:who|which|of|at|from|in|to)\s', line[verb.end() :], maxsplit=1
        )[0]
        next_to = re.search(rf"(?:^|,)\s*(?P<name>{_NAME})\s*$", lead)
        if next_to and len(next_to.group("name").split()) >= 2:
            return _name_in(next_to.group("name"), last=True)  # "…, Ms Diemont says"
        candidates = (lead, tail) if lead else (tail,)
        for phrase in candidates:
            # "On Wednesday, Jacques Barrot, vice president of …, said": the name the commas
            # set apart; without commas, the name next to the verb.
            who, role = _name_in(phrase.strip(), last="," not in phrase)
            if who:
                return who, role
        described = re.search(r"(?:^|\s)((?:[Tt]he|[Aa]n?)\s+[\w'’-]+(?:\s+[\w'’-]+){0,4})$", lead)
        if described:
            return described.group(1), None
    return None, None


def _name_in(phrase: str, *, last: bool) -> tuple[str | None, str | None]:
    """The name in ``phrase`` (the last run of capitalised words, two or more, or a title and
    a surname; a lone capitalised word only when it is all the phrase has), and the words
    written before it as its role ("economy minister Heizo Takenaka")."""
    runs = [
        m
        for m in _NAME_RUN.finditer(phrase)
        if m.group(0).split()[0].casefold() not in _COMMON_CAPITALS
        and not m.group(0).endswith(("'s", "’s"))
    ]
    people = [m for m in runs if len(m.group(0).split()) >= 2]
    if not people and len(runs) == 1 and len(phrase.split()) <= 2:
        people = runs
    if not people:
        return None, None
    m = people[-1] if last else people[0]
    before = phrase[: m.start()].strip(" ,")
    titled = len(before.split()) <= 8 and before[:1].islower() or "'s " in before
    return _tidy(m.group(0)), (before if before and titled else None)


def _person_named(line: str) -> tuple[str, str | None] | None:
    """A person a sentence without quotations names with a role, as the one a later "he"
    means: "Aviation analyst Nick Van den Brul of BNP Paribas described …", "The BBC's
    correspondent in Jakarta, Rachel Harvey, told …"."""
    who, role = _subject(line)
    if who and re.fullmatch(_NAME, who) and len(who.split()) >= 2:
        return who, role
    # A title in lower case before a name: "aviation analyst Nick Van den Brul".
    title = re.search(rf"\b(?:{_TITLES})\s+(?P<name>{_NAME})", line)
    if title and len(title.group("name").split()) >= 2:
        return _tidy(title.group("name")), None
    return None


def _tidy(who: str) -> str:
    who = who.strip(" ,.")
    return re.sub(r"\s+", " ", who)


def _plausible(who: str) -> bool:
    first = who.split()[0].lower()
    return first not in _NOT_SPEAKERS or len(who.split()) > 1 and first in ("the", "a", "an")


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
    after = re.match(
        r",\s*((?:who|the|a|an|head|chief|director|[a-z])[^,.;]{2,90}),", text[at.end() :]
    )
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
    """ "The two members who voted against" reads mid-sentence as "the two members …"."""
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
    # "Yet aviation analyst …", "However, it said": a connective is nobody.
    prefix = re.sub(
        r"^(?:Yet|But|However|And|So|Also|Meanwhile|Still|Now|Separately),?\s+", "", prefix
    )
    if (
        not prefix
        or len(prefix.split()) > 14
        or re.search(r"\b(?:that|which|because|if|when)\b", prefix)
    ):
        return None, None
    if re.search(
        r"\d|\b(?:is|are|was|were|has|have|had|will|would|it|its|they)\b|,\s*and\b", prefix
    ):
        return None, None  # "BA's profits were still better than …, and it expects": a clause
    # "Mike Powell of Dresdner Kleinwort Wasserstein says": the person, of the organisation.
    of = re.match(
        r"^(?P<lead>.*?)\s+of\s+(?P<org>(?:the\s+)?[A-Z][\w'’&-]*(?:\s+[A-Z][\w'’&-]*)*)$", prefix
    )
    if of and _NAME_AT_END.search(of.group("lead")):
        name = _NAME_AT_END.search(of.group("lead"))
        if name is not None and len(name.group("name").split()) >= 2:
            title = of.group("lead")[: name.start()].strip(" ,")
            role = f"{title} of {of.group('org')}".strip() if title else of.group("org")
            return name.group("name"), _lower_article(
                role[:1].lower() + role[1:] if title else role
            )
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
    if prefix.split()[0].lower() in _NOT_SPEAKERS | _COMMON_CAPITALS and len(prefix.split()) == 1:
        return None, None
    return prefix, None


_ACCORDING_END = re.compile(rf",\s*according to (?:{_NAME}|{_DESCRIPTION})\s*\.?\s*$")


def without_attribution(sentence: str) -> str | None:
    """The sentence less a trailing attribution ("The repairs will cost £600m, the council
    said." → "The repairs will cost £600m."), or None where it has none, or is a quotation
    (whose speaker's words are the point), or would keep fewer than five words."""
    quoted = _QUOTE.search(sentence)
    if quoted and len(quoted.group(1).split()) >= 4:
        return None
    for pattern in (_ENDING, _ENDING_VERB, _ACCORDING_END):
        m = pattern.search(sentence)
        if m is None or ("who" in m.groupdict() and not _plausible(m.group("who"))):
            continue
        kept = sentence[: m.start()].rstrip(" ,;:")
        if len(kept.split()) < 5:
            return None
        return kept + "."
    return None
