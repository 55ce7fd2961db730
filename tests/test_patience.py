"""``watched``: a silence is judged by what the server says it is doing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import pytest

from analyst.model.patience import Heard, Silent, watched
from analyst.model.servers import Activity

Send = Callable[[Heard], Coroutine[Any, Any, str]]


def _asked(*states: Activity) -> Callable[[], Awaitable[Activity]]:
    """A server that says ``states`` in turn, then the last one for ever."""
    said = iter(states)

    async def ask() -> Activity:
        return next(said, states[-1])

    return ask


def _run(
    send: Send, ask: Callable[[], Awaitable[Activity]], *, patience: float = 5.0
) -> tuple[str, int]:
    queued: list[int] = []

    async def go() -> str:
        return await watched(
            send, timeout=0.05, patience=patience, ask=ask, on_queued=lambda: queued.append(1)
        )

    return asyncio.run(go()), len(queued)


def test_a_request_queued_at_a_busy_server_keeps_its_place() -> None:
    async def send(heard: Heard) -> str:
        await asyncio.sleep(0.3)  # six timeouts of silence
        return "answer"

    ask = _asked(Activity.WORKING)
    assert _run(send, ask) == ("answer", 1)  # the strain told once, not at every look


def test_an_idle_server_loses_the_request_and_it_is_not_taken_for_a_queue() -> None:
    async def send(heard: Heard) -> str:
        await asyncio.sleep(10)
        return "never"

    ask = _asked(Activity.WORKING, Activity.IDLE)
    with pytest.raises(Silent) as silent:
        _run(send, ask)
    assert silent.value.activity is Activity.IDLE and not silent.value.queued


def test_the_patience_runs_out_on_a_server_that_stays_busy() -> None:
    async def send(heard: Heard) -> str:
        await asyncio.sleep(10)
        return "never"

    ask = _asked(Activity.WORKING)
    with pytest.raises(Silent) as silent:
        _run(send, ask, patience=0.2)
    assert silent.value.queued and 0.2 <= silent.value.waited < 1


def test_a_reply_that_stops_midway_is_not_waiting_for_its_turn() -> None:
    async def send(heard: Heard) -> str:
        heard.now(spoke=True)  # some of the reply came
        await asyncio.sleep(10)
        return "never"

    ask = _asked(Activity.UNKNOWN)
    with pytest.raises(Silent) as silent:
        _run(send, ask)
    assert silent.value.spoke and not silent.value.queued


def test_an_unknown_server_with_nothing_sent_yet_is_taken_to_queue() -> None:
    async def send(heard: Heard) -> str:
        await asyncio.sleep(0.2)
        return "answer"

    ask = _asked(Activity.UNKNOWN)
    assert _run(send, ask)[0] == "answer"
