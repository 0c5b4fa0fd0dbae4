"""``total_timeout`` is a deadline: across attempts, while a body trickles in, and for
retry waits (a wait longer than the time left raises at once).

On main a body trickled 8 bytes every 0.25 s took 16.8 s under ``total_timeout=3``, and
``Retry-After: 20`` was slept in full. The ceilings below are twice the deadline: they
catch a wait that ignores it, not a slow machine.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from _loopback import LoopbackServer, http_head, send, send_json

import kimi_core as kc

from .wire import MODEL, USER, aclient, client, completion


def trickled(status: int = 200) -> list[bytes]:
    body = json.dumps(completion("t" * 420)).encode()  # about 540 bytes
    head = http_head(status, length=len(body))
    return [head] + [body[i : i + 8] for i in range(0, len(body), 8)]


def timed(work: Any) -> tuple[float, BaseException | None]:
    started = time.monotonic()
    try:
        work()
    except BaseException as exc:
        return time.monotonic() - started, exc
    return time.monotonic() - started, None


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("status", [200, 500])
def test_a_trickled_body_ends_at_the_deadline(
    loopback: LoopbackServer, mode: str, status: int
) -> None:
    loopback.reply_pieces(trickled(status), delay=0.25)  # about 17 s in all
    if mode == "sync":
        c = client(loopback.base_url, total_timeout=3)
        took, err = timed(lambda: c.chat(model=MODEL, messages=USER))
    else:
        a = aclient(loopback.base_url, total_timeout=3)
        took, err = timed(lambda: asyncio.run(a.chat(model=MODEL, messages=USER)))
    assert isinstance(err, kc.APITimeoutError), repr(err)
    assert "total timeout of 3 s exceeded while reading" in str(err)
    assert took < 6


def test_a_trickle_within_the_deadline_is_read(loopback: LoopbackServer) -> None:
    loopback.reply_pieces([*trickled()[:1], b"".join(trickled()[1:])], delay=0.05)
    out = client(loopback.base_url, total_timeout=3).chat(model=MODEL, messages=USER)
    assert out.message["content"] == "t" * 420


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_retry_after_longer_than_the_time_left_raises_at_once(
    loopback: LoopbackServer, mode: str
) -> None:
    limited = send_json(
        {"error": {"type": "rate_limit_reached_error", "message": "slow down"}},
        status=429,
        headers={"retry-after": "20"},
    )
    loopback.reply_sequence([limited, send_json(completion())])
    kw: dict[str, Any] = {"total_timeout": 3, "max_retries": 2}
    if mode == "sync":
        took, err = timed(lambda: client(loopback.base_url, **kw).chat(model=MODEL, messages=USER))
    else:
        a = aclient(loopback.base_url, **kw)
        took, err = timed(lambda: asyncio.run(a.chat(model=MODEL, messages=USER)))
    assert isinstance(err, kc.RateLimitError) and err.status_code == 429
    assert "slow down" in str(err) and "not retried: the wait before the next attempt (20.0 s)" in (
        str(err)
    )
    assert took < 2 and len(loopback.received) == 1


def test_a_backoff_longer_than_the_time_left_after_a_connection_error(
    loopback: LoopbackServer,
) -> None:
    loopback.handler = send(b"", close=True)  # the server hangs up at once
    policy = kc.RetryPolicy(base=30, max_backoff=30)
    c = client(loopback.base_url, total_timeout=2, max_retries=3, retry_policy=policy)
    took, err = timed(lambda: c.chat(model=MODEL, messages=USER))
    assert isinstance(err, kc.APITimeoutError)
    assert "would pass before a retry after: connection failed" in str(err)
    assert isinstance(err.__cause__, kc.APIConnectionError)
    assert took < 2 and len(loopback.received) == 1


def test_the_deadline_spans_every_attempt(loopback: LoopbackServer) -> None:
    busy = send_json({"error": {"message": "busy"}}, status=503, headers={"retry-after": "0.6"})
    loopback.reply_sequence([busy])
    c = client(loopback.base_url, total_timeout=2, max_retries=20)
    took, err = timed(lambda: c.chat(model=MODEL, messages=USER))
    assert isinstance(err, kc.InternalServerError) and "not retried" in str(err)
    assert 2 <= len(loopback.received) <= 4 and took < 4


def test_a_stream_that_trickles_events_ends_at_the_deadline(loopback: LoopbackServer) -> None:
    events = [
        b"data: "
        + json.dumps({"choices": [{"index": 0, "delta": {"content": "w "}}]}).encode()
        + b"\n\n"
        for _ in range(40)
    ]
    head = http_head(200, content_type="text/event-stream", length=sum(map(len, events)))
    loopback.reply_pieces([head, *events], delay=0.1)
    got: list[dict[str, Any]] = []

    def consume() -> None:
        for chunk in client(loopback.base_url, total_timeout=1).stream(model=MODEL, messages=USER):
            got.append(chunk)

    took, err = timed(consume)
    assert isinstance(err, kc.APITimeoutError) and err.partial is not None
    assert got and took < 2.5
