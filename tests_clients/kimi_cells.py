"""What the client tests share: the models, the emulator's texts, i20's marker, helpers."""

from __future__ import annotations

from typing import Any

import pytest

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


#: The cells that need the emulator rule of branch i20 (kimi-k3 answers a named
#: tool_choice with 400 "tool_choice 'specified' is incompatible with thinking enabled";
#: today it takes it). Each such test asserts that 400 and is marked ``needs_i20``; until
#: i20 is merged they are strict xfails (a pass would fail the run). At the merge, set
#: this to True: they then run as ordinary tests.
I20_MERGED = False
NEEDS_I20 = "needs i20's emulator rule: kimi-k3 refuses a named tool_choice (400 'specified')"


def needs_i20_if_k3(model: str) -> Any:
    """``pytest.param`` for a model whose named-choice cell needs i20 on kimi-k3."""
    marks = [pytest.mark.needs_i20] if model == "kimi-k3" else []
    return pytest.param(model, marks=marks, id=model)


def sent(emu: KimiEmulator) -> list[dict[str, Any]]:
    """The chat bodies the emulator received since the reset, oldest first."""
    return [r.json for r in emu.chat_requests if isinstance(r.json, dict)]


#: What no client may send kimi-k3 or kimi-k2.6 unasked: the fixed sampling values
#: (the emulator refuses other values) and the thinking switch (K3 takes none).
UNASKED = ("temperature", "top_p", "n", "presence_penalty", "frequency_penalty", "thinking")


def assert_nothing_fixed_sent(bodies: list[dict[str, Any]]) -> None:
    for body in bodies:
        assert not set(UNASKED) & set(body), {k: body[k] for k in UNASKED if k in body}
