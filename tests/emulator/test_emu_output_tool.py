"""An output tool named by its description (pydantic-ai's ``final_result``, "The final
response which ends this conversation") is the structured answer, as a class-named one is:
the responder calls it last, with the answer as arguments, instead of quoting the request
back (pydantic-ai would then retry and fail against the emulator, not against Kimi)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from emu_helpers import chat

from kimi_emulator import KimiEmulator

#: A made-up report tool, described as carrying the final answer (lower-case name).
SUBMIT: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "submit_inventory",
        "description": "Hand in the Final Answer.",
        "parameters": {
            "type": "object",
            "properties": {"warehouse": {"type": "string"}, "crates": {"type": "integer"}},
            "required": ["warehouse", "crates"],
        },
    },
}
#: A made-up lookup tool with the same shape but an ordinary description.
LOOKUP: dict[str, Any] = {
    "type": "function",
    "function": {**SUBMIT["function"], "name": "book_entry", "description": "Book one entry."},
}
PROMPT = "The Rotterdam warehouse holds 412 crates of tulip bulbs. Report it."


def ask(emu: KimiEmulator, tools: list[dict[str, Any]], model: str) -> dict[str, Any]:
    resp = chat(
        emu,
        {
            "model": model,
            "messages": [{"role": "user", "content": PROMPT}],
            "tools": tools,
            "tool_choice": "auto",
        },
    )
    assert resp.status_code == 200, resp.text
    message: dict[str, Any] = resp.json()["choices"][0]["message"]
    return message


@pytest.mark.parametrize("model", ["kimi-k3", "kimi-k2.6"])
def test_a_tool_described_as_the_final_answer_is_called_with_it(
    moonshot: KimiEmulator, model: str
) -> None:
    calls = ask(moonshot, [SUBMIT], model)["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["submit_inventory"]
    args = json.loads(calls[0]["function"]["arguments"])
    assert args["crates"] == 412
    assert isinstance(args["warehouse"], str) and args["warehouse"]


def test_an_ordinary_description_is_not_an_output_tool(moonshot: KimiEmulator) -> None:
    # Same schema, no word of the request in its name or description, nothing says
    # "final": the planner has no reason to call it and answers in text.
    message = ask(moonshot, [LOOKUP], "kimi-k2.6")
    assert not message.get("tool_calls")
    assert message["content"]
