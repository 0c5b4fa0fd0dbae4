"""The 2026 line over real HTTP (loopback): exactly what goes on the wire for each family,
the recorded answers read back, the forced-call check and the retired-id 404.

Answers are the recorded api.moonshot.ai bodies of ``tests/recordings`` (see
``_recordings.py`` for what is added to them).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from _loopback import LoopbackServer
from _recordings import recorded_json, replay, replay_stream, retired_404, sent_body

import kimi_core as kc
from kimi_core import _models

USER = [{"role": "user", "content": "Call the ping tool."}]
PING = {
    "type": "function",
    "function": {"name": "ping", "description": "Return pong", "parameters": {"type": "object"}},
}


def client(server: LoopbackServer, provider: str = "moonshot") -> kc.KimiClient:
    base = server.url if provider == "acedata" else server.base_url
    return kc.KimiClient(provider=provider, base_url=base, api_key="k", max_retries=0)


def test_k3_required_goes_out_as_is_and_the_recorded_call_comes_back(
    loopback: LoopbackServer,
) -> None:
    replay(loopback, "moonshotai-k3-required-tool-choice.json")
    out = client(loopback).chat(
        model="kimi-k3", messages=USER, tools=[PING], tool_choice="required"
    )
    assert sent_body(loopback) == {
        "model": "kimi-k3",
        "messages": USER,
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "ping",
                    "description": "Return pong",
                    "parameters": {"type": "object", "properties": {}, "required": []},
                },
            }
        ],
        "tool_choice": "required",
    }
    assert out.message["tool_calls"][0]["id"] == "ping_0"
    assert out.request.required_tool is True


def test_k3_answer_without_the_forced_call_is_a_typed_error(loopback: LoopbackServer) -> None:
    replay(loopback, "moonshotai-kimi-k3-default-sampling.json")  # "OK", no call
    with pytest.raises(kc.ToolCallMissingError) as info:
        client(loopback).chat(model="kimi-k3", messages=USER, tools=[PING], tool_choice="required")
    assert str(info.value).startswith(
        "tool_choice forced a tool call, but the model answered without a tool call "
        "(finish_reason='length'): kimi-k3 always thinks (no thinking field), and it takes a "
        "forced tool_choice while thinking, so it was sent as it is"
    )
    assert info.value.body["id"] == recorded_json("moonshotai-kimi-k3-default-sampling.json")["id"]


def test_k3_effort_and_the_recorded_answer(loopback: LoopbackServer) -> None:
    replay(loopback, "issue-19311-kimi-k3-live-2026-08-24.json")
    out = client(loopback).chat(model="kimi-k3", messages=USER, reasoning_effort="low")
    assert sent_body(loopback) == {"model": "kimi-k3", "messages": USER, "reasoning_effort": "low"}
    assert out.message["content"] == "323"


def test_k3_stream_recorded(loopback: LoopbackServer) -> None:
    replay_stream(loopback, "moonshotai-usage-live.chunks.txt")
    stream = client(loopback).stream(model="kimi-k3", messages=USER, reasoning_effort="max")
    events = list(stream)
    assert events
    body = sent_body(loopback)
    assert body["reasoning_effort"] == "max" and "thinking" not in body and body["stream"]
    done = stream.completion()["choices"][0]["message"]
    assert done["content"] == "OK" and done["reasoning_content"].startswith("The user is asking")
    usage = stream.accumulator.usage
    assert usage is not None and usage["total_tokens"] == 140  # counted once, not twice


def test_k2x_streamed_tool_call_recorded(loopback: LoopbackServer) -> None:
    """kimi-k2.5 on api.moonshot.ai, 2026-08-25: the nearest recorded K2.x stream to
    kimi-k2.6 (none of K2.6 is published)."""
    replay_stream(loopback, "moonshotai-stream-explicit-tool-call-index.chunks.txt")
    stream = client(loopback).stream(model="kimi-k2.6", messages=USER)
    assert list(stream)
    choice = stream.completion()["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["tool_calls"] == [
        {
            "id": "weather_0",
            "type": "function",
            "function": {"name": "weather", "arguments": '{"location": "San Francisco"}'},
        }
    ]
    assert "reasoning_content" not in choice["message"]  # only the empty marker came
    usage = stream.accumulator.usage
    assert usage is not None and usage["total_tokens"] == 80  # finish choice and trailer: once
    assert usage["reasoning_tokens"] == 1 and usage["cached_tokens"] == 0


def test_the_plan_travels_when_a_prepared_request_is_streamed(loopback: LoopbackServer) -> None:
    """``stream()`` turns a non-streamed prepared request into a streamed one: its plan
    (the forced-call check) must come along."""
    replay_stream(loopback, "moonshotai-usage-live.chunks.txt")  # an answer without a call
    c = client(loopback)
    request = c.prepare(model="kimi-k2.7-code", messages=USER, tools=[PING], tool_choice="required")
    assert not request.stream
    stream = c.stream(request)
    with pytest.raises(kc.ToolCallMissingError, match=r"kimi-k2\.7-code always thinks"):
        list(stream)
    assert stream.request.plan is request.plan and stream.request.body["stream"] is True
    assert sent_body(loopback)["tool_choice"] == "auto"


@pytest.mark.parametrize("model", ["kimi-k2.7-code", "kimi-k2.7-code-highspeed"])
def test_k27_required_goes_out_as_auto_and_the_call_is_checked(
    loopback: LoopbackServer, model: str
) -> None:
    replay(loopback, "moonshotai-k2.7-tool-choice-omitted.json")
    out = client(loopback).chat(model=model, messages=USER, tools=[PING], tool_choice="required")
    body = sent_body(loopback)
    assert body["tool_choice"] == "auto" and "thinking" not in body
    assert out.message["tool_calls"][0]["function"]["name"] == "ping"


def test_k26_explicit_thinking_and_a_forced_call_says_why(loopback: LoopbackServer) -> None:
    """The recorded kimi-k2.6 answer thinks and makes no call: the error gives the reason
    the plan recorded (thinking=True), not a re-derived "always thinks"."""
    replay(loopback, "moonshotai-k2.6-tool-choice-omitted.json")
    with pytest.raises(kc.ToolCallMissingError) as info:
        client(loopback).chat(
            model="kimi-k2.6", messages=USER, tools=[PING], tool_choice="required", thinking=True
        )
    message = str(info.value)
    assert "always thinks" not in message
    assert (
        "thinking=True was asked for kimi-k2.6 and Kimi refuses a forced tool_choice while "
        "thinking, so it was sent as 'auto'" in message
    )
    body = sent_body(loopback)
    assert body["thinking"] == {"type": "enabled"} and body["tool_choice"] == "auto"


def test_k26_preserved_thinking_goes_out_as_given(loopback: LoopbackServer) -> None:
    replay(loopback, "moonshotai-k2.6-tool-choice-omitted.json")
    history = [
        *USER,
        {"role": "assistant", "content": "pong?"},
        {"role": "user", "content": "again"},
    ]
    with pytest.warns(kc.ReasoningCutWarning):  # the recorded answer is reasoning only
        client(loopback).chat(
            model="kimi-k2.6", messages=history, thinking={"type": "enabled", "keep": "all"}
        )
    body = sent_body(loopback)
    assert body["thinking"] == {"type": "enabled", "keep": "all"}
    assert body["messages"][1] == {"role": "assistant", "content": "pong?", "reasoning_content": ""}


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"model": "kimi-k3", "thinking": False}, r"'kimi-k3'.*reasoning_effort='low'"),
        ({"model": "kimi-k3", "temperature": 0.3}, r"temperature=0.3 .*only 1 is allowed"),
        ({"model": "kimi-k2.7-code", "thinking": False}, r"only type=enabled"),
        ({"model": "kimi-k2.6", "reasoning_effort": "max"}, r"only the kimi-k3 family"),
        ({"model": "kimi-k2.6", "reasoning_effort": "low", "thinking": False}, r"specify both"),
        ({"model": "kimi-k2.6", "thinking": {"type": "disabled", "keep": "all"}}, r"keep needs"),
    ],
)
def test_refused_before_anything_is_sent(
    loopback: LoopbackServer, params: dict[str, Any], match: str
) -> None:
    replay(loopback, "issue-19311-kimi-k3-live-2026-08-24.json")
    with pytest.raises(kc.ConfigurationError, match=match):
        client(loopback).chat(messages=USER, **params)
    assert loopback.received == []


def test_a_404_for_a_retired_id_says_when_and_what_replaced_it(loopback: LoopbackServer) -> None:
    retired_404(loopback, "kimi-k2.5")
    with pytest.raises(kc.NotFoundError) as info:
        client(loopback).chat(model="kimi-k2.5", messages=USER)
    err = info.value
    assert err.message == (
        "Not found the model kimi-k2.5 or Permission denied ('kimi-k2.5' was retired on "
        "2026-08-31; use kimi-k2.6)"
    )
    assert (err.status_code, err.code, err.provider) == (
        404,
        "resource_not_found_error",
        "moonshot",
    )
    assert not err.retryable
    retired_404(loopback, "moonshot-v1-8k")
    with pytest.raises(kc.NotFoundError, match=r"retired on 2026-08-31; use kimi-k2.6"):
        list(client(loopback).stream(model="moonshot-v1-8k", messages=USER))

    async def achat() -> None:
        c = kc.AsyncKimiClient(provider="moonshot", base_url=loopback.base_url, api_key="k")
        await c.chat(model="kimi-k2-thinking", messages=USER)

    retired_404(loopback, "kimi-k2-thinking")
    with pytest.raises(kc.NotFoundError, match=r"retired on 2026-05-25; use kimi-k2.6"):
        asyncio.run(achat())


def test_a_404_elsewhere_is_left_as_the_provider_said(loopback: LoopbackServer) -> None:
    replay(loopback, "moonshotai-error-without-code-live.json", status=404)
    _models._warned.discard("definitely-not-a-real-moonshot-model")
    with pytest.raises(kc.NotFoundError) as info, pytest.warns(kc.UnknownModelWarning):
        client(loopback).chat(model="definitely-not-a-real-moonshot-model", messages=USER)
    assert info.value.message == (
        "Not found the model definitely-not-a-real-moonshot-model or Permission denied"
    )
    # kimi-k2.5 is served on AceData: a 404 there is not explained as a retirement.
    retired_404(loopback, "kimi-k2.5")
    with pytest.raises(kc.NotFoundError) as ace:
        client(loopback, "acedata").chat(model="kimi-k2.5", messages=USER)
    assert "retired" not in str(ace.value)
