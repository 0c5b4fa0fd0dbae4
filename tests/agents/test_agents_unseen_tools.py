"""The planner with tools and prompts that appear nowhere in the docs or examples:
order look-ups by email, currency and unit conversion, calendar booking, a three-step
invoice chain. Through LangChain ``create_agent``, LangGraph, LlamaIndex
``FunctionAgent`` and ``ReActAgent``; nothing scripted. Checked: each call's arguments
are values from the conversation (never the question), every plan ends, and a required
value nobody gave is asked for in text instead of invented."""

from __future__ import annotations

from typing import Any, Literal, get_type_hints

import pytest
from agent_tasks import Variant
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import BaseTool, tool
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from llama_index.core.agent.workflow import FunctionAgent, ReActAgent, ToolCallResult

from kimi_emulator import KimiEmulator
from langchain_kimi import ChatKimi
from llama_index_kimi import Kimi


def lookup_parcel_by_email(email: str) -> str:
    """Find the newest parcel number shipped to a customer email address."""
    return {"dana@example.org": "PCL-4471"}.get(email, "no parcel")


def parcel_state(parcel_number: str) -> str:
    """Tell where a parcel is, by its parcel number."""
    return {"PCL-4471": "out for delivery in Ghent"}.get(parcel_number, "unknown parcel")


def exchange_money(amount: float, from_currency: str, to_currency: str) -> str:
    """Exchange an amount of money from one currency code to another."""
    rates = {("USD", "EUR"): 0.9, ("GBP", "JPY"): 190.0}
    return f"{amount * rates.get((from_currency, to_currency), 1.0):.2f} {to_currency}"


def schedule_slot(day: str, topic: str, guest_email: str) -> str:
    """Reserve a slot in the team calendar for a day, a topic and a guest."""
    return f"reserved SLOT-{day.replace('-', '')} for {guest_email}"


def change_distance(
    value: float, from_unit: Literal["km", "mi", "m", "ft"], to_unit: Literal["km", "mi", "m", "ft"]
) -> str:
    """Change a distance from one unit to another."""
    factors = {"km": 1000.0, "mi": 1609.344, "m": 1.0, "ft": 0.3048}
    return f"{value * factors[from_unit] / factors[to_unit]:.1f} {to_unit}"


# LlamaIndex builds its schema from the annotations as they are (strings here, with
# `from __future__ import annotations`): give it the resolved ones.
change_distance.__annotations__ = get_type_hints(change_distance)


def account_of(email: str) -> str:
    """Find the account id of a customer from their email."""
    return {"ravi@example.net": "ACC-2093"}.get(email, "no account")


def last_bill(account_id: str) -> str:
    """Find the last bill id of an account id."""
    return {"ACC-2093": "BILL-58812"}.get(account_id, "no bill")


def bill_amount(bill_id: str) -> str:
    """Tell the amount due of a bill id."""
    return {"BILL-58812": "412.50 CHF due"}.get(bill_id, "no such bill")


CASES: list[tuple[str, list[Any], str, list[tuple[str, dict[str, Any]]], str]] = [
    (
        "parcel",
        [lookup_parcel_by_email, parcel_state],
        "Where is the newest parcel sent to dana@example.org right now?",
        [
            ("lookup_parcel_by_email", {"email": "dana@example.org"}),
            ("parcel_state", {"parcel_number": "PCL-4471"}),
        ],
        "out for delivery in Ghent",
    ),
    (
        "money",
        [exchange_money],
        "How much is 250 USD in EUR?",
        [("exchange_money", {"amount": 250, "from_currency": "USD", "to_currency": "EUR"})],
        "225.00 EUR",
    ),
    (
        "calendar",
        [schedule_slot],
        "Please reserve 2027-03-04 for the topic 'Budget sync' with lee@example.com.",
        [
            (
                "schedule_slot",
                {"day": "2027-03-04", "topic": "Budget sync", "guest_email": "lee@example.com"},
            )
        ],
        "SLOT-20270304",
    ),
    (
        "distance",
        [change_distance],
        "How many mi is 42 km?",
        [("change_distance", {"value": 42, "from_unit": "km", "to_unit": "mi"})],
        "26.1 mi",
    ),
    (
        "bill",
        [account_of, last_bill, bill_amount],
        "What does ravi@example.net owe on the last bill of the account?",
        [
            ("account_of", {"email": "ravi@example.net"}),
            ("last_bill", {"account_id": "ACC-2093"}),
            ("bill_amount", {"bill_id": "BILL-58812"}),
        ],
        "412.50 CHF",
    ),
]
IDS = [c[0] for c in CASES]

# As in test_agents_llama_index.py: llama-index-workflows touches pydantic's deprecated
# attributes through inspect, and ReActAgent asks ctx.is_running inside its step.
pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning:inspect"),
    pytest.mark.filterwarnings("ignore:is_running called from within a step:DeprecationWarning"),
]


def _chat(emu: KimiEmulator, variant: Variant) -> ChatKimi:
    return ChatKimi(
        model=variant.model,
        provider=emu.provider,
        base_url=emu.base_url,
        api_key=emu.api_key,
        **variant.client_kwargs(),
    )


def _calls_of(messages: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (call["name"], call["args"])
        for m in messages
        if isinstance(m, AIMessage)
        for call in m.tool_calls
    ]


@pytest.mark.parametrize(("name", "fns", "question", "calls", "fact"), CASES, ids=IDS)
def test_create_agent(
    emu: KimiEmulator,
    variant: Variant,
    name: str,
    fns: list[Any],
    question: str,
    calls: list[tuple[str, dict[str, Any]]],
    fact: str,
) -> None:
    agent = create_agent(_chat(emu, variant), [tool(f) for f in fns])
    out = agent.invoke({"messages": [("human", question)]})
    assert _calls_of(out["messages"]) == calls
    assert fact in out["messages"][-1].content
    results = [m.content for m in out["messages"] if isinstance(m, ToolMessage)]
    assert question not in " ".join(results)


@pytest.mark.parametrize(("name", "fns", "question", "calls", "fact"), CASES[::4], ids=IDS[::4])
def test_langgraph_tool_loop(
    emu: KimiEmulator,
    variant: Variant,
    name: str,
    fns: list[Any],
    question: str,
    calls: list[tuple[str, dict[str, Any]]],
    fact: str,
) -> None:
    tools: list[BaseTool] = [tool(f) for f in fns]
    model = _chat(emu, variant).bind_tools(tools)

    def call_model(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    graph = StateGraph(MessagesState)
    graph.add_node("model", call_model)
    graph.add_node("tools", ToolNode(tools))
    graph.add_edge(START, "model")
    graph.add_conditional_edges("model", tools_condition)
    graph.add_edge("tools", "model")
    out = graph.compile().invoke({"messages": [("human", question)]}, {"recursion_limit": 20})
    assert _calls_of(out["messages"]) == calls
    assert fact in out["messages"][-1].content


def _numbers_as_floats(args: dict[str, Any]) -> dict[str, Any]:
    """LlamaIndex hands a float parameter the JSON number as it came (42 or 42.0)."""
    return {k: float(v) if isinstance(v, int) else v for k, v in args.items()}


async def _run(agent: Any, question: str) -> tuple[list[tuple[str, dict[str, Any]]], str]:
    handler = agent.run(user_msg=question)
    calls: list[tuple[str, dict[str, Any]]] = []
    async for event in handler.stream_events():
        if isinstance(event, ToolCallResult):
            calls.append((event.tool_name, dict(event.tool_kwargs)))
    output = await handler
    return calls, str(output.response.content)


@pytest.mark.parametrize("kind", ["FunctionAgent", "ReActAgent"])
@pytest.mark.parametrize(("name", "fns", "question", "calls", "fact"), CASES, ids=IDS)
async def test_llama_index_agents(
    emu: KimiEmulator,
    variant: Variant,
    kind: str,
    name: str,
    fns: list[Any],
    question: str,
    calls: list[tuple[str, dict[str, Any]]],
    fact: str,
) -> None:
    llm = Kimi(
        model=variant.model,
        provider=emu.provider,
        api_base=emu.base_url,
        api_key=emu.api_key,
        **variant.client_kwargs(),
    )
    agent_type = FunctionAgent if kind == "FunctionAgent" else ReActAgent
    made, answer = await _run(agent_type(tools=fns, llm=llm), question)
    assert [
        (n, {k: (float(v) if k == "amount" else v) for k, v in a.items()}) for n, a in made
    ] == [(n, {k: (float(v) if k == "amount" else v) for k, v in a.items()}) for n, a in calls]
    assert fact in answer


def test_a_required_value_nobody_gave_is_asked_for(emu: KimiEmulator, variant: Variant) -> None:
    agent = create_agent(_chat(emu, variant), [tool(parcel_state)])
    out = agent.invoke({"messages": [("human", "Where is my parcel?")]})
    assert _calls_of(out["messages"]) == []  # no placeholder, no question as the value
    assert "parcel_number" in out["messages"][-1].content


def add_points(a: float, b: float) -> str:
    """Add two scores."""
    return str(a + b)


def scale_points(value: float, factor: float) -> str:
    """Scale a score by a factor."""
    return str(value * factor)


def shift_points(value: float, offset: float) -> str:
    """Shift a score by an offset."""
    return str(value - offset)


async def test_number_passing_tools_end_within_the_bound(
    emu: KimiEmulator, variant: Variant
) -> None:
    llm = Kimi(
        model=variant.model,
        provider=emu.provider,
        api_base=emu.base_url,
        api_key=emu.api_key,
        **variant.client_kwargs(),
    )
    agent = FunctionAgent(tools=[add_points, scale_points, shift_points], llm=llm)
    made, answer = await _run(agent, "Add the scores 12 and 30, scale by 3, shift by 7.")
    keys = [(n, tuple(sorted(a.items()))) for n, a in made]
    assert len(keys) == len(set(keys))  # one call per tool per distinct arguments
    assert len({n for n, _ in made}) <= 3 and len(made) <= 6  # within the bound
    assert answer
