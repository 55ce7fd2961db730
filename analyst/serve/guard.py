"""ASGI middleware in front of every route: a cap on request bodies, the bearer token, and the
Host and Origin checks that keep other web pages out of a loopback server.

- A body over ``limit`` bytes is refused with 413, by its ``Content-Length`` or as it arrives.
- With a token, every route needs ``Authorization: Bearer <token>`` or the cookie that
  ``/?token=<token>`` sets for a browser (compared in constant time); 401 otherwise.
- On loopback, a page from another site could still reach the server through the user's
  browser: by DNS rebinding (its own host name resolving to 127.0.0.1) or by a cross-site form.
  So a request must name a loopback Host, and a request with an ``Origin`` must come from the
  server's own. ``Origin: null`` (a sandboxed frame, a ``data:`` page, a cross-origin
  redirect) cannot say where it comes from: a request that changes something (POST, PUT,
  DELETE…) with it needs the token.
- Every response says, as headers (a ``<meta>`` policy cannot), that no other site may frame
  the page and that its content type is to be believed.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

COOKIE = "analyst_token"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    # Not "no-referrer": under it a browser sends ``Origin: null`` with the page's own form
    # posts (the library's digest), which the Origin check must refuse. "same-origin" still
    # tells no other site where its visitor came from.
    (b"referrer-policy", b"same-origin"),
]
Scope = dict[str, Any]
Receive = Any
Send = Any


class TooLarge(Exception):
    """The body passed the cap while it arrived."""


async def answer(
    send: Send, status: int, message: str, headers: dict[str, str] | None = None
) -> None:
    """A JSON error response: ``{"error": message}``."""
    body = json.dumps({"error": message}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class Guard:
    """The checks above, in one pass, before the app sees the request."""

    def __init__(
        self,
        app: Any,
        *,
        limit: int,
        token: str | None,
        loopback: bool,
        body_seconds: float = 30.0,
    ) -> None:
        self.app, self.limit, self.token, self.loopback = app, limit, token, loopback
        self.body_seconds = body_seconds  # for the whole body: a byte every 0.5 s is cut off

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_security_headers(send)
        refusal = self._refusal(scope)
        if refusal is not None:
            await answer(send, *refusal)
            return
        if self.token and self._token_in_query(scope):
            # A browser's first visit: keep the token in a cookie and drop it from the address.
            cookie = f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/"
            headers = [(b"location", b"/"), (b"set-cookie", cookie.encode())]
            await send({"type": "http.response.start", "status": 303, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await answer(send, 413, f"the request is over the {self.limit:,}-byte limit")
            return
        # The body is read here, up to the limit, before the app sees it: a chunked body that
        # passes the limit is a 413 in the API's shape, never an error inside the app (500).
        try:
            body = await asyncio.wait_for(_read_body(receive, self.limit), self.body_seconds)
        except TooLarge:
            await answer(send, 413, f"the request is over the {self.limit:,}-byte limit")
            return
        except TimeoutError:
            seconds = f"{self.body_seconds:g}"
            await answer(send, 408, f"the request's body did not arrive within {seconds} s")
            return
        if body is None:
            return  # the client went away
        sent = False

        async def replay() -> Any:
            nonlocal sent
            if sent:
                return await receive()  # after the body: a disconnect, when it comes
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    def _refusal(self, scope: Scope) -> tuple[int, str, dict[str, str]] | None:
        named = _header(scope, b"host") or ""
        if self.loopback and hostname(named) not in LOOPBACK_HOSTS:
            return 421, "this server answers only to a loopback host name", {}
        origin = _header(scope, b"origin")
        changes = scope.get("method", "GET").upper() not in SAFE_METHODS
        if origin is not None and origin.strip().lower() == "null":
            if changes and not (self.token and self._authorised(scope)):
                return 403, "a request from a page that hides its origin is refused", {}
        elif origin is not None and urlsplit(origin).netloc.lower() != named.strip().lower():
            return 403, "a request from another site's page is refused", {}
        if self.token and not self._authorised(scope):
            return 401, "a bearer token is required", {"WWW-Authenticate": "Bearer"}
        return None

    def _authorised(self, scope: Scope) -> bool:
        given = _header(scope, b"authorization") or ""
        scheme, _, credentials = given.strip().partition(" ")
        # The scheme is case-insensitive (RFC 9110); the header's bytes are the token's.
        if scheme.lower() == "bearer" and self._same(credentials.strip().encode("latin-1")):
            return True
        cookies = SimpleCookie(_header(scope, b"cookie") or "")
        if COOKIE in cookies and self._same(cookies[COOKIE].value.encode("latin-1")):
            return True
        return self._token_in_query(scope)

    def _token_in_query(self, scope: Scope) -> bool:
        if scope.get("path") != "/":
            return False
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"), encoding="utf-8")
        return any(self._same(t.encode("utf-8")) for t in query.get("token", []))

    def _same(self, given: bytes) -> bool:
        """Whether ``given`` (the bytes a client sent) is the token, in constant time."""
        assert self.token is not None
        return hmac.compare_digest(given, self.token.encode("utf-8"))


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The request's whole body (``None`` when the client disconnected first); over ``limit``
    bytes, ``TooLarge`` as soon as it passes it."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def hostname(host: str) -> str:
    """The name in a ``Host`` header, without its port, in lower case: "[::1]" of "[::1]:8000"
    and of "[::1]", "localhost" of "LOCALHOST:8000"."""
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end > 0 else host
    name, colon, port = host.rpartition(":")
    return name if colon and port.isdigit() and ":" not in name else host


def _with_security_headers(send: Send) -> Send:
    async def sending(message: Any) -> None:
        if message["type"] == "http.response.start":
            present = {k.lower() for k, _ in message.get("headers", [])}
            extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return sending
