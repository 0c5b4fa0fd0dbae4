"""Request rules: turn parameters into the body the provider accepts, or fail early.

Every check here runs before anything is sent. A failure raises
:class:`~kimi_core.ConfigurationError` whose message names the parameter, the value,
what is allowed, and the model or provider the rule comes from.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ._context import RuleContext, fmt
from ._errors import ConfigurationError
from ._gateway import provider_routing_field
from ._history import Wire
from ._models import ModelInfo, get_model_info
from ._providers import ProviderProfile
from ._schema import normalize_schema
from ._thinking import ReasoningReplay, ThinkingPlan, plan_thinking

__all__ = [
    "REQUEST_PARAMS",
    "ChatRequest",
    "ToolSet",
    "build_chat_request",
]

#: The request parameters :func:`build_chat_request` validates (besides ``model``,
#: ``messages``, ``stream`` and ``extra_body``), for adapters sorting their keywords.
REQUEST_PARAMS = frozenset(
    {
        "stream_usage",
        "temperature",
        "top_p",
        "n",
        "max_tokens",
        "max_completion_tokens",
        "stop",
        "presence_penalty",
        "frequency_penalty",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "thinking",
        "reasoning_effort",
        "prompt_cache_key",
        "safety_identifier",
        "provider_routing",
    }
)

TOOL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9\-_]{2,63}$")
BUILTIN_NAME_RE = re.compile(r"^\$[a-z_]{2,63}$")
WEB_SEARCH = "$web_search"
_ROLES = frozenset({"system", "user", "assistant", "tool"})
_MEDIA_PARTS = {"image_url": "image_input", "video_url": "video_input"}


@dataclass(frozen=True)
class ChatRequest:
    """A validated chat request, ready to send, with its thinking plan."""

    body: dict[str, Any]
    model: ModelInfo
    #: What is sent and checked while the model thinks, and why (``kimi_core._thinking``).
    plan: ThinkingPlan

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))

    @property
    def thinking(self) -> bool:
        """Whether the model thinks for this request."""
        return self.plan.thinks

    @property
    def required_tool(self) -> bool | str | None:
        """A forced tool call the answer is checked for: True for "some tool", a name for
        that tool (see :attr:`ThinkingPlan.required_tool`)."""
        return self.plan.required_tool


def build_chat_request(
    profile: ProviderProfile,
    *,
    model: str,
    messages: Sequence[Mapping[str, Any]],
    stream: bool = False,
    stream_usage: bool = True,
    temperature: float | None = None,
    top_p: float | None = None,
    n: int | None = None,
    max_tokens: int | None = None,
    max_completion_tokens: int | None = None,
    stop: str | Sequence[str] | None = None,
    presence_penalty: float | None = None,
    frequency_penalty: float | None = None,
    tools: Sequence[Mapping[str, Any]] | None = None,
    tool_choice: str | Mapping[str, Any] | None = None,
    parallel_tool_calls: bool | None = None,
    response_format: Mapping[str, Any] | None = None,
    thinking: bool | Mapping[str, Any] | None = None,
    reasoning_effort: str | None = None,
    prompt_cache_key: str | None = None,
    safety_identifier: str | None = None,
    provider_routing: Mapping[str, Any] | None = None,
    extra_body: Mapping[str, Any] | None = None,
) -> ChatRequest:
    """Validate parameters against the provider's and the model's rules; build the body.

    Sampling values a model fixes are left out unless given; a given value that
    conflicts is refused. What is sent for ``thinking``, ``reasoning_effort`` and a forced
    ``tool_choice`` is the thinking plan's (:func:`kimi_core.plan_thinking`), stored on
    the request. Tool schemas and ``json_schema`` formats are normalised to Moonshot
    flavored JSON Schema.
    """
    if not isinstance(model, str) or not model.strip():
        raise ConfigurationError(
            f"model={model!r} is not a model id; pass e.g. model='kimi-k2.6'",
            param="model",
            provider=profile.name,
        )
    info = get_model_info(model)
    ctx = RuleContext(profile, info)
    body: dict[str, Any] = {"model": model}

    _types(
        ctx,
        numbers={
            "temperature": temperature,
            "top_p": top_p,
            "presence_penalty": presence_penalty,
            "frequency_penalty": frequency_penalty,
        },
        integers={"n": n, "max_tokens": max_tokens, "max_completion_tokens": max_completion_tokens},
        flags={"parallel_tool_calls": parallel_tool_calls},
    )
    tool_list = _tools(ctx, tools)
    _check_tool_choice(ctx, tool_choice, tool_list)
    plan = plan_thinking(
        profile,
        info,
        thinking=thinking,
        reasoning_effort=reasoning_effort,
        tool_choice=tool_choice if tool_list else None,
        web_search=any(t["function"].get("name") == WEB_SEARCH for t in tool_list),
        temperature=temperature,
    )
    if plan.thinking is not None:
        body["thinking"] = plan.thinking
    if plan.reasoning_effort is not None:
        body["reasoning_effort"] = plan.reasoning_effort

    _sampling(ctx, body, plan.thinks, temperature, top_p, n, presence_penalty, frequency_penalty)
    _max_tokens(ctx, body, max_tokens, max_completion_tokens)
    _stop(ctx, body, stop)
    partial = _messages(ctx, body, messages, plan.replay)
    _response_format(ctx, body, response_format, partial)

    if tool_list:
        if plan.only_tool is not None:
            tool_list = [t for t in tool_list if t["function"]["name"] == plan.only_tool]
        body["tools"] = tool_list
        if plan.tool_choice is not None:
            body["tool_choice"] = plan.tool_choice
        if parallel_tool_calls is not None:
            body["parallel_tool_calls"] = parallel_tool_calls
    elif tool_choice not in (None, "none", "auto"):
        raise ctx.error("tool_choice", tool_choice, "a forced tool_choice needs tools")
    if provider_routing is not None:  # OpenRouter's provider routing (kimi_core._gateway)
        body["provider"] = provider_routing_field(profile, provider_routing)

    for key, value in (
        ("prompt_cache_key", prompt_cache_key),
        ("safety_identifier", safety_identifier),
    ):
        if value is not None:
            if not isinstance(value, str) or not value:
                raise ctx.error(key, value, "a non-empty string")
            body[key] = value
    if stream:
        body["stream"] = True
        if stream_usage and profile.send_stream_options:
            body["stream_options"] = {"include_usage": True}
    if extra_body:
        body.update(extra_body)
    return ChatRequest(body=body, model=info, plan=plan)


def _types(
    ctx: RuleContext,
    *,
    numbers: Mapping[str, Any],
    integers: Mapping[str, Any],
    flags: Mapping[str, Any],
) -> None:
    """Type checks first, so that no rule ever meets a value of the wrong type."""
    for name, value in numbers.items():
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise ctx.error(name, value, "a finite number")
    for name, value in integers.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ctx.error(name, value, "an integer")
    for name, value in flags.items():
        if value is not None and not isinstance(value, bool):
            raise ctx.error(name, value, "a bool")


# --------------------------------------------------------------------------- tool_choice


def _check_tool_choice(
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


# --------------------------------------------------------------------------- sampling


def _sampling(
    ctx: RuleContext,
    body: dict[str, Any],
    thinking_on: bool,
    temperature: float | None,
    top_p: float | None,
    n: int | None,
    presence_penalty: float | None,
    frequency_penalty: float | None,
) -> None:
    info, profile = ctx.model, ctx.profile
    mode = "thinking enabled" if thinking_on else "thinking disabled"
    fixed_t = info.fixed_temperature.value(thinking_on) if info.fixed_temperature else None
    checks: list[tuple[str, Any, float | None, tuple[float, float] | None]] = [
        ("temperature", temperature, fixed_t, profile.temperature_range),
        ("top_p", top_p, info.fixed_top_p, profile.top_p_range),
        ("presence_penalty", presence_penalty, info.fixed_penalties, (-2.0, 2.0)),
        ("frequency_penalty", frequency_penalty, info.fixed_penalties, (-2.0, 2.0)),
    ]
    for name, value, fixed, rng in checks:
        if value is None:
            continue
        if fixed is not None:
            if not math.isclose(value, fixed, abs_tol=1e-9):
                extra = f" with {mode}" if name == "temperature" else ""
                ctx.model_rule(
                    name,
                    value,
                    f"the value is fixed{extra}: only {fmt(float(fixed))} is allowed "
                    f"(leave {name} unset and the model uses it)",
                )
        elif rng is not None and not rng[0] <= value <= rng[1]:
            raise ctx.error(name, value, f"a number from {fmt(rng[0])} to {fmt(rng[1])}")
        body[name] = value
    if n is not None:
        if info.fixed_n is not None and n != info.fixed_n:
            ctx.model_rule("n", n, f"the value is fixed: only {info.fixed_n} is allowed")
        lo, hi = profile.n_range or (1, 1_000_000)
        if not lo <= n <= hi:
            raise ctx.error("n", n, f"an integer from {lo} to {hi}")
        if (
            n > 1
            and temperature is not None
            and temperature < 0.01
            and profile.name.startswith("moonshot")
        ):
            raise ctx.error("n", n, "n must be 1 when temperature is close to 0")
        body["n"] = n


def _max_tokens(
    ctx: RuleContext,
    body: dict[str, Any],
    max_tokens: int | None,
    max_completion_tokens: int | None,
) -> None:
    if (
        max_tokens is not None
        and max_completion_tokens is not None
        and max_tokens != max_completion_tokens
    ):
        raise ctx.error(
            "max_tokens",
            max_tokens,
            f"give max_tokens or max_completion_tokens (={max_completion_tokens}), not both",
        )
    value = max_completion_tokens if max_completion_tokens is not None else max_tokens
    if value is None:
        return
    name = "max_completion_tokens" if max_completion_tokens is not None else "max_tokens"
    if value < 1:
        raise ctx.error(name, value, "a positive integer")
    if value > ctx.model.context_window:
        raise ctx.error(
            name,
            value,
            f"at most the context window, {ctx.model.context_window} tokens",
            by="model",
        )
    body[ctx.profile.max_tokens_param] = value


def _stop(ctx: RuleContext, body: dict[str, Any], stop: str | Sequence[str] | None) -> None:
    if stop is None:
        return
    stops = (
        [stop] if isinstance(stop, str) else list(stop) if isinstance(stop, (list, tuple)) else None
    )
    if stops is None or not all(isinstance(s, str) and s for s in stops):
        raise ctx.error("stop", stop, "a non-empty string or a list of non-empty strings")
    profile = ctx.profile
    if profile.max_stop is not None and len(stops) > profile.max_stop:
        raise ctx.error("stop", stops, f"at most {profile.max_stop} stop sequences")
    if profile.max_stop_bytes is not None:
        for s in stops:
            size = len(s.encode("utf-8"))
            if size > profile.max_stop_bytes:
                raise ctx.error(
                    "stop",
                    s,
                    f"each stop sequence at most {profile.max_stop_bytes} bytes "
                    f"(this one is {size})",
                )
    if stops:
        body["stop"] = stops


# --------------------------------------------------------------------------- by content

_V = TypeVar("_V")


class _ContentCache(Generic[_V]):
    """Results of a pure function of JSON data, kept by the data's JSON text.

    An agent sends the same tool set (and structured output the same schema) with every
    turn: checking and normalising it again would be most of the work of building a
    request. The key is the JSON text, so a tool set rebuilt as new dicts each turn (as
    LlamaIndex does) still hits, and a changed one misses. Bounded (least recently used
    out); data that is not JSON is computed every time. Results are shared by the
    requests that hit them: treat a request body as read-only.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, _V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, data: Any, compute: Callable[[], _V]) -> _V:
        try:
            key = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError):
            return compute()
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        value = compute()
        with self._lock:
            self._items[key] = value
            if len(self._items) > self._size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


#: Checked, normalised tool lists by the JSON text of the tools given.
_TOOL_SETS: _ContentCache[tuple[dict[str, Any], ...]] = _ContentCache(256)


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


#: Normalised ``json_schema`` response-format schemas by the JSON text of the schema.
_FORMAT_SCHEMAS: _ContentCache[dict[str, Any]] = _ContentCache(256)


# --------------------------------------------------------------------------- tools


def _tools(ctx: RuleContext, tools: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
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
        out.append({**tool, "type": kind, "function": fn})
    return tuple(out)


# --------------------------------------------------------------------------- messages


def _is_empty(content: Any) -> bool:
    if content is None:
        return True
    if isinstance(content, str):
        return not content.strip()
    if isinstance(content, list):
        return not content or all(
            isinstance(p, Mapping)
            and p.get("type") == "text"
            and not str(p.get("text") or "").strip()
            for p in content
        )
    return False


def _messages(
    ctx: RuleContext,
    body: dict[str, Any],
    messages: Sequence[Mapping[str, Any]],
    replay: ReasoningReplay,
) -> bool:
    """Check and adapt the messages; return whether the last one is a partial prefix.

    ``replay`` (the thinking plan's) says which earlier assistant messages carry their
    reasoning back: ``""`` is sent where none was produced."""
    if isinstance(messages, (str, bytes)) or not messages:
        raise ConfigurationError(
            "messages is empty: send at least one message",
            param="messages",
            provider=ctx.profile.name,
        )
    parts_ok = ctx.profile.content_parts
    out: list[dict[str, Any]] = []
    last = len(messages) - 1
    for i, msg in enumerate(messages):
        # An earlier message a HistoryCache keeps: checked once per profile, model, replay.
        kept = msg if type(msg) is Wire and i != last else None
        if kept is not None:
            checked = kept.checked_for(ctx.profile, ctx.model, replay)
            if checked is not None:
                out.append(checked)
                continue
        if type(msg) is not dict and not isinstance(msg, Mapping):
            raise ctx.error(f"messages[{i}]", msg, "a dict with 'role' and 'content'")
        role = msg.get("role")
        content = msg.get("content")
        if (
            type(content) is str
            and content
            and not content.isspace()
            and msg.get("tool_calls") is None
            and not msg.get("partial")
            and (
                role == "user"
                or role == "system"
                or (role == "tool" and msg.get("tool_call_id"))
                or (
                    role == "assistant"
                    and (replay != "all" or type(msg.get("reasoning_content")) is str)
                )
            )
        ):
            out.append(dict(msg))  # the common case: text, nothing to check or adapt
            if kept is not None:
                kept.remember(ctx.profile, ctx.model, replay, out[-1])
            continue
        if role not in _ROLES:
            raise ctx.error(f"messages[{i}].role", role, "'system', 'user', 'assistant' or 'tool'")
        m = msg
        if content is not None and not isinstance(content, (str, list)):
            raise ctx.error(
                f"messages[{i}].content", content, "a string or a list of content parts"
            )
        calls = msg.get("tool_calls")
        if calls is not None:
            _check_calls(ctx, i, role, calls)
            if any(_is_builtin(c) and c.get("type") != "builtin_function" for c in calls):
                # A builtin's call ($web_search) goes back the way Kimi sent it.
                m = {**m, "tool_calls": [_builtin_typed(c) for c in calls]}
        prefix = role == "assistant" and i == last and bool(msg.get("partial"))
        if (
            role == "assistant"
            and ((replay == "all" and not prefix) or (replay == "tool_calls" and calls))
            and not isinstance(msg.get("reasoning_content"), str)
        ):
            # Kimi: "thinking is enabled but reasoning_content is missing in assistant
            # tool call message at index N". Nothing produced -> send "".
            m = {**m, "reasoning_content": ""}
        if role == "assistant" and calls:
            if _is_empty(content) and "content" in msg:
                m = {k: v for k, v in m.items() if k != "content"}
        elif _is_empty(content) and not prefix:
            raise ctx.error(
                f"messages[{i}].content",
                content,
                f"content must not be empty (a {role} message needs text or parts)",
            )
        if role == "tool" and not msg.get("tool_call_id"):
            raise ctx.error(
                f"messages[{i}].tool_call_id",
                msg.get("tool_call_id"),
                "the id of the tool call answered",
            )
        if msg.get("partial") and (role != "assistant" or i != last):
            raise ctx.error(
                f"messages[{i}].partial",
                True,
                "only the last message, an assistant one, can be partial",
            )
        if isinstance(content, list):
            m = _parts(ctx, i, m, content, parts_ok)
        out.append(dict(m))
        if kept is not None:
            kept.remember(ctx.profile, ctx.model, replay, out[-1])
    body["messages"] = out
    return bool(messages[last].get("partial"))


def _is_builtin(call: Mapping[str, Any]) -> bool:
    return str((call.get("function") or {}).get("name", "")).startswith("$")


def _builtin_typed(call: Mapping[str, Any]) -> Mapping[str, Any]:
    return {**call, "type": "builtin_function"} if _is_builtin(call) else call


def _check_calls(ctx: RuleContext, i: int, role: Any, calls: Any) -> None:
    where = f"messages[{i}].tool_calls"
    if role != "assistant":
        raise ctx.error(where, calls, "only assistant messages carry tool_calls")
    if not isinstance(calls, list):
        raise ctx.error(where, calls, "a list of {'id', 'type': 'function', 'function': {...}}")
    for j, call in enumerate(calls):
        fn = call.get("function") if isinstance(call, Mapping) else None
        if (
            not isinstance(fn, Mapping)
            or not isinstance(call.get("id"), str)
            or not isinstance(fn.get("name"), str)
            or not isinstance(fn.get("arguments", ""), str)
        ):
            raise ctx.error(
                f"{where}[{j}]",
                call,
                "{'id': str, 'type': 'function', 'function': {'name': str, 'arguments': str}}",
            )


def _parts(
    ctx: RuleContext,
    i: int,
    msg: Mapping[str, Any],
    parts: list[Any],
    allowed: frozenset[str] | None,
) -> Mapping[str, Any]:
    for j, part in enumerate(parts):
        kind = part.get("type") if isinstance(part, Mapping) else None
        if not isinstance(kind, str):
            raise ctx.error(
                f"messages[{i}].content[{j}]", part, "a content part dict with a 'type'"
            )
        if allowed is not None and kind not in allowed:
            raise ctx.error(
                f"messages[{i}].content[{j}].type",
                kind,
                f"content parts of type {', '.join(sorted(allowed))}",
            )
        capability = _MEDIA_PARTS.get(kind)
        if capability is not None:
            if not getattr(ctx.model, capability):
                raise ctx.error(
                    f"messages[{i}].content[{j}].type",
                    kind,
                    f"this model takes no {kind.split('_')[0]} input",
                    by="model",
                )
            prefixes = ctx.profile.media_url_prefixes
            url = (part.get(kind) or {}).get("url") if isinstance(part.get(kind), Mapping) else None
            if not isinstance(url, str) or not url:
                raise ctx.error(f"messages[{i}].content[{j}].{kind}.url", url, "a URL string")
            if prefixes is not None and not url.startswith(prefixes):
                raise ctx.error(
                    f"messages[{i}].content[{j}].{kind}.url",
                    url,
                    "a base64 data URI ('data:image/png;base64,...') or an uploaded file "
                    "id ('ms://<file_id>', see KimiClient.upload_file); download the "
                    "file and send its bytes",
                )
    if allowed == frozenset({"text"}):
        # The provider takes string content only: join text parts (same meaning).
        return {**msg, "content": "".join(str(p.get("text") or "") for p in parts)}
    return msg


def _response_format(
    ctx: RuleContext, body: dict[str, Any], response_format: Mapping[str, Any] | None, partial: bool
) -> None:
    if response_format is None:
        return
    kind = response_format.get("type") if isinstance(response_format, Mapping) else None
    allowed = ctx.profile.response_formats
    if not isinstance(kind, str) or (allowed is not None and kind not in allowed):
        choices = ", ".join(sorted(allowed or {"text", "json_object", "json_schema"}))
        raise ctx.error("response_format.type", kind, f"one of {choices}")
    if kind == "json_schema":
        if not ctx.model.json_schema:
            raise ctx.error(
                "response_format.type", kind, "this model has no json_schema mode", by="model"
            )
        spec = response_format.get("json_schema")
        if not isinstance(spec, Mapping) or not isinstance(spec.get("schema"), Mapping):
            raise ctx.error(
                "response_format.json_schema",
                spec,
                "{'name': ..., 'schema': {...JSON Schema...}[, 'strict': bool]}",
            )
        schema = spec["schema"]
        normalized = _FORMAT_SCHEMAS.get(schema, lambda: normalize_schema(schema))
        response_format = {**response_format, "json_schema": {**spec, "schema": normalized}}
    if partial and kind == "json_object":
        raise ctx.error(
            "response_format.type",
            kind,
            "partial mode (a last assistant message with partial=True) "
            "cannot be combined with json_object",
        )
    body["response_format"] = dict(response_format)
