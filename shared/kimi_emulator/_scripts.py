"""Scripted turns a model could not produce are refused when they are queued.

A script that names its model (``emu.script(..., model="kimi-k3")``) is checked against
what that model does: one that always thinks never makes a tool-call turn without
reasoning (Kimi needs that reasoning back as ``reasoning_content``), and one that never
thinks sends no reasoning. A test built on such a turn would test an app against traffic
Kimi never sends. Models with a thinking switch can produce either; unknown ids are not
checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["check_scripted_turn"]


def check_scripted_turn(
    model: str,
    thinking: str | None,
    *,
    reasoning: str | None,
    tool_calls: Sequence[Any] | None,
) -> None:
    """Raise ``ValueError`` if ``model`` (thinking mode ``thinking``: ``"always"``,
    ``"none"``, a switch, or None when unknown) could not produce this turn."""
    if thinking == "always" and tool_calls and not reasoning:
        raise ValueError(
            f"script(model={model!r}, tool_calls=...): {model} always thinks, so it never "
            "makes a tool-call turn without reasoning; pass reasoning='...' (it comes back "
            "as reasoning_content on the next request)"
        )
    if thinking == "none" and reasoning:
        raise ValueError(
            f"script(model={model!r}, reasoning=...): {model} does not think, so it sends "
            "no reasoning; leave reasoning out, or script a thinking model"
        )
