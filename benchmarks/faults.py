"""Reliability figures for issue 6: server faults, bad inputs, prompt injections.

    python benchmarks/faults.py

Every server fault of tests/test_faults.py is injected into the loopback test server twice: once
(it must be recovered) and on every request (it must end in one clean line and its exit code).
Then every bad input of tests/test_hostile.py, then every injection of tests/test_injection.py
(through the test server's extractive stand-in: this checks what analyst sends and keeps, not
what a model would do — the real-model check is a test marked `model`). A traceback anywhere
counts as a failure of analyst.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyst import Settings, summarize_text  # noqa: E402
from analyst.cli import app  # noqa: E402
from tests.conftest import EXAMPLES  # noqa: E402
from tests.fakeserver import FakeOpenAIServer, fault  # noqa: E402
from tests.test_faults import FAULTS, FINAL  # noqa: E402
from tests.test_hostile import CASES  # noqa: E402
from tests.test_injection import INJECTIONS, _injected  # noqa: E402

ARTICLE = str(EXAMPLES / "harbor-bridge.txt")


def _run(server: FakeOpenAIServer, path: str = ARTICLE) -> Any:
    args = ["summarize", path, "--format", "json", "--base-url", server.base_url, "--model", "m"]
    return CliRunner().invoke(app, [*args, "--timeout", "1", "--max-retries", "2", "--no-cache"])


def _traceback(result: Any) -> bool:
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    return crashed or "Traceback" in result.output


def faults() -> None:
    print(f"{'fault':26} {'once: recovered':>19} {'always: exit':>13} {'clean':>6} {'tb':>3}")
    totals = [0, 0, 0, 0]
    for name, (item, code, words) in {**FAULTS, **FINAL}.items():
        server = FakeOpenAIServer().start()
        server.enqueue(item)
        once = _run(server)
        server.stop()
        server = FakeOpenAIServer().start()
        server.always = item
        always = _run(server)
        server.stop()
        recovered = once.exit_code == 0
        lines = always.stderr.strip().splitlines()
        # One error line (exit 5 adds a hint: "run with --verbose to see the model's last reply").
        clean = (
            always.exit_code == code
            and lines[0].startswith("analyst: error: ")
            and words in lines[0]
            and all(line.startswith("analyst: ") for line in lines)
        )
        tracebacks = _traceback(once) + _traceback(always)
        final = name in FINAL
        shown = "final (not retried)" if final else ("yes" if recovered else "NO")
        print(
            f"{name:26} {shown:>19} {always.exit_code:>13} {'yes' if clean else 'NO':>6} "
            f"{tracebacks:>3}"
        )
        totals[0] += 2
        totals[1] += int(recovered and not final)
        totals[2] += int(clean) + int(final and once.exit_code == code)
        totals[3] += tracebacks
    # A body that drips in slowly but never pauses for a whole timeout is not a failure.
    server = FakeOpenAIServer().start()
    server.always = fault("drip", 0.6)
    drip = _run(server)
    server.stop()
    totals[0] += 1
    totals[1] += int(drip.exit_code == 0)
    totals[3] += _traceback(drip)
    shown = "yes" if drip.exit_code == 0 else "NO"
    print(f"{'slow drip, every request':26} {shown:>19} {drip.exit_code:>13} {'-':>6} {0:>3}")
    print(
        f"\nfaults injected {totals[0]}: recovered {totals[1]}, clean failures {totals[2]}, "
        f"tracebacks {totals[3]}"
    )


def bad_inputs() -> None:
    handled = tracebacks = 0
    server = FakeOpenAIServer().start()
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in CASES.items():
            path = Path(tmp) / "input.txt"
            path.write_bytes(make())
            result = _run(server, str(path))
            tracebacks += _traceback(result)
            ok = result.exit_code == 0 or (
                result.exit_code == 3 and len(result.stderr.strip().splitlines()) == 1
            )
            handled += ok
            outcome = "report" if result.exit_code == 0 else f"exit {result.exit_code}"
            print(f"  {name:36} {outcome}")
    server.stop()
    print(f"bad inputs tried {len(CASES)}: handled {handled}, tracebacks {tracebacks}")


def injections() -> None:
    resisted = 0
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
        resisted += ok
        print(f"  {name:24} {'resisted' if ok else 'NOT RESISTED'}")
    server.stop()
    print(f"injection cases tried {len(INJECTIONS)}: resisted {resisted}")


def main() -> None:
    faults()
    print("\nbad inputs")
    bad_inputs()
    print("\nprompt injections (prompt assembly and grounding)")
    injections()


if __name__ == "__main__":
    main()
