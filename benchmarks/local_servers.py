"""Issue 32's figures: analyst at its defaults against a real one-slot llama.cpp server.

    python benchmarks/local_servers.py [--articles 10] [--digest 4] [--hostile-1.5b]

Starts a plain llama.cpp server (xllamacpp, the embedded 0.5B model, one slot, llama.cpp's
defaults otherwise) and a counting proxy in front of it (tests/countingproxy.py), then runs, each
with ``--base-url`` and nothing else of note (no cache):

1. ``analyst batch`` of the first N BBC dev articles (../shared/data/dev/bbc_news.jsonl);
2. the same articles one at a time (``--concurrency 1``), for the wall-time ratio;
3. ``analyst digest`` of the first M;
4. ``analyst summarize`` of tests/data/hostile-markup.md (HTML tags, a Markdown link, template
   expressions: what drew llama.cpp's "peg-native format" 500), and with ``--hostile-1.5b`` the
   same on a 1.5B server.

Prints, per run: exit code, failed articles, wall seconds, chat requests that reached the
server, requests sent again while the server was still on an identical one, and the most in
flight at once.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyst.model import local  # noqa: E402
from analyst.settings import default_cache_dir  # noqa: E402
from tests.countingproxy import CountingProxy  # noqa: E402

BBC = ROOT.parent / "shared" / "data" / "dev" / "bbc_news.jsonl"
HOSTILE = ROOT / "tests" / "data" / "hostile-markup.md"
ANALYST = [sys.executable, "-m", "analyst"]


def _server(name: str) -> tuple[subprocess.Popen[str], str]:
    model = local.ensure_model_file(local.MODELS[name], default_cache_dir())
    command = [sys.executable, "-m", "analyst.model.local_server", "--model", str(model)]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def _stop(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.close()
    process.wait(timeout=60)


def _articles(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True)
    with BBC.open(encoding="utf-8") as lines:
        for i, line in zip(range(n), lines, strict=False):
            item = json.loads(line)
            (folder / f"{i:02d}-{item['id']}.txt").write_text(
                f"{item['title']}\n\n{item['text']}", "utf-8"
            )
    return folder


def _run(label: str, proxy: CountingProxy, command: list[str]) -> dict[str, object]:
    before = len(proxy.counts.requests)
    busy_before = proxy.counts.resent_while_busy
    proxy.counts.peak_in_flight = 0
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    requests = proxy.counts.requests[before:]
    failed = re.search(r"(\d+) articles? failed", done.stderr)
    row: dict[str, object] = {
        "run": label,
        "exit": done.returncode,
        "failed": int(failed.group(1)) if failed else 0,
        "seconds": round(seconds, 1),
        "chat requests": len(requests),
        "sent again while busy": proxy.counts.resent_while_busy - busy_before,
        "repeated at all": len(requests) - len({r.digest for r in requests}),
        "most in flight": proxy.counts.peak_in_flight,
        "non-200": sum(1 for r in requests if r.status != 200),
    }
    said = [line for line in done.stderr.splitlines() if "at a time" in line or "error" in line]
    print(json.dumps(row), *(f"   {line}" for line in said[:6]), sep="\n", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=10)
    parser.add_argument("--digest", type=int, default=4)
    parser.add_argument("--hostile-1.5b", dest="large", action="store_true")
    args = parser.parse_args()
    server, url = _server("qwen2.5-coder-0.5b")
    proxy = CountingProxy(url).start()
    base = ["--base-url", proxy.base_url, "--no-cache"]
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            batch_in = _articles(root / "batch", args.articles)
            rows.append(
                _run(
                    f"batch of {args.articles}, defaults",
                    proxy,
                    [*ANALYST, "batch", str(batch_in), "-o", str(root / "out1"), *base],
                )
            )
            rows.append(
                _run(
                    f"batch of {args.articles}, one at a time",
                    proxy,
                    [
                        *ANALYST,
                        "batch",
                        str(batch_in),
                        "-o",
                        str(root / "out2"),
                        *base,
                        "--concurrency",
                        "1",
                    ],
                )
            )
            digest_in = _articles(root / "digest", args.digest)
            rows.append(
                _run(
                    f"digest of {args.digest}",
                    proxy,
                    [
                        *ANALYST,
                        "digest",
                        str(digest_in),
                        "-o",
                        str(root / "digest.md"),
                        *base,
                        "--reports",
                        str(root / "digest-reports"),
                    ],
                )
            )
            rows.append(
                _run(
                    "hostile markup article, 0.5B",
                    proxy,
                    [
                        *ANALYST,
                        "summarize",
                        str(HOSTILE),
                        "-f",
                        "json",
                        "-o",
                        str(root / "hostile.json"),
                        *base,
                    ],
                )
            )
    finally:
        proxy.stop()
        _stop(server)
    if args.large:
        server, url = _server("qwen2.5-coder-1.5b")
        proxy = CountingProxy(url).start()
        try:
            with tempfile.TemporaryDirectory() as tmp:
                rows.append(
                    _run(
                        "hostile markup article, 1.5B",
                        proxy,
                        [
                            *ANALYST,
                            "summarize",
                            str(HOSTILE),
                            "-f",
                            "json",
                            "-o",
                            str(Path(tmp) / "h.json"),
                            "--base-url",
                            proxy.base_url,
                            "--no-cache",
                        ],
                    )
                )
        finally:
            proxy.stop()
            _stop(server)
    one, each = rows[0]["seconds"], rows[1]["seconds"]
    assert isinstance(one, float) and isinstance(each, float)
    print(f"\nwall time, defaults ÷ one at a time: {one / each:.2f}")


if __name__ == "__main__":
    main()
