"""Pipeline figures for issue 2: speed without a model, calls per article, prompt tokens sent.

    python benchmarks/pipeline.py [--n 200]

Uses the seed article and the BBC dev articles from ../shared/data (read in place, never copied)
and the examples/ articles. The model is analyst.testing's extractive responder (zero latency),
so the figures measure analyst itself: reading, sectioning, packing, prompt assembly, grounding,
validation and report building — in process and over a loopback HTTP server.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyst import Settings, summarize_text  # noqa: E402
from analyst.model.ask import prompt_tokens  # noqa: E402
from analyst.model.clients import make_client  # noqa: E402
from analyst.testing import FakeChatClient, extractive_responder  # noqa: E402
from analyst.text.tokens import count, get_encoder  # noqa: E402
from tests.fakeserver import FakeOpenAIServer  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"


def articles() -> list[tuple[str, str]]:
    """(name, text) of every article available here."""
    found = [(p.name, p.read_text("utf-8")) for p in sorted((ROOT / "examples").glob("*.txt"))]
    seed = SHARED / "seed-article.txt"
    if seed.exists():
        found.append(("seed-article.txt", seed.read_text("utf-8")))
    bbc = SHARED / "dev" / "bbc_news.jsonl"
    if bbc.exists():
        for line in bbc.read_text("utf-8").splitlines():
            row = json.loads(line)
            found.append((f"bbc:{row['id']}", f"{row['title']}\n\n{row['text']}"))
    return found


def one_thousand_words(all_articles: list[tuple[str, str]]) -> str:
    """A ~1,000-word article: the seed when present, else BBC articles joined under headings."""
    for name, text in all_articles:
        if name == "seed-article.txt":
            return text
    parts, words = ["Combined Article"], 0
    for _, text in all_articles:
        title, _, body = text.partition("\n\n")
        parts += [title, body]
        words += len(body.split())
        if words >= 1000:
            break
    return "\n\n".join(parts)


def speed(text: str, n: int, settings: Settings) -> None:
    client = FakeChatClient(responder=extractive_responder)
    summarize_text(text, client=client, settings=settings)  # warm: tokenizer, prompts
    start = time.process_time()
    wall = time.perf_counter()
    for _ in range(n):
        summarize_text(text, client=client, settings=settings)
    cpu = time.process_time() - start
    elapsed = time.perf_counter() - wall
    words = len(text.split())
    print(f"in-process fake model, {words}-word article, {n} reports:")
    print(f"  {n / elapsed:8.1f} reports/s wall   {n / cpu:8.1f} reports/s per CPU-second")

    server = FakeOpenAIServer().start()
    http = Settings(
        base_url=server.base_url, model="m", max_retries=0, cache_dir=settings.cache_dir
    )
    m = max(10, n // 5)
    summarize_text(text, settings=http)
    wall = time.perf_counter()
    for _ in range(m):
        summarize_text(text, settings=http)
    elapsed = time.perf_counter() - wall
    shared = make_client(http)
    wall = time.perf_counter()
    for _ in range(m):
        summarize_text(text, settings=http, client=shared)
    reused = time.perf_counter() - wall
    shared.close()
    server.stop()
    print(f"loopback HTTP server (openai SDK, 2 requests per report), {m} reports:")
    print(f"  {m / elapsed:8.1f} reports/s with a new client per report (summarize_text's default)")
    print(f"  {m / reused:8.1f} reports/s with one client reused (make_client, as a batch does)")


def calls_and_tokens(all_articles: list[tuple[str, str]], settings: Settings) -> None:
    enc = get_encoder("fake-model", settings.cache_dir)
    rows = []
    for name, text in all_articles:
        client = FakeChatClient(responder=extractive_responder)
        report = summarize_text(text, client=client, settings=settings)
        tokens = count(enc, text)
        bound_calls = math.ceil(tokens / settings.pack_tokens) + 1
        sent = sum(prompt_tokens(enc, c.messages) for c in client.calls)
        rows.append((name, len(text.split()), tokens, len(client.calls), bound_calls, sent, report))
    over_calls = [r for r in rows if r[3] > r[4]]
    mid = [r for r in rows if 500 <= r[1] <= 2000]
    over_tokens = [r for r in mid if r[5] > 1.3 * r[2] + 1000]
    print(f"\ncalls per article over {len(rows)} articles (pack budget {settings.pack_tokens}):")
    print(
        f"  calls: min {min(r[3] for r in rows)}, max {max(r[3] for r in rows)}; "
        f"articles over ceil(tokens/budget)+1: {len(over_calls)}"
    )
    print(f"prompt tokens sent, {len(mid)} articles of 500-2,000 words:")
    ratios = [(r[5] - 1000) / r[2] for r in mid]
    excess = [r[5] - r[2] for r in mid]
    if mid:
        print(
            f"  sent - article tokens: median {statistics.median(excess):.0f}, "
            f"max {max(excess)}; (sent - 1000) / article: max {max(ratios):.2f}"
        )
        print(f"  articles over 1.3 x article + 1,000: {len(over_tokens)}")
        for name, words, tokens, calls, _, sent, _ in sorted(mid, key=lambda r: -r[1])[:5]:
            print(f"    {name:28s} {words:5d} words {tokens:5d} tok -> {calls} calls, {sent} sent")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200, help="reports for the speed figure")
    args = parser.parse_args()
    settings = Settings(cache_dir=Path.home() / ".cache" / "analyst")
    all_articles = articles()
    speed(one_thousand_words(all_articles), args.n, settings)
    calls_and_tokens(all_articles, settings)


if __name__ == "__main__":
    main()
