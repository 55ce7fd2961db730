"""What ``analyst summarize`` shows on a terminal while it works: the stage, the tokens of the
reply being written, their rate and the time so far, and each fact as soon as it is written.

Fed by the pipeline's stage messages and by a streaming client's ``Progress`` (through
``analyst.model.seam.progress_listener``). The facts are read from the reply so far with
pydantic's partial JSON parser: a fact is shown once the model has moved on to the next one (or
closed the list), so a half-written one never is. What is shown here is the model's proposal;
the report, after grounding and the support test, is what counts.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic_core import from_json
from rich.console import Console
from rich.markup import escape
from rich.status import Status

from analyst.model.seam import Progress


class LiveView:
    """Updates a rich ``Status`` line; prints facts above it as they arrive."""

    def __init__(self, console: Console, status: Status) -> None:
        self._console = console
        self._status = status
        self._started = time.perf_counter()
        self._stage = "reading"
        self._tokens = 0  # tokens of earlier replies
        self._shown = 0  # facts of the current extraction reply already printed
        self._last: Progress | None = None

    def stage(self, stage: str) -> None:
        """A new stage began (the pipeline's ``notify``)."""
        if self._last is not None:
            self._tokens += self._last.tokens
            self._last = None
        self._stage = stage
        self._shown = 0
        self._render()

    def reply(self, progress: Progress) -> None:
        """A streamed reply grew (the client's listener)."""
        if self._last is not None and progress.tokens < self._last.tokens:
            self._tokens += self._last.tokens  # a new call within the same stage (a re-ask)
            self._shown = 0
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
        self._shown = max(self._shown, len(done))

    def _render(self) -> None:
        elapsed = time.perf_counter() - self._started
        line = f"{escape(self._stage)} · {elapsed:.0f} s"
        if self._last is not None and self._last.seconds > 0:
            rate = self._last.tokens / self._last.seconds
            total = self._tokens + self._last.tokens
            line += f" · {total:,} tokens written · {rate:.1f} tokens/s"
        self._status.update(line)
