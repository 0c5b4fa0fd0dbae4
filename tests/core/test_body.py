"""The body as sent (kimi_core._body): the same JSON text httpx 0.28 would send for
``json=body`` whatever the body holds, with the parts kept between calls read-only and
encoded once; over loopback, the bytes on the wire parse to the request's body."""

from __future__ import annotations

import copy
import json
import math
import pickle
from typing import Any

import pytest
from _loopback import LoopbackServer
from hypothesis import given, settings
from hypothesis import strategies as st

import kimi_core as kc
from kimi_core._body import Encoded, encode_body
from kimi_core._history import Wire
from kimi_core._rules import build_chat_request

httpx_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=12,
)
parts = st.builds(Encoded, st.dictionaries(st.text(), values, max_size=4))
bodies = st.dictionaries(
    st.text(),
    st.one_of(values, st.lists(st.one_of(parts, values), max_size=4)),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(bodies)
def test_a_body_is_encoded_as_httpx_would_encode_it(body: dict[str, Any]) -> None:
    assert encode_body(body) == httpx_json(body).encode()


@settings(max_examples=100, deadline=None)
@given(parts)
def test_a_kept_part_encodes_once_to_its_own_text(part: Encoded) -> None:
    first = part.json()
    assert first == httpx_json(dict(part))
    assert part.json() is first  # kept, not encoded again


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_number_json_has_no_text_for_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="JSON compliant"):
        encode_body({"model": "m", "extra": bad})
    with pytest.raises(ValueError, match="JSON compliant"):
        encode_body({"messages": [Encoded({"x": bad})]})


def test_keys_that_are_not_text_are_encoded_as_json_would() -> None:
    body: dict[Any, Any] = {"model": "m", 1: "a", None: [Encoded({"k": 1})]}
    assert encode_body(body) == httpx_json(body).encode()


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p.__setitem__("role", "x"),
        lambda p: p.__delitem__("role"),
        lambda p: p.update(role="x"),
        lambda p: p.pop("role"),
        lambda p: p.popitem(),
        lambda p: p.clear(),
        lambda p: p.setdefault("name", "x"),
        lambda p: p.__ior__({"role": "x"}),
    ],
)
def test_a_kept_part_cannot_be_changed(change: Any) -> None:
    part = Encoded({"role": "user", "content": "hi"})
    with pytest.raises(TypeError, match="read-only"):
        change(part)
    assert part == {"role": "user", "content": "hi"}


def test_copies_and_pickles_of_a_kept_part_are_plain_dicts() -> None:
    part = Encoded({"role": "user", "content": ["hi"]})
    for other in (copy.copy(part), copy.deepcopy(part), pickle.loads(pickle.dumps(part))):
        assert type(other) is dict and other == part
        other["role"] = "system"  # a copy can be changed
    deep = copy.deepcopy(part)
    deep["content"].append("x")
    assert part["content"] == ["hi"]


def test_a_kept_message_is_checked_and_encoded_once_per_model() -> None:
    profile = kc.resolve_provider("moonshot", None)
    wire = Wire({"role": "user", "content": "Rain in Brest?"})
    messages = [wire, {"role": "user", "content": "And tomorrow?"}]
    first = build_chat_request(profile, model="kimi-k2.6", messages=messages)
    again = build_chat_request(profile, model="kimi-k2.6", messages=messages)
    other = build_chat_request(profile, model="kimi-k2.5", messages=messages)
    kept = first.body["messages"][0]
    assert type(kept) is Encoded and again.body["messages"][0] is kept
    assert other.body["messages"][0] is not kept  # checked again for another model
    assert type(first.body["messages"][1]) is dict  # the last message: never kept


def test_the_bytes_on_the_wire_are_the_request_body(loopback: LoopbackServer) -> None:
    loopback.reply_json(
        {
            "id": "c",
            "object": "chat.completion",
            "created": 1,
            "model": "kimi-k2.6",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "ok"},
                    "finish_reason": "stop",
                }
            ],
        }
    )
    profile = kc.resolve_provider("moonshot", loopback.base_url)
    tools = [
        {
            "type": "function",
            "function": {
                "name": "forecast",
                "parameters": {"type": "object", "properties": {"town": {"type": "string"}}},
            },
        }
    ]
    history = [
        Wire({"role": "user", "content": "Météo à Brest ?"}),
        {"role": "user", "content": "Et demain ?"},
    ]
    request = build_chat_request(profile, model="kimi-k2.6", messages=history, tools=tools)
    client = kc.KimiClient(
        provider="moonshot", base_url=loopback.base_url, api_key="k", max_retries=0
    )
    try:
        client.chat(request)
        client.chat(request)  # its kept parts encoded once, sent as they were
    finally:
        client.close()
    for received in loopback.received[-2:]:
        assert received.headers["content-type"] == "application/json"
        assert received.body == httpx_json(request.body).encode()
