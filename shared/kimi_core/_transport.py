"""KimiClient and AsyncKimiClient: httpx transport with auth, retries and streaming.

Connection pools are shared: one ``httpx.Client`` per timeout configuration for the
whole process (thread-safe), and one ``httpx.AsyncClient`` per configuration *per
event loop*, so a model object works across successive ``asyncio.run`` calls. An async
pool is closed inside its own loop when the loop shuts down (``asyncio.run`` finalises
async generators before closing the loop; a sentinel generator per loop does the close).

Whatever a server sends ends in bounded work as a typed error: bodies are read in
chunks up to ``max_body_bytes`` (64 MiB) and error bodies up to ``max_error_bytes``
(1 MiB), stream events up to ``max_event_bytes`` (16 MiB), all against the
``total_timeout`` deadline (see ``_deadline``); a redirect is an error naming where it
points, and a stream answered with something else says what came.

An async request that is cancelled (``asyncio.wait_for``, a task group) is never
interrupted where httpcore would leave its connection stuck in the pool (httpcore
#1093/#830: a request cancelled after the pool gave it a new connection and before it
used it strands that connection, until every slot is gone): see :class:`_SendGuard`.

The key is sent per request and is never part of a pool, a repr, a pickle, a log line
or an error (a server body that echoes it is masked).
"""

from __future__ import annotations

import asyncio
import atexit
import dataclasses
import json
import logging
import platform
import ssl
import sys
import threading
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, Generic, TypeVar

import httpx

from ._cut import check_cut, cut_message
from ._deadline import (
    DEFAULT_MAX_BODY,
    DEFAULT_MAX_ERROR,
    BodyReader,
    Deadline,
    check_limit,
    too_large,
)
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    ConfigurationError,
    KimiError,
    NotFoundError,
    PermissionDeniedError,
    StreamError,
    ToolCallMissingError,
    _excerpt,
    hide_secret,
    make_status_error,
    redirect_error,
    stream_error_event,
    with_note,
)
from ._hints import auth_note, relayed_retirement
from ._models import explain_retired, explain_unknown
from ._providers import ProviderProfile, resolve_api_key, resolve_provider
from ._retry import NEXT_CHUNK, Close, ReadBody, RetryPolicy, Send, Sleep, Step, retry_wait
from ._rules import ChatRequest, build_chat_request
from ._secrets import (
    MASK,
    headers_by_ref,
    headers_from_ref,
    key_from_ref,
    key_ref,
)
from ._sse import DEFAULT_MAX_EVENT, EventTooLargeError, SSEDecoder
from ._stream import (
    MalformedChunkError,
    StreamAccumulator,
    first_usable_choice,
    normalize_completion,
)
from ._thinking import check_answer
from ._version import __version__

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

logger = logging.getLogger("kimi_core")

#: Connect fast, but let a thinking model take its time between bytes.
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=600.0, write=60.0, pool=60.0)
_LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=100, keepalive_expiry=30.0)
USER_AGENT = (
    f"kimi-integrations/{__version__} "
    f"(python {platform.python_version()}; httpx {httpx.__version__})"
)
ATTEMPT_HEADER = "X-Kimi-Attempt"
#: Keys shorter than this are not masked in server text (no real key is that short).
_MIN_MASKED = 8

TimeoutTypes = float | httpx.Timeout | None

_R = TypeVar("_R")
#: A call, without its I/O: it yields the steps it needs done (``_retry``), receives their
#: outcomes, and returns its result.
Flow = Generator[Step, Any, _R]
#: A streamed call: its flow also yields the events of each read, for the consumer.
StreamFlow = Generator["Step | list[dict[str, Any]]", Any, None]


@dataclass(frozen=True)
class ChatResult:
    """A whole (non-streamed) chat completion."""

    body: dict[str, Any]
    request: ChatRequest
    request_id: str | None = None

    @property
    def message(self) -> dict[str, Any]:
        """The message of the first choice that has one (there always is one)."""
        choice = first_usable_choice(self.body) or {}
        msg: dict[str, Any] = choice.get("message") or {}
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


def _positive(name: str, value: Any, what: str, *, integer: bool) -> None:
    number = isinstance(value, int) or (not integer and isinstance(value, float))
    if isinstance(value, bool) or not number or not value > 0:
        raise ConfigurationError(f"{name}={value!r} is not accepted: {what}", param=name)


def _transport_error(exc: Exception, provider: str) -> APIConnectionError:
    if isinstance(exc, httpx.TimeoutException):
        kind = type(exc).__name__
        return APITimeoutError(f"request timed out ({kind})", provider=provider)
    return APIConnectionError(
        f"connection failed: {type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
        provider=provider,
    )


class _Key:
    """The key while a client is configured: its repr shows nothing, so a frame that
    holds it (a traceback with locals: Sentry, rich) shows nothing either."""

    __slots__ = ("value",)

    def __init__(self, key: Any) -> None:
        reveal = getattr(key, "get_secret_value", None)
        self.value: str | None = reveal() if callable(reveal) else key

    def __repr__(self) -> str:
        return MASK


_T = TypeVar("_T")


class _ClientLogic(Generic[_T]):
    """Everything of a client but its I/O: configuration, and the *flows* of its calls
    (generators that yield the steps a call needs done, see ``_retry``), which
    :class:`KimiClient` and :class:`AsyncKimiClient` drive."""

    profile: ProviderProfile

    def __init__(
        self,
        *,
        provider: str | None = None,
        api_key: Any = None,
        base_url: str | None = None,
        timeout: TimeoutTypes = None,
        total_timeout: float | None = None,
        max_retries: int = 2,
        default_headers: Mapping[str, str] | None = None,
        http_client: _T | None = None,
        retry_policy: RetryPolicy | None = None,
        user_agent: str | None = None,
        max_event_bytes: int = DEFAULT_MAX_EVENT,
        max_body_bytes: int = DEFAULT_MAX_BODY,
        max_error_bytes: int = DEFAULT_MAX_ERROR,
    ) -> None:
        # ``api_key`` is a ``str`` or a ``SecretStr``. From here on no local holds the
        # key in clear: a configuration error raised below shows none in its frames.
        secret = _Key(api_key)
        del api_key
        self.profile = resolve_provider(provider, base_url)
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ConfigurationError(
                f"max_retries={max_retries!r} is not accepted: a non-negative integer",
                param="max_retries",
            )
        self.timeout = _as_timeout(timeout)
        if total_timeout is not None:
            _positive("total_timeout", total_timeout, "a positive number of seconds", integer=False)
        for name, value in (
            ("max_event_bytes", max_event_bytes),
            ("max_body_bytes", max_body_bytes),
            ("max_error_bytes", max_error_bytes),
        ):
            _positive(name, value, "a positive number of bytes", integer=True)
        self.total_timeout = total_timeout
        self.max_retries = max_retries
        self.retry_policy = retry_policy or RetryPolicy()
        self.max_event_bytes = max_event_bytes
        self.max_body_bytes = max_body_bytes
        self.max_error_bytes = max_error_bytes
        self._http_client = http_client
        headers = {"User-Agent": user_agent or USER_AGENT, "Accept": "application/json"}
        if default_headers:
            headers.update(default_headers)
        self._headers = headers
        self._api_key = resolve_api_key(self.profile, secret.value)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(provider={self.profile.name!r}, "
            f"base_url={self.profile.base_url!r}, api_key=**********)"
        )

    def __getstate__(self) -> dict[str, Any]:
        """A pickle holds a reference to the key and to credential headers, never their
        values (see ``kimi_core._secrets``): this process and its forked workers find them
        again; elsewhere the key is read from the environment."""
        state = dict(self.__dict__)
        state["_api_key"] = key_ref(self._api_key)
        state["_headers"] = headers_by_ref(self._headers)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        key = key_from_ref(state.pop("_api_key", None))
        state["_headers"] = headers_from_ref(state.get("_headers")) or {}
        self.__dict__.update(state)
        # Not held here: the environment, or the error naming the variables to set.
        self._api_key = key if key is not None else resolve_api_key(self.profile, None)

    @property
    def base_url(self) -> str:
        return self.profile.base_url

    def prepare(self, **params: Any) -> ChatRequest:
        """Validate chat parameters against the provider's and model's rules (see
        :func:`kimi_core._rules.build_chat_request`)."""
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

    def _deadline(self) -> Deadline:
        return Deadline(self.total_timeout, self.profile.name)

    def _streamed(self, request: ChatRequest) -> ChatRequest:
        if request.stream:
            return request
        return dataclasses.replace(request, body={**request.body, "stream": True})

    def _retry_wait(
        self,
        err: KimiError,
        attempt: int,
        deadline: Deadline,
        headers: Mapping[str, str] | None,
        *,
        delivered: bool = False,
    ) -> float | None:
        """How long to wait before retrying, or None not to retry (``_retry.retry_wait``)."""
        return retry_wait(
            err,
            attempt=attempt,
            max_retries=self.max_retries,
            policy=self.retry_policy,
            deadline=deadline,
            headers=headers,
            provider=self.profile.name,
            delivered=delivered,
        )

    def _connection_error(self, exc: Exception) -> APIConnectionError:
        """The error for a transport failure, chained to it (``__cause__``): never the
        key, whatever httpx says (in a repr too), so then nothing is chained."""
        err = _transport_error(exc, self.profile.name)
        key = self._api_key.strip()
        if key and key in err.message:
            err = type(err)(err.message.replace(key, MASK), provider=err.provider)
            err.__cause__ = None
        else:
            err.__cause__ = exc
        return err

    @property
    def _maskable_key(self) -> str:
        """The key as it is masked in server words: not one too short to be a real
        secret (a test's ``"k"`` would mask every ``k`` of a message)."""
        key = self._api_key.strip()
        return key if len(key) >= _MIN_MASKED else ""

    def _hidden(self, err: KimiError) -> KimiError:
        """``err`` with the key masked wherever the server's words could carry it."""
        return hide_secret(err, self._maskable_key)

    def _body_reader(self, response: httpx.Response, ok: bool, deadline: Deadline) -> BodyReader:
        """The reader of a response body (a success body, or an error body)."""
        status = response.status_code
        if ok:
            limit, what = self.max_body_bytes, f"the answer (HTTP {status})"
        else:
            limit, what = self.max_error_bytes, f"the HTTP {status} error body"
        return BodyReader(limit, deadline, what, _request_id(response))

    def _failure(
        self,
        response: httpx.Response,
        ok: bool,
        reader: BodyReader,
        broken: httpx.HTTPError | None,
    ) -> tuple[KimiError, Mapping[str, str] | None]:
        """The error of an attempt whose body was read (or broke), and the headers that
        say how long to wait: a success body that broke is a connection error; an
        error status is the status error, built from what was read of its body."""
        if ok and broken is not None:
            return self._connection_error(broken), None
        err = self._status_error(response, reader.error_body())
        return err, (response.headers if broken is None else None)

    def _status_error(self, response: httpx.Response, raw: bytes) -> APIStatusError:
        status = response.status_code
        if 300 <= status < 400:
            err: APIStatusError = redirect_error(
                status,
                response.headers.get("location"),
                provider=self.profile.name,
                request_id=_request_id(response),
                body=raw.decode("utf-8", "replace")[:1000] or None,
            )
        else:
            err = make_status_error(
                status, raw, headers=response.headers, provider=self.profile.name
            )
            if isinstance(err, NotFoundError):
                err = explain_retired(err, self.profile.name, response.request.content)
                explain_unknown(err, response.request.content)
                relayed_retirement(err, self.profile, response.request.content)
            elif isinstance(err, (AuthenticationError, PermissionDeniedError)):
                with_note(err, auth_note(self.profile, self._api_key.strip()))
        key = self._maskable_key
        if key and key.encode() in raw:
            hide_secret(err, key)
        return err

    def _completion(self, request: ChatRequest, raw: bytes, response: httpx.Response) -> ChatResult:
        request_id = _request_id(response)
        status = response.status_code
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            body = None
            problem = f"is not JSON: {_shown(raw)}"
        else:
            problem = "" if isinstance(body, dict) else f"is a JSON {type(body).__name__}"
        if not problem:
            if _is_error_body(body):
                # Some gateways answer 200 with an error body (AceData: "success": false).
                raise self._status_error(response, raw)
            try:
                normalize_completion(body)
            except MalformedChunkError as exc:
                problem = f"is malformed: {exc}"
            else:
                if first_usable_choice(body) is None:
                    problem = "has no usable choice (no choice with a message)"
        if problem:
            err = StreamError(
                f"the answer (HTTP {status}, {_content_type(response.headers)}) {problem}",
                status_code=status,
                provider=self.profile.name,
                request_id=request_id,
                body=body,
            )
            raise self._hidden(err)
        result = ChatResult(body=body, request=request, request_id=request_id)
        self._check_answer(request, result.body, request_id)
        return result

    def _check_answer(self, request: ChatRequest, body: dict[str, Any], rid: str | None) -> None:
        """The plan's check of a forced call, then the check of an answer cut while the
        model was still reasoning (``_cut``): a missing call says it was cut, if it was."""
        try:
            check_answer(request.plan, body, provider=self.profile.name, request_id=rid)
        except ToolCallMissingError as err:
            cut = cut_message(request, self.profile, body)
            raise (with_note(err, cut) if cut else err) from None
        check_cut(request, self.profile, body, request_id=rid)

    def _json(self, raw: bytes, response: httpx.Response) -> Any:
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            raise self._hidden(
                StreamError(
                    f"the answer (HTTP {response.status_code}, {_content_type(response.headers)}) "
                    f"is not JSON: {_shown(raw)}",
                    status_code=response.status_code,
                    provider=self.profile.name,
                    request_id=_request_id(response),
                )
            ) from None

    def _object(self, body: Any, what: str, *path: str) -> Any:
        """``body[path[0]][path[1]]...`` of a platform answer, or a StreamError saying
        the answer does not have it."""
        value = body
        for key in path:
            if not isinstance(value, dict) or key not in value:
                raise StreamError(
                    f"the {what} answer has no {'.'.join(path)}: {_excerpt(repr(body))}",
                    provider=self.profile.name,
                )
            value = value[key]
        return value

    def _dict(self, body: Any, what: str) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise StreamError(
                f"the {what} answer is not a JSON object: {_excerpt(repr(body))}",
                provider=self.profile.name,
            )
        return body

    def _list(self, body: Any, what: str) -> list[Any]:
        data = self._dict(body, what).get("data") or []
        if not isinstance(data, list):
            raise StreamError(f"the {what} answer's data is not a list", provider=self.profile.name)
        return list(data)

    def _require_platform(self, what: str) -> None:
        if not self.profile.has_platform_endpoints:
            raise ConfigurationError(
                f"{what} is not supported by {self.profile.name} ({self.profile.label}); "
                "it is a Moonshot platform endpoint (provider='moonshot' or 'moonshot-cn')",
                provider=self.profile.name,
            )

    # ------------------------------------------------------------------ flows

    def _attempts(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        files: Any = None,
        data: Any = None,
        stream: bool = False,
        deadline: Deadline | None = None,
        first_attempt: int = 1,
        raw_stream: bool = False,
    ) -> Flow[tuple[httpx.Response, bytes, int]]:
        """The retry loop: attempts until one is answered 2xx; its response, its body
        (b"" and the response unread when ``stream``; ``raw_stream``: a body that is not an
        event stream, e.g. a batch file) and its attempt number."""
        deadline = deadline or self._deadline()
        url = self._url(path)
        attempt = first_attempt - 1
        while True:
            attempt += 1
            headers: Mapping[str, str] | None = None
            outcome = yield Send(
                method,
                url,
                self._request_headers(attempt, stream and not raw_stream),
                deadline.attempt_timeout(self.timeout),
                json_body,
                files,
                data,
            )
            if isinstance(outcome, httpx.HTTPError):
                err: KimiError = self._connection_error(outcome)
            else:
                response: httpx.Response = outcome
                status = response.status_code
                ok = 200 <= status < 300
                if ok and stream:
                    return response, b"", attempt
                declared = check_limit(response.headers, self.max_body_bytes) if ok else None
                if declared is not None:
                    yield Close(response)  # not read: the connection is dropped, not drained
                    what = f"the answer (HTTP {status})"
                    raise too_large(what, self.max_body_bytes, declared, status, self.profile.name)
                reader = self._body_reader(response, ok, deadline)
                broken = yield ReadBody(response, reader)
                if ok and broken is None:
                    return response, reader.body(status), attempt
                err, headers = self._failure(response, ok, reader, broken)
            wait = self._retry_wait(err, attempt, deadline, headers)
            if wait is None:
                raise err
            yield Sleep(wait)

    def _stream_flow(self, stream: _ChatStreamBase) -> StreamFlow:
        """A streamed completion: the events of each read delivered as they come; retried
        (within ``max_retries``) only while none was delivered."""
        deadline = self._deadline()
        attempt = 0
        while True:
            response, _, attempt = yield from self._attempts(
                "POST",
                self.profile.chat_path,
                json_body=stream.request.body,
                stream=True,
                deadline=deadline,
                first_attempt=attempt + 1,
            )
            parser = stream._opened(response)
            delivered = False
            try:
                while True:
                    chunk = yield NEXT_CHUNK
                    if chunk is None:
                        break
                    if chunk.__class__ is not bytes:
                        raise chunk  # the httpx.HTTPError that broke the read
                    events = parser.feed(chunk)
                    if events:
                        delivered = True
                        yield events
                    if parser.after_read(deadline):
                        break
                events = parser.finish()
                if events:
                    yield events
            except httpx.HTTPError as exc:
                err = parser.broken_error(exc)
                wait = self._retry_wait(err, attempt, deadline, None, delivered=delivered)
                if wait is None:
                    raise self._hidden(err) from exc
                yield Close(response)
                yield Sleep(wait)
                continue
            except KimiError as err:
                raise self._hidden(err) from err.__cause__
            yield Close(response)
            break
        stream._ended()

    def _chat_flow(self, request: ChatRequest) -> Flow[ChatResult]:
        if request.stream:
            raise ConfigurationError("use stream() for a streamed request", param="stream")
        response, raw, _ = yield from self._attempts(
            "POST", self.profile.chat_path, json_body=request.body
        )
        logger.debug("chat %s %s -> %s", self.profile.name, request.model.id, response.status_code)
        return self._completion(request, raw, response)

    def _json_flow(self, method: str, path: str, **kw: Any) -> Flow[Any]:
        response, raw, _ = yield from self._attempts(method, path, **kw)
        return self._json(raw, response)

    def _models_flow(self) -> Flow[list[dict[str, Any]]]:
        self._require_models()
        return self._list((yield from self._json_flow("GET", "/models")), "models")

    def _token_count_flow(self, model: str, messages: list[dict[str, Any]]) -> Flow[int]:
        self._require_platform("token estimation")
        body = yield from self._json_flow(
            "POST",
            "/tokenizers/estimate-token-count",
            json_body={"model": model, "messages": messages},
        )
        count = self._object(body, "token estimate", "data", "total_tokens")
        if not isinstance(count, int) or isinstance(count, bool):
            raise StreamError(
                f"the token estimate is not an integer: {count!r:.100}", provider=self.profile.name
            )
        return count

    def _balance_flow(self) -> Flow[dict[str, Any]]:
        self._require_platform("balance")
        body = self._dict((yield from self._json_flow("GET", "/users/me/balance")), "balance")
        return self._dict(body.get("data") or {}, "balance")

    def _upload_flow(self, file: bytes | IO[bytes], filename: str, purpose: str) -> Flow[Any]:
        self._require_platform("file upload")
        body = yield from self._json_flow(
            "POST", "/files", files={"file": (filename, file)}, data={"purpose": purpose}
        )
        return self._dict(body, "file upload")

    def _files_flow(self) -> Flow[list[dict[str, Any]]]:
        self._require_platform("files")
        return self._list((yield from self._json_flow("GET", "/files")), "files")

    def _file_flow(self, method: str, file_id: str, what: str) -> Flow[dict[str, Any]]:
        self._require_platform("files")
        return self._dict((yield from self._json_flow(method, f"/files/{file_id}")), what)

    def _file_content_flow(self, file_id: str) -> Flow[str]:
        self._require_platform("files")
        response, raw, _ = yield from self._attempts("GET", f"/files/{file_id}/content")
        return raw.decode(response.encoding or "utf-8", "replace")

    def _require_models(self) -> None:
        if not self.profile.has_models_endpoint:
            raise ConfigurationError(
                f"listing models is not supported by {self.profile.name} ({self.profile.label}); "
                f"its documented models: {', '.join(self.profile.models)}",
                provider=self.profile.name,
            )


def _request_id(response: httpx.Response) -> str | None:
    headers = response.headers
    found: str | None = (
        headers.get("x-trace-id") or headers.get("x-request-id") or headers.get("msh-request-id")
    )
    return found


def _content_type(headers: Mapping[str, str]) -> str:
    ctype = headers.get("content-type")
    return repr(ctype[:100]) if ctype else "no content type"


def _is_error_body(body: Mapping[str, Any]) -> bool:
    """Whether a JSON object answered under a 2xx is an error (no choices, and an
    ``error`` field or, AceData's, ``"success": false``)."""
    return not body.get("choices") and ("error" in body or body.get("success") is False)


def _shown(raw: bytes) -> str:
    return repr(raw[:200]) + ("..." if len(raw) > 200 else "")


#: How an event stream can start; anything else under a 2xx is not a stream.
_SSE_STARTS = (b"data:", b":", b"event:", b"id:", b"retry:", b"\xef\xbb\xbf")


class _EventParser:
    """Bytes in, normalised event dicts out; knows how a stream must end.

    IO-free: a driver feeds it each read and delivers what it returns. Bad input ends
    as a :class:`KimiError` carrying everything delivered (``partial``); the events
    completed before a bad one in the same read are delivered first (``failure`` is
    raised by :meth:`after_read` once they were). A body that is not an event stream (JSON,
    HTML) is collected up to ``max_error`` bytes and reported for what it is.
    """

    __slots__ = (
        "acc",
        "decoder",
        "done",
        "failure",
        "foreign",
        "headers",
        "max_error",
        "provider",
        "request_id",
        "sniff",
        "status",
    )

    def __init__(
        self, provider: str, response: httpx.Response, max_event: int, max_error: int
    ) -> None:
        self.decoder = SSEDecoder(max_event)
        self.acc = StreamAccumulator()
        self.done = False
        #: An error met after good events of the same read: raised once they are delivered.
        self.failure: KimiError | None = None
        self.provider = provider
        self.request_id = _request_id(response)
        self.status = response.status_code
        self.headers = response.headers
        self.max_error = max_error
        # Not declared an event stream: the first bytes decide.
        content_type = response.headers.get("content-type") or ""
        self.sniff = "text/event-stream" not in content_type.lower()
        self.foreign: bytearray | None = None

    def feed(self, raw: bytes) -> list[dict[str, Any]]:
        if self.sniff:
            raw = self._sniffed(raw)
            if not raw:
                return []
        out: list[dict[str, Any]] = []
        try:
            payloads = self.decoder.decode(raw)
            overflow = None
        except EventTooLargeError as exc:
            payloads, overflow = exc.events, exc
        for data in payloads:
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
        if overflow is not None and not self.done:
            too_big = self.error(
                f"an event of the stream is larger than max_event_bytes={overflow.limit} "
                f"({overflow.size} bytes before its end); raise the limit on the client if "
                "such events are expected"
            )
            if not out:
                raise too_big
            self.failure = too_big
            self.done = True
        return out

    def _event(self, data: bytes) -> dict[str, Any] | None:
        if data[:1] == b"[" and data.strip() == b"[DONE]":
            self.done = True
            return None
        try:
            event = json.loads(data)
        except (ValueError, RecursionError):
            if not data.strip():
                return None
            raise self.error(f"malformed event in the stream (not JSON): {_shown(data)}") from None
        if not isinstance(event, dict):
            raise self.error(f"malformed event in the stream (not an object): {_shown(data)}")
        if "error" in event and not event.get("choices"):
            err = stream_error_event(event, provider=self.provider, request_id=self.request_id)
            err.partial = self.acc.completion()
            raise err
        try:
            return self.acc.add(event)
        except MalformedChunkError as exc:
            raise self.error(f"malformed event in the stream ({exc}): {_shown(data)}") from None

    def _sniffed(self, raw: bytes) -> bytes:
        """The bytes to decode as an event stream: all of them once the start looks like
        one; none while undecided or when the body is something else (collected)."""
        if self.foreign is None:
            start = raw.lstrip()
            if not start:
                return b""
            if start.startswith(_SSE_STARTS):
                self.sniff = False
                return raw
            self.foreign = bytearray()
        room = self.max_error - len(self.foreign)
        self.foreign += raw[:room]
        if len(raw) > room:
            raise self.not_a_stream()
        return b""

    def not_a_stream(self) -> KimiError:
        """The error for a body that is not an event stream: the provider's error when it
        is a JSON error body under a 2xx, else what came (status, type, an excerpt)."""
        raw = bytes(self.foreign or b"")
        try:
            body = json.loads(raw) if raw else None
        except (ValueError, RecursionError):
            body = None
        if isinstance(body, dict) and _is_error_body(body):
            return make_status_error(self.status, raw, headers=self.headers, provider=self.provider)
        if isinstance(body, dict) and body.get("choices"):
            what = "a whole chat completion (the server ignored stream=true)"
        elif raw:
            what = _excerpt(raw.decode("utf-8", "replace")) or _shown(raw)
        else:
            what = "an empty body"
        return StreamError(
            f"a stream was requested, but the server answered HTTP {self.status} with "
            f"{_content_type(self.headers)} and not an event stream: {what}",
            status_code=self.status,
            provider=self.provider,
            request_id=self.request_id,
            body=body if body is not None else (raw[:1000].decode("utf-8", "replace") or None),
        )

    def finish(self) -> list[dict[str, Any]]:
        """End of the body: flush, and fail if the stream did not really end."""
        if self.sniff:
            raise self.not_a_stream()
        out: list[dict[str, Any]] = []
        if not self.done:
            try:
                payloads = self.decoder.flush()
            except EventTooLargeError as exc:
                raise self.error(
                    f"an event of the stream is larger than max_event_bytes={exc.limit}"
                ) from None
            for data in payloads:
                event = self._event(data)
                if event is not None:
                    out.append(event)
        if not self.done and not self.acc.finished:
            raise self.error(
                f"stream ended before [DONE] and before a finish_reason ({self.acc.events} "
                "events received; they are in .partial)"
            )
        if not self.acc.choices:
            raise self.error(
                f"the stream ended without any choice ({self.acc.events} events received): "
                "an HTTP 200 with no answer"
            )
        return out

    def after_read(self, deadline: Deadline) -> bool:
        """After a read's events were delivered: raise what the read met (an error event,
        a malformed event, the total timeout); True once the stream is over."""
        if self.failure is not None:
            raise self.failure
        if self.done:
            return True
        at = deadline.at
        if at is not None and time.monotonic() > at:
            err = deadline.error(f"after {self.acc.events} events", self.request_id)
            err.partial = self.acc.completion()
            raise err
        return False

    def error(self, message: str) -> StreamError:
        return StreamError(
            message,
            partial=self.acc.completion(),
            provider=self.provider,
            request_id=self.request_id,
            status_code=self.status,
        )

    def broken_error(self, exc: Exception) -> KimiError:
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


class _ChatStreamBase:
    """What the sync and async streams share: the request, the parser of the current
    attempt, and the end-of-stream check."""

    def __init__(self, client: _ClientLogic[Any], request: ChatRequest) -> None:
        self._logic = client
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

    def _opened(self, response: httpx.Response) -> _EventParser:
        """The parser of a new attempt's response."""
        logic = self._logic
        self._parser = _EventParser(
            logic.profile.name, response, logic.max_event_bytes, logic.max_error_bytes
        )
        self.request_id = self._parser.request_id
        return self._parser

    def _ended(self) -> None:
        # The completion is built only when it is checked: a forced call, or a choice
        # that ended on the output budget (it may have been cut while reasoning).
        acc = self.accumulator
        if self.request.required_tool or any(
            c.finish_reason == "length" for c in acc.choices.values()
        ):
            self._logic._check_answer(self.request, self.completion(), self.request_id)


# --------------------------------------------------------------------------- sync


class _SyncIO:
    """Performs the steps of flows with an ``httpx.Client`` (see ``_retry``); holds the
    response being streamed, closed by :meth:`close` if the flow ends without."""

    __slots__ = ("_chunks", "_response", "_steps", "client")

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
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
        try:
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


def _drive(io: _SyncIO, flow: Flow[_R]) -> _R:
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


class KimiClient(_ClientLogic[httpx.Client]):
    """Synchronous client. Thread-safe; share one across threads and model objects."""

    def _client(self) -> httpx.Client:
        return self._http_client or _sync_pool(self.timeout)

    def _run(self, flow: Flow[_R]) -> _R:
        return _drive(_SyncIO(self._client()), flow)

    def chat(self, request: ChatRequest | None = None, /, **params: Any) -> ChatResult:
        """A whole chat completion. Pass a prepared request or the parameters."""
        req = request if request is not None else self.prepare(**params)
        return self._run(self._chat_flow(req))

    def stream(self, request: ChatRequest | None = None, /, **params: Any) -> ChatStream:
        """A streamed chat completion: iterate it for normalised chunk dicts."""
        req = request if request is not None else self.prepare(stream=True, **params)
        return ChatStream(self, self._streamed(req))

    # Platform endpoints ---------------------------------------------------------------

    @property
    def batches(self) -> Batches:
        """The Batch API (``kimi_core._batch``): jobs, files, status, results."""
        from ._batch import Batches

        return Batches(self)

    def list_models(self) -> list[dict[str, Any]]:
        """The models the provider serves (``GET /models``)."""
        return self._run(self._models_flow())

    def estimate_token_count(self, model: str, messages: list[dict[str, Any]]) -> int:
        """Moonshot's token estimate for a chat body."""
        return self._run(self._token_count_flow(model, messages))

    def balance(self) -> dict[str, Any]:
        """The account balance (``available_balance``, ``voucher_balance``, ``cash_balance``)."""
        return self._run(self._balance_flow())

    def upload_file(
        self, file: bytes | IO[bytes], *, filename: str, purpose: str = "file-extract"
    ) -> dict[str, Any]:
        """Upload a file (``purpose``: file-extract, image, video, batch)."""
        return self._run(self._upload_flow(file, filename, purpose))

    def list_files(self) -> list[dict[str, Any]]:
        return self._run(self._files_flow())

    def get_file(self, file_id: str) -> dict[str, Any]:
        return self._run(self._file_flow("GET", file_id, "file"))

    def file_content(self, file_id: str) -> str:
        return self._run(self._file_content_flow(file_id))

    def delete_file(self, file_id: str) -> dict[str, Any]:
        return self._run(self._file_flow("DELETE", file_id, "file deletion"))

    def close(self) -> None:
        """Close an injected http_client (shared pools are closed at exit)."""
        if self._http_client is not None:
            self._http_client.close()


class ChatStream(_ChatStreamBase):
    """A streamed completion. Iterate for chunk dicts; then :meth:`completion`.

    The request is retried (within ``max_retries``) only while no chunk has been
    delivered. A failure after that raises, with what arrived in ``error.partial``.
    """

    def __init__(self, client: KimiClient, request: ChatRequest) -> None:
        super().__init__(client, request)
        self._client = client

    def __iter__(self) -> Iterator[dict[str, Any]]:
        io = _SyncIO(self._client._client())
        flow = self._client._stream_flow(self)
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


# --------------------------------------------------------------------------- async

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


async def _guarded_send(client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    guard = _SendGuard(request.extensions.get("trace"), await _admit(client, request))
    request.extensions["trace"] = guard.trace
    task = guard.task = asyncio.ensure_future(client.send(request, stream=True))
    task.add_done_callback(guard.out_of_queue)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        guard.abandon()
        raise


class _NoChunks:
    """The chunks of no response: none."""

    def __aiter__(self) -> _NoChunks:
        return self

    async def __anext__(self) -> bytes:
        raise StopAsyncIteration


_NO_CHUNKS = _NoChunks()


class _AsyncIO:
    """Performs the steps of flows with an ``httpx.AsyncClient``: the async twin of
    :class:`_SyncIO` (a request is sent through :func:`_guarded_send`)."""

    __slots__ = ("_chunks", "_response", "_steps", "client")

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
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
        try:
            response = await _guarded_send(self.client, step.build(self.client))
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


async def _adrive(io: _AsyncIO, flow: Flow[_R]) -> _R:
    """The async twin of :func:`_drive`."""
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


class AsyncKimiClient(_ClientLogic[httpx.AsyncClient]):
    """Asynchronous client. Works across event loops (one pool per loop); cancelling a
    call (``asyncio.wait_for``, task groups) leaves the pool clean."""

    async def _client(self) -> httpx.AsyncClient:
        return self._http_client or await _async_pool(self.timeout)

    async def _run(self, flow: Flow[_R]) -> _R:
        return await _adrive(_AsyncIO(await self._client()), flow)

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
        return await self._run(self._models_flow())

    async def estimate_token_count(self, model: str, messages: list[dict[str, Any]]) -> int:
        return await self._run(self._token_count_flow(model, messages))

    async def balance(self) -> dict[str, Any]:
        return await self._run(self._balance_flow())

    async def upload_file(
        self, file: bytes | IO[bytes], *, filename: str, purpose: str = "file-extract"
    ) -> dict[str, Any]:
        return await self._run(self._upload_flow(file, filename, purpose))

    async def list_files(self) -> list[dict[str, Any]]:
        return await self._run(self._files_flow())

    async def get_file(self, file_id: str) -> dict[str, Any]:
        return await self._run(self._file_flow("GET", file_id, "file"))

    async def file_content(self, file_id: str) -> str:
        return await self._run(self._file_content_flow(file_id))

    async def delete_file(self, file_id: str) -> dict[str, Any]:
        return await self._run(self._file_flow("DELETE", file_id, "file deletion"))

    async def aclose(self) -> None:
        if self._http_client is not None:
            await self._http_client.aclose()


class AsyncChatStream(_ChatStreamBase):
    """The async twin of :class:`ChatStream`."""

    def __init__(self, client: AsyncKimiClient, request: ChatRequest) -> None:
        super().__init__(client, request)
        self._client = client

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        io = _AsyncIO(await self._client._client())
        flow = self._client._stream_flow(self)
        try:
            outcome = None
            while True:
                step = flow.send(outcome)
                if step.__class__ is list:
                    for event in step:
                        yield event
                    outcome = None
                else:
                    outcome = await io.perform(step)
        except StopIteration:
            return
        finally:
            flow.close()
            await io.aclose()
