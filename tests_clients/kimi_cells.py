"""What the client tests share: the models, the emulator's texts, helpers."""

from __future__ import annotations

from typing import Any

from kimi_emulator import KimiEmulator

#: The two models every client is run on: K3 (always thinks, takes 'required') and K2.6
#: (thinks by default, refuses any forced choice while thinking).
MODELS = ("kimi-k3", "kimi-k2.6")
DUMMY_KEY = "test-not-a-key"

# The emulator's texts (shared/kimi_emulator/_rules.py), the real ones where recorded.
NAMED_WHILE_THINKING = "tool_choice 'specified' is incompatible with thinking enabled"
REQUIRED_WHILE_THINKING = "tool_choice 'required' is incompatible with thinking enabled"


def reasoning_missing(index: int) -> str:
    return (
        "thinking is enabled but reasoning_content is missing in assistant tool call "
        f"message at index {index}"
    )


def sent(emu: KimiEmulator) -> list[dict[str, Any]]:
    """The chat bodies the emulator received since the reset, oldest first."""
    return [r.json for r in emu.chat_requests if isinstance(r.json, dict)]


#: What no client may send kimi-k3 or kimi-k2.6 unasked: the fixed sampling values
#: (the emulator refuses other values) and the thinking switch (K3 takes none).
UNASKED = ("temperature", "top_p", "n", "presence_penalty", "frequency_penalty", "thinking")


def assert_nothing_fixed_sent(bodies: list[dict[str, Any]]) -> None:
    for body in bodies:
        assert not set(UNASKED) & set(body), {k: body[k] for k in UNASKED if k in body}
