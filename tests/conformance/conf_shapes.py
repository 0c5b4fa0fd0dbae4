"""Shapes of chat answers, and where two of them differ.

A shape keeps what a client's code depends on and drops what varies between two answers
to the same question: every key (present or absent), the type of every value, the value
of the enumerated fields (``object``, ``role``, ``type``, ``finish_reason``, ``model``,
...), the pattern of every id (``chatcmpl-<uuid>``, ``NAME_N``, ...). A stream's shape is
the order of its kinds of chunks (role, reasoning, the empty reasoning marker, content,
tool-call start and arguments, finish, usage trailer) with the shape of the first chunk
of each kind, its SSE comments and its ``[DONE]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

ENUM_KEYS = frozenset(
    {"object", "role", "type", "finish_reason", "native_finish_reason", "model", "format", "code"}
)
ID_KEYS = frozenset({"id", "trace_id", "tool_call_id"})
_HEX = "[0-9a-f]"
_UUID = f"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}"
ID_PATTERNS = [
    (f"chatcmpl-{_UUID}", "chatcmpl-<uuid>"),
    (f"chatcmpl-{_HEX}{{24}}", "chatcmpl-<24 hex>"),
    (f"chatcmpl-{_HEX}{{16}}", "chatcmpl-<16 hex>"),
    (r"gen-\d{10}-[A-Za-z0-9]{20}", "gen-<time>-<20 alnum>"),
    (r"functions\.[A-Za-z_][\w-]*:\d+", "functions.NAME:N"),
    (r"[A-Za-z_][\w-]*_\d+", "NAME_N"),
    (r"[A-Za-z_][\w-]*:\d+", "NAME:N"),
    (_UUID, "<uuid>"),
    (f"{_HEX}{{32}}", "<32 hex>"),
]
FINGERPRINTS = [(f"fpv0_{_HEX}{{8}}", "fpv0_<8 hex>"), (f"fp_{_HEX}{{10}}", "fp_<10 hex>")]


def id_kind(value: str, patterns: list[tuple[str, str]] = ID_PATTERNS) -> str:
    for pattern, name in patterns:
        if re.fullmatch(pattern, value):
            return name
    return "<other>"


def shape(value: Any, key: str | None = None) -> Any:
    if isinstance(value, dict):
        return {k: shape(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v, key) for v in value]
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        if key in ENUM_KEYS:
            return f"={value}"
        if key in ID_KEYS:
            return f"id {id_kind(value)}"
        if key == "system_fingerprint":
            return f"fingerprint {id_kind(value, FINGERPRINTS)}"
        return "str"
    return type(value).__name__


def differences(recorded: Any, emulated: Any, where: str = "") -> Iterator[str]:
    """Where two shapes differ, one line each."""
    if isinstance(recorded, dict) and isinstance(emulated, dict):
        for k in recorded:
            if k not in emulated:
                yield f"{where}.{k}: only in the recording"
        for k in emulated:
            if k not in recorded:
                yield f"{where}.{k}: only in the emulator"
        for k in recorded:
            if k in emulated:
                yield from differences(recorded[k], emulated[k], f"{where}.{k}")
    elif isinstance(recorded, list) and isinstance(emulated, list):
        if where.endswith(".tool_calls") and recorded and emulated:
            # How many calls is the model's choice, not the wire's: every emulated call
            # must have the shape of the first recorded one.
            for i, b in enumerate(emulated):
                yield from differences(recorded[0], b, f"{where}[{min(i, 1)}]")
            return
        if len(recorded) != len(emulated):
            yield f"{where}: {len(recorded)} items recorded, {len(emulated)} emulated"
        for i, (a, b) in enumerate(zip(recorded, emulated)):
            yield from differences(a, b, f"{where}[{i}]")
    elif recorded != emulated:
        yield f"{where}: recorded {_brief(recorded)}, emulated {_brief(emulated)}"


def _brief(s: Any) -> str:
    if isinstance(s, dict):
        return "an object"
    if isinstance(s, list):
        return "a list"
    return str(s)


# --------------------------------------------------------------------------- streams


def chunk_kind(chunk: dict[str, Any]) -> str:
    choices = chunk.get("choices")
    if not choices:
        return "usage trailer" if chunk.get("usage") else "empty"
    choice = choices[0]
    delta = choice.get("delta") or {}
    if choice.get("finish_reason"):
        return "finish"
    if delta.get("tool_calls"):
        return "tool call" if any("id" in t for t in delta["tool_calls"]) else "tool arguments"
    for name in ("reasoning_content", "reasoning"):
        if name in delta and delta[name] is not None:
            if delta[name] == "":
                return "reasoning marker"
            return "reasoning + content" if delta.get("content") else "reasoning"
    if delta.get("content"):
        return "content"
    if delta.get("role"):
        return "role"
    return "empty"


_CALL_KINDS = ("tool call", "tool arguments")


def kinds(events: list[dict[str, Any]]) -> list[str]:
    """The kinds of chunks in order, each run counted once (and several tool calls in a
    row once: how many calls is the model's choice, not the wire's)."""
    out: list[str] = []
    for event in events:
        kind = chunk_kind(event)
        if out and out[-1] == kind:
            continue
        if kind in _CALL_KINDS and kind in _calls_block(out):
            continue
        out.append(kind)
    return out


def _calls_block(out: list[str]) -> list[str]:
    block: list[str] = []
    for kind in reversed(out):
        if kind not in _CALL_KINDS:
            break
        block.append(kind)
    return block


def stream_differences(
    recorded: list[dict[str, Any]], emulated: list[dict[str, Any]]
) -> Iterator[str]:
    a, b = kinds(recorded), kinds(emulated)
    if a != b:
        yield f"chunk kinds: recorded {a}, emulated {b}"
    firsts: dict[str, tuple[Any, Any]] = {}
    for event in recorded:
        firsts.setdefault(chunk_kind(event), (event, None))
    for event in emulated:
        kind = chunk_kind(event)
        if kind in firsts and firsts[kind][1] is None:
            firsts[kind] = (firsts[kind][0], event)
    for kind, (rec, emu) in firsts.items():
        if emu is not None:
            yield from differences(shape(rec), shape(emu), f"<{kind}>")
