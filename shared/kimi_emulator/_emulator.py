"""KimiEmulator: the public object, its options, and the routing of each request.

The concerns live in their own modules: the server and its lifecycle (``_server.py``,
``_http.py``), faults (``_faults.py``), chat rendering (``_chat.py``, ``_wire.py``),
platform endpoints (``_platform.py``), the rules and tables (``_rules.py``,
``_catalogue.py``, ``_dialects.py``).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any

from ._batches import RESULT_SHAPES, BatchBook, batch_route, chat_answer
from ._chat import ChatEngine, Script, ScriptQueue
from ._dialects import DIALECTS, Dialect
from ._faults import FAULT_KINDS, FaultBook, status_fault
from ._http import DEFAULT_MAX_BODY, RecordedRequest, response_head
from ._platform import Platform
from ._proxy import Proxy, RuleReport, broken_rules, report
from ._recorded import RecordingSources
from ._responders import FunctionType, RejectedError, Responder, make_responder
from ._rules import check_chat, check_model
from ._scripts import check_scripted_turn
from ._server import JSON_TYPE, Conn, HttpServer, Limits
from ._wire import (
    ERROR_TYPES,
    ApiError,
    ToolCallIndexMode,
    as_json_bytes,
    error_response,
    new_trace_id,
)

__all__ = ["FAULT_KINDS", "KimiEmulator"]

DEFAULT_KEY = "sk-kimi-emulator"
#: How many recent requests ``requests`` keeps by default (``request_count`` counts all).
DEFAULT_MAX_REQUESTS = 1000

_SERVER_ERROR_KINDS = {401: "invalid_authentication_error", 500: "server_error"}
_SCRIPT_ERROR_KINDS = {
    400: "invalid_request_error",
    401: "invalid_authentication_error",
    403: "permission_denied_error",
    404: "resource_not_found_error",
    429: "rate_limit_reached_error",
}


class KimiEmulator:
    """A local Kimi-compatible server (see the package docstring for the whole API)."""

    def __init__(
        self,
        dialect: str = "moonshot",
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        *,
        models: Iterable[str] | None = None,
        accept_any_model: bool = False,
        stream_delay: float = 0.0,
        strict: bool = False,
        max_requests: int = DEFAULT_MAX_REQUESTS,
        max_body: int = DEFAULT_MAX_BODY,
        header_timeout: float = 10.0,
        body_timeout: float = 30.0,
        idle_timeout: float = 120.0,
        batch_time_scale: float = 1.0,
        responder: Responder | str | FunctionType | None = None,
        recordings: RecordingSources | None = None,
        match_on: Sequence[str] | None = None,
        upstream: str | None = None,
        record: str | os.PathLike[str] | None = None,
    ) -> None:
        name = dialect.lower()
        if name not in DIALECTS:
            raise ValueError(f"dialect={dialect!r} is unknown; choose one of {', '.join(DIALECTS)}")
        if max_requests < 0:
            raise ValueError(f"max_requests={max_requests!r} must be 0 or more")
        if max_body < 0:
            raise ValueError(f"max_body={max_body!r} must be 0 or more bytes")
        for option, value in (
            ("header_timeout", header_timeout),
            ("body_timeout", body_timeout),
            ("idle_timeout", idle_timeout),
        ):
            if not value > 0:
                raise ValueError(f"{option}={value!r} must be a positive number of seconds")
        self._dialect: Dialect = DIALECTS[name]
        self.host = host
        self._api_key = api_key
        self._default_models = frozenset(models) if models is not None else None
        self._default_accept_any = accept_any_model
        self._default_delay = stream_delay
        self._default_strict = strict
        self._max_requests = max_requests
        if recordings is not None and responder is None:
            responder = "recorded"
        options: dict[str, Any] = {"recordings": recordings or ()}
        if match_on is not None:
            options["match_on"] = match_on
        self._default_responder: Responder = make_responder(responder, **options)
        self._responder: Responder = self._default_responder
        self._lock = threading.Lock()
        self._scripts = ScriptQueue(self._lock)
        self._faults = FaultBook(self._lock)
        self._chat_engine = ChatEngine(self._dialect, self._lock, self._default_responder)
        self._proxy: Proxy | None = None
        if upstream is not None or record is not None:
            self._proxy = Proxy(upstream, record, self._dialect)
        self._platform = Platform(self._dialect, self._lock)
        self._default_batch_time_scale = batch_time_scale
        self._batches = BatchBook(
            self._dialect,
            self._lock,
            lambda: self._platform.files,
            chat_answer(
                self._dialect,
                self._chat_engine,
                lambda: (self.models, self.accept_any_model),
                self._platform.file_exists,
                lambda: self.strict,
            ),
            lambda: (self.models, self.accept_any_model),
        )
        self._server = HttpServer(
            host,
            port,
            self._dispatch,
            self._error_bytes,
            Limits(max_body, header_timeout, body_timeout, idle_timeout),
            name=f"kimi-emulator-{name}",
        )
        self._reset_state()

    # ------------------------------------------------------------------ public API

    @property
    def dialect(self) -> str:
        return self._dialect.name

    @property
    def responder(self) -> Responder:
        """Who answers what no script answers (settable: a name, a ``Responder`` or a
        callable; ``reset()`` restores the constructor's)."""
        return self._responder

    @responder.setter
    def responder(self, value: Responder | str | FunctionType | None) -> None:
        self._responder = make_responder(value)

    @property
    def provider(self) -> str:
        """The kimi_core provider name that talks to this dialect."""
        return self._dialect.provider

    @property
    def default_model(self) -> str:
        """The model this dialect's docs and examples use (moonshot: ``kimi-k2.6``)."""
        return self._dialect.default_model

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def url(self) -> str:
        """The server root, ``http://host:port``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What to pass as ``base_url`` (acedata: the root; others: ``.../v1``)."""
        return self.url + self._dialect.prefix

    @property
    def chat_url(self) -> str:
        return self.url + self._dialect.chat_path

    @property
    def api_key(self) -> str:
        """A key the emulator accepts."""
        return self._api_key or DEFAULT_KEY

    @property
    def requests(self) -> list[RecordedRequest]:
        """The authorized requests received since the last reset, oldest first (a copy;
        the most recent ``max_requests`` of them)."""
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        """How many requests arrived since the last reset (the unauthorized ones too,
        which are counted but not kept)."""
        with self._lock:
            return self._request_total

    @property
    def last_request(self) -> RecordedRequest | None:
        with self._lock:
            return self._requests[-1] if self._requests else None

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """The recorded requests to the chat path."""
        path = self._dialect.chat_path
        return [r for r in self.requests if r.path == path]

    @property
    def files(self) -> dict[str, dict[str, Any]]:
        """Uploaded files (moonshot dialect), by id: their file objects."""
        with self._lock:
            return {fid: dict(f["object"]) for fid, f in self._platform.files.items()}

    @property
    def balance(self) -> dict[str, float]:
        """What ``/v1/users/me/balance`` returns (settable)."""
        return self._platform.balance

    @balance.setter
    def balance(self, value: Mapping[str, float]) -> None:
        self._platform.balance = dict(value)

    @property
    def file_limits(self) -> dict[str, int]:
        """The account's file limits (settable, in part): ``count`` (1,000 files),
        ``bytes`` (100 MB a file), ``total`` (10 GB); an upload past one is a 400."""
        return dict(self._platform.file_limits)

    @file_limits.setter
    def file_limits(self, value: Mapping[str, int]) -> None:
        unknown = set(value) - set(self._platform.file_limits)
        if unknown:
            raise ValueError(f"unknown file limits {sorted(unknown)}: count, bytes, total")
        self._platform.file_limits = {**self._platform.file_limits, **value}

    @property
    def extract_failures(self) -> set[str]:
        """File-name patterns (fnmatch, e.g. ``"*.pdf"``) whose extraction answers ``500
        extract task failed: failed`` (settable; a file whose bytes are not of its type,
        such as a ``.pdf`` without ``%PDF-``, fails anyway)."""
        return self._platform.extract_failures

    @extract_failures.setter
    def extract_failures(self, value: Iterable[str]) -> None:
        self._platform.extract_failures = set(value)

    def batch_options(
        self,
        *,
        time_scale: float | None = None,
        line_delay: float | None = None,
        result_shape: str | None = None,
    ) -> None:
        """Batch API settings (``_batches``): ``time_scale`` multiplies every emulated
        duration (phases of 10 s, the completion window), ``line_delay`` is spent on each
        line (real seconds), ``result_shape`` is ``"openai"`` or ``"bare"``."""
        book = self._batches
        if time_scale is not None:
            if not time_scale > 0:
                raise ValueError(f"time_scale={time_scale!r} must be a positive number")
            book.time_scale = time_scale
        if line_delay is not None:
            if line_delay < 0:
                raise ValueError(f"line_delay={line_delay!r} must be 0 or more seconds")
            book.line_delay = line_delay
        if result_shape is not None:
            if result_shape not in RESULT_SHAPES:
                raise ValueError(f"result_shape={result_shape!r}: one of {RESULT_SHAPES}")
            book.result_shape = result_shape

    def script(
        self,
        text: str | None = None,
        *,
        reasoning: str | None = None,
        tool_calls: Sequence[Mapping[str, Any]] | None = None,
        usage: Mapping[str, Any] | None = None,
        finish_reason: str | None = None,
        model: str | None = None,
        tool_call_index: ToolCallIndexMode = "normal",
        status: int | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        error_type: str | None = None,
        chunk_size: int | None = None,
        chunks: int | None = None,
        delay: float | None = None,
        times: int | None = 1,
    ) -> None:
        """Queue an exact response for the next chat request(s).

        A success script still goes through the rules (an invalid request is rejected);
        an error script (``status``) answers whatever comes. See the package docstring.
        """
        if error_type is not None:
            if error_type not in ERROR_TYPES:
                raise ValueError(
                    f"error_type={error_type!r} is unknown; choose one of {sorted(ERROR_TYPES)}"
                )
            if status is None:
                status = ERROR_TYPES[error_type][0]
        if status is not None and not 100 <= status <= 599:
            raise ValueError(f"status={status!r} is not an HTTP status")
        if tool_call_index not in ("normal", "omit", "zero"):
            raise ValueError("tool_call_index must be 'normal', 'omit' or 'zero'")
        if times is not None and times < 1:
            raise ValueError("times must be a positive integer, or None for every request")
        if chunks is not None and text is None and reasoning is None and not tool_calls:
            text = "tok " * chunks
        calls = None
        if tool_calls is not None:
            calls = []
            for i, tc in enumerate(tool_calls):
                if "name" not in tc:
                    raise ValueError(f"tool_calls[{i}] needs a 'name'")
                calls.append(dict(tc))
        if model is not None and status is None:
            _, info = check_model(self._dialect, model, served=frozenset(), accept_any=True)
            thinks = info.thinking if info.known else None
            check_scripted_turn(model, thinks, reasoning=reasoning, tool_calls=calls)
        self._scripts.add(
            Script(
                text=text,
                reasoning=reasoning,
                tool_calls=calls,
                usage=dict(usage) if usage is not None else None,
                finish_reason=finish_reason,
                model=model,
                tool_call_index=tool_call_index,
                status=status,
                body=body,
                headers=dict(headers or {}),
                error_type=error_type,
                chunk_size=chunk_size,
                chunks=chunks,
                delay=delay,
                remaining=times,
                repeat=times != 1,
            )
        )

    def fault(
        self,
        kind: str,
        *,
        events: int | None = None,
        seconds: float | None = None,
        retry_after: float | None = 1,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        times: int | None = 1,
        rate: float | None = None,
        seed: int | None = None,
        path: str | None = None,
    ) -> None:
        """Inject a fault into the next request(s), or at random with ``rate``.

        ``kind``: "429", "500", "502_html", "503", "drop_after", "stall", "malformed",
        "error_event", "slow_first_byte", "truncated". See the package docstring.
        """
        self._faults.add(
            kind,
            events=events,
            seconds=seconds,
            retry_after=retry_after,
            body=body,
            headers=headers,
            times=times,
            rate=rate,
            seed=seed,
            path=path,
        )

    def clear_faults(self) -> None:
        self._faults.clear()

    def reset(self) -> None:
        """Clear scripts, faults, recorded requests, the prompt cache and files, and
        restore the options given to the constructor."""
        self._reset_state()

    def _reset_state(self) -> None:
        self._scripts = ScriptQueue(self._lock)
        self._faults.clear()
        self._chat_engine.reset()
        self._platform.reset()
        self._batches.reset()
        self._batches.time_scale = self._default_batch_time_scale
        with self._lock:
            self._requests: deque[RecordedRequest] = deque(maxlen=self._max_requests)
            #: Record-through: the rules each forwarded or refused request broke.
            self.rule_reports: list[RuleReport] = []
            self._request_total = 0
        self.accept_any_model = self._default_accept_any
        self.stream_delay = self._default_delay
        self.strict = self._default_strict
        self._responder = self._default_responder
        reset = getattr(self._default_responder, "reset", None)
        if callable(reset):
            reset()
        self.models = (
            self._default_models
            if self._default_models is not None
            else frozenset(self._dialect.models)
        )

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> KimiEmulator:
        """Start serving in a background thread; returns once the port is bound."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving: open connections are closed, stalls are cut short."""
        self._server.stop()

    @property
    def running(self) -> bool:
        return self._server.running

    def __enter__(self) -> KimiEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self.base_url if self.running else "stopped"
        return f"KimiEmulator(dialect={self.dialect!r}, {state})"

    # ------------------------------------------------------------------ answers

    def _base_headers(self, trace_id: str) -> dict[str, str]:
        return {"x-trace-id": trace_id} if self._dialect.trace_header else {}

    def _error_bytes(self, status: int, message: str) -> bytes:
        """A whole error response that closes the connection (unreadable requests)."""
        trace_id = new_trace_id()
        kind = _SERVER_ERROR_KINDS.get(status, "invalid_request_error")
        status, body = error_response(self._dialect, ApiError(status, kind, message), trace_id)
        raw = as_json_bytes(body)
        headers = {"Content-Type": JSON_TYPE, **self._base_headers(trace_id)}
        return response_head(status, headers, length=len(raw), close=True) + raw

    async def _send_error(
        self,
        conn: Conn,
        err: ApiError,
        trace_id: str,
        extra: Mapping[str, str] | None = None,
    ) -> None:
        status, body = error_response(self._dialect, err, trace_id)
        headers = {**self._base_headers(trace_id), **(extra or {})}
        await conn.respond(status, as_json_bytes(body), headers)

    def _authorized(self, req: RecordedRequest) -> bool:
        auth = req.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return False
        return self._api_key is None or token == self._api_key

    def _route(self, method: str, path: str) -> tuple[str | None, bool]:
        """``(endpoint, method_ok)``; endpoint None for an unknown path."""
        d = self._dialect
        if path == d.chat_path:
            return "chat", method == "POST"
        if path in ("/v1/models", d.prefix + "/models"):
            return "models", method == "GET"
        if not d.platform:
            return None, False
        if path == "/v1/tokenizers/estimate-token-count":
            return "estimate", method == "POST"
        if path == "/v1/users/me/balance":
            return "balance", method == "GET"
        if path.startswith("/v1/batches"):
            return batch_route(method, path)
        if path == "/v1/files":
            return "files", method in ("GET", "POST")
        if path.startswith("/v1/files/"):
            rest = path[len("/v1/files/") :]
            if rest.endswith("/content") and rest.count("/") == 1:
                return "file_content", method == "GET"
            if rest and "/" not in rest:
                return "file", method in ("GET", "DELETE")
        return None, False

    async def _dispatch(self, req: RecordedRequest, conn: Conn) -> bool:
        keep = req.keep_alive
        trace_id = new_trace_id()
        with self._lock:
            self._request_total += 1
        if not self._authorized(req):
            # Checked before anything is kept: an unauthorized request is only counted.
            message = (
                "Invalid Authentication"
                if req.headers.get("authorization")
                else "No API key provided (Authorization: Bearer <key>)"
            )
            err = ApiError(401, "invalid_authentication_error", message)
            await self._send_error(conn, err, trace_id)
            return keep
        with self._lock:
            self._requests.append(req)
        endpoint, method_ok = self._route(req.method, req.path)
        if endpoint is None:
            err = ApiError(404, "resource_not_found_error", f"Not found: {req.method} {req.path}")
            await self._send_error(conn, err, trace_id)
            return keep
        if not method_ok:
            err = ApiError(
                405, "method_not_allowed", f"Method {req.method} is not allowed on {req.path}"
            )
            await self._send_error(conn, err, trace_id)
            return keep
        fault = self._faults.take(req.path, endpoint, early=True)
        if fault is not None:
            if fault.kind == "slow_first_byte":
                await asyncio.sleep(fault.seconds)
            else:
                await status_fault(
                    conn, self._dialect, fault, self._base_headers(trace_id), trace_id
                )
                return keep
        if endpoint == "chat":
            await self._chat(req, conn, trace_id)
            return keep
        try:
            book = self._batches if endpoint.startswith("batch") else self._platform
            status, payload, ctype = book.handler(endpoint)(req, self.models, self.accept_any_model)
        except ApiError as err:
            await self._send_error(conn, err, trace_id)
            return keep
        await conn.respond(status, payload, self._base_headers(trace_id), content_type=ctype)
        return keep

    async def _chat(self, req: RecordedRequest, conn: Conn, trace_id: str) -> None:
        head = self._scripts.peek()
        if head is not None and head.status is not None:
            script = self._scripts.take()
            if script is not None:
                await self._scripted_error(conn, script, trace_id)
            return
        body = req.json
        if body is None:
            await self._send_error(conn, _body_error(req), trace_id)
            return
        if self._proxy is not None:
            await self._record_through(req, conn, body, trace_id)
            return
        try:
            call = check_chat(
                self._dialect,
                body,
                served=self.models,
                accept_any=self.accept_any_model,
                file_exists=self._platform.file_exists,
                strict=self.strict,
            )
        except ApiError as err:
            await self._send_error(conn, err, trace_id)
            return
        except RecursionError:
            await self._send_error(conn, _too_deep(), trace_id)
            return
        script = self._scripts.take()
        fault = self._faults.take(req.path, "chat", early=False)
        headers = self._base_headers(trace_id)
        engine = self._chat_engine
        engine.responder = self._responder
        try:
            if call.stream:
                delay = self.stream_delay
                await engine.stream(conn, call, script, fault, headers, trace_id, delay)
            else:
                await engine.complete(conn, call, script, fault, headers, trace_id)
        except RecursionError:
            if conn.sent:
                raise
            await self._send_error(conn, _too_deep(), trace_id)
        except RejectedError as err:
            if conn.sent:
                raise
            if err.body is not None:
                extra = {**headers, **err.headers}
                await conn.respond_custom(err.status, err.body, extra)
            else:
                await self._send_error(conn, err, trace_id, err.headers)

    async def _record_through(
        self, req: RecordedRequest, conn: Conn, body: Any, trace_id: str
    ) -> None:
        """Check the request (confirmed and unconfirmed rules), report what it breaks,
        then refuse it (``strict``) or forward it (``_proxy.py``)."""
        assert self._proxy is not None
        broken: list[ApiError] = []
        labels: list[str] = []
        for strict in (False, True):

            def check(candidate: Any, strict: bool = strict) -> None:
                check_chat(
                    self._dialect,
                    candidate,
                    served=self.models,
                    accept_any=self.accept_any_model,
                    file_exists=self._platform.file_exists,
                    strict=strict,
                )

            try:
                found = broken_rules(check, body)
            except RecursionError:
                found = [_too_deep()]
            for err in found:
                if all(err.message != seen.message for seen in broken):
                    broken.append(err)
                    labels.append(f"(unconfirmed rule) {err.message}" if strict else err.message)
        if broken:
            shown = body if isinstance(body, Mapping) else {}
            rep = report(labels, req, shown, forwarded=not self.strict)
            with self._lock:
                self.rule_reports.append(rep)
            if self.strict:
                await self._send_error(conn, broken[0], trace_id)
                return
        await self._proxy.forward(req, conn, len(broken))

    async def _scripted_error(self, conn: Conn, script: Script, trace_id: str) -> None:
        status = script.status or 500
        if script.body is None:
            kind = script.error_type or _SCRIPT_ERROR_KINDS.get(
                status, "server_error" if status >= 500 else "invalid_request_error"
            )
            default = ERROR_TYPES.get(kind, (status, f"scripted error {status}"))[1]
            err = ApiError(status, kind, script.text or default)
            await self._send_error(conn, err, trace_id, script.headers)
            return
        headers = {**self._base_headers(trace_id), **script.headers}
        await conn.respond_custom(status, script.body, headers)


def _too_deep() -> ApiError:
    return ApiError(400, "invalid_request_error", "Invalid request: the JSON is nested too deeply")


def _body_error(req: RecordedRequest) -> ApiError:
    if req.json_error == "too_deep":
        return _too_deep()
    return ApiError(400, "invalid_request_error", "Invalid request: the body is not valid JSON")
