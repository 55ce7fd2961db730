"""The deterministic checks of who's who (``stages.who``): which sentence proves a role, a
relation or a dated event, and which entity a name is.

- a role: a sentence that names its holder and holds the role's words (``ROLE_SUPPORT`` of them
  stemmed, ``PLAIN_SUPPORT`` as written, every name and number), with the role's words nearer the
  holder than any other entity's name; a person's title is never an organisation's;
- a relation: a sentence that names both ends and holds a word of its kind (``CUES``), between
  kinds of entity it can join (``ENDS``);
- an event: a sentence that writes its date and states it, the date derived by
  ``analyst.text.dates`` (stated, or resolved against the article's own date).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from analyst.article import Kind
from analyst.schema import Entity, Event, Relation, RelationKind, Role
from analyst.stages.context import Context
from analyst.stages.who.replies import WhoWhen
from analyst.text import dates
from analyst.text.carries import content_words, overlap, stemmed_overlap
from analyst.text.quotes import absent_names
from analyst.text.sentences import Sentence

ROLE_SUPPORT = 0.6
PLAIN_SUPPORT = 0.5  # analyst.evaluation.proof's own test of a role
NEAR = 60  # characters between a role's words and its holder's name, at most
LINK = 100  # characters between the two names a relation joins, at most

# Words one of which a sentence must hold to state a relation (casefolded word beginnings): the
# names of both ends are not enough ("Lin left Alibaba" and "Lin joined Alibaba" name the same).
_CUE_WORDS: dict[RelationKind, str] = {
    "leads": "lead head chief ceo cto cfo coo chair president director manag run oversee "
    "oversaw boss founder executive control charge command govern",
    "works for": "work employ scientist engineer research staff member official spokes "
    "analyst executive minister officer senior former adviser advisor director manag join "
    "hired player coach reporter editor chief head ceo cto lead",
    "joins": "join hire recruit appoint arriv bring brought named move sign elect promot "
    "replac succeed",
    "leaves": "leav left resign depart quit step exit fired sack oust retir dismiss replac succeed",
    "owns": "own acquir bought buy purchas subsidiar parent unit stake division takeover arm merg",
    "competes with": "compet rival race against challeng battle contest beat versus vs fight "
    "behind ahead",
    "partners with": "partner allian deal agree collaborat joint together work team back "
    "support sign contract cooperat",
}
CUES = {kind: words.split() for kind, words in _CUE_WORDS.items()}
# Which kinds of entity each relation may join, subject then object: a place leads no one ("US
# President Bush" is not "the US leads Bush"), and only a person works for someone.
_ANY = ("person", "organisation", "product", "place")
ENDS: dict[RelationKind, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "leads": (("person", "organisation"), ("organisation", "place", "product")),
    "works for": (("person",), ("organisation", "place", "person")),
    "joins": (("person", "organisation"), ("organisation",)),
    "leaves": (("person", "organisation"), ("organisation",)),
    "owns": (("person", "organisation"), ("organisation", "product", "place")),
    "competes with": (_ANY, _ANY),
    "partners with": (("person", "organisation", "place"), ("person", "organisation", "place")),
}
# Titles only a person holds: on an organisation, a place or a product such a role is one the
# model moved from the person named beside it (the 1.5B model gave a bank "deputy chief
# economist").
PERSON_TITLE = re.compile(
    r"\b(?:chief|ceo|cto|cfo|coo|economist|analyst|minister|chair(?:man|woman)?|president|"
    r"director|head|leader|spokes(?:man|woman|person)|secretary|governor|scientist|founder|"
    r"manager|officer|editor|professor|senator|mayor|chancellor|boss|strategist|executive|"
    r"host|deputy)\b",
    re.IGNORECASE,
)


def is_alias(alias: str, name: str) -> bool:
    """A name for the same one ("Lin" for "Lin Junyang", "OpenAI"), not a description ("Qwen AI
    team leader"): it shares a word with the name, or every word of it is capitalised."""
    shared = set(alias.casefold().split()) & set(name.casefold().split())
    return bool(shared) or all(w[:1].isupper() or not w[:1].isalpha() for w in alias.split())


def same_role(a: str, b: str) -> bool:
    """Two roles that say the same ("CTO of Alibaba Cloud", "Alibaba Cloud CTO")."""
    return stemmed_overlap(a, b) == 1.0 and stemmed_overlap(b, a) == 1.0


def best_sentence(
    ctx: Context,
    cited: int,
    claim: str,
    needed: Sequence[str],
    *,
    names: bool,
    rivals: Sequence[str] = (),
    plain: bool = False,
    names_anywhere: bool = False,
) -> Sentence | None:
    """The sentence that contains one of ``needed`` and states ``claim`` best (the one nearest
    the cited number among equals), or None. With ``rivals`` (the other entities' names), the
    claim's words must also stand nearer one of ``needed`` than any rival: in "Eddie Wu approved
    the resignation of Lin Junyang, the leader of the Qwen AI team", the leader is Lin."""
    text = ctx.article.text
    best: tuple[float, int, Sentence] | None = None
    for sentence in ctx.sentences:
        words = text[sentence.start : sentence.end]
        flat = " ".join(words.split()).casefold()
        if not any(" ".join(n.split()).casefold() in flat for n in needed):
            continue
        score = stemmed_overlap(claim, words)
        # With ``plain`` (a role), both word tests: the stemmed one (the support gate's) and the
        # plain one, so that a role is in its sentence's own words ("host" is not how "hosted
        # by" reads). An event says what happened in a few words of its own.
        if score < ROLE_SUPPORT or (plain and overlap(claim, words) < PLAIN_SUPPORT):
            continue
        # A role's names must be in its sentence. An event's summary may name a party as the
        # article does elsewhere ("Alibaba Group" where the sentence says "Alibaba's"): its
        # names must be in the article, its date and words in the sentence.
        if absent_names(claim, text if names_anywhere else words, names=names):
            continue
        if rivals and not nearest(words, claim, needed, rivals):
            continue
        rank = (score, -abs(sentence.n - cited))
        if best is None or rank > best[:2]:
            best = (*rank, sentence)
    return best[2] if best else None


def nearest(sentence: str, claim: str, own: Sequence[str], rivals: Sequence[str]) -> bool:
    """Whether the span of ``claim``'s words in ``sentence`` is nearer a name of ``own`` than any
    name of ``rivals`` (and within ``NEAR`` characters of it)."""
    lowered = sentence.casefold()
    spots = [
        (m.start(), m.end())
        for word in content_words(claim)
        for m in [re.search(rf"\b{re.escape(word[: max(4, len(word) - 2)])}", lowered)]
        if m
    ]
    if not spots:
        return False
    lo, hi = min(a for a, _ in spots), max(b for _, b in spots)

    def distance(names: Sequence[str]) -> int:
        gaps = [
            max(0, m.start() - hi, lo - m.end())
            for name in names
            for m in re.finditer(re.escape(name.casefold()), lowered)
        ]
        return min(gaps, default=len(sentence) + 1)

    mine = distance(own)
    # A name the role itself holds ("chief executive of Alibaba Group") is no rival.
    named = claim.casefold()
    others = [r for r in rivals if r not in own and r.casefold() not in named]
    return mine <= NEAR and mine <= distance(others)


def role_in(
    ctx: Context,
    cited: int,
    role: str,
    names_of: Sequence[str],
    *,
    names: bool,
    rivals: Sequence[str],
) -> Role | None:
    sentence = best_sentence(ctx, cited, role, names_of, names=names, rivals=rivals, plain=True)
    if sentence is None:
        return None
    evidence = ctx.article.text[sentence.start : sentence.end]
    return Role(
        text=" ".join(role.split()), evidence=evidence, start=sentence.start, end=sentence.end
    )


def relations_in(
    ctx: Context, reply: WhoWhen, entities: Sequence[Entity]
) -> tuple[list[Relation], int]:
    """The relations a sentence states: it names both ends (two kept entities) and holds a cue
    word of the relation; the one nearest the cited number among them is the evidence."""
    text = ctx.article.text
    kept: list[Relation] = []
    dropped = 0
    for proposed in reply.relations:
        subject = entity_named(entities, proposed.subject)
        obj = entity_named(entities, proposed.object)
        sentence = None
        subjects, objects = ENDS[proposed.relation]
        if (
            subject is not None
            and obj is not None
            and subject is not obj
            and subject.type in subjects
            and obj.type in objects
        ):
            sentence = stating(ctx, proposed.sentence, subject, obj, CUES[proposed.relation])
        if subject is None or obj is None or sentence is None:
            dropped += 1
            continue
        relation = Relation(
            subject=subject.id,
            relation=proposed.relation,
            object=obj.id,
            evidence=text[sentence.start : sentence.end],
            start=sentence.start,
            end=sentence.end,
        )
        if all(
            (r.subject, r.relation, r.object) != (subject.id, proposed.relation, obj.id)
            for r in kept
        ):
            kept.append(relation)
    return kept, dropped


def stating(ctx: Context, cited: int, a: Entity, b: Entity, cues: Sequence[str]) -> Sentence | None:
    """The sentence (nearest the cited number) where a word of the relation's kind stands
    between a name of ``a`` and one of ``b``, at most ``LINK`` characters apart: "Alibaba Group
    chief executive Eddie Wu", "Zhou Hao ... will join Alibaba". Both names in one sentence are
    not enough: "the leader of the Qwen AI team, while simultaneously bringing in Zhou Hao, a
    former senior scientist" does not say Zhou Hao works for the Qwen team."""
    text = ctx.article.text
    candidates = []
    for sentence in ctx.sentences:
        words = " ".join(text[sentence.start : sentence.end].split())
        lowered = words.casefold()
        spans_a, spans_b = _spans(lowered, a), _spans(lowered, b)
        for x in spans_a:
            for y in spans_b:
                lo, hi = (x[1], y[0]) if x[0] < y[0] else (y[1], x[0])
                between = lowered[lo:hi]
                if 0 <= hi - lo <= LINK and any(
                    re.search(rf"(?<!\w){re.escape(c)}", between) for c in cues
                ):
                    candidates.append(sentence)
                    break
            else:
                continue
            break
    return min(candidates, key=lambda s: abs(s.n - cited), default=None)


def _spans(lowered: str, entity: Entity) -> list[tuple[int, int]]:
    return [
        (m.start(), m.end())
        for n in (entity.name, *entity.aliases)
        for m in re.finditer(rf"(?<!\w){re.escape(' '.join(n.split()).casefold())}(?!\w)", lowered)
    ]


def names_in(words: str, entity: Entity) -> bool:
    return any(
        re.search(rf"(?<!\w){re.escape(' '.join(n.split()))}(?!\w)", words)
        for n in (entity.name, *entity.aliases)
    )


def entity_named(entities: Sequence[Entity], name: str) -> Entity | None:
    wanted = " ".join(name.split()).casefold()
    for entity in entities:
        if wanted in (n.casefold() for n in (entity.name, *entity.aliases)):
            return entity
    return None


def events_in(
    ctx: Context, reply: WhoWhen, entities: list[Entity], *, names: bool
) -> tuple[list[Event], int]:
    text = ctx.article.text
    base = dates.article_date(ctx.article.date, ctx.article.language)
    kept: list[tuple[str, int, Event]] = []
    dropped = 0
    for order, proposed in enumerate(reply.events):
        written = " ".join(proposed.date.split())
        sentence = best_sentence(
            ctx, proposed.sentence, proposed.event, [written], names=names, names_anywhere=True
        )
        dated = dates.resolve(written, base=base, language=ctx.article.language)
        if sentence is None or dated is None:
            dropped += 1
            continue
        involved = [entity_id(entities, name) for name in proposed.who]
        event = Event(
            id="",
            date=dated.iso,
            date_text=written,
            date_source=dated.source,
            event=" ".join(proposed.event.split()),
            entities=list(dict.fromkeys(i for i in involved if i)),
            evidence=text[sentence.start : sentence.end],
            start=sentence.start,
            end=sentence.end,
        )
        if all((e.date, e.start) != (event.date, event.start) for _, _, e in kept):
            kept.append((dated.iso, order, event))
    published = published_event(ctx, base)
    if published is not None and all(e.date != published.date for _, _, e in kept):
        kept.append((published.date, -1, published))
    kept.sort(key=lambda item: (item[0], item[1]))
    events = [e.model_copy(update={"id": f"t{i}"}) for i, (_, _, e) in enumerate(kept, start=1)]
    return events, dropped


def published_event(ctx: Context, base: dt.datetime | None) -> Event | None:
    """The article's own date as an event of its timeline, proved by its byline line (no call:
    the reader asked "what happened when", and when it was reported is part of the answer)."""
    date = ctx.article.date
    if base is None or not date:
        return None
    line = next((b for b in ctx.article.blocks if b.kind is Kind.BYLINE and date in b.text), None)
    if line is None:
        return None
    return Event(
        id="",
        date=base.date().isoformat(),
        date_text=date,
        date_source="stated",
        event="The article is dated.",
        evidence=line.text,
        start=line.start,
        end=line.end,
    )


def entity_id(entities: Sequence[Entity], name: str) -> str | None:
    entity = entity_named(entities, name)
    return entity.id if entity else None


# A title written next to a name: before it ("Alibaba Cloud CTO Zhou Jingren", "chief executive
# Eddie Wu"), up to four words back to a comma, "the", "a" or the sentence's start; or after it
# as an apposition ("Robert Sinche, head of currency strategy at Bank of America,").
_TITLE_WORD = PERSON_TITLE.pattern
_BEFORE = re.compile(rf"((?:[\w'’&.-]+\s+){{0,3}}{_TITLE_WORD})\s+$", re.IGNORECASE)
_AFTER = re.compile(
    rf"^,\s+((?:the\s+|a\s+|an\s+)?(?:[\w'’&.-]+\s+){{0,2}}{_TITLE_WORD}[^,.;]{{0,60}})"
)
_LEAD = re.compile(
    r"^(?:.*?[,;:]\s+|.*\b(?:the|a|an|by|with|and|as|under|from|to|for|said|says)\s+)",
    re.IGNORECASE,
)


def titles_of(ctx: Context, name: str) -> list[tuple[str, int]]:
    """The titles the article writes next to ``name``, each with its sentence's number."""
    text = ctx.article.text
    found: list[tuple[str, int]] = []
    for sentence in ctx.sentences:
        words = text[sentence.start : sentence.end]
        for m in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", words):
            before = _BEFORE.search(words[max(0, m.start() - 80) : m.start()])
            after = _AFTER.match(words[m.end() : m.end() + 100])
            for title in (before.group(1) if before else None, after.group(1) if after else None):
                if title:
                    title = " ".join(_LEAD.sub("", title).split()).strip(" ,")
                    if title and all(title != t for t, _ in found):
                        found.append((title, sentence.n))
    return found
