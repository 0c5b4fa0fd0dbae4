"""openai-agents (the Agents SDK) on Chat Completions against the emulator
(``OpenAIChatCompletionsModel`` with an ``AsyncOpenAI`` client on the emulator's URL).

Measured (agents/models/reasoning_content_replay.py): by default it replays
``reasoning_content`` only to DeepSeek models, so the second turn of every tool loop on a
thinking Kimi model carries an assistant tool-call message without its reasoning, and
Kimi refuses it (kimi-k3 and kimi-k2.6, streamed or not). The documented hook
``should_replay_reasoning_content`` fixes it. ``output_type`` goes as a strict
``json_schema`` (taken); ``tool_choice="required"`` is taken by kimi-k3 and refused by
kimi-k2.6; a tool name as ``tool_choice`` becomes a named choice, refused while thinking.
"""

from __future__ import annotations

import asyncio
from typing import Any

import openai
import pytest
from agents import (
    Agent,
    ModelSettings,
    OpenAIChatCompletionsModel,
    Runner,
    function_tool,
    set_tracing_disabled,
)
from kimi_cells import (
    DUMMY_KEY,
    MODELS,
    NAMED_WHILE_THINKING,
    REQUIRED_WHILE_THINKING,
    assert_nothing_fixed_sent,
    reasoning_missing,
    sent,
)
from pydantic import BaseModel

from kimi_emulator import KimiEmulator

set_tracing_disabled(True)
WEATHER_QUESTION = "What's the weather in Paris?"


class Person(BaseModel):
    name: str
    age: int


@function_tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"18 C and cloudy in {city}"


def chat_model(emu: KimiEmulator, model: str, **kwargs: Any) -> OpenAIChatCompletionsModel:
    client = openai.AsyncOpenAI(base_url=emu.base_url, api_key=DUMMY_KEY, max_retries=0)
    return OpenAIChatCompletionsModel(model=model, openai_client=client, **kwargs)


def replay_always(context: Any) -> bool:
    return True


def run_streamed(agent: Agent[Any], prompt: str) -> Any:
    async def run() -> Any:
        result = Runner.run_streamed(agent, prompt)
        async for _ in result.stream_events():
            pass
        return result.final_output

    return asyncio.run(run())


@pytest.mark.parametrize("model", MODELS)
def test_plain_chat(emu: KimiEmulator, model: str) -> None:
    result = Runner.run_sync(Agent(name="hi", model=chat_model(emu, model)), "Hello")
    assert "Hello" in result.final_output
    assert_nothing_fixed_sent(sent(emu))


@pytest.mark.parametrize("model", MODELS)
def test_stream(emu: KimiEmulator, model: str) -> None:
    output = run_streamed(Agent(name="hi", model=chat_model(emu, model)), "Hello")
    assert "Hello" in output
    assert sent(emu)[0]["stream"] is True
    assert_nothing_fixed_sent(sent(emu))


@pytest.mark.parametrize("model", MODELS)
def test_the_tool_loop_drops_the_reasoning_and_is_refused(emu: KimiEmulator, model: str) -> None:
    agent = Agent(name="weather", model=chat_model(emu, model), tools=[get_weather])
    with pytest.raises(openai.BadRequestError) as caught:
        Runner.run_sync(agent, WEATHER_QUESTION)
    assert caught.value.status_code == 400
    assert caught.value.body["message"] == reasoning_missing(1)  # type: ignore[index]
    replayed = sent(emu)[1]["messages"][1]
    assert replayed["tool_calls"] and "reasoning_content" not in replayed


@pytest.mark.parametrize("model", MODELS)
def test_the_streamed_tool_loop_drops_the_reasoning_and_is_refused(
    emu: KimiEmulator, model: str
) -> None:
    agent = Agent(name="weather", model=chat_model(emu, model), tools=[get_weather])
    with pytest.raises(openai.BadRequestError) as caught:
        run_streamed(agent, WEATHER_QUESTION)
    assert caught.value.body["message"] == reasoning_missing(1)  # type: ignore[index]


@pytest.mark.parametrize("model", MODELS)
def test_the_tool_loop_with_the_replay_hook(emu: KimiEmulator, model: str) -> None:
    llm = chat_model(emu, model, should_replay_reasoning_content=replay_always)
    agent = Agent(name="weather", model=llm, tools=[get_weather])
    result = Runner.run_sync(agent, WEATHER_QUESTION)
    assert "18 C" in result.final_output
    assert sent(emu)[1]["messages"][1]["reasoning_content"]
    assert_nothing_fixed_sent(sent(emu))


@pytest.mark.parametrize("model", MODELS)
def test_structured_output(emu: KimiEmulator, model: str) -> None:
    agent = Agent(name="people", model=chat_model(emu, model), output_type=Person)
    result = Runner.run_sync(agent, "Alice is 30 years old. Extract the person.")
    assert result.final_output == Person(name="Alice", age=30)
    fmt = sent(emu)[0]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True


def forced(emu: KimiEmulator, model: str, choice: str) -> Agent[Any]:
    return Agent(
        name="weather",
        model=chat_model(emu, model),
        tools=[get_weather],
        model_settings=ModelSettings(tool_choice=choice),
        tool_use_behavior="stop_on_first_tool",
    )


def test_required_is_taken_by_k3(emu: KimiEmulator) -> None:
    result = Runner.run_sync(forced(emu, "kimi-k3", "required"), WEATHER_QUESTION)
    assert "18 C" in result.final_output
    assert sent(emu)[0]["tool_choice"] == "required"


def test_required_is_refused_by_k26(emu: KimiEmulator) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        Runner.run_sync(forced(emu, "kimi-k2.6", "required"), WEATHER_QUESTION)
    assert caught.value.body["message"] == REQUIRED_WHILE_THINKING  # type: ignore[index]


@pytest.mark.parametrize("model", MODELS)
def test_a_tool_name_as_choice_is_refused_while_thinking(emu: KimiEmulator, model: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        Runner.run_sync(forced(emu, model, "get_weather"), WEATHER_QUESTION)
    assert caught.value.body["message"] == NAMED_WHILE_THINKING  # type: ignore[index]
    assert sent(emu)[0]["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
