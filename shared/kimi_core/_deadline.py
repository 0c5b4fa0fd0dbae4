"""``total_timeout`` as a deadline, and bounded body reads: the IO-free rules both
transport drivers (sync and async) follow.

- :class:`Deadline` is fixed when a call starts and spans every attempt: each attempt's
  httpx timeouts are capped by the time left (:meth:`Deadline.attempt_timeout`), a body
  is read chunk by chunk and checked against it (:class:`BodyReader`), and a retry wait
  longer than the time left raises at once (:meth:`Deadline.retry_wait`) instead of
  sleeping past it.
- :class:`BodyReader` collects a body up to a size limit: past it, a success body is an
  error and an error body is cut (the error is built from its first bytes).

A single read that stalls is still bounded by the read timeout, itself capped by the
time left when the attempt started.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import httpx

from ._errors import APIStatusError, APITimeoutError, KimiError, StreamError, with_note

__all__ = [
    "DEFAULT_MAX_BODY",
    "DEFAULT_MAX_ERROR",
    "BodyReader",
    "Deadline",
    "check_limit",
    "too_large",
]

#: The largest non-streamed body read by default, and the most of an error body read.
DEFAULT_MAX_BODY = 64 * 1024 * 1024
DEFAULT_MAX_ERROR = 1024 * 1024

_monotonic = time.monotonic


class Deadline:
    """The end of a call (``total_timeout`` seconds after it started), or none."""

    __slots__ = ("at", "provider", "total")

    def __init__(self, total: float | None, provider: str | None) -> None:
        self.total = total
        self.at = _monotonic() + total if total else None
        self.provider = provider

    def error(self, what: str, request_id: str | None = None) -> APITimeoutError:
        return APITimeoutError(
            f"total timeout of {self.total} s exceeded {what}",
            provider=self.provider,
            request_id=request_id,
        )

    def attempt_timeout(self, timeout: httpx.Timeout) -> httpx.Timeout:
        """``timeout`` with every phase capped by the time left; raises once passed."""
        if self.at is None:
            return timeout
        left = self.at - _monotonic()
        if left <= 0:
            raise self.error("before the next attempt")
        return httpx.Timeout(
            connect=min(timeout.connect or left, left),
            read=min(timeout.read or left, left),
            write=min(timeout.write or left, left),
            pool=min(timeout.pool or left, left),
        )

    def retry_wait(self, wait: float, err: KimiError) -> float:
        """``wait`` when it ends before the deadline; otherwise raise at once: ``err``
        itself when it is a status error (saying why it was not retried), else a
        timeout naming it."""
        if self.at is None:
            return wait
        left = self.at - _monotonic()
        if wait < left:
            return wait
        why = (
            f"not retried: the wait before the next attempt ({wait:.1f} s) is longer than "
            f"the {max(left, 0.0):.1f} s left of total_timeout={self.total}"
        )
        if isinstance(err, APIStatusError):
            raise with_note(err, why)
        timeout = APITimeoutError(
            f"total timeout of {self.total} s would pass before a retry after: {err.message} "
            f"({why})",
            provider=self.provider,
            request_id=err.request_id,
        )
        raise timeout from err


def check_limit(headers: Mapping[str, str], limit: int) -> int | None:
    """The declared ``Content-Length`` when it is over ``limit`` (else None)."""
    declared = headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return int(declared)
    return None


class BodyReader:
    """Collects a body read chunk by chunk, against a size limit and the deadline.

    :meth:`feed` returns False once ``limit`` is reached (stop reading): for a success
    body :meth:`body` then raises, for an error body it returns the first ``limit``
    bytes (``truncated`` is set).
    """

    __slots__ = ("_parts", "deadline", "limit", "request_id", "size", "truncated", "what")

    def __init__(
        self, limit: int, deadline: Deadline, what: str, request_id: str | None = None
    ) -> None:
        self.limit = limit
        self.deadline = deadline
        self.what = what
        self.request_id = request_id
        self._parts: list[bytes] = []
        self.size = 0
        self.truncated = False

    def feed(self, chunk: bytes) -> bool:
        """Take a chunk; False when the limit is reached (stop reading). Raises
        :class:`APITimeoutError` once the deadline has passed."""
        at = self.deadline.at
        if at is not None and _monotonic() > at:
            raise self.deadline.error(
                f"while reading {self.what} ({self.size} bytes received)", self.request_id
            )
        room = self.limit - self.size
        if len(chunk) > room:
            self._parts.append(chunk[:room])
            self.size = self.limit
            self.truncated = True
            return False
        self._parts.append(chunk)
        self.size += len(chunk)
        return True

    def error_body(self) -> bytes:
        """What was read of an error body (cut at the limit)."""
        return b"".join(self._parts)

    def body(self, status: int) -> bytes:
        """The whole success body; a :class:`StreamError` when it passed the limit."""
        if self.truncated:
            raise too_large(self.what, self.limit, None, status, self.deadline.provider)
        return b"".join(self._parts)


def too_large(
    what: str, limit: int, declared: int | None, status: int, provider: str | None
) -> StreamError:
    size = f"declares {declared} bytes" if declared is not None else "is longer"
    return StreamError(
        f"{what} {size}, more than max_body_bytes={limit}: not read "
        "(raise the limit on the client if such answers are expected)",
        status_code=status,
        provider=provider,
    )
