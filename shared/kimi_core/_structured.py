"""Structured output: which method works for a provider and a model.

Both adapters ask the same question (LangChain's ``with_structured_output``,
LlamaIndex's ``structured_predict``); the answer is Kimi knowledge, so it lives here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from ._errors import ConfigurationError
from ._models import ModelInfo
from ._providers import ProviderProfile
from ._thinking import plan_thinking

__all__ = [
    "StructuredMethod",
    "check_structured_method",
    "json_mode_instruction",
    "structured_output_method",
]

StructuredMethod = Literal["json_schema", "function_calling", "json_mode"]
METHODS: tuple[StructuredMethod, ...] = ("function_calling", "json_mode", "json_schema")


def _documents(profile: ProviderProfile, kind: str) -> bool:
    return profile.response_formats is not None and kind in profile.response_formats


def structured_output_method(
    profile: ProviderProfile,
    model: ModelInfo,
    thinking: bool | Mapping[str, Any] | None = None,
    temperature: float | None = None,
) -> StructuredMethod:
    """The method that works for this provider and model, in this order:

    1. ``json_schema`` where the provider documents it and the model has it: the server
       enforces the schema, and a thinking model keeps thinking;
    2. ``function_calling`` where the thinking plan sends a forced tool call as such (the
       model does not think, takes ``"required"`` while thinking as kimi-k3 does, the
       schema's tool then being the only one offered: kimi-k3 refuses a named choice, or
       thinking can be switched off for the call: ``thinking`` left unset and no
       ``temperature`` that only thinking takes);
    3. ``json_mode`` (``json_object`` plus the schema in the prompt) where the provider
       takes ``json_object`` or documents no formats, so an always-thinking model answers
       (Kimi refuses a forced tool call while it thinks);
    4. ``function_calling`` otherwise: sent as ``auto``, and the call is checked.
    """
    if model.json_schema and _documents(profile, "json_schema"):
        return "json_schema"
    forced = plan_thinking(
        profile, model, thinking=thinking, tool_choice="required", temperature=temperature
    )
    if model.tools and forced.forced_sent:
        return "function_calling"
    if profile.response_formats is None or "json_object" in profile.response_formats:
        return "json_mode"
    return "function_calling"


def check_structured_method(profile: ProviderProfile, model: ModelInfo, method: object) -> None:
    """Refuse, before anything is sent, a method the provider or model does not take."""
    where = f"provider {profile.name!r} ({profile.label})"
    formats = ", ".join(sorted(profile.response_formats or ()))

    def refuse(who: str, why: str, instead: str) -> ConfigurationError:
        return ConfigurationError(
            f"method={method!r} is not accepted by {who}: {why}; use {instead}",
            param="method",
            provider=profile.name,
            model=model.id,
        )

    if method not in METHODS:
        raise ConfigurationError(
            f"method={method!r} is not accepted: 'function_calling', 'json_mode' or 'json_schema'",
            param="method",
            provider=profile.name,
            model=model.id,
        )
    if method == "json_schema":
        if profile.response_formats is not None and "json_schema" not in profile.response_formats:
            raise refuse(
                where,
                f"it documents response formats {formats}",
                "'function_calling' or 'json_mode'",
            )
        if not model.json_schema:
            raise refuse(f"model {model.id!r}", "it has no json_schema mode", "'function_calling'")
    elif method == "json_mode":
        if profile.response_formats is not None and "json_object" not in profile.response_formats:
            raise refuse(where, f"it documents response formats {formats}", "'function_calling'")
    elif not model.tools:
        raise refuse(f"model {model.id!r}", "it does not call tools", "'json_mode'")


def json_mode_instruction(schema: Mapping[str, Any]) -> str:
    """What to tell the model in ``json_mode``: Kimi's JSON mode needs the format spelled
    out in the prompt (its documentation), and the schema is the exact format."""
    compact = json.dumps(schema, ensure_ascii=False, separators=(",", ":"))
    return (
        "Answer with one JSON object, and nothing else, that conforms to this JSON "
        f"Schema:\n{compact}"
    )
