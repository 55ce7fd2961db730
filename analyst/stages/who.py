"""Stage "who": the people, organisations, products and places of the story with their roles,
and its dated events — each proved by the numbered sentence that states it.

One call on the article prefix every call shares (it pays its reply, not another read). Then
deterministic checks, as for facts:

- an entity is kept only if its name (or an alias) occurs in the article; an alias only if it
  occurs; ``mentions`` counts them;
- a role is kept only if a sentence of the article names the entity and states the role: at
  least ``ROLE_SUPPORT`` of the role's content words, and every name and number it has. That
  sentence is the role's evidence. The model cites a sentence number, but the 1.5B model's
  numbers are often one or two off (measured on the seed article), so the number only breaks
  ties: the proof is the sentence found. The 1.5B model once made an arriving scientist "the
  new leader of Qwen AI": a title no sentence gives him fails;
- an event is kept only if a sentence writes its date and states it as a role's sentence does,
  and the date can be derived from it (``analyst.text.dates``: stated, or resolved from a
  relative expression against the article's own date).

- a relation is kept only if a sentence names both entities and holds a word of its kind
  (``_CUES``: "leads" needs "chief", "head", "runs"...);
- the roles dropped are re-asked once, in one short call that lists them with their holders; a
  role given again is checked as the first time, for the entity the reply names;
- the names the article writes more than once that the list left out (``text.names``: runs of
  capitalised words) are sorted by one more short call, and those it calls a person or an
  organisation join the list (the 1.5B model listed 17 of 24 such names on 12 BBC articles).

What is dropped is counted in the report's warnings. Facts and implications are linked to the
entities they name afterwards (``cite``), by name, without a call. The later packs of a long
article are not read (the call reads the first, as the synthesis does).
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Sequence

from analyst.errors import ModelOutputError
from analyst.model.ask import Calls, ask
from analyst.reading.text import Kind
from analyst.schema import (
    Entity,
    Event,
    NameKinds,
    Relation,
    RelationKind,
    Report,
    Role,
    RolesAgain,
    WhoWhen,
    strict_json_schema,
)
from analyst.stages.context import Context, escape
from analyst.text import dates
from analyst.text.names import repeated, same_name
from analyst.text.quotes import absent_names
from analyst.text.sentences import Sentence
from analyst.text.support import content_words, overlap, stemmed_overlap

PROMPTS = ("who", "who_input", "who_roles", "who_roles_input")
ROLE_SUPPORT = 0.6
PLAIN_SUPPORT = 0.5  # analyst.quality's own test of a role
NEAR = 60  # characters between a role's words and its holder's name, at most
ROLES_PER_ENTITY = 3  # the call's 2, and one more a re-ask may find
MAX_ENTITIES = 10  # the call's 8, and those the names call adds
_SCHEMA = strict_json_schema(WhoWhen)

# Words one of which a sentence must hold to state a relation (casefolded word beginnings): the
# names of both ends are not enough ("Lin left Alibaba" and "Lin joined Alibaba" name the same).
_CUE_WORDS: dict[RelationKind, str] = {
    "leads": "lead head chief ceo cto cfo coo chair president director manag run oversee "
    "oversaw boss founder executive control charge command govern",
    "works for": "work employ scientist engineer research staff member official spokes "
    "analyst executive minister officer senior former adviser advisor director manag join "
    "hired player coach reporter editor chief head ceo cto",
    "joins": "join hire recruit appoint arriv bring brought named move sign elect promot "
    "replac succeed",
    "leaves": "leav left resign depart quit step exit fired sack oust retir dismiss replac succeed",
    "owns": "own acquir bought buy purchas subsidiar parent unit stake division takeover arm merg",
    "competes with": "compet rival race against challeng battle contest beat versus vs fight "
    "behind ahead",
    "partners with": "partner allian deal agree collaborat joint together work team back "
    "support sign contract cooperat",
}
_CUES = {kind: words.split() for kind, words in _CUE_WORDS.items()}
# Which kinds of entity each relation may join, subject then object: a place leads no one ("US
# President Bush" is not "the US leads Bush"), and only a person works for someone.
_ANY = ("person", "organisation", "product", "place")
_ENDS: dict[RelationKind, tuple[tuple[str, ...], tuple[str, ...]]] = {
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
_PERSON_TITLE = re.compile(
    r"\b(?:chief|ceo|cto|cfo|coo|economist|analyst|minister|chair(?:man|woman)?|president|"
    r"director|head|leader|spokes(?:man|woman|person)|secretary|governor|scientist|founder|"
    r"manager|officer|editor|professor|senator|mayor|chancellor|boss|strategist|executive|"
    r"host|deputy)\b",
    re.IGNORECASE,
)


def who(ctx: Context) -> Calls[tuple[list[Entity], list[Relation], list[Event]]]:
    """Who's who, the relations and the timeline of the article (nothing, when its sentences
    are not numbered: ``--evidence quote`` shows the article without numbers)."""
    if not ctx.cites_sentences or not ctx.sentences:
        ctx.warnings.append("who's who and timeline need numbered sentences (--evidence sentence)")
        return [], [], []
    held = copy.deepcopy(_SCHEMA)
    numbers = [s.n for s in ctx.sentences]
    for cited in ("CitedRole", "CitedEvent", "CitedRelation"):
        held["$defs"][cited]["properties"]["sentence"]["enum"] = numbers
    inputs = ctx.prompts.render("who_input", language=ctx.language())
    try:
        reply = yield from ask(
            ctx.policy,
            ctx.messages(inputs),
            WhoWhen,
            schema=ctx.schema("who", held),
            max_tokens=ctx.settings.synth_max_tokens,
        )
    except ModelOutputError as exc:
        # Who's who is an addition to the report: its failure costs the report nothing else.
        ctx.warnings.append(f"no who's who or timeline: {' '.join(str(exc).split())}")
        return [], [], []
    found = _Found(ctx, reply)
    if found.dropped and ctx.settings.repairs > 0:
        again = yield from _reask(ctx, found)
        found.take_again(again)
    left_out = found.left_out()
    if left_out:
        kinds = yield from _sort_names(ctx, left_out)
        found.take_names(kinds, left_out)
    return found.finish()


def check(ctx: Context, reply: WhoWhen) -> tuple[list[Entity], list[Relation], list[Event]]:
    """The entities, relations and events of ``reply`` that the article proves, without the
    re-ask (see the module)."""
    return _Found(ctx, reply).finish()


class _Found:
    """What one reply proves, as it is checked: entities with their roles, the roles dropped
    (which a re-ask may find again), then relations and events."""

    def __init__(self, ctx: Context, reply: WhoWhen) -> None:
        self.ctx, self.reply = ctx, reply
        text = ctx.article.text
        self.names = ctx.names_comparable()
        self.entities: list[Entity] = []
        # (entity index, role as proposed, sentence cited) of each role no sentence proved
        self.dropped: list[tuple[int, str, int]] = []
        self.dropped_entities = 0
        self.recovered = 0
        self.added = 0  # entities from the names the first list left out
        self.everyone = [n for e in reply.entities for n in (e.name, *e.aliases) if n and n in text]
        for proposed in reply.entities:
            found = [
                n for n in dict.fromkeys([proposed.name, *proposed.aliases]) if n and n in text
            ]
            found = [n for n in found if n == found[0] or _is_alias(n, found[0])]
            if not found or any(e.name == found[0] for e in self.entities):
                self.dropped_entities += not found
                continue
            entity = Entity(
                id=f"e{len(self.entities) + 1}",
                name=found[0],
                type=proposed.type,
                aliases=found[1:],
                mentions=sum(text.count(n) for n in found),
            )
            self.entities.append(entity)
            for role in proposed.roles:
                if not self._add_role(len(self.entities) - 1, role.role, role.sentence):
                    self.dropped.append((len(self.entities) - 1, role.role, role.sentence))

    def _add_role(self, index: int, text: str, cited: int) -> bool:
        """Give entity ``index`` the role if a sentence proves it (True also when it has it)."""
        entity = self.entities[index]
        if entity.type != "person" and _PERSON_TITLE.search(text):
            return False  # "deputy chief economist" is a person's, whatever it stands next to
        kept = _role(
            self.ctx,
            cited,
            text,
            [entity.name, *entity.aliases],
            names=self.names,
            rivals=self.everyone,
        )
        if kept is None:
            return False
        if not any(_same(kept.text, r.text) for r in entity.roles):
            if len(entity.roles) >= ROLES_PER_ENTITY:
                return True
            entity.roles.append(kept)
        return True

    def take_again(self, again: RolesAgain) -> None:
        """The roles a re-ask gave again: each kept if a sentence proves it for the entity it
        names now (the model may give a role to the one its sentence gives it to)."""
        for role in again.roles:
            index = next(
                (
                    i
                    for i, e in enumerate(self.entities)
                    if role.name.casefold() in (n.casefold() for n in (e.name, *e.aliases))
                ),
                None,
            )
            if index is not None and self._add_role(index, role.role, role.sentence):
                self.recovered += 1
        self.recovered = min(self.recovered, len(self.dropped))

    def left_out(self) -> list[str]:
        """Names the article writes more than once that no entity has (``text.names``), when
        its language capitalises names and only names (not German, not Chinese)."""
        if not self.ctx.names_comparable() or len(self.entities) >= MAX_ENTITIES:
            return []
        known = [n for e in self.entities for n in (e.name, *e.aliases)]
        candidates = repeated(self.ctx.article.text)
        missing = [c for c in candidates if not any(same_name(c, k) for k in known)]
        return missing[: MAX_ENTITIES - len(self.entities)]

    def take_names(self, kinds: NameKinds, asked: list[str]) -> None:
        """The left-out names the model calls a person or an organisation, as entities (with
        no roles: none was asked)."""
        text = self.ctx.article.text
        for kind in kinds.names:
            name = kind.name
            if kind.type not in ("person", "organisation") or name not in asked:
                continue
            if name not in text or any(same_name(name, e.name) for e in self.entities):
                continue
            self.entities.append(
                Entity(
                    id=f"e{len(self.entities) + 1}",
                    name=name,
                    type=kind.type,
                    mentions=len(re.findall(rf"(?<!\w){re.escape(name)}(?!\w)", text)),
                )
            )
            self.added += 1

    def finish(self) -> tuple[list[Entity], list[Relation], list[Event]]:
        relations, dropped_relations = _relations(self.ctx, self.reply, self.entities)
        events, dropped_events = _events(self.ctx, self.reply, self.entities, names=self.names)
        _warn(
            self.ctx,
            {
                "entities the article does not name": self.dropped_entities,
                "roles their sentence does not state": len(self.dropped) - self.recovered,
                "relations no sentence states between those two": dropped_relations,
                "events whose date or words their sentence does not give": dropped_events,
            },
            recovered=self.recovered,
        )
        if self.added:
            self.ctx.warnings.append(
                f"who's who: {self.added} entities added from names the article repeats"
            )
        return self.entities, relations, events


def _sort_names(ctx: Context, names: list[str]) -> Calls[NameKinds]:
    """One short call: what each left-out name is (a person, an organisation, or neither)."""
    items = "\n".join(f"- {escape(n)}" for n in names)
    inputs = ctx.prompts.render("who_more_input", items=items)
    held = strict_json_schema(NameKinds)
    held["$defs"]["NameKind"]["properties"]["name"] = {"type": "string", "enum": names}
    held["properties"]["names"]["maxItems"] = len(names)
    try:
        return (
            yield from ask(
                ctx.policy,
                ctx.messages(inputs),
                NameKinds,
                schema=ctx.schema("who_more", held),
                max_tokens=32 + 24 * len(names),
            )
        )
    except ModelOutputError:
        return NameKinds(names=[])


def _reask(ctx: Context, found: _Found) -> Calls[RolesAgain]:
    """One short call listing the dropped roles with their holders and cited sentences."""
    items = "\n".join(
        f'- {escape(found.entities[i].name)}: "{escape(role)}" (sentence {cited})'
        for i, role, cited in found.dropped
    )
    inputs = ctx.prompts.render("who_roles_input", items=items, language=ctx.language())
    held = strict_json_schema(RolesAgain)
    held["$defs"]["RoleAgain"]["properties"]["name"] = {
        "type": "string",
        "enum": [e.name for e in found.entities],
    }
    held["$defs"]["RoleAgain"]["properties"]["sentence"]["enum"] = [s.n for s in ctx.sentences]
    held["properties"]["roles"]["maxItems"] = len(found.dropped)
    ctx.meter.repairs += 1
    try:
        return (
            yield from ask(
                ctx.policy,
                ctx.messages(inputs),
                RolesAgain,
                schema=ctx.schema("who_roles", held),
                max_tokens=48 + 64 * len(found.dropped),
            )
        )
    except ModelOutputError:
        return RolesAgain(roles=[])


def cite(report: Report) -> Report:
    """``report`` with each fact and implication listing the ids of the entities it names (by
    name or alias, as whole words): a fact's link to who's who is found, not asked for."""
    if not report.entities:
        return report
    patterns = [
        (e.id, re.compile("|".join(rf"(?<!\w){re.escape(n)}(?!\w)" for n in (e.name, *e.aliases))))
        for e in report.entities
    ]

    def named(text: str) -> list[str]:
        return [i for i, pattern in patterns if pattern.search(text)]

    facts = [f.model_copy(update={"entities": named(f.text)}) for f in report.facts]
    implications = [i.model_copy(update={"entities": named(i.text)}) for i in report.implications]
    return report.model_copy(update={"facts": facts, "implications": implications})


def _is_alias(alias: str, name: str) -> bool:
    """A name for the same one ("Lin" for "Lin Junyang", "OpenAI"), not a description ("Qwen AI
    team leader"): it shares a word with the name, or every word of it is capitalised."""
    shared = set(alias.casefold().split()) & set(name.casefold().split())
    return bool(shared) or all(w[:1].isupper() or not w[:1].isalpha() for w in alias.split())


def _same(a: str, b: str) -> bool:
    """Two roles that say the same ("CTO of Alibaba Cloud", "Alibaba Cloud CTO")."""
    return stemmed_overlap(a, b) == 1.0 and stemmed_overlap(b, a) == 1.0


def _best(
    ctx: Context,
    cited: int,
    claim: str,
    needed: Sequence[str],
    *,
    names: bool,
    rivals: Sequence[str] = (),
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
        # Both word tests: the stemmed one (the support gate's) and the plain one, so that a
        # role is in its sentence's own words ("host" is not how "hosted by" reads).
        if score < ROLE_SUPPORT or overlap(claim, words) < PLAIN_SUPPORT:
            continue
        if absent_names(claim, words, names=names):
            continue
        if rivals and not _nearest(words, claim, needed, rivals):
            continue
        rank = (score, -abs(sentence.n - cited))
        if best is None or rank > best[:2]:
            best = (*rank, sentence)
    return best[2] if best else None


def _nearest(sentence: str, claim: str, own: Sequence[str], rivals: Sequence[str]) -> bool:
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


def _role(
    ctx: Context,
    cited: int,
    role: str,
    names_of: Sequence[str],
    *,
    names: bool,
    rivals: Sequence[str],
) -> Role | None:
    sentence = _best(ctx, cited, role, names_of, names=names, rivals=rivals)
    if sentence is None:
        return None
    evidence = ctx.article.text[sentence.start : sentence.end]
    return Role(
        text=" ".join(role.split()), evidence=evidence, start=sentence.start, end=sentence.end
    )


def _relations(
    ctx: Context, reply: WhoWhen, entities: Sequence[Entity]
) -> tuple[list[Relation], int]:
    """The relations a sentence states: it names both ends (two kept entities) and holds a cue
    word of the relation; the one nearest the cited number among them is the evidence."""
    text = ctx.article.text
    kept: list[Relation] = []
    dropped = 0
    for proposed in reply.relations:
        subject = _entity(entities, proposed.subject)
        obj = _entity(entities, proposed.object)
        sentence = None
        subjects, objects = _ENDS[proposed.relation]
        if (
            subject is not None
            and obj is not None
            and subject is not obj
            and subject.type in subjects
            and obj.type in objects
        ):
            sentence = _stating(ctx, proposed.sentence, subject, obj, _CUES[proposed.relation])
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


def _stating(
    ctx: Context, cited: int, a: Entity, b: Entity, cues: Sequence[str]
) -> Sentence | None:
    text = ctx.article.text
    candidates = []
    for sentence in ctx.sentences:
        words = " ".join(text[sentence.start : sentence.end].split())
        lowered = words.casefold()
        if (
            _names(words, a)
            and _names(words, b)
            and any(re.search(rf"(?<!\w){re.escape(c)}", lowered) for c in cues)
        ):
            candidates.append(sentence)
    return min(candidates, key=lambda s: abs(s.n - cited), default=None)


def _names(words: str, entity: Entity) -> bool:
    return any(
        re.search(rf"(?<!\w){re.escape(' '.join(n.split()))}(?!\w)", words)
        for n in (entity.name, *entity.aliases)
    )


def _entity(entities: Sequence[Entity], name: str) -> Entity | None:
    wanted = " ".join(name.split()).casefold()
    for entity in entities:
        if wanted in (n.casefold() for n in (entity.name, *entity.aliases)):
            return entity
    return None


def _events(
    ctx: Context, reply: WhoWhen, entities: list[Entity], *, names: bool
) -> tuple[list[Event], int]:
    text = ctx.article.text
    base = dates.article_date(ctx.article.date, ctx.article.language)
    kept: list[tuple[str, int, Event]] = []
    dropped = 0
    for order, proposed in enumerate(reply.events):
        written = " ".join(proposed.date.split())
        sentence = _best(ctx, proposed.sentence, proposed.event, [written], names=names)
        dated = dates.resolve(written, base=base, language=ctx.article.language)
        if sentence is None or dated is None:
            dropped += 1
            continue
        involved = [_entity_id(entities, name) for name in proposed.who]
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
    published = _published(ctx, base)
    if published is not None and all(e.date != published.date for _, _, e in kept):
        kept.append((published.date, -1, published))
    kept.sort(key=lambda item: (item[0], item[1]))
    events = [e.model_copy(update={"id": f"t{i}"}) for i, (_, _, e) in enumerate(kept, start=1)]
    return events, dropped


def _published(ctx: Context, base: dt.datetime | None) -> Event | None:
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


def _entity_id(entities: Sequence[Entity], name: str) -> str | None:
    entity = _entity(entities, name)
    return entity.id if entity else None


def _warn(ctx: Context, dropped: dict[str, int], *, recovered: int) -> None:
    parts = [f"{n} {what}" for what, n in dropped.items() if n]
    if parts:
        again = f" ({recovered} more found by a re-ask)" if recovered else ""
        ctx.warnings.append("who's who and timeline: left out " + "; ".join(parts) + again)
    elif recovered:
        ctx.warnings.append(f"who's who: {recovered} roles found by a re-ask")
