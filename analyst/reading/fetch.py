"""Fetching an article by URL: bounded in time, size and redirects, and honest about failures.

Every failure is an ``InputError`` (exit 3) that says what went wrong: the status code, a body over
the size cap, a content type that is not a page, text or PDF, too many redirects, the deadline, or
an address analyst will not connect to.

The address guard: a URL is a request analyst makes on the user's behalf, from the user's machine,
and the page's content then goes to a model server. So a URL that leads — directly, through DNS,
or through any redirect hop — to a loopback, private, link-local, multicast or reserved address is
refused unless the user opts in (``allow_private_urls``). The check is made on the address a socket
is actually opened to, after name resolution (so ``http://2130706433/``, ``http://0x7f.1/`` and a
name that resolves to 10.0.0.1 are caught), for every connection the redirects open. The
environment's proxy settings are not used: through a proxy the guard could not see the address.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from analyst.errors import InputError
from analyst.secrets import redact_url
from analyst.version import __version__

if TYPE_CHECKING:
    import httpcore2

USER_AGENT = f"analyst/{__version__} (news article summarizer; +https://pypi.org/project/analyst/)"
ACCEPTED = ("text/html", "application/xhtml+xml", "text/plain", "text/markdown", "application/pdf")
# What a feed is served as (and a feed file as plain XML).
FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/feed+json",
    "application/xml",
    "text/xml",
)
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class Fetched:
    """A fetched document: its bytes, content type and final URL (after redirects); with a
    conditional GET, ``status`` 304 and no bytes when it has not changed. ``etag`` and
    ``last_modified`` are the validators to send next time."""

    data: bytes
    content_type: str
    url: str
    status: int = 200
    etag: str | None = None
    last_modified: str | None = None


def is_url(text: str) -> bool:
    """Whether a command-line argument names a URL rather than a file."""
    return text.lower().startswith(("http://", "https://"))


def refusal(address: str) -> str | None:
    """Why analyst will not connect to ``address`` (an IP literal) by default, or None."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.is_site_local:  # fec0::/10: deprecated, but still routed inside some networks
            return f"a site-local address ({ip})"
        # An IPv4 address inside an IPv6 one reaches that IPv4 host: ::ffff:127.0.0.1 (mapped)
        # and 2002:7f00:1:: (6to4) are 127.0.0.1.
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            ip = embedded
    for attribute, name in (
        ("is_loopback", "a loopback"),
        ("is_link_local", "a link-local"),
        ("is_multicast", "a multicast"),
        ("is_unspecified", "an unspecified"),
        ("is_private", "a private"),
        ("is_reserved", "a reserved"),
    ):
        if getattr(ip, attribute):
            return f"{name} address ({ip})"
    if not ip.is_global:
        return f"a non-public address ({ip})"
    return None


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One TLS context for every fetch of the process: making one reads the CA store (some
    20–30 ms), which a feed of 10,000 items paid 10,000 times, http:// links included."""
    import httpx2

    context: ssl.SSLContext = httpx2.create_ssl_context()
    return context


class _Refused(Exception):
    """Raised inside the connection pool; turned into an ``InputError`` by ``fetch``."""


def _backend(allow_private: bool, sockets: list[socket.socket]) -> httpcore2.NetworkBackend:
    from httpcore2 import SyncBackend

    class Guarded(SyncBackend):
        """Resolve the name, check every address, connect to the checked one."""

        def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,
            local_address: str | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> Any:
            try:
                infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except (OSError, UnicodeError) as exc:
                raise _Refused(f"cannot resolve {host}: {exc}") from None
            addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
            if not allow_private:
                for address in addresses:
                    if why := refusal(address):
                        if host.strip("[]") == address:
                            why = why.split(" (")[0]
                        raise _Refused(
                            f"{host} is {why}; pass --allow-private-urls to fetch it anyway"
                        )
            stream = super().connect_tcp(addresses[0], port, timeout, local_address, socket_options)
            sock = stream.get_extra_info("socket")
            if isinstance(sock, socket.socket):
                sockets.append(sock)
            return stream

    return Guarded()


class Limits(TypedDict):
    """What one fetch may take: its deadline, its size, and whether private addresses may be
    reached (``Settings.fetch_limits``)."""

    timeout: float
    max_bytes: int
    allow_private: bool


def fetch(
    url: str,
    *,
    timeout: float = 30.0,
    max_bytes: int = 10 * 2**20,
    allow_private: bool = False,
    accept: tuple[str, ...] = ACCEPTED,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Fetched:
    """GET ``url`` and return its body, refusing anything that is not an article-like document
    (or of the ``accept`` types). With ``etag`` or ``last_modified`` (what an earlier fetch
    returned) the GET is conditional: an unchanged document answers 304, with no body.

    ``timeout`` bounds the whole fetch — connecting, every redirect, the whole body — not one read:
    a server that drips a byte every second is cut off at the deadline.
    """
    import httpcore2
    import httpx2  # here: 45 ms that `import analyst` need not pay

    shown = redact_url(url)
    headers = {"User-Agent": USER_AGENT, "Accept": ",".join(accept)}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    sockets: list[socket.socket] = []
    transport = httpx2.HTTPTransport(trust_env=False, verify=_ssl_context())
    # HTTPTransport takes no network backend, and the guard must sit where sockets are opened
    # (after name resolution, on every redirect hop): so its pool is replaced by one that has it.
    transport._pool = httpcore2.ConnectionPool(
        ssl_context=transport._pool._ssl_context,
        network_backend=_backend(allow_private, sockets),
    )
    expired = threading.Event()

    def cut() -> None:
        expired.set()
        for sock in list(sockets):
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked read; close() would not
            except OSError:
                pass

    timer = threading.Timer(timeout, cut)
    timer.daemon = True
    timer.start()
    try:
        with (
            httpx2.Client(
                transport=transport,
                trust_env=False,
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                timeout=timeout,
                headers=headers,
            ) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 400:
                reason = response.reason_phrase or "error"
                raise InputError(f"{shown} answered {response.status_code} {reason}")
            found_etag = response.headers.get("etag")
            found_modified = response.headers.get("last-modified")
            if response.status_code == 304:
                return Fetched(b"", "", str(response.url), 304, found_etag, found_modified)
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type and not content_type.startswith(accept):
                what = "a feed" if accept == FEED_TYPES else "a web page, text or PDF"
                raise InputError(f"{shown} is {content_type}, not {what}")
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise InputError(f"{shown} is {int(declared):,} bytes, over the {max_bytes:,} cap")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise InputError(f"{shown} is over the {max_bytes:,}-byte cap")
                chunks.append(chunk)
            if expired.is_set():  # the cut can look like the end of a body sent until close
                raise httpx2.ReadTimeout("deadline")
            body = b"".join(chunks)
            return Fetched(body, content_type, str(response.url), 200, found_etag, found_modified)
    except _Refused as exc:
        raise InputError(f"refused to fetch {shown}: {exc}") from None
    except httpx2.TooManyRedirects:
        raise InputError(f"{shown} redirects more than {MAX_REDIRECTS} times") from None
    except (httpx2.TimeoutException, httpx2.TransportError) as exc:
        if expired.is_set() or isinstance(exc, httpx2.TimeoutException):
            raise InputError(f"{shown} did not send the page within {timeout:g} s") from None
        raise InputError(f"cannot fetch {shown}: {redact_url(str(exc))}") from None
    except httpx2.InvalidURL as exc:
        raise InputError(f"{shown} is not a valid URL: {exc}") from None
    except httpx2.HTTPError as exc:
        raise InputError(f"cannot fetch {shown}: {redact_url(str(exc))}") from None
    finally:
        timer.cancel()
