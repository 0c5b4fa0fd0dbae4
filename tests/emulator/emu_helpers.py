"""Helpers for the emulator tests: raw HTTP calls and SSE parsing (no kimi_core involved)."""

from __future__ import annotations

import atexit
import json
from typing import Any

import httpx

from kimi_core.emulator import KimiEmulator

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


def body(model: str = "kimi-k2-turbo-preview", **kw: Any) -> dict[str, Any]:
    return {"model": model, "messages": USER_HI, **kw}
