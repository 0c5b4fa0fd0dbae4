"""Partial mode: continue the assistant's prefix into well-formed output.

A prefix that opens JSON (``{``, ``{"name": "``, ``[`` ...) is scanned once to know where
it stops (inside a key, inside a value, after a comma, how deep) and continued so that
prefix and continuation parse: the value being written is finished from the planned
answer, the planned keys not written yet follow, and every open string, object and array
is closed. A ```` ```json ```` fence opened in the prefix is closed too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["continue_json", "opens_json", "prefix_keys"]

#: Nesting up to which the continued JSON is checked by parsing it.
_MAX_CHECKED_DEPTH = 200


_PREFIX_KEY_RE = re.compile(r'"([A-Za-z_][A-Za-z0-9_]{0,40})"\s*:')


def prefix_keys(prefix: str) -> list[str]:
    """The keys a JSON prefix has written (``{"name": "`` -> ``["name"]``)."""
    return [m.group(1) for m in _PREFIX_KEY_RE.finditer(prefix[:20_000])][:32]


def opens_json(prefix: str) -> bool:
    """Whether the prefix has started a JSON value."""
    start = _json_start(prefix)
    return start >= 0


def _json_start(prefix: str) -> int:
    brace = prefix.find("{")
    bracket = prefix.find("[")
    found = [p for p in (brace, bracket) if p >= 0]
    return min(found) if found else -1


@dataclass
class _Frame:
    kind: str  # "object" or "array"
    keys: list[str] = field(default_factory=list)
    #: Object: "key" (a key or the end is next), "colon", "value", "comma".
    expect: str = "key"
    #: Array: how many values it holds so far.
    items: int = 0


@dataclass
class _State:
    stack: list[_Frame] = field(default_factory=list)
    in_string: bool = False
    string_is_key: bool = False
    buffer: list[str] = field(default_factory=list)
    escape: bool = False
    literal: str = ""


def _scan(text: str) -> _State:
    st = _State()
    for ch in text:
        if st.in_string:
            if st.escape:
                st.escape = False
                st.buffer.append(ch)
            elif ch == "\\":
                st.escape = True
            elif ch == '"':
                st.in_string = False
                _string_done(st, "".join(st.buffer))
            else:
                st.buffer.append(ch)
            continue
        if ch == '"':
            st.literal = ""
            st.in_string = True
            st.buffer = []
            top = st.stack[-1] if st.stack else None
            st.string_is_key = top is not None and top.kind == "object" and top.expect == "key"
        elif ch in "{[":
            _value_started(st)
            st.stack.append(_Frame("object" if ch == "{" else "array"))
            if ch == "[":
                st.stack[-1].expect = "value"
        elif ch in "}]":
            if st.stack:
                st.stack.pop()
            _value_done(st)
        elif ch == ":":
            if st.stack and st.stack[-1].expect == "colon":
                st.stack[-1].expect = "value"
        elif ch == ",":
            st.literal = ""
            if st.stack:
                st.stack[-1].expect = "key" if st.stack[-1].kind == "object" else "value"
        elif not ch.isspace():
            if not st.literal:
                _value_started(st)
            st.literal += ch
    return st


def _value_started(st: _State) -> None:
    if st.stack and st.stack[-1].expect == "value":
        st.stack[-1].expect = "comma"
        st.stack[-1].items += 1


def _value_done(st: _State) -> None:
    st.literal = ""
    if st.stack and st.stack[-1].expect == "value":
        st.stack[-1].expect = "comma"


def _string_done(st: _State, text: str) -> None:
    top = st.stack[-1] if st.stack else None
    if top is None:
        return
    if st.string_is_key:
        top.keys.append(text)
        top.expect = "colon"
    elif top.expect == "value":
        top.expect = "comma"
        top.items += 1


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def continue_json(prefix: str, planned: Mapping[str, Any]) -> str | None:
    """A continuation of ``prefix`` that makes it valid JSON (None if it cannot)."""
    start = _json_start(prefix)
    if start < 0:
        return None
    body = prefix[start:]
    st = _scan(body)
    out: list[str] = []
    top_level = len(st.stack) == 1
    frame = st.stack[-1] if st.stack else None
    current = frame.keys[-1] if frame and frame.keys else None
    if st.in_string:
        text = "".join(st.buffer)
        if st.string_is_key and frame is not None:
            key = next((k for k in planned if k.startswith(text) and k not in frame.keys), None)
            if key is None:
                out.append('": null')
            else:
                out.append(key[len(text) :] + '": ' + _dump(planned[key]))
                frame.keys.append(key)
            frame.expect = "comma"
        else:
            want = planned.get(current) if top_level and current else None
            rest = ""
            if isinstance(want, str) and want.startswith(text):
                rest = want[len(text) :]
            out.append(_dump(rest)[1:-1] + '"')
            if frame is not None and frame.expect == "value":
                frame.expect = "comma"
    elif st.literal:
        out.append(_finish_literal(st.literal))
    elif frame is not None and frame.expect == "colon":
        value = planned.get(current) if top_level and current else None
        out.append(": " + _dump(value))
        frame.expect = "comma"
    elif frame is not None and frame.expect == "value":
        value = planned.get(current) if top_level and current and frame.kind == "object" else None
        if frame.kind == "array":
            # An array the prefix opened for a planned key gets the planned values.
            parent = st.stack[-2] if len(st.stack) == 2 else None
            key = parent.keys[-1] if parent is not None and parent.keys else None
            want = planned.get(key) if key is not None else None
            values = want if isinstance(want, list) else [want] if want is not None else []
            if frame.items == 0:
                out.append(", ".join(_dump(v) for v in values))
            else:  # after a comma: one more value is due
                out.append(_dump(values[-1] if values else None))
            out.append("]")
            st.stack.pop()
            frame = st.stack[-1] if st.stack else None
            if frame is not None:
                frame.expect = "comma"
        else:
            out.append(_dump(value))
            frame.expect = "comma"
    if frame is not None and frame.kind == "object":
        top = len(st.stack) == 1
        missing = [k for k in planned if k not in frame.keys] if top else []
        if missing:
            need_comma = bool(frame.keys) and frame.expect == "comma"
            parts = [f"{_dump(k)}: {_dump(planned[k])}" for k in missing]
            out.append((", " if need_comma else "") + ", ".join(parts))
        elif frame.expect == "key" and frame.keys:
            # A comma after the last planned key: one more member is due.
            out.append('"note": "completed by the Kimi emulator"')
    for f in reversed(st.stack):
        out.append("}" if f.kind == "object" else "]")
    continuation = "".join(out)
    if prefix[:start].rstrip().endswith("```json") or prefix[:start].rstrip().endswith("```"):
        continuation += "\n```"
    if len(st.stack) > _MAX_CHECKED_DEPTH:
        return continuation  # json.loads would recurse too deep to check it
    try:
        json.loads(body + _strip_fence(continuation))
    except (ValueError, RecursionError):
        return None
    return continuation


def _strip_fence(text: str) -> str:
    return text[: -len("\n```")] if text.endswith("\n```") else text


def _finish_literal(literal: str) -> str:
    for word in ("true", "false", "null"):
        if word.startswith(literal) and literal != word:
            return word[len(literal) :]
    if literal.endswith((".", "-", "e", "E", "+")):
        return "0"
    return ""
