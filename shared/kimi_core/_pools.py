"""Connection pools and their event-loop lifecycle.

One ``httpx.Client`` per timeout configuration for the whole process (thread-safe), and
one ``httpx.AsyncClient`` per configuration *per event loop*, so a model object works
across successive ``asyncio.run`` calls. An async pool is closed inside its own loop when
the loop shuts down (``asyncio.run`` finalises async generators before closing the loop;
a sentinel generator per loop does the close). Every pool shares one TLS context.
"""

from __future__ import annotations

import asyncio
import atexit
import ssl
import threading
from collections.abc import AsyncIterator

import httpx

__all__ = ["LIMITS", "async_pool", "sync_pool"]

LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=100, keepalive_expiry=30.0)

_pool_lock = threading.Lock()
_PoolKey = tuple[float | None, float | None, float | None, float | None]
_sync_pools: dict[_PoolKey, httpx.Client] = {}
_async_pools: dict[asyncio.AbstractEventLoop, _LoopPools] = {}


_ssl: ssl.SSLContext | None = None


def _ssl_context() -> ssl.SSLContext:
    """One TLS context (CA bundle loaded once, ~45 ms) shared by every pool, so a new
    event loop's pool costs nothing to set up."""
    global _ssl
    with _pool_lock:
        if _ssl is None:
            _ssl = httpx.create_ssl_context()
        return _ssl


def _key(t: httpx.Timeout) -> _PoolKey:
    return (t.connect, t.read, t.write, t.pool)


def sync_pool(timeout: httpx.Timeout) -> httpx.Client:
    """The process's pool for ``timeout``."""
    key = _key(timeout)
    client = _sync_pools.get(key)  # the usual case, without the lock (reads are atomic)
    if client is not None and not client.is_closed:
        return client
    context = _ssl_context()
    with _pool_lock:
        client = _sync_pools.get(key)
        if client is None:
            client = _sync_pools[key] = httpx.Client(timeout=timeout, limits=LIMITS, verify=context)
        return client


@atexit.register
def _close_sync_pools() -> None:
    with _pool_lock:
        for client in _sync_pools.values():
            client.close()
        _sync_pools.clear()


class _LoopPools:
    """The async pools of one event loop, closed from inside it at shutdown."""

    def __init__(self) -> None:
        self.clients: dict[_PoolKey, httpx.AsyncClient] = {}
        self.sentinel: AsyncIterator[None] | None = None

    async def watch(self, loop: asyncio.AbstractEventLoop) -> AsyncIterator[None]:
        try:
            yield
        finally:
            with _pool_lock:
                if _async_pools.get(loop) is self:
                    del _async_pools[loop]
                clients = list(self.clients.values())
                self.clients.clear()
            for client in clients:
                await client.aclose()


async def async_pool(timeout: httpx.Timeout) -> httpx.AsyncClient:
    """The running event loop's pool for ``timeout`` (closed when the loop shuts down)."""
    loop = asyncio.get_running_loop()
    key = _key(timeout)
    pools = _async_pools.get(loop)  # the usual case, without the lock (reads are atomic)
    if pools is not None and pools.sentinel is not None:
        client = pools.clients.get(key)
        if client is not None and not client.is_closed:
            return client
    context = _ssl_context()
    with _pool_lock:
        pools = _async_pools.get(loop)
        fresh = pools is None
        if pools is None:
            for old in [lp for lp in _async_pools if lp.is_closed()]:
                del _async_pools[old]
            pools = _async_pools[loop] = _LoopPools()
        client = pools.clients.get(key)
        if client is None:
            client = pools.clients[key] = httpx.AsyncClient(
                timeout=timeout, limits=LIMITS, verify=context
            )
    if fresh:
        # Started once, the generator is registered with the loop, which finalises it
        # (running its ``finally``) in ``shutdown_asyncgens`` before closing.
        pools.sentinel = pools.watch(loop)
        await pools.sentinel.__anext__()
    return client
