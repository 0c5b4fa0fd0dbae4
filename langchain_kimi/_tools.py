"""Tools: LangChain tool definitions as Kimi tool dicts, ``tool_choice``, ``$web_search``.

Kimi's built-in web search is declared as
``{"type": "builtin_function", "function": {"name": "$web_search"}}``. The model answers
with a ``$web_search`` tool call whose arguments must be sent back unchanged in a tool
message (the "echo turn"); Kimi then runs the search and answers. Three ways to use it:

- ``ChatKimi.bind_web_search()`` plus :func:`web_search_echo` in a small loop (see the
  ``ChatKimi`` docstring);
- :data:`WEB_SEARCH_TOOL` in ``bind_tools`` next to other tools;
- :class:`KimiWebSearch`, a LangChain tool that performs the echo, for agents
  (``create_agent(model, tools=[KimiWebSearch(), ...])``): the agent's tool node runs
  it like any other tool.
"""

from __future__ import annotations

import copy as copy_module
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass
from pydantic import Field

from kimi_core import _adapter as ka

from ._convert import WEB_SEARCH

__all__ = [
    "WEB_SEARCH_TOOL",
    "KimiWebSearch",
    "convert_tools",
    "tool_choice_to_wire",
    "web_search_echo",
]

#: Kimi's built-in web search, as a tool dict for ``bind_tools``.
WEB_SEARCH_TOOL: dict[str, Any] = ka.WEB_SEARCH_TOOL

#: LangChain's ``tool_choice`` values (a string, a bool, a tool name, a function dict) as
#: Kimi's: the mapping both adapters share (``kimi_core._tool_rules``).
tool_choice_to_wire = ka.tool_choice_to_wire

ToolLike = Mapping[str, Any] | type | Callable[..., Any] | BaseTool


class KimiWebSearch(BaseTool):
    """Kimi's built-in ``$web_search`` as a LangChain tool, for agents.

    Bound to ``ChatKimi`` it is declared as the builtin (not as a function). When the
    model calls it, running the tool returns the call's arguments as JSON, which is the
    tool result Kimi expects; Kimi then searches and answers on the next turn.
    """

    name: str = WEB_SEARCH
    description: str = "Kimi's built-in web search (runs on Kimi's side)."
    args_schema: Any = Field(
        default_factory=lambda: {"type": "object", "properties": {}, "additionalProperties": True}
    )
    """Any object: the arguments Kimi put in the call."""

    def _run(self, **kwargs: Any) -> str:
        return json.dumps(kwargs, ensure_ascii=False)

    async def _arun(self, **kwargs: Any) -> str:
        return json.dumps(kwargs, ensure_ascii=False)


def _is_web_search(tool: Any) -> bool:
    if isinstance(tool, BaseTool):
        return tool.name == WEB_SEARCH
    if isinstance(tool, Mapping):
        fn = tool.get("function")
        name = fn.get("name") if isinstance(fn, Mapping) else tool.get("name")
        return name == WEB_SEARCH
    return False


def convert_tools(
    tools: Sequence[ToolLike], *, strict: bool | None = None, copy: bool = False
) -> list[dict[str, Any]]:
    """LangChain tools, Pydantic models, functions, TypedDicts and dicts as Kimi tool dicts.

    ``$web_search`` (as :data:`WEB_SEARCH_TOOL`, :class:`KimiWebSearch` or any tool of
    that name) becomes the builtin declaration. Dicts already in the Kimi/OpenAI shape
    (``{"type": "function" | "builtin_function", "function": {...}}``) pass through;
    with ``copy`` they are copied whole (``bind_tools`` keeps a snapshot of what was bound).
    Schemas are normalised by ``kimi_core`` when the request is prepared.
    """
    out: list[dict[str, Any]] = []
    for tool in tools:
        if _is_web_search(tool):
            out.append(dict(WEB_SEARCH_TOOL))
            continue
        if (
            isinstance(tool, Mapping)
            and tool.get("type") in ("function", "builtin_function")
            and isinstance(tool.get("function"), Mapping)
        ):
            wire = (
                copy_module.deepcopy(dict(tool))
                if copy
                else {**tool, "function": dict(tool["function"])}
            )
            if strict is not None and tool.get("type") == "function":
                wire["function"]["strict"] = strict
            out.append(wire)
            continue
        converted = convert_to_openai_tool(tool, strict=strict)
        # A dict may share its schema with what it was converted from.
        out.append(
            copy_module.deepcopy(converted) if copy and isinstance(tool, Mapping) else converted
        )
    return out


def tool_names(tools: Sequence[Mapping[str, Any]]) -> list[str]:
    """The function names of wire tool dicts."""
    return [str(t["function"].get("name")) for t in tools if isinstance(t.get("function"), Mapping)]


def web_search_echo(message: AIMessage) -> list[ToolMessage]:
    """The tool messages that answer the ``$web_search`` calls of ``message``.

    Each carries the call's arguments back unchanged (as JSON), ``name="$web_search"``
    and the call id. Append ``message`` and these to the conversation and invoke again;
    repeat while the model keeps calling ``$web_search``.
    """
    return [
        ToolMessage(
            content=json.dumps(call["args"], ensure_ascii=False),
            tool_call_id=call.get("id") or "",
            name=WEB_SEARCH,
        )
        for call in message.tool_calls
        if call["name"] == WEB_SEARCH
    ]


def response_format_to_wire(
    response_format: Mapping[str, Any] | type, *, strict: bool | None = None
) -> dict[str, Any]:
    """A ``response_format`` given as a Kimi dict, a JSON schema, TypedDict or Pydantic
    model, as the wire ``json_schema`` (or json_object / text) format."""
    if isinstance(response_format, Mapping):
        kind = response_format.get("type")
        if kind in ("json_object", "text"):
            return dict(response_format)
        if kind == "json_schema" and isinstance(response_format.get("json_schema"), Mapping):
            return dict(response_format)
        if "name" in response_format and isinstance(response_format.get("schema"), Mapping):
            return {"type": "json_schema", "json_schema": dict(response_format)}
    fn = convert_to_openai_tool(response_format)["function"]
    return ka.json_schema_format(
        fn.get("parameters") or {},
        name=fn["name"],
        description=fn.get("description"),
        strict=strict,
    )


def is_pydantic_class(obj: Any) -> bool:
    """Whether ``obj`` is a Pydantic model class (v2, or v1 through ``pydantic.v1``)."""
    return isinstance(obj, type) and is_basemodel_subclass(obj)
