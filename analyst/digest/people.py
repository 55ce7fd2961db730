"""Who's who and the timeline across articles: one entity for the names the articles spell
alike (``same_entity``), its roles with the outlets that give them; events of the same date
and alike merged, each with its sources."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence

from rapidfuzz import fuzz

from analyst.digest.briefing import (
    DigestArticle,
    DigestEntity,
    DigestEvent,
    DigestEventSource,
    DigestRole,
)
from analyst.schema import Report
from analyst.text.names import initials

EVENT_ALIKE = 70  # rapidfuzz token_set_ratio of two events of the same date to be one


def item_number(item_id: str) -> int:
    return int(item_id[1:])


def entities(
    articles: Sequence[DigestArticle], reports: Sequence[Report]
) -> tuple[list[DigestEntity], dict[tuple[str, str], str]]:
    """Entities of every report, names unified within a type (``same_name``)."""
    found: list[tuple[str, str, str, list[str], list[DigestRole], str]] = []
    for article, report in zip(articles, reports, strict=True):
        for e in report.entities:
            roles = [
                DigestRole(
                    text=r.text, article=article.id, evidence=r.evidence, start=r.start, end=r.end
                )
                for r in e.roles
            ]
            found.append((article.id, e.id, e.name, e.aliases, roles, e.type))
    # Each group keeps its distinct names, and an index finds a name seen before at once:
    # 2,000 reports naming the same five people compared every name with every member before.
    groups: list[list[int]] = []
    spelled: list[set[str]] = []
    seen: dict[tuple[str, str], int] = {}
    for i, (_, _, name, aliases, _, kind) in enumerate(found):
        names = [name, *aliases]
        at = next((seen[(kind, n)] for n in names if (kind, n) in seen), None)
        if at is None:
            at = next(
                (
                    g
                    for g, group in enumerate(groups)
                    if found[group[0]][5] == kind
                    and any(same_entity(n, m, kind) for n in names for m in spelled[g])
                ),
                None,
            )
        if at is None:
            groups.append([])
            spelled.append(set())
            at = len(groups) - 1
        groups[at].append(i)
        spelled[at].update(names)
        for written_as in names:
            seen.setdefault((kind, written_as), at)
    groups.sort(key=lambda g: (-len({found[i][0] for i in g}), g[0]))
    entities: list[DigestEntity] = []
    entity_of: dict[tuple[str, str], str] = {}
    for n, group in enumerate(groups, start=1):
        nid = f"n{n}"
        written = Counter(found[i][2] for i in group)
        name = max(written, key=lambda w: (written[w], len(w)))
        aliases = sorted({w for i in group for w in [found[i][2], *found[i][3]]} - {name})
        for i in group:
            entity_of[(found[i][0], found[i][1])] = nid
        entities.append(
            DigestEntity(
                id=nid,
                name=name,
                type=found[group[0]][5],
                aliases=aliases,
                articles=sorted({found[i][0] for i in group}, key=item_number),
                roles=[r for i in group for r in found[i][4]],
            )
        )
    return entities, entity_of


def same_entity(a: str, b: str, kind: str) -> bool:
    """Whether two names in different articles name one entity: the same letters ("TimeWarner",
    "Time Warner"), one the other's initials ("BA"), a person's surname ("Wu", "Eddie Wu"), or
    the same first word and every word of one in the other ("Alibaba", "Alibaba Group").
    Stricter than within one article (``text.names.same_name``): "US" is not in "Business"."""
    x, y = (" ".join(re.sub(r"['’]s\b", "", n).casefold().split()) for n in (a, b))
    if x.replace(" ", "") == y.replace(" ", ""):
        return True
    if initials(a) == b.replace(".", "") or initials(b) == a.replace(".", ""):
        return kind == "organisation"
    short, long = sorted((x.split(), y.split()), key=len)
    if not short or not set(short) <= set(long):
        return False
    if kind == "person":
        return short[-1] == long[-1]
    return short[0] == long[0]


def timeline(
    articles: Sequence[DigestArticle],
    reports: Sequence[Report],
    entity_of: Mapping[tuple[str, str], str],
) -> list[DigestEvent]:
    events: list[DigestEvent] = []
    for article, report in zip(articles, reports, strict=True):
        for e in report.timeline:
            source = DigestEventSource(
                article=article.id, evidence=e.evidence, start=e.start, end=e.end
            )
            ids = sorted(
                {entity_of[(article.id, x)] for x in e.entities if (article.id, x) in entity_of},
                key=item_number,
            )
            same = next(
                (
                    x
                    for x in events
                    if x.date == e.date and fuzz.token_set_ratio(x.event, e.event) >= EVENT_ALIKE
                ),
                None,
            )
            if same is not None:
                same.sources.append(source)
                same.entities = sorted(set(same.entities) | set(ids), key=item_number)
            else:
                events.append(
                    DigestEvent(date=e.date, event=e.event, entities=ids, sources=[source])
                )
    return sorted(events, key=lambda x: x.date)
