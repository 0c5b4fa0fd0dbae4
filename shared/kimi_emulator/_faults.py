"""Faults on demand: which request gets one, and how each kind breaks a response."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._dialects import Dialect
from ._http import LAST_CHUNK, response_head
from ._server import AbortError, Conn
from ._wire import ApiError, as_json_bytes, error_response, sse_error_event

__all__ = [
    "FAULT_KINDS",
    "Fault",
    "FaultBook",
    "faulty_completion",
    "faulty_stream",
    "status_fault",
]

FAULT_KINDS = frozenset(
    {
        "429",
        "500",
        "502_html",
        "503",
        "drop_after",
        "stall",
        "malformed",
        "error_event",
        "slow_first_byte",
        "truncated",
    }
)
_ALIASES = {"html_502": "502_html", "502": "502_html", "drop": "drop_after"}
_STATUS_FAULTS = frozenset({"429", "500", "502_html", "503"})
_DEFAULT_EVENTS = {"drop_after": 3, "stall": 3, "malformed": 3, "error_event": 3}
_DEFAULT_SECONDS = {"stall": 10.0, "slow_first_byte": 1.0}

_HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
_TEXT_503 = (
    b"upstream connect error or disconnect/reset before headers. reset reason: connection failure"
)
_GENERATION_ERROR = "an error occurred while generating the response"


@dataclass
class Fault:
    kind: str
    events: int
    seconds: float
    retry_after: float | None
    body: Any
    headers: dict[str, str]
    remaining: int | None
    rate: float | None
    rng: random.Random | None
    path: str | None

    @property
    def early(self) -> bool:
        """Answered before the rules run (status faults and the first-byte delay)."""
        return self.kind in _STATUS_FAULTS or self.kind == "slow_first_byte"


class FaultBook:
    """The pending faults, consumed in order by the requests they match."""

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock
        self._faults: list[Fault] = []

    def add(
        self,
        kind: str,
        *,
        events: int | None,
        seconds: float | None,
        retry_after: float | None,
        body: Any,
        headers: Mapping[str, str] | None,
        times: int | None,
        rate: float | None,
        seed: int | None,
        path: str | None,
    ) -> None:
        kind = _ALIASES.get(kind, kind)
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind {kind!r} is unknown; choose one of {sorted(FAULT_KINDS)}")
        if rate is not None and not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if times is not None and times < 1:
            raise ValueError("times must be a positive integer, or None for every request")
        item = Fault(
            kind=kind,
            events=events if events is not None else _DEFAULT_EVENTS.get(kind, -1),
            seconds=seconds if seconds is not None else _DEFAULT_SECONDS.get(kind, 0.0),
            retry_after=retry_after,
            body=body,
            headers=dict(headers or {}),
            remaining=None if rate is not None else times,
            rate=rate,
            rng=random.Random(seed) if rate is not None else None,
            path=path,
        )
        with self._lock:
            self._faults.append(item)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, path: str, endpoint: str, *, early: bool) -> Fault | None:
        """The fault to apply to this request (consumed), if any."""
        with self._lock:
            if not self._faults:
                return None
            for fault in self._faults:
                if fault.path is not None:
                    if not path.endswith(fault.path):
                        continue
                elif endpoint != "chat":
                    continue
                if fault.early != early:
                    continue
                if fault.rate is not None:
                    if fault.rng is not None and fault.rng.random() < fault.rate:
                        return fault
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return fault
        return None


# --------------------------------------------------------------------------- writing


async def status_fault(
    conn: Conn, dialect: Dialect, fault: Fault, headers: dict[str, str], trace_id: str
) -> None:
    """A 429, 500, 502 (HTML) or 503 (plain text) answer."""
    if fault.kind == "429" and fault.retry_after is not None:
        ra = fault.retry_after
        headers["Retry-After"] = str(int(ra)) if float(ra).is_integer() else str(ra)
    headers.update(fault.headers)
    status = {"429": 429, "500": 500, "502_html": 502, "503": 503}[fault.kind]
    if fault.body is not None:
        await conn.respond_custom(status, fault.body, headers)
    elif fault.kind == "502_html":
        await conn.respond(502, _HTML_502, headers, content_type="text/html")
    elif fault.kind == "503":
        await conn.respond(503, _TEXT_503, headers, content_type="text/plain")
    else:
        if fault.kind == "429":
            err = ApiError(
                429,
                "rate_limit_reached_error",
                "Your account org-emulator<ak-emulator> request reached organization max RPM: 3, "
                f"please try again after {fault.retry_after or 1:g} seconds",
            )
        else:
            err = ApiError(500, "server_error", "Internal server error, please retry later")
        status, payload = error_response(dialect, err, trace_id)
        await conn.respond(status, as_json_bytes(payload), headers)


async def faulty_completion(
    conn: Conn,
    dialect: Dialect,
    fault: Fault,
    headers: Mapping[str, str],
    raw: bytes,
    trace_id: str,
) -> None:
    """A non-streamed body cut, stalled, corrupted or replaced."""
    kind = fault.kind
    if kind == "drop_after":
        if fault.events > 0:
            conn.write(response_head(200, headers, length=len(raw)) + raw[: len(raw) // 2])
            await conn.drain()
        raise AbortError
    if kind == "stall":
        conn.write(response_head(200, headers, length=len(raw)))
        await conn.drain()
        await asyncio.sleep(fault.seconds)
        conn.write(raw)
    elif kind == "malformed":
        bad = raw[: len(raw) // 2] + b"<<malformed>>"
        conn.write(response_head(200, headers, length=len(bad)) + bad)
    elif kind == "truncated":
        cut = raw[: len(raw) // 2]
        conn.write(response_head(200, headers, length=len(cut)) + cut)
    else:  # error_event: a 200 that carries an error body (gateways do this)
        _, err_body = error_response(
            dialect, ApiError(500, "server_error", _GENERATION_ERROR), trace_id
        )
        data = as_json_bytes(fault.body if fault.body is not None else err_body)
        conn.write(response_head(200, headers, length=len(data)) + data)
    await conn.drain()


async def faulty_stream(
    conn: Conn,
    dialect: Dialect,
    fault: Fault,
    events: list[bytes],
    body_count: int,
    delay: float,
    trace_id: str,
) -> None:
    """The events of a stream (its head already written) broken after ``fault.events``."""
    kind = fault.kind
    n = min(max(fault.events, 0), len(events))
    if kind == "drop_after":
        await conn.write_events(events[:n], delay)
        raise AbortError
    if kind == "stall":
        await conn.write_events(events[:n], delay)
        await asyncio.sleep(fault.seconds)
        await conn.write_events(events[n:], delay)
    elif kind == "malformed":
        bad = b'data: {"id": "broken", "choices": [{"delta": {"content": "oops"\n\n'
        await conn.write_events([*events[:n], bad, *events[n:]], delay)
    elif kind == "error_event":
        if fault.body is not None:
            err_event = b"data: " + as_json_bytes(fault.body) + b"\n\n"
        else:
            err = ApiError(500, "server_error", _GENERATION_ERROR)
            err_event = sse_error_event(dialect, err, trace_id)
        await conn.write_events([*events[:n], err_event], delay)
    else:  # truncated: ends cleanly, with no finish_reason and no [DONE]
        cut = body_count if fault.events < 0 else min(n, body_count)
        await conn.write_events(events[:cut], delay)
    conn.write(LAST_CHUNK)
    await conn.drain()
