"""Request rules: turn parameters into the body the provider accepts, or fail early.

Every check here runs before anything is sent. A failure raises
:class:`~kimi_core.ConfigurationError` whose message names the parameter, the value,
what is allowed, and the model or provider the rule comes from.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._errors import ConfigurationError
from ._models import ModelInfo, UnconfirmedRuleWarning, get_model_info
from ._providers import ProviderProfile
from ._schema import normalize_schema

__all__ = [
    "REQUEST_PARAMS",
    "ChatRequest",
    "build_chat_request",
    "is_forced_tool_choice",
    "may_disable_thinking",
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
        "prompt_cache_key",
        "safety_identifier",
    }
)

TOOL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9\-_]{2,63}$")
BUILTIN_NAME_RE = re.compile(r"^\$[a-z_]{2,63}$")
WEB_SEARCH = "$web_search"
_ROLES = frozenset({"system", "user", "assistant", "tool"})
_MEDIA_PARTS = {"image_url": "image_input", "video_url": "video_input"}


@dataclass(frozen=True)
class ChatRequest:
    """A validated chat request, ready to send."""

    body: dict[str, Any]
    model: ModelInfo
    #: Whether the model thinks for this request.
    thinking: bool
    #: A forced tool choice the API cannot take while thinking, sent as ``auto``: True for
    #: "some tool", a name for that tool. The response is checked for the call.
    required_tool: bool | str | None = None

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))


def _fmt(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    return repr(value)


class _Ctx:
    """Who a rule comes from, for the error messages."""

    def __init__(self, profile: ProviderProfile, model: ModelInfo) -> None:
        self.profile = profile
        self.model = model

    def error(
        self, param: str, value: Any, allowed: str, *, by: str = "provider"
    ) -> ConfigurationError:
        who = (
            f"model {self.model.id!r}"
            if by == "model"
            else f"provider {self.profile.name!r} ({self.profile.label})"
        )
        shown = (
            _fmt(value)
            if not isinstance(value, str) or len(value) < 80
            else repr(value[:77] + "...")
        )
        return ConfigurationError(
            f"{param}={shown} is not accepted by {who}: {allowed}",
            param=param,
            provider=self.profile.name,
            model=self.model.id,
        )

    def model_rule(self, param: str, value: Any, allowed: str) -> None:
        """A model rule was broken: refuse, or for a model whose rules are unconfirmed,
        warn and let the value through (the server decides)."""
        err = self.error(param, value, allowed, by="model")
        if self.model.confirmed:
            raise err
        warnings.warn(
            f"{err} (this rule of {self.model.id} is unconfirmed: sent anyway)",
            UnconfirmedRuleWarning,
            stacklevel=4,
        )


def is_forced_tool_choice(tool_choice: Any) -> bool:
    """Whether a tool_choice forces a call ("required" or a named function)."""
    return tool_choice == "required" or isinstance(tool_choice, Mapping)


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
    thinking: bool | None = None,
    prompt_cache_key: str | None = None,
    safety_identifier: str | None = None,
    extra_body: Mapping[str, Any] | None = None,
) -> ChatRequest:
    """Validate parameters against the provider's and the model's rules; build the body.

    Sampling values a model fixes are left out unless given; a given value that
    conflicts is refused. A forced ``tool_choice`` while thinking is turned into what the
    API accepts (see :func:`_tool_choice`). Tool schemas and ``json_schema`` formats are
    normalised to Moonshot flavored JSON Schema.
    """
    if not isinstance(model, str) or not model.strip():
        raise ConfigurationError(
            f"model={model!r} is not a model id; pass e.g. model='kimi-k2.6'",
            param="model",
            provider=profile.name,
        )
    info = get_model_info(model)
    ctx = _Ctx(profile, info)
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
        flags={"thinking": thinking, "parallel_tool_calls": parallel_tool_calls},
    )
    tool_list = _tools(ctx, tools)
    choice, thinking_sent, required_tool, tool_list = _tool_choice(
        ctx, tool_choice, tool_list, thinking, temperature
    )
    if (
        thinking_sent is None
        and info.thinking == "default_on"
        and any(t["function"].get("name") == WEB_SEARCH for t in tool_list)
        and may_disable_thinking(info, None, temperature)
    ):
        # Kimi documents $web_search with thinking disabled (facts §4).
        thinking_sent = False
    thinking_on = info.thinking_enabled(thinking_sent)
    if thinking_sent is not None:
        _thinking_switch(ctx, thinking_sent, body)

    _sampling(ctx, body, thinking_on, temperature, top_p, n, presence_penalty, frequency_penalty)
    _max_tokens(ctx, body, max_tokens, max_completion_tokens)
    _stop(ctx, body, stop)
    partial = _messages(ctx, body, messages, thinking_on)
    _response_format(ctx, body, response_format, partial)

    if tool_list:
        body["tools"] = tool_list
        if choice is not None:
            body["tool_choice"] = choice
        if parallel_tool_calls is not None:
            body["parallel_tool_calls"] = parallel_tool_calls
    elif tool_choice not in (None, "none", "auto"):
        raise ctx.error("tool_choice", tool_choice, "a forced tool_choice needs tools")

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
    return ChatRequest(body=body, model=info, thinking=thinking_on, required_tool=required_tool)


def _types(
    ctx: _Ctx,
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
            allowed = (
                "True, False or None (the model's default)" if name == "thinking" else "a bool"
            )
            raise ctx.error(name, value, allowed)


# --------------------------------------------------------------------------- thinking


def _thinking_switch(ctx: _Ctx, thinking: bool, body: dict[str, Any]) -> None:
    mode = ctx.model.thinking
    if mode == "none" and thinking:
        ctx.model_rule("thinking", True, "this model does not think; leave thinking unset")
    elif mode == "always" and not thinking:
        ctx.model_rule(
            "thinking",
            False,
            "this model always thinks and cannot disable it; leave thinking unset "
            "or use a model with a thinking switch (kimi-k2.6, kimi-k2.5)",
        )
    elif mode in ("none", "always"):
        return  # asking for what the model does anyway: nothing to send
    body["thinking"] = {"type": "enabled" if thinking else "disabled"}


def _tool_choice(
    ctx: _Ctx,
    tool_choice: str | Mapping[str, Any] | None,
    tools: list[dict[str, Any]],
    thinking: bool | None,
    temperature: float | None,
) -> tuple[Any, bool | None, bool | str | None, list[dict[str, Any]]]:
    """Resolve tool_choice against thinking.

    Returns ``(tool_choice to send, thinking to send, required_tool, tools)``.

    Kimi refuses ``required`` or a named function while thinking. When the caller forces
    a call on a thinking model: if the model has a thinking switch and the caller did not
    ask for thinking explicitly, thinking is disabled for this call; otherwise the choice
    is sent as ``auto`` (with only the named tool, when one is named) and the response is
    checked for the call (``required_tool``).
    """
    if tool_choice is None:
        return None, thinking, None, tools
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

    info = ctx.model
    if not is_forced_tool_choice(tool_choice) or not info.thinking_enabled(thinking):
        return tool_choice, thinking, None, tools
    if info.forced_tool_choice_while_thinking:
        return tool_choice, thinking, None, tools
    if may_disable_thinking(info, thinking, temperature):
        return tool_choice, False, None, tools
    if isinstance(tool_choice, Mapping):
        name = tool_choice["function"]["name"]
        return "auto", thinking, name, [t for t in tools if t["function"]["name"] == name]
    return "auto", thinking, True, tools


def may_disable_thinking(info: ModelInfo, thinking: bool | None, temperature: Any) -> bool:
    """Whether thinking can be switched off for a call without overriding the caller:
    the model has the switch, the caller left ``thinking`` unset, and a temperature they
    set is the one the model takes with thinking off."""
    fixed_off = info.fixed_temperature[1] if info.fixed_temperature else None
    return (
        info.thinking_switchable
        and thinking is None
        and (temperature is None or fixed_off is None or math.isclose(temperature, fixed_off))
    )


# --------------------------------------------------------------------------- sampling


def _sampling(
    ctx: _Ctx,
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
    fixed_t = None
    if info.fixed_temperature is not None:
        fixed_t = info.fixed_temperature[0 if thinking_on else 1]
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
                    f"the value is fixed{extra}: only {_fmt(float(fixed))} is allowed "
                    f"(leave {name} unset and the model uses it)",
                )
        elif rng is not None and not rng[0] <= value <= rng[1]:
            raise ctx.error(name, value, f"a number from {_fmt(rng[0])} to {_fmt(rng[1])}")
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
    ctx: _Ctx, body: dict[str, Any], max_tokens: int | None, max_completion_tokens: int | None
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


def _stop(ctx: _Ctx, body: dict[str, Any], stop: str | Sequence[str] | None) -> None:
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


# --------------------------------------------------------------------------- tools


def _tools(ctx: _Ctx, tools: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
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
        else:
            raise ctx.error(f"tools[{i}].type", kind, "'function' or 'builtin_function'")
        if name in seen:
            raise ctx.error(
                f"tools[{i}].function.name", name, "tool names must be unique (duplicated)"
            )
        seen.add(name)
        out.append({**tool, "type": kind, "function": fn})
    return out


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
    ctx: _Ctx, body: dict[str, Any], messages: Sequence[Mapping[str, Any]], thinking_on: bool
) -> bool:
    """Check and adapt the messages; return whether the last one is a partial prefix."""
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
        if not isinstance(msg, Mapping):
            raise ctx.error(f"messages[{i}]", msg, "a dict with 'role' and 'content'")
        role = msg.get("role")
        if role not in _ROLES:
            raise ctx.error(f"messages[{i}].role", role, "'system', 'user', 'assistant' or 'tool'")
        m = msg
        content = msg.get("content")
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
        if role == "assistant" and calls:
            if _is_empty(content) and "content" in msg:
                m = {k: v for k, v in msg.items() if k != "content"}
            if thinking_on and not isinstance(msg.get("reasoning_content"), str):
                # Kimi: "thinking is enabled but reasoning_content is missing in assistant
                # tool call message at index N". Nothing produced -> send "".
                m = {**m, "reasoning_content": ""}
        elif _is_empty(content) and not (role == "assistant" and i == last and msg.get("partial")):
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
    body["messages"] = out
    return bool(messages[last].get("partial"))


def _is_builtin(call: Mapping[str, Any]) -> bool:
    return str((call.get("function") or {}).get("name", "")).startswith("$")


def _builtin_typed(call: Mapping[str, Any]) -> Mapping[str, Any]:
    return {**call, "type": "builtin_function"} if _is_builtin(call) else call


def _check_calls(ctx: _Ctx, i: int, role: Any, calls: Any) -> None:
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
    ctx: _Ctx,
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
    ctx: _Ctx, body: dict[str, Any], response_format: Mapping[str, Any] | None, partial: bool
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
        response_format = {
            **response_format,
            "json_schema": {**spec, "schema": normalize_schema(spec["schema"])},
        }
    if partial and kind == "json_object":
        raise ctx.error(
            "response_format.type",
            kind,
            "partial mode (a last assistant message with partial=True) "
            "cannot be combined with json_object",
        )
    body["response_format"] = dict(response_format)
