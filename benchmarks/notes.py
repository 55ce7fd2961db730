"""The notes against hand labels: what to watch (recall, precision) and quotation speakers.

    python benchmarks/notes.py                   # the first 20 BBC dev articles, the labels
    python benchmarks/notes.py --computed        # every computed note, with its sentences
    python benchmarks/notes.py --computed --all  # ... over the examples, the seed, the 95 BBC
                                                 # articles and the SummaC documents

The notes are computed without a model (``analyst.stages.notes``); the articles are read from
``../shared/data/dev/bbc_news.jsonl`` and the labels from ``benchmarks/labels/notes_dev20.json``
(how they were made is written in the file). A labelled future item is found when a watch
note rests on the sentence that holds it and its date words overlap the label's; a quotation's
speaker is right when one name ends with the other's last word ("Ms Diemont", "Cara Diemont").
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyst import Settings, summarize_text  # noqa: E402
from analyst.schema import COMPUTED_KINDS, Report  # noqa: E402
from analyst.testing import FakeChatClient, extractive_responder  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "dev" / "bbc_news.jsonl"
LABELS = ROOT / "benchmarks" / "labels" / "notes_dev20.json"
CLAIMS = ROOT.parent / "shared" / "data" / "dev" / "claims" / "summac_dev.jsonl"


def report(text: str) -> Report:
    """The report of ``text`` with the notes as the pipeline computes them (a stand-in model
    writes the facts: the notes do not depend on it)."""
    fake = FakeChatClient(responder=extractive_responder, backend="local")
    return summarize_text(text, client=fake, settings=Settings(include_text=True))


def same_speaker(found: str | None, label: str) -> bool:
    if not found:
        return False
    a, b = found.casefold().split(), label.casefold().split()
    return (
        a[-1] == b[-1]
        or label.casefold() in found.casefold()
        or found.casefold() in label.casefold()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--computed", action="store_true", help="list the computed notes")
    parser.add_argument("--all", action="store_true", help="with --computed: every dev article")
    args = parser.parse_args()
    if args.computed and args.all:
        computed(_everything())
        return
    labels = {a["id"]: a for a in json.loads(LABELS.read_text("utf-8"))["articles"]}
    rows = [json.loads(line) for line in DATA.read_text("utf-8").splitlines()]
    rows = [r for r in rows if r["id"] in labels]
    found_items = right_items = labelled_items = 0
    quotes = right_speakers = quote_found = 0
    for row in rows:
        label = labels[row["id"]]
        r = report(f"{row['title']}\n\n{row['text']}")
        source = r.source.text or ""
        if args.computed:
            for n in r.notes:
                if n.kind in COMPUTED_KINDS:
                    said = " | ".join(source[s.start : s.end] for s in n.spans)
                    print(f"{row['id']} {n.id} {n.kind}: {n.text}\n    {said}\n")
            continue
        watch = [n for n in r.notes if n.kind == "watch"]
        matched: set[str] = set()
        for item in label["watch"]:
            labelled_items += 1
            hit = next(
                (
                    n
                    for n in watch
                    if any(item["sentence"] in source[s.start : s.end] for s in n.spans)
                    and _dates_overlap(n.date_text or "", item["date"])
                    and n.id not in matched
                ),
                None,
            )
            if hit is not None:
                matched.add(hit.id)
                right_items += 1
            else:
                print(f"  missed  {row['id']}: {item['date']!r} in “{item['sentence']}”")
        found_items += len(watch)
        for n in watch:
            if n.id not in matched:
                print(f"  extra   {row['id']}: {n.text}")
        quoted = [n for n in r.notes if n.kind == "quote"]
        for q in label["quotes"]:
            quotes += 1
            note = next(
                (n for n in quoted if q["quote"] in source[n.spans[0].start : n.spans[0].end]), None
            )
            quote_found += note is not None
            if note is not None and same_speaker(note.speaker, q["speaker"]):
                right_speakers += 1
            else:
                who = note.speaker if note else "(quotation not found)"
                print(f"  speaker {row['id']}: “{q['quote']}” → {who}, labelled {q['speaker']}")
    if args.computed:
        return
    print(f"{len(rows)} articles")
    print(
        f"  future-dated items found (recall)   {right_items} of {labelled_items} "
        f"({right_items / max(labelled_items, 1):.1%})"
    )
    print(
        f"  watch notes that are labelled items {right_items} of {found_items} "
        f"({right_items / max(found_items, 1):.1%} precision)"
    )
    print(f"  quotations found                    {quote_found} of {quotes}")
    print(f"  quotations with the right speaker   {right_speakers} of {quotes} "
          f"({right_speakers / max(quotes, 1):.1%})")  # fmt: skip


def _everything() -> list[tuple[str, str]]:
    """The examples, the seed, the BBC dev articles and the SummaC documents, by id."""
    examples = ROOT / "examples"
    found = [(p.stem, p.read_text("utf-8")) for p in sorted(examples.glob("*.txt"))]
    found.append(
        ("seed", (ROOT.parent / "shared" / "data" / "seed-article.txt").read_text("utf-8"))
    )
    for line in DATA.read_text("utf-8").splitlines():
        row = json.loads(line)
        found.append((row["id"], f"{row['title']}\n\n{row['text']}"))
    docs: dict[str, str] = {}
    for line in CLAIMS.read_text("utf-8").splitlines():
        row = json.loads(line)
        docs.setdefault(row["doc_id"], row["text"])
    return found + [(f"summac:{k}", v) for k, v in sorted(docs.items())]


def computed(articles: list[tuple[str, str]]) -> None:
    """Every computed note of ``articles``, with its sentences and whether it recomputes."""
    from analyst.evaluation.proof import recomputes

    count = 0
    for name, text in articles:
        r = report(text)
        source = r.source.text or ""
        for n in r.notes:
            if n.kind in COMPUTED_KINDS:
                count += 1
                said = " | ".join(source[s.start : s.end] for s in n.spans)
                ok = "recomputes" if recomputes(n, source) else "DOES NOT RECOMPUTE"
                print(f"#{count} {name} {n.id} {n.kind} ({ok}): {n.text}\n    {said}\n")
    print(f"{count} computed notes in {len(articles)} articles")


def _dates_overlap(found: str, label: str) -> bool:
    a, b = found.casefold(), label.casefold()
    return bool(a) and (a in b or b in a or bool(set(a.split()) & set(b.split())))


if __name__ == "__main__":
    main()
