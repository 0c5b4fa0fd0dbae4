"""KimiClient and AsyncKimiClient: the clients, over httpx.

A client is its configuration and the flows of its calls (``_base_client``), run by the
sync or the async driver (``_drivers``) on a shared connection pool (``_pools``: one per
configuration, and per event loop for async). The parts, each with one reason to change:

- ``_pools``: the pools and their event-loop lifecycle;
- ``_cancel``: the cancellation workaround for httpcore #1093 (the gate and the send guard);
- ``_drivers``: the sync and async I/O drivers of the flows; ``_direct``: a request on our
  own pools handed straight to the pool's transport;
- ``_base_client``: configuration, the retry loop, the chat and stream flows;
- ``_response`` and ``_error_map``: response reading, error bodies, request ids;
- ``_events``: the event parser of a stream (beside ``_sse``); ``_streaming``: the streams;
- ``_endpoints``, ``_batch`` and ``_extraction``: the platform endpoints as resources.

Whatever a server sends ends in bounded work as a typed error: bodies are read in
chunks up to ``max_body_bytes`` (64 MiB) and error bodies up to ``max_error_bytes``
(1 MiB), stream events up to ``max_event_bytes`` (16 MiB), all against the
``total_timeout`` deadline (see ``_deadline``); a redirect is an error naming where it
points, and a stream answered with something else says what came.

The key is sent per request and is never part of a pool, a repr, a pickle, a log line
or an error (a server body that echoes it is masked).
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any, TypeVar

import httpx

from . import _endpoints as endpoints
from ._base_client import DEFAULT_TIMEOUT, ClientLogic
from ._deadline import DEFAULT_MAX_BODY, DEFAULT_MAX_ERROR
from ._drivers import Flow, _AsyncIO, _SyncIO, adrive, drive
from ._pools import async_pool, sync_pool
from ._response import ChatResult
from ._retry import RetryPolicy
from ._rules import ChatRequest
from ._sse import DEFAULT_MAX_EVENT
from ._streaming import AsyncChatStream, ChatStream

if TYPE_CHECKING:
    from ._batch import AsyncBatches, Batches

__all__ = [
    "DEFAULT_MAX_BODY",
    "DEFAULT_MAX_ERROR",
    "DEFAULT_MAX_EVENT",
    "DEFAULT_TIMEOUT",
    "AsyncChatStream",
    "AsyncKimiClient",
    "ChatResult",
    "ChatStream",
    "KimiClient",
    "RetryPolicy",
]

_R = TypeVar("_R")


class KimiClient(ClientLogic[httpx.Client]):
    """Synchronous client. Thread-safe; share one across threads and model objects."""

    def _client(self) -> httpx.Client:
        return self._http_client or sync_pool(self.timeout)

    def _io(self) -> _SyncIO:
        """The driver of a call: on an injected client through ``client.send``, on a
        pool of ours straight to its transport (``_direct``)."""
        return _SyncIO(self._client(), own=self._http_client is None)

    def _run(self, flow: Flow[_R]) -> _R:
        return drive(self._io(), flow)

    def chat(self, request: ChatRequest | None = None, /, **params: Any) -> ChatResult:
        """A whole chat completion. Pass a prepared request or the parameters."""
        req = request if request is not None else self.prepare(**params)
        return self._run(self._chat_flow(req))

    def stream(self, request: ChatRequest | None = None, /, **params: Any) -> ChatStream:
        """A streamed chat completion: iterate it for normalised chunk dicts."""
        req = request if request is not None else self.prepare(stream=True, **params)
        return ChatStream(self, self._streamed(req))

    # Platform endpoints (``_endpoints``) ----------------------------------------------

    @property
    def batches(self) -> Batches:
        """The Batch API (``kimi_core._batch``): jobs, files, status, results."""
        from ._batch import Batches

        return Batches(self)

    def list_models(self) -> list[dict[str, Any]]:
        """The models the provider serves (``GET /models``)."""
        return self._run(endpoints.models_flow(self))

    def estimate_token_count(self, model: str, messages: list[dict[str, Any]]) -> int:
        """Moonshot's token estimate for a chat body."""
        return self._run(endpoints.token_count_flow(self, model, messages))

    def balance(self) -> dict[str, Any]:
        """The account balance (``available_balance``, ``voucher_balance``, ``cash_balance``)."""
        return self._run(endpoints.balance_flow(self))

    def upload_file(
        self, file: bytes | IO[bytes], *, filename: str, purpose: str = "file-extract"
    ) -> dict[str, Any]:
        """Upload a file (``purpose``: file-extract, image, video, batch)."""
        return self._run(endpoints.upload_flow(self, file, filename, purpose))

    def list_files(self) -> list[dict[str, Any]]:
        return self._run(endpoints.files_flow(self))

    def get_file(self, file_id: str) -> dict[str, Any]:
        return self._run(endpoints.file_flow(self, "GET", file_id, "file"))

    def file_content(self, file_id: str) -> str:
        return self._run(endpoints.file_content_flow(self, file_id))

    def delete_file(self, file_id: str) -> dict[str, Any]:
        return self._run(endpoints.file_flow(self, "DELETE", file_id, "file deletion"))

    def close(self) -> None:
        """Close an injected http_client (shared pools are closed at exit)."""
        if self._http_client is not None:
            self._http_client.close()


class AsyncKimiClient(ClientLogic[httpx.AsyncClient]):
    """Asynchronous client. Works across event loops (one pool per loop); cancelling a
    call (``asyncio.wait_for``, task groups) leaves the pool clean (``_cancel``)."""

    async def _client(self) -> httpx.AsyncClient:
        return self._http_client or await async_pool(self.timeout)

    async def _io(self) -> _AsyncIO:
        """The async :meth:`KimiClient._io`."""
        return _AsyncIO(await self._client(), own=self._http_client is None)

    async def _run(self, flow: Flow[_R]) -> _R:
        return await adrive(await self._io(), flow)

    async def chat(self, request: ChatRequest | None = None, /, **params: Any) -> ChatResult:
        """A whole chat completion. Pass a prepared request or the parameters."""
        req = request if request is not None else self.prepare(**params)
        return await self._run(self._chat_flow(req))

    def stream(self, request: ChatRequest | None = None, /, **params: Any) -> AsyncChatStream:
        """A streamed chat completion: ``async for`` it for normalised chunk dicts."""
        req = request if request is not None else self.prepare(stream=True, **params)
        return AsyncChatStream(self, self._streamed(req))

    @property
    def batches(self) -> AsyncBatches:
        """The Batch API, async (``kimi_core._batch``)."""
        from ._batch import AsyncBatches

        return AsyncBatches(self)

    async def list_models(self) -> list[dict[str, Any]]:
        return await self._run(endpoints.models_flow(self))

    async def estimate_token_count(self, model: str, messages: list[dict[str, Any]]) -> int:
        return await self._run(endpoints.token_count_flow(self, model, messages))

    async def balance(self) -> dict[str, Any]:
        return await self._run(endpoints.balance_flow(self))

    async def upload_file(
        self, file: bytes | IO[bytes], *, filename: str, purpose: str = "file-extract"
    ) -> dict[str, Any]:
        return await self._run(endpoints.upload_flow(self, file, filename, purpose))

    async def list_files(self) -> list[dict[str, Any]]:
        return await self._run(endpoints.files_flow(self))

    async def get_file(self, file_id: str) -> dict[str, Any]:
        return await self._run(endpoints.file_flow(self, "GET", file_id, "file"))

    async def file_content(self, file_id: str) -> str:
        return await self._run(endpoints.file_content_flow(self, file_id))

    async def delete_file(self, file_id: str) -> dict[str, Any]:
        return await self._run(endpoints.file_flow(self, "DELETE", file_id, "file deletion"))

    async def aclose(self) -> None:
        if self._http_client is not None:
            await self._http_client.aclose()
