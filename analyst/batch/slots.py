"""Request slots for a batch: a bounded number of requests in flight, handed to articles in the
order they started, and given up by articles that have not started when the batch stops."""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Callable

from analyst.model.usage import Meter


class Slots:
    """The requests in flight, bounded; a freed slot goes to the article that started first.

    A plain FIFO semaphore would let newly opened articles' first requests queue ahead of the
    second request of articles half done, so every open article would be half done at once:
    slower reports, more to redo after a kill, and nothing left to withdraw on Ctrl-C.
    """

    def __init__(self, size: int, limit: Callable[[], int] | None = None) -> None:
        # ``limit``: the number in flight allowed now (a server's ``Throttle``), never past size.
        self._size = size
        self._limit = limit or (lambda: size)
        self._busy = 0
        self._waiting: list[tuple[int, asyncio.Future[None]]] = []

    def _room(self) -> bool:
        return self._busy < min(self._size, max(1, self._limit()))

    async def acquire(self, rank: int) -> None:
        if self._room() and not self._waiting:
            self._busy += 1
            return
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (rank, future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # the slot was handed over just as we were cancelled
            raise

    def release(self) -> None:
        self._busy -= 1
        # Hand the freed slot over, unless the limit has come down meanwhile.
        while self._waiting and self._room():
            _, future = heapq.heappop(self._waiting)
            if not future.done():
                self._busy += 1
                future.set_result(None)


class Gate:
    """One article's way to the shared request slots (a ``drive.Gate``).

    Once the batch is stopping, an article that has not yet sent a request withdraws instead of
    taking a slot; one that has finishes (its next requests go through).
    """

    def __init__(
        self, stopping: Callable[[], bool], slots: Slots, rank: int, meter: Meter | None = None
    ) -> None:
        self._stopping = stopping
        self._slots = slots
        self._rank = rank
        self._meter = meter  # whose request waits for the run's token budget to admit it
        self._sent = 0

    async def enter(self) -> bool:
        """Take a slot, or say ``False``: withdraw, the batch is stopping and nothing was sent."""
        if self._stopping() and not self._sent:
            return False
        # Articles under way come before new ones; among each, the earlier started first.
        await self._slots.acquire(self._rank if self._sent else self._rank + NEW)
        if self._stopping() and not self._sent:
            self._slots.release()
            return False
        if self._meter is not None and not self._sent and not self._meter.may_start():
            self._slots.release()  # the run's budget is for the articles under way
            return False
        if self._meter is not None:
            try:
                await self._meter.admit()
            except BaseException:
                self._slots.release()
                raise
        self._sent += 1
        return True

    def leave(self) -> None:
        """Give the slot back."""
        self._slots.release()


NEW = 1 << 40  # ranks a first request after every request of an article under way
