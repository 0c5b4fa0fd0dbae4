"""The event parser of a chat stream: the bytes of a response in, normalised event dicts
out (``_sse`` splits the events, ``_stream`` accumulates them); it knows how a stream
must start and end, and what an error inside one is. It does no I/O: the stream flow
(``_base_client``) feeds it each read.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from ._deadline import Deadline
from ._error_map import _excerpt, is_error_body, make_status_error, stream_error_event
from ._errors import APITimeoutError, KimiError, StreamError
from ._response import content_type, request_id_of, shown
from ._sse import EventTooLargeError, SSEDecoder
from ._stream import MalformedChunkError, StreamAccumulator

__all__ = ["EventParser"]


#: How an event stream can start; anything else under a 2xx is not a stream.
_SSE_STARTS = (b"data:", b":", b"event:", b"id:", b"retry:", b"\xef\xbb\xbf")


_raw_decode = json.JSONDecoder().raw_decode


def _loads(data: bytes) -> Any:
    """``json.loads(data)`` for an event's data, half the work for the usual case (UTF-8
    text that is one JSON value and nothing else: no encoding to detect, no whitespace
    to skip); anything else is ``json.loads``'s to answer, its errors included."""
    try:
        text = data.decode()
        value, end = _raw_decode(text)
    except ValueError:  # not UTF-8, or not a value at 0: json.loads says what it is
        return json.loads(data)
    if end != len(text):
        return json.loads(data)  # whitespace after the value, or something else
    return value


class EventParser:
    """Bytes in, normalised event dicts out; knows how a stream must end.

    IO-free: a driver feeds it each read and delivers what it returns. Bad input ends
    as a :class:`KimiError` carrying everything delivered (``partial``); the events
    completed before a bad one in the same read are delivered first (``failure`` is
    raised by :meth:`after_read` once they were). A body that is not an event stream (JSON,
    HTML) is collected up to ``max_error`` bytes and reported for what it is.
    """

    __slots__ = (
        "acc",
        "decoder",
        "done",
        "failure",
        "foreign",
        "headers",
        "max_error",
        "provider",
        "request_id",
        "sniff",
        "status",
    )

    def __init__(
        self, provider: str, response: httpx.Response, max_event: int, max_error: int
    ) -> None:
        self.decoder = SSEDecoder(max_event)
        self.acc = StreamAccumulator()
        self.done = False
        #: An error met after good events of the same read: raised once they are delivered.
        self.failure: KimiError | None = None
        self.provider = provider
        self.request_id = request_id_of(response)
        self.status = response.status_code
        self.headers = response.headers
        self.max_error = max_error
        # Not declared an event stream: the first bytes decide.
        content_type = response.headers.get("content-type") or ""
        self.sniff = "text/event-stream" not in content_type.lower()
        self.foreign: bytearray | None = None

    def feed(self, raw: bytes) -> list[dict[str, Any]]:
        if self.sniff:
            raw = self._sniffed(raw)
            if not raw:
                return []
        out: list[dict[str, Any]] = []
        try:
            payloads = self.decoder.decode(raw)
            overflow = None
        except EventTooLargeError as exc:
            payloads, overflow = exc.events, exc
        for data in payloads:
            if self.done:
                break
            try:
                event = self._event(data)
            except KimiError as err:
                if not out:
                    raise
                # Never lose a token: deliver the events before the bad one first.
                self.failure = err
                self.done = True
                break
            if event is not None:
                out.append(event)
        if overflow is not None and not self.done:
            too_big = self.error(
                f"an event of the stream is larger than max_event_bytes={overflow.limit} "
                f"({overflow.size} bytes before its end); raise the limit on the client if "
                "such events are expected"
            )
            if not out:
                raise too_big
            self.failure = too_big
            self.done = True
        return out

    def _event(self, data: bytes) -> dict[str, Any] | None:
        if data[:1] == b"[" and data.strip() == b"[DONE]":
            self.done = True
            return None
        try:
            event = _loads(data)
        except (ValueError, RecursionError):
            if not data.strip():
                return None
            raise self.error(f"malformed event in the stream (not JSON): {shown(data)}") from None
        if not isinstance(event, dict):
            raise self.error(f"malformed event in the stream (not an object): {shown(data)}")
        if "error" in event and not event.get("choices"):
            err = stream_error_event(event, provider=self.provider, request_id=self.request_id)
            err.partial = self.acc.completion()
            raise err
        try:
            return self.acc.add(event)
        except MalformedChunkError as exc:
            raise self.error(f"malformed event in the stream ({exc}): {shown(data)}") from None

    def _sniffed(self, raw: bytes) -> bytes:
        """The bytes to decode as an event stream: all of them once the start looks like
        one; none while undecided or when the body is something else (collected)."""
        if self.foreign is None:
            start = raw.lstrip()
            if not start:
                return b""
            if start.startswith(_SSE_STARTS):
                self.sniff = False
                return raw
            self.foreign = bytearray()
        room = self.max_error - len(self.foreign)
        self.foreign += raw[:room]
        if len(raw) > room:
            raise self.not_a_stream()
        return b""

    def not_a_stream(self) -> KimiError:
        """The error for a body that is not an event stream: the provider's error when it
        is a JSON error body under a 2xx, else what came (status, type, an excerpt)."""
        raw = bytes(self.foreign or b"")
        try:
            body = json.loads(raw) if raw else None
        except (ValueError, RecursionError):
            body = None
        if isinstance(body, dict) and is_error_body(body):
            return make_status_error(self.status, raw, headers=self.headers, provider=self.provider)
        if isinstance(body, dict) and body.get("choices"):
            what = "a whole chat completion (the server ignored stream=true)"
        elif raw:
            what = _excerpt(raw.decode("utf-8", "replace")) or shown(raw)
        else:
            what = "an empty body"
        return StreamError(
            f"a stream was requested, but the server answered HTTP {self.status} with "
            f"{content_type(self.headers)} and not an event stream: {what}",
            status_code=self.status,
            provider=self.provider,
            request_id=self.request_id,
            body=body if body is not None else (raw[:1000].decode("utf-8", "replace") or None),
        )

    def finish(self) -> list[dict[str, Any]]:
        """End of the body: flush, and fail if the stream did not really end."""
        if self.sniff:
            raise self.not_a_stream()
        out: list[dict[str, Any]] = []
        if not self.done:
            try:
                payloads = self.decoder.flush()
            except EventTooLargeError as exc:
                raise self.error(
                    f"an event of the stream is larger than max_event_bytes={exc.limit}"
                ) from None
            for data in payloads:
                event = self._event(data)
                if event is not None:
                    out.append(event)
        if not self.done and not self.acc.finished:
            raise self.error(
                f"stream ended before [DONE] and before a finish_reason ({self.acc.events} "
                "events received; they are in .partial)"
            )
        if not self.acc.choices:
            raise self.error(
                f"the stream ended without any choice ({self.acc.events} events received): "
                "an HTTP 200 with no answer"
            )
        return out

    def after_read(self, deadline: Deadline) -> bool:
        """After a read's events were delivered: raise what the read met (an error event,
        a malformed event, the total timeout); True once the stream is over."""
        if self.failure is not None:
            raise self.failure
        if self.done:
            return True
        at = deadline.at
        if at is not None and time.monotonic() > at:
            err = deadline.error(f"after {self.acc.events} events", self.request_id)
            err.partial = self.acc.completion()
            raise err
        return False

    def error(self, message: str) -> StreamError:
        return StreamError(
            message,
            partial=self.acc.completion(),
            provider=self.provider,
            request_id=self.request_id,
            status_code=self.status,
        )

    def broken_error(self, exc: Exception) -> KimiError:
        """The error for a transport failure after the stream started."""
        if isinstance(exc, httpx.TimeoutException):
            err: KimiError = APITimeoutError(
                f"stream stalled: no data within the read timeout after {self.acc.events} events",
                provider=self.provider,
                request_id=self.request_id,
            )
        else:
            err = StreamError(
                f"stream broken after {self.acc.events} events: {type(exc).__name__}: {exc}",
                provider=self.provider,
                request_id=self.request_id,
            )
        err.partial = self.acc.completion()
        return err
