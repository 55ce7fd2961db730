"""Does llama.cpp keep decoding a request whose client went away? (issue 16)

    python benchmarks/abandoned.py

Needs the `local-small` extra. On the embedded 0.5B model with one slot: a client asks for
1,500 tokens and gives up after 3 s (a plain request that times out, then a stream it closes);
then a short request is timed. If the server went on decoding the abandoned one, the short one
would wait behind it for many seconds.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analyst.model import local  # noqa: E402
from analyst.settings import default_cache_dir  # noqa: E402

LONG = {
    "messages": [{"role": "user", "content": "Count from 1 to 2000, one number a line."}],
    "max_tokens": 1500,
    "temperature": 0,
}
SHORT = {"messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 5, "temperature": 0}


def main() -> None:
    model = local.ensure_model_file(local.MODELS["qwen2.5-coder-0.5b"], default_cache_dir())
    url = local.server_url(model, context_window=4096, cache_dir=default_cache_dir(), timeout=300)
    for stream in (False, True):
        started = time.perf_counter()
        try:
            if stream:
                body = {**LONG, "stream": True}
                with httpx2.stream("POST", f"{url}/chat/completions", json=body, timeout=3) as r:
                    for _ in r.iter_lines():
                        if time.perf_counter() - started > 3:
                            break  # the client closes the stream
            else:
                httpx2.post(f"{url}/chat/completions", json=LONG, timeout=3)
        except httpx2.TimeoutException:
            pass
        started = time.perf_counter()
        httpx2.post(f"{url}/chat/completions", json=SHORT, timeout=600)
        kind = "streamed" if stream else "plain"
        print(
            f"{kind}: the next short request answered after {time.perf_counter() - started:.1f} s"
        )
    local.stop_all()


if __name__ == "__main__":
    main()
