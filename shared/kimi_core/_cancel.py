"""The cancellation workaround for httpcore #1093 / #830: a gate and a send guard.

An async request that is cancelled (``asyncio.wait_for``, a task group) is never
interrupted where httpcore would leave its connection stuck in the pool (a request
cancelled after the pool gave it a new connection and before it used it strands that
connection, until every slot is gone): see :class:`_SendGuard`. The async driver sends
every request through :func:`guarded_send`; the day httpcore fixes #1093 this module can
be deleted and ``guarded_send(client, request)`` replaced by
``client.send(request, stream=True)``.
"""

from __future__ import annotations

import asyncio
import sys
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

__all__ = ["guarded_send"]

#: httpcore trace events at which cancelling a request leaves the pool consistent: the
#: start of a connect (a failed connect marks the connection closed) and the start of
#: the request's first write (the HTTP/1.1 and HTTP/2 paths close it on any error).
_SAFE_STARTS = (
    "connect_tcp.started",
    "connect_unix_socket.started",
    "start_tls.started",
    "send_request_headers.started",
)
#: Events after which it is not, until the next safe start: a connect done and the
#: request not started yet, and any cleanup (which must run to its end).
_UNSAFE = (
    "connect_tcp.complete",
    "connect_unix_socket.complete",
    "start_tls.complete",
    "response_closed.started",
    ".failed",
)

_Trace = Callable[[str, dict[str, Any]], Awaitable[None]]
#: Requests abandoned by a cancelled caller, kept referenced until they have ended.
_abandoned: set[asyncio.Task[Any]] = set()
#: While this many requests abandoned by their callers wait in one client's pool queue,
#: new requests wait at the client's gate (see :class:`_SendGuard`).
_ABANDONED_QUEUED = 8


class _Gate:
    """One httpx client's (on one event loop) count of abandoned requests that wait in
    its pool's queue: open while there are fewer than ``_ABANDONED_QUEUED``."""

    __slots__ = ("loop", "opened", "queued")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queued = 0
        self.opened = asyncio.Event()
        self.opened.set()

    def add(self) -> None:
        self.queued += 1
        if self.queued >= _ABANDONED_QUEUED:
            self.opened.clear()

    def remove(self) -> None:
        self.queued -= 1
        if self.queued < _ABANDONED_QUEUED:
            self.opened.set()


_gates: weakref.WeakKeyDictionary[httpx.AsyncClient, _Gate] = weakref.WeakKeyDictionary()


class _SendGuard:
    """Sends one request in a task of its own, so a cancelled caller never cancels
    httpcore where it would strand a connection (httpcore #1093, #830).

    The hazard: the pool hands a queued request a *new* connection and wakes it; a
    cancellation delivered before it starts using the connection leaves the connection
    in the pool, CONNECTING forever (never idle, closed or expired), and the pool is
    full once ``max_connections`` of them piled up; the same happens between the end
    of the TCP connect and the first byte of the request (NEW forever). So the caller
    awaits the request through :func:`asyncio.shield`; when the caller is cancelled,
    the request is cancelled only at a point where httpcore cleans up after itself
    (told by its ``trace`` extension: during a connect, or once the request is being
    written), at once when it is at such a point, else as soon as it reaches one (then
    before it connects or writes anything); a response that arrives anyway is closed.
    Nothing of httpcore is patched or read.

    An abandoned request still waiting in the pool's queue (no trace event yet) stays
    there until it is given a connection: cancelling it there could be just after the
    pool gave it one. Such requests must not pile up: on 2,000 cancelled calls, 30 at a
    time (Python 3.13; 60 on 3.11), hundreds did, each turn of the event loop slowed
    (httpcore re-scans its whole queue whenever a request comes or goes), and pool
    timeouts that fired in the turn the pool gave them connections stranded those the
    same way. So they are counted (the client's :class:`_Gate`), and while
    ``_ABANDONED_QUEUED`` of them wait there, a new request waits at the gate, where a
    cancelled caller just leaves, within its pool timeout. Without cancellations the
    gate is always open and costs a lookup.
    """

    __slots__ = ("_chain", "_counted", "_gate", "abandoned", "safe", "started", "task")

    def __init__(self, chain: _Trace | None, gate: _Gate) -> None:
        self._chain = chain
        self._gate = gate
        self._counted = False
        self.safe = False
        self.started = False
        self.abandoned = False
        self.task: asyncio.Task[httpx.Response] | None = None

    def out_of_queue(self, _: object = None) -> None:
        """The request waits in the pool's queue no more (it has a connection, or its
        send ended): it counts at the gate no longer."""
        self.started = True
        if self._counted:
            self._counted = False
            self._gate.remove()

    async def trace(self, name: str, info: dict[str, Any]) -> None:
        if not self.started:
            self.out_of_queue()
        if self._chain is not None:
            await self._chain(name, info)
        if name.endswith(_SAFE_STARTS):
            if self.abandoned:
                # Raised here, before the connect or the first write starts, so an
                # abandoned request opens no connection and sends nothing; once only,
                # and never from a cleanup's events.
                self.abandoned = False
                raise asyncio.CancelledError
            self.safe = True
        elif name.endswith(_UNSAFE):
            self.safe = False

    def abandon(self) -> None:
        """The caller was cancelled: cancel the request now if that is safe, else at its
        next safe point; close its response if one comes anyway."""
        task = self.task
        if task is None or task.done():
            if task is not None:
                _close_abandoned(task)
            return
        _abandoned.add(task)
        task.add_done_callback(_close_abandoned)
        if self.safe:
            task.cancel()
            return
        self.abandoned = True
        if not self.started:
            self._counted = True
            self._gate.add()


def _close_abandoned(task: asyncio.Task[httpx.Response]) -> None:
    _abandoned.discard(task)
    if task.cancelled() or task.exception() is not None:
        return
    closing = asyncio.ensure_future(task.result().aclose())
    _abandoned.add(closing)
    closing.add_done_callback(_abandoned.discard)


async def _admit(client: httpx.AsyncClient, request: httpx.Request) -> _Gate:
    """``client``'s gate, once it is open (see :class:`_SendGuard`); the wait counts
    against the request's pool timeout (:class:`httpx.PoolTimeout` when it runs out)."""
    loop = asyncio.get_running_loop()
    gate = _gates.get(client)
    if gate is None or gate.loop is not loop:
        gate = _gates[client] = _Gate(loop)
    if gate.opened.is_set():
        return gate
    timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
    pool = timeouts.get("pool")
    start = time.monotonic()
    try:
        if sys.version_info >= (3, 11):
            async with asyncio.timeout(pool):
                await gate.opened.wait()
        else:  # Python 3.10: no asyncio.timeout
            await asyncio.wait_for(gate.opened.wait(), pool)
    except asyncio.TimeoutError:
        raise httpx.PoolTimeout("no connection became free in time", request=request) from None
    if pool is not None:
        left = max(pool - (time.monotonic() - start), 0.0)
        request.extensions["timeout"] = {**timeouts, "pool": left}
    return gate


async def guarded_send(
    client: httpx.AsyncClient,
    request: httpx.Request,
    send: Callable[[httpx.Request], Awaitable[httpx.Response]] | None = None,
) -> httpx.Response:
    """``client.send(request, stream=True)`` (or ``send(request)``: the request sent to
    ``client``'s transport, ``_direct``), safe to cancel (see :class:`_SendGuard`)."""
    guard = _SendGuard(request.extensions.get("trace"), await _admit(client, request))
    request.extensions["trace"] = guard.trace
    sent = send(request) if send is not None else client.send(request, stream=True)
    task = guard.task = asyncio.ensure_future(sent)
    task.add_done_callback(guard.out_of_queue)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        guard.abandon()
        raise
