"""The emulator's own model table: what each model takes, fixes and answers like.

Written from the provider documents and from recorded traffic (the sources are named on
each entry), never from ``kimi_core``: the client has its own catalogue, and a test can
only catch a wrong entry there if the two are kept apart.

Which ids a system *serves* is per dialect (``_dialects.py``); this table only says how
a model behaves once it is served. An id that is not here (a gateway's new spelling, a
model released after this table) gets open defaults: it does not think unless asked,
256k context, nothing fixed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Literal

__all__ = [
    "MODELS",
    "MOONSHOT_SERVED",
    "ModelRules",
    "ThinkingMode",
    "rules_for",
]

ThinkingMode = Literal["none", "always", "default_on", "default_off"]
ChatIdStyle = Literal["uuid", "hex24"]


@dataclass(frozen=True)
class ModelRules:
    """How one model behaves on the server side.

    ``thinking``: ``none`` (never thinks; ``enabled`` is refused), ``always`` (thinks;
    ``disabled`` is refused where that is recorded), ``default_on`` (thinks unless
    ``thinking: {"type": "disabled"}``), ``default_off`` (thinks only when asked).
    ``fixed_temperature`` is ``(thinking on, thinking off)``.
    """

    id: str
    context_window: int
    thinking: ThinkingMode = "none"
    fixed_temperature: tuple[float, float] | None = None
    fixed_top_p: float | None = None
    fixed_n: int | None = None
    fixed_penalties: float | None = None
    #: Whether ``tool_choice`` "required" is taken while thinking (K3: recorded).
    forced_choice_while_thinking: bool = False
    #: Whether a named ``tool_choice`` is taken while thinking (K3: no, "tool_choice
    #: 'specified' is incompatible with thinking enabled": big-AGI#1161, page-agent PR #625,
    #: oh-my-pi PR #5994, inspect_ai PR #5152).
    named_choice_while_thinking: bool = False
    #: Whether a ``thinking`` object is part of this model's request (K3: no).
    thinking_field: bool = True
    #: ``reasoning_effort`` values taken (None: the field is not part of the model's API).
    efforts: tuple[str, ...] | None = None
    #: ``thinking.keep`` ("all" or null) is taken (kimi-k2.6; kimi-k2.7-code, where it is
    #: always "all": Moonshot's thinking guide).
    keep: bool = False
    image_input: bool = False
    video_input: bool = False
    json_schema: bool = True
    #: K3 streams send ``{"reasoning_content": ""}`` between reasoning and content.
    reasoning_marker: bool = False
    #: Moonshot chat ids: ``chatcmpl-<uuid>`` (K3) or ``chatcmpl-<24 hex>`` (K2.x).
    chat_id: ChatIdStyle = "hex24"
    #: Moonshot sends ``system_fingerprint`` (``fpv0_<8 hex>``) on this model.
    fingerprint: bool = False
    #: Rules known from one unconfirmed source only: applied with ``strict=True``.
    #: ``thinking_disabled`` (refuses ``thinking: {"type": "disabled"}``), ``no_effort``
    #: (refuses ``reasoning_effort``), ``empty_reasoning`` (refuses ``""`` as the
    #: reasoning sent back), ``every_assistant_reasoning`` (every earlier assistant
    #: message must carry its reasoning), ``keep_elsewhere`` (refuses ``thinking.keep``).
    unconfirmed: frozenset[str] = frozenset()
    #: Whether the id is in this table (False: open defaults for an unknown id).
    known: bool = True
    #: Where the rules come from.
    source: str = ""

    @property
    def thinks_by_default(self) -> bool:
        return self.thinking in ("always", "default_on")


_K256 = 262_144
#: "1M tokens" (docs/kimi-platform.md §11, from litellm and models.dev); the exact figure is
#: not recorded.
_K3_CONTEXT = 1_048_576

_PLATFORM_2026 = "docs/kimi-platform.md §11 (vercel/ai captures of api.moonshot.ai, Aug 2026)"
_PLATFORM_2025 = "docs/kimi-platform.md §3 (Moonshot docs, 2025 line)"

_K3 = ModelRules(
    id="kimi-k3",
    context_window=_K3_CONTEXT,
    thinking="always",
    fixed_temperature=(1.0, 1.0),
    # big-AGI#1161 (a live probe): "temperature/top_p/n/penalties are hard-fixed (400 on any
    # other value)". The fixed values other than temperature are not published for K3:
    # those of the K2.5/K2.6 line (top_p 0.95, n 1, penalties 0) are assumed.
    fixed_top_p=0.95,
    fixed_n=1,
    fixed_penalties=0.0,
    forced_choice_while_thinking=True,
    thinking_field=False,
    efforts=("low", "high", "max"),
    image_input=True,
    video_input=True,
    reasoning_marker=True,
    chat_id="uuid",
    # big-AGI#1161 ("thinking can't be disabled"; what api.moonshot.ai answers to a disabled
    # object is not recorded), lobehub PR #15722 (earlier reasoning kept).
    unconfirmed=frozenset({"thinking_disabled", "every_assistant_reasoning", "keep_elsewhere"}),
    source=_PLATFORM_2026,
)
_K27 = ModelRules(
    id="kimi-k2.7-code",
    context_window=_K256,
    thinking="always",
    # simstudioai/sim PR #5716 (a live test): "non-default values are rejected"; 1 is the
    # value peers send (microsoft/vscode PR #324232). The exact 400 text is not published.
    fixed_temperature=(1.0, 1.0),
    image_input=True,
    video_input=True,
    # keep "all" (or left out) is taken: Moonshot's thinking guide.
    keep=True,
    # Peers omit reasoning_effort (vercel/ai); lobehub PR #15722 (earlier reasoning kept).
    unconfirmed=frozenset({"no_effort", "every_assistant_reasoning"}),
    source=_PLATFORM_2026,
)
_K25 = ModelRules(
    id="kimi-k2.5",
    context_window=_K256,
    thinking="default_on",
    fixed_temperature=(1.0, 0.6),
    fixed_top_p=0.95,
    fixed_n=1,
    fixed_penalties=0.0,
    image_input=True,
    video_input=True,
    fingerprint=True,
    source=_PLATFORM_2025 + "; langchain-moonshot cassette (system_fingerprint)",
)
_K2_THINKING = ModelRules(
    id="kimi-k2-thinking", context_window=_K256, thinking="always", source=_PLATFORM_2025
)
_K2 = ModelRules(id="kimi-k2-0905-preview", context_window=_K256, source=_PLATFORM_2025)
_V1 = ModelRules(id="moonshot-v1-8k", context_window=8_192, source=_PLATFORM_2025)


def _all() -> dict[str, ModelRules]:
    entries = [
        _K3,
        # Reported after the 2026-09-02 listing, with K3's rules (lower confidence).
        replace(_K3, id="kimi-k3.1-pro", source=_PLATFORM_2026 + " (reported later)"),
        replace(_K3, id="kimi-k3.1-pro-highspeed", source=_PLATFORM_2026 + " (reported later)"),
        _K27,
        replace(_K27, id="kimi-k2.7-code-highspeed"),
        replace(
            _K25,
            id="kimi-k2.6",
            keep=True,
            fingerprint=False,
            # pi PR #4178: "" refused as a placeholder. reasoning_effort alone is taken
            # (nanobot#3939, a live probe), not together with thinking.
            unconfirmed=frozenset({"empty_reasoning"}),
            source=_PLATFORM_2026,
        ),
        _K25,
        _K2_THINKING,
        replace(_K2_THINKING, id="kimi-k2-thinking-turbo"),
        _K2,
        replace(_K2, id="kimi-k2-turbo-preview"),
        replace(_K2, id="kimi-k2-instruct-0905"),
        replace(_K2, id="kimi-k2-0711-preview", context_window=131_072),
        ModelRules(
            id="kimi-latest",
            context_window=131_072,
            image_input=True,
            json_schema=False,
            source=_PLATFORM_2025,
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
    ]
    return {e.id: e for e in entries}


MODELS: dict[str, ModelRules] = _all()

#: What ``GET /v1/models`` on api.moonshot.ai listed on 2026-09-02 (docs/kimi-platform.md §11:
#: chatcli#1344, models.dev PR #6101). Retired ids are not in it: they get the 404 (their
#: dates are in docs/kimi-platform.md §11).
MOONSHOT_SERVED = ("kimi-k3", "kimi-k2.7-code", "kimi-k2.7-code-highspeed", "kimi-k2.6")

# Gateway spellings: "moonshotai/kimi-k2.5", "moonshotai/Kimi-K2-Instruct-0905:groq".
_RENAMED = {
    "kimi-k2-0905": "kimi-k2-0905-preview",
    "kimi-k2-instruct": "kimi-k2-0711-preview",
    "kimi-k2": "kimi-k2-0711-preview",
    "kimi-k2-turbo": "kimi-k2-turbo-preview",
}
_OPEN = ModelRules(
    id="",
    context_window=_K256,
    thinking="default_off",
    forced_choice_while_thinking=True,
    named_choice_while_thinking=True,
    image_input=True,
    video_input=True,
    known=False,
    source="open defaults for an id not in the table",
)


def _base_id(model_id: str) -> str:
    base = model_id.rsplit("/", 1)[-1].split(":", 1)[0].lower()
    return _RENAMED.get(base, base)


@lru_cache(maxsize=1024)
def rules_for(model_id: str) -> ModelRules:
    """The rules of ``model_id`` (a gateway spelling resolves to the model it names)."""
    found = MODELS.get(model_id)
    if found is not None:
        return found
    base = _base_id(model_id)
    found = MODELS.get(base)
    if found is None:
        # An unknown thinking variant ("kimi-k2-thinking-2026") thinks always.
        found = (
            replace(
                _OPEN,
                thinking="always",
                forced_choice_while_thinking=False,
                named_choice_while_thinking=False,
            )
            if "thinking" in base
            else _OPEN
        )
    return replace(found, id=model_id)
