"""The model layer: the seam (``ChatRequest`` → ``Completion``), the clients behind it (the openai
SDK, the embedded llama.cpp server), the call cache, the bounded re-ask, usage, and the drivers."""

from analyst.model.clients import make_batch_api, make_client
from analyst.model.seam import (
    AsyncChatClient,
    ChatClient,
    ChatRequest,
    ClientInfo,
    Completion,
    Deferred,
    Message,
    ModelClient,
    OutputSchema,
    StructuredMode,
)

__all__ = [
    "AsyncChatClient",
    "ChatClient",
    "ChatRequest",
    "ClientInfo",
    "Completion",
    "Deferred",
    "Message",
    "ModelClient",
    "OutputSchema",
    "StructuredMode",
    "make_batch_api",
    "make_client",
]
