"""Waiting on a model server: ``--timeout`` bounds a silence, and a silent server is asked why.

A request that has had no byte for ``timeout`` seconds is not simply abandoned: a server on the
user's own machine with one slot is often silent because it is still working on the requests
before ours, and abandoning ours to send it again only puts it at the back of the same queue.
So the server is asked what it is doing (``servers.activity``): while it is at work the request
keeps its place (up to ``patience`` seconds in all); when it says it is idle, or cannot say, the
request is cancelled — closing the connection is how llama.cpp, Ollama and vLLM learn to stop
it — and the caller decides whether to send it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar
from typing import Any, TypeVar

from analyst.model.servers import Activity

T = TypeVar("T")


class Heard:
    """When the server was last heard from on one request (its headers, each chunk)."""

    def __init__(self) -> None:
        self.started = self.last = time.monotonic()
        self.spoke = False  # some of the reply itself came (not just the headers)

    def now(self, *, spoke: bool = False) -> None:
        self.last = time.monotonic()
        self.spoke = self.spoke or spoke


# The request being made in this task: the HTTP client's hooks tell it of every attempt sent and
# every response's headers, so time the SDK spends between its own retries is not silence.
hearing: ContextVar[Heard | None] = ContextVar("analyst_hearing", default=None)


async def heard_now(_: object) -> None:
    """An HTTP client event hook (request sent, response headers in)."""
    heard = hearing.get()
    if heard is not None:
        heard.now()


class Silent(Exception):
    """The request had no answer for ``timeout`` seconds and was cancelled; ``activity`` is what
    the server said it was doing, ``waited`` the seconds the request was kept in all."""

    def __init__(self, activity: Activity, waited: float, queued: bool, spoke: bool) -> None:
        super().__init__(activity.value)
        self.activity = activity
        self.waited = waited
        self.queued = queued  # the server was still at work when the patience ran out
        self.spoke = spoke  # part of the reply had come

    def say(self, where: str, timeout: float, retries: int) -> str:
        """The one line for the user, ``where`` being the server."""
        after = f" (after {retries} retries)" if retries else ""
        if self.activity is Activity.DOWN:
            return (
                f"{where} stopped answering: no reply for {timeout:g} s, and it does not answer "
                "a plain request either"
            )
        if self.queued:
            return (
                f"{where} was still busy after {self.waited:,.0f} s: the request waited behind "
                f"others the whole time{after}; lower --concurrency, or raise --timeout"
            )
        if self.spoke:
            return f"{where} stopped sending its reply for {timeout:g} s{after}"
        return f"{where} did not answer within {timeout:g} s{after}"


async def watched(
    send: Callable[[Heard], Coroutine[Any, Any, T]],
    *,
    timeout: float,
    patience: float,
    ask: Callable[[], Awaitable[Activity]],
    on_queued: Callable[[], None] = lambda: None,
    open_means_queued: bool = True,
) -> T:
    """``send(heard)``'s result; :class:`Silent` once it has been silent for ``timeout`` seconds
    and the server, asked, is not at work (or has been for ``patience`` seconds).

    A server that cannot say what it is doing (Ollama, LM Studio) but answers, and has sent
    nothing of this reply yet, is taken to hold it in its queue (``open_means_queued``; not for
    OpenAI's API, which queues nothing of ours): the connection is open, the request is there.
    One that stops in the middle of a reply is not waiting for its turn."""
    heard = Heard()

    async def sending() -> T:
        hearing.set(heard)  # in the task's own context
        return await send(heard)

    task = asyncio.ensure_future(sending())
    queued = False
    try:
        while True:
            left = timeout - (time.monotonic() - heard.last)
            if left > 0:
                done, _ = await asyncio.wait({task}, timeout=left)
                if done:
                    return task.result()
                continue
            state = await ask()
            if task.done():  # the answer came while the server was being asked
                return task.result()
            waited = time.monotonic() - heard.started
            queue = state is Activity.WORKING or (
                state is Activity.UNKNOWN and open_means_queued and not heard.spoke
            )
            if queue and waited < patience:
                if not queued:
                    on_queued()
                queued = True
                heard.now()  # another `timeout` of grace
                continue
            raise Silent(state, waited, queue, heard.spoke)
    finally:
        if not task.done():
            task.cancel()  # closes the connection: the server stops working on it
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
