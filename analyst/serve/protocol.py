"""uvicorn as ``analyst serve`` runs it: deadlines on slow clients, connections below the file
limit, and one log line per condition.

uvicorn waits for a request's headers as long as a client takes: 1,100 connections that never
finish theirs (slowloris) locked the token holder out of a server on 0.0.0.0, and every
``accept()`` that then failed for want of file descriptors logged a traceback (1.46 million lines
in 15 s). Here:

- a connection has ``HEADER_SECONDS`` to send a request's headers (the first, and each next one
  on a kept-alive connection), or it is closed;
- the body has ``BODY_SECONDS`` in all (``serve.guard`` reads it against that deadline: 408);
- uvicorn takes at most ``connection_limit()`` connections at once, below the process's file
  limit, and answers 503 past it;
- the event loop's errors of one kind are logged once a minute, with a count.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_SECONDS = 10.0
BODY_SECONDS = 30.0
LOG = logging.getLogger("analyst.serve")


class DeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for a request's headers."""

    header_seconds = HEADER_SECONDS
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.cycle is not None and not self.cycle.response_complete:
            self._disarm()  # the headers are in: the request runs
        elif self._deadline is None:
            self._arm()  # the next request's headers on a kept-alive connection

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._disarm()  # uvicorn's keep-alive timeout watches an idle connection

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.header_seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.cycle is None or self.cycle.response_complete:
            SLOW.note(f"closed connections that sent no request in {self.header_seconds:g} s")
            self.transport.close()


class Once:
    """Log one line per condition per minute, with how often it happened in between."""

    def __init__(self, every: float = 60.0) -> None:
        self.every = every
        self._last: dict[str, float] = {}
        self._count: dict[str, int] = {}

    def note(self, condition: str) -> None:
        self._count[condition] = self._count.get(condition, 0) + 1
        now = time.monotonic()
        if now - self._last.get(condition, -self.every) >= self.every:
            LOG.warning("analyst serve: %s (%d time(s))", condition, self._count[condition])
            self._last[condition] = now
            self._count[condition] = 0


SLOW = Once()
ERRORS = Once()


def quiet_errors(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The event loop's exception handler: one line per kind of error a minute, no traceback
    (an ``accept()`` failing for want of file descriptors, thousands of times a second)."""
    error = context.get("exception")
    kind = type(error).__name__ if error is not None else "error"
    ERRORS.note(f"{context.get('message', 'event loop error')} ({kind}: {error})")


def connection_limit() -> int:
    """Connections uvicorn takes at once: below the soft file limit, with room for the model
    client, the cache and the log (at least 64)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1000
    return max(64, min(1000, soft - 128))
