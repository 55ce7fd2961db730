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

What is dropped is counted in the report's warnings. Relations between entities, the article's
later packs of a long article (the call reads the first, as the synthesis does) and a re-ask of
dropped roles are not done yet.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Sequence

from analyst.model.ask import Calls, ask
from analyst.reading.text import Kind
from analyst.schema import Entity, Event, Role, WhoWhen, strict_json_schema
from analyst.stages.context import Context
from analyst.text import dates
from analyst.text.quotes import absent_names
from analyst.text.sentences import Sentence
from analyst.text.support import content_words, stemmed_overlap

PROMPTS = ("who", "who_input")
ROLE_SUPPORT = 0.6
NEAR = 60  # characters between a role's words and its holder's name, at most
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
    names = ctx.names_comparable()
    entities: list[Entity] = []
    dropped_roles = dropped_entities = 0
    everyone = [n for e in reply.entities for n in (e.name, *e.aliases) if n and n in text]
    for proposed in reply.entities:
        found = [n for n in dict.fromkeys([proposed.name, *proposed.aliases]) if n and n in text]
        found = [n for n in found if n == found[0] or _is_alias(n, found[0])]
        if not found or any(e.name == found[0] for e in entities):
            dropped_entities += not found
            continue
        roles: list[Role] = []
        for role in proposed.roles:
            kept = _role(ctx, role.sentence, role.role, found, names=names, rivals=everyone)
            if kept is None:
                dropped_roles += 1
            elif not any(_same(kept.text, r.text) for r in roles):
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
    events, dropped_events = _events(ctx, reply, entities, names=names)
    _warn(ctx, dropped_entities, dropped_roles, dropped_events)
    return entities, events


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
        if score < ROLE_SUPPORT or absent_names(claim, words, names=names):
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
    return mine <= NEAR and mine <= distance([r for r in rivals if r not in own])


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
