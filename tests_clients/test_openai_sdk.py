"""The openai SDK, as OpenAI's documentation uses it, against the emulator.

Measured: it sends only what the caller passes (no sampling values, no thinking switch),
keeps ``reasoning_content`` on the message object and sends it back when that object is
appended, and ``parse()`` sends a strict ``json_schema`` that Moonshot's flavour takes.
Forcing a function the documented way (a named ``tool_choice``) is refused while the model
thinks: kimi-k2.6 and kimi-k3.
"""

from __future__ import annotations

from typing import Any

import openai
import pytest
from kimi_cells import (
    DUMMY_KEY,
    MODELS,
    NAMED_WHILE_THINKING,
    assert_nothing_fixed_sent,
    sent,
)
from pydantic import BaseModel

from kimi_emulator import KimiEmulator

WEATHER: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


class Person(BaseModel):
    name: str
    age: int


def client(emu: KimiEmulator) -> openai.OpenAI:
    return openai.OpenAI(base_url=emu.base_url, api_key=DUMMY_KEY, max_retries=0)


@pytest.mark.parametrize("model", MODELS)
def test_plain_chat(emu: KimiEmulator, model: str) -> None:
    answer = client(emu).chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Hello"}]
    )
    assert answer.choices[0].message.content
    assert (answer.choices[0].message.model_extra or {}).get("reasoning_content")
    assert_nothing_fixed_sent(sent(emu))


@pytest.mark.parametrize("model", MODELS)
def test_stream(emu: KimiEmulator, model: str) -> None:
    chunks = list(
        client(emu).chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "Hello"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    reasoning = "".join(
        (c.choices[0].delta.model_extra or {}).get("reasoning_content") or ""
        for c in chunks
        if c.choices
    )
    assert "Hello" in text and reasoning
    assert [c.usage for c in chunks if c.usage], "no usage in the stream"
    assert_nothing_fixed_sent(sent(emu))


@pytest.mark.parametrize("model", MODELS)
def test_tool_loop_appending_the_message_object(emu: KimiEmulator, model: str) -> None:
    sdk = client(emu)
    messages: list[Any] = [{"role": "user", "content": "What's the weather in Paris?"}]
    first = sdk.chat.completions.create(model=model, messages=messages, tools=[WEATHER])
    message = first.choices[0].message
    assert message.tool_calls and message.tool_calls[0].function.name == "get_weather"
    call_id = message.tool_calls[0].id
    messages += [message, {"role": "tool", "tool_call_id": call_id, "content": "18 C, cloudy"}]
    second = sdk.chat.completions.create(model=model, messages=messages, tools=[WEATHER])
    assert "18 C" in (second.choices[0].message.content or "")
    replayed = sent(emu)[1]["messages"][1]
    assert replayed["reasoning_content"] == message.model_extra["reasoning_content"]
    assert_nothing_fixed_sent(sent(emu))


@pytest.mark.parametrize("model", MODELS)
def test_streamed_tool_loop_with_the_stream_helper(emu: KimiEmulator, model: str) -> None:
    # chat.completions.stream() accumulates the deltas, reasoning_content included.
    sdk = client(emu)
    messages: list[Any] = [{"role": "user", "content": "What's the weather in Paris?"}]
    with sdk.chat.completions.stream(model=model, messages=messages, tools=[WEATHER]) as stream:
        for _ in stream:
            pass
        message = stream.get_final_completion().choices[0].message
    assert message.tool_calls
    call_id = message.tool_calls[0].id
    messages += [message, {"role": "tool", "tool_call_id": call_id, "content": "18 C, cloudy"}]
    second = sdk.chat.completions.create(model=model, messages=messages, tools=[WEATHER])
    assert "18 C" in (second.choices[0].message.content or "")
    first_body, second_body = sent(emu)
    assert first_body["stream"] is True
    assert second_body["messages"][1]["reasoning_content"]


@pytest.mark.parametrize("model", MODELS)
def test_structured_output_with_parse(emu: KimiEmulator, model: str) -> None:
    answer = client(emu).chat.completions.parse(
        model=model,
        messages=[{"role": "user", "content": "Alice is 30 years old. Extract the person."}],
        response_format=Person,
    )
    assert answer.choices[0].message.parsed == Person(name="Alice", age=30)
    fmt = sent(emu)[0]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True


@pytest.mark.parametrize("model", MODELS)
def test_forcing_a_function_by_name_is_refused_while_thinking(
    emu: KimiEmulator, model: str
) -> None:
    # OpenAI's documented way to force one function: a named tool_choice.
    with pytest.raises(openai.BadRequestError) as caught:
        client(emu).chat.completions.parse(
            model=model,
            messages=[{"role": "user", "content": "Alice is 30 years old. Extract the person."}],
            tools=[openai.pydantic_function_tool(Person)],
            tool_choice={"type": "function", "function": {"name": "Person"}},
        )
    assert caught.value.status_code == 400
    assert caught.value.body["message"] == NAMED_WHILE_THINKING  # type: ignore[index]
