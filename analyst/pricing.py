"""USD prices of OpenAI models, per million tokens, for the report's ``usage.cost_usd``.

Prices are OpenAI's published standard-tier list prices (input, output) as of 2026; a model not
listed here has an unknown cost (``None``), never $0.
"""

from __future__ import annotations

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
