"""Scripted mode: exact responses and errors, and the recorded requests."""

from __future__ import annotations

import json
from typing import Any

import pytest
from emu_helpers import (
    HTTP,
    MODEL_FOR,
    USER_HI,
    WEATHER_TOOL,
    body,
    chat,
    headers,
    parse_sse,
    stream,
)

import kimi_core as kc
from kimi_emulator import KimiEmulator


def client_for(emu: KimiEmulator, **kw: Any) -> kc.KimiClient:
    return kc.KimiClient(provider=emu.provider, base_url=emu.base_url, api_key=emu.api_key, **kw)


def deltas(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["choices"][0]["delta"] for e in events if e.get("choices")]


def test_scripted_text_and_reasoning(moonshot: KimiEmulator) -> None:
    moonshot.script(text="Exactly this.", reasoning="Because.")
    msg = chat(moonshot, body()).json()["choices"][0]["message"]
    assert msg["content"] == "Exactly this."
    assert msg["reasoning_content"] == "Because."  # a script is exact, even for a plain model
    # The next request is answered by the responder again.
    assert "Hello there" in chat(moonshot, body()).json()["choices"][0]["message"]["content"]


def test_scripted_stream(any_emu: KimiEmulator) -> None:
    model = MODEL_FOR[any_emu.dialect]
    any_emu.script(text="One two three four five six", reasoning="Thinking hard about it")
    _, events, done = stream(any_emu, body(model))
    assert done
    field = (
        "reasoning" if any_emu.dialect in ("gptproto", "openai-compatible") else "reasoning_content"
    )
    assert "".join(d.get("content") or "" for d in deltas(events)) == "One two three four five six"
    assert "".join(d.get(field) or "" for d in deltas(events)) == "Thinking hard about it"


def test_scripted_tool_calls(moonshot: KimiEmulator) -> None:
    moonshot.script(
        tool_calls=[
            {"name": "get_weather", "arguments": {"city": "Paris"}},
            {"name": "get_weather", "arguments": '{"city": "Rome"}', "id": "call_custom"},
        ]
    )
    choice = chat(moonshot, body(tools=[WEATHER_TOOL])).json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    calls = choice["message"]["tool_calls"]
    assert [c["id"] for c in calls] == ["get_weather_0", "call_custom"]  # Moonshot 2026 ids
    assert [json.loads(c["function"]["arguments"]) for c in calls] == [
        {"city": "Paris"},
        {"city": "Rome"},
    ]


def test_scripted_usage_model_and_finish_reason(moonshot: KimiEmulator) -> None:
    usage = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10, "cached_tokens": 5}
    moonshot.script(text="cut", usage=usage, model="kimi-k2.6-preview-x", finish_reason="length")
    data = chat(moonshot, body()).json()
    assert data["usage"] == usage
    assert data["model"] == "kimi-k2.6-preview-x"
    assert data["choices"][0]["finish_reason"] == "length"
    moonshot.script(text="cut", usage=usage)
    _, events, _ = stream(moonshot, body())
    assert events[-1]["choices"][0]["usage"] == usage


def test_tool_call_index_omitted_quirk(moonshot: KimiEmulator) -> None:
    calls = [
        {"name": "get_weather", "arguments": {"city": "Paris"}},
        {"name": "get_weather", "arguments": {"city": "Rome"}},
    ]
    moonshot.script(tool_calls=calls, tool_call_index="omit")
    _, events, _ = stream(moonshot, body(tools=[WEATHER_TOOL]))
    with_calls = [d["tool_calls"] for d in deltas(events) if d.get("tool_calls")]
    assert len(with_calls) == 1  # the calls arrive together
    first, second = with_calls[0]
    assert "index" not in first
    assert second["index"] == 1
    # The core client still assembles two calls.
    moonshot.script(tool_calls=calls, tool_call_index="omit")
    s = client_for(moonshot).stream(
        model="kimi-k2.6", thinking=False, messages=USER_HI, tools=[WEATHER_TOOL]
    )
    list(s)
    got = s.completion()["choices"][0]["message"]["tool_calls"]
    assert [json.loads(c["function"]["arguments"]) for c in got] == [
        {"city": "Paris"},
        {"city": "Rome"},
    ]


def test_tool_call_index_zero(moonshot: KimiEmulator) -> None:
    calls = [{"name": "get_weather", "arguments": {"city": c}} for c in ("Oslo", "Bergen")]
    moonshot.script(tool_calls=calls, tool_call_index="zero")
    _, events, _ = stream(moonshot, body(tools=[WEATHER_TOOL]))
    indexes = {tc["index"] for d in deltas(events) for tc in d.get("tool_calls") or ()}
    assert indexes == {0}
    moonshot.script(tool_calls=calls, tool_call_index="zero")
    s = client_for(moonshot).stream(
        model="kimi-k2.6", thinking=False, messages=USER_HI, tools=[WEATHER_TOOL]
    )
    list(s)
    got = s.completion()["choices"][0]["message"]["tool_calls"]
    assert [json.loads(c["function"]["arguments"])["city"] for c in got] == ["Oslo", "Bergen"]


def test_scripted_errors(any_emu: KimiEmulator) -> None:
    any_emu.script(
        status=400, body={"error": {"message": "custom", "type": "x"}}, headers={"X-Extra": "1"}
    )
    resp = chat(any_emu, {"not": "even valid"})
    assert resp.status_code == 400
    assert resp.json() == {"error": {"message": "custom", "type": "x"}}
    assert resp.headers["x-extra"] == "1"
    any_emu.script(status=503, body="<html>busy</html>")
    resp = chat(any_emu, body())
    assert resp.status_code == 503
    assert resp.headers["content-type"].startswith("text/html")
    assert resp.text == "<html>busy</html>"
    # Without a body: the dialect's own error body, with text as the message.
    any_emu.script(status=429, text="slow down")
    resp = chat(any_emu, body())
    assert resp.status_code == 429
    assert resp.json()["error"]["message"] == "slow down"


def test_scripted_error_through_the_core(moonshot: KimiEmulator) -> None:
    moonshot.script(
        status=429,
        body={
            "error": {
                "message": "Your account is suspended",
                "type": "exceeded_current_quota_error",
            }
        },
        times=3,
    )
    with pytest.raises(kc.InsufficientQuotaError) as info:
        client_for(moonshot).chat(model="kimi-k2.6", thinking=False, messages=USER_HI)
    assert info.value.retryable is False
    assert moonshot.request_count == 1  # quota exhaustion is not retried


def test_scripts_are_fifo_and_can_repeat(moonshot: KimiEmulator) -> None:
    moonshot.script(text="first")
    moonshot.script(text="second", times=2)
    moonshot.script(text="forever", times=None)
    got = [chat(moonshot, body()).json()["choices"][0]["message"]["content"] for _ in range(6)]
    assert got == ["first", "second", "second", "forever", "forever", "forever"]
    moonshot.reset()
    assert "Hello there" in chat(moonshot, body()).json()["choices"][0]["message"]["content"]


def test_repeating_stream_script_gets_fresh_ids(moonshot: KimiEmulator) -> None:
    moonshot.script(text="same text every time", times=None)
    first = stream(moonshot, body())[1]
    second = stream(moonshot, body())[1]
    assert first[0]["id"] != second[0]["id"]
    assert [deltas([e]) for e in first] == [deltas([e]) for e in second]


def test_script_still_obeys_the_rules(moonshot: KimiEmulator) -> None:
    moonshot.script(text="never sent")
    resp = chat(moonshot, body("kimi-k2.6", temperature=0.2))
    assert resp.status_code == 400
    # The script waits for the next valid request.
    assert chat(moonshot, body()).json()["choices"][0]["message"]["content"] == "never sent"


def test_long_streams_chunk_size_and_chunks(moonshot: KimiEmulator) -> None:
    moonshot.script(text="abcdefghij" * 50, chunk_size=1)
    _, events, _ = stream(moonshot, body())
    pieces = [d["content"] for d in deltas(events) if d.get("content")]
    assert len(pieces) == 500
    assert "".join(pieces) == "abcdefghij" * 50
    moonshot.script(chunks=2000)
    _, events, _ = stream(moonshot, body())
    pieces = [d["content"] for d in deltas(events) if d.get("content")]
    assert pieces == ["tok "] * 2000
    moonshot.script(text="x" * 100, chunks=10)
    _, events, _ = stream(moonshot, body())
    assert [d["content"] for d in deltas(events) if d.get("content")] == ["x" * 10] * 10


def test_long_stream_through_the_core(moonshot: KimiEmulator) -> None:
    moonshot.script(chunks=5000)
    s = client_for(moonshot).stream(model="kimi-k2.6", thinking=False, messages=USER_HI)
    content_chunks = [c for c in s if c["choices"] and c["choices"][0]["delta"].get("content")]
    assert len(content_chunks) == 5000
    assert s.completion()["choices"][0]["message"]["content"] == "tok " * 5000


def test_stream_delay_still_delivers_everything(moonshot: KimiEmulator) -> None:
    moonshot.script(text="a b c d e f", delay=0.001)
    _, events, done = stream(moonshot, body())
    assert done
    assert "".join(d.get("content") or "" for d in deltas(events)) == "a b c d e f"
    moonshot.stream_delay = 0.001
    _, events, done = stream(moonshot, body())
    assert done
    moonshot.reset()
    assert moonshot.stream_delay == 0.0


def test_script_argument_checks(moonshot: KimiEmulator) -> None:
    with pytest.raises(ValueError, match="status"):
        moonshot.script(status=42)
    with pytest.raises(ValueError, match="tool_call_index"):
        moonshot.script(text="x", tool_call_index="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="name"):
        moonshot.script(tool_calls=[{"arguments": {}}])
    with pytest.raises(ValueError, match="times"):
        moonshot.script(text="x", times=0)


# --------------------------------------------------------------------------- recorded requests


def test_recorded_requests(moonshot: KimiEmulator) -> None:
    client = client_for(moonshot, default_headers={"X-Test": "yes"})
    client.chat(model="kimi-k2.7-code", messages=USER_HI, temperature=1.0)
    HTTP.get(moonshot.base_url + "/models", headers=headers(moonshot))
    reqs = moonshot.requests
    assert moonshot.request_count == len(reqs) == 2
    first, second = reqs
    assert (first.method, first.path) == ("POST", "/v1/chat/completions")
    assert first.json["temperature"] == 1.0
    assert first.json["messages"] == USER_HI
    assert first.headers["x-test"] == "yes"
    assert first.headers["authorization"] == f"Bearer {moonshot.api_key}"
    assert moonshot.api_key not in repr(first)
    assert second.path == "/v1/models"
    assert second.json is None
    assert first.time <= second.time
    assert moonshot.last_request is second
    assert moonshot.chat_requests == [first]
    moonshot.reset()
    assert moonshot.requests == []
    assert moonshot.last_request is None


def test_stream_body_is_recorded_raw(moonshot: KimiEmulator) -> None:
    resp = chat(moonshot, body(stream=True))
    events, done = parse_sse(resp.content)
    assert done
    assert events
    assert moonshot.last_request is not None
    assert moonshot.last_request.json["stream"] is True
    assert json.loads(moonshot.last_request.body) == moonshot.last_request.json


@pytest.mark.parametrize(
    ("error_type", "error_class"),
    [
        ("content_filter", kc.ContentFilterError),
        ("exceeded_current_quota_error", kc.InsufficientQuotaError),
        ("engine_overloaded_error", kc.RateLimitError),
        ("permission_denied_error", kc.PermissionDeniedError),
        ("invalid_authentication_error", kc.AuthenticationError),
        ("unexpected_output", kc.InternalServerError),
    ],
)
def test_scripted_error_types_in_each_dialect(
    any_emu: KimiEmulator, error_type: str, error_class: type[kc.APIStatusError]
) -> None:
    any_emu.script(error_type=error_type, times=None)
    client = client_for(any_emu, max_retries=0)
    with pytest.raises(error_class) as info:
        client.chat(model=MODEL_FOR[any_emu.dialect], messages=USER_HI)
    assert info.value.message
    if any_emu.dialect == "acedata":
        assert info.value.body["success"] is False


def test_scripted_error_type_status_and_message(emus: dict[str, KimiEmulator]) -> None:
    ms, ace = emus["moonshot"], emus["acedata"]
    ms.script(error_type="content_filter")
    resp = chat(ms, body())
    assert resp.status_code == 400
    assert resp.json()["error"]["type"] == "content_filter"
    ace.script(error_type="exceeded_current_quota_error", text="balance used up")
    resp = chat(ace, body())
    assert resp.status_code == 403
    assert resp.json()["error"] == {"code": "used_up", "message": "balance used up"}
    with pytest.raises(ValueError, match="error_type"):
        ms.script(error_type="meteor_error")
