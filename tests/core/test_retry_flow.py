"""The retry loop without I/O (``kimi_core._retry``): a call's flow is driven here by hand,
step by step, with outcomes a test makes up; the network and the sleep are switched off,
so anything the flow did itself would fail. Pure unit tests: the drivers that perform the
steps over real HTTP are what the rest of the suite runs."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import httpx
import pytest

import kimi_core as kc
from kimi_core import _retry
from kimi_core._deadline import Deadline
from kimi_core._retry import NEXT_CHUNK, Close, ReadBody, Send, Sleep

URL = "http://127.0.0.1:9/v1"
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture(autouse=True)
def _no_io(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a flow did I/O itself")

    monkeypatch.setattr(socket, "socket", refused)
    monkeypatch.setattr(socket, "create_connection", refused)
    monkeypatch.setattr(time, "sleep", refused)


def client(**kw: Any) -> kc.KimiClient:
    return kc.KimiClient(api_key="sk-test-key-123", base_url=URL, **kw)


def response(status: int, body: bytes = b"", **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers, request=httpx.Request("POST", URL))


def read_into(step: ReadBody, body: bytes) -> None:
    """What a driver does for a ReadBody step: the body into the reader."""
    step.reader.feed(body)


def test_a_429_is_waited_for_as_retry_after_says_then_sent_again() -> None:
    flow = client()._attempts("POST", "/chat/completions", json_body={"model": "m"})
    send = next(flow)
    assert isinstance(send, Send) and send.headers["X-Kimi-Attempt"] == "1"
    assert send.url == URL + "/chat/completions" and send.json == {"model": "m"}
    read = flow.send(response(429, **{"retry-after": "2"}))
    assert isinstance(read, ReadBody)
    read_into(read, b'{"error": {"type": "rate_limit_reached_error", "message": "slow down"}}')
    sleep = flow.send(None)
    assert sleep == Sleep(2.0)
    again = flow.send(None)
    assert isinstance(again, Send) and again.headers["X-Kimi-Attempt"] == "2"
    ok = response(200)
    read = flow.send(ok)
    assert isinstance(read, ReadBody)
    read_into(read, b'{"id": "x"}')
    with pytest.raises(StopIteration) as done:
        flow.send(None)
    assert done.value.value == (ok, b'{"id": "x"}', 2)


def test_a_connection_error_backs_off_with_jitter() -> None:
    flow = client()._attempts("GET", "/models")
    next(flow)
    sleep = flow.send(httpx.ConnectError("refused"))
    assert isinstance(sleep, Sleep) and 0.375 <= sleep.seconds <= 0.5  # 0.5 s less <= 25 %
    assert isinstance(flow.send(None), Send)
    sleep = flow.send(httpx.ConnectError("refused"))
    assert isinstance(sleep, Sleep) and 0.75 <= sleep.seconds <= 1.0  # doubled
    assert isinstance(flow.send(None), Send)  # the third attempt, the last (max_retries=2)
    with pytest.raises(kc.APIConnectionError, match="refused"):
        flow.send(httpx.ConnectError("refused"))


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (
            401,
            b'{"error": {"type": "invalid_authentication_error", "message": "bad key"}}',
            kc.AuthenticationError,
        ),
        (
            429,
            b'{"error": {"type": "exceeded_current_quota_error", "message": "no money"}}',
            kc.InsufficientQuotaError,
        ),
        (400, b'{"error": {"type": "invalid_request_error", "message": "no"}}', kc.BadRequestError),
    ],
)
def test_an_error_a_retry_cannot_mend_is_raised_at_once(
    status: int, body: bytes, error: type
) -> None:
    flow = client()._attempts("POST", "/chat/completions")
    next(flow)
    read = flow.send(response(status))
    read_into(read, body)
    with pytest.raises(error):
        flow.send(None)


def test_a_wait_longer_than_the_time_left_raises_the_error_at_once() -> None:
    flow = client(total_timeout=5.0)._attempts("POST", "/chat/completions")
    next(flow)
    read = flow.send(response(503, **{"retry-after": "30"}))
    read_into(read, b"busy")
    with pytest.raises(
        kc.InternalServerError, match="not retried: the wait before the next attempt"
    ):
        flow.send(None)


def test_a_declared_body_over_the_limit_is_closed_unread() -> None:
    flow = client(max_body_bytes=10)._attempts("GET", "/models")
    next(flow)
    big = response(200, **{"content-length": "11"})
    assert flow.send(big) == Close(big)
    with pytest.raises(kc.StreamError, match="max_body_bytes=10"):
        flow.send(None)


def test_the_rules_that_stop_a_retry_each_say_why() -> None:
    retryable = kc.InternalServerError("boom", status_code=500)
    retryable.retryable = True
    refused = kc.AuthenticationError("bad key", status_code=401)
    why = [rule(retryable, 1, 2, True) for rule in _retry.NO_RETRY]
    assert why == ["the stream had delivered events", "", ""]
    assert [rule(refused, 1, 2, False) for rule in _retry.NO_RETRY][1] == (
        "AuthenticationError is not retryable"
    )
    assert _retry.NO_RETRY[2](retryable, 3, 2, False) == "attempt 3 was the last (max_retries=2)"
    for rule in _retry.NO_RETRY:
        assert rule.__doc__  # each says its reason in words
    deadline = Deadline(None, "moonshot")
    common = {"max_retries": 2, "policy": kc.RetryPolicy(), "deadline": deadline, "provider": "p"}
    assert (
        _retry.retry_wait(retryable, attempt=1, headers={"retry-after-ms": "250"}, **common) == 0.25
    )
    assert _retry.retry_wait(retryable, attempt=1, headers=None, delivered=True, **common) is None
    assert _retry.retry_wait(refused, attempt=1, headers=None, **common) is None
    assert _retry.retry_wait(retryable, attempt=3, headers=None, **common) is None


def sse(*events: dict[str, Any]) -> bytes:
    return b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)


CHUNK = {"id": "c", "choices": [{"index": 0, "delta": {"content": "Hel"}}]}
LAST = {"id": "c", "choices": [{"index": 0, "delta": {"content": "lo"}, "finish_reason": "stop"}]}


def test_a_stream_stalled_before_its_first_event_is_sent_again() -> None:
    kimi = client()
    stream = kimi.stream(model="kimi-k2.7-code", messages=HI)
    flow = kimi._stream_flow(stream)
    first = next(flow)
    assert isinstance(first, Send) and first.headers["Accept"] == "text/event-stream"
    opened = response(200, **{"content-type": "text/event-stream"})
    assert flow.send(opened) is NEXT_CHUNK
    assert flow.send(httpx.ReadTimeout("stalled")) == Close(opened)  # a timeout: retryable
    assert isinstance(flow.send(None), Sleep)
    again = flow.send(None)
    assert isinstance(again, Send) and again.headers["X-Kimi-Attempt"] == "2"
    second = response(200, **{"content-type": "text/event-stream"})
    assert flow.send(second) is NEXT_CHUNK
    events = flow.send(sse(CHUNK))
    assert [e["choices"][0]["delta"]["content"] for e in events] == ["Hel"]
    assert flow.send(None) is NEXT_CHUNK
    assert [
        e["choices"][0]["delta"]["content"] for e in flow.send(sse(LAST) + b"data: [DONE]\n\n")
    ] == ["lo"]
    assert flow.send(None) == Close(second)
    with pytest.raises(StopIteration):
        flow.send(None)
    assert stream.completion()["choices"][0]["message"]["content"] == "Hello"


def test_a_stream_that_delivered_an_event_is_never_sent_again() -> None:
    kimi = client()
    stream = kimi.stream(model="kimi-k2.7-code", messages=HI)
    flow = kimi._stream_flow(stream)
    next(flow)
    flow.send(response(200, **{"content-type": "text/event-stream"}))
    assert len(flow.send(sse(CHUNK))) == 1
    assert flow.send(None) is NEXT_CHUNK
    with pytest.raises(kc.StreamError, match="stream broken after 1 events") as info:
        flow.send(httpx.ReadError("reset"))
    assert info.value.partial["choices"][0]["message"]["content"] == "Hel"
