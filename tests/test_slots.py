"""Request slots: bounded, handed to the earliest-started article, given up when stopping."""

from __future__ import annotations

import asyncio

from analyst.batch.slots import NEW, Gate, Slots


def test_a_freed_slot_goes_to_the_lowest_rank() -> None:
    async def main() -> list[int]:
        slots = Slots(1)
        await slots.acquire(0)
        order: list[int] = []

        async def wait(rank: int) -> None:
            await slots.acquire(rank)
            order.append(rank)
            slots.release()

        tasks = [asyncio.create_task(wait(r)) for r in (NEW + 1, 3, NEW + 2, 1)]
        await asyncio.sleep(0)
        slots.release()
        await asyncio.gather(*tasks)
        return order

    assert asyncio.run(main()) == [1, 3, NEW + 1, NEW + 2]


def test_a_cancelled_waiter_does_not_swallow_the_slot() -> None:
    async def main() -> bool:
        slots = Slots(1)
        await slots.acquire(0)
        waiter = asyncio.create_task(slots.acquire(5))
        await asyncio.sleep(0)
        waiter.cancel()
        slots.release()
        await asyncio.gather(waiter, return_exceptions=True)
        await asyncio.wait_for(slots.acquire(1), timeout=1)  # the slot is free again
        return True

    assert asyncio.run(main())


def test_an_article_that_has_not_asked_withdraws_when_stopping() -> None:
    stopping = [False]

    async def main() -> None:
        slots = Slots(2)
        started = Gate(lambda: stopping[0], slots, 1)
        assert await started.enter()  # it has sent a request: it may finish
        started.leave()
        stopping[0] = True
        fresh = Gate(lambda: stopping[0], slots, 2)
        assert not await fresh.enter()  # it withdraws
        assert await started.enter()  # its next request still goes through
        started.leave()

    asyncio.run(main())
