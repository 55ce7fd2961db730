"""`analyst serve` under load: N clients against the real command, a fixed-latency model server.

    python benchmarks/serve.py [--clients 8] [--reports 40] [--latency 0.2] [--concurrency 4]

The model is the tests' loopback OpenAI-compatible server, answering every chat completion after
``--latency`` seconds (as a remote model would, without its cost); `analyst serve` runs as its own
process with ``--no-cache``, so that every report makes its calls. Each client posts articles (the
examples, each made unique) and waits for the report. Printed: reports per second, latency p50 and
p95, the answers that were not 200 (429s apart), and the server's resident memory at start and end.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx2  # noqa: E402

from tests.conftest import EXAMPLES  # noqa: E402
from tests.fakeserver import FakeOpenAIServer  # noqa: E402


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--reports", type=int, default=40, help="in all, over the clients")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per model call")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--queue", type=int, default=64)
    args = parser.parse_args()

    model = FakeOpenAIServer().start()
    model.delay = args.latency
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "analyst",
        "serve",
        "--port",
        str(port),
        "--model",
        "fake-model",
        "--base-url",
        model.base_url,
        "--concurrency",
        str(args.concurrency),
        "--queue",
        str(args.queue),
        "--no-cache",
    ]
    env = {**os.environ, "OPENAI_API_KEY": "sk-benchmark"}
    server = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx2.get(url + "/healthz", timeout=1, trust_env=False).raise_for_status()
                break
            except httpx2.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("analyst serve did not start") from None
                time.sleep(0.1)
        rss_start = _rss_mb(server.pid)
        articles = [p.read_text() for p in sorted(EXAMPLES.glob("*.txt"))]
        latencies: list[float] = []
        answers: Counter[int] = Counter()
        lock = threading.Lock()
        counter = iter(range(args.reports))

        def client() -> None:
            with httpx2.Client(base_url=url, timeout=600, trust_env=False) as http:
                for n in counter:
                    text = f"{articles[n % len(articles)]}\n\n(Copy {n}.)"
                    started = time.perf_counter()
                    answer = http.post("/v1/reports", json={"text": text})
                    with lock:
                        answers[answer.status_code] += 1
                        if answer.status_code == 200:
                            latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
        rss_end = _rss_mb(server.pid)
        calls = len(model.chat_requests)
    finally:
        server.terminate()
        server.wait(10)
        model.stop()
    ok = answers.get(200, 0)
    p50 = statistics.median(latencies) if latencies else float("nan")
    p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) >= 2 else float("nan")
    print(
        f"analyst serve: {args.clients} clients, {args.reports} reports, model latency "
        f"{args.latency:.2f} s per call, --concurrency {args.concurrency}"
    )
    rows = [
        ("reports (200)", f"{ok} of {args.reports}"),
        (
            "not 200 (status: count)",
            ", ".join(f"{k}: {v}" for k, v in answers.items() if k != 200) or "none",
        ),
        ("model calls", calls),
        ("seconds", f"{seconds:.1f}"),
        ("reports per second", f"{ok / seconds:.2f}"),
        ("latency p50 / p95 (s)", f"{p50:.2f} / {p95:.2f}"),
        ("server memory at start / end (MB RSS)", f"{rss_start:.0f} / {rss_end:.0f}"),
    ]
    for label, value in rows:
        print(f"  {label:<40} {value}")


if __name__ == "__main__":
    main()
