"""The digest on one beat: thousands of reports whose facts are worded alike (issue 30, item 2).

    python benchmarks/digest_beat.py 500 1000 2000 5000      # look-alike facts
    python benchmarks/digest_beat.py --people 10000          # reports naming the same people

Each synthetic report has five facts in a beat's stock phrases ("The council of Ashford voted
7-2 on Tuesday to approve the budget of $412 million"), with the town, the vote and the amount
drawn per report, so every fact shares most of its words with thousands of others and LSH puts
them in the same buckets. ``--people``: each report names the same five people and has one
fact of its own. Printed: seconds and peak memory of the deterministic digest (``merge``:
matching, merging, contradictions, entities), the pairs weighed and those listed, in a child
process each.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOWNS = "Ashford Brindle Carrow Dunmore Elsted Farley Glenby Harlow Ilkes Jarrow".split()
PHRASES = [
    "The council of {town} voted {a}-{b} on Tuesday to approve the budget of ${m} million.",
    "The mayor of {town} said the new budget of ${m} million would fund {n} road repairs.",
    "Officials in {town} expect construction to begin in {month} and finish within {y} years.",
    "Residents of {town} asked the council for {n} more buses and a new library.",
    "The {town} finance office said property taxes would rise by {p} percent next year.",
]
MONTHS = "January February March April May June July August September October".split()
PEOPLE = ["Dana Okafor", "Miguel Arroyo", "Laura Chen", "Ravi Menon", "Paul Brandt"]


def reports(count: int, people: bool) -> list[object]:
    from analyst import summarize_text
    from analyst.schema import Entity, Fact, Report
    from analyst.testing import FakeChatClient, extractive_responder

    template = summarize_text(
        (ROOT / "examples" / "harbor-bridge.txt").read_text("utf-8"),
        client=FakeChatClient(responder=extractive_responder),
    )
    rng = random.Random(7)
    made: list[object] = []
    for r in range(count):
        values = {
            "town": f"{rng.choice(TOWNS)}{r}",
            "a": rng.randint(5, 9),
            "b": rng.randint(0, 4),
            "m": rng.randint(100, 900),
            "n": rng.randint(10, 90),
            "month": rng.choice(MONTHS),
            "y": rng.randint(2, 6),
            "p": rng.randint(1, 9),
        }
        facts = []
        # With people: one fact a report, of its own words, so that the entities are what is
        # measured (the look-alike facts are the other case).
        phrases = [f"Item {r} of the register lists {values['town']}."] if people else PHRASES
        for n, phrase in enumerate(phrases, start=1):
            text = phrase.format(**values)
            facts.append(
                Fact(
                    id=f"f{n}", section="s1", text=text, evidence=text, start=0,
                    end=len(text), match=template.facts[0].match, grounded=True,
                )
            )  # fmt: skip
        entities = (
            [Entity(id=f"e{k}", name=p, type="person", mentions=1) for k, p in enumerate(PEOPLE)]
            if people
            else []
        )
        source = template.source.model_copy(update={"sha256": f"{r:064x}"})
        made.append(
            Report.model_validate(
                {**template.model_dump(), "facts": [f.model_dump() for f in facts],
                 "source": source.model_dump(), "entities": [e.model_dump() for e in entities],
                 "implications": [], "analysis": {"text": "", "facts": []}, "notes": []}
            )
        )  # fmt: skip
    return made


def child(count: int, people: bool) -> None:
    from analyst.digest.merge import Given, merge

    given = [Given(r) for r in reports(count, people)]  # type: ignore[arg-type]
    started = time.perf_counter()
    digest = merge(given).digest
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    weighed = len(digest.decisions) + digest.decisions_unlisted
    print(
        f"{count:>6,} reports  {seconds:7.1f} s  peak {peak:7.0f} MB  "
        f"{len(digest.facts):>6,} digest facts  {weighed:>9,} pairs weighed  "
        f"{len(digest.decisions):>7,} listed  {len(digest.entities)} entities"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("counts", nargs="*", type=int, default=[500, 1000, 2000, 5000])
    parser.add_argument("--people", type=int, help="reports naming the same five people")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--with-people", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.with_people)
        return
    runs = [(args.people, True)] if args.people else [(n, False) for n in args.counts]
    for count, people in runs:
        command = [sys.executable, __file__, "--child", str(count)]
        command += ["--with-people"] if people else []
        subprocess.run(command, check=False)


if __name__ == "__main__":
    main()
