"""Does the proof prove? Figures of issue 15 over a folder of reports and the articles they read.

    analyst batch articles/ -o reports/ --format json
    python benchmarks/proof.py articles/ reports/ [--references bbc_news.jsonl]

Per report, and over all of them:

- unsupported: facts shown with ✓ whose content words are mostly (over half) absent from the
  sentences their quote stands in (``text.support.overlap`` < 0.5, no stemming: the plain test);
- misattributed: facts shown with ✓ naming a number or name absent from that passage;
- invented: numbers and names in the summary, implications and analysis the article never has;
- repeated summary sentences; implication and analysis sentences that restate a fact or an
  article sentence (``stages.gates.restates``);
- analyses of at least 3 sentences and 50 words; ROUGE-1 of the summary and of lead-3 against
  the reference when one is given; model calls and seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyst.reading.formats import load_article  # noqa: E402
from analyst.schema import Report  # noqa: E402
from analyst.stages import gates  # noqa: E402
from analyst.text.quotes import absent_names  # noqa: E402
from analyst.text.support import overlap, passage  # noqa: E402


def figures(report: Report, text: str) -> dict[str, float | int]:
    """The counts of one report."""
    source = load_article(text).text
    shown = [f for f in report.facts if f.grounded and f.start is not None and f.end is not None]
    unsupported = misattributed = 0
    for f in shown:
        around = passage(source, f.start or 0, f.end or 0)
        if overlap(f.text, around) < 0.5:
            unsupported += 1
        if absent_names(f.text, around):
            misattributed += 1
    written = [s for item in report.summary.split("\n") for s in gates.sentences(item)]
    parts = written + [i.text for i in report.implications] + gates.sentences(report.analysis.text)
    invented = sum(len(gates.invented(p, source, names=True)) for p in parts)
    interpret = [i.text for i in report.implications] + gates.sentences(report.analysis.text)
    article_sentences = gates.sentences(source)
    restated = sum(1 for s in interpret if gates.restates(s, report.facts, article_sentences))
    analysis = report.analysis.text
    full = len(gates.sentences(analysis)) >= 3 and len(analysis.split()) >= 50
    return {
        "facts": len(shown),
        "unsupported": unsupported,
        "misattributed": misattributed,
        "extractive": sum(1 for f in shown if f.extractive),
        "invented": invented,
        "repeated": len(gates.repeats(written)),
        "interpretive sentences": len(interpret),
        "restated": restated,
        "full analysis": int(full),
        "analysis words": len(analysis.split()),
        "calls": report.usage.calls + report.usage.cache_hits,
        "seconds": report.usage.seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("articles", type=Path)
    parser.add_argument("reports", type=Path)
    parser.add_argument("--references", type=Path, help="JSONL with id and reference_summary")
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
        rows.append(figures(report, text))
        reference = references.get(article.stem)
        if reference:
            from analyst.evaluate import lead3, rouge

            rouge1.append(
                (
                    rouge(report.summary, reference)["rouge1"],
                    rouge(lead3(text), reference)["rouge1"],
                )
            )
    total = {k: sum(r[k] for r in rows) for k in rows[0]}
    facts, sentences = total["facts"] or 1, total["interpretive sentences"] or 1
    per_report = [r["facts"] for r in rows]
    lines = [
        ("unsupported (word share < 0.5)", f"{total['unsupported'] / facts:.1%}"),
        ("misattributed (a name or number)", f"{total['misattributed'] / facts:.1%}"),
        ("stated in the article's words", total["extractive"]),
        ("invented terms in the synthesis", total["invented"]),
        ("repeated summary sentences", total["repeated"]),
        ("restating sentences", f"{total['restated']} of {total['interpretive sentences']}"),
        ("restating share", f"{total['restated'] / sentences:.1%}"),
        ("analyses of >= 3 sentences, >= 50 words", f"{total['full analysis']} of {len(rows)}"),
        ("analysis words, median", statistics.median(r["analysis words"] for r in rows)),
        ("facts per report, min / median", f"{min(per_report)} / {statistics.median(per_report)}"),
        ("calls", total["calls"]),
        ("seconds of the reports (summed)", f"{total['seconds']:.0f}"),
    ]
    if rouge1:
        ours, lead = zip(*rouge1, strict=True)
        lines.append(
            ("ROUGE-1 (lead-3)", f"{statistics.fmean(ours):.3f} ({statistics.fmean(lead):.3f})")
        )
    print(f"{len(rows)} reports, {total['facts']} facts shown as supported")
    for label, value in lines:
        print(f"  {label:<42} {value}")


if __name__ == "__main__":
    main()
