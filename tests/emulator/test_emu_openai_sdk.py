"""The openai SDK as a real, independent client: a tool loop that sends back exactly the
assistant message it received works in every dialect (the emulator accepts its own
output), streamed or not."""

from __future__ import annotations

import json
from typing import Any

import pytest
from emu_helpers import MODEL_FOR, WEATHER_TOOL

from kimi_emulator import KimiEmulator

openai = pytest.importorskip("openai")

#: The fields a dialect answers reasoning with (what a client must carry back).
REASONING = {
    "moonshot": ("reasoning_content",),
    "acedata": ("reasoning_content", "reasoning"),
    "evolink": ("reasoning_content",),
    "gptproto": ("reasoning",),
    "openai-compatible": ("reasoning", "reasoning_details"),
}
QUESTION = [{"role": "user", "content": "What's the weather in Paris?"}]


def sdk(emu: KimiEmulator) -> Any:
    # The SDK appends /chat/completions to its base URL (AceData's chat path is /kimi/...).
    base = emu.chat_url[: -len("/chat/completions")]
    return openai.OpenAI(base_url=base, api_key=emu.api_key, max_retries=0)


def tool_result(call_id: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": '{"temp_c": 21, "sky": "clear"}'}


@pytest.mark.parametrize("replay", ["as received", "the SDK's message object"])
def test_a_tool_loop_that_replays_the_answer(any_emu: KimiEmulator, replay: str) -> None:
    client = sdk(any_emu)
    model = MODEL_FOR[any_emu.dialect]
    first = client.chat.completions.create(model=model, messages=QUESTION, tools=[WEATHER_TOOL])
    message = first.choices[0].message
    assert first.choices[0].finish_reason == "tool_calls"
    assert message.tool_calls and message.tool_calls[0].function.name == "get_weather"
    extra = message.model_extra or {}
    for field in REASONING[any_emu.dialect]:
        assert field in extra, (any_emu.dialect, field)  # the SDK keeps the dialect's fields
    if replay == "as received":
        assistant: Any = first.model_dump(exclude_unset=True)["choices"][0]["message"]
        assert assistant == json.loads(_raw_message(any_emu))
    else:
        assistant = message  # what most apps do: append the object itself
    messages = [*QUESTION, assistant, tool_result(message.tool_calls[0].id)]
    second = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL])
    answer = second.choices[0]
    assert answer.finish_reason == "stop"
    assert "temp_c" in (answer.message.content or "")
    # Plain answers: no tool_calls key where the dialect sends none (len() would fail on
    # the real body too), an empty list where it sends one (AceData).
    if any_emu.dialect == "acedata":
        assert answer.message.tool_calls == []
    else:
        assert answer.message.tool_calls is None


def _raw_message(emu: KimiEmulator) -> str:
    """The assistant message of the last answer, as the emulator sent it (re-read through
    a fresh request with the same body: the responder is deterministic)."""
    import httpx

    last = emu.chat_requests[-1]
    resp = httpx.post(emu.chat_url, content=last.body, headers={**last.headers})
    text = resp.text.lstrip()  # OpenRouter pads its bodies
    return json.dumps(json.loads(text)["choices"][0]["message"])


def test_a_streamed_tool_loop_that_replays_what_arrived(any_emu: KimiEmulator) -> None:
    client = sdk(any_emu)
    model = MODEL_FOR[any_emu.dialect]
    stream = client.chat.completions.create(
        model=model, messages=QUESTION, tools=[WEATHER_TOOL], stream=True
    )
    assistant: dict[str, Any] = {"role": "assistant"}
    calls: dict[int, dict[str, Any]] = {}
    reasoning_fields = [f for f in REASONING[any_emu.dialect] if f != "reasoning_details"]
    for chunk in stream:
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        if delta.content:
            assistant["content"] = assistant.get("content", "") + delta.content
        for field in reasoning_fields:
            piece = (delta.model_extra or {}).get(field)
            if piece:
                assistant[field] = assistant.get(field, "") + piece
        for tc in delta.tool_calls or ():
            call = calls.setdefault(
                tc.index, {"id": "", "type": "function", "function": {"name": "", "arguments": ""}}
            )
            call["id"] = tc.id or call["id"]
            if tc.function is not None:
                call["function"]["name"] += tc.function.name or ""
                call["function"]["arguments"] += tc.function.arguments or ""
    assistant["tool_calls"] = [calls[i] for i in sorted(calls)]
    assert assistant["tool_calls"][0]["function"]["name"] == "get_weather"
    assert any(assistant.get(f) for f in reasoning_fields)
    messages = [*QUESTION, assistant, tool_result(assistant["tool_calls"][0]["id"])]
    answer = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL])
    assert answer.choices[0].finish_reason == "stop"
    assert "temp_c" in (answer.choices[0].message.content or "")


def test_a_wrong_key_is_the_sdks_authentication_error(
    any_emu: KimiEmulator, kimi_emulator_factory: Any
) -> None:
    emu = kimi_emulator_factory(any_emu.dialect, api_key="sk-right")
    base = emu.chat_url[: -len("/chat/completions")]
    client = openai.OpenAI(base_url=base, api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as info:
        client.chat.completions.create(model=MODEL_FOR[emu.dialect], messages=QUESTION)
    assert info.value.status_code == 401
