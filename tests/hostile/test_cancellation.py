"""Early cancellation leaves no stuck slot (httpcore #1093, #830).

A request cancelled after the pool handed it a new connection, and before it used it,
strands that connection (CONNECTING forever); on main, 2,000 requests cancelled by
``asyncio.wait_for`` after 2 to 10 ms against a pool of 10 left all 10 slots stuck and
the next 100 requests failed with PoolTimeout. The transport now sends each request in a
task of its own and cancels it only where httpcore cleans up after itself, and while a few
abandoned requests wait in a pool's queue, new ones wait at its gate (abandoned ones must
not pile up there: with 30 callers on Python 3.13, or 60 on 3.11, they did, and pool
timeouts that fired as the pool gave them connections stranded all 10 slots the same way).
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from typing import Any

import httpx
import pytest
from _loopback import Conn, LoopbackServer, Received, send_json, send_pieces, sse_body

import kimi_core as kc
from kimi_core import _cancel

from .wire import KEY, MODEL, USER, completion, delta

ANSWER = send_json(completion())


def jittered(request: Received, conn: Conn) -> None:
    time.sleep(random.random() * 0.006)
    ANSWER(request, conn)


def pool_client(
    loopback: LoopbackServer, http: httpx.AsyncClient, pool: float = 3
) -> kc.AsyncKimiClient:
    # A short pool timeout: a stuck slot shows as a PoolTimeout (APITimeoutError) at once.
    return kc.AsyncKimiClient(
        provider="openai-compatible",
        base_url=loopback.base_url,
        api_key=KEY,
        http_client=http,
        max_retries=0,
        timeout=httpx.Timeout(10, pool=pool),
    )


class HeldConnection:
    """The loopback holds the answer to the "slow" request until :meth:`release` (a
    busy connection for as long as a test needs, whatever the machine's speed)."""

    def __init__(self, loopback: LoopbackServer) -> None:
        self._arrived, self._release = threading.Event(), threading.Event()
        loopback.handler = self._handle

    def _handle(self, request: Received, conn: Conn) -> None:
        if request.json["messages"][0]["content"] == "slow":
            self._arrived.set()
            self._release.wait(10)
        ANSWER(request, conn)

    async def occupy(self, c: kc.AsyncKimiClient) -> asyncio.Future[Any]:
        """Send the slow request; return once the server holds it."""
        busy = asyncio.ensure_future(
            c.chat(model=MODEL, messages=[{"role": "user", "content": "slow"}])
        )
        await asyncio.to_thread(self._arrived.wait, 10)
        return busy

    def release(self) -> None:
        self._release.set()


async def cancel_many(c: kc.AsyncKimiClient, count: int, work: Any) -> int:
    """Start ``count`` calls, 30 at a time, each cancelled after 2 to 10 ms; how many
    finished before their cancellation."""
    gate = asyncio.Semaphore(30)
    finished = 0

    async def one() -> None:
        nonlocal finished
        async with gate:
            try:
                await asyncio.wait_for(work(c), random.uniform(0.002, 0.010))
                finished += 1
            except (asyncio.TimeoutError, kc.KimiError):
                pass

    await asyncio.gather(*(one() for _ in range(count)))
    return finished


async def chat(c: kc.AsyncKimiClient) -> Any:
    return await c.chat(model=MODEL, messages=USER)


async def stream(c: kc.AsyncKimiClient) -> Any:
    return [chunk async for chunk in c.stream(model=MODEL, messages=USER)]


@pytest.mark.parametrize("work", [chat, stream], ids=["chat", "stream"])
def test_2000_cancelled_requests_leave_the_pool_usable(loopback: LoopbackServer, work: Any) -> None:
    random.seed(11)
    if work is chat:
        loopback.handler = jittered
    else:
        body = sse_body([delta("a"), delta("b"), delta("", "stop")])
        head = (
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            + f"content-length: {len(body)}\r\n\r\n".encode()
        )
        loopback.handler = send_pieces([head, body[:40], body[40:]], delay=0.003)

    async def run() -> list[Any]:
        limits = httpx.Limits(max_connections=10, max_keepalive_connections=10)
        async with httpx.AsyncClient(limits=limits) as http:
            c = pool_client(loopback, http)
            await cancel_many(c, 2000, work)
            return await asyncio.gather(*(work(c) for _ in range(100)), return_exceptions=True)

    results = asyncio.run(run())
    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures == [], failures[:3]


def test_an_abandoned_request_sends_nothing(loopback: LoopbackServer) -> None:
    """Queued behind a busy connection, then cancelled: it never reaches the server."""

    held = HeldConnection(loopback)

    async def run() -> None:
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=1)) as http:
            c = pool_client(loopback, http)
            busy = await held.occupy(c)
            for _ in range(20):
                with pytest.raises(asyncio.TimeoutError):
                    await asyncio.wait_for(chat(c), 0.01)
            held.release()
            await busy
            await chat(c)

    asyncio.run(run())
    sent = [r.json["messages"][0]["content"] for r in loopback.received]
    assert sent == ["slow", "hi"]  # none of the 20 cancelled ones


def test_a_cancelled_call_with_a_response_already_on_its_way_closes_it(
    loopback: LoopbackServer,
) -> None:
    loopback.handler = jittered

    async def run() -> int:
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=2)) as http:
            c = pool_client(loopback, http)
            task = asyncio.ensure_future(chat(c))
            await asyncio.sleep(0.002)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await asyncio.sleep(0.05)
            for _ in range(5):
                await chat(c)
            return len(loopback.received)

    assert asyncio.run(run()) in (5, 6)


def test_requests_kept_at_the_gate_keep_their_pool_timeout(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One connection, busy until the test ends it, and a gate that closes at one
    abandoned request in the pool's queue: after one queued call is cancelled, 60 calls
    with a pool timeout of 0.2 s wait at the gate and all end with the pool timeout, none
    reaches the server, and the pool is usable after. (Were the wait at the gate not
    counted, they would wait there until the connection is free, then be answered.)"""
    monkeypatch.setattr(_cancel, "_ABANDONED_QUEUED", 1)
    held = HeldConnection(loopback)

    async def run() -> list[Any]:
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=1)) as http:
            c = pool_client(loopback, http, pool=5)
            busy = await held.occupy(c)
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(chat(c), 0.05)  # abandoned in the queue: gate shut
            short = pool_client(loopback, http, pool=0.2)
            results = await asyncio.gather(
                *(chat(short) for _ in range(60)), return_exceptions=True
            )
            held.release()
            await busy
            await chat(c)
            return results

    results = asyncio.run(run())
    assert all(isinstance(r, kc.APITimeoutError) and "PoolTimeout" in str(r) for r in results)
    sent = [r.json["messages"][0]["content"] for r in loopback.received]
    assert sent == ["slow", "hi"]


def test_without_cancellations_the_gate_stays_open(loopback: LoopbackServer) -> None:
    """Many requests queued behind a small pool, none cancelled: all answered; the gate
    never closed (it closes only for abandoned requests)."""
    loopback.handler = jittered

    async def run() -> tuple[int, bool]:
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=2)) as http:
            c = pool_client(loopback, http)
            results = await asyncio.gather(*(chat(c) for _ in range(200)))
            gate = _cancel._gates[http]
            return len(results), gate.opened.is_set() and gate.queued == 0

    assert asyncio.run(run()) == (200, True)
