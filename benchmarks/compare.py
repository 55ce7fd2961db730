"""Side by side on one model: analyst's pipeline, one big prompt ("stuff"), and map-reduce.

    python benchmarks/compare.py [--n 10] [--out compare.json] [--base-url URL --model M]

The articles are the seed article and the first ``--n`` BBC dev articles from ../shared/data
(read in place). The model is the embedded default unless ``--base-url`` says otherwise. Each
strategy is a small implementation on analyst's own client, driver and call cache, so every
strategy gets the same server, the same structured output and the same re-asks:

1. **analyst**: sections packed into extraction calls, quotes grounded, one synthesis call.
2. **stuff** (Fabric-style): one call, the whole article in, every report field out.
3. **map-reduce** as LangChain's ``load_summarize_chain(chain_type="map_reduce")`` runs it:
   the article split into chunks of at most 1,000 tokens (the LangChain summarization tutorial's
   ``CharacterTextSplitter.from_tiktoken_encoder(chunk_size=1000)``), its default map prompt
   ("Write a concise summary of the following") on each, then a reduce call that writes the
   report from the chunk summaries.

Every strategy's facts carry a quote, located in the article with analyst's grounding, so the
grounded-fact rate is measured the same way for all three. Seconds are the time spent waiting
for the model (a reply answered from the call cache costs none, and the row says so). Results
are written per article to ``--out`` as they come, and a re-run skips articles already there.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyst.article import Article  # noqa: E402
from analyst.evaluation.articles import lead3, rouge  # noqa: E402
from analyst.model import drive  # noqa: E402
from analyst.model.ask import AskPolicy, Calls, ask  # noqa: E402
from analyst.model.cache import CallCache  # noqa: E402
from analyst.model.clients import make_client  # noqa: E402
from analyst.model.seam import (  # noqa: E402
    ChatClient,
    ChatRequest,
    ClientInfo,
    Completion,
    Message,
    ModelClient,  # noqa: E402
    OutputSchema,
)
from analyst.model.usage import Meter  # noqa: E402
from analyst.pipeline import report_calls  # noqa: E402
from analyst.prompts import Prompts  # noqa: E402
from analyst.reading.formats import load_article  # noqa: E402
from analyst.schema import Report  # noqa: E402
from analyst.settings import Settings  # noqa: E402
from analyst.stages.replies import strict_json_schema  # noqa: E402
from analyst.testing import FakeChatClient, extractive_responder  # noqa: E402
from analyst.text.quotes import Grounder  # noqa: E402
from analyst.text.tokens import Encoder, count, get_encoder  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
STRATEGIES = ("analyst", "stuff", "map-reduce")
CHUNK_TOKENS = 1000

REPORT_SYSTEM = """You are an expert news analyst. Read the article and reply with one JSON object:
- "summary": two or three sentences on what happened;
- "facts": the key facts, each with "text" (the fact in your words) and "evidence" (a verbatim
  quote from the article that proves it);
- "implications": three consequences, each citing the numbers of the facts it rests on (f1, f2...);
- "analysis": a paragraph on the significance, context and what to watch, citing facts."""

MAP_PROMPT = 'Write a concise summary of the following:\n\n\n"{text}"\n\n\nCONCISE SUMMARY:'
REDUCE_PROMPT = (
    "The following is a set of summaries:\n{docs}\n"
    "Take these and distill it into a final, consolidated report of the main themes."
)


class QuotedFact(BaseModel):
    text: str
    evidence: str


class Cited(BaseModel):
    text: str
    facts: list[str]


class OneShotReport(BaseModel):
    summary: str
    facts: list[QuotedFact]
    implications: list[Cited]
    analysis: Cited


class ChunkSummary(BaseModel):
    summary: str


REPORT_SCHEMA = OutputSchema("report", strict_json_schema(OneShotReport))
CHUNK_SCHEMA = OutputSchema("chunk_summary", strict_json_schema(ChunkSummary))


@dataclass
class Row:
    """One strategy on one article."""

    article: str
    strategy: str
    article_tokens: int
    calls: int
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    cache_hits: int
    facts: int
    grounded: int
    rouge1: float | None
    lead3_rouge1: float | None
    error: str | None = None


class Timed:
    """A ``ChatClient`` that adds up the seconds spent waiting for its inner client."""

    def __init__(self, inner: ModelClient) -> None:
        self.inner = inner
        self.seconds = 0.0

    @property
    def info(self) -> ClientInfo:
        return self.inner.info

    def close(self) -> None:
        self.inner.close()

    def complete(self, request: ChatRequest) -> Completion:
        started = time.perf_counter()
        try:
            return self.inner.complete(request)
        finally:
            self.seconds += time.perf_counter() - started


class WriteOnly(CallCache):
    """A call cache that never answers, so every figure is a real call, and still stores."""

    def __init__(self, inner: CallCache) -> None:  # noqa: D107 — wraps, does not open
        self._inner = inner

    def get(self, key: str) -> Completion | None:
        return None

    def put(self, key: str, model: str, completion: Completion) -> None:
        self._inner.put(key, model, completion)

    def close(self) -> None:
        self._inner.close()


def articles(n: int) -> list[tuple[str, str, str | None]]:
    """(name, text, reference summary) of the seed article and the first ``n`` BBC articles."""
    found: list[tuple[str, str, str | None]] = []
    seed = SHARED / "seed-article.txt"
    if seed.exists():
        found.append(("seed-article", seed.read_text("utf-8"), None))
    bbc = SHARED / "dev" / "bbc_news.jsonl"
    for line in bbc.read_text("utf-8").splitlines()[:n]:
        row = json.loads(line)
        # The same text `analyst eval` builds, so the two share the call cache.
        found.append((row["id"], f"{row['title']}\n\n{row['text']}", row["reference_summary"]))
    return found


def chunks(text: str, encoder: Encoder, limit: int = CHUNK_TOKENS) -> list[str]:
    """Paragraphs packed greedily into chunks of at most ``limit`` tokens, as a
    ``CharacterTextSplitter`` on blank lines measuring with tiktoken does."""
    out: list[str] = []
    current: list[str] = []
    size = 0
    for para in (p.strip() for p in re.split(r"\n\s*\n", text)):
        if not para:
            continue
        tokens = count(encoder, para)
        if current and size + tokens > limit:
            out.append("\n\n".join(current))
            current, size = [], 0
        current.append(para)
        size += tokens
    if current:
        out.append("\n\n".join(current))
    return out


def _ask(
    messages: list[Message],
    output: type[BaseModel],
    schema: OutputSchema,
    max_tokens: int,
    settings: Settings,
    encoder: Encoder,
    meter: Meter,
) -> Calls[Any]:
    policy = AskPolicy(
        temperature=settings.temperature,
        repairs=settings.repairs,
        context_window=settings.effective_context_window,
        encoder=encoder,
        meter=meter,
    )
    return ask(policy, messages, output, schema=schema, max_tokens=max_tokens)


def stuff_calls(
    text: str, settings: Settings, encoder: Encoder, meter: Meter
) -> Calls[OneShotReport]:
    messages: list[Message] = [
        {"role": "system", "content": REPORT_SYSTEM},
        {"role": "user", "content": f"ARTICLE:\n{text}"},
    ]
    reply: OneShotReport = yield from _ask(
        messages, OneShotReport, REPORT_SCHEMA, 2000, settings, encoder, meter
    )
    return reply


def map_reduce_calls(
    text: str, settings: Settings, encoder: Encoder, meter: Meter
) -> Calls[OneShotReport]:
    summaries = []
    for chunk in chunks(text, encoder):
        messages: list[Message] = [{"role": "user", "content": MAP_PROMPT.format(text=chunk)}]
        part: ChunkSummary = yield from _ask(
            messages, ChunkSummary, CHUNK_SCHEMA, 400, settings, encoder, meter
        )
        summaries.append(part.summary)
    messages = [
        {"role": "system", "content": REPORT_SYSTEM},
        {"role": "user", "content": REDUCE_PROMPT.format(docs="\n\n".join(summaries))},
    ]
    reply: OneShotReport = yield from _ask(
        messages, OneShotReport, REPORT_SCHEMA, 2000, settings, encoder, meter
    )
    return reply


def run_one(
    name: str,
    text: str,
    reference: str | None,
    strategy: str,
    *,
    client: Timed,
    cache: CallCache | None,
    settings: Settings,
) -> Row:
    encoder = get_encoder(client.info.model, settings.cache_dir)
    article = load_article(text, name=name)
    meter = Meter()
    before = client.seconds
    identity = settings.identity(client.info.model)
    row = Row(name, strategy, count(encoder, article.text), 0, 0, 0, 0.0, 0, 0, 0, None, None)
    if reference:
        row.lead3_rouge1 = rouge(lead3(text), reference)["rouge1"]
    try:
        if strategy == "analyst":
            report = analyst_report(article, client, settings, meter, cache, identity)
            summary = report.summary
            row.facts = report.facts_extracted
            row.grounded = sum(1 for f in report.facts if f.grounded)
        else:
            make = stuff_calls if strategy == "stuff" else map_reduce_calls
            one = drive.run(make(article.text, settings, encoder, meter), client, cache, identity)
            summary = one.summary
            grounder = Grounder(article.text, [(0, len(article.text))])
            row.facts = len(one.facts)
            row.grounded = sum(1 for f in one.facts if grounder.locate(f.evidence, None))
        if reference:
            row.rouge1 = rouge(summary, reference)["rouge1"]
    except Exception as exc:  # noqa: BLE001 — a benchmark records a failure and goes on
        row.error = f"{type(exc).__name__}: {exc}"[:300]
    row.calls = meter.calls
    row.prompt_tokens = meter.prompt_tokens
    row.completion_tokens = meter.completion_tokens
    row.cache_hits = meter.cache_hits
    row.seconds = round(client.seconds - before, 2)
    return row


def analyst_report(
    article: Article,
    client: ChatClient,
    settings: Settings,
    meter: Meter,
    cache: CallCache | None = None,
    identity: str = "",
) -> Report:
    """analyst's own pipeline on ``client``, counted by ``meter``."""
    calls = report_calls(
        article,
        settings=settings,
        prompts=Prompts.load(),
        info=client.info,
        path=None,
        meter=meter,
    )
    return drive.run(calls, client, cache, identity)


def fixed_overhead(settings: Settings) -> int:
    """analyst's prompt tokens around the article: its prompts on a one-line article."""
    fake = FakeChatClient(responder=extractive_responder)
    tiny = "Title\n\nThe council met on Tuesday and approved the plan for the new bridge."
    encoder = get_encoder(fake.info.model, settings.cache_dir)
    meter = Meter()
    article = load_article(tiny)
    analyst_report(article, fake, settings, meter)
    return meter.prompt_tokens - count(encoder, article.text)


def table(rows: list[Row], overhead: int) -> str:
    lines = [
        f"{'strategy':<11} {'calls':>6} {'prompt':>8} {'compl.':>7} {'prompt/art':>10} "
        f"{'seconds':>8} {'grounded':>9} {'ROUGE-1':>8} {'failed':>6}"
    ]
    for strategy in STRATEGIES:
        mine = [r for r in rows if r.strategy == strategy and r.error is None]
        failed = sum(1 for r in rows if r.strategy == strategy and r.error)
        if not mine:
            continue
        facts = sum(r.facts for r in mine)
        grounded = f"{sum(r.grounded for r in mine) / facts:.1%}" if facts else "-"
        scored = [r.rouge1 for r in mine if r.rouge1 is not None]
        ratio = sum(r.prompt_tokens for r in mine) / sum(r.article_tokens for r in mine)
        prompt, completion = (
            sum(r.prompt_tokens for r in mine),
            sum(r.completion_tokens for r in mine),
        )
        lines.append(
            f"{strategy:<11} {sum(r.calls for r in mine):>6} {prompt:>8,} {completion:>7,} "
            f"{ratio:>10.2f} {sum(r.seconds for r in mine):>8.0f} {grounded:>9} "
            f"{statistics.fmean(scored) if scored else float('nan'):>8.3f} {failed:>6}"
        )
    leads = [r.lead3_rouge1 for r in rows if r.strategy == "analyst" and r.lead3_rouge1]
    if leads:
        lines.append(
            f"{'lead-3':<11} {'':>6} {'':>8} {'':>7} {'':>10} {'':>8} {'':>9} "
            f"{statistics.fmean(leads):>8.3f}"
        )
    ours = [r for r in rows if r.strategy == "analyst" and r.error is None]
    within = sum(1 for r in ours if r.prompt_tokens <= 1.3 * r.article_tokens + overhead)
    lines.append("")
    lines.append(
        f"analyst's fixed prompt overhead: {overhead:,} tokens; articles read within "
        f"1.3 x article + overhead: {within}/{len(ours)}"
    )
    hits = sum(r.cache_hits for r in rows)
    if hits:
        lines.append(f"{hits} replies came from the call cache (their seconds are not counted)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10, help="BBC dev articles (besides the seed)")
    parser.add_argument("--out", type=Path, default=Path("compare.json"))
    parser.add_argument("--base-url")
    parser.add_argument("--model")
    parser.add_argument("--no-cache", action="store_true", help="do not use the call cache")
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="ask the model for every call, but keep its replies in the call cache (for eval)",
    )
    parser.add_argument(
        "--only", choices=STRATEGIES, action="append", help="run only these strategies"
    )
    args = parser.parse_args()
    settings = Settings.from_env(os.environ, base_url=args.base_url, model=args.model)
    done: list[Row] = []
    if args.out.exists():
        done = [Row(**r) for r in json.loads(args.out.read_text("utf-8"))]
    have = {(r.article, r.strategy) for r in done if r.error is None}
    client = Timed(make_client(settings))
    cache = None if args.no_cache else CallCache(settings.cache_dir / "calls.sqlite")
    if cache is not None and args.fresh:
        cache = WriteOnly(cache)
    try:
        for name, text, reference in articles(args.n):
            for strategy in args.only or STRATEGIES:
                if (name, strategy) in have:
                    continue
                row = run_one(
                    name, text, reference, strategy, client=client, cache=cache, settings=settings
                )
                done = [r for r in done if (r.article, r.strategy) != (name, strategy)] + [row]
                tmp = args.out.with_suffix(".tmp")
                tmp.write_text(json.dumps([asdict(r) for r in done], indent=1), "utf-8")
                tmp.replace(args.out)
                print(
                    f"{name:<28} {strategy:<11} calls {row.calls} prompt {row.prompt_tokens} "
                    f"grounded {row.grounded}/{row.facts} {row.seconds:.0f} s"
                    + (f"  FAILED {row.error}" if row.error else ""),
                    flush=True,
                )
    finally:
        client.close()
        if cache is not None:
            cache.close()
    print()
    info, count_articles = client.info, len({r.article for r in done})
    print(f"model: {info.model} ({info.backend}); {count_articles} articles")
    print(table(done, fixed_overhead(settings)))


if __name__ == "__main__":
    main()
