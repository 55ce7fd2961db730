"""Reliability figures for issues 6 and 32: server faults, local servers' own ways, bad inputs,
prompt injections.

    python benchmarks/faults.py

Every server fault of tests/test_faults.py is injected into the loopback test server twice: once
(it must be recovered) and on every request (it must end in one clean line and its exit code).
Then the local servers' cases of issue 32 (tests/test_servers.py): a slow server, a queued one,
llama.cpp's parser 500, Ollama's silent truncation, llama.cpp's context refusal, each on the
loopback server playing that server; a request sent again while the server was still on it
counts as lost. Then every bad input of tests/test_hostile.py, then every injection of
tests/test_injection.py (through the test server's extractive stand-in: this checks what analyst
sends and keeps, not what a model would do — the real-model check is a test marked `model`).
A traceback anywhere counts as a failure of analyst.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyst import Settings, summarize_text  # noqa: E402
from analyst.cli import app  # noqa: E402
from tests.conftest import EXAMPLES  # noqa: E402
from tests.fakeserver import FakeOpenAIServer, error, fault  # noqa: E402
from tests.test_faults import FAULTS, FINAL  # noqa: E402
from tests.test_hostile import CASES  # noqa: E402
from tests.test_injection import INJECTIONS, _injected  # noqa: E402

ARTICLE = str(EXAMPLES / "harbor-bridge.txt")


def _run(server: FakeOpenAIServer, path: str = ARTICLE, *more: str) -> Any:
    args = ["summarize", path, "--format", "json", "--base-url", server.base_url, "--model", "m"]
    args += ["--timeout", "1", "--max-retries", "2", "--no-cache", *more]
    return CliRunner().invoke(app, args)


@dataclass
class Totals:
    """What happened to the runs of one group: every run lands in exactly one column but
    "tried"; anything not clean, recovered, a traceback or a hang is "lost" (a wrong exit code,
    a second error line, a missing report)."""

    tried: int = 0
    clean: int = 0
    recovered: int = 0
    tracebacks: int = 0
    hangs: int = 0

    @property
    def lost(self) -> int:
        return self.tried - self.clean - self.recovered - self.tracebacks - self.hangs


HANG_SECONDS = 60.0  # one run of one article against the loopback server takes about a second


def print_totals(groups: dict[str, Totals]) -> None:
    """The table every reliability benchmark ends with."""
    head = ("tried", "clean", "recovered", "tracebacks", "hangs", "lost")
    print(f"\n{'':28}" + "".join(f"{h:>11}" for h in head))
    total = Totals()
    for name, t in groups.items():
        row = (t.tried, t.clean, t.recovered, t.tracebacks, t.hangs, t.lost)
        print(f"{name:28}" + "".join(f"{n:>11,}" for n in row))
        for key in ("tried", "clean", "recovered", "tracebacks", "hangs"):
            setattr(total, key, getattr(total, key) + getattr(t, key))
    row = (total.tried, total.clean, total.recovered, total.tracebacks, total.hangs, total.lost)
    print(f"{'total':28}" + "".join(f"{n:>11,}" for n in row))


def _traceback(result: Any) -> bool:
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    return crashed or "Traceback" in result.output


def _timed(server: FakeOpenAIServer, path: str = ARTICLE) -> tuple[Any, bool]:
    started = time.monotonic()
    result = _run(server, path)
    return result, time.monotonic() - started > HANG_SECONDS


def faults() -> Totals:
    print(f"{'fault':26} {'once: recovered':>19} {'always: exit':>13} {'clean':>6} {'tb':>3}")
    t = Totals()
    for name, (item, code, words) in {**FAULTS, **FINAL}.items():
        server = FakeOpenAIServer().start()
        server.enqueue(item)
        once, once_hung = _timed(server)
        server.stop()
        server = FakeOpenAIServer().start()
        server.always = item
        always, always_hung = _timed(server)
        server.stop()
        final = name in FINAL
        recovered = once.exit_code == 0
        lines = always.stderr.strip().splitlines()
        # One error line (exit 5 adds a hint: "run with --verbose to see the model's last reply").
        clean = (
            always.exit_code == code
            and lines[0].startswith("analyst: error: ")
            and words in lines[0]
            and all(line.startswith("analyst: ") for line in lines)
        )
        for result, hung, good in (
            (once, once_hung, once.exit_code == code if final else recovered),
            (always, always_hung, clean),
        ):
            t.tried += 1
            if _traceback(result):
                t.tracebacks += 1
            elif hung:
                t.hangs += 1
            elif good and result is once and not final:
                t.recovered += 1
            elif good:
                t.clean += 1
        shown = "final (not retried)" if final else ("yes" if recovered else "NO")
        tracebacks = _traceback(once) + _traceback(always)
        print(
            f"{name:26} {shown:>19} {always.exit_code:>13} {'yes' if clean else 'NO':>6} "
            f"{tracebacks:>3}"
        )
    # A body that drips in slowly but never pauses for a whole timeout is not a failure.
    server = FakeOpenAIServer().start()
    server.always = fault("drip", 0.6)
    drip, hung = _timed(server)
    server.stop()
    t.tried += 1
    t.tracebacks += _traceback(drip)
    t.hangs += hung and not _traceback(drip)
    t.recovered += drip.exit_code == 0 and not hung
    shown = "yes" if drip.exit_code == 0 else "NO"
    print(f"{'slow drip, every request':26} {shown:>19} {drip.exit_code:>13} {'-':>6} {0:>3}")
    return t


PEG = "The model produced output that does not match the expected peg-native format"


def _local_case(
    name: str, kind: str, want: int, words: str, *more: str, **play: Any
) -> tuple[Any, bool, FakeOpenAIServer]:
    """One run against the loopback server playing ``kind``; a batch when "--concurrency" is
    among ``more``."""
    server = FakeOpenAIServer().start()
    slots, context = play.pop("slots", None), play.pop("context", None)
    server.play(kind, slots=slots, context=context)
    for key, value in play.items():
        setattr(server, key, value)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        if "--concurrency" in more:
            folder = Path(tmp) / "in"
            folder.mkdir()
            text = Path(ARTICLE).read_text("utf-8")
            for i in range(4):
                (folder / f"a{i}.txt").write_text(text.replace("7–2", f"{i + 5}–2"), "utf-8")
            args = ["batch", str(folder), "-o", str(Path(tmp) / "out"), "--model", "m"]
            args += ["--base-url", server.base_url, "--timeout", "1", "--no-cache", *more]
            result = CliRunner().invoke(app, args)
        else:
            result = _run(server, ARTICLE, *more)
    hung = time.monotonic() - started > HANG_SECONDS
    server.stop()
    lines = result.stderr.strip().splitlines()
    good = result.exit_code == want and not server.resent_while_busy
    if want:
        good = good and bool(lines) and words in lines[0]
    print(f"  {name:44} exit {result.exit_code}  sent again while busy: {server.resent_while_busy}")
    return result, hung or not good, server


def local_servers() -> Totals:
    t = Totals()
    cases: list[tuple[str, str, int, str, tuple[str, ...], dict[str, Any]]] = [
        (
            "slow server, no stream (1.5 s a reply)",
            "llama.cpp",
            0,
            "",
            ("--no-stream",),
            {"slots": 1, "delay": 1.5},
        ),
        (
            "slow server, streamed (1.5 s to first token)",
            "llama.cpp",
            0,
            "",
            (),
            {"slots": 1, "delay": 1.5},
        ),
        (
            "queued: 1 slot, 4 in flight (llama.cpp)",
            "llama.cpp",
            0,
            "",
            ("--concurrency", "4"),
            {"slots": 1, "delay": 0.6},
        ),
        (
            "queued: hidden 1 slot (Ollama)",
            "ollama",
            0,
            "",
            ("--concurrency", "4"),
            {"slots": 1, "delay": 0.6},
        ),
        (
            "queued: vLLM, 2 running",
            "vllm",
            0,
            "",
            ("--concurrency", "4"),
            {"slots": 2, "delay": 0.6},
        ),
        ("parser 500, once (llama.cpp)", "llama.cpp", 0, "", (), {"slots": 1}),
        (
            "parser 500, always (llama.cpp)",
            "llama.cpp",
            4,
            "does not match the expected",
            (),
            {"slots": 1},
        ),
        (
            "silent truncation (Ollama num_ctx 512)",
            "ollama",
            6,
            "OLLAMA_CONTEXT_LENGTH",
            (),
            {"context": 512, "ollama_lists_context": False},
        ),
        (
            "context known before (Ollama /api/ps)",
            "ollama",
            6,
            "OLLAMA_CONTEXT_LENGTH",
            (),
            {"context": 512},
        ),
        (
            "context refused (llama.cpp -c 600)",
            "llama.cpp",
            6,
            "-c",
            (),
            {"slots": 1, "context": 600},
        ),
    ]
    for name, kind, want, words, more, play in cases:
        if name.startswith("parser 500, once"):
            play = {**play, "queue": deque([error(500, PEG)])}
        if name.startswith("parser 500, always"):
            play = {**play, "always": error(500, PEG)}
        result, bad, _ = _local_case(name, kind, want, words, *more, **play)
        t.tried += 1
        if _traceback(result):
            t.tracebacks += 1
        elif not bad:
            if want:
                t.clean += 1
            else:
                t.recovered += 1
    return t


def bad_inputs() -> Totals:
    t = Totals()
    server = FakeOpenAIServer().start()
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in CASES.items():
            path = Path(tmp) / "input.txt"
            path.write_bytes(make())
            result, hung = _timed(server, str(path))
            ok = result.exit_code == 0 or (
                result.exit_code == 3 and len(result.stderr.strip().splitlines()) == 1
            )
            t.tried += 1
            t.tracebacks += _traceback(result)
            t.hangs += hung and not _traceback(result)
            t.clean += ok and not hung and not _traceback(result)
            outcome = "report" if result.exit_code == 0 else f"exit {result.exit_code}"
            print(f"  {name:36} {outcome}")
    server.stop()
    return t


def injections() -> Totals:
    t = Totals()
    server = FakeOpenAIServer().start()
    settings = Settings(base_url=server.base_url, model="m", max_retries=0)
    clean_system = None
    for name, payload in INJECTIONS.items():
        server.requests.clear()
        text = _injected(payload)
        report = summarize_text(text, settings=settings)
        systems = [r["messages"][0]["content"] for r in server.chat_requests]
        clean_system = clean_system or systems
        users = [r["messages"][-1]["content"] for r in server.chat_requests]
        delimiters_intact = all(
            u.count(tag) <= 1 for u in users for tag in ("<article>", "</article>", "</facts>")
        ) and all("<|" not in u for u in users)
        grounded = all(text[f.start : f.end] == f.evidence for f in report.facts)
        ok = delimiters_intact and grounded and report.language == "en" and systems == clean_system
        t.tried += 1
        t.clean += ok
        print(f"  {name:24} {'resisted' if ok else 'NOT RESISTED'}")
    server.stop()
    return t


def main() -> None:
    groups = {"server faults": faults()}
    print("\nlocal servers (issue 32)")
    groups["local servers"] = local_servers()
    print("\nbad inputs")
    groups["bad inputs"] = bad_inputs()
    print("\nprompt injections (prompt assembly and grounding)")
    groups["prompt injections"] = injections()
    print_totals(groups)


if __name__ == "__main__":
    main()
