"""Embedded-model figures for issue 3: cold start, per-article cost, efficiency, and "stuff".

    python benchmarks/local_model.py [--model local:qwen2.5-coder-1.5b]

Needs the `local` extra. Per article (the examples and, when present, ../shared's seed article):
wall seconds, calls, prompt and completion tokens, and the model's own time from llama.cpp's
`timings`. Efficiency = model time / wall time (the pipeline and the HTTP hop should cost almost
nothing beside the model). Then the same article through one single "stuff" call on the same
server: the whole article in, every report field out under one schema.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from pydantic import BaseModel

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyst import Settings, summarize_text  # noqa: E402
from analyst.model import drive  # noqa: E402
from analyst.model.ask import AskPolicy, ask  # noqa: E402
from analyst.model.clients import ModelClient, make_client  # noqa: E402
from analyst.model.seam import (  # noqa: E402
    ChatRequest,
    ClientInfo,
    Completion,
    Message,
    OutputSchema,
)
from analyst.model.usage import Meter  # noqa: E402
from analyst.schema import CitedText, ExtractedFact, strict_json_schema  # noqa: E402
from analyst.settings import default_cache_dir  # noqa: E402
from analyst.text.tokens import get_encoder  # noqa: E402


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="local:qwen2.5-coder-1.5b")
    args = parser.parse_args()
    settings = Settings(model=args.model, cache_dir=default_cache_dir())
    cold_start(args.model)

    paths = sorted((ROOT / "examples").glob("*.txt"))
    seed = ROOT.parent / "shared" / "data" / "seed-article.txt"
    if seed.exists():
        paths.append(seed)
    inner = make_client(settings)
    print(f"\nmodel {inner.info.model}; per article (analyst pipeline, then one 'stuff' call):")
    header = (
        f"{'article':22s} {'wall s':>7s} {'calls':>5s} {'prompt':>7s} {'compl':>6s} "
        f"{'model s':>7s} {'effic':>6s} {'grounded':>8s} | {'stuff s':>7s} {'ratio':>6s}"
    )
    print(header)
    rows: list[tuple[float, float, float]] = []  # wall, efficiency, stuff wall
    for path in paths:
        text = path.read_text("utf-8")
        rec = Recorder(inner)
        started = time.perf_counter()
        report = summarize_text(text, settings=settings, client=rec)
        wall = time.perf_counter() - started
        efficiency = rec.model_seconds() / wall
        grounded = sum(f.grounded for f in report.facts)
        srec = Recorder(inner)
        stuff_wall, _ = stuff(srec, text, settings)
        u = report.usage
        rows.append((wall, efficiency, stuff_wall))
        print(
            f"{path.name[:22]:22s} {wall:7.1f} {u.calls:5d} {u.prompt_tokens:7d} "
            f"{u.completion_tokens:6d} {rec.model_seconds():7.1f} {efficiency:6.2f} "
            f"{grounded:>3d}/{report.facts_extracted:<4d} | {stuff_wall:7.1f} "
            f"{wall / stuff_wall:6.2f}"
        )
        print(f"    analyst calls: {rec.breakdown()}   stuff: {srec.breakdown()}")
    inner.close()
    print(f"embedded server resident memory: {server_rss_mb():.0f} MB")
    mean_eff = sum(r[1] for r in rows) / len(rows)
    worst = max(r[0] / r[2] for r in rows)
    print(
        json.dumps({"mean_efficiency": round(mean_eff, 3), "max_ratio_to_stuff": round(worst, 2)})
    )


if __name__ == "__main__":
    main()
