"""The model catalogue: what each Kimi model takes and what it fixes.

Model ids stay open-ended: an id that is not here (a new model, a gateway's
``moonshotai/kimi-k2-0905``) gets permissive defaults and one warning, never a failure.
"""

from __future__ import annotations

import re
import threading
import warnings
from dataclasses import dataclass, replace
from typing import Literal

__all__ = [
    "MODELS",
    "ModelInfo",
    "ThinkingMode",
    "UnconfirmedRuleWarning",
    "UnknownModelWarning",
    "get_model_info",
]

ThinkingMode = Literal["none", "always", "default_on", "default_off"]
"""How a model thinks.

- ``none``: never thinks; ``thinking`` must not be enabled.
- ``always``: always thinks (kimi-k2-thinking); ``thinking`` cannot be disabled.
- ``default_on``: thinks unless ``thinking: {"type": "disabled"}`` is sent (kimi-k2.5, k2.6).
- ``default_off``: does not think unless asked (unknown models fall here, switch passed through).
"""


@dataclass(frozen=True)
class ModelInfo:
    """What the client needs to know about one model."""

    id: str
    context_window: int
    max_output: int
    image_input: bool = False
    video_input: bool = False
    thinking: ThinkingMode = "none"
    #: Sampling values the model fixes: sent values that differ are rejected.
    #: ``fixed_temperature`` is (thinking on, thinking off).
    fixed_temperature: tuple[float, float] | None = None
    fixed_top_p: float | None = None
    fixed_n: int | None = None
    fixed_penalties: float | None = None
    #: Whether tool_choice "required" or a named function is accepted while thinking.
    forced_tool_choice_while_thinking: bool = False
    json_schema: bool = False
    tools: bool = True
    default_temperature: float | None = None
    #: Whether the id is in the catalogue (False: permissive defaults for an unknown id).
    known: bool = True
    #: Retired on the official platform (still served by some gateways).
    deprecated: bool = False
    #: False when the model or its rules come from a single unconfirmed source: its
    #: model rules warn (UnconfirmedRuleWarning) instead of refusing.
    confirmed: bool = True

    @property
    def thinks_by_default(self) -> bool:
        return self.thinking in ("always", "default_on")

    @property
    def thinking_switchable(self) -> bool:
        return self.thinking in ("default_on", "default_off")

    def thinking_enabled(self, thinking: bool | None) -> bool:
        """Whether a request with this ``thinking`` setting thinks."""
        if thinking is None or self.thinking in ("always", "none"):
            return self.thinks_by_default
        return thinking


_K256 = 262_144

_K25_RULES = {
    "context_window": _K256,
    "max_output": 32_768,
    "image_input": True,
    "video_input": True,
    "thinking": "default_on",
    "fixed_temperature": (1.0, 0.6),
    "fixed_top_p": 0.95,
    "fixed_n": 1,
    "fixed_penalties": 0.0,
    "json_schema": True,
}


def _m(model_id: str, **kw: object) -> ModelInfo:
    return ModelInfo(id=model_id, **kw)  # type: ignore[arg-type]


_K2_INSTRUCT = {"context_window": _K256, "max_output": 32_768, "json_schema": True}
_K2_THINKING = {
    "context_window": _K256,
    "max_output": 65_536,
    "thinking": "always",
    "default_temperature": 1.0,
    "json_schema": True,
}
_V1 = {"max_output": 8_192, "default_temperature": 0.0, "json_schema": True}

MODELS: dict[str, ModelInfo] = {
    m.id: m
    for m in (
        # Reported, not documented: assumed to follow kimi-k2.6, rules not enforced.
        _m("kimi-k3", confirmed=False, **_K25_RULES),
        _m("kimi-k2.6", **_K25_RULES),
        _m("kimi-k2.5", **_K25_RULES),
        _m(
            "kimi-k2.7-code",
            context_window=_K256,
            max_output=65_536,
            thinking="always",
            json_schema=True,
            confirmed=False,
        ),
        _m("kimi-k2-thinking", **_K2_THINKING),
        _m("kimi-k2-thinking-turbo", **_K2_THINKING),
        _m("kimi-k2-turbo-preview", default_temperature=0.6, **_K2_INSTRUCT),
        _m("kimi-k2-0905-preview", default_temperature=0.6, **_K2_INSTRUCT),
        _m("kimi-k2-instruct-0905", default_temperature=0.6, **_K2_INSTRUCT),
        _m(
            "kimi-k2-0711-preview",
            context_window=131_072,
            max_output=32_768,
            default_temperature=0.6,
            json_schema=True,
        ),
        _m("kimi-latest", context_window=131_072, max_output=32_768, image_input=True),
        _m("moonshot-v1-8k", context_window=8_192, **_V1),
        _m("moonshot-v1-32k", context_window=32_768, **_V1),
        _m("moonshot-v1-128k", context_window=131_072, **_V1),
        _m("moonshot-v1-auto", context_window=131_072, **_V1),
        _m("moonshot-v1-8k-vision-preview", context_window=8_192, image_input=True, **_V1),
        _m("moonshot-v1-32k-vision-preview", context_window=32_768, image_input=True, **_V1),
        _m("moonshot-v1-128k-vision-preview", context_window=131_072, image_input=True, **_V1),
    )
}

# Gateways prefix or rename ids ("moonshotai/kimi-k2-0905", "kimi-k2-instruct").
_PREFIX = re.compile(r"^(?:[\w.-]+/)+")
_ALIASES = {
    "kimi-k2-0905": "kimi-k2-0905-preview",
    "kimi-k2-instruct": "kimi-k2-0711-preview",
    "kimi-k2": "kimi-k2-0711-preview",
    "kimi-k2-turbo": "kimi-k2-turbo-preview",
}

_UNKNOWN_DEFAULTS = ModelInfo(
    id="",
    context_window=_K256,
    max_output=32_768,
    image_input=True,
    video_input=True,
    thinking="default_off",
    forced_tool_choice_while_thinking=True,
    json_schema=True,
    known=False,
)

_warned: set[str] = set()
_warned_lock = threading.Lock()


def get_model_info(model_id: str, *, warn: bool = True) -> ModelInfo:
    """The catalogue entry for ``model_id``.

    Gateway spellings (``moonshotai/Kimi-K2.5``) resolve to the catalogue entry, keeping
    the id as given. An unknown id gets permissive defaults (nothing is refused on our
    side, the server decides) and, once per id per process, a warning.
    """
    info = MODELS.get(model_id)
    if info is not None:
        return info
    base = _PREFIX.sub("", model_id).lower()
    base = _ALIASES.get(base, base)
    info = MODELS.get(base)
    if info is not None:
        return replace(info, id=model_id)
    # Thinking variants of unknown ids ("kimi-k2-thinking-2026") think always.
    if "thinking" in base:
        info = replace(
            _UNKNOWN_DEFAULTS, thinking="always", forced_tool_choice_while_thinking=False
        )
    else:
        info = _UNKNOWN_DEFAULTS
    if warn:
        with _warned_lock:
            first = model_id not in _warned
            _warned.add(model_id)
        if first:
            warnings.warn(
                f"model {model_id!r} is not in kimi_core's catalogue; using permissive "
                "defaults (no client-side limits; 256k context assumed)",
                UnknownModelWarning,
                stacklevel=2,
            )
    return replace(info, id=model_id)


class UnknownModelWarning(UserWarning):
    """Emitted once per unknown model id."""


class UnconfirmedRuleWarning(UserWarning):
    """A request breaks a rule that only an unconfirmed source reports; it is sent anyway."""
