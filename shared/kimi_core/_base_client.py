"""What a client is, whatever drives its I/O: its configuration (provider, key, timeouts,
limits, retries, headers) and the *flows* of its calls (generators that yield the steps a
call needs done, see ``_retry``): the retry loop, a chat completion, a stream. The
clients (``_transport``) run them with the drivers (``_drivers``).

The key is sent per request and is never part of a pool, a repr, a pickle, a log line
or an error.
"""

from __future__ import annotations

import dataclasses
import logging
import platform
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx

from ._body import encode_body
from ._deadline import (
    DEFAULT_MAX_BODY,
    DEFAULT_MAX_ERROR,
    Deadline,
    check_limit,
    too_large,
)
from ._drivers import Flow, ItemFlow
from ._errors import ConfigurationError, KimiError
from ._providers import ProviderProfile, resolve_api_key, resolve_provider
from ._response import ChatResult, ResponseHandling
from ._retry import NEXT_CHUNK, Close, ReadBody, RetryPolicy, Send, Sleep, retry_wait
from ._rules import ChatRequest, build_chat_request
from ._secrets import MASK, headers_by_ref, headers_from_ref, key_from_ref, key_ref
from ._sse import DEFAULT_MAX_EVENT
from ._version import __version__

if TYPE_CHECKING:
    from ._streaming import ChatStreamBase

__all__ = ["ATTEMPT_HEADER", "DEFAULT_TIMEOUT", "USER_AGENT", "ClientLogic", "TimeoutTypes"]

logger = logging.getLogger("kimi_core")

#: Connect fast, but let a thinking model take its time between bytes.
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=600.0, write=60.0, pool=60.0)
USER_AGENT = (
    f"kimi-integrations/{__version__} "
    f"(python {platform.python_version()}; httpx {httpx.__version__})"
)
ATTEMPT_HEADER = "X-Kimi-Attempt"

TimeoutTypes = float | httpx.Timeout | None


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


class ClientLogic(ResponseHandling, Generic[_T]):
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

    def _request_headers(self, attempt: int, stream: bool, json: bool = False) -> dict[str, str]:
        headers = dict(self._headers)
        headers["Authorization"] = f"Bearer {self._api_key}"
        headers[ATTEMPT_HEADER] = str(attempt)
        if json:
            headers["Content-Type"] = "application/json"
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
        chat_body: Mapping[str, Any] | None = None,
    ) -> Flow[tuple[httpx.Response, bytes, int]]:
        """The retry loop: attempts until one is answered 2xx; its response, its body
        (b"" and the response unread when ``stream``; ``raw_stream``: a body that is not an
        event stream, e.g. a batch file) and its attempt number."""
        deadline = deadline or self._deadline()
        url = self._url(path)
        # a chat body: encoded once for every attempt, its kept parts as they were encoded
        content = encode_body(chat_body) if chat_body is not None else None
        attempt = first_attempt - 1
        while True:
            attempt += 1
            headers: Mapping[str, str] | None = None
            outcome = yield Send(
                method,
                url,
                self._request_headers(attempt, stream and not raw_stream, content is not None),
                deadline.attempt_timeout(self.timeout),
                json_body,
                files,
                data,
                content,
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

    def _stream_flow(self, stream: ChatStreamBase) -> ItemFlow[dict[str, Any]]:
        """A streamed completion: the events of each read delivered as they come; retried
        (within ``max_retries``) only while none was delivered."""
        deadline = self._deadline()
        attempt = 0
        while True:
            response, _, attempt = yield from self._attempts(
                "POST",
                self.profile.chat_path,
                chat_body=stream.request.body,
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
            "POST", self.profile.chat_path, chat_body=request.body
        )
        logger.debug("chat %s %s -> %s", self.profile.name, request.model.id, response.status_code)
        return self._completion(request, raw, response)

    def _json_flow(self, method: str, path: str, **kw: Any) -> Flow[Any]:
        response, raw, _ = yield from self._attempts(method, path, **kw)
        return self._json(raw, response)
