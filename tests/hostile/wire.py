"""What the hostile-server tests share: clients pointed at the loopback server, and the
shapes of good answers to break."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any

import kimi_core as kc

KEY = "sk-hostile-0123456789abcdefghijkl"
USER = [{"role": "user", "content": "hi"}]
MODEL = "kimi-k2.6"


def client(base_url: str, **kw: Any) -> kc.KimiClient:
    kw.setdefault("max_retries", 0)
    return kc.KimiClient(provider="openai-compatible", base_url=base_url, api_key=KEY, **kw)


def aclient(base_url: str, **kw: Any) -> kc.AsyncKimiClient:
    kw.setdefault("max_retries", 0)
    return kc.AsyncKimiClient(provider="openai-compatible", base_url=base_url, api_key=KEY, **kw)


def completion(text: str = "ok", **message: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, **message},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    }


def delta(text: str, finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "model": MODEL,
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}],
    }


def event(payload: Any) -> bytes:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return b"data: " + data + b"\n\n"


def collect(stream: Any) -> tuple[list[dict[str, Any]], BaseException | None]:
    """The chunks a sync stream delivered, and what it raised (None when it ended)."""
    got: list[dict[str, Any]] = []
    try:
        for chunk in stream:
            got.append(chunk)
    except BaseException as exc:  # the tests look at what came out
        return got, exc
    return got, None


def acollect(stream: Any) -> tuple[list[dict[str, Any]], BaseException | None]:
    async def run() -> tuple[list[dict[str, Any]], BaseException | None]:
        got: list[dict[str, Any]] = []
        try:
            async for chunk in stream:
                got.append(chunk)
        except BaseException as exc:
            return got, exc
        return got, None

    return asyncio.run(run())


def text_of(chunks: list[dict[str, Any]]) -> str:
    return "".join(
        (c["choices"][0].get("delta") or {}).get("content") or ""
        for c in chunks
        if c.get("choices")
    )


def within(seconds: float, work: Callable[[], Any]) -> Any:
    """``work()``'s result (what it raises is raised), or a failure if it is still
    running after ``seconds``: it runs in a daemon thread, so a hang or a quadratic parse
    cannot stall the suite. A ceiling that only catches hangs, not a timing."""
    out: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            out.append(work())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    if errors:
        raise errors[0]
    return out[0]


def splits(body: bytes, cuts: list[int]) -> list[bytes]:
    """``body`` cut at the given points (taken modulo its length), without empty pieces."""
    points = sorted({c % (len(body) + 1) for c in cuts})
    out, start = [], 0
    for p in points:
        out.append(body[start:p])
        start = p
    out.append(body[start:])
    return [p for p in out if p]
