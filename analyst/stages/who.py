"""Stage "who": the people, organisations, products and places of the story with their roles,
and its dated events — each proved by the numbered sentence that states it.

One call on the article prefix every call shares (it pays its reply, not another read). Then
deterministic checks, as for facts:

- an entity is kept only if its name (or an alias) occurs in the article; an alias only if it
  occurs; ``mentions`` counts them;
- a role is kept only if its sentence exists, the entity is named in that sentence or the one
  before it (the passage around it), and the role's words are that passage's: at least
  ``ROLE_SUPPORT`` of its content words, and every name and number it has. The 1.5B model once
  made an arriving scientist "the new leader of Qwen AI": a title no sentence gives him fails;
- an event is kept only if its date is written in its sentence and can be derived from it
  (``analyst.text.dates``: stated, or resolved from a relative expression against the article's
  own date), and its words are the sentence's as a role's are.

What is dropped is counted in the report's warnings. Relations between entities, the article's
later packs of a long article (the call reads the first, as the synthesis does) and a re-ask of
dropped roles are not done yet.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from analyst.model.ask import Calls, ask
from analyst.schema import Entity, Event, Role, WhoWhen, strict_json_schema
from analyst.stages.context import Context
from analyst.text import dates
from analyst.text.quotes import absent_names
from analyst.text.sentences import Sentence
from analyst.text.support import stemmed_overlap

PROMPTS = ("who", "who_input")
ROLE_SUPPORT = 0.6
_SCHEMA = strict_json_schema(WhoWhen)


def who(ctx: Context) -> Calls[tuple[list[Entity], list[Event]]]:
    """Who's who and the timeline of the article (nothing, when its sentences are not numbered:
    ``--evidence quote`` shows the article without numbers)."""
    if not ctx.cites_sentences or not ctx.sentences:
        ctx.warnings.append("who's who and timeline need numbered sentences (--evidence sentence)")
        return [], []
    held = copy.deepcopy(_SCHEMA)
    numbers = [s.n for s in ctx.sentences]
    held["$defs"]["CitedRole"]["properties"]["sentence"]["enum"] = numbers
    held["$defs"]["CitedEvent"]["properties"]["sentence"]["enum"] = numbers
    inputs = ctx.prompts.render("who_input", language=ctx.language())
    reply = yield from ask(
        ctx.policy,
        ctx.messages(inputs),
        WhoWhen,
        schema=ctx.schema("who", held),
        max_tokens=ctx.settings.synth_max_tokens,
    )
    return check(ctx, reply)


def check(ctx: Context, reply: WhoWhen) -> tuple[list[Entity], list[Event]]:
    """The entities and events of ``reply`` that the article proves (see the module)."""
    text = ctx.article.text
    by_number = {s.n: s for s in ctx.sentences}
    names = ctx.names_comparable()
    entities: list[Entity] = []
    dropped_roles = dropped_entities = 0
    for proposed in reply.entities:
        found = [n for n in dict.fromkeys([proposed.name, *proposed.aliases]) if n and n in text]
        if not found or any(e.name == found[0] for e in entities):
            dropped_entities += not found
            continue
        roles: list[Role] = []
        for role in proposed.roles:
            kept = _role(text, by_number, role.sentence, role.role, found, names=names)
            if kept is None:
                dropped_roles += 1
            elif all(r.start != kept.start or r.text != kept.text for r in roles):
                roles.append(kept)
        entities.append(
            Entity(
                id=f"e{len(entities) + 1}",
                name=found[0],
                type=proposed.type,
                aliases=found[1:],
                mentions=sum(text.count(n) for n in found),
                roles=roles,
            )
        )
    events, dropped_events = _events(ctx, reply, by_number, entities, names=names)
    _warn(ctx, dropped_entities, dropped_roles, dropped_events)
    return entities, events


def _passage(text: str, by_number: dict[int, Sentence], n: int) -> tuple[Sentence, str] | None:
    sentence = by_number.get(n)
    if sentence is None:
        return None
    before = by_number.get(n - 1)
    start = before.start if before is not None else sentence.start
    return sentence, text[start : sentence.end]


def _says(claim: str, passage: str, *, names: bool) -> bool:
    """Whether ``passage`` carries ``claim``'s words, names and numbers."""
    return stemmed_overlap(claim, passage) >= ROLE_SUPPORT and not absent_names(
        claim, passage, names=names
    )


def _role(
    text: str,
    by_number: dict[int, Sentence],
    n: int,
    role: str,
    names_of: Sequence[str],
    *,
    names: bool,
) -> Role | None:
    found = _passage(text, by_number, n)
    if found is None:
        return None
    sentence, passage = found
    if not any(name in passage for name in names_of) or not _says(role, passage, names=names):
        return None
    evidence = text[sentence.start : sentence.end]
    return Role(
        text=" ".join(role.split()), evidence=evidence, start=sentence.start, end=sentence.end
    )


def _events(
    ctx: Context,
    reply: WhoWhen,
    by_number: dict[int, Sentence],
    entities: list[Entity],
    *,
    names: bool,
) -> tuple[list[Event], int]:
    text = ctx.article.text
    base = dates.article_date(ctx.article.date, ctx.article.language)
    kept: list[tuple[str, int, Event]] = []
    dropped = 0
    for order, proposed in enumerate(reply.events):
        sentence = by_number.get(proposed.sentence)
        written = " ".join(proposed.date.split())
        evidence = text[sentence.start : sentence.end] if sentence else ""
        flat = " ".join(evidence.split())
        dated = (
            dates.resolve(written, base=base, language=ctx.article.language)
            if sentence and written.casefold() in flat.casefold()
            else None
        )
        if sentence is None or dated is None or not _says(proposed.event, evidence, names=names):
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
            evidence=evidence,
            start=sentence.start,
            end=sentence.end,
        )
        if all((e.date, e.start) != (event.date, event.start) for _, _, e in kept):
            kept.append((dated.iso, order, event))
    kept.sort(key=lambda item: (item[0], item[1]))
    events = [e.model_copy(update={"id": f"t{i}"}) for i, (_, _, e) in enumerate(kept, start=1)]
    return events, dropped


def _entity_id(entities: Sequence[Entity], name: str) -> str | None:
    wanted = name.casefold().strip()
    for entity in entities:
        if wanted in (n.casefold() for n in (entity.name, *entity.aliases)):
            return entity.id
    return None


def _warn(ctx: Context, entities: int, roles: int, events: int) -> None:
    parts = [
        f"{n} {what}"
        for n, what in (
            (entities, "entities the article does not name"),
            (roles, "roles their sentence does not state"),
            (events, "events whose date or words their sentence does not give"),
        )
        if n
    ]
    if parts:
        ctx.warnings.append("who's who and timeline: left out " + "; ".join(parts))
