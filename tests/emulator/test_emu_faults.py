"""Faults on demand: status errors, broken streams, stalls, and random injection."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from emu_helpers import HTTP, MODEL_FOR, USER_HI, body, body_for, chat, headers, parse_sse

import kimi_core as kc
from kimi_emulator import KimiEmulator

FAST = kc.RetryPolicy(base=0.01, max_backoff=0.02, max_wait=0.05)


def client_for(emu: KimiEmulator, **kw: Any) -> kc.KimiClient:
    kw.setdefault("retry_policy", FAST)
    return kc.KimiClient(provider=emu.provider, base_url=emu.base_url, api_key=emu.api_key, **kw)


def collect(stream: Any, into: list[Any]) -> None:
    """Iterate ``stream`` into ``into`` (what arrived stays there when it raises)."""
    for item in stream:
        into.append(item)


def read_raw(emu: KimiEmulator, into: list[bytes]) -> None:
    with HTTP.stream("POST", emu.chat_url, json=body(stream=True), headers=headers(emu)) as resp:
        collect(resp.iter_bytes(), into)


def run_stream(client: kc.KimiClient, **kw: Any) -> tuple[list[dict[str, Any]], kc.ChatStream]:
    s = client.stream(model="kimi-k2.6", thinking=False, messages=USER_HI, **kw)
    got: list[dict[str, Any]] = []
    for chunk in s:
        got.append(chunk)
    return got, s


# --------------------------------------------------------------------------- status faults


def test_429_with_retry_after(any_emu: KimiEmulator) -> None:
    any_emu.fault("429", retry_after=0)
    resp = chat(any_emu, body_for(any_emu))
    assert resp.status_code == 429
    assert resp.headers["retry-after"] == "0"
    assert "error" in resp.json()
    assert chat(any_emu, body_for(any_emu)).status_code == 200  # one request only


def test_429_then_success_through_the_core(moonshot: KimiEmulator) -> None:
    moonshot.fault("429", retry_after=0, times=2)
    result = client_for(moonshot, max_retries=2).chat(
        model="kimi-k2.6", thinking=False, messages=USER_HI
    )
    assert result.message["content"]
    assert moonshot.request_count == 3
    attempts = [r.headers["x-kimi-attempt"] for r in moonshot.requests]
    assert attempts == ["1", "2", "3"]


def test_429_exhausts_retries(moonshot: KimiEmulator) -> None:
    moonshot.fault("429", retry_after=0, times=None)
    with pytest.raises(kc.RateLimitError) as info:
        client_for(moonshot, max_retries=1).chat(
            model="kimi-k2.6", thinking=False, messages=USER_HI
        )
    assert info.value.code == "rate_limit_reached_error"
    assert "max RPM" in info.value.message
    assert moonshot.request_count == 2


def test_500_502_503_bodies(moonshot: KimiEmulator) -> None:
    moonshot.fault("500")
    resp = chat(moonshot, body())
    assert resp.status_code == 500
    assert resp.json()["error"]["type"] == "server_error"
    moonshot.fault("502_html")
    resp = chat(moonshot, body())
    assert resp.status_code == 502
    assert resp.headers["content-type"].startswith("text/html")
    assert "<h1>502 Bad Gateway</h1>" in resp.text
    moonshot.fault("503")
    resp = chat(moonshot, body())
    assert resp.status_code == 503
    assert resp.headers["content-type"].startswith("text/plain")
    assert "upstream connect error" in resp.text
    moonshot.fault("500", body={"detail": "custom"}, headers={"Retry-After": "0"})
    resp = chat(moonshot, body())
    assert resp.json() == {"detail": "custom"}


def test_html_502_through_the_core(moonshot: KimiEmulator) -> None:
    moonshot.fault("html_502", times=3)
    with pytest.raises(kc.InternalServerError) as info:
        client_for(moonshot, max_retries=2).chat(
            model="kimi-k2.6", thinking=False, messages=USER_HI
        )
    assert info.value.status_code == 502
    assert "502 Bad Gateway" in info.value.message
    assert "<" not in info.value.message


def test_status_fault_before_the_rules(moonshot: KimiEmulator) -> None:
    moonshot.fault("503")
    assert chat(moonshot, body("no-such-model")).status_code == 503


# --------------------------------------------------------------------------- stream faults


def test_drop_after_events_raw(moonshot: KimiEmulator) -> None:
    moonshot.fault("drop_after", events=3)
    parts: list[bytes] = []
    with pytest.raises(httpx.RemoteProtocolError):
        read_raw(moonshot, parts)
    received = b"".join(parts)
    events, done = parse_sse(received)
    assert len(events) == 3
    assert not done


def test_drop_after_events_through_the_core(moonshot: KimiEmulator) -> None:
    moonshot.fault("drop_after", events=4)
    client = client_for(moonshot, max_retries=2)
    got: list[dict[str, Any]] = []
    with pytest.raises(kc.StreamError) as info:
        collect(client.stream(model="kimi-k2.6", thinking=False, messages=USER_HI), got)
    assert len(got) == 4
    partial = info.value.partial["choices"][0]["message"]["content"]
    assert partial
    assert partial == "".join(c["choices"][0]["delta"].get("content") or "" for c in got)
    assert moonshot.request_count == 1  # never retried after an event was delivered


def test_drop_before_any_event_is_retried(moonshot: KimiEmulator) -> None:
    moonshot.fault("drop_after", events=0)
    chunks, _s = run_stream(client_for(moonshot, max_retries=1))
    assert chunks
    assert moonshot.request_count == 2
    moonshot.fault("drop_after", events=0)
    result = client_for(moonshot, max_retries=1).chat(
        model="kimi-k2.6", thinking=False, messages=USER_HI
    )
    assert result.message["content"]


def test_stall_times_out_a_short_read_timeout(moonshot: KimiEmulator) -> None:
    moonshot.fault("stall", events=2, seconds=5)
    client = client_for(moonshot, timeout=httpx.Timeout(5.0, read=0.2), max_retries=0)
    got: list[dict[str, Any]] = []
    with pytest.raises(kc.APITimeoutError) as info:
        collect(client.stream(model="kimi-k2.6", thinking=False, messages=USER_HI), got)
    assert len(got) == 2
    assert info.value.partial is not None


def test_short_stall_then_the_rest(moonshot: KimiEmulator) -> None:
    moonshot.fault("stall", events=2, seconds=0.05)
    _chunks, s = run_stream(client_for(moonshot))
    assert "Hello there" in s.completion()["choices"][0]["message"]["content"]
    assert moonshot.request_count == 1


def test_malformed_event(moonshot: KimiEmulator) -> None:
    moonshot.fault("malformed", events=2)
    with pytest.raises(kc.StreamError, match="malformed event"):
        run_stream(client_for(moonshot))


def test_error_event_in_each_dialect(any_emu: KimiEmulator) -> None:
    model = MODEL_FOR[any_emu.dialect]
    any_emu.fault("error_event", events=2)
    resp = chat(any_emu, body(model, stream=True))
    events, done = parse_sse(resp.content)
    assert not done
    assert "error" in events[-1]
    # Two events, then the error (OpenRouter's first event is its comment line).
    assert len(events) == (2 if any_emu.dialect == "openai-compatible" else 3)
    any_emu.fault("error_event", events=2)
    client = client_for(any_emu)
    with pytest.raises(kc.StreamError, match="error event inside the stream") as info:
        list(client.stream(model=model, messages=USER_HI))
    if any_emu.dialect != "gptproto":  # GPTProto's error type is only the status
        expected = "api_error" if any_emu.dialect == "acedata" else "server_error"
        assert info.value.code == expected


def test_custom_error_event_body(moonshot: KimiEmulator) -> None:
    moonshot.fault(
        "error_event",
        events=1,
        body={"error": {"message": "boom", "type": "engine_overloaded_error"}},
    )
    with pytest.raises(kc.StreamError, match="boom") as info:
        run_stream(client_for(moonshot))
    assert info.value.code == "engine_overloaded_error"


def test_truncated_stream(any_emu: KimiEmulator) -> None:
    model = MODEL_FOR[any_emu.dialect]
    any_emu.fault("truncated")
    resp = chat(any_emu, body(model, stream=True))
    assert resp.status_code == 200  # the body ended cleanly
    events, done = parse_sse(resp.content)
    assert events
    assert not done
    assert all(c["finish_reason"] is None for e in events for c in e["choices"])
    any_emu.fault("truncated")
    with pytest.raises(kc.StreamError, match="ended before"):
        list(client_for(any_emu).stream(model=model, messages=USER_HI))


def test_slow_first_byte(moonshot: KimiEmulator) -> None:
    moonshot.fault("slow_first_byte", seconds=0.05)
    chunks, _ = run_stream(client_for(moonshot))
    assert chunks
    moonshot.fault("slow_first_byte", seconds=3)
    client = client_for(moonshot, timeout=httpx.Timeout(5.0, read=0.2), max_retries=0)
    with pytest.raises(kc.APITimeoutError):
        client.chat(model="kimi-k2.6", thinking=False, messages=USER_HI)


# --------------------------------------------------------------------------- non-streamed variants


def test_body_faults_on_a_non_streamed_request(moonshot: KimiEmulator) -> None:
    client = client_for(moonshot, max_retries=0)
    moonshot.fault("drop_after", events=1)
    with pytest.raises(kc.APIConnectionError):
        client.chat(model="kimi-k2.6", thinking=False, messages=USER_HI)
    moonshot.fault("malformed")
    with pytest.raises(kc.StreamError, match="not JSON"):
        client.chat(model="kimi-k2.6", thinking=False, messages=USER_HI)
    moonshot.fault("truncated")
    with pytest.raises(kc.StreamError, match="not JSON"):
        client.chat(model="kimi-k2.6", thinking=False, messages=USER_HI)
    moonshot.fault("error_event")
    with pytest.raises(kc.InternalServerError):
        client.chat(model="kimi-k2.6", thinking=False, messages=USER_HI)
    moonshot.fault("stall", seconds=0.05)
    assert client.chat(model="kimi-k2.6", thinking=False, messages=USER_HI).message["content"]


def test_body_fault_waits_for_a_valid_request(moonshot: KimiEmulator) -> None:
    moonshot.fault("truncated")
    assert chat(moonshot, body("no-such-model", stream=True)).status_code == 404
    _, done = parse_sse(chat(moonshot, body(stream=True)).content)
    assert not done


# --------------------------------------------------------------------------- selection


def test_random_faults_are_seeded(moonshot: KimiEmulator) -> None:
    def statuses() -> list[int]:
        moonshot.reset()
        moonshot.fault("500", rate=0.5, seed=7)
        return [chat(moonshot, body()).status_code for _ in range(30)]

    first = statuses()
    assert set(first) == {200, 500}
    assert statuses() == first
    moonshot.reset()
    moonshot.fault("500", rate=0.0, seed=1)
    assert {chat(moonshot, body()).status_code for _ in range(10)} == {200}


def test_fault_times_path_and_clear(moonshot: KimiEmulator) -> None:
    moonshot.fault("500", path="/models")
    assert chat(moonshot, body()).status_code == 200
    assert HTTP.get(moonshot.base_url + "/models", headers=headers(moonshot)).status_code == 500
    assert HTTP.get(moonshot.base_url + "/models", headers=headers(moonshot)).status_code == 200
    moonshot.fault("503", times=2)
    assert [chat(moonshot, body()).status_code for _ in range(3)] == [503, 503, 200]
    moonshot.fault("503", times=None)
    assert chat(moonshot, body()).status_code == 503
    moonshot.clear_faults()
    assert chat(moonshot, body()).status_code == 200


def test_fault_argument_checks(moonshot: KimiEmulator) -> None:
    with pytest.raises(ValueError, match="unknown"):
        moonshot.fault("meteor")
    with pytest.raises(ValueError, match="rate"):
        moonshot.fault("500", rate=2)
    with pytest.raises(ValueError, match="times"):
        moonshot.fault("500", times=0)
