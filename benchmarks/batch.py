"""Batch figures for issue 4: concurrency efficiency, a cached re-run, memory over many files.

    python benchmarks/batch.py [--latency 0.2] [--files 10000]

1. 100 articles (the BBC dev articles, the seed and the examples, read from ../shared and written to
   a temporary folder, never into the repo) against the loopback test server in its own process,
   answering every call after a fixed latency. Wall time at concurrency 1, 4 and 16 against the
   ideal, calls × latency ÷ concurrency; efficiency = ideal ÷ wall.
2. The same 100 again with the call cache full: in process, and as a fresh `analyst batch`
   process (which also pays for starting Python and importing the SDK).
3. Many small files (no latency): peak RSS of the `analyst batch` process at 1,000 and at
   --files, to show that memory does not grow with the number of files.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyst import Settings  # noqa: E402
from analyst.batch import summarize_folder  # noqa: E402
from benchmarks.pipeline import articles  # noqa: E402

SERVER = """
import sys, time
sys.path.insert(0, {root!r})
from tests.fakeserver import FakeOpenAIServer
server = FakeOpenAIServer()
server.delay = {latency}
server.start()
print(server.base_url, flush=True)
sys.stdin.read()
"""


def start_server(latency: float) -> tuple[subprocess.Popen[str], str]:
    """The test server in its own process, so its work does not share our interpreter."""
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER.format(root=str(ROOT), latency=latency)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def write_articles(folder: Path, n: int) -> None:
    found = articles()
    folder.mkdir(parents=True)
    for i in range(n):
        name, text = found[i % len(found)]
        edition = f"\n\nEdition {i // len(found)}." if i >= len(found) else ""
        safe = name.replace(":", "-").removesuffix(".txt")
        (folder / f"{i:03}-{safe}.txt").write_text(text + edition, "utf-8")


def longer_latency(base: Path, latency: float) -> None:
    """Concurrency 16 when calls take as long as a real model's do: the fixed CPU cost per call
    (SDK, HTTP, grounding on one event loop) then matters less."""
    folder = base / "articles"
    proc, url = start_server(latency)
    settings = Settings(
        base_url=url,
        model="fake-model",
        max_retries=0,
        cache=True,
        cache_dir=base / f"cache-long-{latency}",
    )
    try:
        result = summarize_folder(
            folder, out_dir=base / f"out-long-{latency}", settings=settings, concurrency=16
        )
        ideal = result.calls * latency / 16
        print(
            f"{16:>11} {result.calls:>6} {result.seconds:>8.2f} {ideal:>8.2f} "
            f"{ideal / result.seconds:>10.2f}   ({latency * 1000:.0f} ms per call)"
        )
    finally:
        proc.communicate("")


def efficiency(base: Path, latency: float) -> None:
    folder = base / "articles"
    write_articles(folder, 100)
    proc, url = start_server(latency)
    settings = Settings(base_url=url, model="fake-model", max_retries=0, cache=True)
    print(f"100 articles, {latency * 1000:.0f} ms per call")
    print(f"{'concurrency':>11} {'calls':>6} {'wall s':>8} {'ideal s':>8} {'efficiency':>10}")
    out = base / "out-1"
    try:
        for concurrency in (1, 4, 16):
            out = base / f"out-{concurrency}"
            # A cache of its own per run: the call cache is shared by every run of a folder.
            fresh = replace(settings, cache_dir=out.with_name(out.name + "-cache"))
            result = summarize_folder(folder, out_dir=out, settings=fresh, concurrency=concurrency)
            assert result.ok == 100, result.failures[:3]
            ideal = result.calls * latency / concurrency
            print(
                f"{concurrency:>11} {result.calls:>6} {result.seconds:>8.2f} {ideal:>8.2f} "
                f"{ideal / result.seconds:>10.2f}"
            )
        settings = fresh  # the last run's cache, full
        again = summarize_folder(folder, out_dir=out, settings=settings, concurrency=16)
        print(
            f"cached re-run, in process: {again.seconds:.2f} s wall, {again.calls} calls, "
            f"{again.skipped} skipped as done"
        )
        forced = summarize_folder(folder, out_dir=out, settings=settings, force=True)
        print(
            f"cached re-run with --force (every report rebuilt from the cache): "
            f"{forced.seconds:.2f} s wall, {forced.calls} calls, {forced.cache_hits} cache hits"
        )
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "analyst", "batch", str(folder), "-o", str(out)]
            + ["--base-url", url, "--model", "fake-model"],
            check=True,
            capture_output=True,
            env={**os.environ, "ANALYST_CACHE_DIR": str(settings.cache_dir)},
        )
        wall = time.perf_counter() - started
        print(f"cached re-run, `analyst batch` process from start to exit: {wall:.2f} s wall")
    finally:
        proc.communicate("")


def memory(base: Path, many: int) -> None:
    proc, url = start_server(0.0)
    print("\nsmall files (2 paragraphs each), concurrency 16, no latency")
    print(f"{'files':>7} {'wall s':>8} {'files/s':>8} {'peak RSS MB':>12}")
    try:
        for n in (1000, many):
            folder = base / f"small-{n}"
            folder.mkdir()
            for i in range(n):
                (folder / f"{i:05}.txt").write_text(
                    f"Council approves budget {i}\n\nThe council approved a budget of {i} "
                    "million on Tuesday after a long debate among its members.\n\nThe mayor "
                    f"said the money would pay for {i % 40 + 2} new buses and road repairs.\n",
                    "utf-8",
                )
            started = time.perf_counter()
            child = subprocess.Popen(
                [sys.executable, "-m", "analyst", "batch", str(folder), "-o", str(base / f"o{n}")]
                + ["--base-url", url, "--model", "fake-model", "--concurrency", "16"],
                env={**os.environ, "ANALYST_CACHE_DIR": str(base / f"cache-o{n}")},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            _, status, usage = os.wait4(child.pid, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
            wall = time.perf_counter() - started
            assert child.returncode == 0, child.returncode
            print(f"{n:>7} {wall:>8.1f} {n / wall:>8.0f} {usage.ru_maxrss / 1024:>12.0f}")
    finally:
        proc.communicate("")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        os.environ["ANALYST_CACHE_DIR"] = str(base / "cache")
        efficiency(base, args.latency)
        longer_latency(base, 1.0)
        if not args.skip_memory:
            memory(base, args.files)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nthis process: peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
