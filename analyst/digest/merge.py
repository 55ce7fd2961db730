"""Reports in, the digest's deterministic part out: merged facts, contradictions, stories,
who's who and timeline across articles. No model: ``write`` adds the prose afterwards.

A fact enters when its report grounded it (its quote was found in the article, with offsets).
Facts the matching calls the same become one digest fact, unless that would put two facts it
found contradicting into one (a contradiction is a cannot-link, and the most alike pairs are
merged first). Every pair weighed is kept as a ``Decision``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from analyst.digest import match, people
from analyst.digest.briefing import (
    Contradiction,
    Decision,
    Digest,
    DigestArticle,
    DigestEntity,
    DigestFact,
    SourceQuote,
    Version,
)
from analyst.digest.notes import across
from analyst.digest.people import item_number
from analyst.schema import Fact, Report

Verdict = Literal["same", "contradicts", "apart"]
How = Literal["rule", "model"]


@dataclass(frozen=True)
class Given:
    """A report and where it was read from (``None``: given as an object)."""

    report: Report
    path: str | None = None


@dataclass
class Merged:
    """The deterministic digest, and the pairs left for a model to judge."""

    digest: Digest
    between: list[match.Pair]


@dataclass
class Matched:
    """The reports' facts and the pairs the rules weighed: what ``assemble`` builds a digest
    from, with or without the model's judgements (so the matching runs once)."""

    articles: list[DigestArticle]
    reports: list[Report]
    facts: list[tuple[str, Fact]]  # (article id, fact), the facts that enter
    keys: list[match.Key]
    pairs: list[match.Pair]
    warnings: list[str]

    @property
    def texts(self) -> dict[str, str]:
        """Each fact's text by its key ("a1/f3")."""
        return {k.id: f.text for k, (_, f) in zip(self.keys, self.facts, strict=True)}


class _Sets:
    """Union-find over fact indexes, with cannot-links between sets."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))
        self.cannot: dict[int, set[int]] = defaultdict(set)

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def forbid(self, i: int, j: int) -> None:
        self.cannot[i].add(j)
        self.cannot[j].add(i)

    def union(self, i: int, j: int) -> bool:
        a, b = self.find(i), self.find(j)
        if a == b:
            return True
        if any(self.find(x) == b for x in self.cannot[a]):
            return False
        self.parent[b] = a
        self.cannot[a] |= self.cannot.pop(b, set())
        return True


def merge(
    given: Sequence[Given], judged: Mapping[tuple[str, str], Verdict] | None = None
) -> Merged:
    """The digest of ``given`` (without prose). ``judged``: the model's "same", "contradicts" or
    "apart" for pairs the rules left between, by their two fact keys."""
    return assemble(prepare(given), judged)


def prepare(given: Sequence[Given]) -> Matched:
    """The facts of ``given`` that enter a digest, matched (``match.weigh_all``)."""
    warnings: list[str] = []
    articles, reports = _articles(given, warnings)
    facts: list[tuple[str, Fact]] = []
    dropped = 0
    for article, report in zip(articles, reports, strict=True):
        for fact in report.facts:
            if not fact.grounded or fact.start is None or fact.end is None:
                continue
            if fact.verification is not None and fact.verification.verdict == "unsupported":
                dropped += 1
                continue
            facts.append((article.id, fact))
    if dropped:
        warnings.append(f"{dropped} facts the verifier found unsupported were left out")
    keys = [match.key(f"{a}/{f.id}", a, f.text) for a, f in facts]
    return Matched(articles, reports, facts, keys, match.weigh_all(keys), warnings)


def assemble(matched: Matched, judged: Mapping[tuple[str, str], Verdict] | None = None) -> Merged:
    """The digest of what ``prepare`` matched, the model's judgements applied."""
    articles, reports, facts, keys = matched.articles, matched.reports, matched.facts, matched.keys
    warnings = list(matched.warnings)
    index = {k.id: i for i, k in enumerate(keys)}
    decided: list[tuple[match.Pair, Verdict, How]] = []
    between: list[match.Pair] = []
    for pair in matched.pairs:
        if pair.outcome != "between":
            decided.append((pair, pair.outcome, "rule"))
            continue
        said = (judged or {}).get((pair.a.id, pair.b.id))
        if said is None:
            between.append(pair)
        decided.append((pair, said or "apart", "model" if said else "rule"))
    sets = _Sets(len(keys))
    for pair, outcome, _ in decided:
        if outcome == "contradicts":
            sets.forbid(index[pair.a.id], index[pair.b.id])
    decisions = []
    unlisted = 0
    for pair, outcome, how in sorted(decided, key=lambda d: -d[0].score):
        reason = pair.reason if how == "rule" else "the model's judgement"
        if outcome == "same" and not sets.union(index[pair.a.id], index[pair.b.id]):
            outcome = "apart"
            reason = "alike, but merging would join facts that contradict"
        if outcome == "apart" and how == "rule" and pair.score < LISTED_APART:
            # Kept apart by rule and not close: it decided nothing worth reading. Counted, not
            # listed (a beat's look-alike facts made 1.9 million such decisions).
            unlisted += 1
            continue
        decisions.append(
            Decision(
                a=pair.a.id,
                b=pair.b.id,
                outcome=outcome,
                how=how,
                score=round(pair.score, 3),
                reason=reason,
            )
        )
    # The audit log stays readable at any scale: what merged or contradicted (and what the model
    # judged) first, then the closest pairs kept apart; the rest is counted.
    decisive = [d for d in decisions if d.outcome != "apart" or d.how == "model"]
    apart = [d for d in decisions if d.outcome == "apart" and d.how == "rule"]
    listed = decisive[:MOST_DECISIONS] + apart[: max(0, MOST_DECISIONS - len(decisive))]
    unlisted += len(decisions) - len(listed)
    decisions = sorted(listed, key=lambda d: -d.score)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(keys)):
        groups[sets.find(i)].append(i)
    ordered = sorted(groups.values(), key=lambda g: (-len({keys[i].article for i in g}), g[0]))
    fact_of: dict[int, str] = {}
    dated = {a.id: a.date for a in articles if a.date}
    digest_facts = []
    for n, members in enumerate(ordered, start=1):
        fid = f"d{n}"
        for i in members:
            fact_of[i] = fid
        digest_facts.append(_digest_fact(fid, [facts[i] for i in members], dated))
    contradictions = _contradictions(decided, keys, index, fact_of)
    entities, entity_of = people.entities(articles, reports)
    stories = _stories(articles, digest_facts, contradictions, entities)
    named = {
        (a.id, f.id): {entity_of[(a.id, e)] for e in f.entities if (a.id, e) in entity_of}
        for a, r in zip(articles, reports, strict=True)
        for f in r.facts
    }
    digest_facts = [
        f.model_copy(
            update={
                "story": stories[f.sources[0].article],
                "entities": sorted(
                    set().union(*(named.get((s.article, s.fact), set()) for s in f.sources)),
                    key=item_number,
                ),
            }
        )
        for f in digest_facts
    ]
    shared, differences = across(articles, reports)
    digest = Digest(
        articles=articles,
        summary="",
        facts=digest_facts,
        contradictions=contradictions,
        entities=entities,
        timeline=people.timeline(articles, reports, entity_of),
        implications=[],
        analysis=None,
        decisions=decisions,
        decisions_unlisted=unlisted,
        notes=shared,
        differences=differences,
        model=None,
        usage=None,
        warnings=warnings,
    )
    return Merged(digest, between)


LISTED_APART = 0.5  # a pair kept apart by rule is listed in ``decisions`` from this score up
MOST_DECISIONS = 5000  # decisions listed at most; the rest are counted (``decisions_unlisted``)


def _articles(
    given: Sequence[Given], warnings: list[str]
) -> tuple[list[DigestArticle], list[Report]]:
    articles: list[DigestArticle] = []
    reports: list[Report] = []
    seen: dict[str, str] = {}
    for item in given:
        report = item.report
        digest = report.source.sha256
        if digest in seen:
            warnings.append(f"{item.path or report.title!r} is the same article as {seen[digest]}")
            continue
        aid = f"a{len(articles) + 1}"
        seen[digest] = aid
        grounded = sum(1 for f in report.facts if f.grounded)
        articles.append(
            DigestArticle(
                id=aid,
                report=item.path,
                title=report.title,
                source=report.source.url or report.source.path,
                site=report.metadata.site,
                date=report.metadata.date,
                sha256=digest,
                facts=grounded,
            )
        )
        reports.append(report)
    return articles, reports


def _digest_fact(fid: str, members: list[tuple[str, Fact]], dated: Mapping[str, str]) -> DigestFact:
    def rank(item: tuple[str, Fact]) -> tuple[int, float, int]:
        fact = item[1]
        verified = fact.verification is not None and fact.verification.verdict == "supported"
        return (-int(verified), -(fact.support or 0.0), len(fact.text))

    best = min(members, key=rank)[1]
    sources = [
        SourceQuote(
            article=a,
            fact=f.id,
            text=f.text,
            evidence=f.evidence,
            start=f.start or 0,
            end=f.end or 0,
            verdict=f.verification.verdict if f.verification else None,
        )
        for a, f in members
    ]
    count = len({a for a, _ in members})
    dates = [dated[a] for a, _ in members if a in dated]
    return DigestFact(
        id=fid,
        text=best.text,
        sources=sources,
        articles=count,
        single_source=count == 1,
        story=0,
        first_reported=min(dates) if dates else None,
    )


def _contradictions(
    decided: Sequence[tuple[match.Pair, Verdict, How]],
    keys: Sequence[match.Key],
    index: Mapping[str, int],
    fact_of: Mapping[int, str],
) -> list[Contradiction]:
    links: dict[str, set[str]] = defaultdict(set)
    kinds: dict[frozenset[str], str] = {}
    for pair, outcome, _ in decided:
        if outcome != "contradicts":
            continue
        x, y = fact_of[index[pair.a.id]], fact_of[index[pair.b.id]]
        if x == y:
            continue
        links[x].add(y)
        links[y].add(x)
        kinds[frozenset((x, y))] = pair.kind or "outcome"
    members_of: dict[str, list[int]] = defaultdict(list)
    for i, fid in fact_of.items():
        members_of[fid].append(i)
    found: list[Contradiction] = []
    seen: set[str] = set()
    for start in sorted(links, key=item_number):
        if start in seen:
            continue
        component, todo = [], [start]
        while todo:
            fid = todo.pop()
            if fid in seen:
                continue
            seen.add(fid)
            component.append(fid)
            todo += links[fid] - seen
        component.sort(key=item_number)
        kind = Counter(k for pair, k in kinds.items() if pair <= set(component)).most_common(1)[0][
            0
        ]
        values = [_values(kind, [keys[i] for i in members_of[fid]]) for fid in component]
        common = set.intersection(*values) if values else set()
        versions = [
            Version(value=", ".join(sorted(v - common) or sorted(v)) or "(as stated)", facts=[fid])
            for fid, v in zip(component, values, strict=True)
        ]
        found.append(Contradiction(id=f"x{len(found) + 1}", kind=kind, versions=versions))  # type: ignore[arg-type]
    return found


def _values(kind: str, keys: Sequence[match.Key]) -> set[str]:
    out: set[str] = set()
    for k in keys:
        if kind == "number":
            out |= k.numbers
        elif kind == "date":
            out |= k.dates
        elif kind == "role":
            out |= k.roles
        else:
            out |= {f"{family} {'+' if sign > 0 else '-'}" for family, sign in k.outcomes}
    return out


def _stories(
    articles: Sequence[DigestArticle],
    facts: Sequence[DigestFact],
    contradictions: Sequence[Contradiction],
    entities: Sequence[DigestEntity],
) -> dict[str, int]:
    """Each article's story: articles sharing a fact, a contradiction or a named person or
    organisation are one story; stories are numbered from the largest."""
    parent = {a.id: a.id for a in articles}

    def find(x: str) -> str:
        while parent[x] != x:
            x = parent[x]
        return x

    def join(ids: Sequence[str]) -> None:
        for other in ids[1:]:
            parent[find(other)] = find(ids[0])

    by_fact = {f.id: f for f in facts}
    for f in facts:
        join([s.article for s in f.sources])
    for c in contradictions:
        join([s.article for v in c.versions for fid in v.facts for s in by_fact[fid].sources])
    for e in entities:
        if e.type in ("person", "organisation"):
            join(e.articles)
    members: dict[str, list[str]] = defaultdict(list)
    for a in articles:
        members[find(a.id)].append(a.id)
    ranked = sorted(members.values(), key=lambda m: (-len(m), item_number(m[0])))
    return {a: n for n, group in enumerate(ranked, start=1) for a in group}
