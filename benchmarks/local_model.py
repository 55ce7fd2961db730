"""Embedded-model figures (issues 3 and 16): cold start, each article with and without each
speed technique, "stuff", and a batch's throughput and prompt tokens.

    python benchmarks/local_model.py [--model local:qwen2.5-coder-1.5b] [--configs ...]
    python benchmarks/local_model.py --batch FOLDER --slots 1 2 3

Needs the `local` extra. Per article (the examples and, when present, ../shared's seed article),
for each configuration: wall seconds, calls, the prompt tokens the server computed and those it
took from its cache (llama.cpp's ``timings.prompt_n`` / ``cache_n``), the tokens it generated,
drafts accepted, the model's own time, efficiency (model time / wall), supported facts; then one
single "stuff" call (the whole article in, every field out under one schema) on the same server.

Configurations: ``sentence`` (the default: the facts and the summary are sentences the model
cites by number), ``written`` (the model writes both, as before issue 31), ``written-facts`` and
``written-summary`` (one of them written), ``quote`` (the model copies a quote for each fact),
``ngram`` and ``draft`` (the default with llama.cpp's draft-free speculative decoding, or with
the 0.5B model drafting), ``no-repack`` (the default on a server that does not repack its
weights for the CPU, as llama.cpp does by default). Each server first reads a short warm-up
article, untimed, so that it holds the shared system text, as a second ``analyst summarize``
does (it restores it from the saved state); ``cold`` is ``sentence`` without either.

``--batch FOLDER`` runs the articles of FOLDER through ``summarize_folder`` once per ``--slots``
value (a fresh server, no call cache) and prints articles/hour and the prompt tokens the server
computed per article against the article's own tokens.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from pydantic import BaseModel

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyst import Settings, summarize_folder, summarize_text  # noqa: E402
from analyst.model import drive, local  # noqa: E402
from analyst.model.ask import AskPolicy, ask  # noqa: E402
from analyst.model.clients import make_client  # noqa: E402
from analyst.model.seam import (  # noqa: E402
    ChatRequest,
    ClientInfo,
    Completion,
    Message,
    ModelClient,  # noqa: E402
    OutputSchema,
)
from analyst.model.usage import Meter  # noqa: E402
from analyst.settings import default_cache_dir  # noqa: E402
from analyst.stages.extract import ExtractedFact  # noqa: E402
from analyst.stages.replies import strict_json_schema  # noqa: E402
from analyst.stages.synthesize.replies import CitedText  # noqa: E402
from analyst.text.tokens import count, get_encoder  # noqa: E402


class Recorder:
    """A ChatClient that passes calls through and keeps every Completion."""

    def __init__(self, inner: ModelClient) -> None:
        self.inner = inner
        self.completions: list[Completion] = []

    @property
    def info(self) -> ClientInfo:
        return self.inner.info

    def complete(self, request: ChatRequest) -> Completion:
        c = self.inner.complete(request)
        self.completions.append(c)
        return c

    def close(self) -> None:
        self.inner.close()

    def breakdown(self) -> str:
        """Per call: prompt tokens computed (cached), generated tokens, model seconds."""
        parts = []
        for c in self.completions:
            t = c.timings or {}
            parts.append(
                f"{int(t.get('prompt_n', 0))}p({int(t.get('cache_n', 0))}c)/"
                f"{int(t.get('predicted_n', 0))}g "
                f"{(t.get('prompt_ms', 0.0) + t.get('predicted_ms', 0.0)) / 1000:.0f}s"
            )
        return " + ".join(parts)

    def model_seconds(self) -> float:
        t = [c.timings or {} for c in self.completions]
        return sum(x.get("prompt_ms", 0.0) + x.get("predicted_ms", 0.0) for x in t) / 1000


class StuffReport(BaseModel):
    """Everything in one reply, as a single-prompt summarizer asks for it."""

    model_config = {"extra": "forbid"}
    facts: list[ExtractedFact]
    summary: str
    implications: list[CitedText]
    analysis: CitedText


STUFF_PROMPT = (
    "You are a news analyst. From the article between <article> tags, reply with one JSON object: "
    '"facts" (key facts, each with "section": "s1", "evidence": a verbatim quote of at most 200 '
    'characters, and "text": the fact in one sentence), "summary" (2-3 sentences), "implications" '
    '(3-5, each {"text", "facts": [fact numbers like "f1"]}) and "analysis" (one analytic '
    'paragraph, {"text", "facts"}).'
)


def server_rss_mb() -> float:
    """Resident memory of the llama.cpp child process(es) this process started."""
    pid = os.getpid()
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    total_kb = 0
    for child in children:
        for line in Path(f"/proc/{child}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024


def cold_start(model: str) -> float:
    code = (
        "import time; t=time.perf_counter()\n"
        "from analyst import Settings\n"
        "from analyst.model.clients import local_base_url\n"
        "from pathlib import Path\n"
        f"cache = Path({str(default_cache_dir())!r})\n"
        f"local_base_url(Settings(model={model!r}, cache_dir=cache))\n"
        "print(time.perf_counter() - t)\n"
    )
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, text=True)
    total = time.perf_counter() - started
    print(
        f"cold start (new process → server ready): {total:.1f} s "
        f"(of which import + server start {float(out.stdout.strip()):.1f} s)"
    )
    return total


def stuff(client: Recorder, text: str, settings: Settings) -> tuple[float, Meter]:
    enc = get_encoder(client.info.model, settings.cache_dir)
    meter = Meter()
    messages: list[Message] = [
        {"role": "system", "content": STUFF_PROMPT},
        {"role": "user", "content": f"<article>\n{text}\n</article>"},
    ]
    started = time.perf_counter()
    policy = AskPolicy(
        temperature=0.0,
        repairs=1,
        context_window=settings.effective_context_window,
        encoder=enc,
        meter=meter,
    )
    schema = OutputSchema("stuff", strict_json_schema(StuffReport))
    calls = ask(policy, messages, StuffReport, schema=schema, max_tokens=2500)
    drive.run(calls, client)
    return time.perf_counter() - started, meter


CONFIGS: dict[str, dict[str, object]] = {
    "sentence": {},  # the default: facts and the summary cited by sentence number
    "cold": {},
    "written": {"fact_text": "written", "summary": "written"},  # before issue 31
    "written-facts": {"fact_text": "written"},
    "written-summary": {"summary": "written"},
    "quote": {"evidence": "quote"},
    "ngram": {"local_speculative": "ngram-simple"},
    "draft": {"local_speculative": "draft"},
    "no-repack": {},  # the default on a server that does not repack its weights for the CPU
}
SERVER_FLAGS = {"no-repack": ("--no-repack",)}
WARMUP = (
    "The council approved the budget on Monday. It includes $4m for road repairs, officials "
    "said. Work is due to start in March."
)


def run_config(
    name: str, paths: list[Path], model: str, stuff_too: bool, fill_cache: bool = False
) -> dict[str, object]:
    """Every article through one configuration, on a server of its own (with ``fill_cache``,
    its replies go to the call cache, so that ``analyst summarize`` of the same articles with
    the same settings then makes no call)."""
    base = Settings(model=model, cache_dir=default_cache_dir(), cache=fill_cache)
    settings = replace(base, **CONFIGS[name])  # type: ignore[arg-type]
    if name == "cold":  # no saved state: the system text is computed by the first call
        state = base.cache_dir / "slots"
        for file in state.glob("*.bin"):
            file.unlink()
    local.stop_all()  # each configuration on a server started for it
    local.SERVER_FLAGS = SERVER_FLAGS.get(name, ())
    inner = make_client(settings)
    if name != "cold":
        # The server holds the system text, as one restored from a saved state does (a
        # second `analyst summarize`): not timed.
        summarize_text(WARMUP, settings=settings, client=inner)
    reports: dict[str, object] = {}
    tokens = {"generated": 0, "articles": 0}
    print(f"\n[{name}]")
    for path in paths:
        text = path.read_text("utf-8")
        rec = Recorder(inner)
        started = time.perf_counter()
        report = summarize_text(text, settings=settings, client=rec)
        wall = time.perf_counter() - started
        t = [c.timings or {} for c in rec.completions]
        computed = int(sum(x.get("prompt_n", 0) for x in t))
        cached = int(sum(x.get("cache_n", 0) for x in t))
        made = int(sum(x.get("predicted_n", 0) for x in t))
        drafted = int(sum(x.get("draft_n", 0) for x in t))
        accepted = int(sum(x.get("draft_n_accepted", 0) for x in t))
        supported = sum(1 for f in report.facts if f.grounded and not f.extractive)
        cited = sum(1 for f in report.facts if f.cited)
        tokens["generated"] += made
        tokens["articles"] += 1
        line = (
            f"{path.name[:22]:22s} {wall:7.1f} s  calls {report.usage.calls}  computed "
            f"{computed:5d}  cached {cached:5d}  generated {made:5d}  drafts "
            f"{accepted}/{drafted}  model {rec.model_seconds():6.1f} s  efficiency "
            f"{rec.model_seconds() / wall:4.2f}  facts {len(report.facts)} "
            f"({supported - cited} in the model's words, {cited} cited)"
        )
        if stuff_too:
            srec = Recorder(inner)
            stuff_wall, _ = stuff(srec, text, settings)
            line += f"  | stuff {stuff_wall:6.1f} s  ratio {wall / stuff_wall:4.2f}"
        print(line, flush=True)
        print(f"    calls: {rec.breakdown()}", flush=True)
        reports[path.name] = report.model_dump(exclude={"usage"})
    inner.close()
    print(f"    generated per article: {tokens['generated'] / max(tokens['articles'], 1):.0f}")
    return reports


def batch(folder: Path, slots: list[int], model: str, keep: Path | None = None) -> None:
    """Articles/hour, prompt tokens computed and tokens generated per article, at each number
    of slots (with ``keep``, each run's reports stay in ``keep/slots-N``)."""
    paths = sorted(folder.glob("*.txt"))
    enc = get_encoder(model, default_cache_dir())
    article_tokens = sum(count(enc, p.read_text("utf-8")) for p in paths)
    print(f"\nbatch of {len(paths)} articles ({article_tokens:,} tokens) in {folder}")
    for n in slots:
        local.stop_all()
        settings = Settings(model=model, cache_dir=default_cache_dir(), local_slots=n)
        with tempfile.TemporaryDirectory() as scratch:
            out = keep / f"slots-{n}" if keep else Path(scratch)
            started = time.perf_counter()
            result = summarize_folder(folder, out_dir=out, settings=settings, concurrency=n)
            wall = time.perf_counter() - started
            reports = [
                json.loads(p.read_text("utf-8"))
                for p in Path(out).rglob("*.json")
                if p.is_file() and "schema_version" in p.read_text("utf-8")[:200]
            ]
        computed = sum(
            r["usage"]["prompt_tokens"] - (r["usage"]["cached_prompt_tokens"] or 0) for r in reports
        )
        per_article = computed / max(len(reports), 1)
        generated = sum(r["usage"]["completion_tokens"] for r in reports) / max(len(reports), 1)
        bound = 1.2 * article_tokens / len(paths) + 300
        print(
            f"slots {n}: {result.ok} ok, {result.failed_count} failed, {wall:7.1f} s, "
            f"{3600 * result.ok / wall:5.1f} articles/hour; prompt tokens computed per article "
            f"{per_article:,.0f} (article {article_tokens / len(paths):,.0f}; "
            f"1.2 x article + 300 = {bound:,.0f}); generated per article {generated:,.0f}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="local:qwen2.5-coder-1.5b")
    parser.add_argument(
        "--configs",
        nargs="*",
        default=["sentence", "written", "written-facts", "written-summary", "no-repack", "draft"],
    )
    parser.add_argument("--no-stuff", action="store_true")
    parser.add_argument("--fill-cache", action="store_true", help="keep the default's replies")
    parser.add_argument("--batch", type=Path)
    parser.add_argument("--slots", type=int, nargs="*", default=[1, 2, 3])
    parser.add_argument("--keep", type=Path, help="keep each batch's reports here")
    args = parser.parse_args()
    if args.batch:
        batch(args.batch, args.slots, args.model, args.keep)
        return
    cold_start(args.model)
    paths = sorted((ROOT / "examples").glob("*.txt"))
    seed = ROOT.parent / "shared" / "data" / "seed-article.txt"
    if seed.exists():
        paths.append(seed)
    results = {}
    for name in args.configs:
        stuff_too = name == "sentence" and not args.no_stuff
        fill = args.fill_cache and name == "sentence"
        results[name] = run_config(name, paths, args.model, stuff_too, fill)
    print(f"embedded server resident memory: {server_rss_mb():.0f} MB")
    if "sentence" in results and "ngram" in results:
        same = [results["sentence"][p] == results["ngram"][p] for p in results["sentence"]]
        print(f"speculative decoding leaves the report the same: {sum(same)} of {len(same)}")


if __name__ == "__main__":
    main()
