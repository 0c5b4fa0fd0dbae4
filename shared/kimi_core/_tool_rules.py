"""Tool rules: the tools a request binds, builtin tools (``$web_search``), tool calls
sent back, and ``tool_choice`` (what each framework's forms of it mean on the wire).

The one home of these rules for the core and both adapters; what is sent for a forced
``tool_choice`` while the model thinks is the thinking plan's (``kimi_core._thinking``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ._body import Encoded
from ._content_cache import ContentCache
from ._context import RuleContext
from ._errors import ConfigurationError
from ._schema import normalize_schema

__all__ = [
    "BUILTIN_NAME_RE",
    "TOOL_NAME_RE",
    "WEB_SEARCH",
    "WEB_SEARCH_TOOL",
    "ToolSet",
    "builtin_typed",
    "check_tool_choice",
    "checked_tools",
    "is_builtin",
    "tool_call",
    "tool_choice_to_wire",
]

TOOL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9\-_]{2,63}$")
BUILTIN_NAME_RE = re.compile(r"^\$[a-z_]{2,63}$")
#: The name of Kimi's built-in web search tool.
WEB_SEARCH = "$web_search"
#: Kimi's built-in web search as a tool declaration (copy it before changing it).
WEB_SEARCH_TOOL: dict[str, Any] = {"type": "builtin_function", "function": {"name": WEB_SEARCH}}


# --------------------------------------------------------------------------- builtins


def is_builtin(name: Any) -> bool:
    """Whether a tool (call) name is one of Kimi's builtins (``$``-prefixed)."""
    return isinstance(name, str) and name.startswith("$")


def tool_call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    """A tool call as sent back in an assistant message: a builtin's (``$web_search``) as
    ``builtin_function``, the way Kimi sent it, any other as ``function``."""
    return {
        "id": call_id,
        "type": "builtin_function" if is_builtin(name) else "function",
        "function": {"name": name, "arguments": arguments},
    }


def builtin_typed(call: Mapping[str, Any]) -> Mapping[str, Any]:
    """``call`` typed ``builtin_function`` when it calls a builtin."""
    if is_builtin((call.get("function") or {}).get("name")):
        return {**call, "type": "builtin_function"}
    return call


# --------------------------------------------------------------------------- tool_choice


def tool_choice_to_wire(
    tool_choice: str | bool | Mapping[str, Any] | None,
    names: Sequence[str] | None = None,
    *,
    required: bool = False,
) -> str | dict[str, Any] | None:
    """A framework's ``tool_choice`` as Kimi's (both adapters map theirs here).

    ``"auto"`` and ``"none"`` as is; ``"required"``, ``"any"`` and ``True`` as
    ``"required"``; the name of a bound tool (one of ``names``), ``{"name": ...}`` or the
    OpenAI function dict as ``{"type": "function", "function": {"name": ...}}``; ``None``
    and ``False`` as no choice, or ``"required"`` when ``required`` (LlamaIndex's
    ``tool_required``). Without ``names`` (the tools are not known yet) any other string
    is taken as a tool name, which ``build_chat_request`` checks against the bound tools.
    """
    if tool_choice is None or tool_choice is False:
        return "required" if required else None
    if tool_choice is True:
        return "required"
    if isinstance(tool_choice, str):
        if tool_choice in ("auto", "none", "required"):
            return tool_choice
        if tool_choice == "any":
            return "required"
        if names is None or tool_choice in names:
            return {"type": "function", "function": {"name": tool_choice}}
        bound = ", ".join(repr(n) for n in names) or "no tools bound"
        raise ConfigurationError(
            f"tool_choice={tool_choice!r} is not accepted: 'auto', 'none', 'required' "
            f"(or 'any' / True), or the name of a bound tool ({bound})",
            param="tool_choice",
        )
    if isinstance(tool_choice, Mapping):
        fn = tool_choice.get("function")
        name = fn.get("name") if isinstance(fn, Mapping) else tool_choice.get("name")
        if isinstance(name, str):
            # build_chat_request checks that the name is one of the bound tools.
            return {"type": "function", "function": {"name": name}}
    raise ConfigurationError(
        f"tool_choice={tool_choice!r} is not accepted: a string, a bool, or "
        "{'type': 'function', 'function': {'name': ...}}",
        param="tool_choice",
    )


def check_tool_choice(
    ctx: RuleContext, tool_choice: str | Mapping[str, Any] | None, tools: list[dict[str, Any]]
) -> None:
    """A tool_choice is a known string or names a bound tool (what is sent for it while
    the model thinks is the thinking plan's)."""
    if tool_choice is None:
        return
    if isinstance(tool_choice, str):
        if tool_choice not in ("auto", "none", "required"):
            raise ctx.error(
                "tool_choice",
                tool_choice,
                "'auto', 'none', 'required' or {'type': 'function', 'function': {'name': ...}}",
            )
    elif isinstance(tool_choice, Mapping):
        name = (tool_choice.get("function") or {}).get("name")
        if not isinstance(name, str) or name not in {t["function"]["name"] for t in tools}:
            names = ", ".join(repr(t["function"]["name"]) for t in tools) or "no tools bound"
            raise ctx.error("tool_choice", dict(tool_choice), f"name one of the tools: {names}")
    else:
        raise ctx.error("tool_choice", tool_choice, "a string or a function dict")


# --------------------------------------------------------------------------- tool sets

#: Checked, normalised tool lists by the JSON text of the tools given.
_TOOL_SETS: ContentCache[tuple[dict[str, Any], ...]] = ContentCache(256)


class ToolSet(list[dict[str, Any]]):
    """A tool set an adapter owns and sends with every call (a bound tool set): checked
    and normalised on the first request that sends it (a refusal is that request's), then
    reused as is, without even reading its JSON text again.

    It is a list of the tool dicts as given. The adapter that makes one keeps its dicts to
    itself (copies of what the user bound); if the list itself is changed, the next
    request checks it again.
    """

    __slots__ = ("_checked", "_ids")

    def __init__(self, tools: Iterable[Mapping[str, Any]] = ()) -> None:
        super().__init__(dict(t) if not isinstance(t, dict) else t for t in tools)
        self._checked: tuple[dict[str, Any], ...] | None = None
        self._ids: tuple[int, ...] = ()

    def checked(self) -> tuple[dict[str, Any], ...] | None:
        """The tools as sent, if this set (unchanged since) was checked."""
        if self._checked is not None and self._ids == tuple(map(id, self)):
            return self._checked
        return None

    def remember(self, checked: tuple[dict[str, Any], ...]) -> None:
        self._checked, self._ids = checked, tuple(map(id, self))


def checked_tools(
    ctx: RuleContext, tools: Sequence[Mapping[str, Any]] | None
) -> list[dict[str, Any]]:
    """The tools as sent: checked, builtins typed, parameter schemas normalised (once per
    tool set: by identity for a :class:`ToolSet`, else by content, :data:`_TOOL_SETS`)."""
    if tools is None or (isinstance(tools, (list, tuple)) and not tools):
        return []
    if not isinstance(tools, (list, tuple)):
        raise ctx.error("tools", tools, "a list of tool dicts")
    profile = ctx.profile
    if not ctx.model.tools:
        raise ctx.error(
            "tools", f"{len(tools)} tools", "this model does not call tools", by="model"
        )
    if profile.max_tools is not None and len(tools) > profile.max_tools:
        raise ctx.error("tools", f"{len(tools)} tools", f"at most {profile.max_tools} tools")
    if isinstance(tools, ToolSet):
        checked = tools.checked()
        if checked is None:
            checked = _TOOL_SETS.get(tools, lambda: _checked_tools(ctx, tools))
            tools.remember(checked)
        return list(checked)
    return list(_TOOL_SETS.get(tools, lambda: _checked_tools(ctx, tools)))


def _checked_tools(
    ctx: RuleContext, tools: Sequence[Mapping[str, Any]]
) -> tuple[dict[str, Any], ...]:
    """Each tool checked (the checks depend on the tools only), its schema normalised."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, tool in enumerate(tools):
        if not isinstance(tool, Mapping) or not isinstance(tool.get("function"), Mapping):
            raise ctx.error(
                f"tools[{i}]",
                tool,
                "{'type': 'function', 'function': {'name', 'description', 'parameters'}}",
            )
        kind = tool.get("type", "function")
        fn = dict(tool["function"])
        name = fn.get("name")
        if kind == "builtin_function":
            if not isinstance(name, str) or not BUILTIN_NAME_RE.match(name):
                raise ctx.error(
                    f"tools[{i}].function.name", name, "a builtin such as '$web_search'"
                )
        elif kind == "function":
            if not isinstance(name, str) or not TOOL_NAME_RE.match(name):
                raise ctx.error(
                    f"tools[{i}].function.name",
                    name,
                    "3 to 64 characters matching ^[a-zA-Z_][a-zA-Z0-9-_]{2,63}$",
                )
            params = fn.get("parameters")
            if params is not None and not isinstance(params, Mapping):
                raise ctx.error(f"tools[{i}].function.parameters", params, "a JSON Schema object")
            fn["parameters"] = normalize_schema(params or {})
            if fn["parameters"].get("type") != "object":
                # Kimi: 400 'Invalid request: tools.function.parameters.type is required and
                # must be "object"' (docs/kimi-platform.md §12, Hmbown/Codewhale#3265).
                raise ctx.error(
                    f"tools[{i}].function.parameters",
                    params,
                    "a JSON Schema whose root is {'type': 'object', 'properties': {...}} "
                    "(Kimi: 'tools.function.parameters.type is required and must be "
                    '"object"\'); wrap other values in an object property',
                )
        else:
            raise ctx.error(f"tools[{i}].type", kind, "'function' or 'builtin_function'")
        if name in seen:
            raise ctx.error(
                f"tools[{i}].function.name", name, "tool names must be unique (duplicated)"
            )
        seen.add(name)
        out.append(Encoded({**tool, "type": kind, "function": fn}))
    return tuple(out)
