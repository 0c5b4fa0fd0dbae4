"""How an error body of any provider's dialect becomes a typed error: the one place that
decides what a gateway error body is (:func:`is_error_body`) and knows the request-id headers
(:data:`REQUEST_ID_HEADERS`). The error classes are in ``_errors``.

Whatever a server sends, building an error is bounded: the transport reads at most
``max_error_bytes`` of an error body, the readable excerpt of an HTML or text body is
made in one pass over its first few KiB, a message is cut at a few KiB, and JSON too
deep to decode is treated as text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ._errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ContentFilterError,
    ContextWindowExceededError,
    InsufficientQuotaError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StreamError,
)

__all__ = [
    "REQUEST_ID_HEADERS",
    "RETRYABLE_STATUSES",
    "error_class",
    "error_fields",
    "is_error_body",
    "make_status_error",
    "parse_error_body",
    "redirect_error",
    "request_id_from",
    "short_json",
    "stream_error_event",
]

#: The headers that carry a request's id, in the order they are looked for (Moonshot
#: ``x-trace-id`` / ``msh-request-id``, gateways ``x-request-id``).
REQUEST_ID_HEADERS = ("x-trace-id", "x-request-id", "msh-request-id")


def request_id_from(headers: Mapping[str, str]) -> str | None:
    """The request id a response's headers carry, or None."""
    found: str | None = None
    for name in REQUEST_ID_HEADERS:
        found = headers.get(name)
        if found:
            break
    return found


def is_error_body(body: Mapping[str, Any]) -> bool:
    """Whether a JSON object answered under a 2xx is an error (no choices, and an
    ``error`` field or, AceData's, ``"success": false``)."""
    return not body.get("choices") and ("error" in body or body.get("success") is False)


_QUOTA_CODES = frozenset(
    {"exceeded_current_quota_error", "insufficient_quota", "used_up", "insufficient_balance"}
)
_CONTENT_FILTER_CODES = frozenset({"content_filter", "forbidden", "content_policy_violation"})
_CONTEXT_RE = re.compile(
    r"token limit|context (length|window)|input token length too long|maximum context",
    re.IGNORECASE,
)
_QUOTA_RE = re.compile(r"insufficient (balance|quota)|quota exceeded|suspended", re.IGNORECASE)

# Error codes that carry their own status (used when the HTTP status is unknown or
# generic, e.g. an error object inside a stream).
_CODE_STATUS: dict[str, int] = {
    "content_filter": 400,
    "invalid_request_error": 400,
    "bad_request": 400,
    "no_token": 400,
    "token_mismatched": 400,
    "api_not_implemented": 400,
    "invalid_authentication_error": 401,
    "incorrect_api_key_error": 401,
    "invalid_token": 401,
    "token_expired": 401,
    "permission_denied_error": 403,
    "disabled": 403,
    "forbidden": 403,
    "used_up": 403,
    "resource_not_found_error": 404,
    "no_api": 404,
    "engine_overloaded_error": 429,
    "rate_limit_reached_error": 429,
    "exceeded_current_quota_error": 429,
    "too_many_requests": 429,
    "server_error": 500,
    "unexpected_output": 500,
    "api_error": 500,
    "timeout": 504,
}

_STATUS_CLASS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: BadRequestError,
    429: RateLimitError,
}

_EXCERPT = 300
#: Characters of a body an excerpt is made from, and the longest message kept.
_EXCERPT_SOURCE = 4096
_MESSAGE_MAX = 2000

#: Statuses retried by the transport (besides every status >= 500).
RETRYABLE_STATUSES = frozenset({408, 409, 429})

_SKIPPED_TAGS = ("script", "style")


def _excerpt(text: str) -> str:
    """A readable one-line excerpt of an HTML or plain-text body.

    One forward pass over the first ``_EXCERPT_SOURCE`` characters: tags are dropped
    (``script`` and ``style`` with their content), whitespace is collapsed. No regex
    runs over server text, so a page of ``<`` costs what its length costs.
    """
    text = text[:_EXCERPT_SOURCE]
    low = text.lower()
    parts: list[str] = []
    i, n = 0, len(text)
    while i < n:
        lt = text.find("<", i)
        if lt < 0:
            parts.append(text[i:])
            break
        parts.append(text[i:lt])
        gt = text.find(">", lt + 1)
        if gt < 0:  # not a tag: the rest is text
            parts.append(text[lt:])
            break
        parts.append(" ")
        i = gt + 1
        name = low[lt + 1 : min(gt, lt + 8)].split(" ", 1)[0]
        if name in _SKIPPED_TAGS:
            close = low.find("</" + name, i)
            end = text.find(">", close) if close >= 0 else -1
            i = end + 1 if end >= 0 else n
    return _cut(" ".join("".join(parts).split()), _EXCERPT)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_error_body(raw: bytes | str | None) -> tuple[Any, str | None, str | None, str | None]:
    """Parse an error body of any dialect.

    Returns ``(body, code, message, trace_id)``; ``body`` is the decoded JSON when the
    body is JSON, otherwise the text.
    """
    if raw is None or raw == b"" or raw == "":
        return None, None, None, None
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    try:
        body: Any = json.loads(text)
    except (ValueError, RecursionError):
        return text, None, _excerpt(text) or None, None
    return (body, *error_fields(body))


def error_fields(body: Any) -> tuple[str | None, str | None, str | None]:
    """``(code, message, trace_id)`` from a decoded error body of any dialect.

    Moonshot ``{"error": {"type", "message"[, "code"]}}``; AceData ``{"error": {"code",
    "message"}, "trace_id"[, "success": false]}``; GPTProto ``{"error": {"message",
    "type": "401"}}``; OpenAI style; or a flat ``{"code", "message"}`` / ``{"detail"}``.
    """
    if not isinstance(body, Mapping):
        if isinstance(body, str):
            return None, _excerpt(body) or None, None
        return None, None, None
    trace = body.get("trace_id") or body.get("request_id")
    err = body.get("error", body)
    inner = _relayed(err)
    if inner is not None:
        return inner
    if isinstance(err, str):
        return None, _cut(err, _MESSAGE_MAX), _scalar(trace)
    if not isinstance(err, Mapping):
        return None, None, _scalar(trace)
    message = err.get("message") or err.get("msg") or err.get("detail") or body.get("message")
    code: Any = None
    for key in ("code", "type"):
        value = err.get(key)
        # GPTProto puts the HTTP status in "type" ("401"); prefer a symbolic code.
        if value is not None and value != "" and not _is_status_text(value):
            code = value
            break
    if code is None:
        code = err.get("type") if err.get("type") is not None else err.get("code")
    trace = trace or err.get("trace_id")
    return _scalar(code), _text(message), _scalar(trace)


def _relayed(err: Any) -> tuple[str | None, str | None, str | None] | None:
    """A gateway's envelope around an upstream failure, unwrapped (OpenRouter and its
    kind: ``{"error": {"message": "Provider returned error", "code": 429, "metadata":
    {"raw": "<the upstream body, as a JSON string>", "provider_name": "Moonshot AI"}}}``):
    the upstream body's code decides the class, and the message carries the upstream
    message and who relayed it. None when ``err`` is no such envelope."""
    if not isinstance(err, Mapping):
        return None
    meta = err.get("metadata")
    if not isinstance(meta, Mapping) or meta.get("raw") in (None, ""):
        return None
    raw, source = meta.get("raw"), meta.get("provider_name")
    inner: Any = raw
    if isinstance(raw, str):
        try:
            inner = json.loads(raw[: _EXCERPT_SOURCE * 16])
        except (ValueError, RecursionError):
            inner = raw
    nested = inner.get("error") if isinstance(inner, Mapping) else None
    if isinstance(nested, Mapping) and "metadata" in nested:
        inner = {}  # an envelope inside an envelope: not followed further
    code, message, trace = error_fields(inner)
    outer = _text(err.get("message"))
    via = f"upstream provider {_cut(str(source), 100)}" if _scalar(source) else "upstream"
    if message:
        message = f"{message} ({via}; the gateway said: {outer or 'no message'})"
    else:
        message = f"{outer or 'the gateway relayed an error'} ({via}: {short_json(raw)})"
    if code is None:
        outer_code = err.get("code") if err.get("code") is not None else err.get("type")
        code = None if _is_status_text(outer_code) else _scalar(outer_code)
    return code, _cut(message, _MESSAGE_MAX), trace


def _is_status_text(value: Any) -> bool:
    return isinstance(value, int) or (isinstance(value, str) and value.isdigit())


def _scalar(value: Any) -> str | None:
    """A code or an id: a string or a number (cut short), nothing else."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, (str, int, float)):
        return _cut(str(value), 200)
    return None


def _text(value: Any) -> str | None:
    """A message as text: a string as it is (cut at a few KiB), anything else as a
    short JSON excerpt (never a deep repr)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return _cut(value, _MESSAGE_MAX)
    return short_json(value)


def short_json(value: Any, limit: int = _EXCERPT) -> str:
    """At most ``limit`` characters of ``value`` as JSON, safe for any depth."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except (ValueError, TypeError, RecursionError):
        return f"<{type(value).__name__} nested too deeply to show>"
    return _cut(text, limit)


def error_class(status: int | None, code: str | None, message: str | None) -> type[APIStatusError]:
    """The error class for a status, a provider code and a message."""
    low_code = (code or "").lower()
    if low_code in _QUOTA_CODES or (message and _QUOTA_RE.search(message)):
        return InsufficientQuotaError
    if status is None or status in (200, 0) or (status == 400 and low_code in _CODE_STATUS):
        status = _CODE_STATUS.get(low_code, status or 500)
    if status == 403 and low_code == "forbidden" and message and "moderat" in message.lower():
        return ContentFilterError
    if status in (400, 422):
        if low_code in _CONTENT_FILTER_CODES:
            return ContentFilterError
        if message and _CONTEXT_RE.search(message):
            return ContextWindowExceededError
        if message and ("content policy" in message.lower() or "high risk" in message.lower()):
            return ContentFilterError
    if status >= 500:
        return InternalServerError
    return _STATUS_CLASS.get(status, BadRequestError if 400 <= status < 500 else APIStatusError)


def make_status_error(
    status: int,
    raw: bytes | str | None,
    *,
    headers: Mapping[str, str] | None = None,
    provider: str | None = None,
) -> APIStatusError:
    """Build the typed error for an HTTP error response of any dialect."""
    body, code, message, trace = parse_error_body(raw)
    request_id = trace
    if headers is not None:
        request_id = request_id_from(headers) or trace
    if code is not None and _is_status_text(code):
        code = None
    if status < 400:
        # An error body under a 2xx status (some gateways): use the status its code means.
        status = _CODE_STATUS.get((code or "").lower(), 500)
    cls = error_class(status, code, message)
    if not message:
        what = "an empty body" if body is None else "a body with no readable message"
        message = f"{provider or 'the provider'} answered HTTP {status} with {what}"
    err = cls(
        message,
        status_code=status,
        code=code,
        request_id=request_id,
        provider=provider,
        body=body,
    )
    err.retryable = cls is not InsufficientQuotaError and (
        status in RETRYABLE_STATUSES or status >= 500
    )
    return err


def stream_error_event(
    payload: Mapping[str, Any], *, provider: str | None, request_id: str | None
) -> StreamError:
    """The error for an ``{"error": {...}}`` object received inside a stream."""
    code, message, trace = error_fields(payload)
    if code is not None and _is_status_text(code):
        code = None  # GPTProto's status-as-type, as on the HTTP path
    return StreamError(
        f"error event inside the stream: {message or short_json(payload)}",
        code=code,
        request_id=request_id or trace,
        provider=provider,
        body=dict(payload),
    )


def redirect_error(
    status: int,
    location: str | None,
    *,
    provider: str | None,
    request_id: str | None,
    body: Any = None,
) -> APIStatusError:
    """The error for a 3xx answer: redirects are never followed (the request carries
    the key), so it names where the server points instead."""
    where = f"to {_cut(location, 300)!r}" if location else "without a Location header"
    return APIStatusError(
        f"the server redirected the request {where}; kimi_core does not follow redirects "
        "(they would carry the key elsewhere): set base_url to the address you mean",
        status_code=status,
        request_id=request_id,
        provider=provider,
        body=body,
    )
