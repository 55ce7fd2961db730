"""What the SDK's errors become: one clear analyst error each, with the key scrubbed; and the two
failures that are not final — a server that refuses a structured-output mode, or a stream —
after which the client asks again in another way."""

from __future__ import annotations

import httpx2
import openai

from analyst import errors
from analyst.model import servers
from analyst.model.capped import ReplyTooLarge
from analyst.model.openai.core import UNREAD_WORDS, Core
from analyst.model.seam import StructuredMode

_LADDER = [StructuredMode.JSON_SCHEMA, StructuredMode.JSON_OBJECT, StructuredMode.PROMPT]
# Words in an error body that say the server did not like our response_format.
_FORMAT_WORDS = ("response_format", "json_schema", "json_object", "schema", "grammar")
# The longest Retry-After the SDK honours (its documented default, restated).
_SDK_WAITS_AT_MOST = 120.0


class Failures(Core):
    """The error handling of ``OpenAIChatClient``."""

    def _refuses_stream(self, exc: openai.APIError, stream: bool) -> bool:
        """Whether the server refused to stream; if so, stop asking it to."""
        status = status_of(exc)
        if not stream or status not in (400, 415, 422, 501):
            return False
        text = f"{exc.message} {exc.body}".lower()
        if "stream" not in text:
            return False
        with self._lock:
            self._stream = False
        return True

    def _broken(self, exc: Exception) -> errors.ModelServerError:
        # (The SDK turns some transport errors met while reading a stream into its own.)
        if too_large := reply_too_large(exc):
            return too_large
        return errors.ModelServerError(self._scrub(f"{self._where} broke off its reply: {exc}"))

    def _step_down_or_raise(self, exc: openai.APIError, mode: StructuredMode) -> None:
        """Move down the ladder when the server rejected ``mode``; otherwise raise our error."""
        if not self._rejects_format(exc, mode):
            raise self._translate(exc) from None
        with self._lock:
            if self._mode is mode:  # another request may have stepped down already
                self._mode = _LADDER[_LADDER.index(mode) + 1]

    def _rejects_format(self, exc: openai.APIError, mode: StructuredMode) -> bool:
        """Whether the server refused ``mode``, or could not read the model's output in it
        (a 500, or an error event in the stream: only in this mode; the next one down is asked
        once, and kept)."""
        status = status_of(exc)
        if mode is StructuredMode.PROMPT or status not in (None, 400, 422, 500, 501):
            return False
        text = f"{exc.message} {exc.body}".lower()
        if any(words in text for words in UNREAD_WORDS):
            return True
        return status is not None and any(word in text for word in _FORMAT_WORDS)

    def _translate(self, exc: openai.APIError) -> errors.AnalystError:
        """One clear error per failure, with the API key scrubbed from anything echoed back."""
        retried = self._retried()
        if isinstance(exc, openai.APITimeoutError):
            return errors.ModelServerError(
                f"{self._where} did not answer within {self._timeout:g} s{retried}"
            )
        if too_large := reply_too_large(exc):
            return too_large
        if isinstance(exc, openai.APIConnectionError):
            return errors.ModelServerError(f"cannot connect to {self._where}{retried}")
        if not isinstance(exc, openai.APIStatusError):
            return errors.ModelServerError(self._scrub(f"{self._where} failed: {exc}"))
        status = exc.status_code
        detail = self._scrub(_short_detail(exc))
        if status == 400 and "context size" in detail.lower():  # llama.cpp's words
            kind = self._survey.kind if self._survey else "llama.cpp"
            return errors.ContextOverflowError(
                f"{self._where} refused the request: {detail}; {servers.raise_context(kind)}"
            )
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return errors.AuthenticationError(
                f"{self._where} refused the API key ({status}): {detail}", status_code=status
            )
        if isinstance(exc, openai.NotFoundError):
            available = self.list_models()
            if self._model in available:  # the model is there: the address is what is wrong
                return errors.ModelServerError(
                    f"{self._where} answered 404 for chat completions ({detail}), though it "
                    f"serves {self._model!r}: check the base URL (it usually ends in /v1)",
                    status_code=404,
                )
            listed = f"; it serves: {', '.join(available)}" if available else ""
            return errors.UnknownModelError(
                f"{self._where} does not know model {self._model!r} ({detail}){listed}",
                available=available,
            )
        if isinstance(exc, openai.RateLimitError):
            wait = _retry_after(exc.response)
            if wait is not None and wait > _SDK_WAITS_AT_MOST:
                # The SDK does not wait that long, so it did not retry at all.
                return errors.ModelServerError(
                    f"{self._where} is rate limiting (429) and asks to wait {wait:,.0f} s "
                    f"before trying again: {detail}",
                    status_code=status,
                )
            return errors.ModelServerError(
                f"{self._where} is rate limiting (429){retried}: {detail}", status_code=status
            )
        return errors.ModelServerError(
            f"{self._where} answered {status}: {detail}", status_code=status
        )


def reply_too_large(exc: BaseException) -> errors.ModelServerError | None:
    """Our error for a reply over the size cap, found as ``exc`` or what it was raised from."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, ReplyTooLarge):
        cause = cause.__cause__ or cause.__context__
    if cause is None:
        return None
    return errors.ModelServerError(f"the model server sent {cause}; refused to read it")


def _retry_after(response: httpx2.Response) -> float | None:
    """Seconds a ``Retry-After`` header asks for (a number of seconds; dates are rare)."""
    value = response.headers.get("retry-after", "")
    try:
        return float(value)
    except ValueError:
        return None


def _short_detail(exc: openai.APIError) -> str:
    body = exc.body
    message: object = None
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
    text = str(message or exc.message or "no detail").replace("\n", " ")
    return text[:300]


def status_of(exc: openai.APIError) -> int | None:
    return exc.status_code if isinstance(exc, openai.APIStatusError) else None
