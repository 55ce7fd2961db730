"""ASGI middleware in front of every route: a cap on request bodies, the bearer token, and the
Host and Origin checks that keep other web pages out of a loopback server.

- A body over ``limit`` bytes is refused with 413, by its ``Content-Length`` or as it arrives.
- With a token, every route needs ``Authorization: Bearer <token>`` or the cookie that
  ``/?token=<token>`` sets for a browser (compared in constant time); 401 otherwise.
- On loopback, a page from another site could still reach the server through the user's
  browser: by DNS rebinding (its own host name resolving to 127.0.0.1) or by a cross-site form.
  So a request must name a loopback Host, and a request with an ``Origin`` must come from the
  server's own.
"""

from __future__ import annotations

import hmac
import json
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

COOKIE = "analyst_token"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")
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

    def __init__(self, app: Any, *, limit: int, token: str | None, loopback: bool) -> None:
        self.app, self.limit, self.token, self.loopback = app, limit, token, loopback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
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
        seen = 0
        started = False

        async def limited() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise TooLarge
            return message

        async def watched(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watched)
        except TooLarge:
            if not started:
                await answer(send, 413, f"the request is over the {self.limit:,}-byte limit")

    def _refusal(self, scope: Scope) -> tuple[int, str, dict[str, str]] | None:
        host = (_header(scope, b"host") or "").rsplit(":", 1)[0] if self.loopback else None
        if host is not None and host not in LOOPBACK_HOSTS:
            return 421, "this server answers only to a loopback host name", {}
        origin = _header(scope, b"origin")
        if origin is not None and origin != "null":
            if urlsplit(origin).netloc != _header(scope, b"host"):
                return 403, "a request from another site's page is refused", {}
        if self.token and not self._authorised(scope):
            return 401, "a bearer token is required", {"WWW-Authenticate": "Bearer"}
        return None

    def _authorised(self, scope: Scope) -> bool:
        given = _header(scope, b"authorization") or ""
        if given.startswith("Bearer ") and self._same(given[7:].strip()):
            return True
        cookies = SimpleCookie(_header(scope, b"cookie") or "")
        if COOKIE in cookies and self._same(cookies[COOKIE].value):
            return True
        return self._token_in_query(scope)

    def _token_in_query(self, scope: Scope) -> bool:
        if scope.get("path") != "/":
            return False
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        return any(self._same(t) for t in query.get("token", []))

    def _same(self, given: str) -> bool:
        assert self.token is not None
        return hmac.compare_digest(given.encode(), self.token.encode())
