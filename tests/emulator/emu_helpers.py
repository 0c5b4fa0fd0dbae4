"""Helpers for the emulator tests: raw HTTP calls and SSE parsing (no kimi_core involved)."""

from __future__ import annotations

import atexit
import json
from typing import Any

import httpx

from kimi_emulator import KimiEmulator

USER_HI = [{"role": "user", "content": "Hello there"}]

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "the city"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}


#: One pooled client for the whole run (a fresh httpx client per call costs ~30 ms).
HTTP = httpx.Client(timeout=10)
atexit.register(HTTP.close)


def headers(emu: KimiEmulator) -> dict[str, str]:
    return {"Authorization": f"Bearer {emu.api_key}"}


def chat(emu: KimiEmulator, body: dict[str, Any], **kw: Any) -> httpx.Response:
    """POST a chat body to the dialect's chat path."""
    return HTTP.post(emu.chat_url, json=body, headers=headers(emu), **kw)


def parse_sse(raw: bytes) -> tuple[list[dict[str, Any]], bool]:
    """``(events, saw_done)`` of an SSE body."""
    events: list[dict[str, Any]] = []
    done = False
    for block in raw.split(b"\n\n"):
        for line in block.split(b"\n"):
            if not line.startswith(b"data: "):
                continue
            data = line[6:]
            if data == b"[DONE]":
                done = True
            else:
                events.append(json.loads(data))
    return events, done


def stream(
    emu: KimiEmulator, body: dict[str, Any]
) -> tuple[httpx.Response, list[dict[str, Any]], bool]:
    resp = chat(emu, {**body, "stream": True})
    events, done = parse_sse(resp.content) if resp.status_code == 200 else ([], False)
    return resp, events, done


#: A model Moonshot serves today, and the switch that makes it answer without thinking
#: (the 2026 line has no non-thinking model; kimi-k2.6 with thinking disabled is one).
PLAIN_MODEL = "kimi-k2.6"
NO_THINKING: dict[str, Any] = {"thinking": {"type": "disabled"}}


def body(model: str | None = None, **kw: Any) -> dict[str, Any]:
    """A chat body; without a model, kimi-k2.6 with thinking disabled."""
    if model is None:
        return {"model": PLAIN_MODEL, "messages": USER_HI, **NO_THINKING, **kw}
    return {"model": model, "messages": USER_HI, **kw}


def validate(value: Any, schema: dict[str, Any], root: dict[str, Any] | None = None) -> None:
    """A small JSON Schema validator (type, properties, required, enum, items, anyOf, $ref,
    additionalProperties, min/max), enough to check the responder's JSON."""
    root = root or schema
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.split("/")[-1]
        validate(value, root.get("$defs", {}).get(name) or root.get("definitions", {})[name], root)
        return
    if "anyOf" in schema:
        errors = []
        for branch in schema["anyOf"]:
            try:
                validate(value, branch, root)
                return
            except AssertionError as exc:
                errors.append(str(exc))
        raise AssertionError(f"{value!r} matches no anyOf branch: {errors}")
    if "enum" in schema:
        assert value in schema["enum"], (value, schema["enum"])
    typ = schema.get("type")
    checks = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
    }
    if isinstance(typ, str):
        assert checks[typ](value), f"{value!r} is not {typ}"
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            assert key in value, f"missing required {key!r} in {value!r}"
        for key, sub in value.items():
            if key in props:
                validate(sub, props[key], root)
            else:
                assert schema.get("additionalProperties", True) is not False, f"extra {key!r}"
    if isinstance(value, list):
        for item in value:
            validate(item, schema.get("items", {}), root)
        assert len(value) >= schema.get("minItems", 0)
        assert len(value) <= schema.get("maxItems", 10**9)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        assert value >= schema.get("minimum", -float("inf"))
        assert value <= schema.get("maximum", float("inf"))
    if isinstance(value, str):
        assert len(value) >= schema.get("minLength", 0)
        assert len(value) <= schema.get("maxLength", 10**9)


#: A model each dialect documents (and serves by default).
MODEL_FOR = {
    "moonshot": "kimi-k2.6",
    "acedata": "kimi-k2.5",
    "evolink": "kimi-k2-thinking",
    "gptproto": "kimi-k2.5",
    "openai-compatible": "moonshotai/kimi-k2.5",
}


def body_for(emu: KimiEmulator, **kw: Any) -> dict[str, Any]:
    """A minimal valid chat body for the emulator's dialect."""
    return body(MODEL_FOR[emu.dialect], **kw)
