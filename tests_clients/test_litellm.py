"""litellm's moonshot provider (``model="moonshot/..."``) against the emulator.

Measured (litellm/llms/moonshot/chat/transformation.py): it drops ``temperature`` for the
reasoning models, turns ``tool_choice="required"`` into no choice plus an appended user
message ("Please select a tool to handle the current issue."), fills a missing
``reasoning_content`` on an assistant tool-call message with a one-space placeholder, and
passes a named ``tool_choice`` through unchanged: kimi-k2.6 refuses it while thinking
and so does kimi-k3.
"""

from __future__ import annotations

from typing import Any

import litellm
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

litellm.telemetry = False
litellm.suppress_debug_info = True

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
QUESTION = {"role": "user", "content": "What's the weather in Paris?"}


class Person(BaseModel):
    name: str
    age: int


def complete(emu: KimiEmulator, model: str, **kwargs: Any) -> Any:
    return litellm.completion(
        model=f"moonshot/{model}",
        api_base=emu.base_url,
        api_key=DUMMY_KEY,
        num_retries=0,
        **kwargs,
    )


@pytest.mark.parametrize("model", MODELS)
def test_plain_chat(emu: KimiEmulator, model: str) -> None:
    # temperature=0.2 is dropped for the reasoning models (their temperature is fixed).
    answer = complete(emu, model, messages=[{"role": "user", "content": "Hello"}], temperature=0.2)
    assert "Hello" in answer.choices[0].message.content
    assert answer.choices[0].message.reasoning_content
    assert_nothing_fixed_sent(sent(emu))


@pytest.mark.parametrize("model", MODELS)
def test_stream(emu: KimiEmulator, model: str) -> None:
    chunks = list(
        complete(emu, model, messages=[{"role": "user", "content": "Hello"}], stream=True)
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "Hello" in text
    assert sent(emu)[0]["stream"] is True
    assert_nothing_fixed_sent(sent(emu))


@pytest.mark.parametrize("model", MODELS)
def test_tool_loop_appending_the_message(emu: KimiEmulator, model: str) -> None:
    messages: list[Any] = [QUESTION]
    first = complete(emu, model, messages=messages, tools=[WEATHER])
    message = first.choices[0].message
    assert message.tool_calls[0].function.name == "get_weather"
    tool = {"role": "tool", "tool_call_id": message.tool_calls[0].id, "content": "18 C, cloudy"}
    messages += [message, tool]
    second = complete(emu, model, messages=messages, tools=[WEATHER])
    assert "18 C" in second.choices[0].message.content
    assert sent(emu)[1]["messages"][1]["reasoning_content"] == message.reasoning_content
    assert_nothing_fixed_sent(sent(emu))


@pytest.mark.parametrize("model", MODELS)
def test_streamed_tool_loop_with_stream_chunk_builder(emu: KimiEmulator, model: str) -> None:
    chunks = list(complete(emu, model, messages=[QUESTION], tools=[WEATHER], stream=True))
    message = litellm.stream_chunk_builder(chunks, messages=[QUESTION]).choices[0].message
    assert message.reasoning_content
    tool = {"role": "tool", "tool_call_id": message.tool_calls[0].id, "content": "18 C, cloudy"}
    answer = complete(emu, model, messages=[QUESTION, message, tool], tools=[WEATHER])
    assert "18 C" in answer.choices[0].message.content
    assert sent(emu)[1]["messages"][1]["reasoning_content"] == message.reasoning_content


@pytest.mark.parametrize("model", MODELS)
def test_a_hand_built_tool_call_message_gets_a_placeholder_reasoning(
    emu: KimiEmulator, model: str
) -> None:
    # An app that rebuilds the assistant message from its own store loses the reasoning;
    # litellm fills " " so that Moonshot's rule is met (the emulator takes it).
    call = {
        "id": "get_weather_0",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    }
    messages = [
        QUESTION,
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "get_weather_0", "content": "18 C, cloudy"},
    ]
    answer = complete(emu, model, messages=messages, tools=[WEATHER])
    assert "18 C" in answer.choices[0].message.content
    assert sent(emu)[0]["messages"][1]["reasoning_content"] == " "


@pytest.mark.parametrize("model", MODELS)
def test_structured_output(emu: KimiEmulator, model: str) -> None:
    answer = complete(
        emu,
        model,
        messages=[{"role": "user", "content": "Alice is 30 years old. Extract the person."}],
        response_format=Person,
    )
    assert Person.model_validate_json(answer.choices[0].message.content) == Person(
        name="Alice", age=30
    )
    fmt = sent(emu)[0]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True


@pytest.mark.parametrize("model", MODELS)
def test_required_becomes_a_user_message(emu: KimiEmulator, model: str) -> None:
    # Not sent, so not refused: the request goes as auto plus an extra user turn, which
    # the emulator's planner reads as a nudge to call the tool the question needs.
    answer = complete(emu, model, messages=[QUESTION], tools=[WEATHER], tool_choice="required")
    call = answer.choices[0].message.tool_calls[0]
    assert (call.function.name, call.function.arguments) == ("get_weather", '{"city": "Paris"}')
    body = sent(emu)[0]
    assert "tool_choice" not in body
    assert body["messages"][-1] == {
        "role": "user",
        "content": "Please select a tool to handle the current issue.",
    }


@pytest.mark.parametrize("model", MODELS)
def test_a_named_tool_choice_is_passed_through_and_refused(emu: KimiEmulator, model: str) -> None:
    named = {"type": "function", "function": {"name": "get_weather"}}
    with pytest.raises(litellm.BadRequestError) as caught:
        complete(emu, model, messages=[QUESTION], tools=[WEATHER], tool_choice=named)
    assert caught.value.status_code == 400
    assert caught.value.message.endswith(f"MoonshotException - {NAMED_WHILE_THINKING}")
    assert sent(emu)[0]["tool_choice"] == named
