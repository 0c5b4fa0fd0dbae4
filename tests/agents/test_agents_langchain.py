"""LangChain and LangGraph agents finish their tasks on the emulator, nothing scripted.

``create_agent`` (plain, with ``response_format`` in each strategy), LangGraph's tool
loop (a ``StateGraph`` with ``ToolNode``, and the deprecated ``create_react_agent``),
``ChatKimi.with_structured_output`` in each method, and partial mode; each on kimi-k2.6,
kimi-k3 and kimi-k2.6 without thinking. Checked: the calls in order, the answer's facts,
and what went over the wire (reasoning sent back, the thinking field per model).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from agent_tasks import (
    ALICE,
    BERLIN_CALLS,
    EMULATOR_NOTE,
    FOLLOW_UP,
    LOOP_VARIANTS,
    PARIS_ANSWER,
    PARIS_CALLS,
    PARIS_WEATHER,
    PARTIAL_JSON,
    PARTIAL_QUESTION,
    PERSON_TEXT,
    QUESTION,
    TWO_CITIES,
    Person,
    Variant,
    Weather,
    celsius_to_fahrenheit,
    check_wire,
    get_weather,
    with_options,
)
from langchain.agents import create_agent
from langchain.agents.middleware import ModelRequest, wrap_model_call
from langchain.agents.structured_output import ProviderStrategy, ToolStrategy
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool, tool
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition

from kimi_emulator import KimiEmulator
from langchain_kimi import ChatKimi

TOOLS: list[BaseTool] = [tool(get_weather), tool(celsius_to_fahrenheit)]


def chat_model(emu: KimiEmulator, variant: Variant) -> ChatKimi:
    return ChatKimi(
        model=variant.model,
        provider=emu.provider,
        base_url=emu.base_url,
        api_key=emu.api_key,
        **variant.client_kwargs(),
    )


def turns(messages: list[AnyMessage] | list[BaseMessage]) -> list[list[tuple[str, Any]]]:
    """The tool calls of each AI turn, in order."""
    return [
        [(c["name"], c["args"]) for c in m.tool_calls]
        for m in messages
        if isinstance(m, AIMessage) and m.tool_calls
    ]


def check_thinking(messages: list[AnyMessage] | list[BaseMessage], variant: Variant) -> None:
    """A thinking model reasoned on every turn; one that does not think, on none."""
    for m in messages:
        if isinstance(m, AIMessage):
            reasoning = m.additional_kwargs.get("reasoning_content")
            assert bool(reasoning) == variant.thinks, (m, reasoning)


def final_text(messages: list[AnyMessage] | list[BaseMessage]) -> str:
    last = messages[-1]
    assert isinstance(last, AIMessage) and not last.tool_calls
    return last.text


# --------------------------------------------------------------------------- create_agent


@pytest.mark.parametrize("variant", LOOP_VARIANTS, indirect=True, ids=[v.id for v in LOOP_VARIANTS])
def test_create_agent_calls_the_tools_in_order_and_answers(
    emu: KimiEmulator, variant: Variant
) -> None:
    agent = create_agent(chat_model(emu, variant), TOOLS)
    out = agent.invoke({"messages": [HumanMessage(QUESTION)]})
    assert turns(out["messages"]) == [[PARIS_CALLS[0]], [PARIS_CALLS[1]]]
    assert [m.content for m in out["messages"] if isinstance(m, ToolMessage)] == [
        "18 C and cloudy",
        "64.4 F",
    ]
    assert final_text(out["messages"]) == f"{PARIS_ANSWER} {EMULATOR_NOTE}"
    check_thinking(out["messages"], variant)
    check_wire(emu, variant)


def test_create_agent_calls_independent_tools_together(emu: KimiEmulator, variant: Variant) -> None:
    agent = create_agent(chat_model(emu, variant), TOOLS)
    out = agent.invoke({"messages": [HumanMessage(TWO_CITIES)]})
    assert turns(out["messages"]) == [
        [("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Tokyo"})],
        [("celsius_to_fahrenheit", {"celsius": 18}), ("celsius_to_fahrenheit", {"celsius": 24})],
    ]
    answer = final_text(out["messages"])
    assert answer.startswith(
        "Paris: 18 C and cloudy, which is 64.4 F. Tokyo: 24 C and sunny, which is 75.2 F."
    )
    check_wire(emu, variant)


@wrap_model_call
def _one_call_a_turn(request: ModelRequest, handler: Any) -> Any:
    """A middleware that sends ``parallel_tool_calls=False`` (LangChain's way to set it)."""
    settings = {**request.model_settings, "parallel_tool_calls": False}
    return handler(request.override(model_settings=settings))


def test_create_agent_one_call_a_turn_without_parallel_calls(
    emu: KimiEmulator, variant: Variant
) -> None:
    agent = create_agent(chat_model(emu, variant), TOOLS, middleware=[_one_call_a_turn])
    out = agent.invoke({"messages": [HumanMessage(TWO_CITIES)]})
    assert turns(out["messages"]) == [
        [("get_weather", {"city": "Paris"})],
        [("get_weather", {"city": "Tokyo"})],
        [("celsius_to_fahrenheit", {"celsius": 18})],
        [("celsius_to_fahrenheit", {"celsius": 24})],
    ]
    assert "75.2 F" in final_text(out["messages"])
    assert all(r.json["parallel_tool_calls"] is False for r in emu.chat_requests)


def test_create_agent_follow_up_resolves_against_the_conversation(
    emu: KimiEmulator, variant: Variant
) -> None:
    agent = create_agent(chat_model(emu, variant), TOOLS)
    first = agent.invoke({"messages": [HumanMessage(QUESTION)]})
    out = agent.invoke({"messages": [*first["messages"], HumanMessage(FOLLOW_UP)]})
    later = out["messages"][len(first["messages"]) :]
    assert turns(later) == [[BERLIN_CALLS[0]], [BERLIN_CALLS[1]]]
    assert final_text(out["messages"]).startswith("Berlin: 12 C and rainy, which is 53.6 F.")
    check_thinking(out["messages"], variant)
    check_wire(emu, variant)


STRATEGIES = ["auto", "provider", "tool"]


def _response_format(strategy: str) -> Any:
    if strategy == "provider":
        return ProviderStrategy(Weather)
    if strategy == "tool":
        return ToolStrategy(Weather)
    return Weather


@pytest.mark.parametrize(("variant", "strategy"), with_options(STRATEGIES), indirect=["variant"])
def test_create_agent_with_response_format(
    emu: KimiEmulator, variant: Variant, strategy: str
) -> None:
    agent = create_agent(
        chat_model(emu, variant), TOOLS, response_format=_response_format(strategy)
    )
    out = agent.invoke({"messages": [HumanMessage(QUESTION)]})
    assert out["structured_response"] == PARIS_WEATHER
    calls = [call for turn in turns(out["messages"]) for call in turn]
    assert calls[:2] == PARIS_CALLS
    if strategy == "tool":
        # The structured answer is the last call: the Weather tool, with the results.
        assert calls[2:] == [("Weather", PARIS_WEATHER.model_dump())]
    else:
        assert len(calls) == 2
        assert json.loads(final_text(out["messages"])) == PARIS_WEATHER.model_dump()
    bodies = [r.json for r in emu.chat_requests]
    if strategy != "tool":
        # The format was asked for on every turn, the tool turns included.
        assert all(b["response_format"]["type"] == "json_schema" for b in bodies)
    check_wire(emu, variant)


# --------------------------------------------------------------------------- LangGraph


def _graph(model: ChatKimi) -> Any:
    bound = model.bind_tools(TOOLS)

    def call_model(state: MessagesState) -> dict[str, list[BaseMessage]]:
        return {"messages": [bound.invoke(state["messages"])]}

    graph = StateGraph(MessagesState)
    graph.add_node("model", call_model)
    graph.add_node("tools", ToolNode(TOOLS))
    graph.add_edge(START, "model")
    graph.add_conditional_edges("model", tools_condition, {"tools": "tools", END: END})
    graph.add_edge("tools", "model")
    return graph.compile()


@pytest.mark.parametrize("variant", LOOP_VARIANTS, indirect=True, ids=[v.id for v in LOOP_VARIANTS])
def test_langgraph_tool_loop(emu: KimiEmulator, variant: Variant) -> None:
    out = _graph(chat_model(emu, variant)).invoke({"messages": [HumanMessage(QUESTION)]})
    assert turns(out["messages"]) == [[PARIS_CALLS[0]], [PARIS_CALLS[1]]]
    assert final_text(out["messages"]) == f"{PARIS_ANSWER} {EMULATOR_NOTE}"
    check_thinking(out["messages"], variant)
    check_wire(emu, variant)


@pytest.mark.filterwarnings("ignore::langgraph.warnings.LangGraphDeprecatedSinceV10")
def test_langgraph_create_react_agent(emu: KimiEmulator, variant: Variant) -> None:
    from langgraph.prebuilt import create_react_agent

    agent = create_react_agent(chat_model(emu, variant), TOOLS)
    out = agent.invoke({"messages": [HumanMessage(QUESTION)]})
    assert turns(out["messages"]) == [[PARIS_CALLS[0]], [PARIS_CALLS[1]]]
    assert final_text(out["messages"]) == f"{PARIS_ANSWER} {EMULATOR_NOTE}"
    check_wire(emu, variant)


# --------------------------------------------------------------------------- structured output

METHODS = ["function_calling", "json_schema", "json_mode"]


@pytest.mark.parametrize(("variant", "method"), with_options(METHODS), indirect=["variant"])
def test_with_structured_output(emu: KimiEmulator, variant: Variant, method: str) -> None:
    model = chat_model(emu, variant)
    assert model.with_structured_output(Person, method=method).invoke(PERSON_TEXT) == ALICE
    out = model.with_structured_output(Person, method=method, include_raw=True).invoke(PERSON_TEXT)
    assert out["parsed"] == ALICE and out["parsing_error"] is None
    check_wire(emu, variant)


def test_partial_mode_continues_a_json_prefix(emu: KimiEmulator, variant: Variant) -> None:
    prefix = '{"city": "'
    reply = chat_model(emu, variant).invoke(
        [HumanMessage(PARTIAL_QUESTION), AIMessage(prefix, additional_kwargs={"partial": True})]
    )
    assert json.loads(prefix + reply.text) == PARTIAL_JSON
    assert emu.chat_requests[-1].json["messages"][-1] == {
        "role": "assistant",
        "content": prefix,
        "partial": True,
    }
    check_wire(emu, variant)
