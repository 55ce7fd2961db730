"""Drivers: carry out a pipeline computation's model calls, answering from the call cache first.

The pipeline never calls a client itself. It is a generator (``Calls[R]``) that yields each
``ChatRequest`` and is sent the ``Completion``; a driver does the I/O. ``run`` serves one article on
a blocking ``ChatClient``; ``arun`` serves many at once on an ``AsyncChatClient`` (a client with
only a blocking ``complete`` runs in a worker thread). Both consult the same ``CallCache``, so a
reply paid for once is never paid for again, whichever way it was asked.
"""

from __future__ import annotations

import asyncio
from typing import TypeVar

from analyst.backends.base import AsyncChatClient, ChatClient, ChatRequest, Completion
from analyst.cache import CallCache
from analyst.structured import Calls

R = TypeVar("R")


def run(
    calls: Calls[R], client: ChatClient, cache: CallCache | None = None, identity: str = ""
) -> R:
    """Answer every request of ``calls`` with ``client`` (or the cache) and return its result."""
    try:
        request = next(calls)
        while True:
            reply = cache.lookup(identity, request) if cache else None
            if reply is None:
                reply = client.complete(
                    request.messages,
                    schema=request.schema,
                    max_tokens=request.max_tokens,
                    temperature=request.temperature,
                )
                if cache:
                    cache.store(identity, request, reply)
            request = calls.send(reply)
    except StopIteration as done:
        result: R = done.value
        return result
    finally:
        calls.close()


async def arun(
    calls: Calls[R],
    client: AsyncChatClient | ChatClient,
    cache: CallCache | None = None,
    identity: str = "",
) -> R:
    """``run`` for the event loop: other articles proceed while this one waits on the server."""
    try:
        request = next(calls)
        while True:
            reply = cache.lookup(identity, request) if cache else None
            if reply is None:
                reply = await _acomplete(client, request)
                if cache:
                    cache.store(identity, request, reply)
            request = calls.send(reply)
    except StopIteration as done:
        result: R = done.value
        return result
    finally:
        calls.close()


async def _acomplete(client: AsyncChatClient | ChatClient, request: ChatRequest) -> Completion:
    if isinstance(client, AsyncChatClient):
        return await client.acomplete(
            request.messages,
            schema=request.schema,
            max_tokens=request.max_tokens,
            temperature=request.temperature,
        )
    return await asyncio.to_thread(
        client.complete,
        request.messages,
        schema=request.schema,
        max_tokens=request.max_tokens,
        temperature=request.temperature,
    )
