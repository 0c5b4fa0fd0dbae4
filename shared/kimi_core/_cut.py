"""Answers cut by the output budget while the model was still reasoning.

Reasoning and the answer share one output budget (``max_tokens`` /
``max_completion_tokens``): a thinking model that spends all of it on reasoning stops with
``finish_reason: "length"``, no content and no tool call (the recorded api.moonshot.ai
answer ``tests/recordings/moonshotai-max-completion-tokens.json``: kimi-k3, 8 tokens, all
reasoning). Returned as it is, that is an empty string, and a structured-output parser then
fails on ``''`` with a message that points at the JSON instead of at the budget.

So the answer is checked once, here, for both adapters: a plain call warns
(:class:`ReasoningCutWarning`), a call that needs the answer (structured output through
``response_format``, a forced tool call) raises :class:`ReasoningCutError`, with what was
received in ``.partial``. Both say what happened and what to change: the budget sent (or
that none was, and the provider's default), ``reasoning_effort`` where the model takes it,
the thinking switch where it has one.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._errors import KimiError

if TYPE_CHECKING:
    from ._providers import ProviderProfile
    from ._rules import ChatRequest

__all__ = ["ReasoningCutError", "ReasoningCutWarning", "check_cut"]


class ReasoningCutError(KimiError):
    """The output budget ran out while the model was still reasoning, and the call needs
    an answer (structured output, a forced tool call). ``partial`` holds what arrived (a
    completion dict: the reasoning, the usage)."""

    def __init__(self, message: str, *, partial: Any = None, **kwargs: Any) -> None:
        self.partial = partial
        super().__init__(message, **kwargs)


class ReasoningCutWarning(UserWarning):
    """A plain call's answer was cut while the model was still reasoning: no content."""


def _cut_choice(body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The first choice that ended on the budget with reasoning and nothing else."""
    for choice in body.get("choices") or ():
        if not isinstance(choice, Mapping) or choice.get("finish_reason") != "length":
            continue
        message = choice.get("message") or {}
        if not isinstance(message, Mapping):
            continue
        content = message.get("content")
        if (isinstance(content, str) and content.strip()) or message.get("tool_calls"):
            continue
        if any(
            isinstance(message.get(k), str) and message.get(k) for k in _REASONING_FIELDS
        ) or message.get("reasoning_details"):
            return choice
    return None


_REASONING_FIELDS = ("reasoning_content", "reasoning")


def _needs_answer(body: Mapping[str, Any], required_tool: bool | str | None) -> str | None:
    """What in the request needs an answer, in words (None for a plain call)."""
    fmt = body.get("response_format")
    if isinstance(fmt, Mapping) and fmt.get("type") in ("json_schema", "json_object"):
        return f"structured output (response_format {fmt.get('type')})"
    choice = body.get("tool_choice")
    if required_tool or choice == "required" or isinstance(choice, Mapping):
        return "a forced tool call"
    return None


def cut_message(
    request: ChatRequest, profile: ProviderProfile, body: Mapping[str, Any]
) -> str | None:
    """What happened and what to change, when ``body`` answers ``request`` with an answer
    cut while reasoning; else None."""
    choice = _cut_choice(body)
    if choice is None:
        return None
    message = choice.get("message") or {}
    reasoning = next((message[k] for k in _REASONING_FIELDS if message.get(k)), "")
    usage = body.get("usage") if isinstance(body.get("usage"), Mapping) else {}
    out = usage.get("completion_tokens") if isinstance(usage, Mapping) else None
    spent = f"{out} output tokens" if isinstance(out, int) else "the output budget"
    sent = request.body
    param = next((p for p in ("max_completion_tokens", "max_tokens") if p in sent), None)
    if param is not None:
        budget = f"the request set {param}={sent[param]!r}"
        fixes = [f"raise max_tokens (sent as {param}; now {sent[param]!r})"]
    else:
        budget = (
            f"the request set no output limit, so {profile.name}'s default applied "
            f"({profile.default_output_budget})"
        )
        fixes = ["set max_tokens (sent as " + profile.max_tokens_param + ") higher"]
    model = request.model
    if model.reasoning_efforts:
        effort = sent.get("reasoning_effort")
        now = repr(effort) if effort is not None else "the model's default"
        lowest = model.reasoning_efforts[0]
        fixes.append(f"lower reasoning_effort (now {now}; {lowest!r} thinks least)")
    if model.thinking in ("default_on", "default_off") and model.thinking_field:
        fixes.append("switch thinking off (thinking=False)")
    elif model.thinking == "always":
        fixes.append(f"thinking cannot be switched off on {model.id!r}")
    return (
        f"the answer was cut while the model was still reasoning: finish_reason='length' "
        f"with no content and {len(reasoning)} characters of reasoning; {budget}, and the "
        f"reasoning used {spent} (reasoning and answer share the budget). To get an answer: "
        + "; ".join(fixes)
    )


def check_cut(
    request: ChatRequest,
    profile: ProviderProfile,
    body: Mapping[str, Any],
    *,
    request_id: str | None,
) -> str | None:
    """Raise :class:`ReasoningCutError` for a cut answer the call needs, warn for a plain
    call; return the explanation (None when the answer was not cut)."""
    text = cut_message(request, profile, body)
    if text is None:
        return None
    needs = _needs_answer(request.body, request.required_tool)
    if needs is not None:
        raise ReasoningCutError(
            f"{text}. The call needs an answer ({needs}), so this is an error.",
            provider=profile.name,
            request_id=request_id,
            partial=dict(body),
        )
    warnings.warn(text, ReasoningCutWarning, stacklevel=4)
    return text
