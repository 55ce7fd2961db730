"""Secrets in URLs: what to hide before a URL reaches a report, a manifest, a log or an error line.

Users put keys into URLs: ``http://user:KEY@host/v1``, ``https://api.example/v1?key=KEY``, a
signed article link (``?X-Amz-Signature=...``). The URL still works as given; only what analyst
writes down is redacted — the whole userinfo, and the value of any query parameter whose name
says it holds a secret.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
_SECRET_NAME = re.compile(
    r"(key|token|secret|passw|pwd|auth|sig|credential|session|code|ticket)", re.IGNORECASE
)
_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")


def redact_url(url: str) -> str:
    """``url`` without its userinfo and with secret-looking query values masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _crude(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_SECRET_NAME.search(name) for name, _ in pairs):
            query = urlencode(
                [(n, MASK if _SECRET_NAME.search(n) else v) for n, v in pairs], safe="*"
            )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_text(text: str) -> str:
    """``text`` with every URL in it redacted (an error message that quotes a URL)."""
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)


def _crude(url: str) -> str:
    """A URL ``urlsplit`` cannot parse: drop anything between ``//`` and ``@``."""
    return re.sub(r"//[^/@\s]*@", f"//{MASK}@", url)
