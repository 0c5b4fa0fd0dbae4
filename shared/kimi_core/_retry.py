"""The retry loop's parts that do no I/O: the steps a call asks for, and the retry rules.

A call is a *flow* (a generator, see ``_drivers``): it yields the steps it needs done,
one at a time, and receives each step's outcome; it never touches the network or the
clock's sleep itself. A sync driver and an async driver perform the steps, a few lines
each (the pattern of httpx's ``_auth.py``: ``auth_flow`` written once,
``sync_auth_flow`` / ``async_auth_flow`` to drive it):

=====================  ================================================================
step                   outcome sent back
=====================  ================================================================
:class:`Send`          the ``httpx.Response`` (headers read, body not), or the
                       ``httpx.HTTPError`` that prevented it
:class:`ReadBody`      None once the body is read into the step's reader (or the reader
                       is full), or the ``httpx.HTTPError`` that broke it; the response
                       is closed either way
:data:`NEXT_CHUNK`     the next bytes of the open stream, None at its end, or the
                       ``httpx.HTTPError`` that broke it
:class:`Sleep`         None, after the wait
:class:`Close`         None, once the response is closed
a list of events       None, once the stream's consumer has them (stream drivers only)
=====================  ================================================================

Whether to retry is decided by :func:`retry_wait`, from small rules that each say why
not (docs/kimi-platform.md §8): a stream is never retried after it delivered an event,
an error that says a retry cannot help is not retried (4xx but 408/409/429, exhausted
quota), attempts are counted; otherwise the wait is ``Retry-After`` (capped) or a
backoff with jitter, and a wait that would pass ``total_timeout`` raises at once.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ._deadline import BodyReader, Deadline
from ._errors import KimiError

__all__ = [
    "NEXT_CHUNK",
    "Close",
    "ReadBody",
    "RetryPolicy",
    "Send",
    "Sleep",
    "Step",
    "retry_wait",
]

logger = logging.getLogger("kimi_core")


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait before retrying (docs/kimi-platform.md §8).

    Waits ``retry-after-ms``, else ``retry-after`` (seconds or an HTTP date), capped at
    ``max_wait``; otherwise ``min(base * 2**n, max_backoff)`` less up to 25 % jitter.
    Under ``total_timeout``, a wait longer than the time left is not slept: the error
    that asked for it is raised at once.
    """

    base: float = 0.5
    max_backoff: float = 8.0
    max_wait: float = 60.0

    def delay(self, retry: int, headers: Mapping[str, str] | None) -> float:
        wait = _retry_after(headers) if headers is not None else None
        if wait is not None:
            return min(max(wait, 0.0), self.max_wait)
        backoff = min(self.base * 2.0**retry, self.max_backoff)
        return backoff * (1.0 - 0.25 * random.random())


def _retry_after(headers: Mapping[str, str]) -> float | None:
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        parsed = email.utils.parsedate_tz(value)
        if parsed is None:
            return None
        return float(email.utils.mktime_tz(parsed)) - time.time()


# --------------------------------------------------------------------------- steps


@dataclass(frozen=True, slots=True)
class Send:
    """Build a request with the driver's httpx client and send it (``stream=True``: the
    body is read by a later step)."""

    method: str
    url: str
    headers: dict[str, str]
    timeout: httpx.Timeout
    json: Any = None
    files: Any = None
    data: Any = None
    #: A JSON body already encoded (``_body.encode_body``), sent as is.
    content: bytes | None = None

    def build(self, client: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        """The request, built by ``client`` (its own headers, hooks and settings apply)."""
        return client.build_request(
            self.method,
            self.url,
            content=self.content,
            json=self.json,
            files=self.files,
            data=self.data,
            headers=self.headers,
            timeout=self.timeout,
        )


@dataclass(frozen=True, slots=True)
class ReadBody:
    """Read the body of ``response`` into ``reader`` until it is full, then close it."""

    response: httpx.Response
    reader: BodyReader


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait ``seconds`` before the next attempt."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Close:
    """Close ``response`` (its body is not read further)."""

    response: httpx.Response


class _NextChunk:
    """The next bytes of the stream being read (one object: a read allocates nothing)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NEXT_CHUNK"


NEXT_CHUNK = _NextChunk()

Step = Send | ReadBody | Sleep | Close | _NextChunk


# --------------------------------------------------------------------------- retry rules


def _delivered_events(err: KimiError, attempt: int, max_retries: int, delivered: bool) -> str:
    """A stream that delivered an event is never retried: the caller has the events, a
    new attempt would deliver them again."""
    return "the stream had delivered events" if delivered else ""


def _no_help(err: KimiError, attempt: int, max_retries: int, delivered: bool) -> str:
    """An error that a retry cannot mend (a 4xx other than 408, 409 and 429; exhausted
    quota; a refused configuration) is not retried: the error tree marks the others
    ``retryable``."""
    return "" if err.retryable else f"{type(err).__name__} is not retryable"


def _attempts_used(err: KimiError, attempt: int, max_retries: int, delivered: bool) -> str:
    """``max_retries`` retries at most, after the first attempt."""
    return (
        f"attempt {attempt} was the last (max_retries={max_retries})"
        if attempt > max_retries
        else ""
    )


#: The rules that stop a retry, in order; each returns why (or "" to let it pass).
NO_RETRY: tuple[Callable[[KimiError, int, int, bool], str], ...] = (
    _delivered_events,
    _no_help,
    _attempts_used,
)


def retry_wait(
    err: KimiError,
    *,
    attempt: int,
    max_retries: int,
    policy: RetryPolicy,
    deadline: Deadline,
    headers: Mapping[str, str] | None,
    provider: str,
    delivered: bool = False,
) -> float | None:
    """How long to wait before retrying after ``err`` ended attempt number ``attempt``
    (the first is 1), or None not to retry. The wait is the policy's (``Retry-After``
    from ``headers`` first); one that would pass the deadline raises at once
    (:meth:`Deadline.retry_wait`)."""
    for rule in NO_RETRY:
        why = rule(err, attempt, max_retries, delivered)
        if why:
            logger.debug("not retrying %s: %s", provider, why)
            return None
    wait = deadline.retry_wait(policy.delay(attempt - 1, headers), err)
    logger.info(
        "retrying %s (attempt %d of %d) in %.2f s: %s",
        provider,
        attempt + 1,
        max_retries + 1,
        wait,
        type(err).__name__,
    )
    return wait
