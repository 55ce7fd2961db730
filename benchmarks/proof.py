"""Does the proof prove? Figures of issue 15 over a folder of reports and the articles they read.

    analyst batch articles/ -o reports/ --format json
    python benchmarks/proof.py articles/ reports/ [--references bbc_news.jsonl]

Over all the reports: the figures of ``analyst.evaluation.proof`` (the ones ``analyst eval``
gives per article), ROUGE-1 of the summary and of lead-3 against the reference when one is
given, model calls, prompt tokens and those read from the server's prompt cache, and seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyst.evaluation.proof import proof_figures  # noqa: E402
from analyst.reading.formats import load_article  # noqa: E402
from analyst.schema import Report  # noqa: E402


def figures(report: Report, text: str, *, who: bool = False) -> dict[str, float | int]:
    """The counts of one report (``analyst.evaluation.proof``, as ``analyst eval`` reports them)."""
    found = proof_figures(report, load_article(text).text, who=who)
    return {
        "facts": found.facts,
        "unsupported": found.unsupported,
        "misattributed": found.misattributed,
        "extractive": found.extractive,
        "copied": found.copied,
        "cited": found.cited,
        "invented": found.invented,
        "repeated": found.repeated,
        "interpretive sentences": found.interpretive,
        "restated": found.restated,
        "full analysis": int(found.full_analysis),
        "analysis words": found.analysis_words,
        "calls": report.usage.calls + report.usage.cache_hits,
        "seconds": report.usage.seconds,
        "prompt tokens": report.usage.prompt_tokens,
        "cached prompt tokens": report.usage.cached_prompt_tokens or 0,
        "entities": found.entities,
        "roles": found.roles,
        "roles unsupported": found.roles_unsupported,
        "events": found.events,
        "events underived": found.events_underived,
        "relations": len(report.relations),
        "named often": found.named_often,
        "named found": found.named_found,
        "notes": sum(n for _, n in found.notes_by_kind),
        **{f"notes {kind}": n for kind, n in found.notes_by_kind},
        "computed notes": found.computed,
        "recompute errors": found.recompute_errors,
        "on facts": found.on_facts,
        "on notes": found.on_notes,
        "on background": found.on_background,
        "on nothing": found.on_nothing,
        "completion tokens": report.usage.completion_tokens,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("articles", type=Path)
    parser.add_argument("reports", type=Path)
    parser.add_argument("--references", type=Path, help="JSONL with id and reference_summary")
    parser.add_argument(
        "--who", action="store_true", help="the reports were written with --who: count recall"
    )
    args = parser.parse_args()
    references: dict[str, str] = {}
    if args.references:
        for line in args.references.read_text("utf-8").splitlines():
            row = json.loads(line)
            references[row["id"]] = row["reference_summary"]
    rows: list[dict[str, float | int]] = []
    rouge1: list[tuple[float, float]] = []
    for path in sorted(args.reports.rglob("*.json")):
        article = args.articles / path.relative_to(args.reports).with_suffix("")
        report = Report.model_validate_json(path.read_text("utf-8"))
        text = article.read_text("utf-8")
        rows.append(figures(report, text, who=args.who))
        reference = references.get(article.stem)
        if reference:
            from analyst.evaluation.articles import lead3, rouge

            rouge1.append(
                (
                    rouge(report.summary, reference)["rouge1"],
                    rouge(lead3(text), reference)["rouge1"],
                )
            )
    keys = list(dict.fromkeys(k for r in rows for k in r))
    total = {k: sum(r.get(k, 0) for r in rows) for k in keys}
    facts, sentences = total["facts"] or 1, total["interpretive sentences"] or 1
    per_report = [r["facts"] for r in rows]
    lines = [
        ("unsupported (word share < 0.5)", f"{total['unsupported'] / facts:.1%}"),
        ("misattributed (a name or number)", f"{total['misattributed'] / facts:.1%}"),
        ("stated in the article's words", total["extractive"]),
        ("copied from their sentence by the model", total["copied"]),
        ("their sentence, cited by number (--fact-text sentence)", total["cited"]),
        ("invented terms in the synthesis", total["invented"]),
        ("repeated summary sentences", total["repeated"]),
        ("restating sentences", f"{total['restated']} of {total['interpretive sentences']}"),
        ("restating share", f"{total['restated'] / sentences:.1%}"),
        ("analyses of >= 3 sentences, >= 50 words", f"{total['full analysis']} of {len(rows)}"),
        ("analysis words, median", statistics.median(r["analysis words"] for r in rows)),
        ("facts per report, min / median", f"{min(per_report)} / {statistics.median(per_report)}"),
        ("calls", total["calls"]),
        (
            "prompt tokens (from the server's cache)",
            f"{total['prompt tokens']:,} ({total['cached prompt tokens']:,})",
        ),
        ("seconds of the reports (summed)", f"{total['seconds']:.0f}"),
        ("completion tokens per report, mean", f"{total['completion tokens'] / len(rows):.0f}"),
        ("notes", total["notes"]),
        (
            "notes by kind",
            ", ".join(
                f"{k.removeprefix('notes ')} {total[k]}" for k in keys if k.startswith("notes ")
            ),
        ),
        (
            "computed notes, recomputation errors",
            f"{total['computed notes']}, {total['recompute errors']}",
        ),
        (
            "interpretive sentences resting on notes / facts only / background / nothing",
            f"{total['on notes']} / {total['on facts']} / {total['on background']} / "
            f"{total['on nothing']}",
        ),
        ("entities (who's who)", total["entities"]),
        ("roles, unsupported by their passage", f"{total['roles']}, {total['roles unsupported']}"),
        ("timeline events, date not derivable", f"{total['events']}, {total['events underived']}"),
        ("relations", total["relations"]),
    ]
    if args.who:
        often, found = total["named often"], total["named found"]
        share = f"{found / often:.1%}" if often else "n/a"
        lines.append(
            ("named twice or more (spaCy), among entities", f"{found} of {often} ({share})")
        )
    if rouge1:
        ours, lead = zip(*rouge1, strict=True)
        lines.append(
            ("ROUGE-1 (lead-3)", f"{statistics.fmean(ours):.3f} ({statistics.fmean(lead):.3f})")
        )
    print(f"{len(rows)} reports, {total['facts']} facts shown as supported")
    for label, value in lines:
        print(f"  {label:<44} {value}")


if __name__ == "__main__":
    main()
