"""The library's figures for issue 34: 1,000 kept reports, how fast they are searched.

    python benchmarks/library.py [--n 1000] [--repeat 50]

The reports are real analyst reports (each with its article's text, as ``analyst serve`` keeps
them) of the BBC dev articles in ../shared/data, the seed and the examples, written by the
extractive test responder (no model); they are repeated to ``--n`` with varied sites, days and
languages, so a filter has something to narrow. Printed: the time to add one report, to index
a folder of ``--n`` report files (a batch's output) and to look at it again, and for each kind
of search the median, 95th percentile and slowest of ``--repeat`` runs — in process, and as
``GET /v1/library`` of a live ``analyst serve`` on loopback.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyst import Settings, summarize_text  # noqa: E402
from analyst.library import Library, Query, scan  # noqa: E402
from analyst.schema import Report  # noqa: E402
from analyst.testing import FakeChatClient, extractive_responder  # noqa: E402
from benchmarks.pipeline import articles  # noqa: E402

SITES = ["BBC News", "Reuters", "AP", "The Guardian", "Le Monde", "Der Spiegel", "El País",
         "Financial Times", "Bloomberg", "NPR", "Al Jazeera", "The Ledger"]  # fmt: skip
LANGUAGES = ["en"] * 7 + ["fr", "de", "es"]
SEARCHES: list[tuple[str, Query]] = [
    ("one common word", Query.of("said")),
    ("one rarer word", Query.of("broadband")),
    ("two words", Query.of("economic growth")),
    ("a word's start (as typed)", Query.of("gov")),
    ("words + site", Query.of("year", site="Reuters")),
    ("words + dates", Query.of("market", since="2026-03-01", until="2026-06-30")),
    ("no words: the newest", Query.of()),
    ("no words + language", Query.of(language="fr")),
    ("page 10 of a list", Query.of(offset=450)),
]


def reports(settings: Settings) -> list[Report]:
    client = FakeChatClient(responder=extractive_responder)
    made = []
    for _, text in articles():
        made.append(summarize_text(text, client=client, settings=settings))
    return made


def varied(base: list[Report], n: int) -> list[Report]:
    rng = random.Random(34)
    out = []
    for i in range(n):
        report = base[i % len(base)]
        day = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        meta = report.metadata.model_copy(
            update={"site": rng.choice(SITES), "date": day, "language": rng.choice(LANGUAGES)}
        )
        out.append(report.model_copy(update={"metadata": meta}))
    return out


def timed(work: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))], times[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="analyst-library-"))
    settings = replace(Settings(cache_dir=work / "cache", cache=False), include_text=True)
    started = time.perf_counter()
    base = reports(settings)
    kept = varied(base, args.n)
    size = sum(len(r.model_dump_json()) for r in kept) / len(kept)
    print(f"{len(base)} distinct reports written in {time.perf_counter() - started:.1f} s; "
          f"{args.n:,} kept, {size / 1024:.0f} KiB of JSON each on average")  # fmt: skip

    library = Library(work / "library")
    start = time.perf_counter()
    for i, report in enumerate(kept):
        library.add(f"r{i}", report)
    added = (time.perf_counter() - start) * 1000 / len(kept)
    on_disk = sum(p.stat().st_size for p in (work / "library").iterdir()) / 2**20
    print(f"add: {added:.1f} ms a report (each its own transaction, fsynced); "
          f"library.sqlite and its log: {on_disk:.0f} MiB")  # fmt: skip

    folder = work / "batch-out"
    folder.mkdir()
    for i, report in enumerate(kept):
        (folder / f"article-{i:04d}.txt.json").write_text(report.model_dump_json())
    start = time.perf_counter()
    with Library(folder) as indexed:
        first = scan(indexed)
        first_s = time.perf_counter() - start
        start = time.perf_counter()
        scan(indexed)
        again_ms = (time.perf_counter() - start) * 1000
    print(f"a folder of {first.reports:,} report files: indexed in {first_s:.1f} s; "
          f"looked at again (nothing changed) in {again_ms:.0f} ms")  # fmt: skip

    print(f"\nsearch of {len(library):,} reports, {args.repeat} runs each (ms):")
    print(f"  {'':28} {'matches':>8} {'median':>8} {'p95':>8} {'max':>8}")
    for name, query in SEARCHES:
        total = library.search(query).total
        median, p95, most = timed(lambda q=query: library.search(q), args.repeat)  # type: ignore[misc]
        print(f"  {name:28} {total:8,} {median:8.2f} {p95:8.2f} {most:8.2f}")
    median, p95, most = timed(library.facets, args.repeat)
    print(f"  {'the filters (sites, langs)':28} {'':8} {median:8.2f} {p95:8.2f} {most:8.2f}")

    from tests.test_serve import Served

    with Served(Settings(base_url="http://127.0.0.1:9/v1", model="m"), library=library) as live:
        with live.client() as http:
            print("\nGET /v1/library on loopback (the whole answer: search, filters, JSON), ms:")
            for name, params in [
                ("one common word", {"q": "said"}),
                ("two words + site", {"q": "economic growth", "site": "Reuters"}),
                ("no words: the newest", {}),
            ]:

                def ask(p: dict[str, str] = params) -> None:
                    assert http.get("/v1/library", params=p).status_code == 200

                median, p95, most = timed(ask, args.repeat)
                print(f"  {name:28} {'':8} {median:8.2f} {p95:8.2f} {most:8.2f}")
    library.close()


if __name__ == "__main__":
    main()
