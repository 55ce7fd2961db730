"""One structured model call: context check, parse, validate, bounded re-ask, usage counting.

On a reply that fails validation we re-ask with the error, at most ``repairs`` times. Each re-ask
sends the original messages plus only the *last* bad reply and its error — not every earlier one —
so the cost of a re-ask stays flat instead of growing with the number of attempts. Every attempt's
tokens are counted. ``finish_reason == "length"`` is never success: we retry with twice the room
when the context allows, and otherwise raise ``OutputTooLong`` so the caller can split the input.

``ask`` does no I/O itself: it is a generator that yields each ``ChatRequest`` and is sent the
``Completion``. The same logic then serves one article on a blocking client and a whole batch on
an asynchronous one (see ``analyst.model.drive``).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from analyst.errors import (
    ContextOverflowError,
    MalformedReplyError,
    ModelOutputError,
    OutputTooLong,
)
from analyst.model.seam import ChatRequest, Completion, Message, OutputSchema
from analyst.model.usage import Meter
from analyst.settings import Settings
from analyst.text.tokens import Encoder, count

T = TypeVar("T", bound=BaseModel)
R = TypeVar("R")
# A computation that yields the calls it needs, is sent their replies, and returns an R.
Calls = Generator[ChatRequest, Completion, R]

# Per-message framing tokens in chat formats (role markers and separators): an upper estimate.
MESSAGE_OVERHEAD = 8
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def prompt_tokens(encoder: Encoder, messages: Sequence[Message]) -> int:
    """Estimated prompt tokens of ``messages``."""
    return sum(_count_cached(encoder, m["content"]) + MESSAGE_OVERHEAD for m in messages)


@functools.lru_cache(maxsize=64)
def _count_cached(encoder: Encoder, text: str) -> int:
    # System prompts repeat on every call; counting them once is enough.
    return count(encoder, text)


@dataclass(frozen=True)
class AskPolicy:
    """How every call of one report is asked: sampling, re-ask budget, context window, the
    tokenizer that sizes requests, the meter that counts them, and the re-ask message."""

    temperature: float
    repairs: int
    context_window: int
    encoder: Encoder
    meter: Meter
    # The message that re-asks, given the validation error: the `reask` prompt.
    reask: Callable[[str], str] = field(default=lambda error: _packaged_reask(error))

    @classmethod
    def of(
        cls, settings: Settings, encoder: Encoder, meter: Meter, reask: Callable[[str], str]
    ) -> AskPolicy:
        """The policy ``settings`` describe."""
        s = settings
        return cls(s.temperature, s.repairs, s.effective_context_window, encoder, meter, reask)


def _packaged_reask(error: str) -> str:
    from analyst.prompts import Prompts

    return Prompts.load().render("reask", error=error)


def ask(
    policy: AskPolicy,
    messages: list[Message],
    output: type[T],
    *,
    schema: OutputSchema,
    max_tokens: int,
    validation_context: dict[str, Any] | None = None,
    copying: bool = False,
) -> Calls[T]:
    """Ask until the reply validates as ``output``, re-asking at most ``policy.repairs`` times.
    ``copying``: the reply copies from the prompt (see ``ChatRequest.copying``)."""
    encoder, meter = policy.encoder, policy.meter
    repairs, context_window, temperature = policy.repairs, policy.context_window, policy.temperature
    base = list(messages)
    current = base
    attempts = 0
    raw = ""
    while True:
        sent = prompt_tokens(encoder, current)
        if sent + max_tokens > context_window:
            room = context_window - sent
            if room < max_tokens // 2 or room < 64:
                raise ContextOverflowError(
                    f"a request of {sent} prompt tokens leaves {max(room, 0)} of the "
                    f"{context_window}-token context window for the reply"
                )
            max_tokens = room
        # Before spending: a request whose prompt and longest reply could pass the budget is
        # not sent, so a report never costs more than its budget.
        meter.check(sent + max_tokens)
        meter.hold(sent + max_tokens)
        try:
            completion = yield ChatRequest(
                current, schema, max_tokens, temperature, attempts + 1, copying
            )
        except MalformedReplyError as exc:
            # Not the model's fault but the answer's shape; the SDK does not retry these, so
            # the same request goes again, within the same budget as a re-ask.
            attempts += 1
            meter.calls += 1
            meter.estimated = True
            meter.add(sent, 0)
            if attempts > repairs:
                raise MalformedReplyError(f"{exc} ({attempts} attempts)") from None
            continue
        except BaseException:
            meter.release()
            raise
        attempts += 1
        meter.mode = completion.mode
        if attempts > 1:
            meter.repairs += 1
        if completion.cached:
            meter.cache_hits += 1  # paid for in an earlier run, not in this one
            meter.release()
        else:
            meter.calls += 1
            if completion.prompt_tokens is None or completion.completion_tokens is None:
                meter.estimated = True
            meter.add(
                completion.prompt_tokens if completion.prompt_tokens is not None else sent,
                completion.completion_tokens
                if completion.completion_tokens is not None
                else count(encoder, completion.content),
            )
            meter.count_cached(completion.cached_tokens)
        raw = completion.content
        if completion.refusal:
            raise ModelOutputError(f"the model refused: {completion.refusal}", raw=raw, attempts=1)
        if completion.finish_reason == "length":
            bigger = max_tokens * 2
            if attempts <= repairs and sent + bigger <= context_window:
                max_tokens = bigger
                continue
            raise OutputTooLong(
                f"the reply did not fit in {max_tokens} tokens", raw=raw, attempts=attempts
            )
        try:
            return output.model_validate(parse_json(raw), context=validation_context)
        except (ValueError, ValidationError) as exc:
            error = _describe(exc)
        if attempts > repairs:
            raise ModelOutputError(
                f"the model's reply was still invalid after {attempts} attempts: {error}",
                raw=raw,
                attempts=attempts,
            )
        current = [
            *base,
            {"role": "assistant", "content": raw[:4000]},
            {"role": "user", "content": policy.reask(error)},
        ]


def parse_json(text: str) -> Any:
    """The JSON object in a reply: the whole text, a fenced block, or the outermost braces."""
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    fenced = _FENCE.search(text)
    if fenced:
        try:
            return json.loads(fenced.group(1))
        except ValueError:
            pass
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        return json.loads(text[start : end + 1])
    raise ValueError("the reply contains no JSON object")


def _describe(exc: ValueError | ValidationError) -> str:
    if isinstance(exc, ValidationError):
        parts = [
            f"{'.'.join(str(p) for p in err['loc']) or 'reply'}: {err['msg']}"
            for err in exc.errors(include_url=False)[:8]
        ]
        return "; ".join(parts)
    return f"invalid JSON ({exc})"
