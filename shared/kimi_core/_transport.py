"""KimiClient and AsyncKimiClient: httpx transport with auth, retries and streaming.

Connection pools are shared: one ``httpx.Client`` per timeout configuration for the
whole process (thread-safe), and one ``httpx.AsyncClient`` per configuration *per
event loop*, so a model object works across successive ``asyncio.run`` calls. An async
pool is closed inside its own loop when the loop shuts down (``asyncio.run`` finalises
async generators before closing the loop; a sentinel generator per loop does the close).

The key is sent per request and is never part of a pool, a repr, a log line or an
error.
"""

from __future__ import annotations

import asyncio
import atexit
import email.utils
import json
import logging
import platform
import random
import ssl
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import IO, Any, Generic, TypeVar

import httpx

from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ConfigurationError,
    KimiError,
    NotFoundError,
    StreamError,
    make_status_error,
    stream_error_event,
)
from ._models import explain_retired
from ._providers import ProviderProfile, resolve_api_key, resolve_provider
from ._rules import ChatRequest, build_chat_request
from ._sse import SSEDecoder
from ._stream import StreamAccumulator, normalize_completion
from ._thinking import check_answer
from ._version import __version__

__all__ = [
    "DEFAULT_TIMEOUT",
    "AsyncChatStream",
    "AsyncKimiClient",
    "ChatResult",
    "ChatStream",
    "KimiClient",
    "RetryPolicy",
]

logger = logging.getLogger("kimi_core")

#: Connect fast, but let a thinking model take its time between bytes.
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=600.0, write=60.0, pool=60.0)
_LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=100, keepalive_expiry=30.0)
USER_AGENT = (
    f"kimi-integrations/{__version__} "
    f"(python {platform.python_version()}; httpx {httpx.__version__})"
)
ATTEMPT_HEADER = "X-Kimi-Attempt"

TimeoutTypes = float | httpx.Timeout | None


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before retrying (facts §8).

    Waits ``retry-after-ms``, else ``retry-after`` (seconds or an HTTP date), capped at
    ``max_wait``; otherwise ``min(base * 2**n, max_backoff)`` less up to 25 % jitter.
    """

    base: float = 0.5
    max_backoff: float = 8.0
    max_wait: float = 60.0

    def delay(self, retry: int, headers: Mapping[str, str] | None) -> float:
        wait = _retry_after(headers) if headers is not None else None
        if wait is not None:
            return min(max(wait, 0.0), self.max_wait)
        backoff = min(self.base * 2.0**retry, self.max_backoff)
        return backoff * (1.0 - 0.25 * random.random())


def _retry_after(headers: Mapping[str, str]) -> float | None:
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        parsed = email.utils.parsedate_tz(value)
        if parsed is None:
            return None
        return float(email.utils.mktime_tz(parsed)) - time.time()


@dataclass(frozen=True)
class ChatResult:
    """A whole (non-streamed) chat completion."""

    body: dict[str, Any]
    request: ChatRequest
    request_id: str | None = None

    @property
    def message(self) -> dict[str, Any]:
        """The first choice's message."""
        msg: dict[str, Any] = self.body["choices"][0]["message"]
        return msg


# --------------------------------------------------------------------------- pools

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


def _sync_pool(timeout: httpx.Timeout) -> httpx.Client:
    key = _key(timeout)
    context = _ssl_context()
    with _pool_lock:
        client = _sync_pools.get(key)
        if client is None:
            client = _sync_pools[key] = httpx.Client(
                timeout=timeout, limits=_LIMITS, verify=context
            )
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


async def _async_pool(timeout: httpx.Timeout) -> httpx.AsyncClient:
    loop = asyncio.get_running_loop()
    context = _ssl_context()
    with _pool_lock:
        pools = _async_pools.get(loop)
        fresh = pools is None
        if pools is None:
            for old in [lp for lp in _async_pools if lp.is_closed()]:
                del _async_pools[old]
            pools = _async_pools[loop] = _LoopPools()
        key = _key(timeout)
        client = pools.clients.get(key)
        if client is None:
            client = pools.clients[key] = httpx.AsyncClient(
                timeout=timeout, limits=_LIMITS, verify=context
            )
    if fresh:
        # Started once, the generator is registered with the loop, which finalises it
        # (running its ``finally``) in ``shutdown_asyncgens`` before closing.
        pools.sentinel = pools.watch(loop)
        await pools.sentinel.__anext__()
    return client


# --------------------------------------------------------------------------- shared logic


def _as_timeout(timeout: TimeoutTypes) -> httpx.Timeout:
    if timeout is None:
        return DEFAULT_TIMEOUT
    if isinstance(timeout, httpx.Timeout):
        return timeout
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ConfigurationError(
            f"timeout={timeout!r} is not accepted: "
            "a positive number of seconds or an httpx.Timeout",
            param="timeout",
        )
    return httpx.Timeout(
        float(timeout), connect=min(float(timeout), DEFAULT_TIMEOUT.connect or 10.0)
    )


def _transport_error(exc: Exception, provider: str) -> APIConnectionError:
    if isinstance(exc, httpx.TimeoutException):
        kind = type(exc).__name__
        return APITimeoutError(f"request timed out ({kind})", provider=provider)
    return APIConnectionError(
        f"connection failed: {type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
        provider=provider,
    )


_T = TypeVar("_T")


class _Base(Generic[_T]):
    """Configuration and the IO-free parts shared by the sync and async clients."""

    profile: ProviderProfile

    def __init__(
        self,
        *,
        provider: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: TimeoutTypes = None,
        total_timeout: float | None = None,
        max_retries: int = 2,
        default_headers: Mapping[str, str] | None = None,
        http_client: _T | None = None,
        retry_policy: RetryPolicy | None = None,
        user_agent: str | None = None,
    ) -> None:
        self.profile = resolve_provider(provider, base_url)
        self._api_key = resolve_api_key(self.profile, api_key)
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ConfigurationError(
                f"max_retries={max_retries!r} is not accepted: a non-negative integer",
                param="max_retries",
            )
        self.timeout = _as_timeout(timeout)
        self.total_timeout = total_timeout
        self.max_retries = max_retries
        self.retry_policy = retry_policy or RetryPolicy()
        self._http_client = http_client
        headers = {"User-Agent": user_agent or USER_AGENT, "Accept": "application/json"}
        if default_headers:
            headers.update(default_headers)
        self._headers = headers

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(provider={self.profile.name!r}, "
            f"base_url={self.profile.base_url!r}, api_key=**********)"
        )

    @property
    def base_url(self) -> str:
        return self.profile.base_url

    def prepare(self, **params: Any) -> ChatRequest:
        """Validate chat parameters against the provider's and model's rules (see
        :func:`kimi_core.build_chat_request`)."""
        return build_chat_request(self.profile, **params)

    def _url(self, path: str) -> str:
        return self.profile.base_url + path

    def _request_headers(self, attempt: int, stream: bool) -> dict[str, str]:
        headers = dict(self._headers)
        headers["Authorization"] = f"Bearer {self._api_key}"
        headers[ATTEMPT_HEADER] = str(attempt)
        if stream:
            headers["Accept"] = "text/event-stream"
        return headers

    def _deadline(self) -> float | None:
        return time.monotonic() + self.total_timeout if self.total_timeout else None

    def _attempt_timeout(self, deadline: float | None) -> httpx.Timeout:
        if deadline is None:
            return self.timeout
        left = deadline - time.monotonic()
        if left <= 0:
            raise APITimeoutError(
                f"total timeout of {self.total_timeout} s exceeded", provider=self.profile.name
            )
        t = self.timeout
        return httpx.Timeout(
            connect=min(t.connect or left, left),
            read=min(t.read or left, left),
            write=min(t.write or left, left),
            pool=min(t.pool or left, left),
        )

    def _should_retry(self, err: KimiError, attempt: int, deadline: float | None) -> bool:
        if not err.retryable or attempt > self.max_retries:
            return False
        return deadline is None or time.monotonic() < deadline

    def _log_retry(self, err: KimiError, attempt: int, wait: float) -> None:
        logger.info(
            "retrying %s (attempt %d of %d) in %.2f s: %s",
            self.profile.name,
            attempt + 1,
            self.max_retries + 1,
            wait,
            type(err).__name__,
        )

    def _connection_error(self, exc: Exception) -> tuple[APIConnectionError, Exception | None]:
        """The error for a transport failure, and the exception to chain to it: never
        the key, whatever httpx says (in a repr too), so then nothing is chained."""
        err = _transport_error(exc, self.profile.name)
        key = self._api_key.strip()
        if key and key in err.message:
            err = type(err)(err.message.replace(key, "**********"), provider=err.provider)
            return err, None
        return err, exc

    def _status_error(self, response: httpx.Response, raw: bytes) -> APIStatusError:
        err = make_status_error(
            response.status_code, raw, headers=response.headers, provider=self.profile.name
        )
        if isinstance(err, NotFoundError):
            err = explain_retired(err, self.profile.name, response.request.content)
        return err

    def _completion(self, request: ChatRequest, raw: bytes, response: httpx.Response) -> ChatResult:
        request_id = _request_id(response.headers)
        try:
            body = json.loads(raw)
        except ValueError:
            raise StreamError(
                f"response is not JSON: {raw[:200]!r}",
                provider=self.profile.name,
                request_id=request_id,
                status_code=response.status_code,
            ) from None
        if not isinstance(body, dict) or ("error" in body and not body.get("choices")):
            # Some gateways answer 200 with an error body (AceData: "success": false).
            raise make_status_error(200, raw, headers=response.headers, provider=self.profile.name)
        if body.get("success") is False and not body.get("choices"):
            raise make_status_error(200, raw, headers=response.headers, provider=self.profile.name)
        normalize_completion(body)
        result = ChatResult(body=body, request=request, request_id=request_id)
        _check_required_tool(request, result.body, self.profile.name, request_id)
        return result

    def _json(self, raw: bytes, response: httpx.Response) -> Any:
        try:
            return json.loads(raw)
        except ValueError:
            raise KimiError(
                f"response is not JSON: {raw[:200]!r}",
                status_code=response.status_code,
                provider=self.profile.name,
                request_id=_request_id(response.headers),
            ) from None

    def _require_platform(self, what: str) -> None:
        if not self.profile.has_platform_endpoints:
            raise ConfigurationError(
                f"{what} is not supported by {self.profile.name} ({self.profile.label}); "
                "it is a Moonshot platform endpoint (provider='moonshot' or 'moonshot-cn')",
                provider=self.profile.name,
            )

    def _require_models(self) -> None:
        if not self.profile.has_models_endpoint:
            raise ConfigurationError(
                f"listing models is not supported by {self.profile.name} ({self.profile.label}); "
                f"its documented models: {', '.join(self.profile.models)}",
                provider=self.profile.name,
            )


def _request_id(headers: Mapping[str, str]) -> str | None:
    return headers.get("x-trace-id") or headers.get("x-request-id") or headers.get("msh-request-id")


def _check_required_tool(
    request: ChatRequest, body: Mapping[str, Any], provider: str, request_id: str | None
) -> None:
    check_answer(request.plan, body, provider=provider, request_id=request_id)


class _EventParser:
    """Bytes in, normalised event dicts out; knows how a stream must end."""

    __slots__ = ("acc", "decoder", "done", "failure", "provider", "request_id")

    def __init__(self, provider: str, request_id: str | None) -> None:
        self.decoder = SSEDecoder()
        self.acc = StreamAccumulator()
        self.done = False
        #: An error met after good events of the same read: raised once they are delivered.
        self.failure: KimiError | None = None
        self.provider = provider
        self.request_id = request_id

    def feed(self, raw: bytes) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for data in self.decoder.decode(raw):
            if self.done:
                break
            try:
                event = self._event(data)
            except KimiError as err:
                if not out:
                    raise
                # Never lose a token: deliver the events before the bad one first.
                self.failure = err
                self.done = True
                break
            if event is not None:
                out.append(event)
        return out

    def _event(self, data: bytes) -> dict[str, Any] | None:
        if data[:1] == b"[" and data.strip() == b"[DONE]":
            self.done = True
            return None
        try:
            event = json.loads(data)
        except ValueError:
            if not data.strip():
                return None
            raise self.error(f"malformed event in the stream (not JSON): {data[:300]!r}") from None
        if not isinstance(event, dict):
            raise self.error(f"malformed event in the stream (not an object): {data[:300]!r}")
        if "error" in event and not event.get("choices"):
            err = stream_error_event(event, provider=self.provider, request_id=self.request_id)
            err.partial = self.acc.completion()
            raise err
        return self.acc.add(event)

    def finish(self) -> list[dict[str, Any]]:
        """End of the body: flush, and fail if the stream did not really end."""
        out: list[dict[str, Any]] = []
        if not self.done:
            for data in self.decoder.flush():
                event = self._event(data)
                if event is not None:
                    out.append(event)
        if not self.done and not self.acc.finished:
            raise self.error(
                f"stream ended before [DONE] and before a finish_reason ({self.acc.events} "
                "events received; they are in .partial)"
            )
        return out

    def settle(self, deadline: float | None, total_timeout: float | None) -> bool:
        """After a read's events were delivered: raise what the read met (an error event,
        a malformed event, the total timeout); True once the stream is over."""
        if self.failure is not None:
            raise self.failure
        if self.done:
            return True
        if deadline is not None and time.monotonic() > deadline:
            err = APITimeoutError(
                f"total timeout of {total_timeout} s exceeded after {self.acc.events} events",
                provider=self.provider,
                request_id=self.request_id,
            )
            err.partial = self.acc.completion()
            raise err
        return False

    def error(self, message: str) -> StreamError:
        return StreamError(
            message,
            partial=self.acc.completion(),
            provider=self.provider,
            request_id=self.request_id,
        )

    def broken(self, exc: Exception) -> KimiError:
        """The error for a transport failure after the stream started."""
        if isinstance(exc, httpx.TimeoutException):
            err: KimiError = APITimeoutError(
                f"stream stalled: no data within the read timeout after {self.acc.events} events",
                provider=self.provider,
                request_id=self.request_id,
            )
        else:
            err = StreamError(
                f"stream broken after {self.acc.events} events: {type(exc).__name__}: {exc}",
                provider=self.provider,
                request_id=self.request_id,
            )
        err.partial = self.acc.completion()
        return err


# --------------------------------------------------------------------------- sync


class KimiClient(_Base[httpx.Client]):
    """Synchronous client. Thread-safe; share one across threads and model objects."""

    def _client(self) -> httpx.Client:
        return self._http_client or _sync_pool(self.timeout)

    def _send(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        stream: bool = False,
        files: Any = None,
        data: Any = None,
        deadline: float | None = None,
        first_attempt: int = 1,
    ) -> httpx.Response:
        """Send with retries; return a 2xx response (unread when ``stream``)."""
        client = self._client()
        attempt = first_attempt - 1
        while True:
            attempt += 1
            headers = None
            try:
                request = client.build_request(
                    method,
                    self._url(path),
                    json=json_body,
                    files=files,
                    data=data,
                    headers=self._request_headers(attempt, stream),
                    timeout=self._attempt_timeout(deadline),
                )
                response = client.send(request, stream=True)
            except httpx.HTTPError as exc:
                err: KimiError
                cause: Exception | None
                err, cause = self._connection_error(exc)
            else:
                if response.status_code < 400:
                    if not stream:
                        try:
                            response.read()
                        except httpx.HTTPError as exc:
                            response.close()
                            err, cause = self._connection_error(exc)
                            if self._retry(err, attempt, deadline, None):
                                continue
                            raise err from cause
                    return response
                try:
                    raw = response.read()
                except httpx.HTTPError:
                    raw = b""
                finally:
                    response.close()
                err, cause, headers = self._status_error(response, raw), None, response.headers
            if not self._retry(err, attempt, deadline, headers):
                raise err from cause

    def _retry(
        self,
        err: KimiError,
        attempt: int,
        deadline: float | None,
        headers: Mapping[str, str] | None,
    ) -> bool:
        if not self._should_retry(err, attempt, deadline):
            return False
        wait = self.retry_policy.delay(attempt - 1, headers)
        self._log_retry(err, attempt, wait)
        time.sleep(wait)
        return True

    def chat(self, request: ChatRequest | None = None, /, **params: Any) -> ChatResult:
        """A whole chat completion. Pass a prepared request or the parameters."""
        req = request if request is not None else self.prepare(**params)
        if req.stream:
            raise ConfigurationError("use stream() for a streamed request", param="stream")
        deadline = self._deadline()
        response = self._send("POST", self.profile.chat_path, json_body=req.body, deadline=deadline)
        logger.debug("chat %s %s -> %s", self.profile.name, req.model.id, response.status_code)
        return self._completion(req, response.content, response)

    def stream(self, request: ChatRequest | None = None, /, **params: Any) -> ChatStream:
        """A streamed chat completion: iterate it for normalised chunk dicts."""
        req = request if request is not None else self.prepare(stream=True, **params)
        if not req.stream:
            req = replace(req, body={**req.body, "stream": True})
        return ChatStream(self, req)

    # Platform endpoints ---------------------------------------------------------------

    def _get_json(self, method: str, path: str, **kw: Any) -> Any:
        response = self._send(method, path, **kw)
        return self._json(response.content, response)

    def list_models(self) -> list[dict[str, Any]]:
        """The models the provider serves (``GET /models``)."""
        self._require_models()
        body = self._get_json("GET", "/models")
        return list(body.get("data") or []) if isinstance(body, dict) else []

    def estimate_token_count(self, model: str, messages: list[dict[str, Any]]) -> int:
        """Moonshot's token estimate for a chat body."""
        self._require_platform("token estimation")
        body = self._get_json(
            "POST",
            "/tokenizers/estimate-token-count",
            json_body={"model": model, "messages": messages},
        )
        return int(body["data"]["total_tokens"])

    def balance(self) -> dict[str, Any]:
        """The account balance (``available_balance``, ``voucher_balance``, ``cash_balance``)."""
        self._require_platform("balance")
        body = self._get_json("GET", "/users/me/balance")
        return dict(body.get("data") or {})

    def upload_file(
        self, file: bytes | IO[bytes], *, filename: str, purpose: str = "file-extract"
    ) -> dict[str, Any]:
        """Upload a file (``purpose``: file-extract, image, video, batch)."""
        self._require_platform("file upload")
        return dict(
            self._get_json(
                "POST", "/files", files={"file": (filename, file)}, data={"purpose": purpose}
            )
        )

    def list_files(self) -> list[dict[str, Any]]:
        self._require_platform("files")
        body = self._get_json("GET", "/files")
        return list(body.get("data") or [])

    def get_file(self, file_id: str) -> dict[str, Any]:
        self._require_platform("files")
        return dict(self._get_json("GET", f"/files/{file_id}"))

    def file_content(self, file_id: str) -> str:
        self._require_platform("files")
        return self._send("GET", f"/files/{file_id}/content").text

    def delete_file(self, file_id: str) -> dict[str, Any]:
        self._require_platform("files")
        return dict(self._get_json("DELETE", f"/files/{file_id}"))

    def close(self) -> None:
        """Close an injected http_client (shared pools are closed at exit)."""
        if self._http_client is not None:
            self._http_client.close()


class _StreamBase:
    """What the sync and async streams share: the request, the parser of the current
    attempt, and the end-of-stream check."""

    def __init__(self, client: _Base[Any], request: ChatRequest) -> None:
        self._base = client
        self.request = request
        self.request_id: str | None = None
        self._parser: _EventParser | None = None

    @property
    def accumulator(self) -> StreamAccumulator:
        if self._parser is None:
            raise RuntimeError("the stream has not started")
        return self._parser.acc

    def completion(self) -> dict[str, Any]:
        """Everything received, in the shape of a non-streamed completion."""
        return self.accumulator.completion()

    def _opened(self, response: httpx.Response) -> tuple[_EventParser, int]:
        """A new attempt's response: its parser, and the attempt number it used."""
        self.request_id = _request_id(response.headers)
        self._parser = _EventParser(self._base.profile.name, self.request_id)
        return self._parser, int(response.request.headers[ATTEMPT_HEADER])

    def _ended(self) -> None:
        if self.request.required_tool:  # the completion is built only when it is checked
            _check_required_tool(
                self.request, self.completion(), self._base.profile.name, self.request_id
            )


class ChatStream(_StreamBase):
    """A streamed completion. Iterate for chunk dicts; then :meth:`completion`.

    The request is retried (within ``max_retries``) only while no chunk has been
    delivered. A failure after that raises, with what arrived in ``error.partial``.
    """

    def __init__(self, client: KimiClient, request: ChatRequest) -> None:
        super().__init__(client, request)
        self._client = client

    def __iter__(self) -> Iterator[dict[str, Any]]:
        client = self._client
        deadline = client._deadline()
        attempt = 0
        while True:
            response = client._send(
                "POST",
                client.profile.chat_path,
                json_body=self.request.body,
                stream=True,
                deadline=deadline,
                first_attempt=attempt + 1,
            )
            parser, attempt = self._opened(response)
            delivered = False
            try:
                for raw in response.iter_bytes():
                    for event in parser.feed(raw):
                        delivered = True
                        yield event
                    if parser.settle(deadline, client.total_timeout):
                        break
                yield from parser.finish()
            except httpx.HTTPError as exc:
                err = parser.broken(exc)
                if not delivered and client._retry(err, attempt, deadline, None):
                    continue
                raise err from exc
            finally:
                response.close()
            break
        self._ended()


# --------------------------------------------------------------------------- async


class AsyncKimiClient(_Base[httpx.AsyncClient]):
    """Asynchronous client. Works across event loops (one pool per loop)."""

    async def _client(self) -> httpx.AsyncClient:
        return self._http_client or await _async_pool(self.timeout)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        stream: bool = False,
        files: Any = None,
        data: Any = None,
        deadline: float | None = None,
        first_attempt: int = 1,
    ) -> httpx.Response:
        """Send with retries; return a 2xx response (unread when ``stream``)."""
        client = await self._client()
        attempt = first_attempt - 1
        while True:
            attempt += 1
            headers = None
            try:
                request = client.build_request(
                    method,
                    self._url(path),
                    json=json_body,
                    files=files,
                    data=data,
                    headers=self._request_headers(attempt, stream),
                    timeout=self._attempt_timeout(deadline),
                )
                response = await client.send(request, stream=True)
            except httpx.HTTPError as exc:
                err: KimiError
                cause: Exception | None
                err, cause = self._connection_error(exc)
            else:
                if response.status_code < 400:
                    if not stream:
                        try:
                            await response.aread()
                        except httpx.HTTPError as exc:
                            await response.aclose()
                            err, cause = self._connection_error(exc)
                            if await self._retry(err, attempt, deadline, None):
                                continue
                            raise err from cause
                    return response
                try:
                    raw = await response.aread()
                except httpx.HTTPError:
                    raw = b""
                finally:
                    await response.aclose()
                err, cause, headers = self._status_error(response, raw), None, response.headers
            if not await self._retry(err, attempt, deadline, headers):
                raise err from cause

    async def _retry(
        self,
        err: KimiError,
        attempt: int,
        deadline: float | None,
        headers: Mapping[str, str] | None,
    ) -> bool:
        if not self._should_retry(err, attempt, deadline):
            return False
        wait = self.retry_policy.delay(attempt - 1, headers)
        self._log_retry(err, attempt, wait)
        await asyncio.sleep(wait)
        return True

    async def chat(self, request: ChatRequest | None = None, /, **params: Any) -> ChatResult:
        """A whole chat completion. Pass a prepared request or the parameters."""
        req = request if request is not None else self.prepare(**params)
        if req.stream:
            raise ConfigurationError("use stream() for a streamed request", param="stream")
        deadline = self._deadline()
        response = await self._send(
            "POST", self.profile.chat_path, json_body=req.body, deadline=deadline
        )
        return self._completion(req, response.content, response)

    def stream(self, request: ChatRequest | None = None, /, **params: Any) -> AsyncChatStream:
        """A streamed chat completion: ``async for`` it for normalised chunk dicts."""
        req = request if request is not None else self.prepare(stream=True, **params)
        if not req.stream:
            req = replace(req, body={**req.body, "stream": True})
        return AsyncChatStream(self, req)

    async def _get_json(self, method: str, path: str, **kw: Any) -> Any:
        response = await self._send(method, path, **kw)
        return self._json(response.content, response)

    async def list_models(self) -> list[dict[str, Any]]:
        self._require_models()
        body = await self._get_json("GET", "/models")
        return list(body.get("data") or []) if isinstance(body, dict) else []

    async def estimate_token_count(self, model: str, messages: list[dict[str, Any]]) -> int:
        self._require_platform("token estimation")
        body = await self._get_json(
            "POST",
            "/tokenizers/estimate-token-count",
            json_body={"model": model, "messages": messages},
        )
        return int(body["data"]["total_tokens"])

    async def balance(self) -> dict[str, Any]:
        self._require_platform("balance")
        body = await self._get_json("GET", "/users/me/balance")
        return dict(body.get("data") or {})

    async def upload_file(
        self, file: bytes | IO[bytes], *, filename: str, purpose: str = "file-extract"
    ) -> dict[str, Any]:
        self._require_platform("file upload")
        return dict(
            await self._get_json(
                "POST", "/files", files={"file": (filename, file)}, data={"purpose": purpose}
            )
        )

    async def list_files(self) -> list[dict[str, Any]]:
        self._require_platform("files")
        body = await self._get_json("GET", "/files")
        return list(body.get("data") or [])

    async def get_file(self, file_id: str) -> dict[str, Any]:
        self._require_platform("files")
        return dict(await self._get_json("GET", f"/files/{file_id}"))

    async def file_content(self, file_id: str) -> str:
        self._require_platform("files")
        return (await self._send("GET", f"/files/{file_id}/content")).text

    async def delete_file(self, file_id: str) -> dict[str, Any]:
        self._require_platform("files")
        return dict(await self._get_json("DELETE", f"/files/{file_id}"))

    async def aclose(self) -> None:
        if self._http_client is not None:
            await self._http_client.aclose()


class AsyncChatStream(_StreamBase):
    """The async twin of :class:`ChatStream`."""

    def __init__(self, client: AsyncKimiClient, request: ChatRequest) -> None:
        super().__init__(client, request)
        self._client = client

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        client = self._client
        deadline = client._deadline()
        attempt = 0
        while True:
            response = await client._send(
                "POST",
                client.profile.chat_path,
                json_body=self.request.body,
                stream=True,
                deadline=deadline,
                first_attempt=attempt + 1,
            )
            parser, attempt = self._opened(response)
            delivered = False
            try:
                async for raw in response.aiter_bytes():
                    for event in parser.feed(raw):
                        delivered = True
                        yield event
                    if parser.settle(deadline, client.total_timeout):
                        break
                for event in parser.finish():
                    yield event
            except httpx.HTTPError as exc:
                err = parser.broken(exc)
                if not delivered and await client._retry(err, attempt, deadline, None):
                    continue
                raise err from exc
            finally:
                await response.aclose()
            break
        self._ended()
