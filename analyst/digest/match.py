"""Which facts of different articles state the same thing, and which contradict: no model.

Each fact becomes a ``Key``: its content words stemmed, with what can differ between two
versions of one statement taken out and kept apart — numbers (in one canonical form: "$1.5bn",
"1.5 billion" and "1,500 million" are one number), dates (years, months, days of a month), role
words ("chief executive", "chairman") and outcome words ("approved" against "rejected"). Two
facts are then weighed on the words left:

- **same**: most words shared (Jaccard ≥ ``SAME_AT``; or one's words nearly all in the other and
  Jaccard ≥ ``CONTAINED_AT``; or 0.7 of the shorter's words in the longer, Jaccard ≥
  ``BETWEEN_AT`` and a name or number in common), and nothing that differs: of each kind of
  number (shares, large amounts, small counts) the one's are among the other's (one may give
  more detail), no other year or day, no other role, no opposite outcome;
- **contradicts**: most words shared, and a number, date, role or outcome that differs on both
  sides — "voted 7-2" against "voted 6-3";
- **between** (Jaccard from ``FLOOR``, a name or a number in common, nothing set apart
  differing): for a model to judge, when one is given; otherwise kept apart;
- **apart** otherwise, or when both name someone and share no name.

Two ways of proposing pairs keep it near-linear, and every pair weighed is returned with its
decision:

- **blocking**: facts sharing two keys (a name, a number, a date or a word); a key held by more
  than ``BLOCK_CAP`` facts is too common to propose pairs (it still counts in the weighing);
- **MinHash LSH** on the words (``LSH_BANDS`` bands of ``LSH_ROWS``): facts whose words are
  mostly shared fall in one bucket with near certainty (Jaccard 0.6: 99 %) however many
  articles state them — a fact 300 outlets report, whose every key is over the cap, is still
  found. Hashes are CRC32s, so a digest is the same from run to run.
"""

from __future__ import annotations

import itertools
import re
import zlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from analyst.text.carries import content_words, stem
from analyst.text.quotes import STOP

SAME_AT = 0.6
CONTAINED_AT = 0.4
BETWEEN_AT = 0.35
FLOOR = 0.25  # pairs below are not recorded: nothing about them was close
BLOCK_CAP = 64
LSH_BANDS, LSH_ROWS = 20, 3
SMALL_BUCKET = 16  # a bucket this size or smaller proposes every pair of its facts
STAR = 8  # in a larger one, each fact is paired with the first STAR facts and the one before
PAIRS_PER_FACT = 32  # pairs a fact proposes by blocking, the most keys shared first
_MASKS = [zlib.crc32(f"analyst-lsh-{n}".encode()) for n in range(LSH_BANDS * LSH_ROWS)]

Outcome = Literal["same", "contradicts", "between", "apart"]

_SCALE = {
    "k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "bn": 1e9, "b": 1e9,
    "billion": 1e9, "tn": 1e12, "trillion": 1e12,
}  # fmt: skip
_NUMBER = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?"
    r"(?:\s?(%|per ?cent\b|percent\b|k\b|thousand\b|mn\b|m\b|million\b|bn\b|b\b|billion\b"
    r"|tn\b|trillion\b))?",
    re.IGNORECASE,
)
_MONTHS = {
    m: i
    for i, names in enumerate(
        (
            "january jan", "february feb", "march mar", "april apr", "may", "june jun",
            "july jul", "august aug", "september sep sept", "october oct", "november nov",
            "december dec",
        ),
        start=1,
    )
    for m in names.split()
}  # fmt: skip
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DAY_MONTH = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH})\b\.?|\b({_MONTH})\b\.?\s+(\d{{1,2}})\b",
    re.IGNORECASE,
)
_MONTH_WORD = re.compile(rf"\b({_MONTH})\b", re.IGNORECASE)
_ROLE_WORDS = frozenset(
    "ceo cto cfo coo chairman chairwoman chair chief executive president vice minister director "
    "secretary governor spokesman spokeswoman spokesperson head founder cofounder co-founder "
    "manager leader deputy senior chancellor premier mayor senator judge general commissioner "
    "partner owner economist analyst scientist professor editor treasurer vice acting interim "
    "former".split()
)
# Outcome words by family, each with its sign: two facts alike but for opposite signs disagree.
_OUTCOMES = {
    "approve": ("vote", 1), "approved": ("vote", 1), "pass": ("vote", 1), "passed": ("vote", 1),
    "reject": ("vote", -1), "rejected": ("vote", -1), "block": ("vote", -1),
    "blocked": ("vote", -1), "veto": ("vote", -1), "vetoed": ("vote", -1),
    "rise": ("move", 1), "rose": ("move", 1), "risen": ("move", 1), "increase": ("move", 1),
    "increased": ("move", 1), "grew": ("move", 1), "grow": ("move", 1), "up": ("move", 1),
    "gain": ("move", 1), "gained": ("move", 1), "higher": ("move", 1), "climb": ("move", 1),
    "climbed": ("move", 1), "fall": ("move", -1), "fell": ("move", -1), "fallen": ("move", -1),
    "decrease": ("move", -1), "decreased": ("move", -1), "drop": ("move", -1),
    "dropped": ("move", -1), "down": ("move", -1), "lower": ("move", -1),
    "declined": ("move", -1), "shrank": ("move", -1), "profit": ("result", 1),
    "loss": ("result", -1), "win": ("contest", 1), "won": ("contest", 1),
    "lose": ("contest", -1), "lost": ("contest", -1), "accept": ("answer", 1),
    "accepted": ("answer", 1), "agreed": ("answer", 1), "refused": ("answer", -1),
    "declined to": ("answer", -1), "confirmed": ("claim", 1), "denied": ("claim", -1),
}  # fmt: skip
_NAME = re.compile(r"(?<![\w])[A-Z][\w'’-]+")
_WORD = re.compile(r"[\w'’-]+")


@dataclass(frozen=True, slots=True)
class Key:
    """A fact as the matching sees it."""

    id: str  # "a1/f3"
    article: str
    words: frozenset[str]
    numbers: frozenset[str]
    dates: frozenset[str]
    roles: frozenset[str]
    outcomes: frozenset[tuple[str, int]]
    names: frozenset[str]

    @property
    def blocks(self) -> set[str]:
        """What two facts that could be one must share (two of them)."""
        return {
            *(f"w:{w}" for w in self.words),
            *(f"n:{n}" for n in self.numbers),
            *(f"d:{d}" for d in self.dates),
            *(f"p:{p}" for p in self.names),
        }


# A quotation of four words or more: what two outlets quote of one speaker often differs while
# the sentence around it says the same (who, in what role, said something).
_QUOTED = re.compile(r"[\"“”„«»]([^\"“”„«»\n]{2,}?)[\"“”„«»]")


def key(fact_id: str, article: str, text: str) -> Key:
    """``text`` taken apart for matching; a long quotation is left out of it when the sentence
    around it still says enough (six content words): facts are whole sentences now, and
    "Dana Okafor, vice chair of the committee, said "…"" against "Dana Okafor, who chairs the
    committee, said "…"" is a role that differs, not two unrelated facts."""
    dates: set[str] = set()
    plain = text
    framed = _QUOTED.sub(lambda m: " " if len(m.group(1).split()) >= 4 else m.group(0), text)
    if framed != text and len(content_words(framed)) >= 6:
        plain = framed

    def day_month(m: re.Match[str]) -> str:
        day, month = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        dates.add(f"{_MONTHS[month.casefold()]:02d}-{int(day):02d}")
        return " "

    plain = _DAY_MONTH.sub(day_month, plain)
    for m in _MONTH_WORD.finditer(plain):
        word = m.group(1)
        if word[0].isupper() or len(word) > 3:  # "may" the verb is not a month
            dates.add(f"{_MONTHS[word.casefold()]:02d}")
    plain = _MONTH_WORD.sub(" ", plain)
    numbers: set[str] = set()

    def number(m: re.Match[str]) -> str:
        whole, decimals, unit = m.group(1), m.group(2), (m.group(3) or "").casefold()
        value = float(whole.replace(",", "") + ("." + decimals if decimals else ""))
        if not unit and not decimals and "," not in whole and 1800 <= value <= 2100:
            dates.add(str(int(value)))
            return " "
        if unit in ("%", "percent", "per cent", "percent"):
            numbers.add(f"{value:g}%")
        else:
            numbers.add(_readable(value * _SCALE.get(unit.replace(" ", ""), 1.0)))
        return " "

    plain = _NUMBER.sub(number, plain)
    lowered = plain.casefold()
    tokens = _WORD.findall(lowered)
    roles = {stem(t) for t in tokens if stem(t) in _ROLE_WORDS}  # "chairs" is "chair"
    outcomes = {_OUTCOMES[t] for t in tokens if t in _OUTCOMES}
    if "declined to" in lowered:
        outcomes.add(("answer", -1))
    words = {
        stem(w)
        for w in content_words(plain)
        if stem(w) not in _ROLE_WORDS and w not in _OUTCOMES and not w.isdigit()
    }
    # Names: capitalised words, but not the first (a sentence capitalises it whatever it is).
    begins = len(plain) - len(plain.lstrip())
    names = {
        re.sub(r"['’]s$", "", m.group(0)).casefold()
        for m in _NAME.finditer(plain)
        if m.start() != begins
    } - STOP
    return Key(
        fact_id,
        article,
        frozenset(words),
        frozenset(numbers),
        frozenset(dates),
        frozenset(roles),
        frozenset(outcomes),
        frozenset(names),
    )


def _readable(value: float) -> str:
    """One canonical and readable form of a number: 412 million, 1.5 billion, 7."""
    for size, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if value >= size:
            return f"{value / size:g} {word}"
    return f"{value:g}"


@dataclass(frozen=True, slots=True)
class Pair:
    """Two facts weighed, and what the rules make of them."""

    a: Key
    b: Key
    score: float  # Jaccard of their words
    outcome: Outcome
    kind: str  # for contradicts: number, date, role, outcome
    reason: str


def weigh(a: Key, b: Key) -> Pair:
    """The rules' decision on two facts."""
    inter = len(a.words & b.words)
    union = len(a.words | b.words) or 1
    score = inter / union
    contained = inter / (min(len(a.words), len(b.words)) or 1)
    if a.names and b.names and not (a.names & b.names):
        return Pair(a, b, score, "apart", "", "they name different people or organisations")
    shares = bool(a.names & b.names or a.numbers & b.numbers)
    alike = (
        score >= SAME_AT
        or (contained >= 0.85 and score >= CONTAINED_AT)
        # One article's sentence often carries more detail than the other's: most of the
        # shorter one's words, and a name or number in common.
        or (contained >= 0.7 and score >= BETWEEN_AT and shares)
    )
    if not alike:
        # Two outlets' sentences on one event often each carry details the other lacks: when
        # they share a name or a number and nothing set apart differs, a model may judge.
        if score >= FLOOR and shares and _difference(a, b) is None:
            return Pair(a, b, score, "between", "", f"words {score:.2f} alike, nothing differs")
        return Pair(a, b, score, "apart", "", f"words {score:.2f} alike")
    differs = _difference(a, b)
    if differs:
        kind, reason = differs
        return Pair(a, b, score, "contradicts", kind, reason)
    return Pair(a, b, score, "same", "", f"words {score:.2f} alike, nothing differs")


def _difference(a: Key, b: Key) -> tuple[str, str] | None:
    """What two alike facts disagree on, if anything."""
    for kind in ("%", "large", "small"):
        # Numbers of one kind only: "$412 million" does not contradict "voted 7-2".
        mine = {n for n in a.numbers if _magnitude(n) == kind}
        theirs = {n for n in b.numbers if _magnitude(n) == kind}
        if mine and theirs and not (mine <= theirs or theirs <= mine):
            shown = ", ".join(sorted(mine - theirs)), ", ".join(sorted(theirs - mine))
            return "number", f"{shown[0]} against {shown[1]}"
    if a.dates and b.dates and not (a.dates <= b.dates or b.dates <= a.dates):
        x, y = sorted(a.dates - b.dates), sorted(b.dates - a.dates)
        return "date", f"{', '.join(x)} against {', '.join(y)}"
    if a.roles and b.roles and a.roles != b.roles:
        return "role", f"{' '.join(sorted(a.roles))} against {' '.join(sorted(b.roles))}"
    families = {f for f, _ in a.outcomes} & {f for f, _ in b.outcomes}
    for family in sorted(families):
        signs_a = {s for f, s in a.outcomes if f == family}
        signs_b = {s for f, s in b.outcomes if f == family}
        if len(signs_a) == 1 and len(signs_b) == 1 and signs_a != signs_b:
            return "outcome", f"opposite outcomes ({family})"
    return None


def _magnitude(number: str) -> str:
    """A number's kind: a share, a large amount (a thousand or more), or a small count."""
    if number.endswith("%"):
        return "%"
    return "large" if " " in number or float(number) >= 1000 else "small"


def candidates(keys: Sequence[Key]) -> list[tuple[int, int]]:
    """Pairs of facts of different articles that share two blocking keys."""
    postings: dict[str, list[int]] = defaultdict(list)
    blocks = [k.blocks for k in keys]
    for i, held in enumerate(blocks):
        for b in held:
            postings[b].append(i)
    pairs: list[tuple[int, int]] = []
    for i, held in enumerate(blocks):
        shared: Counter[int] = Counter()
        for b in held:
            posting = postings[b]
            if len(posting) <= BLOCK_CAP:
                shared.update(j for j in posting if j > i)
        article = keys[i].article
        # The facts sharing most keys, at most PAIRS_PER_FACT of them: a fact of a beat that
        # shares two keys with thousands of others proposes a bounded number of pairs.
        best = [
            j
            for j, n in sorted(shared.items(), key=lambda x: (-x[1], x[0]))
            if n >= 2 and keys[j].article != article
        ]
        pairs += [(i, j) for j in best[:PAIRS_PER_FACT]]
    found = set(pairs)
    for bucket in _buckets(keys):
        found.update(_bucket_pairs(bucket, keys))
    return sorted(found)


def _bucket_pairs(bucket: list[int], keys: Sequence[Key]) -> list[tuple[int, int]]:
    """The pairs an LSH bucket proposes: every pair of a small bucket; in a large one (a beat's
    look-alike facts: 1,000 of them made 500,000 pairs) each fact with the bucket's first
    ``STAR`` facts and the one before it — merging is transitive, so one statement told a
    thousand times still becomes one digest fact, from a number of pairs linear in the bucket."""
    if len(bucket) <= SMALL_BUCKET:
        links = [(i, j) for x, i in enumerate(bucket) for j in bucket[x + 1 :]]
    else:
        links = [(bucket[s], j) for s in range(STAR) for j in bucket[s + 1 :]]
        links += list(itertools.pairwise(bucket))
    return [(min(i, j), max(i, j)) for i, j in links if keys[i].article != keys[j].article]


def _buckets(keys: Sequence[Key]) -> list[list[int]]:
    """Facts by LSH band: those in one bucket agree on a band's ``LSH_ROWS`` min-hashes."""
    crc: dict[str, int] = {}
    buckets: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for i, k in enumerate(keys):
        if len(k.words) < LSH_ROWS:
            continue  # too few words to hash; blocking proposes its pairs
        hashed = [crc.setdefault(w, zlib.crc32(w.encode())) for w in k.words]
        mins = [min(h ^ mask for h in hashed) for mask in _MASKS]
        for band in range(LSH_BANDS):
            rows = mins[band * LSH_ROWS : (band + 1) * LSH_ROWS]
            buckets[(band, *rows)].append(i)
    return [b for b in buckets.values() if len(b) > 1]


def weigh_all(keys: Sequence[Key]) -> list[Pair]:
    """Every candidate pair with its decision (pairs under ``FLOOR`` left out)."""
    found = []
    for i, j in candidates(keys):
        pair = weigh(keys[i], keys[j])
        if pair.score >= FLOOR or pair.outcome != "apart":
            found.append(pair)
    return found
