"""Stage "who": the people, organisations, products and places of the story with their roles,
and its dated events — each proved by the numbered sentence that states it.

One call on the article prefix every call shares (it pays its reply, not another read). Then
deterministic checks, as for facts (``stages.who_checks``):

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
  (``CUES``: "leads" needs "chief", "head", "runs"...);
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
import re

from analyst.errors import ModelOutputError
from analyst.model.ask import Calls, ask
from analyst.schema import Entity, Event, Relation, Report
from analyst.stages.context import Context, escape
from analyst.stages.replies import hold, strict_json_schema
from analyst.stages.who.checks import (
    PERSON_TITLE,
    events_in,
    is_alias,
    relations_in,
    role_in,
    same_role,
    titles_of,
)
from analyst.stages.who.replies import NameKinds, RolesAgain, WhoWhen
from analyst.text.names import repeated, same_name

ROLES_PER_ENTITY = 3  # the call's 2, and one more a re-ask may find
MAX_ENTITIES = 12  # the call's 8, and those the names call adds
ASK_NAMES = 8  # left-out names the names call sorts, at most
_SCHEMA = strict_json_schema(WhoWhen)


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
        self.not_names = 0  # proposed entities written without a capital: descriptions
        self.everyone = [n for e in reply.entities for n in (e.name, *e.aliases) if n and n in text]
        for proposed in reply.entities:
            found = [
                n for n in dict.fromkeys([proposed.name, *proposed.aliases]) if n and n in text
            ]
            found = [n for n in found if n == found[0] or is_alias(n, found[0])]
            if not found or any(e.name == found[0] for e in self.entities):
                self.dropped_entities += not found
                continue
            if self.names and not any(c.isupper() for c in found[0]):
                # In a language that capitalises names, "federal grant" names no one.
                self.not_names += 1
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
        if entity.type != "person" and PERSON_TITLE.search(text):
            return False  # "deputy chief economist" is a person's, whatever it stands next to
        kept = role_in(
            self.ctx,
            cited,
            text,
            [entity.name, *entity.aliases],
            names=self.names,
            rivals=self.everyone,
        )
        if kept is None:
            return False
        if not any(same_role(kept.text, r.text) for r in entity.roles):
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
        candidates = repeated(self.ctx.article.text, language=self.ctx.article.language)
        missing = [c for c in candidates if not any(same_name(c, k) for k in known)]
        # A name of two words or more first ("Eddie Wu" before "Western"): people are named so.
        missing.sort(key=lambda c: len(c.split()) < 2)
        return missing[:ASK_NAMES]

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
            if len(self.entities) >= MAX_ENTITIES:
                break
            self.entities.append(
                Entity(
                    id=f"e{len(self.entities) + 1}",
                    name=name,
                    type=kind.type,
                    mentions=len(re.findall(rf"(?<!\w){re.escape(name)}(?!\w)", text)),
                )
            )
            self.added += 1
            if kind.type == "person":
                # No role was asked for it; the title the article writes before or after the
                # name ("CEO Eddie Wu", "Robert Sinche, head of currency strategy") is one,
                # checked as any role is.
                for title, cited in titles_of(self.ctx, name)[:ROLES_PER_ENTITY]:
                    self._add_role(len(self.entities) - 1, title, cited)

    def finish(self) -> tuple[list[Entity], list[Relation], list[Event]]:
        relations, dropped_relations = relations_in(self.ctx, self.reply, self.entities)
        events, dropped_events = events_in(self.ctx, self.reply, self.entities, names=self.names)
        _warn(
            self.ctx,
            {
                "entities the article does not name": self.dropped_entities,
                "entities that are descriptions, not names": self.not_names,
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
    held = hold(NameKinds, "names", len(names), one_of={"name": names})
    reply = yield from ctx.follow_up(
        NameKinds, inputs, held, name="who_more", max_tokens=32 + 24 * len(names), repair=False
    )
    return reply or NameKinds(names=[])


def _reask(ctx: Context, found: _Found) -> Calls[RolesAgain]:
    """One short call listing the dropped roles with their holders and cited sentences."""
    items = "\n".join(
        f'- {escape(found.entities[i].name)}: "{escape(role)}" (sentence {cited})'
        for i, role, cited in found.dropped
    )
    inputs = ctx.prompts.render("who_roles_input", items=items, language=ctx.language())
    held = hold(
        RolesAgain,
        "roles",
        len(found.dropped),
        one_of={"name": [e.name for e in found.entities]},
        also={"sentence": [s.n for s in ctx.sentences]},
    )
    reply = yield from ctx.follow_up(
        RolesAgain, inputs, held, name="who_roles", max_tokens=48 + 64 * len(found.dropped)
    )
    return reply or RolesAgain(roles=[])


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


def _warn(ctx: Context, dropped: dict[str, int], *, recovered: int) -> None:
    parts = [f"{n} {what}" for what, n in dropped.items() if n]
    if parts:
        again = f" ({recovered} more found by a re-ask)" if recovered else ""
        ctx.warnings.append("who's who and timeline: left out " + "; ".join(parts) + again)
    elif recovered:
        ctx.warnings.append(f"who's who: {recovered} roles found by a re-ask")
