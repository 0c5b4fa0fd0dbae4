"""Errors raised by kimi_core: the exception tree (``_error_map`` maps error bodies to it).

Exception hierarchy::

    KimiError
     ├─ ConfigurationError              bad input caught before anything is sent (also a ValueError)
     ├─ ToolCallMissingError            a forced tool choice the API could not take was not honoured
     ├─ ToolArgumentsError              a finished tool call whose arguments are not a JSON object
     ├─ ReasoningCutError               the output budget ran out while the model was still
     │                                  reasoning, and the call needs an answer (``_cut``)
     ├─ APIConnectionError
     │   └─ APITimeoutError
     ├─ StreamError                     malformed, oversized or truncated answer (streamed or not),
     │                                  a stream answered with something else, an error event
     └─ APIStatusError                  (also a 3xx redirect, which is never followed)
         ├─ BadRequestError             400
         │   ├─ ContextWindowExceededError
         │   └─ ContentFilterError
         ├─ AuthenticationError         401
         ├─ PermissionDeniedError       403
         ├─ InsufficientQuotaError      balance / quota exhausted; never retried
         ├─ NotFoundError               404
         ├─ RateLimitError              429 (rate limit, engine overloaded)
         └─ InternalServerError         >= 500

Every error carries ``status_code`` (None for transport errors), ``code`` (the
provider's error type or code), ``message``, ``request_id``, ``provider``, ``body``
and ``retryable``.

How a provider's error body becomes one of these classes is in ``_error_map``.
"""

from __future__ import annotations

from typing import Any

from ._secrets import MASK, scrub

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ContentFilterError",
    "ContextWindowExceededError",
    "InsufficientQuotaError",
    "InternalServerError",
    "KimiError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "StreamError",
    "ToolArgumentsError",
    "ToolCallMissingError",
]


class KimiError(Exception):
    """Base class of every error raised by kimi_core."""

    retryable: bool = False
    #: For errors raised mid-stream: what arrived before it, as a completion dict.
    partial: Any = None

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        provider: str | None = None,
        body: Any = None,
    ) -> None:
        self.message = message
        self.status_code = status_code
        self.code = code
        self.request_id = request_id
        self.provider = provider
        self.body = body
        super().__init__(self._render())

    def _render(self) -> str:
        parts: list[str] = []
        if self.status_code is not None:
            parts.append(f"HTTP {self.status_code}")
        if self.code:
            parts.append(self.code)
        head = f"[{' '.join(parts)}] " if parts else ""
        tail: list[str] = []
        if self.provider:
            tail.append(f"provider={self.provider}")
        if self.request_id:
            tail.append(f"request_id={self.request_id}")
        suffix = f" ({', '.join(tail)})" if tail else ""
        return f"{head}{self.message}{suffix}"

    def _fields(self) -> dict[str, Any]:
        """The keyword arguments that rebuild this error (see ``__reduce__``)."""
        return {
            "status_code": self.status_code,
            "code": self.code,
            "request_id": self.request_id,
            "provider": self.provider,
            "body": self.body,
        }

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep errors picklable (multiprocessing, LangChain tracing) with their fields.
        return (_rebuild, (type(self), self.message, self._fields()))


def _rebuild(cls: type[KimiError], message: str, fields: dict[str, Any]) -> KimiError:
    err = cls.__new__(cls)
    KimiError.__init__(err, message, **fields)
    return err


class ConfigurationError(KimiError, ValueError):
    """Bad input, caught before anything is sent.

    The message names the parameter, the value, what is allowed, and the model or
    provider the rule comes from.
    """

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        provider: str | None = None,
        model: str | None = None,
    ) -> None:
        self.param = param
        self.model = model
        super().__init__(message, provider=provider)

    def _render(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            type(self),
            (self.message,),
            {"param": self.param, "model": self.model, "provider": self.provider},
        )


class ToolCallMissingError(KimiError):
    """A tool call was required, could not be forced (thinking is always on), and was not made."""


class ToolArgumentsError(KimiError, ValueError):
    """A finished tool call whose arguments are not a JSON object (invalid or cut-off
    JSON): raised instead of calling the tool with no or partial arguments.

    ``tool_name``, ``tool_call_id`` and ``arguments`` (the text as received) say which.
    """

    def __init__(self, message: str, *, tool_name: str, tool_call_id: str, arguments: str) -> None:
        self.tool_name = tool_name
        self.tool_call_id = tool_call_id
        self.arguments = arguments
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_tool_args,
            (self.message, self.tool_name, self.tool_call_id, self.arguments),
        )


def _rebuild_tool_args(
    message: str, tool_name: str, tool_call_id: str, arguments: str
) -> ToolArgumentsError:
    return ToolArgumentsError(
        message, tool_name=tool_name, tool_call_id=tool_call_id, arguments=arguments
    )


class APIConnectionError(KimiError):
    """The provider could not be reached, or the connection broke."""

    retryable = True


class APITimeoutError(APIConnectionError):
    """Connecting, reading or the whole request took longer than allowed."""


class StreamError(KimiError):
    """A stream was malformed, ended early, or carried an error event.

    ``partial`` holds what arrived before the failure (the accumulated message as a
    completion dict) when the stream got that far.
    """

    def __init__(self, message: str, *, partial: Any = None, **kwargs: Any) -> None:
        self.partial = partial
        super().__init__(message, **kwargs)


class APIStatusError(KimiError):
    """The provider answered with an error status."""

    status_code: int


class BadRequestError(APIStatusError):
    """HTTP 400: the provider rejected the request."""


class ContextWindowExceededError(BadRequestError):
    """The prompt plus the requested output does not fit the model's context window."""


class ContentFilterError(BadRequestError):
    """The provider's content filter refused the input or the output."""


class AuthenticationError(APIStatusError):
    """HTTP 401: the key is missing, wrong, expired, or for another region."""


class PermissionDeniedError(APIStatusError):
    """HTTP 403: the key may not use this resource."""


class InsufficientQuotaError(APIStatusError):
    """The account's balance or quota is exhausted. Retrying cannot help; never retried."""


class NotFoundError(APIStatusError):
    """HTTP 404: unknown model or endpoint (or no permission to see it)."""


class RateLimitError(APIStatusError):
    """HTTP 429: a rate limit was hit or the engine is overloaded. Retried."""

    retryable = True


class InternalServerError(APIStatusError):
    """HTTP >= 500 from the provider or a proxy in front of it. Retried."""

    retryable = True


def with_note(err: KimiError, note: str) -> KimiError:
    """``err`` with ``note`` added to its message (and its ``str``)."""
    err.message = f"{err.message} ({note})"
    err.args = (err._render(),)
    return err


def hide_secret(err: KimiError, secret: str) -> KimiError:
    """``err`` with ``secret`` masked wherever a server could have echoed it: the
    message, the code, the request id and the decoded body (a 401 page that quotes the
    ``Authorization`` header)."""
    if not secret:
        return err
    err.message = err.message.replace(secret, MASK)
    if err.code:
        err.code = err.code.replace(secret, MASK)
    if err.request_id:
        err.request_id = err.request_id.replace(secret, MASK)
    err.body = scrub(err.body, secret)
    err.args = (err._render(),)
    return err
