"""The I/O drivers: a call's *flow* (a generator that does no I/O, see ``_retry``) run to
its end with an ``httpx.Client`` (:func:`drive`, :func:`iterate`) or an
``httpx.AsyncClient`` (:func:`adrive`, :func:`aiterate`). The flows are written once; these
are the only places that send, read, sleep and close.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from typing import Any, TypeVar

import httpx

from ._cancel import guarded_send
from ._direct import Direct
from ._retry import NEXT_CHUNK, Close, ReadBody, Send, Sleep, Step

__all__ = ["Flow", "ItemFlow", "adrive", "aiterate", "drive", "iterate"]

_R = TypeVar("_R")
_I = TypeVar("_I")
#: A call, without its I/O: it yields the steps it needs done (``_retry``), receives their
#: outcomes, and returns its result.
Flow = Generator[Step, Any, _R]
#: A call that delivers items as they come (a stream's events, a file's lines): its flow
#: also yields lists of items, for the consumer.
ItemFlow = Generator["Step | list[_I]", Any, None]


class _SyncIO:
    """Performs the steps of flows with an ``httpx.Client`` (see ``_retry``); holds the
    response being streamed, closed by :meth:`close` if the flow ends without.
    ``own``: the client is a pool of ours, sent to directly (``_direct``)."""

    __slots__ = ("_chunks", "_direct", "_response", "_steps", "client")

    def __init__(self, client: httpx.Client, own: bool = False) -> None:
        self.client = client
        self._direct = Direct.of(client) if own else None
        self._response: httpx.Response | None = None
        self._chunks: Iterator[bytes] = iter(())
        steps: dict[type, Callable[[Any], Any]] = {
            Send: self._send,
            ReadBody: self._read_body,
            type(NEXT_CHUNK): self._next_chunk,
            Sleep: lambda step: time.sleep(step.seconds),
            Close: self._close,
        }
        self._steps = steps

    def perform(self, step: Any) -> Any:
        """The outcome of ``step`` (see ``_retry``)."""
        return self._steps[type(step)](step)

    def _send(self, step: Send) -> httpx.Response | httpx.HTTPError:
        direct = self._direct
        try:
            if direct is not None:
                response = direct.send(direct.request(step))
            else:
                response = self.client.send(step.build(self.client), stream=True)
        except httpx.HTTPError as exc:
            return exc
        self._response, self._chunks = response, response.iter_bytes()
        return response

    def _read_body(self, step: ReadBody) -> httpx.HTTPError | None:
        try:
            for chunk in self._chunks:
                if not step.reader.feed(chunk):
                    break
        except httpx.HTTPError as exc:
            return exc
        finally:
            self._close(Close(step.response))
        return None

    def _next_chunk(self, _: object) -> bytes | httpx.HTTPError | None:
        try:
            return next(self._chunks, None)
        except httpx.HTTPError as exc:
            return exc

    def _close(self, step: Close) -> None:
        if step.response is self._response:
            self._response, self._chunks = None, iter(())
        step.response.close()

    def close(self) -> None:
        if self._response is not None:
            self._close(Close(self._response))


def drive(io: _SyncIO, flow: Flow[_R]) -> _R:
    """Run a call's flow to its result, performing each step it asks for."""
    try:
        outcome = None
        while True:
            outcome = io.perform(flow.send(outcome))
    except StopIteration as done:
        result: _R = done.value
        return result
    finally:
        flow.close()
        io.close()


class _NoChunks:
    """The chunks of no response: none."""

    def __aiter__(self) -> _NoChunks:
        return self

    async def __anext__(self) -> bytes:
        raise StopAsyncIteration


_NO_CHUNKS = _NoChunks()


class _AsyncIO:
    """Performs the steps of flows with an ``httpx.AsyncClient``: the async twin of
    :class:`_SyncIO` (a request is sent through ``_cancel.guarded_send``)."""

    __slots__ = ("_chunks", "_direct", "_response", "_steps", "client")

    def __init__(self, client: httpx.AsyncClient, own: bool = False) -> None:
        self.client = client
        self._direct = Direct.of(client) if own else None
        self._response: httpx.Response | None = None
        self._chunks: AsyncIterator[bytes] = _NO_CHUNKS
        steps: dict[type, Callable[[Any], Awaitable[Any]]] = {
            Send: self._send,
            ReadBody: self._read_body,
            type(NEXT_CHUNK): self._next_chunk,
            Sleep: lambda step: asyncio.sleep(step.seconds),
            Close: self._close,
        }
        self._steps = steps

    def perform(self, step: Any) -> Awaitable[Any]:
        """The outcome of ``step``, to await (see ``_retry``)."""
        return self._steps[type(step)](step)

    async def _send(self, step: Send) -> httpx.Response | httpx.HTTPError:
        direct = self._direct
        try:
            if direct is not None:
                response = await guarded_send(self.client, direct.request(step), direct.asend)
            else:
                response = await guarded_send(self.client, step.build(self.client))
        except httpx.HTTPError as exc:
            return exc
        self._response, self._chunks = response, response.aiter_bytes()
        return response

    async def _read_body(self, step: ReadBody) -> httpx.HTTPError | None:
        try:
            async for chunk in self._chunks:
                if not step.reader.feed(chunk):
                    break
        except httpx.HTTPError as exc:
            return exc
        finally:
            await self._close(Close(step.response))
        return None

    async def _next_chunk(self, _: object) -> bytes | httpx.HTTPError | None:
        try:
            return await anext(self._chunks, None)
        except httpx.HTTPError as exc:
            return exc

    async def _close(self, step: Close) -> None:
        if step.response is self._response:
            self._response, self._chunks = None, _NO_CHUNKS
        await step.response.aclose()

    async def aclose(self) -> None:
        if self._response is not None:
            await self._close(Close(self._response))


async def adrive(io: _AsyncIO, flow: Flow[_R]) -> _R:
    """The async twin of :func:`drive`."""
    try:
        outcome = None
        while True:
            outcome = await io.perform(flow.send(outcome))
    except StopIteration as done:
        result: _R = done.value
        return result
    finally:
        flow.close()
        await io.aclose()


def iterate(io_of: Callable[[], _SyncIO], flow: ItemFlow[_I]) -> Iterator[_I]:
    """The items of ``flow`` as it delivers them, its steps performed by ``io_of()``
    (called at the first ``next``)."""
    io = io_of()
    try:
        outcome = None
        while True:
            step = flow.send(outcome)
            if step.__class__ is list:
                yield from step
                outcome = None
            else:
                outcome = io.perform(step)
    except StopIteration:
        return
    finally:
        flow.close()
        io.close()


async def aiterate(
    io_of: Callable[[], Awaitable[_AsyncIO]], flow: ItemFlow[_I]
) -> AsyncIterator[_I]:
    """The async twin of :func:`iterate`."""
    io = await io_of()
    try:
        outcome = None
        while True:
            step = flow.send(outcome)
            if step.__class__ is list:
                for item in step:
                    yield item
                outcome = None
            else:
                outcome = await io.perform(step)
    except StopIteration:
        return
    finally:
        flow.close()
        await io.aclose()
