"""The one rule both adapters judge a finished tool call's arguments by."""

from __future__ import annotations

import pickle

import pytest

import kimi_core as kc
from kimi_core import _adapter as ka


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"city": "Paris"}', {"city": "Paris"}),
        ("", {}),
        ("  \n", {}),
        ('{"a": {"b": [1, 2]}}', {"a": {"b": [1, 2]}}),
    ],
)
def test_an_object_or_nothing_is_taken(text: str, expected: dict[str, object]) -> None:
    assert ka.tool_arguments(text) == (expected, "")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('{"city": "Par', "not valid JSON (Unterminated string"),
        ("{'city': 'Paris'}", "not valid JSON (Expecting property name"),
        ("[1, 2]", "JSON but not an object (list)"),
        ('"Paris"', "JSON but not an object (str)"),
        ("null", "JSON but not an object (NoneType)"),
    ],
)
def test_anything_else_is_refused_with_the_reason(text: str, why: str) -> None:
    args, reason = ka.tool_arguments(text)
    assert args is None
    assert reason.startswith(why)


def test_the_error_names_tool_call_reason_and_text() -> None:
    text = '{"city": "' + "x" * 300
    _, why = ka.tool_arguments(text)
    err = ka.tool_arguments_error("get_weather", "get_weather_0", text, why)
    assert isinstance(err, kc.ToolArgumentsError)
    assert (err.tool_name, err.tool_call_id, err.arguments) == (
        "get_weather",
        "get_weather_0",
        text,
    )
    assert str(err).startswith(
        "the call to tool 'get_weather' (id 'get_weather_0') has arguments that are "
        "not valid JSON (Unterminated string"
    )
    assert str(err).endswith("...'; the tool is not called with partial or no arguments")
    assert repr(text[:197] + "...") in str(err)  # the text is cut to 200 characters
    again = pickle.loads(pickle.dumps(err))
    assert (str(again), again.arguments) == (str(err), text)
