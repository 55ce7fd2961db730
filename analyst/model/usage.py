"""What model calls cost: the running ``Meter`` of one report, and dollars for OpenAI's models.

Prices are OpenAI's published standard-tier list prices (input, output) as of 2026; a model not
listed here has an unknown cost (``None``), never $0.
"""

from __future__ import annotations

from dataclasses import dataclass

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
