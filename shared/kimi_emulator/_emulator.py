"""KimiEmulator: the asyncio server, its routes, scripts and faults."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import random
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from ._http import (
    LAST_CHUNK,
    HTTPError,
    RecordedRequest,
    chunk_frame,
    read_request,
    response_head,
)
from ._responder import completion_tokens, respond
from ._rules import ChatCall, check_chat, check_model, message_tokens
from ._scripts import check_scripted_turn
from ._wire import (
    DIALECTS,
    ERROR_TYPES,
    ApiError,
    Choice,
    Dialect,
    Plan,
    ToolCall,
    ToolCallIndexMode,
    as_json_bytes,
    error_response,
    new_trace_id,
    random_file_id,
    render_completion,
    render_stream,
    sse_error_event,
    usage_object,
)

__all__ = ["FAULT_KINDS", "KimiEmulator"]

DEFAULT_KEY = "sk-kimi-emulator"
#: How many recent requests ``requests`` keeps (``request_count`` counts them all).
MAX_RECORDED = 100_000

FAULT_KINDS = frozenset(
    {
        "429",
        "500",
        "502_html",
        "503",
        "drop_after",
        "stall",
        "malformed",
        "error_event",
        "slow_first_byte",
        "truncated",
    }
)
_FAULT_ALIASES = {"html_502": "502_html", "502": "502_html", "drop": "drop_after"}
_STATUS_FAULTS = frozenset({"429", "500", "502_html", "503"})

_HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
_TEXT_503 = (
    b"upstream connect error or disconnect/reset before headers. reset reason: connection failure"
)
_FILE_PURPOSES = ("file-extract", "image", "video", "batch")
_MAX_FILES = 1000
_MAX_FILE_BYTES = 100 * 1024 * 1024
_PLACEHOLDER_CHARS = "@"


@dataclass
class _Script:
    text: str | None
    reasoning: str | None
    tool_calls: list[dict[str, Any]] | None
    usage: dict[str, Any] | None
    finish_reason: str | None
    model: str | None
    tool_call_index: ToolCallIndexMode
    status: int | None
    body: Any
    headers: dict[str, str]
    error_type: str | None
    chunk_size: int | None
    chunks: int | None
    delay: float | None
    remaining: int | None
    repeat: bool = False
    #: A repeating script renders its stream once per include_usage setting.
    rendered: dict[bool, tuple[bytes, bytes, int, list[bytes]]] = field(default_factory=dict)


@dataclass
class _Rendered:
    """A rendered stream; a repeating script's template gets its fresh id on use."""

    template: list[bytes]
    body_count: int
    delay: float
    template_joined: bytes | None = None
    placeholder: bytes | None = None
    chat_id: bytes = b""

    def events(self) -> list[bytes]:
        if self.placeholder is None:
            return self.template
        return [e.replace(self.placeholder, self.chat_id) for e in self.template]

    def joined(self) -> bytes:
        if self.placeholder is None or self.template_joined is None:
            return b"".join(self.template)
        return self.template_joined.replace(self.placeholder, self.chat_id)


@dataclass
class _Fault:
    kind: str
    events: int
    seconds: float
    retry_after: float | None
    body: Any
    headers: dict[str, str]
    remaining: int | None
    rate: float | None
    rng: random.Random | None
    path: str | None


class _AbortError(Exception):
    """Drop the connection now (a fault)."""


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
    ) -> None:
        name = dialect.lower()
        if name not in DIALECTS:
            raise ValueError(f"dialect={dialect!r} is unknown; choose one of {', '.join(DIALECTS)}")
        self._dialect: Dialect = DIALECTS[name]
        self.host = host
        self._port = port
        self._api_key = api_key
        self._default_models = frozenset(models) if models is not None else None
        self._default_accept_any = accept_any_model
        self._default_delay = stream_delay
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._conns: set[asyncio.Task[None]] = set()
        self._reset_state()

    # ------------------------------------------------------------------ public API

    @property
    def dialect(self) -> str:
        return self._dialect.name

    @property
    def provider(self) -> str:
        """The kimi_core provider name that talks to this dialect."""
        return self._dialect.provider

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        """The server root, ``http://host:port``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

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
        """The requests received since the last reset, oldest first (a copy; the most
        recent 100,000 of them)."""
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        """How many requests arrived since the last reset."""
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
            return {fid: dict(f["object"]) for fid, f in self._files.items()}

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
        item = _Script(
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
        with self._lock:
            self._scripts.append(item)

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
        kind = _FAULT_ALIASES.get(kind, kind)
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind {kind!r} is unknown; choose one of {sorted(FAULT_KINDS)}")
        if rate is not None and not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if times is not None and times < 1:
            raise ValueError("times must be a positive integer, or None for every request")
        default_events = {"drop_after": 3, "stall": 3, "malformed": 3, "error_event": 3}
        default_seconds = {"stall": 10.0, "slow_first_byte": 1.0}
        item = _Fault(
            kind=kind,
            events=events if events is not None else default_events.get(kind, -1),
            seconds=seconds if seconds is not None else default_seconds.get(kind, 0.0),
            retry_after=retry_after,
            body=body,
            headers=dict(headers or {}),
            remaining=None if rate is not None else times,
            rate=rate,
            rng=random.Random(seed) if rate is not None else None,
            path=path,
        )
        with self._lock:
            self._faults.append(item)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def reset(self) -> None:
        """Clear scripts, faults, recorded requests, the prompt cache and files, and
        restore the options given to the constructor."""
        with self._lock:
            self._reset_state()

    def _reset_state(self) -> None:
        self._scripts: deque[_Script] = deque()
        self._faults: list[_Fault] = []
        # The most recent requests (a long soak must not grow without bound) and a total.
        self._requests: deque[RecordedRequest] = deque(maxlen=MAX_RECORDED)
        self._request_total = 0
        self._cache: dict[str, int] = {}
        self._files: dict[str, dict[str, Any]] = {}
        self._call_counter = 0
        self.accept_any_model = self._default_accept_any
        self.stream_delay = self._default_delay
        self.models = (
            self._default_models
            if self._default_models is not None
            else frozenset(self._dialect.models)
        )
        self.balance: dict[str, float] = {
            "available_balance": 49.58894,
            "voucher_balance": 46.58893,
            "cash_balance": 3.00001,
        }

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> KimiEmulator:
        """Start serving in a background thread; returns once the port is bound."""
        if self._thread is not None:
            return self
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._open())
            except BaseException as exc:  # bind errors go back to start()
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self._close())
                loop.close()

        thread = threading.Thread(target=run, name=f"kimi-emulator-{self.dialect}", daemon=True)
        thread.start()
        ready.wait()
        if failure:
            thread.join()
            raise failure[0]
        self._loop = loop
        self._thread = thread
        return self

    def stop(self) -> None:
        """Stop serving: open connections are closed, stalls are cut short."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        self._thread = self._loop = None
        loop.call_soon_threadsafe(loop.stop)
        thread.join()

    @property
    def running(self) -> bool:
        return self._thread is not None

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

    async def _open(self) -> None:
        self._server = await asyncio.start_server(
            self._connection, self.host, self._port, backlog=2048, limit=1024 * 1024
        )
        sock = self._server.sockets[0]
        self._port = int(sock.getsockname()[1])

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._conns):
            task.cancel()
        if self._conns:
            await asyncio.gather(*self._conns, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    # ------------------------------------------------------------------ connections

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._conns.add(task)
        try:
            while True:
                try:
                    req = await read_request(reader)
                except HTTPError as exc:
                    writer.write(response_head(exc.status, {}, length=0, close=True))
                    await writer.drain()
                    return
                if req is None:
                    return
                if not await self._dispatch(req, writer):
                    return
        except _AbortError:
            writer.transport.abort()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Shutdown: end quietly (asyncio's stream callback logs a cancelled task).
            writer.transport.abort()
        finally:
            if task is not None:
                self._conns.discard(task)
            if not writer.transport.is_closing():
                writer.close()

    # ------------------------------------------------------------------ dispatch

    def _base_headers(self, trace_id: str) -> dict[str, str]:
        headers = {}
        if self._dialect.trace_header:
            headers["x-trace-id"] = trace_id
        return headers

    async def _send(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        body: bytes,
        headers: Mapping[str, str],
        *,
        content_type: str = "application/json; charset=utf-8",
    ) -> None:
        all_headers = {"Content-Type": content_type, **headers}
        writer.write(response_head(status, all_headers, length=len(body)) + body)
        await writer.drain()

    async def _send_error(
        self,
        writer: asyncio.StreamWriter,
        err: ApiError,
        trace_id: str,
        extra: Mapping[str, str] | None = None,
    ) -> None:
        status, body = error_response(self._dialect, err, trace_id)
        headers = {**self._base_headers(trace_id), **(extra or {})}
        await self._send(writer, status, as_json_bytes(body), headers)

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
        if path == "/v1/files":
            return "files", method in ("GET", "POST")
        if path.startswith("/v1/files/"):
            rest = path[len("/v1/files/") :]
            if rest.endswith("/content") and rest.count("/") == 1:
                return "file_content", method == "GET"
            if rest and "/" not in rest:
                return "file", method in ("GET", "DELETE")
        return None, False

    async def _dispatch(self, req: RecordedRequest, writer: asyncio.StreamWriter) -> bool:
        with self._lock:
            self._requests.append(req)
            self._request_total += 1
        trace_id = new_trace_id()
        keep = req.headers.get("connection", "").lower() != "close"
        endpoint, method_ok = self._route(req.method, req.path)
        if not self._authorized(req):
            has = bool(req.headers.get("authorization"))
            message = (
                "Invalid Authentication"
                if has
                else "No API key provided (Authorization: Bearer <key>)"
            )
            await self._send_error(
                writer, ApiError(401, "invalid_authentication_error", message), trace_id
            )
            return keep
        if endpoint is None:
            await self._send_error(
                writer,
                ApiError(404, "resource_not_found_error", f"Not found: {req.method} {req.path}"),
                trace_id,
            )
            return keep
        if not method_ok:
            await self._send_error(
                writer,
                ApiError(
                    405, "method_not_allowed", f"Method {req.method} is not allowed on {req.path}"
                ),
                trace_id,
            )
            return keep

        fault = self._take_fault(req.path, endpoint, status_only=True)
        if fault is not None:
            if fault.kind == "slow_first_byte":
                await asyncio.sleep(fault.seconds)
            else:
                await self._status_fault(writer, fault, trace_id)
                return keep

        if endpoint == "chat":
            return await self._chat(req, writer, trace_id) and keep
        handler = {
            "models": self._models,
            "estimate": self._estimate,
            "balance": self._balance,
            "files": self._files_endpoint,
            "file": self._file_endpoint,
            "file_content": self._file_content,
        }[endpoint]
        try:
            status, payload, ctype = handler(req)
        except ApiError as err:
            await self._send_error(writer, err, trace_id)
            return keep
        await self._send(writer, status, payload, self._base_headers(trace_id), content_type=ctype)
        return keep

    # ------------------------------------------------------------------ faults

    def _take_fault(self, path: str, endpoint: str, *, status_only: bool) -> _Fault | None:
        """The fault to apply to this request (consumed), if any."""
        with self._lock:
            for fault in self._faults:
                if fault.path is not None:
                    if not path.endswith(fault.path):
                        continue
                elif endpoint != "chat":
                    continue
                early = fault.kind in _STATUS_FAULTS or fault.kind == "slow_first_byte"
                if early != status_only:
                    continue
                if fault.rate is not None:
                    if fault.rng is not None and fault.rng.random() < fault.rate:
                        return fault
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    async def _status_fault(
        self, writer: asyncio.StreamWriter, fault: _Fault, trace_id: str
    ) -> None:
        headers = self._base_headers(trace_id)
        if fault.kind == "429":
            if fault.retry_after is not None:
                ra = fault.retry_after
                headers["Retry-After"] = str(int(ra)) if float(ra).is_integer() else str(ra)
            err = ApiError(
                429,
                "rate_limit_reached_error",
                "Your account org-emulator<ak-emulator> request reached organization max RPM: 3, "
                f"please try again after {fault.retry_after or 1:g} seconds",
            )
        elif fault.kind == "500":
            err = ApiError(500, "server_error", "Internal server error, please retry later")
        else:
            err = ApiError(500, "server_error", "")
        headers.update(fault.headers)
        if fault.body is not None:
            status = {"429": 429, "500": 500, "502_html": 502, "503": 503}[fault.kind]
            await self._send_custom(writer, status, fault.body, headers)
        elif fault.kind == "502_html":
            await self._send(writer, 502, _HTML_502, headers, content_type="text/html")
        elif fault.kind == "503":
            await self._send(writer, 503, _TEXT_503, headers, content_type="text/plain")
        else:
            await self._send_error(writer, err, trace_id, headers)

    async def _send_custom(
        self, writer: asyncio.StreamWriter, status: int, body: Any, headers: Mapping[str, str]
    ) -> None:
        if isinstance(body, (bytes, str)):
            raw = body.encode() if isinstance(body, str) else body
            ctype = "text/html" if raw.lstrip()[:1] == b"<" else "text/plain"
            try:
                json.loads(raw)
                ctype = "application/json; charset=utf-8"
            except ValueError:
                pass
        else:
            raw = as_json_bytes(body)
            ctype = "application/json; charset=utf-8"
        lowered = {k.lower() for k in headers}
        if "content-type" in lowered:
            ctype = next(v for k, v in headers.items() if k.lower() == "content-type")
            headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        await self._send(writer, status, raw, headers, content_type=ctype)

    # ------------------------------------------------------------------ chat

    def _next_script(self) -> _Script | None:
        with self._lock:
            if not self._scripts:
                return None
            item = self._scripts[0]
            if item.remaining is not None:
                item.remaining -= 1
                if item.remaining <= 0:
                    self._scripts.popleft()
            return item

    def _peek_script(self) -> _Script | None:
        with self._lock:
            return self._scripts[0] if self._scripts else None

    async def _chat(
        self, req: RecordedRequest, writer: asyncio.StreamWriter, trace_id: str
    ) -> bool:
        head_script = self._peek_script()
        if head_script is not None and head_script.status is not None:
            script = self._next_script()
            if script is not None:
                await self._scripted_error(writer, script, trace_id)
            return True
        body = req.json
        if body is None:
            await self._send_error(
                writer,
                ApiError(
                    400, "invalid_request_error", "Invalid request: the body is not valid JSON"
                ),
                trace_id,
            )
            return True
        try:
            call = check_chat(
                self._dialect,
                body,
                served=self.models,
                accept_any=self.accept_any_model,
                file_exists=self._file_exists,
            )
        except ApiError as err:
            await self._send_error(writer, err, trace_id)
            return True
        script = self._next_script()
        fault = self._take_fault(req.path, "chat", status_only=False)
        if call.stream:
            await self._stream(call, script, fault, writer, trace_id)
        else:
            await self._complete(call, script, fault, writer, trace_id)
        return True

    async def _scripted_error(
        self, writer: asyncio.StreamWriter, script: _Script, trace_id: str
    ) -> None:
        status = script.status or 500
        headers = {**self._base_headers(trace_id), **script.headers}
        if script.body is None:
            kind = script.error_type or {
                400: "invalid_request_error",
                401: "invalid_authentication_error",
                403: "permission_denied_error",
                404: "resource_not_found_error",
                429: "rate_limit_reached_error",
            }.get(status, "server_error" if status >= 500 else "invalid_request_error")
            default = ERROR_TYPES.get(kind, (status, f"scripted error {status}"))[1]
            err = ApiError(status, kind, script.text or default)
            await self._send_error(writer, err, trace_id, script.headers)
            return
        await self._send_custom(writer, status, script.body, headers)

    def _cached_tokens(self, call: ChatCall) -> int:
        """Tokens of the longest message prefix already seen (the prompt cache)."""
        seed = hashlib.sha1(call.model.encode())
        tools = [*call.functions, *call.builtins]
        seed.update(json.dumps(tools, sort_keys=True, ensure_ascii=False).encode())
        digest = seed.digest()
        total = 3 + call.tools_tokens
        keys = []
        for msg, tokens in zip(call.messages, call.message_tokens, strict=True):
            h = hashlib.sha1(digest)
            h.update(json.dumps(msg, sort_keys=True, ensure_ascii=False, default=str).encode())
            digest = h.digest()
            total += tokens
            keys.append((digest.hex(), total))
        cached = 0
        with self._lock:
            for key, tokens in keys:
                if key in self._cache:
                    cached = tokens
            if len(self._cache) > 200_000:
                self._cache.clear()
            for key, tokens in keys:
                self._cache[key] = tokens
        return cached

    def _call_ids(self, call: ChatCall, choices: list[Choice]) -> None:
        prior = sum(
            len(m.get("tool_calls") or ()) for m in call.messages if m.get("role") == "assistant"
        )
        for choice in choices:
            for i, tc in enumerate(choice.tool_calls):
                if not tc.id:
                    tc.id = self._dialect.tool_call_id_for(tc.name, prior + i)

    def _plan(self, call: ChatCall, script: _Script | None) -> tuple[Plan, float]:
        d = self._dialect
        if script is not None:
            calls = []
            for tc in script.tool_calls or ():
                args = tc.get("arguments", {})
                if not isinstance(args, str):
                    args = json.dumps(args, ensure_ascii=False)
                calls.append(ToolCall(str(tc["name"]), args, str(tc.get("id") or "")))
            choice = Choice(
                content=script.text,
                reasoning=script.reasoning,
                tool_calls=calls,
                finish_reason=script.finish_reason or ("tool_calls" if calls else "stop"),
            )
            choices = [choice]
            model = script.model or call.model
            delay = script.delay if script.delay is not None else self.stream_delay
        else:
            first = respond(call)
            choices = [first] + [copy.deepcopy(first) for _ in range(call.n - 1)]
            model = call.model
            delay = self.stream_delay
        self._call_ids(call, choices)
        if script is not None and script.usage is not None:
            usage: dict[str, Any] = dict(script.usage)
        else:
            completion = reasoning = 0
            for choice in choices:
                c, r = completion_tokens(choice)
                completion += c
                reasoning += r
            cached = self._cached_tokens(call)
            usage = usage_object(d, call.prompt_tokens, completion, cached, reasoning)
        plan = Plan(
            model=model,
            choices=choices,
            usage=usage,
            chunk_size=script.chunk_size if script else None,
            chunks=script.chunks if script else None,
            tool_call_index=script.tool_call_index if script else "normal",
        )
        return plan, delay

    async def _complete(
        self,
        call: ChatCall,
        script: _Script | None,
        fault: _Fault | None,
        writer: asyncio.StreamWriter,
        trace_id: str,
    ) -> None:
        plan, _ = self._plan(call, script)
        chat_id = self._dialect.chat_id()
        raw = as_json_bytes(render_completion(self._dialect, plan, chat_id))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            **self._base_headers(trace_id),
        }
        if fault is None:
            writer.write(response_head(200, headers, length=len(raw)) + raw)
            await writer.drain()
            return
        kind = fault.kind
        if kind == "drop_after":
            if fault.events > 0:
                writer.write(response_head(200, headers, length=len(raw)) + raw[: len(raw) // 2])
                await writer.drain()
            raise _AbortError
        if kind == "stall":
            writer.write(response_head(200, headers, length=len(raw)))
            await writer.drain()
            await asyncio.sleep(fault.seconds)
            writer.write(raw)
        elif kind == "malformed":
            bad = raw[: len(raw) // 2] + b"<<malformed>>"
            writer.write(response_head(200, headers, length=len(bad)) + bad)
        elif kind == "truncated":
            cut = raw[: len(raw) // 2]
            writer.write(response_head(200, headers, length=len(cut)) + cut)
        else:  # error_event: a 200 that carries an error body (gateways do this)
            _, err_body = error_response(
                self._dialect,
                ApiError(500, "server_error", "an error occurred while generating the response"),
                trace_id,
            )
            data = as_json_bytes(fault.body if fault.body is not None else err_body)
            writer.write(response_head(200, headers, length=len(data)) + data)
        await writer.drain()

    def _render(self, call: ChatCall, script: _Script | None) -> _Rendered:
        d = self._dialect
        if script is not None and script.repeat:
            # A repeating script: render once, then swap in a fresh id per response.
            cached = script.rendered.get(call.include_usage)
            if cached is None:
                plan, _ = self._plan(call, script)
                placeholder = (d.id_prefix + _PLACEHOLDER_CHARS * d.id_hex).encode()
                events, body_count = render_stream(
                    d, plan, placeholder.decode(), include_usage=call.include_usage
                )
                cached = (placeholder, b"".join(events), body_count, events)
                script.rendered[call.include_usage] = cached
            placeholder, joined, body_count, events = cached
            delay = script.delay if script.delay is not None else self.stream_delay
            return _Rendered(events, body_count, delay, joined, placeholder, d.chat_id().encode())
        plan, delay = self._plan(call, script)
        events, body_count = render_stream(d, plan, d.chat_id(), include_usage=call.include_usage)
        return _Rendered(events, body_count, delay)

    async def _stream(
        self,
        call: ChatCall,
        script: _Script | None,
        fault: _Fault | None,
        writer: asyncio.StreamWriter,
        trace_id: str,
    ) -> None:
        rendered = self._render(call, script)
        delay = rendered.delay
        headers = {
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            **self._base_headers(trace_id),
        }
        kind = fault.kind if fault is not None else None
        n = fault.events if fault is not None else 0
        if kind == "drop_after" and n <= 0:
            raise _AbortError
        writer.write(response_head(200, headers, chunked=True))
        if kind is None and delay <= 0:
            # The common case: the whole stream in one buffer.
            writer.write(chunk_frame(rendered.joined()))
            await writer.drain()
        elif kind is None:
            await self._write_events(writer, rendered.events(), delay)
        elif fault is not None:
            events, body_count = rendered.events(), rendered.body_count
            n = min(max(n, 0), len(events))
            if kind == "drop_after":
                await self._write_events(writer, events[:n], delay)
                raise _AbortError
            if kind == "stall":
                await self._write_events(writer, events[:n], delay)
                await asyncio.sleep(fault.seconds)
                await self._write_events(writer, events[n:], delay)
            elif kind == "malformed":
                bad = b'data: {"id": "broken", "choices": [{"delta": {"content": "oops"\n\n'
                await self._write_events(writer, [*events[:n], bad, *events[n:]], delay)
            elif kind == "error_event":
                if fault.body is not None:
                    err_event = b"data: " + as_json_bytes(fault.body) + b"\n\n"
                else:
                    err_event = sse_error_event(
                        self._dialect,
                        ApiError(
                            500, "server_error", "an error occurred while generating the response"
                        ),
                        trace_id,
                    )
                await self._write_events(writer, [*events[:n], err_event], delay)
            else:  # truncated: ends cleanly, with no finish_reason and no [DONE]
                cut = body_count if fault.events < 0 else min(n, body_count)
                await self._write_events(writer, events[:cut], delay)
        writer.write(LAST_CHUNK)
        await writer.drain()

    @staticmethod
    async def _write_events(
        writer: asyncio.StreamWriter, events: list[bytes], delay: float
    ) -> None:
        if not events:
            return
        if delay <= 0:
            writer.write(chunk_frame(b"".join(events)))
            await writer.drain()
            return
        for event in events:
            writer.write(chunk_frame(event))
            await writer.drain()
            await asyncio.sleep(delay)

    # ------------------------------------------------------------------ other endpoints

    def _models(self, req: RecordedRequest) -> tuple[int, bytes, str]:
        from kimi_core._models import get_model_info

        data = []
        for model_id in sorted(self.models):
            info = get_model_info(model_id, warn=False)
            data.append(
                {
                    "id": model_id,
                    "object": "model",
                    "created": 1_735_689_600,
                    "owned_by": "moonshot",
                    "root": model_id,
                    "parent": None,
                    "permission": [],
                    "context_length": info.context_window,
                    "supports_image_in": info.image_input,
                    "supports_video_in": info.video_input,
                    "supports_reasoning": info.thinking != "none",
                }
            )
        return 200, as_json_bytes({"object": "list", "data": data}), "application/json"

    def _estimate(self, req: RecordedRequest) -> tuple[int, bytes, str]:
        body = req.json
        if not isinstance(body, Mapping):
            raise ApiError(
                400, "invalid_request_error", "Invalid request: the body is not valid JSON"
            )
        check_model(
            self._dialect, body.get("model"), served=self.models, accept_any=self.accept_any_model
        )
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise ApiError(
                400, "invalid_request_error", "Invalid request: messages must not be empty"
            )
        total = 3 + sum(message_tokens(m) for m in messages if isinstance(m, Mapping))
        payload = {"code": 0, "data": {"total_tokens": total}, "scode": "0x0", "status": True}
        return 200, as_json_bytes(payload), "application/json"

    def _balance(self, req: RecordedRequest) -> tuple[int, bytes, str]:
        payload = {"code": 0, "data": dict(self.balance), "scode": "0x0", "status": True}
        return 200, as_json_bytes(payload), "application/json"

    def _file_exists(self, file_id: str) -> bool:
        with self._lock:
            return file_id in self._files

    def _files_endpoint(self, req: RecordedRequest) -> tuple[int, bytes, str]:
        if req.method == "GET":
            with self._lock:
                data = [dict(f["object"]) for f in self._files.values()]
            return 200, as_json_bytes({"object": "list", "data": data}), "application/json"
        fields = _parse_multipart(req)
        purpose = fields.get("purpose", (None, b""))[1].decode("utf-8", "replace")
        upload = fields.get("file")
        if upload is None or upload[0] is None:
            raise ApiError(
                400, "invalid_request_error", "Invalid request: a file field is required"
            )
        if purpose not in _FILE_PURPOSES:
            raise ApiError(
                400,
                "invalid_request_error",
                f"Invalid request: invalid purpose {purpose!r}, must be one of "
                f"{', '.join(_FILE_PURPOSES)}",
            )
        filename, content = upload
        if len(content) > _MAX_FILE_BYTES:
            raise ApiError(400, "invalid_request_error", "Invalid request: file size exceeds 100MB")
        with self._lock:
            if len(self._files) >= _MAX_FILES:
                raise ApiError(
                    400, "invalid_request_error", "Invalid request: too many files, at most 1000"
                )
            fid = random_file_id()
            obj = {
                "id": fid,
                "object": "file",
                "bytes": len(content),
                "created_at": int(time.time()),
                "filename": filename,
                "purpose": purpose,
                "status": "ok",
                "status_details": "",
            }
            self._files[fid] = {"object": obj, "data": content}
        return 200, as_json_bytes(obj), "application/json"

    def _get_file(self, req: RecordedRequest) -> tuple[str, dict[str, Any]]:
        fid = req.path[len("/v1/files/") :].split("/", 1)[0]
        with self._lock:
            found = self._files.get(fid)
        if found is None:
            raise ApiError(404, "resource_not_found_error", f"file {fid} not found")
        return fid, found

    def _file_endpoint(self, req: RecordedRequest) -> tuple[int, bytes, str]:
        fid, found = self._get_file(req)
        if req.method == "DELETE":
            with self._lock:
                self._files.pop(fid, None)
            return (
                200,
                as_json_bytes({"id": fid, "object": "file", "deleted": True}),
                "application/json",
            )
        return 200, as_json_bytes(found["object"]), "application/json"

    def _file_content(self, req: RecordedRequest) -> tuple[int, bytes, str]:
        _, found = self._get_file(req)
        obj = found["object"]
        data: bytes = found["data"]
        if obj["purpose"] != "file-extract":
            return 200, data, "application/octet-stream"
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = f"[{obj['filename']}: {len(data)} bytes of binary data; extraction emulated]"
        payload = {
            "content": text,
            "file_type": "text/plain",
            "filename": obj["filename"],
            "title": "",
            "type": "file",
        }
        return 200, as_json_bytes(payload), "application/json"


def _parse_multipart(req: RecordedRequest) -> dict[str, tuple[str | None, bytes]]:
    """``{field: (filename, data)}`` of a multipart/form-data body."""
    ctype = req.headers.get("content-type", "")
    boundary = None
    for part in ctype.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip('"')
    if "multipart/form-data" not in ctype or not boundary:
        raise ApiError(
            400,
            "invalid_request_error",
            "Invalid request: expected multipart/form-data with a file",
        )
    out: dict[str, tuple[str | None, bytes]] = {}
    delimiter = b"--" + boundary.encode()
    for chunk in req.body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        head, _, data = chunk.partition(b"\r\n\r\n")
        if data.endswith(b"\r\n"):
            data = data[:-2]
        name = filename = None
        for line in head.decode("utf-8", "replace").split("\r\n"):
            if line.lower().startswith("content-disposition"):
                for item in line.split(";")[1:]:
                    key, _, value = item.strip().partition("=")
                    value = value.strip().strip('"')
                    if key == "name":
                        name = value
                    elif key == "filename":
                        filename = value
        if name is not None:
            out[name] = (filename, data)
    return out
