"""Hundreds of concurrent streams complete (no timing assertions: only completeness)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from emu_helpers import parse_sse

import kimi_core as kc
from kimi_emulator import KimiEmulator


class _Gate:
    """Opens once ``n`` streams have each received their first bytes: until then no client
    reads further, so all ``n`` connections are open with a response under way at once."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.arrived = 0
        self.open = asyncio.Event()

    async def wait(self) -> None:
        self.arrived += 1
        if self.arrived == self.n:
            self.open.set()
        await self.open.wait()


async def _one_stream(
    client: httpx.AsyncClient, emu: KimiEmulator, i: int, gate: _Gate
) -> tuple[int, str, bool]:
    body = {
        "model": "kimi-k2.6",
        "messages": [{"role": "user", "content": f"Question number {i}"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    async with client.stream("POST", emu.chat_url, json=body, headers=headers) as resp:
        parts = resp.aiter_bytes()
        first = await parts.__anext__()
        await gate.wait()  # every stream is open and has started before any goes on
        raw = first + b"".join([part async for part in parts])
    events, done = parse_sse(raw)
    content = "".join(
        e["choices"][0]["delta"].get("content") or "" for e in events if e.get("choices")
    )
    return resp.status_code, content, done


async def test_300_concurrent_streams(kimi_emulator: KimiEmulator) -> None:
    # Streams written event by event (a tiny delay), so each stays open while the others run.
    kimi_emulator.stream_delay = 0.001
    gate = _Gate(300)
    # Several clients: one httpx pool with hundreds of connections is slow on its own.
    clients = [httpx.AsyncClient(timeout=60) for _ in range(10)]
    try:
        results = await asyncio.wait_for(
            asyncio.gather(
                *(_one_stream(clients[i % 10], kimi_emulator, i, gate) for i in range(300))
            ),
            timeout=120,
        )
    finally:
        for client in clients:
            await client.aclose()
    assert len(results) == 300
    for i, (status, content, done) in enumerate(results):
        assert status == 200
        assert done
        assert f"Question number {i}" in content
    assert kimi_emulator.request_count == 300


async def test_concurrent_long_scripted_streams_through_the_core(
    kimi_emulator: KimiEmulator,
) -> None:
    kimi_emulator.script(chunks=500, times=None)
    client = kc.AsyncKimiClient(provider="moonshot", base_url=kimi_emulator.base_url, api_key="k")

    async def run() -> tuple[int, str]:
        stream = client.stream(
            model="kimi-k2.6", thinking=False, messages=[{"role": "user", "content": "go"}]
        )
        count = 0
        async for chunk in stream:
            if chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                count += 1
        return count, stream.completion()["choices"][0]["message"]["content"]

    results: list[Any] = await asyncio.gather(*(run() for _ in range(100)))
    assert all(count == 500 for count, _ in results)
    assert all(text == "tok " * 500 for _, text in results)


def test_the_server_is_not_a_measurements_bottleneck() -> None:
    """A deep listen queue (hundreds of connections opened at once are queued, not reset)
    and TCP_NODELAY on every accepted connection (no 40 ms delayed-ACK stall when a
    response is written in parts)."""
    import gc
    import socket

    from kimi_emulator import _server

    assert _server.LISTEN_BACKLOG >= 1024
    with KimiEmulator() as emu:
        body = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi"}]}
        headers = {"Authorization": f"Bearer {emu.api_key}"}
        with httpx.Client() as client:
            assert client.post(f"{emu.base_url}/chat/completions", json=body, headers=headers)
            transports = [
                o
                for o in gc.get_objects()
                if type(o).__name__ == "_SelectorSocketTransport" and not o.is_closing()
            ]
            served = [
                t.get_extra_info("socket")
                for t in transports
                if t.get_extra_info("sockname", ("", 0))[1] == emu.port
            ]
            assert served
            for sock in served:
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
