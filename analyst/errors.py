"""The exceptions analyst raises; each class carries its own meaning.

Every error analyst raises on purpose derives from one root, so callers can catch it in one place::

    AnalystError                                                 exit  kind
    ├── ConfigError          settings, flags or prompt files wrong     2   config        (stops)
    ├── InputError           the article is missing, empty, binary     3   input
    ├── ModelServerError     the server failed after the SDK retries   4   model-server
    │   ├── AuthenticationError  the key was refused                   4                 (stops)
    │   ├── UnknownModelError    the server lacks the model            4                 (stops)
    │   ├── MalformedReplyError  a 200 that is not a completion        4
    │   └── BatchRequestError    a provider batch failed one request   4
    ├── ModelOutputError     the reply stayed invalid after re-asks    5   model-output
    │   └── OutputTooLong        hit max_tokens with no room left      5
    ├── ContextOverflowError the article cannot fit the context        6   context
    └── BudgetError          the token budget would be exceeded        7   budget

(stops): ``stops_batch`` — every other article would fail the same way.

``exit_code`` is what the CLI exits with, ``kind`` what a batch manifest records, ``stops_batch``
whether every other article would fail the same way (so a batch stops instead of recording each).
The CLI, the batch engines and ``analyst eval`` read these attributes; there is no other table.
Anything else that escapes is a bug in analyst and keeps its traceback.
"""

from __future__ import annotations

from typing import ClassVar

# Exit codes that are not errors: the CLI's own.
EXIT_OK = 0
EXIT_BATCH_FAILURES = 8  # a batch finished, but some articles failed
EXIT_NO_FACTS = 9  # the report is written, but no fact was supported: no summary or analysis
EXIT_INTERRUPTED = 130


class AnalystError(Exception):
    """Root of every error analyst raises on purpose.

    A subclass states its meaning in its class line:
    ``class InputError(AnalystError, exit_code=3, kind="input")``; unstated, it inherits.
    """

    exit_code: ClassVar[int] = 1
    # What ``analyst serve`` answers with: the client's fault (4xx) or the model server's (502).
    http_status: ClassVar[int] = 500
    kind: ClassVar[str] = "internal"
    stops_batch: ClassVar[bool] = False
    # A model-server failure that says the server is down when several articles in a row hit it.
    server_down: ClassVar[bool] = False

    def __init_subclass__(cls, **meaning: object) -> None:
        super().__init_subclass__()
        for name, value in meaning.items():
            if name not in ("exit_code", "http_status", "kind", "stops_batch", "server_down"):
                raise TypeError(f"{cls.__name__}: an error states no {name!r}")
            setattr(cls, name, value)


class ConfigError(AnalystError, exit_code=2, http_status=400, kind="config", stops_batch=True):
    """A setting, flag or prompt file is wrong; fix the configuration."""


class InputError(AnalystError, exit_code=3, http_status=422, kind="input"):
    """The article cannot be read: missing, empty, binary or undecodable."""


class ModelServerError(
    AnalystError, exit_code=4, http_status=502, kind="model-server", server_down=True
):
    """The model server failed after the SDK's own retries."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class AuthenticationError(ModelServerError, stops_batch=True):
    """The server refused the API key (never retried)."""


class MalformedReplyError(ModelServerError):
    """A 200 answer that is not a chat completion (not JSON, or no choices). The SDK does not
    retry these; analyst asks again within its re-ask budget, then gives up with this error."""


class UnknownModelError(ModelServerError, stops_batch=True):
    """The server does not serve the requested model."""

    def __init__(self, message: str, *, available: list[str] | None = None) -> None:
        super().__init__(message, status_code=404)
        self.available = available or []


class BatchRequestError(ModelServerError, server_down=False):
    """A provider batch answered this one request with an error: that article fails, the server
    is not down."""


class ModelOutputError(AnalystError, exit_code=5, http_status=502, kind="model-output"):
    """The model's reply was still invalid after the allowed re-asks.

    ``raw`` holds the last reply as the model wrote it and ``attempts`` how many were made.
    """

    def __init__(self, message: str, *, raw: str, attempts: int) -> None:
        super().__init__(message)
        self.raw = raw
        self.attempts = attempts


class OutputTooLong(ModelOutputError):
    """The reply hit ``max_tokens`` and the context leaves no room to ask for more; the
    extraction stage then reads its sections in two halves."""


class ContextOverflowError(AnalystError, exit_code=6, http_status=413, kind="context"):
    """A request cannot fit the model's context window, even after splitting the article."""


class BudgetError(AnalystError, exit_code=7, http_status=429, kind="budget"):
    """The token budget (``--budget-tokens``) would be exceeded; nothing more was spent."""


def describe(exc: BaseException) -> tuple[str, str]:
    """The manifest's error kind and a one-line message for ``exc`` (a bug says so)."""
    from analyst.secrets import redact_text

    message = redact_text(" ".join(str(exc).split())) or type(exc).__name__
    if isinstance(exc, AnalystError) and exc.kind != "internal":
        return exc.kind, message
    return "internal", f"{type(exc).__name__}: {message} (a bug in analyst; please report it)"
