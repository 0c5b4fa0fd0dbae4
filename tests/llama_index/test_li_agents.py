"""Agents and engines end to end: FunctionAgent (streamed and not) and ReActAgent finishing a
multi-step tool task with a thinking model, each run twice with asyncio.run; a query engine
over a SummaryIndex; a chat engine."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import pytest
from llama_index.core import Document, SummaryIndex
from llama_index.core.agent.workflow import (
    AgentStream,
    FunctionAgent,
    ReActAgent,
    ToolCall,
    ToolCallResult,
)
from llama_index.core.base.llms.types import ChatMessage, ThinkingBlock
from llama_index.core.memory import ChatMemoryBuffer
from llama_index.core.tools import FunctionTool

if TYPE_CHECKING:
    from kimi_emulator import KimiEmulator
    from llama_index_kimi import Kimi

    from .conftest import MakeLLM

# llama-index-workflows runs inspect.getmembers() over the agent (a pydantic model) to
# collect its steps, which touches pydantic's deprecated attributes: not ours to fix.
# ReActAgent asks ctx.is_running inside its step, which workflows deprecates.
pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning:inspect"),
    pytest.mark.filterwarnings("ignore:is_running called from within a step:DeprecationWarning"),
]

QUESTION = "What is the temperature in Paris in Fahrenheit?"
STEP1_REASONING = "I need the weather in Paris first."
STEP2_REASONING = "Paris has 21 C; convert it to Fahrenheit."


def make_tools(log: list[str]) -> list[FunctionTool]:
    def get_weather(city: str) -> str:
        """Get the current temperature in a city, in Celsius."""
        log.append(f"get_weather({city})")
        return f"It is 21 C in {city}."

    def celsius_to_fahrenheit(celsius: float) -> str:
        """Convert a temperature from Celsius to Fahrenheit."""
        log.append(f"celsius_to_fahrenheit({celsius:g})")
        return f"{celsius * 9 / 5 + 32:g} F"

    return [
        FunctionTool.from_defaults(get_weather),
        FunctionTool.from_defaults(celsius_to_fahrenheit),
    ]


def script_function_steps(emu: KimiEmulator) -> None:
    """Two tool-call turns with reasoning; the third turn is the emulator's own answer,
    which quotes the tool results it was sent."""
    emu.script(
        reasoning=STEP1_REASONING,
        tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}],
    )
    emu.script(
        reasoning=STEP2_REASONING,
        tool_calls=[{"name": "celsius_to_fahrenheit", "arguments": {"celsius": 21}}],
    )


def check_function_requests(requests: list[Any]) -> None:
    """What Kimi was sent: each tool-call turn with its reasoning and ids unchanged."""
    assert len(requests) == 3
    second, third = requests[1].json["messages"], requests[2].json["messages"]
    call1 = next(m for m in second if m["role"] == "assistant")
    assert call1["reasoning_content"] == STEP1_REASONING
    tool1 = next(m for m in second if m["role"] == "tool")
    assert tool1["tool_call_id"] == call1["tool_calls"][0]["id"]
    assert tool1["content"] == "It is 21 C in Paris."
    calls = [m for m in third if m["role"] == "assistant"]
    assert [m["reasoning_content"] for m in calls] == [STEP1_REASONING, STEP2_REASONING]
    assert [m["tool_calls"][0]["function"]["name"] for m in calls] == [
        "get_weather",
        "celsius_to_fahrenheit",
    ]
    assert json.loads(calls[1]["tool_calls"][0]["function"]["arguments"]) == {"celsius": 21}
    assert all("tools" in r.json for r in requests)


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "not-streaming"])
def test_function_agent_multi_step_with_thinking(
    emu: KimiEmulator, make_llm: MakeLLM, streaming: bool
) -> None:
    llm = make_llm(emu, model="kimi-k2.6")
    log: list[str] = []
    agent = FunctionAgent(tools=make_tools(log), llm=llm, streaming=streaming)

    async def run_once() -> tuple[str, list[Any]]:
        emu.reset()
        script_function_steps(emu)
        handler = agent.run(user_msg=QUESTION)
        seen: list[Any] = []
        async for event in handler.stream_events():
            if isinstance(event, (AgentStream, ToolCall, ToolCallResult)):
                seen.append(event)
        result = await handler
        return str(result), seen

    for _ in range(2):
        log.clear()
        answer, seen = asyncio.run(run_once())
        assert log == ["get_weather(Paris)", "celsius_to_fahrenheit(21)"]
        assert "69.8 F" in answer
        check_function_requests(emu.chat_requests)
        results = [e for e in seen if isinstance(e, ToolCallResult)]
        assert [r.tool_name for r in results] == ["get_weather", "celsius_to_fahrenheit"]
        assert results[0].tool_id.startswith("get_weather_")  # Moonshot 2026 ids
        if streaming:
            stream = [e for e in seen if isinstance(e, AgentStream)]
            thinking = "".join(e.thinking_delta or "" for e in stream)
            assert STEP1_REASONING in thinking
            assert STEP2_REASONING in thinking
            # FunctionAgent reads the tool calls of every chunk: they appear mid-stream
            assert any(e.tool_calls for e in stream)
            assert all(r.json.get("stream") for r in emu.chat_requests)
        else:
            assert not any(r.json.get("stream") for r in emu.chat_requests)


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "not-streaming"])
def test_react_agent_multi_step_with_thinking(
    emu: KimiEmulator, make_llm: MakeLLM, streaming: bool
) -> None:
    llm = make_llm(emu, model="kimi-k2.6")
    log: list[str] = []
    agent = ReActAgent(tools=make_tools(log), llm=llm, streaming=streaming)

    async def run_once() -> str:
        emu.reset()
        emu.script(
            reasoning=STEP1_REASONING,
            text='Thought: I need the weather first.\nAction: get_weather\nAction Input: {"city": "Paris"}',
        )
        emu.script(
            reasoning=STEP2_REASONING,
            text='Thought: Now convert it.\nAction: celsius_to_fahrenheit\nAction Input: {"celsius": 21}',
        )
        emu.script(
            reasoning="Done.",
            text="Thought: I can answer without using any more tools.\nAnswer: It is 69.8 F in Paris.",
        )
        handler = agent.run(user_msg=QUESTION)
        async for _ in handler.stream_events():
            pass
        return str(await handler)

    for _ in range(2):
        log.clear()
        answer = asyncio.run(run_once())
        assert answer == "It is 69.8 F in Paris."
        assert log == ["get_weather(Paris)", "celsius_to_fahrenheit(21)"]
        requests = emu.chat_requests
        assert len(requests) == 3
        # the observations went back to the model in the ReAct transcript
        last = json.dumps(requests[2].json["messages"])
        assert "It is 21 C in Paris." in last
        assert "69.8 F" in last


def test_query_engine_over_a_summary_index(llm: Kimi, emu: KimiEmulator) -> None:
    docs = [
        Document(text="The Eiffel Tower is 330 metres tall."),
        Document(text="It was completed in 1889 for the World's Fair."),
    ]
    index = SummaryIndex.from_documents(docs)
    response = index.as_query_engine(llm=llm).query("How tall is the Eiffel Tower?")
    assert str(response)
    sent = json.dumps(emu.last_request.json["messages"])
    assert "330 metres" in sent
    assert "How tall is the Eiffel Tower?" in sent

    streaming = index.as_query_engine(llm=llm, streaming=True).query("When was it completed?")
    text = "".join(streaming.response_gen)
    assert text
    assert emu.last_request.json["stream"] is True
    assert "1889" in json.dumps(emu.last_request.json["messages"])


async def test_query_engine_async(llm: Kimi, emu: KimiEmulator) -> None:
    index = SummaryIndex.from_documents([Document(text="Kimi is made by Moonshot AI.")])
    response = await index.as_query_engine(llm=llm).aquery("Who makes Kimi?")
    assert str(response)
    assert "Moonshot AI" in json.dumps(emu.last_request.json["messages"])


# The chat engines get a ChatMemoryBuffer: their default Memory opens an aiosqlite
# connection that LlamaIndex never closes (a ResourceWarning at exit).
def test_chat_engine_keeps_the_conversation(llm: Kimi, emu: KimiEmulator) -> None:
    index = SummaryIndex.from_documents([Document(text="The office opens at 9 am.")])
    engine = index.as_chat_engine(
        chat_mode="condense_plus_context", llm=llm, memory=ChatMemoryBuffer.from_defaults(llm=llm)
    )
    first = engine.chat("When does the office open?")
    assert str(first)
    second = engine.stream_chat("And on Sundays?")
    assert "".join(second.response_gen)
    messages = emu.last_request.json["messages"]
    roles = [m["role"] for m in messages]
    assert roles[0] == "system"
    assert "9 am" in messages[0]["content"]
    assert roles.count("user") >= 1
    assert len(emu.chat_requests) >= 2
    # the reasoning of answers never leaks into the history as text
    assert all(
        not isinstance(b, ThinkingBlock) or m.role.value == "assistant"
        for m in engine.chat_history
        for b in m.blocks
    )


def test_chat_engine_simple_history(llm: Kimi, emu: KimiEmulator) -> None:
    engine = SummaryIndex.from_documents([Document(text="x")]).as_chat_engine(
        chat_mode="simple", llm=llm, memory=ChatMemoryBuffer.from_defaults(llm=llm)
    )
    engine.chat("My name is Ada.")
    engine.chat("What is my name?")
    sent = emu.last_request.json["messages"]
    assert [m["role"] for m in sent][-3:] == ["user", "assistant", "user"]
    assert sent[-3]["content"] == "My name is Ada."
    assert isinstance(engine.chat_history[1], ChatMessage)


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "not-streaming"])
def test_function_agent_initial_tool_choice_on_kimi_k3(
    emu: KimiEmulator, make_llm: MakeLLM, streaming: bool
) -> None:
    """``initial_tool_choice`` names a tool; kimi-k3 refuses a named choice while it thinks
    (the emulator answers 400 "tool_choice 'specified' is incompatible with thinking
    enabled", docs/kimi-platform.md §12), so the first turn goes out as "required" with only
    that tool, and the agent finishes its task."""
    llm = make_llm(emu, model="kimi-k3")
    log: list[str] = []
    agent = FunctionAgent(
        tools=make_tools(log), llm=llm, streaming=streaming, initial_tool_choice="get_weather"
    )
    emu.reset()
    script_function_steps(emu)

    async def run() -> str:
        return str(await agent.run(user_msg=QUESTION))

    answer = asyncio.run(run())
    assert log == ["get_weather(Paris)", "celsius_to_fahrenheit(21)"]
    assert "69.8 F" in answer
    first, *later = (r.json for r in emu.chat_requests)
    assert first["tool_choice"] == "required"
    assert [t["function"]["name"] for t in first["tools"]] == ["get_weather"]
    assert all("tool_choice" not in body for body in later)
    assert all(len(body["tools"]) == 2 for body in later)
