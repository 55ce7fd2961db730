"""The one seam between the pipeline and any model: the ``ChatClient`` protocol."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, TypedDict, runtime_checkable


class Message(TypedDict):
    """A chat message as the OpenAI API takes it."""

    role: str
    content: str


class StructuredMode(StrEnum):
    """How a reply is held to the schema, strongest first."""

    JSON_SCHEMA = "json_schema"  # the server enforces the schema
    JSON_OBJECT = "json_object"  # the server guarantees JSON; the schema is in the prompt
    PROMPT = "prompt"  # only the prompt asks for JSON; analyst extracts it from the text


@dataclass(frozen=True, slots=True)
class OutputSchema:
    """The JSON Schema a reply must follow, with a name servers can show."""

    name: str
    schema: dict[str, Any]
    # sha256 of the schema, computed once: cache keys need it on every call.
    digest: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        blob = json.dumps(self.schema, sort_keys=True, separators=(",", ":"))
        object.__setattr__(self, "digest", hashlib.sha256(blob.encode()).hexdigest())


@dataclass(frozen=True, slots=True)
class Completion:
    """One reply. Token counts are ``None`` when the server did not report them."""

    content: str
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    mode: StructuredMode
    refusal: str | None = None
    # llama.cpp's per-request ``timings`` (prompt_ms, predicted_ms, ...) when the server sends them.
    timings: dict[str, float] | None = None
    cached: bool = False  # answered from analyst's call cache, not by the server


@dataclass(frozen=True, slots=True)
class BatchState:
    """Where a provider batch (OpenAI's Batch API) stands."""

    id: str
    status: str  # validating, in_progress, finalizing, completed, failed, expired, cancelled...
    total: int = 0
    completed: int = 0
    failed: int = 0
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: tuple[str, ...] = ()  # why a batch failed validation

    @property
    def finished(self) -> bool:
        """No more answers will come."""
        return self.status in ("completed", "failed", "expired", "cancelled")


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One call the pipeline wants made; a driver sends it to a client (or answers from cache)."""

    messages: Sequence[Message]
    schema: OutputSchema
    max_tokens: int
    temperature: float
    # 1 for a first ask; more for a re-ask, which means the previous reply was not accepted.
    attempt: int = 1


@runtime_checkable
class ChatClient(Protocol):
    """Anything that can answer chat messages under a JSON Schema.

    The client picks how to enforce the schema (``StructuredMode``), falls back to a weaker mode
    when the server rejects a stronger one, and reports the mode it used in each ``Completion``.
    """

    @property
    def model(self) -> str:
        """The model's name as the server knows it."""
        ...

    @property
    def backend(self) -> str:
        """A short name of the kind of server: ``openai``, ``openai-compatible``, ``fake``."""
        ...

    def complete(
        self,
        messages: Sequence[Message],
        *,
        schema: OutputSchema,
        max_tokens: int,
        temperature: float,
    ) -> Completion:
        """Send ``messages`` and return the model's reply."""
        ...

    def close(self) -> None:
        """Release connections; the client is not used afterwards."""
        ...


@runtime_checkable
class AsyncChatClient(Protocol):
    """The asynchronous twin of ``ChatClient``, for running many articles at once (``batch``).

    A client may implement both; the batch driver runs a client that has only ``complete`` in a
    worker thread instead.
    """

    @property
    def model(self) -> str:
        """The model's name as the server knows it."""
        ...

    @property
    def backend(self) -> str:
        """A short name of the kind of server."""
        ...

    async def acomplete(
        self,
        messages: Sequence[Message],
        *,
        schema: OutputSchema,
        max_tokens: int,
        temperature: float,
    ) -> Completion:
        """Send ``messages`` and return the model's reply."""
        ...

    async def aclose(self) -> None:
        """Release the asynchronous connections."""
        ...


@runtime_checkable
class ModelClient(ChatClient, AsyncChatClient, Protocol):
    """A client that can be driven both ways; every client ``make_client`` returns is one."""
