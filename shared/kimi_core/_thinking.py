"""What Kimi takes while it thinks: one decision per request, stored on it.

From the model's catalogue entry, the provider and the caller's settings,
:func:`plan_thinking` decides what is sent for ``thinking``, ``reasoning_effort`` and
``tool_choice``, which earlier assistant messages carry their reasoning back, what is
checked in the answer, and why, in words. The request rules (``KimiClient.prepare``)
store the plan on the :class:`~kimi_core.ChatRequest`; the forced-call check after the answer
(:func:`check_answer`), :func:`~kimi_core.structured_output_method`, the ``$web_search``
rule and every refusal or warning text read it instead of deciding again.

The families (the rule matrix, docs/kimi-platform.md §12, has the evidence of each rule):

- kimi-k3 (and kimi-k3.1-pro): always thinks and takes no ``thinking`` field;
  ``reasoning_effort`` ``low`` / ``high`` / ``max`` is sent top level; ``tool_choice``
  ``"required"`` is sent as it is (recorded), a **named** choice goes out as
  ``"required"`` with only that tool offered (Kimi: 400 "tool_choice 'specified' is
  incompatible with thinking enabled"), and the answer is checked.
- kimi-k2.7-code(-highspeed), kimi-k2-thinking: always think; ``thinking=False`` is
  refused; a forced ``tool_choice`` goes out as ``auto`` (only the named tool, if one is
  named) and the answer is checked.
- kimi-k2.6, kimi-k2.5: a switch (``{"type": "enabled" | "disabled"}``, kimi-k2.6 also
  ``keep: "all"``); a forced ``tool_choice`` with ``thinking`` unset switches thinking
  off for the call, otherwise it goes out as ``auto`` and is checked. kimi-k2.6 takes a
  ``reasoning_effort`` alone (a live probe; warned), never with a ``thinking`` field.
- unknown ids: everything passed as given, nothing refused.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ._context import RuleContext, fmt
from ._errors import ToolCallMissingError
from ._models import ModelInfo, UnconfirmedRuleWarning
from ._providers import ProviderProfile

__all__ = [
    "ReasoningReplay",
    "ThinkingPlan",
    "check_answer",
    "is_forced_tool_choice",
    "plan_thinking",
]

ReasoningReplay = Literal["none", "tool_calls", "all"]
"""Which earlier assistant messages must carry ``reasoning_content`` back (``""`` when
none was produced): none, those with tool calls (Kimi's 400 "reasoning_content is missing
in assistant tool call message"), or every one (models that keep earlier reasoning)."""

_KEYS = frozenset({"type", "keep"})
_TYPES = ("enabled", "disabled")
_SWITCH_MODELS = "a model with a thinking switch (kimi-k2.6)"


def is_forced_tool_choice(tool_choice: Any) -> bool:
    """Whether a tool_choice forces a call ("required" or a named function)."""
    return tool_choice == "required" or isinstance(tool_choice, Mapping)


@dataclass(frozen=True)
class ThinkingPlan:
    """What a request sends and checks while the model thinks, and why."""

    #: Whether the model thinks for this request.
    thinks: bool
    #: The ``thinking`` field sent (None: no field).
    thinking: dict[str, Any] | None = None
    #: The top-level ``reasoning_effort`` sent (None: not sent).
    reasoning_effort: str | None = None
    #: The ``tool_choice`` sent (None: not sent).
    tool_choice: str | dict[str, Any] | None = None
    #: The one tool kept when a named choice goes out as ``auto`` or ``required``.
    only_tool: str | None = None
    #: What the answer is checked for: True for "some tool call", a name for a call to
    #: that tool, None for nothing.
    required_tool: bool | str | None = None
    #: Which earlier assistant messages carry their reasoning back.
    replay: ReasoningReplay = "none"
    #: Why, in words (the error and warning texts quote it).
    reason: str = ""

    @property
    def forced_sent(self) -> bool:
        """Whether a forced tool_choice goes out as such (not turned into ``auto``)."""
        return is_forced_tool_choice(self.tool_choice)


def plan_thinking(
    profile: ProviderProfile,
    model: ModelInfo,
    *,
    thinking: bool | Mapping[str, Any] | None = None,
    reasoning_effort: str | None = None,
    tool_choice: str | Mapping[str, Any] | None = None,
    web_search: bool = False,
    temperature: float | None = None,
) -> ThinkingPlan:
    """Decide what is sent for ``thinking``, ``reasoning_effort`` and ``tool_choice``.

    Raises :class:`~kimi_core.ConfigurationError` for a setting the model refuses (a
    model whose rules are unconfirmed warns instead). ``tool_choice`` must already be
    valid for the bound tools; ``web_search`` says whether ``$web_search`` is bound.
    """
    ctx = RuleContext(profile, model)
    asked, field = _thinking_field(ctx, thinking)
    if reasoning_effort is not None and field is not None and model.known:
        # Kimi: 400 "cannot specify both 'thinking' and 'reasoning_effort'" (nanobot#3939).
        raise ctx.error(
            "reasoning_effort",
            reasoning_effort,
            f"Kimi refuses it together with thinking={field!r} ('cannot specify both "
            "'thinking' and 'reasoning_effort''); set one of them",
            by="model",
        )
    effort = _reasoning_effort(ctx, reasoning_effort)
    thinks = model.thinks_by_default if asked is None else asked
    why = _why_thinks(model, asked, thinks)

    choice: str | dict[str, Any] | None = None
    only_tool: str | None = None
    required: bool | str | None = None
    if tool_choice is not None:
        choice = tool_choice if isinstance(tool_choice, str) else dict(tool_choice)
    if is_forced_tool_choice(tool_choice) and thinks:
        named = isinstance(tool_choice, Mapping)
        if model.forced_tool_choice_while_thinking and (
            not named or model.named_tool_choice_while_thinking
        ):
            required = _wanted(tool_choice)
            why += (
                ", and it takes a forced tool_choice while thinking, so it was sent as it "
                "is and the answer is checked"
            )
        elif model.forced_tool_choice_while_thinking:
            required = only_tool = str(_wanted(tool_choice))
            choice = "required"
            why += (
                ", and Kimi refuses a named tool_choice while it thinks ('tool_choice "
                "'specified' is incompatible with thinking enabled') but takes 'required', "
                f"so it was sent as 'required' with only the tool {only_tool!r} and the "
                "answer is checked"
            )
        elif _may_switch_off(model, asked, temperature) and effort is None:
            field, thinks = {"type": "disabled"}, False
            why = (
                f"Kimi refuses a forced tool_choice while {model.id} thinks, so thinking is "
                "disabled for this call (thinking was left unset)"
            )
        else:
            required = _wanted(tool_choice)
            only_tool = required if isinstance(required, str) else None
            choice = "auto"
            why = (
                f"{_why_on(model, asked, temperature, effort)} and Kimi refuses a forced "
                "tool_choice "
                "while thinking, so it was sent as 'auto'"
                + (f" with only the tool {only_tool!r}" if only_tool else "")
                + " and the answer is checked"
            )
    elif (
        web_search
        and model.thinking == "default_on"
        and thinks
        and effort is None
        and _may_switch_off(model, asked, temperature)
    ):
        field, thinks = {"type": "disabled"}, False
        why = (
            "Kimi documents $web_search with thinking disabled, so thinking is disabled "
            f"for this call on {model.id} (thinking was left unset)"
        )
    if effort is not None:
        why += f"; reasoning_effort={effort!r} is sent top level"

    return ThinkingPlan(
        thinks=thinks,
        thinking=field,
        reasoning_effort=effort,
        tool_choice=choice,
        only_tool=only_tool,
        required_tool=required,
        replay=_replay(model, thinks, field),
        reason=why,
    )


def check_answer(
    plan: ThinkingPlan,
    body: Mapping[str, Any],
    *,
    provider: str | None,
    request_id: str | None,
) -> None:
    """Raise :class:`~kimi_core.ToolCallMissingError` when the plan checks the answer
    for a tool call and a choice has none."""
    required = plan.required_tool
    if not required:
        return
    wanted = "a tool call" if required is True else f"a call to {required!r}"
    for choice in body.get("choices") or ():
        calls = (choice.get("message") or {}).get("tool_calls") or []
        names = {(c.get("function") or {}).get("name") for c in calls}
        if names and (required is True or required in names):
            continue
        raise ToolCallMissingError(
            f"tool_choice forced {wanted}, but the model answered without {wanted} "
            f"(finish_reason={choice.get('finish_reason')!r}): {plan.reason}",
            provider=provider,
            request_id=request_id,
            body=dict(body),
        )


# --------------------------------------------------------------------------- pieces


def _thinking_field(
    ctx: RuleContext, thinking: bool | Mapping[str, Any] | None
) -> tuple[bool | None, dict[str, Any] | None]:
    """``(what was asked, the thinking field to send)`` from a bool or Kimi's object."""
    model = ctx.model
    if thinking is None:
        return None, None
    if isinstance(thinking, bool):
        obj: dict[str, Any] = {"type": "enabled" if thinking else "disabled"}
        asked = thinking
    elif isinstance(thinking, Mapping):
        obj = dict(thinking)
        if not model.known:
            kind = obj.get("type")
            return (None if kind not in _TYPES else kind == "enabled"), obj
        asked = _check_object(ctx, obj)
        if "keep" in obj and obj["keep"] is None and not model.thinking_keep:
            # Moonshot's thinking guide: kimi-k2.5 has no keep ("not supported"); a null
            # keep means nothing, so it is left out rather than risked.
            del obj["keep"]
    else:
        raise ctx.error(
            "thinking",
            thinking,
            "True, False, None (the model's default) or Kimi's object "
            "{'type': 'enabled' | 'disabled'[, 'keep': 'all']}",
        )
    if not model.known:
        return asked, obj
    mode = model.thinking
    if mode == "none" and asked:
        ctx.model_rule("thinking", thinking, "this model does not think; leave thinking unset")
    elif mode == "always" and not asked:
        ctx.model_rule("thinking", thinking, _cannot_disable(model))
    elif mode in ("none", "always"):
        return asked, None  # asking for what the model does anyway: nothing to send
    return asked, obj  # a switch, or an unconfirmed refusal let through


def _check_object(ctx: RuleContext, obj: dict[str, Any]) -> bool:
    """Validate Kimi's thinking object for a catalogued model; return whether it asks
    for thinking."""
    model = ctx.model
    kind = obj.get("type")
    extra = sorted(str(k) for k in obj if k not in _KEYS)
    if extra:
        raise ctx.error(
            "thinking",
            obj,
            f"Kimi's thinking object takes 'type' and 'keep' (not {', '.join(extra)})",
            by="model",
        )
    if kind not in _TYPES:
        raise ctx.error(
            "thinking.type",
            kind,
            "'enabled' or 'disabled' (Kimi's thinking object needs it)",
            by="model",
        )
    if "keep" in obj:
        keep = obj["keep"]
        if keep is not None and keep != "all":
            raise ctx.error(
                "thinking.keep",
                keep,
                "'all' (preserved thinking: earlier turns' reasoning is kept) or None",
                by="model",
            )
        if keep is not None and kind == "disabled":
            raise ctx.error(
                "thinking.keep",
                keep,
                "keep needs thinking enabled: {'type': 'enabled', 'keep': 'all'}",
                by="model",
            )
        if keep is not None and not model.thinking_keep:
            why = (
                f"{model.id} always keeps earlier reasoning; leave thinking unset"
                if model.keeps_reasoning
                else (
                    "only kimi-k2.6 (and kimi-k2.7-code, which always keeps) take keep "
                    f"(preserved thinking); {model.id} does not"
                )
            )
            ctx.model_rule("thinking.keep", keep, why)
    return bool(kind == "enabled")


def _cannot_disable(model: ModelInfo) -> str:
    if model.reasoning_efforts:
        return (
            f"{model.id} always thinks and takes no thinking field; leave thinking unset "
            f"(to make it think less, set reasoning_effort={model.reasoning_efforts[0]!r}; "
            f"it takes {', '.join(map(repr, model.reasoning_efforts))})"
        )
    return (
        "this model always thinks and cannot disable it (Kimi: 'only type=enabled is "
        f"allowed for this model'); leave thinking unset or use {_SWITCH_MODELS}"
    )


def _reasoning_effort(ctx: RuleContext, effort: Any) -> str | None:
    model = ctx.model
    if effort is None:
        return None
    allowed = model.reasoning_efforts
    if not isinstance(effort, str) or not effort:
        names = " | ".join(map(repr, allowed or ("low", "high", "max")))
        raise ctx.error("reasoning_effort", effort, f"a string: {names}")
    if not model.known:
        return effort  # passed as given: the server decides
    if not allowed and effort in model.reported_reasoning_efforts:
        warnings.warn(
            f"reasoning_effort={effort!r} is sent to {model.id}: a live probe reports Kimi "
            "takes it (nanobot#3939), but Moonshot documents reasoning_effort only for "
            f"kimi-k3; {model.id}'s documented switch is thinking=True/False",
            UnconfirmedRuleWarning,
            stacklevel=5,
        )
        return effort
    if not allowed:
        how = (
            "it always thinks; leave reasoning_effort unset"
            if model.thinking == "always"
            else "set thinking=True or False instead"
            if model.thinking_switchable
            else "it does not think"
        )
        reported = model.reported_reasoning_efforts
        ctx.model_rule(
            "reasoning_effort",
            effort,
            f"only the kimi-k3 family takes reasoning_effort; {how}"
            + (f" (a live probe reports {', '.join(map(repr, reported))})" if reported else ""),
        )
    elif effort not in allowed:
        ctx.model_rule("reasoning_effort", effort, f"one of {', '.join(map(repr, allowed))}")
    return effort


def _may_switch_off(model: ModelInfo, asked: bool | None, temperature: Any) -> bool:
    """Whether thinking can be switched off for a call without overriding the caller:
    the model has the switch, the caller left ``thinking`` unset, and a temperature they
    set is the one the model takes with thinking off."""
    fixed_off = model.fixed_temperature.not_thinking if model.fixed_temperature else None
    return (
        model.thinking_switchable
        and asked is None
        and (
            temperature is None
            or fixed_off is None
            or abs(float(temperature) - fixed_off) <= 1e-9 * max(1.0, abs(fixed_off))
        )
    )


def _why_thinks(model: ModelInfo, asked: bool | None, thinks: bool) -> str:
    if model.thinking == "always":
        return f"{model.id} always thinks" + (
            "" if model.thinking_field else " (no thinking field)"
        )
    if model.thinking == "none":
        return f"{model.id} does not think"
    if asked is None:
        return f"{model.id} {'thinks' if thinks else 'does not think'} by default"
    return f"thinking={asked} was asked for {model.id}"


def _why_on(model: ModelInfo, asked: bool | None, temperature: Any, effort: str | None) -> str:
    """Why thinking stays on although a forced tool_choice was asked."""
    if model.thinking == "always" or not model.thinking_switchable:
        return f"{model.id} always thinks"
    if asked:
        return f"thinking=True was asked for {model.id}"
    if effort is not None:
        return (
            f"reasoning_effort={effort!r} was asked for {model.id} (Kimi refuses it together "
            "with a thinking field, so thinking cannot be switched off)"
        )
    return f"temperature={fmt(temperature)} is the value {model.id} takes only while thinking"


def _wanted(tool_choice: Any) -> bool | str:
    if isinstance(tool_choice, Mapping):
        return str(tool_choice["function"]["name"])
    return True


def _replay(model: ModelInfo, thinks: bool, field: Mapping[str, Any] | None) -> ReasoningReplay:
    if not thinks:
        return "none"
    if model.keeps_reasoning or (field is not None and field.get("keep") == "all"):
        return "all"
    return "tool_calls"
