"""The one seam between the pipeline and any model: ``ChatRequest`` in, ``Completion`` out.

A client is anything with an ``info`` (which model, which kind of server) and a
``complete(request)`` — or, for the event loop, ``acomplete(request)``. The pipeline never calls a
client itself: it yields ``ChatRequest``s and a driver (``analyst.model.drive``) answers them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, runtime_checkable


class Message(TypedDict):
    """A chat message as the OpenAI API takes it."""

    role: str
    content: str


class StructuredMode(StrEnum):
    """How a reply is held to the schema, strongest first."""

    JSON_SCHEMA = "json_schema"  # the server enforces the schema
    JSON_OBJECT = "json_object"  # the server guarantees JSON; the schema is in the prompt
    PROMPT = "prompt"  # only the prompt asks for JSON; analyst extracts it from the text


if TYPE_CHECKING:
    from analyst.model.servers import Survey  # (it imports httpx2)
    from analyst.model.throttle import Throttle


@dataclass(frozen=True, slots=True)
class OutputSchema:
    """The JSON Schema a reply must follow, with a name servers can show.

    ``note`` is what a client adds to the system prompt when the server will not enforce the
    schema (``json_object`` and prompt-only modes): the ``schema_in_prompt`` prompt, filled in.
    """

    name: str
    schema: dict[str, Any]
    note: str = field(default="", compare=False)
    # sha256 of the schema, computed once: cache keys need it on every call.
    digest: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        blob = json.dumps(self.schema, sort_keys=True, separators=(",", ":"))
        object.__setattr__(self, "digest", hashlib.sha256(blob.encode()).hexdigest())


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One call the pipeline wants made; a driver sends it to a client (or answers from cache)."""

    messages: Sequence[Message]
    schema: OutputSchema
    max_tokens: int
    temperature: float
    # 1 for a first ask; more for a re-ask, which means the previous reply was not accepted.
    attempt: int = 1
    # The reply copies the prompt (evidence quotes): the embedded client then samples without a
    # repetition penalty, which penalises exactly the verbatim copying asked for.
    copying: bool = False


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
    # Prompt tokens the server took from its prompt cache instead of computing (llama.cpp's
    # ``timings.cache_n``, OpenAI's ``usage.prompt_tokens_details.cached_tokens``); ``None``
    # when it does not say.
    cached_tokens: int | None = None
    cached: bool = False  # answered from analyst's call cache, not by the server


@dataclass(frozen=True, slots=True)
class Progress:
    """A streamed reply so far: what a listener (the terminal view) is told at each token."""

    tokens: int  # generated so far in this call (chunks received)
    text: str  # the reply so far
    seconds: float  # since the request was sent


# Who wants to watch replies arrive: set around a report (``analyst summarize`` on a terminal);
# a streaming client calls it at each chunk. A context variable, so that the listener reaches
# the client through the pipeline and the driver without either of them knowing.
progress_listener: ContextVar[Callable[[Progress], None] | None] = ContextVar(
    "analyst_progress_listener", default=None
)


@dataclass(frozen=True, slots=True)
class Deferred:
    """Not a reply but a promise of one later: a provider-batch client wrote the request to a
    file (``--export-batch``), or holds it for another stage. The article waits for a later run."""

    reason: str


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """Which model answers, and the kind of server: ``local`` (embedded), ``openai``,
    ``openai-compatible``, ``fake``..."""

    model: str
    backend: str


@runtime_checkable
class ChatClient(Protocol):
    """Anything that answers a ``ChatRequest``, blocking.

    The client picks how to enforce the schema (``StructuredMode``), falls back to a weaker mode
    when the server rejects a stronger one, and reports the mode it used in each ``Completion``.
    """

    @property
    def info(self) -> ClientInfo:
        """The model and backend the client talks to."""
        ...

    def complete(self, request: ChatRequest) -> Completion:
        """Send the request and return the model's reply."""
        ...


@runtime_checkable
class AsyncChatClient(Protocol):
    """``ChatClient`` for the event loop (batches). A client may implement both; the driver runs
    a client that has only ``complete`` in a worker thread. Provider-batch clients may answer
    ``Deferred``."""

    @property
    def info(self) -> ClientInfo:
        """The model and backend the client talks to."""
        ...

    async def acomplete(self, request: ChatRequest) -> Completion | Deferred:
        """Send the request and return the model's reply."""
        ...


class ModelClient(ChatClient, AsyncChatClient, Protocol):
    """What ``make_client`` returns: driven both ways, never deferred (so ``acomplete`` answers
    a ``Completion``), sharing its ``Throttle`` with whoever sizes a batch, able to say what its
    server is, and closed by whoever made it."""

    async def acomplete(self, request: ChatRequest) -> Completion: ...

    @property
    def throttle(self) -> Throttle: ...

    async def asurvey(self) -> Survey: ...

    def close(self) -> None: ...

    async def aclose(self) -> None: ...


# Any client a ``Session`` can drive.
Client = ChatClient | AsyncChatClient


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


async def close_client(client: object) -> None:
    """Close what a client holds, whichever of ``aclose``/``close`` it has (clients analyst made
    have both; a user's client may have neither)."""
    aclose = getattr(client, "aclose", None)
    if aclose is not None:
        await aclose()
    close = getattr(client, "close", None)
    if close is not None:
        close()
