"""The planner always ends and never invents, over HTTP, with tools and prompts that
appear nowhere in the docs: a forced output tool, unit conversion, JSON keys named
without quotes, a prompt schema with ``$defs``, a required value nobody gave."""

from __future__ import annotations

import json
from typing import Any

from emu_helpers import chat, validate

from kimi_emulator import KimiEmulator

PLAIN: dict[str, Any] = {"model": "kimi-k2.6", "thinking": {"type": "disabled"}}


def fn(name: str, description: str, props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    parameters = {"type": "object", "properties": props, "required": required}
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": parameters},
    }


SWAP = fn(
    "swap_cash",
    "Swap an amount of cash from one currency to another",
    {
        "amount": {"type": "number"},
        "source_currency": {"type": "string"},
        "target_currency": {"type": "string"},
    },
    ["amount", "source_currency", "target_currency"],
)
FINAL = fn(
    "final_result",
    "The final response which ends this conversation",
    {"value": {"type": "number"}, "currency": {"type": "string"}},
    ["value", "currency"],
)
LENGTH = fn(
    "length_in_feet",
    "Turn a length in metres into feet",
    {"metres": {"type": "number"}},
    ["metres"],
)
TRACK = fn(
    "track_shipment",
    "Report where a shipment is, by its tracking code",
    {"tracking_code": {"type": "string"}},
    ["tracking_code"],
)


def run(
    emu: KimiEmulator, question: str, tools: list[dict[str, Any]], results: dict[str, str],
    **extra: Any,
) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, Any]]:  # fmt: skip
    """The calls made until the answer (each tool answered from ``results``)."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": question}]
    calls: list[tuple[str, dict[str, Any]]] = []
    for _ in range(30):  # far past the planner's bound: the loop must end on its own
        resp = chat(emu, {**PLAIN, "messages": messages, "tools": tools, **extra})
        assert resp.status_code == 200, resp.text
        message = resp.json()["choices"][0]["message"]
        made = message.get("tool_calls") or []
        if not made or any(c["function"]["name"] == "final_result" for c in made):
            calls += [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in made]
            return calls, message
        messages.append(message)
        for c in made:
            calls.append((c["function"]["name"], json.loads(c["function"]["arguments"])))
            content = results[c["function"]["name"]]
            messages.append({"role": "tool", "tool_call_id": c["id"], "content": content})
    raise AssertionError(f"no end after 30 turns: {calls}")


def test_required_choice_ends_with_the_output_tool(moonshot: KimiEmulator) -> None:
    calls, _ = run(
        moonshot, "Swap 80 GBP to JPY please.", [SWAP, FINAL], {"swap_cash": "15200 JPY"},
        tool_choice="required",
    )  # fmt: skip
    assert calls == [
        ("swap_cash", {"amount": 80, "source_currency": "GBP", "target_currency": "JPY"}),
        ("final_result", {"value": 15200, "currency": "JPY"}),
    ]


def test_an_output_tool_is_called_last_without_a_required_choice(moonshot: KimiEmulator) -> None:
    calls, _ = run(
        moonshot, "Swap 80 GBP to JPY please.", [SWAP, FINAL], {"swap_cash": "15200 JPY"}
    )
    assert [name for name, _ in calls] == ["swap_cash", "final_result"]


def test_a_value_nobody_gave_is_asked_for_not_invented(moonshot: KimiEmulator) -> None:
    question = "Where is my shipment at the moment?"
    calls, message = run(moonshot, question, [TRACK], {})
    assert calls == []
    assert "tracking_code" in message["content"]


def test_no_argument_is_the_question(moonshot: KimiEmulator) -> None:
    question = "Turn the hallway length into feet for me."
    calls, message = run(moonshot, question, [LENGTH, TRACK], {})
    assert all(question not in json.dumps(args) for _, args in calls)
    assert calls == [] and "metres" in message["content"]


def test_results_never_feed_each_other_forever(moonshot: KimiEmulator) -> None:
    add = fn("add_up", "Add two amounts", {"a": {"type": "number"}, "b": {"type": "number"}},
             ["a", "b"])  # fmt: skip
    double = fn("double_it", "Double an amount", {"x": {"type": "number"}}, ["x"])
    halve = fn("halve_it", "Halve an amount", {"x": {"type": "number"}}, ["x"])
    calls, message = run(
        moonshot, "Add the amounts 14 and 6, double it and halve it.", [add, double, halve],
        {"add_up": "20", "double_it": "40", "halve_it": "10"},
    )  # fmt: skip
    keys = [(name, json.dumps(args, sort_keys=True)) for name, args in calls]
    assert len(keys) == len(set(keys))  # one call per tool per distinct arguments
    assert len(calls) <= 6
    assert message["content"]


def test_json_mode_fills_keys_named_without_quotes(moonshot: KimiEmulator) -> None:
    question = "Describe the city Lyon as JSON with the keys city, country and region."
    body = {**PLAIN, "messages": [{"role": "user", "content": question}]}
    resp = chat(moonshot, {**body, "response_format": {"type": "json_object"}})
    value = json.loads(resp.json()["choices"][0]["message"]["content"])
    assert list(value) == ["city", "country", "region"]
    assert value["city"] == "Lyon" and value["country"] == "France"


def test_a_prompt_schema_with_defs_fills_the_root(moonshot: KimiEmulator) -> None:
    schema = {
        "$defs": {
            "Parcel": {
                "type": "object",
                "properties": {"weight_kg": {"type": "number"}, "postcode": {"type": "string"}},
                "required": ["weight_kg", "postcode"],
            }
        },
        "type": "object",
        "properties": {
            "sender_email": {"type": "string"},
            "parcel": {"$ref": "#/$defs/Parcel"},
            "ship_date": {"type": "string"},
        },
        "required": ["sender_email", "parcel", "ship_date"],
    }
    prompt = (
        "Read the note and answer with one JSON object following this schema:\n"
        + json.dumps(schema)
        + "\n\nNote: ops@example.com sends 3.5 kg to postcode 75011 on 2027-05-02."
    )
    resp = chat(moonshot, {**PLAIN, "messages": [{"role": "user", "content": prompt}]})
    value = json.loads(resp.json()["choices"][0]["message"]["content"])
    validate(value, schema)
    assert value == {
        "sender_email": "ops@example.com",
        "parcel": {"weight_kg": 3.5, "postcode": "75011"},
        "ship_date": "2027-05-02",
    }


DISTANCE = fn(
    "distance_between_units",
    "Change a distance from one unit to another",
    {
        "value": {"type": "number"},
        "from_unit": {"type": "string", "enum": ["km", "mi", "m", "ft"]},
        "to_unit": {"type": "string", "enum": ["km", "mi", "m", "ft"]},
    },
    ["value", "from_unit", "to_unit"],
)
HEAT = fn(
    "heat_scale",
    "Express a reading on another scale",
    {
        "reading": {"type": "number"},
        "scale_from": {"type": "string", "enum": ["C", "F", "K"]},
        "scale_to": {"type": "string", "enum": ["C", "F", "K"]},
    },
    ["reading", "scale_from", "scale_to"],
)
FLIGHTS = fn(
    "flights_between",
    "List flights between two airports on a day",
    {
        "origin": {"type": "string", "description": "IATA code"},
        "destination": {"type": "string", "description": "IATA code"},
        "date": {"type": "string"},
    },
    ["origin", "destination", "date"],
)


def test_unit_conversions_take_both_ends_in_order(moonshot: KimiEmulator) -> None:
    cases = [
        ("How many mi is 42 km?", DISTANCE, {"value": 42, "from_unit": "km", "to_unit": "mi"}),
        ("Change 5 ft to m", DISTANCE, {"value": 5, "from_unit": "ft", "to_unit": "m"}),
        ("What is 30 C in F?", HEAT, {"reading": 30, "scale_from": "C", "scale_to": "F"}),
    ]
    for question, tool, args in cases:
        name = tool["function"]["name"]
        calls, _ = run(moonshot, question, [tool], {name: "done"})
        assert calls == [(name, args)], question


def test_two_places_of_one_call_are_not_two_calls(moonshot: KimiEmulator) -> None:
    calls, _ = run(
        moonshot, "Find flights from LIS to OSL on 2027-06-01", [FLIGHTS],
        {"flights_between": "TP1234 at 09:10"},
    )  # fmt: skip
    assert calls == [
        ("flights_between", {"origin": "LIS", "destination": "OSL", "date": "2027-06-01"})
    ]


def test_a_required_choice_nobody_made_is_not_made_up(moonshot: KimiEmulator) -> None:
    calls, message = run(moonshot, "Change 5 into something else", [DISTANCE], {})
    assert calls == []
    assert "from_unit" in message["content"]


def test_an_id_in_the_request_is_the_argument(moonshot: KimiEmulator) -> None:
    for question, code in (
        ("Where is the shipment with tracking code #4521?", "4521"),
        ("Where is shipment ZX-99812 right now?", "ZX-99812"),
    ):
        calls, _ = run(moonshot, question, [TRACK], {"track_shipment": "in Porto"})
        assert calls == [("track_shipment", {"tracking_code": code})], question


MOORING = fn(
    "book_mooring",
    "Reserve a berth for a boat",
    {"marina": {"type": "string"}, "nights": {"type": "integer"}},
    ["marina", "nights"],
)


def test_a_free_text_argument_takes_the_place_the_message_names(moonshot: KimiEmulator) -> None:
    """A field the planner has no kind for (``marina``) takes the place named after a
    preposition, not the question and not nothing."""
    calls, _ = run(
        moonshot, "Book 3 nights for my boat in Saint-Malo.", [MOORING],
        {"book_mooring": "berth 12 booked"},
    )  # fmt: skip
    assert calls == [("book_mooring", {"marina": "Saint-Malo", "nights": 3})]
