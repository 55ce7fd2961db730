"""What model calls cost: the running ``Meter`` of one report, and dollars for OpenAI's models.

Prices are OpenAI's published standard-tier list prices (input, output) as of 2026; a model not
listed here has an unknown cost (``None``), never $0.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from analyst.errors import BudgetError
from analyst.model.seam import ClientInfo, StructuredMode
from analyst.schema import Usage

PRICES_PER_MILLION: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "o3": (2.00, 8.00),
    "o4-mini": (1.10, 4.40),
}


def cost_usd(model: str, backend: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    """Dollar cost on OpenAI's API, or ``None`` when the price is unknown or not OpenAI's."""
    price = PRICES_PER_MILLION.get(model)
    if backend != "openai" or price is None:
        return None
    return round((prompt_tokens * price[0] + completion_tokens * price[1]) / 1_000_000, 6)


@dataclass
class Pool:
    """A token budget several reports share (a batch's ``--batch-budget-tokens``).

    A request is admitted only when its worst case (prompt + ``max_tokens``) fits beside what is
    spent and what the requests in flight hold; it waits while they hold too much, and gives
    back what it did not use when its reply is in. So the budget holds however many requests
    run at once. A request that could not fit even with nothing in flight is a ``BudgetError``.
    """

    budget: int
    spent: int = 0
    held: int = 0
    refused: bool = False
    _waiters: list[asyncio.Future[None]] = field(default_factory=list)
    _open: dict[int, Meter] = field(default_factory=dict)  # reports under way, by id
    _finished: int = 0
    _finished_cost: int = 0

    def check(self, tokens: int) -> None:
        """``BudgetError`` if a request of ``tokens`` could never be admitted."""
        if self.spent + tokens > self.budget:
            self.refused = True
            raise BudgetError(
                f"a request of up to {tokens:,} tokens would take the batch past its token "
                f"budget of {self.budget:,} ({self.spent:,} spent)"
            )

    def room_to_start(self, meter: Meter, tokens: int) -> bool:
        """Whether a new report may start with a request of ``tokens``: no report under way is
        waiting for room, and what the reports under way are still expected to cost, plus a
        whole report, fits. A report is expected to cost the mean of those finished (before
        any has, three times its first request). Reports under way finish before new ones
        begin; ``False`` means the pool is spent for new reports."""
        expected = self._finished_cost // self._finished if self._finished else 3 * tokens
        remaining = sum(max(0, expected - m.spent) for m in self._open.values())
        if not self._waiters and self.spent + self.held + remaining + expected <= self.budget:
            self._open[id(meter)] = meter
            return True
        self.refused = True
        return False

    def close(self, meter: Meter, *, finished: bool) -> None:
        """A report is over (``finished``: its cost now informs the expected cost)."""
        if self._open.pop(id(meter), None) is not None and finished:
            self._finished += 1
            self._finished_cost += meter.spent

    async def admit(self, tokens: int) -> None:
        """Wait until ``tokens`` fit beside the requests in flight, then hold them."""
        while True:
            self.check(tokens)
            if self.spent + self.held + tokens <= self.budget:
                self.held += tokens
                return
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter

    def settle(self, held: int, used: int) -> None:
        """A request is over: it used ``used`` of the ``held`` tokens; wake those waiting."""
        self.held -= held
        self.spent += used
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)


@dataclass
class Meter:
    """Running totals of one report's model usage, kept even when the report fails."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    repairs: int = 0
    cache_hits: int = 0
    estimated: bool = False
    # Prompt tokens the server read from its prompt cache; None once a server did not say.
    cached_prompt_tokens: int | None = 0
    mode: StructuredMode = StructuredMode.JSON_SCHEMA
    budget: int | None = None  # tokens (prompt + completion) this report may spend
    pool: Pool | None = None  # a budget shared with other reports (a batch's)
    _asking: int = 0  # the worst case of the request about to be sent
    _held: int = 0  # what the pool admitted for the request in flight

    @property
    def spent(self) -> int:
        """Prompt and completion tokens so far."""
        return self.prompt_tokens + self.completion_tokens

    def check(self, request: int) -> None:
        """Raise ``BudgetError`` if a request of up to ``request`` tokens could pass the budget."""
        if self.budget is not None and self.spent + request > self.budget:
            raise BudgetError(
                f"the next request (up to {request:,} tokens with its reply) would take the "
                f"article past its token budget of {self.budget:,} ({self.spent:,} spent)"
            )

    def hold(self, tokens: int) -> None:
        """Before a request: its worst case, to be admitted by the shared pool (if any)."""
        if self.pool is not None:
            self.pool.check(tokens)
        self._asking = tokens

    def may_start(self) -> bool:
        """Whether the shared pool leaves room for this report to begin (see ``Pool``)."""
        return self.pool is None or self.pool.room_to_start(self, self._asking)

    async def admit(self) -> None:
        """Wait for the shared pool to admit the request about to be sent (a batch's gate)."""
        if self.pool is not None and self._asking and not self._held:
            await self.pool.admit(self._asking)
            self._held = self._asking

    def add(self, prompt: int, completion: int) -> None:
        """After a reply: count what it cost, and give back what its request held."""
        self.prompt_tokens += prompt
        self.completion_tokens += completion
        self._settle(prompt + completion)

    def release(self) -> None:
        """The request is over without a cost to count (answered from the cache, or failed)."""
        self._settle(0)

    def _settle(self, used: int) -> None:
        if self.pool is not None and self._held:
            self.pool.settle(self._held, used)
        elif self.pool is not None:
            self.pool.spent += used  # never admitted (no gate): still counted
        self._held = self._asking = 0

    def count_cached(self, tokens: int | None) -> None:
        """Add one reply's cached prompt tokens (``None``: the server did not say)."""
        if tokens is None or self.cached_prompt_tokens is None:
            self.cached_prompt_tokens = None
        else:
            self.cached_prompt_tokens += tokens

    def usage(self, info: ClientInfo, seconds: float) -> Usage:
        """The totals as the report's ``usage``, priced for ``info``'s model."""
        return Usage(
            calls=self.calls,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            repairs=self.repairs,
            cache_hits=self.cache_hits,
            seconds=round(seconds, 3),
            cost_usd=cost_usd(info.model, info.backend, self.prompt_tokens, self.completion_tokens),
            tokens_estimated=self.estimated,
            cached_prompt_tokens=self.cached_prompt_tokens if self.calls else None,
        )
