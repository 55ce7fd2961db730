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


def test_a_lowered_limit_holds_back_new_requests_until_enough_are_done() -> None:
    from analyst.model.throttle import Throttle

    async def scenario() -> list[int]:
        throttle = Throttle()
        throttle.start(4)
        slots = Slots(4, lambda: throttle.limit)
        for rank in range(4):
            await slots.acquire(rank)
        throttle.strained()  # 4 → 2: the four in flight finish, but only two follow
        waiting = [asyncio.ensure_future(slots.acquire(10 + i)) for i in range(3)]
        granted = []
        for _ in range(4):
            slots.release()
            await asyncio.sleep(0)
            granted.append(sum(task.done() for task in waiting))
        return granted

    assert asyncio.run(scenario()) == [0, 0, 1, 2]


def test_the_throttle_halves_once_per_strain_and_grows_back_slowly() -> None:
    from analyst.model import throttle as module

    throttle = module.Throttle()
    throttle.start(4)
    throttle.strained()
    throttle.strained()  # the same strain (requests that were already in flight)
    assert throttle.limit == 2 and throttle.halvings == 1
    for _ in range(module.GROW_AFTER * 2 - 1):
        throttle.served()
    assert throttle.limit == 2
    throttle.served()
    assert throttle.limit == 3
    for _ in range(100):
        throttle.served()
    assert throttle.limit == 4  # never past where it started
