"""An event's data is read as ``json.loads`` reads it (kimi_core._events._loads, the
fast path for the usual case), whatever the bytes: the same value, or the same error."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kimi_core._events import _loads

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


def _outcome(fn: Any, data: bytes) -> tuple[str, Any]:
    try:
        return "value", fn(data)
    except (ValueError, RecursionError) as exc:
        return type(exc).__name__, str(exc)


@settings(max_examples=400, deadline=None)
@given(json_values, st.sampled_from(["", " ", "\n", "\r\n", " x", "}", "\ufeff"]), st.booleans())
def test_json_text_is_read_as_json_loads_reads_it(value: Any, tail: str, ascii_only: bool) -> None:
    data = (json.dumps(value, ensure_ascii=ascii_only) + tail).encode()
    assert _outcome(_loads, data) == _outcome(json.loads, data)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=40))
def test_any_bytes_are_read_as_json_loads_reads_them(data: bytes) -> None:
    assert _outcome(_loads, data) == _outcome(json.loads, data)


@pytest.mark.parametrize(
    "data",
    [
        b'{"choices": []}',
        b' {"a": 1}',
        b'\xef\xbb\xbf{"a": 1}',  # a UTF-8 byte order mark
        '{"a": "é"}'.encode("utf-16"),
        b'{"a": 1} {"b": 2}',
        b'{"a": "\x01"}',  # a control character inside a string
        b"[" * 5000,
        b"",
        b"\xff\xfe",
    ],
)
def test_edge_cases_match_json_loads(data: bytes) -> None:
    assert _outcome(_loads, data) == _outcome(json.loads, data)
