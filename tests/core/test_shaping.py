"""Request shaping (``kimi_core._shaping``): one merge for both adapters, one policy for
unknown keys, the stream check, the json_schema format and where an instruction goes."""

from __future__ import annotations

from typing import Any

import pytest

import kimi_core as kc
from kimi_core import _adapter as ka

MOONSHOT = kc.get_provider("moonshot")
CALLS = ka.CallConventions(
    calls="Test calls",
    raw_field="raw_kwargs",
    one_choice="a test stream carries one choice",
    passed_down=frozenset({"formatted"}),
)
HI = [{"role": "user", "content": "hi"}]


def shape(**kw: Any) -> dict[str, Any]:
    kw.setdefault("configured", {"model": "kimi-k2-0905-preview"})
    kw.setdefault("raw", {})
    kw.setdefault("call", {})
    return ka.shape_request(MOONSHOT, CALLS, messages=HI, **kw).body


def test_later_sources_win_and_none_is_not_given() -> None:
    body = shape(
        configured={"model": "kimi-k2-0905-preview", "temperature": 0.3, "top_p": None},
        raw={"temperature": 0.4, "stop": ["END"]},
        call={"temperature": 0.5, "stop": None, "max_tokens": None},
    )
    assert body["temperature"] == 0.5 and body["stop"] == ["END"]
    assert "top_p" not in body and "max_completion_tokens" not in body
    assert (
        shape(configured={"model": "kimi-k2-0905-preview", "temperature": 0.3}, call={})[
            "temperature"
        ]
        == 0.3
    )
    assert shape(call={"model": "kimi-k2.6"})["model"] == "kimi-k2.6"
    assert shape(raw={"model": "kimi-k2.6"})["model"] == "kimi-k2.6"


def test_unknown_raw_keys_are_api_fields_and_unknown_call_keys_are_refused() -> None:
    body = shape(
        extra_body={"a": 1, "b": 1},
        raw={"b": 2, "c": 2, "extra_body": {"d": 2}},
        call={"extra_body": {"c": 3}},
    )
    assert (body["a"], body["b"], body["c"], body["d"]) == (1, 2, 3, 2)
    with pytest.raises(kc.ConfigurationError) as info:
        shape(call={"temprature": 0.5})
    message = str(info.value)
    assert message.startswith(
        "temprature=0.5 is not a parameter of Test calls (did you mean 'temperature'?)"
    )
    assert "extra_body={'temprature': ...} (or the raw_kwargs field)" in message
    assert info.value.param == "temprature" and info.value.model == "kimi-k2-0905-preview"


def test_keywords_the_framework_passes_down_are_dropped_from_both_sources() -> None:
    body = shape(raw={"formatted": True}, call={"formatted": False})
    assert "formatted" not in body


def test_several_choices_are_refused_on_a_stream_only() -> None:
    with pytest.raises(kc.ConfigurationError, match=r"^n=2 is not accepted when streaming: a test"):
        shape(call={"n": 2}, stream=True)
    assert shape(call={"n": 2})["n"] == 2
    assert shape(call={"n": 1}, stream=True)["n"] == 1
    with pytest.raises(kc.ConfigurationError, match=r"n=True is not accepted .*an integer"):
        shape(call={"n": True}, stream=True)  # a bool is no count: the type check says so


def test_wire_types_map_the_merged_parameters_before_they_are_checked() -> None:
    seen: list[dict[str, Any]] = []

    def wire(params: dict[str, Any]) -> None:
        seen.append(dict(params))
        params["tool_choice"] = "auto"

    body = shape(
        raw={"tools": [{"type": "function", "function": {"name": "ping"}}]},
        call={"tool_choice": "framework-value"},
        wire_types=wire,
    )
    assert seen[0]["tool_choice"] == "framework-value" and body["tool_choice"] == "auto"


def test_json_schema_format_has_one_name_pattern() -> None:
    fmt = ka.json_schema_format({"title": "My City!", "type": "object"}, strict=True)
    assert fmt == {
        "type": "json_schema",
        "json_schema": {
            "name": "My_City_",
            "schema": {"title": "My City!", "type": "object"},
            "strict": True,
        },
    }
    assert ka.json_schema_format({}, name="x" * 80)["json_schema"]["name"] == "x" * 64
    assert ka.json_schema_format({})["json_schema"]["name"] == "response"
    described = ka.json_schema_format({}, name="City", description="A city.")
    assert described["json_schema"]["description"] == "A city."


def test_instruction_placement() -> None:
    place = ka.instruction_placement
    assert place([("user", "hi")], "Do.") == (None, "Do.")
    assert place([("user", "hi"), ("system", "Be brief."), ("system", "x")], "Do.") == (
        1,
        "Be brief.\n\nDo.",
    )
    assert place([("system", [{"type": "text", "text": "a"}])], "Do.") == (
        0,
        [{"type": "text", "text": "a"}, {"type": "text", "text": "Do."}],
    )
    assert place([("system", ["block"])], "Do.", text_part=str.upper) == (0, ["block", "DO."])
    assert place([("system", None)], "Do.") == (0, "Do.")
