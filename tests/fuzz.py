"""Generated and mutated inputs for every reader, and the one property they must all keep:
a result or an ``AnalystError``, within a time and a memory bound — never a traceback, a hang or
the machine's memory.

Shared by ``tests/test_fuzz.py`` (a bounded number of examples, in CI) and
``benchmarks/hostile.py`` (many more, tallied instead of stopping at the first failure).
"""

from __future__ import annotations

import gzip
import resource
import signal
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar

from hypothesis import strategies as st

from analyst.errors import AnalystError
from tests.conftest import EXAMPLES

SECONDS = 20.0  # no one input may take longer than this (a 10 MB article takes ~3 s)
MEGABYTES = 1024  # nor grow the process's peak memory by more than this
T = TypeVar("T")


class Hang(Exception):
    """An input ran past ``SECONDS``."""


@dataclass
class Tally:
    """Outcomes by kind, and the first few failures in full (for the benchmark)."""

    strict: bool = True  # raise at the first failure (tests); else count on (the benchmark)
    counts: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def record(self, target: str, outcome: str, detail: str = "") -> None:
        self.counts[f"{target}:{outcome}"] += 1
        if outcome in ("traceback", "hang", "memory"):
            if len(self.failures) < 20:
                self.failures.append(f"{target}: {outcome}: {detail}")
            if self.strict:
                raise AssertionError(f"{target}: {outcome}:\n{detail}")

    def total(self, outcome: str) -> int:
        return sum(n for key, n in self.counts.items() if key.endswith(f":{outcome}"))


TALLY = Tally()


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise Hang(f"over {seconds:g} s")

    # CPU time (ITIMER_PROF), not wall time: SIGALRM belongs to pytest-timeout, and a reader
    # that hangs spins; one that waits has a deadline of its own (fetching).
    previous = signal.signal(signal.SIGPROF, expire)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def check(target: str, run: Callable[[], T]) -> T | None:
    """Run one input through ``run``: a result or an ``AnalystError`` is clean; anything else,
    more than ``SECONDS``, or more than ``MEGABYTES`` of new peak memory is a failure."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    result: T | None = None
    try:
        with _alarm(SECONDS):
            result = run()
        outcome, detail = "clean", ""
    except AnalystError:
        outcome, detail = "clean", ""
    except Hang:
        outcome, detail = "hang", f"{time.monotonic() - started:.1f} s"
    except Exception:
        outcome, detail = "traceback", traceback.format_exc(limit=8)
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    if outcome == "clean" and grown > MEGABYTES:
        outcome, detail = "memory", f"peak memory grew {grown:.0f} MB"
    TALLY.record(target, outcome, detail)
    return result


# ---- seeds and mutations ----------------------------------------------------------------------

STORY = (EXAMPLES / "grid-battery.txt").read_text("utf-8")


@cache
def seed_html() -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in STORY.split("\n\n")[1:])
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Northfield battery</title>"
        "<meta name='description' content='A coal site becomes storage'></head><body><nav>Home"
        f"</nav><article><h1>Northfield battery</h1>{paragraphs}<table><tr><td>MW</td><td>400"
        "</td></tr></table><ul><li>one</li><li>two</li></ul></article></body></html>"
    ).encode()


@cache
def seed_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title("Northfield battery")
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    for paragraph in STORY.split("\n\n")[:6]:
        pdf.multi_cell(0, 6, paragraph.encode("latin-1", "replace").decode("latin-1"))
        pdf.ln(4)
    return bytes(pdf.output())


def seed_gzip() -> bytes:
    return gzip.compress(STORY.encode())


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """``seed`` with a few byte-level edits: flips, inserts, deletes, duplicated or cut runs."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 8))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["flip", "insert", "delete", "repeat", "cut", "swap"]))
        if kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 256))]
        elif kind == "repeat":
            chunk = data[at : at + draw(st.integers(1, 512))]
            data[at:at] = chunk * draw(st.integers(1, 50))
        elif kind == "cut":
            del data[at:]
        else:
            other = draw(st.integers(0, len(data) - 1))
            data[at], data[other] = data[other], data[at]
    return bytes(data)


# Text that reads like an article, with the characters that break naive code mixed in.
ODD = st.sampled_from(
    ["\r\n", "\r", "\u200b", "\u00ad", "\ufeff", "\x00", "\x1b[31m", "\u2028", "\ud800", "…", "“",
     "”", "<article>", "</section>", "<|im_start|>", "[INST]", "# ", "> ", "\t", "  ", "\n\n"]
)  # fmt: skip
WORDS = st.sampled_from(STORY.split())
ARTICLE_TEXT = st.lists(st.one_of(WORDS, WORDS, WORDS, ODD, st.text(max_size=8)), max_size=400).map(
    " ".join
)
