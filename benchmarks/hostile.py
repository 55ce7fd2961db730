"""Hostile inputs, many of them: the fuzzers of tests/test_fuzz.py at a larger count, hostile URLs,
and the bad inputs of tests/test_hostile.py.

    python benchmarks/hostile.py [--examples 1000]

Every input must end in a result or an AnalystError (clean), within fuzz.SECONDS of CPU and
fuzz.MEGABYTES of new peak memory; a traceback, a hang or a memory blow-up is counted, not raised,
and the first few are printed in full. A memory blow-up counts under "hangs" (the input took
the machine, which is what a hang does too).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.faults import Totals, bad_inputs, print_totals  # noqa: E402


def _fuzz(examples: int) -> dict[str, Totals]:
    os.environ["ANALYST_FUZZ_EXAMPLES"] = str(examples)  # read when tests.test_fuzz is imported
    import tempfile

    from analyst.text.tokens import get_encoder
    from tests import fuzz, test_fuzz

    fuzz.TALLY.strict = False
    site = test_fuzz._Replies()
    encoder = get_encoder("gpt-4o-mini", Path(tempfile.mkdtemp()))
    runs: dict[str, Callable[[], None]] = {
        "bytes": test_fuzz.test_any_bytes,
        "text": test_fuzz.test_article_like_text_gives_a_report,
        "html": test_fuzz.test_mutated_html,
        "pdf": test_fuzz.test_mutated_pdf,
        "gzip": test_fuzz.test_mutated_gzip_members,
        "url": lambda: test_fuzz.test_url_responses(replies=site),
        "grounding": test_fuzz.test_grounding_locates_inside_the_text_or_not_at_all,
        "sections": lambda: test_fuzz.test_sections_cover_the_body_within_the_text(encoder=encoder),
    }
    groups: dict[str, Totals] = {}
    for target, run in runs.items():
        started = time.monotonic()
        try:
            run()
        except AssertionError as exc:  # a property assertion (offsets), not the tally's
            fuzz.TALLY.record(target, "traceback", str(exc)[:500])
        counts = {k.split(":")[1]: n for k, n in fuzz.TALLY.counts.items() if k.startswith(target)}
        t = Totals(
            tried=sum(counts.values()),
            clean=counts.get("clean", 0),
            tracebacks=counts.get("traceback", 0),
            hangs=counts.get("hang", 0) + counts.get("memory", 0),
        )
        groups[f"fuzz: {target}"] = t
        print(f"  fuzz {target:10} {t.tried:>6,} inputs in {time.monotonic() - started:6.1f} s")
    site.httpd.shutdown()
    for failure in fuzz.TALLY.failures:
        print(f"\n{failure}")
    return groups


HOSTILE_URLS = [
    "http://127.0.0.1:{port}/story",
    "http://2130706433:{port}/story",
    "http://0x7f.1:{port}/story",
    "http://0177.0.0.1:{port}/story",
    "http://localhost:{port}/story",
    "http://[::1]:{port}/story",
    "http://[::ffff:127.0.0.1]:{port}/story",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/",
    "http://224.0.0.1/",
    "http://0.0.0.0:{port}/story",
    "http://240.0.0.1/",
    "http://user:secret@127.0.0.1:{port}/story",
    "http://127.0.0.1:{port}/go?http://10.0.0.7/admin",
    "ftp://example.org/file",
    "http://",
    "http://exa mple.org/",
    "http://[::1/",
]


def _urls() -> Totals:
    from analyst import Settings, summarize_url
    from analyst.errors import AnalystError
    from tests.test_hardening import _Site

    site = _Site()
    t = Totals()
    settings = Settings(model="m", base_url="http://127.0.0.1:1/v1", fetch_timeout=5)
    for template in HOSTILE_URLS:
        url = template.format(port=site.port)
        t.tried += 1
        try:
            summarize_url(url, settings=settings)
            print(f"  FETCHED {url}")  # none of these may reach the model server
        except AnalystError as exc:
            refused = "allow-private-urls" in str(exc) or exc.exit_code == 3
            t.clean += refused and "secret" not in str(exc)
        except Exception as exc:  # noqa: BLE001 - counted
            t.tracebacks += 1
            print(f"  TRACEBACK {url}: {type(exc).__name__}: {exc}")
    site.httpd.shutdown()
    return t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=1000, help="inputs per fuzz target")
    args = parser.parse_args()

    print("hostile URLs")
    groups: dict[str, Totals] = {"hostile URLs": _urls()}
    print("\nbad inputs")
    groups["bad inputs"] = bad_inputs()
    print(f"\nfuzzing, {args.examples:,} inputs per target")
    groups.update(_fuzz(args.examples))
    print_totals(groups)


if __name__ == "__main__":
    main()
