"""pydantic-ai against the emulator: its Moonshot provider, and the plain OpenAI provider
that many apps point at any OpenAI-compatible URL.

Measured: with ``MoonshotAIProvider`` (profile: no ``tool_choice="required"``,
``reasoning_content`` sent back in its field) every call follows the rules; the output tool
``final_result`` goes with ``tool_choice: "auto"``. With ``OpenAIProvider`` the output tool
is forced with ``tool_choice: "required"``: kimi-k3 takes it, kimi-k2.6 refuses it while
thinking.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from kimi_cells import (
    DUMMY_KEY,
    MODELS,
    REQUIRED_WHILE_THINKING,
    assert_nothing_fixed_sent,
    sent,
)
from openai import AsyncOpenAI
from pydantic import BaseModel
from pydantic_ai import Agent, ModelHTTPError, NativeOutput, PromptedOutput
from pydantic_ai.exceptions import UserError
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.moonshotai import MoonshotAIProvider
from pydantic_ai.providers.openai import OpenAIProvider

from kimi_emulator import KimiEmulator

PERSON_PROMPT = "Alice is 30 years old. Extract the person."


class Person(BaseModel):
    name: str
    age: int


def moonshot(emu: KimiEmulator, model: str) -> OpenAIChatModel:
    client = AsyncOpenAI(base_url=emu.base_url, api_key=DUMMY_KEY, max_retries=0)
    return OpenAIChatModel(model, provider=MoonshotAIProvider(openai_client=client))


def openai_compatible(emu: KimiEmulator, model: str) -> OpenAIChatModel:
    return OpenAIChatModel(model, provider=OpenAIProvider(base_url=emu.base_url, api_key=DUMMY_KEY))


def weather_agent(model: OpenAIChatModel) -> Agent[None, str]:
    agent = Agent(model)

    @agent.tool_plain
    def get_weather(city: str) -> str:
        """Get the current weather for a city."""
        return f"18 C and cloudy in {city}"

    return agent


@pytest.mark.parametrize("model", MODELS)
def test_plain_chat(emu: KimiEmulator, model: str) -> None:
    result = Agent(moonshot(emu, model)).run_sync("Hello")
    assert "Hello" in result.output
    assert_nothing_fixed_sent(sent(emu))


@pytest.mark.parametrize("model", MODELS)
def test_stream(emu: KimiEmulator, model: str) -> None:
    async def run() -> str:
        async with Agent(moonshot(emu, model)).run_stream("Hello") as streamed:
            return "".join([delta async for delta in streamed.stream_text(delta=True)])

    assert "Hello" in asyncio.run(run())
    body = sent(emu)[0]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert_nothing_fixed_sent(sent(emu))


@pytest.mark.parametrize("model", MODELS)
def test_tool_loop(emu: KimiEmulator, model: str) -> None:
    result = weather_agent(moonshot(emu, model)).run_sync("What's the weather in Paris?")
    assert "18 C" in result.output
    first, second = sent(emu)
    assert first["tool_choice"] == "auto"
    replayed = second["messages"][1]
    assert replayed["tool_calls"] and replayed["reasoning_content"]
    assert_nothing_fixed_sent(sent(emu))


@pytest.mark.parametrize("model", MODELS)
def test_streamed_tool_loop(emu: KimiEmulator, model: str) -> None:
    async def run() -> str:
        agent = weather_agent(moonshot(emu, model))
        async with agent.run_stream("What's the weather in Paris?") as streamed:
            return await streamed.get_output()

    assert "18 C" in asyncio.run(run())
    first, second = sent(emu)
    assert first["stream"] is True
    assert second["messages"][1]["reasoning_content"]


@pytest.mark.parametrize("model", MODELS)
def test_structured_output_tool(emu: KimiEmulator, model: str) -> None:
    result = Agent(moonshot(emu, model), output_type=Person).run_sync(PERSON_PROMPT)
    assert result.output == Person(name="Alice", age=30)
    body = sent(emu)[0]
    assert body["tool_choice"] == "auto"  # the Moonshot profile never sends 'required'
    assert [t["function"]["name"] for t in body["tools"]] == ["final_result"]


@pytest.mark.parametrize("model", MODELS)
def test_structured_output_prompted(emu: KimiEmulator, model: str) -> None:
    result = Agent(moonshot(emu, model), output_type=PromptedOutput(Person)).run_sync(PERSON_PROMPT)
    assert result.output == Person(name="Alice", age=30)
    assert sent(emu)[0]["response_format"] == {"type": "json_object"}


@pytest.mark.parametrize("model", MODELS)
def test_native_output_is_refused_before_sending(emu: KimiEmulator, model: str) -> None:
    # The Moonshot profile does not declare json_schema output: pydantic-ai refuses it
    # itself, although Moonshot takes a json_schema response_format.
    agent = Agent(moonshot(emu, model), output_type=NativeOutput(Person))
    with pytest.raises(UserError, match="Native structured output is not supported"):
        agent.run_sync(PERSON_PROMPT)
    assert sent(emu) == []


def test_openai_provider_forces_the_output_tool_k3_takes_it(emu: KimiEmulator) -> None:
    result = Agent(openai_compatible(emu, "kimi-k3"), output_type=Person).run_sync(PERSON_PROMPT)
    assert result.output == Person(name="Alice", age=30)
    assert sent(emu)[0]["tool_choice"] == "required"


def test_openai_provider_forces_the_output_tool_k26_refuses_it(emu: KimiEmulator) -> None:
    agent = Agent(openai_compatible(emu, "kimi-k2.6"), output_type=Person)
    with pytest.raises(ModelHTTPError) as caught:
        agent.run_sync(PERSON_PROMPT)
    assert caught.value.status_code == 400
    body: Any = caught.value.body
    assert REQUIRED_WHILE_THINKING in str(body)
    assert sent(emu)[0]["tool_choice"] == "required"
