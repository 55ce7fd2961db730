"""Scale figures for issue 8: the local engine against the Ray engine with 1 and 2 workers.

    python benchmarks/scale.py [--articles 1000] [--latency 0.5] [--concurrency 16]

Two loopback test servers, each in its own process, answer every call after a fixed latency (as
model replicas would, without their compute limits). The articles are the dev articles, repeated
to ``--articles`` files (written to a temporary folder). Each engine writes every report with the
call cache off, so each run pays for every call:

- local: one process, one server, ``--concurrency`` requests in flight;
- ray, 1 worker and 2 workers: the articles spread over both servers, ``--concurrency`` requests
  in flight per worker.

Printed: wall seconds (Ray's start-up excluded, its actors' start-up included), articles per
second, calls, the ideal time (calls × latency ÷ requests in flight) and efficiency = ideal ÷ wall.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyst import Settings  # noqa: E402
from analyst.batch import BatchResult, summarize_folder  # noqa: E402
from benchmarks.batch import start_server, write_articles  # noqa: E402


def line(name: str, result: BatchResult, seconds: float, in_flight: int, latency: float) -> str:
    ideal = result.calls * latency / in_flight
    return (
        f"{name:<22} {seconds:>8.1f} {result.ok / seconds:>10.1f} {result.calls:>6} "
        f"{in_flight:>9} {ideal:>8.1f} {ideal / seconds:>10.2f}"
        + (f"   ({result.failed_count} failed)" if result.failed_count else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    try:
        import ray
    except ImportError:
        sys.exit('benchmarks/scale.py needs the ray extra: pip install ".[ray]"')
    from analyst.batch.ray_engine import run_ray

    servers = [start_server(args.latency) for _ in range(2)]
    urls = [url for _, url in servers]
    settings = Settings(base_url=urls[0], model="fake-model", max_retries=0, cache=False)
    c = args.concurrency
    print(f"{args.articles} articles, {args.latency * 1000:.0f} ms per call, {os.cpu_count()} CPUs")
    print(
        f"{'engine':<22} {'wall s':>8} {'articles/s':>10} {'calls':>6} {'in flight':>9} "
        f"{'ideal s':>8} {'efficiency':>10}"
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            base = Path(tmp)
            folder = base / "articles"
            write_articles(folder, args.articles)
            started = time.perf_counter()
            result = summarize_folder(
                folder, out_dir=base / "local", settings=settings, concurrency=c
            )
            print(line("local, 1 server", result, time.perf_counter() - started, c, args.latency))
            ray.init(include_dashboard=False, log_to_driver=False)
            for workers in (1, 2):
                started = time.perf_counter()
                result = run_ray(
                    folder,
                    out_dir=base / f"ray-{workers}",
                    settings=settings,
                    base_urls=urls,
                    workers=workers,
                    concurrency=c,
                )
                seconds = time.perf_counter() - started
                name = f"ray, {workers} worker{'s' if workers > 1 else ''}, 2 servers"
                print(line(name, result, seconds, c * workers, args.latency))
            ray.shutdown()
    finally:
        for proc, _ in servers:
            proc.terminate()


if __name__ == "__main__":
    main()
