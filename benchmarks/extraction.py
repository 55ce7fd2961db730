"""HTML extraction figures for issue 5: how close analyst's text is to the expected article text.

    python benchmarks/extraction.py

For each of the 12 dev pages in ../shared/data/dev/html (Mozilla readability test pages, with the
expected article text): the similarity of analyst's body text (headings and paragraphs, as the
model sees them) to the expected text — rapidfuzz's normalised Indel similarity on
whitespace-collapsed text — the language detected against the page's, the headings found, and
the seconds to read the page (trafilatura plus analyst's own assembly and language detection).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from rapidfuzz import fuzz

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyst.article import Kind  # noqa: E402
from analyst.reading.formats import load_article  # noqa: E402

PAGES = ROOT.parent / "shared" / "data" / "dev" / "html"


def main() -> None:
    rows = [json.loads(line) for line in (PAGES / "pages.jsonl").read_text("utf-8").splitlines()]
    load_article(b"<html><body><p>" + b"Warm-up paragraph. " * 20 + b"</p></body></html>")
    print(f"{'page':30} {'similarity':>10} {'lang':>9} {'headings':>8} {'seconds':>8}")
    sims, secs = [], []
    for row in rows:
        data = (PAGES / row["html_file"]).read_bytes()
        started = time.perf_counter()
        article = load_article(data, name=row["html_file"])
        seconds = time.perf_counter() - started
        body = " ".join(b.text for b in article.body)
        expected = " ".join(row["expected_text"].split())
        similarity = fuzz.ratio(" ".join(body.split()), expected) / 100
        headings = sum(1 for b in article.blocks if b.kind is Kind.HEADING)
        lang = f"{article.language}/{(row['language'] or '-').split('-')[0]}"
        print(f"{row['id']:30} {similarity:>10.3f} {lang:>9} {headings:>8} {seconds:>8.3f}")
        sims.append(similarity)
        secs.append(seconds)
    print(
        f"\nsimilarity: mean {statistics.mean(sims):.3f}, worst {min(sims):.3f}; "
        f"seconds per page: mean {statistics.mean(secs):.3f}, max {max(secs):.3f}"
    )


if __name__ == "__main__":
    main()
