"""The server and its lifecycle: an asyncio loop in a background thread, connections,
timeouts, and the answers to requests that cannot be read.

Every connection is a coroutine, so a slow peer costs one suspended task and never holds
up the others. Each phase of a request has a deadline, watched by one timer per
connection that looks every tick (no timer or task per read): the wait for the next
request on a kept-alive connection (``idle_timeout``), the request head once its first
byte arrived (``header_timeout``, not extended by trickled bytes), and the body
(``body_timeout``). A head or body that misses its deadline is answered 408 and the
connection closed; an idle one is closed.
A request that cannot be parsed gets its 400/413/431/501 in the dialect's error body, and
a handler that fails gets a 500 in the same shape: never a traceback and a silent close.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ._http import (
    HTTPError,
    RecordedRequest,
    body_length,
    chunk_frame,
    read_body,
    read_head,
    response_head,
)

__all__ = ["JSON_TYPE", "AbortError", "Conn", "HttpServer", "Limits"]

log = logging.getLogger("kimi_emulator")
JSON_TYPE = "application/json; charset=utf-8"


#: Pending connections the listening socket queues: a benchmark opens hundreds at once
#: (the standard library's servers queue 5 and reset the rest). Accepted connections have
#: TCP_NODELAY (asyncio sets it on every TCP transport), so a response written in parts
#: meets no delayed-ACK stall.
LISTEN_BACKLOG = 2048


class AbortError(Exception):
    """Drop the connection now, with no answer (a fault asked for it)."""


@dataclass(frozen=True)
class Limits:
    max_body: int
    header_timeout: float
    body_timeout: float
    idle_timeout: float


class Conn:
    """One connection's writer, with whether the current response has started."""

    __slots__ = ("phase", "sent", "since", "timed_out", "watchdog", "writer")

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.sent = False
        self.timed_out = False
        #: "idle", "head", "body", "busy" (the handler runs: no deadline), None (closed).
        self.phase: str | None = "idle"
        self.since = 0.0
        self.watchdog: asyncio.TimerHandle | None = None

    def write(self, data: bytes) -> None:
        self.sent = True
        self.writer.write(data)

    async def drain(self) -> None:
        await self.writer.drain()

    async def respond(
        self,
        status: int,
        body: bytes,
        headers: Mapping[str, str],
        *,
        content_type: str = JSON_TYPE,
    ) -> None:
        """A whole response with a ``Content-Length``."""
        all_headers = {"Content-Type": content_type, **headers}
        self.write(response_head(status, all_headers, length=len(body)) + body)
        await self.writer.drain()

    async def respond_custom(self, status: int, body: Any, headers: Mapping[str, str]) -> None:
        """A body given by a test: a dict (JSON), or text/bytes whose type is sniffed
        (a ``Content-Type`` in ``headers`` wins)."""
        if isinstance(body, (bytes, str)):
            raw = body.encode() if isinstance(body, str) else body
            ctype = "text/html" if raw.lstrip()[:1] == b"<" else "text/plain"
            try:
                json.loads(raw)
                ctype = JSON_TYPE
            except ValueError:
                pass
        else:
            raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            ctype = JSON_TYPE
        given = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
        if given is not None:
            ctype = given
            headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        await self.respond(status, raw, headers, content_type=ctype)

    async def write_events(self, events: list[bytes], delay: float) -> None:
        """SSE events as chunks: in one chunk, or one per event ``delay`` seconds apart."""
        if not events:
            return
        if delay <= 0:
            self.write(chunk_frame(b"".join(events)))
            await self.writer.drain()
            return
        for event in events:
            self.write(chunk_frame(event))
            await self.writer.drain()
            await asyncio.sleep(delay)


#: ``handler(request, conn) -> keep the connection open``.
Handler = Callable[[RecordedRequest, Conn], Awaitable[bool]]
#: ``error_response(status, message) -> the full response bytes`` in the dialect's shape.
ErrorRenderer = Callable[[int, str], bytes]


class HttpServer:
    """Serves ``handler`` on ``host:port`` from a background thread."""

    def __init__(
        self,
        host: str,
        port: int,
        handler: Handler,
        render_error: ErrorRenderer,
        limits: Limits,
        name: str,
    ) -> None:
        self.host = host
        self.port = port
        self._handler = handler
        self._render_error = render_error
        self.limits = limits
        #: Each watched phase's deadline (the watchdog looks it up every tick).
        self._deadlines = {
            "idle": limits.idle_timeout,
            "head": limits.header_timeout,
            "body": limits.body_timeout,
        }
        #: How often a connection's watchdog looks at its deadline.
        self._tick = min(1.0, max(0.05, min(limits.header_timeout, limits.body_timeout) / 4))
        self._name = name
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._conns: set[asyncio.Task[None]] = set()

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        """Start serving; returns once the port is bound (bind errors are raised here)."""
        if self._thread is not None:
            return
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

        thread = threading.Thread(target=run, name=self._name, daemon=True)
        thread.start()
        ready.wait()
        if failure:
            thread.join()
            raise failure[0]
        self._loop = loop
        self._thread = thread

    def stop(self) -> None:
        """Stop serving: open connections are closed, stalls are cut short."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        self._thread = self._loop = None
        loop.call_soon_threadsafe(loop.stop)
        thread.join()

    async def _open(self) -> None:
        self._server = await asyncio.start_server(
            self._connection, self.host, self.port, backlog=LISTEN_BACKLOG, limit=256 * 1024
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

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

    def _watch(self, conn: Conn) -> None:
        """The connection's watchdog: a phase that overran its deadline is answered 408
        (head or body) or closed (idle); otherwise look again one tick later."""
        transport = conn.writer.transport
        if conn.phase is None or transport.is_closing():
            return
        loop = asyncio.get_running_loop()
        limit = self._deadlines.get(conn.phase)
        if limit is not None and loop.time() - conn.since > limit:
            conn.timed_out = True
            if conn.phase != "idle" and not conn.sent:
                message = (
                    f"Request Timeout: the request {conn.phase} did not arrive within {limit:g}s"
                )
                transport.write(self._render_error(408, message))
            transport.close()
            return
        conn.watchdog = loop.call_later(self._tick, self._watch, conn)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._conns.add(task)
        conn = Conn(writer)
        loop = asyncio.get_running_loop()
        limits = self.limits
        # One watchdog per connection (not a timer per read): the phase and its start
        # are two attributes, set as the request goes.
        conn.since = loop.time()
        conn.watchdog = loop.call_later(self._tick, self._watch, conn)
        try:
            while True:
                conn.sent = False
                conn.phase, conn.since = "idle", loop.time()
                try:
                    first = await reader.readexactly(1)
                except asyncio.IncompleteReadError:
                    return  # the peer closed between requests
                conn.phase, conn.since = "head", loop.time()
                try:
                    req = await read_head(reader, first)
                    size = body_length(req.headers, limits.max_body)
                    if size and req.headers.get("expect", "").lower() == "100-continue":
                        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # interim: not sent
                    conn.phase, conn.since = "body", loop.time()
                    req.body = await read_body(reader, size, limits.max_body)
                except HTTPError as exc:
                    if not conn.timed_out:
                        conn.write(self._render_error(exc.status, exc.message))
                        await conn.drain()
                    return
                if conn.timed_out:
                    return
                conn.phase = "busy"
                if not await self._handle(req, conn):
                    return
        except AbortError:
            writer.transport.abort()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Shutdown: end quietly (asyncio's stream callback logs a cancelled task).
            writer.transport.abort()
        finally:
            conn.phase = None
            if conn.watchdog is not None:
                conn.watchdog.cancel()
            if task is not None:
                self._conns.discard(task)
            if not writer.transport.is_closing():
                writer.close()

    async def _handle(self, req: RecordedRequest, conn: Conn) -> bool:
        try:
            return await self._handler(req, conn)
        except (AbortError, ConnectionError, asyncio.CancelledError):
            raise
        except Exception:
            log.exception("kimi-emulator: the handler failed on %s %s", req.method, req.path)
            if conn.sent:
                raise AbortError from None
            conn.write(self._render_error(500, "Internal server error (the emulator failed)"))
            await conn.drain()
            return False
