"""Tool schemas are checked and normalised once per tool set, not once per call (counted,
never timed): a bound set by identity, a set rebuilt each turn by content; a change is
seen, and what was bound is a snapshot."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from llama_index.core.llms import ChatMessage
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel, Field

import kimi_core as kc
from kimi_core import _adapter as ka
from kimi_core import _tool_rules as _rules
from langchain_kimi import ChatKimi
from llama_index_kimi import Kimi

MOONSHOT = kc.get_provider("moonshot")
HI = [{"role": "user", "content": "hi"}]
N = 20


@pytest.fixture
def normalised(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """The schemas ``kimi_core`` normalised for tools, with the caches emptied first."""
    seen: list[Any] = []
    real = _rules.normalize_schema

    def counting(schema: Any) -> dict[str, Any]:
        seen.append(schema)
        return real(schema)

    _rules._TOOL_SETS.clear()
    monkeypatch.setattr(_rules, "normalize_schema", counting)
    yield seen
    _rules._TOOL_SETS.clear()


def wire_tools(n: int = N) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {
                "name": f"tool_{i:02d}",
                "description": f"Tool {i}.",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string", "title": "City"}},
                    "required": ["city"],
                },
            },
        }
        for i in range(n)
    ]


def build(tools: Any) -> dict[str, Any]:
    return kc.KimiClient(api_key="k").prepare(model="kimi-k2.6", messages=HI, tools=tools).body


def test_a_tool_set_is_normalised_on_its_first_request_only(normalised: list[Any]) -> None:
    tools = ka.ToolSet(wire_tools())
    first = build(tools)
    assert len(normalised) == N
    for _ in range(5):
        assert build(tools) == first
    assert len(normalised) == N
    tools.append(wire_tools(N + 1)[-1])  # the set changed: checked again
    assert len(build(tools)["tools"]) == N + 1
    assert len(normalised) == N + N + 1


def test_a_set_rebuilt_each_call_is_normalised_once_by_content(normalised: list[Any]) -> None:
    first = build(wire_tools())
    for _ in range(5):
        assert build(wire_tools()) == first  # new dicts, the same content
    assert len(normalised) == N
    changed = wire_tools()
    changed[3]["function"]["parameters"]["properties"]["city"]["description"] = "Where."
    assert build(changed)["tools"][3]["function"]["parameters"]["properties"]["city"] == {
        "type": "string",
        "title": "City",
        "description": "Where.",
    }
    assert len(normalised) == 2 * N


def test_a_refused_tool_set_is_refused_on_every_request(normalised: list[Any]) -> None:
    bad = ka.ToolSet([*wire_tools(2), wire_tools(1)[0]])  # a duplicated name
    for _ in range(2):
        with pytest.raises(kc.ConfigurationError, match="tool names must be unique"):
            build(bad)


class Args(BaseModel):
    city: str = Field(description="City name")
    days: int = Field(default=1, ge=1, le=14)


def langchain_tools() -> list[type[BaseModel]]:
    out = []
    for i in range(N):
        out.append(type(f"Tool{i:02d}", (Args,), {"__doc__": f"Tool {i}."}))
    return out


def test_chatkimi_normalises_a_bound_set_once(kimi_emulator: Any, normalised: list[Any]) -> None:
    model = ChatKimi(
        model="kimi-k2.7-code",
        api_key="k",
        provider=kimi_emulator.provider,
        base_url=kimi_emulator.base_url,
    )
    bound = model.bind_tools(langchain_tools())
    for _ in range(3):
        bound.invoke([HumanMessage("hi")])
    list(bound.stream([HumanMessage("hi")]))
    assert len(normalised) == N
    assert len(kimi_emulator.requests) == 4
    assert all(len(r.json["tools"]) == N for r in kimi_emulator.requests)


def test_chatkimi_binds_a_snapshot_of_dict_tools(kimi_emulator: Any) -> None:
    model = ChatKimi(
        model="kimi-k2.7-code",
        api_key="k",
        provider=kimi_emulator.provider,
        base_url=kimi_emulator.base_url,
    )
    mine = wire_tools(1)
    bound = model.bind_tools(mine)
    bound.invoke([HumanMessage("hi")])
    sent = copy.deepcopy(kimi_emulator.requests[-1].json["tools"])
    mine[0]["function"]["parameters"]["properties"]["city"]["type"] = "integer"
    bound.invoke([HumanMessage("hi")])
    assert kimi_emulator.requests[-1].json["tools"] == sent  # what was bound is sent
    model.bind_tools(mine).invoke([HumanMessage("hi")])  # binding again takes the change
    sent = kimi_emulator.requests[-1].json["tools"]
    assert sent[0]["function"]["parameters"]["properties"]["city"]["type"] == "integer"


def lookup(city: str, days: int = 1) -> str:
    """Look a city up."""
    return city


def test_kimi_converts_and_normalises_an_agents_tools_once(
    kimi_emulator: Any, normalised: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    tools = [
        FunctionTool.from_defaults(fn=lookup, name=f"tool_{i:02d}", description=f"Tool {i}.")
        for i in range(N)
    ]
    converted: list[str] = []
    real = type(tools[0].metadata).to_openai_tool

    def counting(self: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        converted.append(self.name)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(type(tools[0].metadata), "to_openai_tool", counting)
    llm = Kimi(
        model="kimi-k2.7-code",
        api_key="k",
        provider=kimi_emulator.provider,
        api_base=kimi_emulator.base_url,
    )
    history = [ChatMessage(role="user", content="hi")]
    for _ in range(3):  # an agent's turns: the same tools, the set rebuilt each time
        llm.chat_with_tools(tools, chat_history=list(history))
    assert len(converted) == N and len(normalised) == N
    tools[0].metadata.description = "Changed."  # what the conversion reads: a new set
    llm.chat_with_tools(tools, chat_history=list(history))
    assert kimi_emulator.requests[-1].json["tools"][0]["function"]["description"] == "Changed."
    assert len(converted) == 2 * N
