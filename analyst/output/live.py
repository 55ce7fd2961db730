"""What ``analyst summarize`` shows on a terminal while it works: the stage, the tokens of the
reply being written, their rate, the time so far and about how much is left, and the facts and
notes as they land.

Fed by the pipeline's stage messages, by a streaming client's ``Progress`` (through
``analyst.model.seam.progress_listener``) and by the report's own events (through
``analyst.stages.context.report_listener``): the calls it plans, each with the tokens it will
read and write, then the facts once grounded and the notes once computed. The time left is those
tokens at the rates measured so far in this run (before the first reply: 45 read and 15 written
a second, the embedded 1.5B model on two cores). Facts the model writes out are shown as they
are written, read from the reply so far with pydantic's partial JSON parser (a fact once the
model has moved on to the next); facts it cites by number are shown once grounded.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from pydantic_core import from_json
from rich.console import Console
from rich.markup import escape
from rich.status import Status

from analyst.model.seam import Progress
from analyst.stages.context import Landed, ReportEvent, Step

# Tokens a second before this run has measured any: the embedded 1.5B model on two cores.
READ_RATE, WRITE_RATE = 45.0, 15.0


class LiveView:
    """Updates a rich ``Status`` line; prints facts above it as they arrive."""

    def __init__(self, console: Console, status: Status) -> None:
        self._console = console
        self._status = status
        self._started = time.perf_counter()
        self._stage = "reading"
        self._tokens = 0  # tokens of earlier replies
        self._shown = 0  # facts of the current extraction reply already printed
        self._streamed = 0  # facts printed from replies in all
        self._last: Progress | None = None
        self._steps: tuple[Step, ...] = ()
        self._step: int | None = None  # the planned call under way
        self._step_started = self._started
        self._read_rate, self._write_rate = READ_RATE, WRITE_RATE
        self._first_at = 0.0  # seconds into the current call of its first token
        self._ticking = threading.Event()  # set: the ticker stops

    def __enter__(self) -> LiveView:
        """Keep the line current while nothing arrives (a prompt being read is silent)."""

        def tick() -> None:
            while not self._ticking.wait(0.5):
                self._render()

        threading.Thread(target=tick, name="analyst-live", daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self._ticking.set()

    def event(self, event: ReportEvent) -> None:
        """The report planned its calls, or something landed (``report_listener``)."""
        if isinstance(event, Landed):
            if event.kind == "facts" and self._streamed:
                return  # shown as the model wrote them
            if event.lines:
                self._console.print(f"[dim]{escape(event.kind)}:[/dim]", highlight=False)
            for line in event.lines:
                self._console.print(f"  [dim]·[/dim] {escape(line)}", highlight=False)
        else:
            self._steps = event
        self._render()

    def stage(self, stage: str) -> None:
        """A new stage began (the pipeline's ``notify``)."""
        if self._last is not None:
            self._tokens += self._last.tokens
            self._last = None
        self._stage = stage
        self._shown = 0
        index = next((i for i, s in enumerate(self._steps) if s.stage == stage), None)
        if index is not None:
            self._step, self._step_started = index, time.perf_counter()
        self._render()

    def reply(self, progress: Progress) -> None:
        """A streamed reply grew (the client's listener)."""
        if self._last is not None and progress.tokens < self._last.tokens:
            self._tokens += self._last.tokens  # a new call within the same stage (a re-ask)
            self._shown = 0
        if self._last is None:
            # The first token of a call: the server has read its prompt.
            self._first_at = progress.seconds
            read = self._steps[self._step].read if self._step is not None else 0
            if read >= 200 and progress.seconds > 0:  # a short request times latency
                self._read_rate = read / progress.seconds
        elif progress.tokens >= 8 and progress.seconds > self._first_at:
            self._write_rate = (progress.tokens - 1) / (progress.seconds - self._first_at)
        self._last = progress
        if self._stage.startswith("extracting"):
            self._facts(progress.text)
        self._render()

    def _facts(self, text: str) -> None:
        try:
            reply: Any = from_json(text, allow_partial=True)
        except ValueError:
            return
        facts = reply.get("facts") if isinstance(reply, dict) else None
        if not isinstance(facts, list):
            return
        done = facts if text.rstrip().endswith("}") else facts[:-1]
        for fact in done[self._shown :]:
            if isinstance(fact, dict) and isinstance(fact.get("text"), str):
                self._console.print(f"  [dim]·[/dim] {escape(fact['text'])}", highlight=False)
                self._streamed += 1
        self._shown = max(self._shown, len(done))

    def left(self) -> float | None:
        """About how many seconds the planned calls still need; None before any plan."""
        if self._step is None:
            return None
        step = self._steps[self._step]
        since = time.perf_counter() - self._step_started
        if self._last is None:
            now = max(step.read / self._read_rate - since, 0.0) + step.write / self._write_rate
        else:
            now = max(step.write - self._last.tokens, 0) / self._write_rate
        later = sum(
            s.read / self._read_rate + s.write / self._write_rate
            for s in self._steps[self._step + 1 :]
        )
        return now + later

    def _render(self) -> None:
        elapsed = time.perf_counter() - self._started
        line = f"{escape(self._stage)} · {elapsed:.0f} s"
        if self._last is not None and self._last.seconds > 0:
            total = self._tokens + self._last.tokens
            line += f" · {total:,} tokens written"
            if self._last.tokens >= 8:  # the rate of writing, the prompt's reading aside
                line += f" · {self._write_rate:.1f} tokens/s"
        left = self.left()
        if left is not None:
            line += f" · about {left:.0f} s left"
        self._status.update(line)
