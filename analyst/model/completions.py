"""Replies as the OpenAI API sends them, made into ``Completion``s: whole, or gathered from a
stream of chunks. Used only by ``model.openai``; apart so that package is about talking.

The SDK's ``ChatCompletion`` and ``ChatCompletionChunk`` come in as ``Any``: the SDK is imported
in ``model.openai`` alone, and what is read of them here is a few plain attributes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from analyst import errors
from analyst.model.patience import Heard
from analyst.model.seam import Completion, OutputSchema, Progress, StructuredMode


def completion(response: Any, mode: StructuredMode) -> Completion:
    if not response.choices:
        raise errors.MalformedReplyError("the server's answer has no choices")
    choice = response.choices[0]
    usage = response.usage
    timings = (response.model_extra or {}).get("timings")
    return Completion(
        content=choice.message.content or "",
        finish_reason=choice.finish_reason,
        prompt_tokens=usage.prompt_tokens if usage else None,
        completion_tokens=usage.completion_tokens if usage else None,
        mode=mode,
        refusal=getattr(choice.message, "refusal", None),
        timings=timings,
        cached_tokens=cached_tokens(usage, timings),
    )


def whole_completion(data: Any, mode: StructuredMode) -> Completion:
    """A completion a server sent whole (as JSON) where a stream was asked for."""
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise errors.MalformedReplyError("the server's answer has no choices")
    choice = choices[0]
    message: dict[str, Any] = choice.get("message") or {}
    usage: dict[str, Any] = data.get("usage") or {}
    if not isinstance(message, dict) or not isinstance(usage, dict):
        raise errors.MalformedReplyError("the server's answer is not a chat completion")
    timings: dict[str, Any] | None = data.get("timings")
    if not isinstance(timings, dict):
        timings = None
    details = usage.get("prompt_tokens_details") or {}
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    if not isinstance(cached, int) and timings is not None:
        cached = timings.get("cache_n")
    return Completion(
        content=str(message.get("content") or ""),
        finish_reason=choice.get("finish_reason"),
        prompt_tokens=usage.get("prompt_tokens"),
        completion_tokens=usage.get("completion_tokens"),
        mode=mode,
        refusal=message.get("refusal"),
        timings=timings,
        cached_tokens=cached if isinstance(cached, int) else None,
    )


class Streamed:
    """A reply put together from its chunks, telling ``listener`` (if any) of each token."""

    def __init__(self, listener: Callable[[Progress], None] | None, heard: Heard) -> None:
        self.listener = listener
        self.heard = heard
        self.started = time.perf_counter()
        self.parts: list[str] = []
        self.finish: str | None = None
        self.refusal: str | None = None
        self.usage: Any = None
        self.timings: dict[str, Any] | None = None
        self.seen = False

    def add(self, chunk: Any) -> None:
        self.seen = True
        self.heard.now(spoke=True)
        self.usage = chunk.usage or self.usage
        self.timings = (chunk.model_extra or {}).get("timings") or self.timings
        for choice in chunk.choices:
            self.finish = choice.finish_reason or self.finish
            self.refusal = getattr(choice.delta, "refusal", None) or self.refusal
            if choice.delta.content:
                self.parts.append(choice.delta.content)
                if self.listener is not None:
                    elapsed = time.perf_counter() - self.started
                    self.listener(Progress(len(self.parts), "".join(self.parts), elapsed))

    def completion(self, mode: StructuredMode) -> Completion:
        if not self.seen or (self.finish is None and not self.parts):
            raise errors.MalformedReplyError("the server's streamed answer has no choices")
        return Completion(
            content="".join(self.parts),
            finish_reason=self.finish,
            prompt_tokens=self.usage.prompt_tokens if self.usage else None,
            completion_tokens=self.usage.completion_tokens if self.usage else None,
            mode=mode,
            refusal=self.refusal,
            timings=self.timings,
            cached_tokens=cached_tokens(self.usage, self.timings),
        )


def cached_tokens(usage: Any, timings: dict[str, Any] | None) -> int | None:
    details = getattr(usage, "prompt_tokens_details", None) if usage else None
    cached = getattr(details, "cached_tokens", None) if details else None
    if isinstance(cached, int):
        return cached
    value = (timings or {}).get("cache_n")
    return int(value) if isinstance(value, int | float) else None


def with_schema(messages: list[dict[str, str]], schema: OutputSchema) -> list[dict[str, str]]:
    # The note is the schema_in_prompt prompt, filled in by whoever made the schema. It goes at
    # the end of the last message, after the article, so every call of an article still shares
    # its beginning (the prompt cache's prefix).
    text = schema.note or json.dumps(schema.schema, separators=(",", ":"))
    if messages and messages[-1]["role"] == "user":
        last = {**messages[-1], "content": messages[-1]["content"] + "\n\n" + text}
        return [*messages[:-1], last]
    return [*messages, {"role": "user", "content": text}]
