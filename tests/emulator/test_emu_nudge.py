"""A user message that only asks for a tool ("Please select a tool to handle the current
issue.": what litellm's moonshot provider appends in place of ``tool_choice="required"``,
after Moonshot's migration guide) takes its request from the user's message before it, as
a model reading the whole conversation would: the tool that request needs is called."""

from __future__ import annotations

import json
from typing import Any

import pytest
from emu_helpers import chat

from kimi_emulator import KimiEmulator

TIDES: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "tide_table",
        "description": "High and low tide times for a harbour town.",
        "parameters": {
            "type": "object",
            "properties": {"town": {"type": "string", "description": "the harbour town"}},
            "required": ["town"],
        },
    },
}
ASKED = {"role": "user", "content": "When is high tide in Honfleur tomorrow?"}


def answer(emu: KimiEmulator, *messages: dict[str, Any]) -> dict[str, Any]:
    body = {"model": "kimi-k2.6", "messages": list(messages), "tools": [TIDES]}
    resp = chat(emu, body)
    assert resp.status_code == 200, resp.text
    message: dict[str, Any] = resp.json()["choices"][0]["message"]
    return message


@pytest.mark.parametrize(
    "nudge",
    [
        "Please select a tool to handle the current issue.",
        "Use a tool for this one.",
        "choose the function that fits",
    ],
)
def test_a_nudge_calls_the_tool_the_earlier_request_needs(
    moonshot: KimiEmulator, nudge: str
) -> None:
    message = answer(moonshot, ASKED, {"role": "user", "content": nudge})
    calls = message["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["tide_table"]
    assert json.loads(calls[0]["function"]["arguments"]) == {"town": "Honfleur"}


def test_after_the_result_the_nudged_request_is_answered(moonshot: KimiEmulator) -> None:
    nudge = {"role": "user", "content": "Please select a tool to handle the current issue."}
    first = answer(moonshot, ASKED, nudge)
    result = {"role": "tool", "tool_call_id": first["tool_calls"][0]["id"], "content": "06:12"}
    second = answer(moonshot, ASKED, nudge, first, result)
    assert not second.get("tool_calls")
    assert "06:12" in second["content"]


def test_a_message_that_is_not_a_nudge_is_not_read_as_one(moonshot: KimiEmulator) -> None:
    message = answer(moonshot, ASKED, {"role": "user", "content": "Thanks, that is all."})
    assert not message.get("tool_calls")
