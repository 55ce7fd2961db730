"""The exceptions analyst raises.

Every error analyst raises on purpose derives from one root, so callers can catch it in one place::

    AnalystError
    ├── ConfigError            your settings or prompt files are wrong           (CLI exit 2)
    ├── InputError             the article is missing, empty, binary, undecodable (CLI exit 3)
    ├── ModelServerError       the server failed: connection, auth, rate limit, 5xx (CLI exit 4)
    │   ├── AuthenticationError
    │   ├── MalformedReplyError
    │   └── UnknownModelError
    ├── ModelOutputError       the model's reply stayed invalid after the re-asks (CLI exit 5)
    ├── ContextOverflowError   the article cannot fit the context window even split (CLI exit 6)
    └── BudgetError            the token budget would be exceeded                 (CLI exit 7)

Anything else that escapes is a bug in analyst and keeps its traceback.
"""

from __future__ import annotations


class AnalystError(Exception):
    """Root of every error analyst raises on purpose."""


class ConfigError(AnalystError):
    """A setting, flag or prompt file is wrong; fix the configuration."""


class InputError(AnalystError):
    """The article cannot be read: missing, empty, binary or undecodable."""


class ModelServerError(AnalystError):
    """The model server failed after the SDK's own retries."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class AuthenticationError(ModelServerError):
    """The server refused the API key (never retried)."""


class MalformedReplyError(ModelServerError):
    """A 200 answer that is not a chat completion (not JSON, or no choices). The SDK does not
    retry these; analyst asks again within its re-ask budget, then gives up with this error."""


class UnknownModelError(ModelServerError):
    """The server does not serve the requested model."""

    def __init__(self, message: str, *, available: list[str] | None = None) -> None:
        super().__init__(message, status_code=404)
        self.available = available or []


class ModelOutputError(AnalystError):
    """The model's reply was still invalid after the allowed re-asks.

    ``raw`` holds the last reply as the model wrote it and ``attempts`` how many were made.
    """

    def __init__(self, message: str, *, raw: str, attempts: int) -> None:
        super().__init__(message)
        self.raw = raw
        self.attempts = attempts


class BudgetError(AnalystError):
    """The token budget (``--budget-tokens``) would be exceeded; nothing more was spent."""


class ContextOverflowError(AnalystError):
    """A request cannot fit the model's context window, even after splitting the article."""
