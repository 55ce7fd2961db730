"""Does the digest merge what is the same and flag what contradicts? Figures of issue 21.

    python benchmarks/digest.py REPORTS/ [--variants 10] [--scale 100,1000,10000]

The evaluation set is made from real reports (a batch's JSON, written with their article text:
``--format json,html`` or ``--include-text``), so that the answers are known:

- the first ``--variants`` reports each get a **variant**: the same story as another outlet
  would write it. Its article is the report's quoted sentences, shuffled, each reworded (numbers
  written another way, "$1.13bn" as "$1.13 billion", "76%" as "76 per cent"; common words
  swapped for synonyms; a leading "However," or a trailing "he said" dropped), one fact left
  out, and — the contradictions — one number changed and one role (or outcome) changed;
- the other reports stay as they are: unrelated stories the digest must not merge into these.

True duplicates are each original fact and its reworded version; true contradictions are each
original fact and its edited version; every other pair of facts of different articles is
apart. Printed: merging precision and recall (over pairs of facts put in one digest fact),
contradiction precision and recall (over pairs of facts set against each other), the share of
digest facts whose every source quote is found at its offsets in its article, and the seconds
of the deterministic part (matching, merging, contradictions) over 100 / 1,000 / 10,000
synthetic reports on one core (the set copied with its names and numbers made distinct per copy).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyst.digest.merge import Given, merge  # noqa: E402
from analyst.schema import Fact, Report  # noqa: E402

SYNONYMS = {
    "said": "stated", "says": "states", "company": "firm", "firm": "company", "bought": "acquired",
    "rose": "increased", "fell": "decreased", "profits": "earnings", "shares": "stock",
    "announced": "unveiled", "plans": "intends", "expected": "forecast", "big": "large",
    "biggest": "largest", "help": "assist", "buy": "purchase", "sales": "revenues",
    "government": "administration", "also": "additionally", "about": "around",
}  # fmt: skip
ROLES = {
    "chief executive": "chairman", "chairman": "chief executive", "ceo": "chairman",
    "president": "vice president", "minister": "deputy minister", "director": "deputy director",
    "head": "deputy head", "economist": "analyst", "analyst": "economist", "leader": "deputy",
}  # fmt: skip
FLIPS = {
    "rose": "fell", "fell": "rose", "approved": "rejected", "rejected": "approved",
    "increased": "decreased", "won": "lost", "lost": "won", "accepted": "refused",
}  # fmt: skip
_UNIT = re.compile(r"(\d)(bn|m)\b")
_PERCENT = re.compile(r"(\d)%")
_NUMBER = re.compile(r"(?<![\w.,])(\d+)(?:\.(\d+))?(?![\w,]|\.\d)")


def reword(text: str, rng: random.Random) -> str:
    """Another outlet's wording of ``text``: the same statement."""
    text = _UNIT.sub(
        lambda m: f"{m.group(1)} {'billion' if m.group(2) == 'bn' else 'million'}", text
    )
    text = _PERCENT.sub(r"\1 per cent", text)
    text = re.sub(r"^(However|But|And|Meanwhile),?\s+", "", text)
    text = re.sub(r",\s+(he|she|they|it|analysts|officials) (said|says)\.$", ".", text)
    words = text.split(" ")
    swappable = [i for i, w in enumerate(words) if w.lower() in SYNONYMS]
    for i in rng.sample(swappable, k=min(2, len(swappable))):
        w = words[i]
        new = SYNONYMS[w.lower()]
        words[i] = new.capitalize() if w[0].isupper() else new
    text = " ".join(words)
    return text[0].upper() + text[1:] if text else text


def change_number(text: str, rng: random.Random) -> str | None:
    """``text`` with one number changed (not a year), or None when it has none."""
    found = [m for m in _NUMBER.finditer(text) if not (1900 <= int(m.group(1)) <= 2100)]
    if not found:
        return None
    m = rng.choice(found)
    value = int(m.group(1))
    bumped = str(value + max(1, value // 5) + 1)
    return text[: m.start(1)] + bumped + text[m.end(1) :]


def change_role(text: str) -> str | None:
    """``text`` with a role (or an outcome) changed, or None when it has neither."""
    lowered = text.lower()
    for table in (ROLES, FLIPS):
        for word, other in table.items():
            m = re.search(rf"\b{re.escape(word)}\b", lowered)
            if m:
                return text[: m.start()] + other + text[m.end() :]
    return None


def variant(report: Report, rng: random.Random) -> tuple[Report, dict[str, tuple[str, str]]]:
    """A report of the same story by another outlet, and what each of its facts is: the
    original fact's id and "same" or "contradicts"."""
    facts = [f for f in report.facts if f.grounded and f.start is not None]
    facts = facts[:]
    rng.shuffle(facts)
    if len(facts) > 3:
        facts = facts[:-1]  # one fact the other outlet did not report
    edited: dict[str, str] = {}
    for f in facts:
        if "number" not in edited.values():
            changed = change_number(f.text, rng)
            if changed:
                edited[f.id] = "number"
                continue
    for f in facts:
        if f.id not in edited and "role" not in edited.values() and change_role(f.text):
            edited[f.id] = "role"
            break
    sentences: list[tuple[str, str]] = []
    truth: dict[str, tuple[str, str]] = {}
    for n, f in enumerate(facts, start=1):
        text = f.text
        if edited.get(f.id) == "number":
            text = change_number(text, rng) or text
        elif edited.get(f.id) == "role":
            text = change_role(text) or text
        text = reword(text, rng)
        sentences.append((f"f{n}", text))
        truth[f"f{n}"] = (f.id, "contradicts" if f.id in edited else "same")
    article = "Another outlet\n\n" + "\n\n".join(s for _, s in sentences)
    new_facts = []
    for fid, sentence in sentences:
        start = article.index(sentence)
        new_facts.append(
            Fact(
                id=fid,
                section="s1",
                text=sentence,
                evidence=sentence,
                start=start,
                end=start + len(sentence),
                match="exact",  # type: ignore[arg-type]
                grounded=True,
            )
        )
    source = report.source.model_copy(
        update={"text": article, "sha256": f"variant-{report.source.sha256}", "path": None}
    )
    copy = report.model_copy(
        update={
            "facts": new_facts,
            "source": source,
            "title": f"{report.title} (variant)",
            "implications": [],
            "analysis": report.analysis.model_copy(update={"facts": [], "parts": None, "text": ""}),
            "entities": [],
            "timeline": [],
            "relations": [],
        }
    )
    return copy, truth


def evaluate(reports: list[Report], variants: int, seed: int = 7) -> dict[str, float]:
    rng = random.Random(seed)
    given = [Given(r) for r in reports]
    truth_same: set[frozenset[str]] = set()
    truth_contra: set[frozenset[str]] = set()
    extra: list[Given] = []
    for i, report in enumerate(reports[:variants]):
        copy, truth = variant(report, rng)
        original = f"a{i + 1}"
        mine = f"a{len(reports) + len(extra) + 1}"
        extra.append(Given(copy))
        for fid, (orig, kind) in truth.items():
            pair = frozenset((f"{original}/{orig}", f"{mine}/{fid}"))
            (truth_same if kind == "same" else truth_contra).add(pair)
    merged = merge(given + extra).digest
    texts = {
        a.id: (given + extra)[n].report.source.text or "" for n, a in enumerate(merged.articles)
    }
    pred_same: set[frozenset[str]] = set()
    for f in merged.facts:
        keys = [f"{s.article}/{s.fact}" for s in f.sources]
        pred_same |= {
            frozenset((x, y))
            for x in keys
            for y in keys
            if x < y and x.split("/")[0] != y.split("/")[0]
        }
    pred_contra: set[frozenset[str]] = set()
    for c in merged.contradictions:
        sides = [
            [f"{s.article}/{s.fact}" for fid in v.facts for s in merged.fact(fid).sources]
            for v in c.versions
        ]
        for i, a in enumerate(sides):
            for b in sides[i + 1 :]:
                pred_contra |= {frozenset((x, y)) for x in a for y in b}
    resolved = sum(
        all(texts[s.article][s.start : s.end] == s.evidence for s in f.sources)
        for f in merged.facts
    )

    def ratio(a: int, b: int) -> float:
        return a / b if b else 1.0

    return {
        "articles": len(merged.articles),
        "facts in": sum(len(f.sources) for f in merged.facts),
        "digest facts": len(merged.facts),
        "true duplicates": len(truth_same),
        "merge precision": ratio(len(pred_same & truth_same), len(pred_same)),
        "merge recall": ratio(len(pred_same & truth_same), len(truth_same)),
        "true contradictions": len(truth_contra),
        "contradiction precision": ratio(len(pred_contra & truth_contra), len(pred_contra)),
        "contradiction recall": ratio(len(pred_contra & truth_contra), len(truth_contra)),
        "facts resolving to their quotes": ratio(resolved, len(merged.facts)),
        "pairs weighed": len(merged.decisions),
    }


def synthetic(reports: list[Report], n: int) -> list[Given]:
    """``n`` reports copied from ``reports``, each copy a story of its own: its names and
    numbers made distinct, and most of its longer words too (a copy keeps about a third, as
    two unrelated stories on one topic share words)."""
    out = []
    for c in range(n):
        r = reports[c % len(reports)]
        rng = random.Random(c)
        tag = f"q{c // len(reports)}"

        def mark(text: str, tag: str = tag, rng: random.Random = rng, c: int = c) -> str:
            text = re.sub(r"\b([A-Z][a-z]+)", lambda m: m.group(1) + tag, text)
            text = re.sub(
                r"\b([a-z]{4,})\b",
                lambda m: m.group(1) + tag if rng.random() < 0.7 else m.group(1),
                text,
            )
            return re.sub(r"\b(\d+)\b", lambda m: str(int(m.group(1)) + c // len(reports)), text)

        facts = [f.model_copy(update={"text": mark(f.text)}) for f in r.facts]
        source = r.source.model_copy(update={"sha256": f"{r.source.sha256}-{c}"})
        out.append(Given(r.model_copy(update={"facts": facts, "source": source, "entities": []})))
    return out


def big_story(report: Report, outlets: int) -> tuple[list[Given], str]:
    """``outlets`` reports of one fact, each reworded its own way: should be one digest fact."""
    fact = next(f for f in report.facts if f.grounded)
    out = []
    for n in range(outlets):
        text = reword(fact.text, random.Random(n))
        article = f"Outlet {n}\n\n{text}"
        start = article.index(text)
        mine = fact.model_copy(
            update={"text": text, "evidence": text, "start": start, "end": start + len(text)}
        )
        source = report.source.model_copy(update={"sha256": f"story-{n}", "text": article})
        out.append(
            Given(report.model_copy(update={"facts": [mine], "source": source, "entities": []}))
        )
    return out, fact.text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", type=Path)
    parser.add_argument("--variants", type=int, default=21)
    parser.add_argument("--seeds", type=int, default=5, help="sets made with seeds 1..N")
    parser.add_argument("--scale", default="100,1000,10000")
    parser.add_argument("--outlets", type=int, default=300)
    args = parser.parse_args()
    reports = [
        Report.model_validate_json(p.read_text("utf-8"))
        for p in sorted(args.reports.glob("*.json"))
    ]
    reports = [r for r in reports if r.source.text]
    if not reports:
        sys.exit("no report with its article text (write them with --include-text)")
    runs = [evaluate(reports, args.variants, seed) for seed in range(1, args.seeds + 1)]
    print(f"{len(reports)} reports, {args.variants} variants, seeds 1..{args.seeds}: worst, mean")
    for name in runs[0]:
        values = [float(r[name]) for r in runs]
        worst = max(values) if name in ("pairs weighed",) else min(values)
        mean = sum(values) / len(values)
        print(f"  {name:<34} {worst:8.3f} {mean:8.3f}")
    for n in [int(x) for x in args.scale.split(",") if x]:
        given = synthetic(reports, n)
        start = time.perf_counter()
        digest = merge(given).digest
        seconds = time.perf_counter() - start
        facts = sum(len(f.sources) for f in digest.facts)
        print(
            f"  deterministic part, {n:>6,} reports ({facts:,} facts): {seconds:6.2f} s, "
            f"{len(digest.decisions):,} pairs weighed"
        )
    given, text = big_story(reports[0], args.outlets)
    start = time.perf_counter()
    merged = merge(given).digest
    seconds = time.perf_counter() - start
    widest = max(f.articles for f in merged.facts)
    print(
        f"  one fact reported by {args.outlets} outlets, each in its own words: the widest "
        f"digest fact has {widest} sources ({len(merged.facts)} digest facts, {seconds:.2f} s)"
    )


if __name__ == "__main__":
    main()
