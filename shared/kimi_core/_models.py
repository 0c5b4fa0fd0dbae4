"""The model catalogue: what each Kimi model takes, what it fixes, and who still serves it.

Each entry says where its facts come from (``source``) and whether they are confirmed
(``confirmed=False``: a single unconfirmed source; its rules warn instead of refusing).
Retirement is per provider: ``kimi-k2.5`` answers 404 on Moonshot since 2026-08-31 but
AceData and GPTProto still serve it. Model ids stay open-ended: an id that is not here
(a new model, a gateway's ``moonshotai/kimi-k2-0905``) gets permissive defaults and one
warning, never a failure.
"""

from __future__ import annotations

import difflib
import json
import re
import threading
import warnings
from dataclasses import dataclass, replace
from typing import Literal, NamedTuple, TypeVar

from ._errors import NotFoundError, with_note

__all__ = [
    "MODELS",
    "FixedTemperature",
    "ModelInfo",
    "RetiredModelWarning",
    "Retirement",
    "ThinkingMode",
    "UnconfirmedRuleWarning",
    "UnknownModelWarning",
    "explain_retired",
    "get_model_info",
    "warn_if_retired",
]

ThinkingMode = Literal["none", "always", "default_on", "default_off"]
"""How a model thinks.

- ``none``: never thinks; ``thinking`` must not be enabled.
- ``always``: always thinks (kimi-k3, kimi-k2.7-code, kimi-k2-thinking); ``thinking`` cannot
  be disabled.
- ``default_on``: thinks unless ``thinking: {"type": "disabled"}`` is sent (kimi-k2.5, k2.6).
- ``default_off``: does not think unless asked (unknown models fall here, switch passed through).
"""


@dataclass(frozen=True)
class Retirement:
    """A provider stopped serving a model id (it answers 404 there)."""

    date: str
    successor: str

    @property
    def hint(self) -> str:
        """``retired on DATE; use SUCCESSOR``, the words added to a 404."""
        return f"retired on {self.date}; use {self.successor}"


class FixedTemperature(NamedTuple):
    """The temperature a model fixes: a sent value that differs is refused."""

    #: With thinking on.
    thinking: float
    #: With thinking off.
    not_thinking: float

    def value(self, thinks: bool) -> float:
        """The fixed value for a request that thinks (``thinks``) or not."""
        return self.thinking if thinks else self.not_thinking


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
    fixed_temperature: FixedTemperature | None = None
    fixed_top_p: float | None = None
    fixed_n: int | None = None
    fixed_penalties: float | None = None
    #: Whether tool_choice "required" is accepted while thinking (kimi-k3: recorded).
    forced_tool_choice_while_thinking: bool = False
    #: Whether a named tool_choice is accepted while thinking (kimi-k3: no, 400 "tool_choice
    #: 'specified' is incompatible with thinking enabled"; the rule matrix, docs/kimi-platform.md
    #: §12). Where "required" is accepted and this is False, a named choice is sent as
    #: "required" with only that tool offered.
    named_tool_choice_while_thinking: bool = False
    json_schema: bool = False
    tools: bool = True
    default_temperature: float | None = None
    #: Whether the id is in the catalogue (False: permissive defaults for an unknown id).
    known: bool = True
    #: False when the model or its rules come from a single unconfirmed source: its
    #: model rules warn (UnconfirmedRuleWarning) instead of refusing.
    confirmed: bool = True
    #: The family whose rules the model follows (``kimi-k3``, ``kimi-k2.7``, ``kimi-k2.6``...).
    family: str = ""
    #: Where the facts come from, in a few words.
    source: str = ""
    #: Whether a ``thinking`` field may be sent at all (kimi-k3: never; it always reasons).
    thinking_field: bool = True
    #: The ``reasoning_effort`` values the model takes (empty: it takes none).
    reasoning_efforts: tuple[str, ...] = ()
    #: ``reasoning_effort`` values a public live probe reports the model takes although
    #: Moonshot documents the field only for kimi-k3 (kimi-k2.6, nanobot#3939): sent with an
    #: UnconfirmedRuleWarning, never together with a ``thinking`` field (Kimi: 400 "cannot
    #: specify both 'thinking' and 'reasoning_effort'").
    reported_reasoning_efforts: tuple[str, ...] = ()
    #: Whether ``thinking`` takes ``keep: "all"`` (preserved thinking: kimi-k2.6 as a switch;
    #: kimi-k2.7-code, which always keeps, takes it as a no-op).
    thinking_keep: bool = False
    #: Whether the model keeps earlier reasoning, so that every earlier assistant message
    #: must carry its ``reasoning_content`` back (kimi-k3, kimi-k2.7-code).
    keeps_reasoning: bool = False
    #: Providers that retired the id, with the date and the successor.
    retired: tuple[tuple[str, Retirement], ...] = ()

    @property
    def thinks_by_default(self) -> bool:
        return self.thinking in ("always", "default_on")

    @property
    def thinking_switchable(self) -> bool:
        return self.thinking in ("default_on", "default_off")

    def retirement(self, provider: str) -> Retirement | None:
        """How ``provider`` retired this id, or None where it is served (or unknown)."""
        for name, retirement in self.retired:
            if name == provider:
                return retirement
        return None

    @property
    def deprecated(self) -> bool:
        """Retired on the official platform (some gateways may still serve it)."""
        return self.retirement("moonshot") is not None


_K256 = 262_144
_M1 = 1_048_576
_MOONSHOT = ("moonshot", "moonshot-cn")


def _on_moonshot(date: str, successor: str = "kimi-k2.6") -> tuple[tuple[str, Retirement], ...]:
    return tuple((name, Retirement(date, successor)) for name in _MOONSHOT)


#: Retired on Moonshot (docs/kimi-platform.md, "The 2026 line": 404 "Not found the model X
#: or Permission denied").
_GONE_2026_01 = _on_moonshot("2026-01-28")
_GONE_2026_05 = _on_moonshot("2026-05-25")
_GONE_2026_08 = _on_moonshot("2026-08-31")

# Each family is one typed entry; its models are that entry with their own id and the
# fields that differ (``dataclasses.replace``, checked by mypy like the constructor).

#: kimi-k2.6 and kimi-k2.5: thinking on by default with a switch; sampling fixed.
_SWITCH = ModelInfo(
    id="kimi-k2.6",
    family="kimi-k2.6",
    context_window=_K256,
    max_output=32_768,
    image_input=True,
    video_input=True,
    thinking="default_on",
    fixed_temperature=FixedTemperature(thinking=1.0, not_thinking=0.6),
    fixed_top_p=0.95,
    fixed_n=1,
    fixed_penalties=0.0,
    json_schema=True,
    thinking_keep=True,
    reported_reasoning_efforts=("low", "medium", "high"),
    source=(
        "Moonshot docs; vercel/ai captures (tool_choice required refused); nanobot#3939 "
        "(reasoning_effort alone accepted, with thinking 400)"
    ),
)

#: kimi-k3: always reasons, takes no thinking field, reasoning_effort top level; sampling
#: fixed as for kimi-k2.6 with thinking on (the temperature rejection is recorded).
_K3 = replace(
    _SWITCH,
    id="kimi-k3",
    family="kimi-k3",
    context_window=_M1,
    max_output=262_144,
    thinking="always",
    thinking_field=False,
    thinking_keep=False,
    reported_reasoning_efforts=(),
    reasoning_efforts=("low", "high", "max"),
    fixed_temperature=FixedTemperature(thinking=1.0, not_thinking=1.0),
    forced_tool_choice_while_thinking=True,
    keeps_reasoning=True,
    source=(
        "Moonshot /v1/models 2026-09-02; vercel/ai captures (temperature, tool_choice "
        "required); big-AGI#1161, inspect_ai PR #5152, page-agent PR #625 (named tool_choice "
        "400, sampling fixed); models.dev"
    ),
)
#: Reported later, lower confidence: the kimi-k3 rules, not enforced (warned).
_K3_REPORTED = replace(
    _K3, confirmed=False, source="reported after 2026-09 (docs/kimi-platform.md)"
)

#: kimi-k2.7-code: always thinks (a disabled thinking object is refused).
_K27 = ModelInfo(
    id="kimi-k2.7-code",
    family="kimi-k2.7",
    thinking="always",
    keeps_reasoning=True,
    thinking_keep=True,
    # simstudioai/sim PR #5716 (live): every current Kimi model rejects a temperature other
    # than its default; microsoft/vscode PR #324232 sends 1 to kimi-k2.7-code.
    fixed_temperature=FixedTemperature(thinking=1.0, not_thinking=1.0),
    context_window=_K256,
    max_output=262_144,
    image_input=True,
    video_input=True,
    json_schema=True,
    source=(
        "Moonshot /v1/models 2026-09-02; vercel/ai capture (thinking disabled); Moonshot's "
        "thinking guide (keep 'all' or omitted); models.dev"
    ),
)

#: The 2025 line: retired on Moonshot, still served by gateways.
_K2_INSTRUCT = ModelInfo(
    id="kimi-k2-instruct-0905",
    family="kimi-k2",
    context_window=_K256,
    max_output=32_768,
    json_schema=True,
    default_temperature=0.6,
    source="Moonshot docs (2025); AceData docs",
)
_K2_THINKING = ModelInfo(
    id="kimi-k2-thinking",
    family="kimi-k2-thinking",
    context_window=_K256,
    max_output=65_536,
    thinking="always",
    default_temperature=1.0,
    json_schema=True,
    source="Moonshot docs (2025); AceData and EvoLink docs",
    retired=_GONE_2026_05,
)
_V1 = ModelInfo(
    id="moonshot-v1-8k",
    family="moonshot-v1",
    context_window=8_192,
    max_output=8_192,
    default_temperature=0.0,
    json_schema=True,
    source="Moonshot docs (2025)",
    retired=_GONE_2026_08,
)

MODELS: dict[str, ModelInfo] = {
    m.id: m
    for m in (
        # The 2026 line (docs/kimi-platform.md, "The 2026 line").
        _K3,
        replace(_K3_REPORTED, id="kimi-k3.1-pro"),
        replace(_K3_REPORTED, id="kimi-k3.1-pro-highspeed"),
        _K27,
        replace(_K27, id="kimi-k2.7-code-highspeed"),
        _SWITCH,
        replace(
            _SWITCH,
            id="kimi-k2.5",
            family="kimi-k2.5",
            thinking_keep=False,
            reported_reasoning_efforts=(),
            source="Moonshot docs (2025); AceData and GPTProto docs",
            retired=_GONE_2026_08,
        ),
        _K2_THINKING,
        replace(_K2_THINKING, id="kimi-k2-thinking-turbo"),
        replace(_K2_INSTRUCT, id="kimi-k2-turbo-preview", retired=_GONE_2026_05),
        replace(_K2_INSTRUCT, id="kimi-k2-0905-preview", retired=_GONE_2026_05),
        _K2_INSTRUCT,
        replace(
            _K2_INSTRUCT, id="kimi-k2-0711-preview", context_window=131_072, retired=_GONE_2026_05
        ),
        ModelInfo(
            id="kimi-latest",
            family="kimi-latest",
            context_window=131_072,
            max_output=32_768,
            image_input=True,
            source="Moonshot docs (2025)",
            retired=_GONE_2026_01,
        ),
        _V1,
        replace(_V1, id="moonshot-v1-32k", context_window=32_768),
        replace(_V1, id="moonshot-v1-128k", context_window=131_072),
        replace(_V1, id="moonshot-v1-auto", context_window=131_072),
        replace(_V1, id="moonshot-v1-8k-vision-preview", image_input=True),
        replace(_V1, id="moonshot-v1-32k-vision-preview", context_window=32_768, image_input=True),
        replace(
            _V1, id="moonshot-v1-128k-vision-preview", context_window=131_072, image_input=True
        ),
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
    named_tool_choice_while_thinking=True,
    json_schema=True,
    known=False,
    confirmed=False,
    family="unknown",
    source="not in the catalogue: permissive defaults",
)
#: An unknown id of the kimi-k3 family ("kimi-k3.2", "kimi-k3-preview"): its rules, warned.
_UNKNOWN_K3 = replace(
    MODELS["kimi-k3"], known=False, confirmed=False, source="not in the catalogue: kimi-k3 rules"
)

_warned: set[str] = set()
_warned_retired: set[tuple[str, str]] = set()
_warned_lock = threading.Lock()


_Key = TypeVar("_Key", str, tuple[str, str])


def _first(seen: set[_Key], key: _Key) -> bool:
    """Whether ``key`` is seen for the first time (then it is remembered)."""
    with _warned_lock:
        first = key not in seen
        seen.add(key)
    return first


def get_model_info(model_id: str, *, warn: bool = True) -> ModelInfo:
    """The catalogue entry for ``model_id``.

    Gateway spellings (``moonshotai/Kimi-K2.5``) resolve to the catalogue entry, keeping
    the id as given. An unknown id gets permissive defaults (nothing is refused on our
    side, the server decides) and, once per id per process, an ``UnknownModelWarning``.
    """
    info = MODELS.get(model_id)
    return info if info is not None else _resolve(model_id, warn)


def warn_if_retired(model_id: str, provider: str) -> Retirement | None:
    """How ``provider`` retired ``model_id`` (None where it is served or unknown); the
    first time per id and provider in a process, a ``RetiredModelWarning`` naming the
    date and the successor. Both adapters call it when a model is built."""
    retirement = get_model_info(model_id, warn=False).retirement(provider)
    if retirement is not None and _first(_warned_retired, (provider, model_id)):
        warnings.warn(
            f"model {model_id!r} was retired by provider {provider!r} on "
            f"{retirement.date} (it answers 404 there); use {retirement.successor!r}",
            RetiredModelWarning,
            stacklevel=3,
        )
    return retirement


def _resolve(model_id: str, warn: bool) -> ModelInfo:
    base = _PREFIX.sub("", model_id).lower()
    base = _ALIASES.get(base, base)
    info = MODELS.get(base)
    if info is not None:
        return replace(info, id=model_id)
    like = ""
    if base.startswith("kimi-k3"):
        info, like = _UNKNOWN_K3, "; following the kimi-k3 rules, warned instead of enforced"
    elif "thinking" in base:
        # Thinking variants of unknown ids ("kimi-k2-thinking-2026") think always.
        info = replace(
            _UNKNOWN_DEFAULTS,
            thinking="always",
            forced_tool_choice_while_thinking=False,
            named_tool_choice_while_thinking=False,
        )
    else:
        info = _UNKNOWN_DEFAULTS
    if warn and _first(_warned, model_id):
        close = None if like else closest_model(model_id)  # kimi-k3.x: a newer id, not a typo
        hint = f" (did you mean {close!r}?)" if close else ""
        warnings.warn(
            f"model {model_id!r} is not in kimi_core's catalogue{hint}; using permissive "
            f"defaults (no client-side limits; {info.context_window // 1024}k context "
            f"assumed{like})",
            UnknownModelWarning,
            stacklevel=3,
        )
    return replace(info, id=model_id)


def closest_model(model_id: str) -> str | None:
    """The catalogue id ``model_id`` most likely misspells (``kimi-k26``: ``kimi-k2.6``),
    or None. Only for ids the catalogue does not know, gateway prefixes aside."""
    base = _PREFIX.sub("", model_id).lower()
    if base in MODELS or base in _ALIASES:
        return None
    close = difflib.get_close_matches(base, list(MODELS), n=1, cutoff=0.8)
    return close[0] if close else None


def explain_retired(err: NotFoundError, provider: str, request_body: bytes) -> NotFoundError:
    """``err`` (a 404 answering ``request_body``) with ``retired on DATE; use SUCCESSOR``
    added when the request's model is one ``provider`` retired; else ``err`` unchanged."""
    try:
        sent = json.loads(request_body) if request_body[:1] == b"{" else None
    except ValueError:
        return err
    model_id = sent.get("model") if isinstance(sent, dict) else None
    if not isinstance(model_id, str) or not model_id:
        return err
    retirement = get_model_info(model_id, warn=False).retirement(provider)
    if retirement is None:
        return err
    with_note(err, f"{model_id!r} was {retirement.hint}")
    return err


def explain_unknown(err: NotFoundError, request_body: bytes) -> NotFoundError:
    """``err`` (a 404) with ``did you mean ...?`` when the request's model is an id the
    catalogue does not know and one it knows is close (``kimi-k26``: ``kimi-k2.6``)."""
    try:
        sent = json.loads(request_body) if request_body[:1] == b"{" else None
    except ValueError:
        return err
    model_id = sent.get("model") if isinstance(sent, dict) else None
    close = closest_model(model_id) if isinstance(model_id, str) else None
    if close is not None:
        with_note(err, f"did you mean {close!r}?")
    return err


class UnknownModelWarning(UserWarning):
    """Emitted once per unknown model id."""


class RetiredModelWarning(UserWarning):
    """Emitted once per model id and provider, when that provider retired the id."""


class UnconfirmedRuleWarning(UserWarning):
    """A request breaks a rule that only an unconfirmed source reports; it is sent anyway."""
