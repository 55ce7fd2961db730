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
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.faults import HANG_SECONDS, Totals, bad_inputs, print_totals  # noqa: E402

if TYPE_CHECKING:
    from analyst import Settings
    from tests.test_serve import Served


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
    # Issue 30: the IPv4 address inside a 6to4 one, and site-local IPv6.
    "http://[2002:7f00:1::1]:{port}/story",
    "http://[fec0::1]/",
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


def _second_pass() -> Totals:
    """Issue 30's cases, each run as its test runs it (against the real app on loopback, the
    CLI in a subprocess): clean when the test's assertions hold, a traceback when they do not
    or it raises, a hang past ``HANG_SECONDS``."""
    import tempfile

    from analyst import Settings
    from tests import (
        test_cache,
        test_digest,
        test_feeds,
        test_openai_chat,
        test_render,
        test_serve,
    )
    from tests.conftest import EXAMPLES
    from tests.fakeserver import FakeOpenAIServer

    bridge = (EXAMPLES / "harbor-bridge.txt").read_text("utf-8")
    cases: dict[str, Callable[[Path, FakeOpenAIServer, Settings], None]] = {
        "-o into a FIFO": lambda d, s, c: (
            test_render.test_o_writes_into_a_fifo_and_leaves_it_a_fifo(_report_json(d, bridge), d)
        ),
        "-o through a symlink": lambda d, s, c: (
            test_render.test_o_through_a_symlink_replaces_the_file_and_keeps_the_link(
                _report_json(d, bridge), d
            )
        ),
        "feed of impossible dates": lambda d, s, c: _feed_dates(d),
        "quiet and broken feeds": lambda d, s, c: (
            test_feeds.test_a_quiet_feed_is_not_an_error_but_a_broken_one_is(d)
        ),
        "a failed digest of a folder": lambda d, s, c: (
            test_digest.test_a_failed_digest_of_a_folder_leaves_no_reports_folder_behind(d)
        ),
        "look-alike facts": lambda d, s, c: (
            test_digest.test_look_alike_facts_propose_pairs_linear_in_their_number()
        ),
        "a cache that cannot be written": lambda d, s, c: (
            test_cache.test_a_cache_that_cannot_be_written_costs_the_cache_not_the_report(
                s, d, bridge
            )
        ),
        "a cache folder that cannot be made": lambda d, s, c: (
            test_cache.test_a_cache_folder_that_cannot_be_made_is_a_warning_in_a_subprocess(s, d)
        ),
        "Origin null, frames": lambda d, s, c: (
            test_serve.test_a_page_that_hides_its_origin_cannot_run_a_report_and_nothing_may_frame_ours(
                c
            )
        ),
        "Host and bearer spellings": lambda d, s, c: (
            test_serve.test_legitimate_host_and_authorization_spellings_are_let_in(c)
        ),
        "zombie jobs": lambda d, s, c: (
            test_serve.test_more_jobs_than_are_kept_never_leaves_a_zombie(c, s)
        ),
        "slowloris and a dripping body": lambda d, s, c: (
            test_serve.test_slow_clients_are_cut_off_and_the_token_holder_gets_in(c)
        ),
        "chunked, deep JSON, unknown routes": lambda d, s, c: _served(
            c, test_serve.test_every_refusal_keeps_the_error_contract
        ),
        "fields capped, sessions pooled": lambda d, s, c: _served(
            c, test_serve.test_fields_are_capped_and_option_spellings_share_a_session
        ),
        "a short API key": lambda d, s, c: (
            test_openai_chat.test_a_short_key_is_no_secret_and_the_reply_is_not_rewritten(
                s, "the"
            )
        ),
    }  # fmt: skip
    t = Totals()
    for name, case in cases.items():
        server = FakeOpenAIServer().start()
        folder = Path(tempfile.mkdtemp())
        settings = Settings(
            base_url=server.base_url, model="fake-model", max_retries=0, timeout=10,
            cache_dir=folder / "cache",
        )  # fmt: skip
        t.tried += 1
        started = time.monotonic()
        try:
            case(folder, server, settings)
            if time.monotonic() - started > HANG_SECONDS:
                t.hangs += 1
                print(f"  HANG {name}")
            else:
                t.clean += 1
        except Exception as exc:  # noqa: BLE001 - counted
            t.tracebacks += 1
            print(f"  FAILED {name}: {type(exc).__name__}: {str(exc)[:200]}")
        finally:
            server.stop()
        print(f"  {name:38} {time.monotonic() - started:5.1f} s")
    return t


def _served(settings: Settings, test: Callable[[Served], None]) -> None:
    """Run a test of ``serve`` on the app as its ``served`` fixture makes it."""
    from tests.test_serve import Served

    with Served(settings, concurrency=2, queue=2) as running:
        test(running)


def _report_json(folder: Path, bridge: str) -> Path:
    from analyst import summarize_text
    from analyst.output.plain import to_json
    from analyst.testing import FakeChatClient, extractive_responder

    path = folder / "r.json"
    report = summarize_text(bridge, client=FakeChatClient(responder=extractive_responder))
    path.write_text(to_json(report), "utf-8")
    return path


def _feed_dates(folder: Path) -> None:
    from analyst.batch.web import feed_items

    for date in ("0000-00-00T00:00:00Z", "0000-01-01T00:00:00Z", "Mon, 01 Jan 10000 00:00:00 GMT"):
        feed = (
            '<rss version="2.0"><channel><title>t</title><item><link>http://a.example/x</link>'
            f"<pubDate>{date}</pubDate></item></channel></rss>"
        )
        (item,) = feed_items(feed.encode(), "feed.xml")
        assert item.date is None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=1000, help="inputs per fuzz target")
    args = parser.parse_args()

    print("hostile URLs")
    groups: dict[str, Totals] = {"hostile URLs": _urls()}
    print("\nissue 30's cases (serve, output files, feeds, the digest, the cache)")
    groups["issue 30"] = _second_pass()
    print("\nbad inputs")
    groups["bad inputs"] = bad_inputs()
    print(f"\nfuzzing, {args.examples:,} inputs per target")
    groups.update(_fuzz(args.examples))
    print_totals(groups)


if __name__ == "__main__":
    main()
