"""Request rules: turn parameters into the body the provider accepts, or fail early.

Every check here runs before anything is sent. A failure raises
:class:`~kimi_core.ConfigurationError` whose message names the parameter, the value,
what is allowed, and the model or provider the rule comes from.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._content_cache import ContentCache
from ._context import RuleContext, fmt
from ._errors import ConfigurationError
from ._gateway import provider_routing_field
from ._message_rules import checked_messages
from ._models import ModelInfo, get_model_info
from ._providers import ProviderProfile
from ._schema import normalize_schema
from ._thinking import ThinkingPlan, plan_thinking
from ._tool_rules import WEB_SEARCH, ToolSet, check_tool_choice, checked_tools

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
    tool_list = checked_tools(ctx, tools)
    check_tool_choice(ctx, tool_choice, tool_list)
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
    partial = checked_messages(ctx, body, messages, plan.replay)
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


#: Normalised ``json_schema`` response-format schemas by the JSON text of the schema.
_FORMAT_SCHEMAS: ContentCache[dict[str, Any]] = ContentCache(256)


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
