"""A real HTTP/1.1 server on loopback whose answers a test writes itself, byte by byte.

The emulator answers like Kimi; this server answers however the test says: a recorded
body exactly as it was captured, a broken or hostile peer (trickled bytes, wrong content
types, redirects, huge or malformed bodies), or nothing at all. Every request it reads is
kept in ``server.received`` so a test can assert exactly what went over the wire.

    with LoopbackServer() as server:
        server.reply_json({"id": "x", "choices": [...]})
        client = KimiClient(provider="openai-compatible", base_url=server.base_url, api_key="k")
        ...
        assert server.received[-1].json["model"] == "kimi-k3"

A handler is ``handler(request, conn)``: it writes raw bytes with ``conn.send`` (or the
``http_response`` / ``sse_body`` helpers) and may ``conn.close()``; the connection is kept
alive otherwise. Each connection runs in its own thread, so a handler may sleep.

Hostile peers are built from the same pieces: ``reply_pieces`` (bytes in given splits,
optionally paced, optionally closing early), ``reply_trickle`` (a few bytes at a time),
``reply_huge`` (a body of any size, produced as it is sent, never held in memory),
``reply_sequence`` (one handler per successive request, e.g. a 429 then a 200), and
``http_head`` / ``chunked`` for responses whose body a test writes itself.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

__all__ = [
    "Conn",
    "LoopbackServer",
    "Received",
    "chunked",
    "http_head",
    "http_response",
    "send",
    "send_huge",
    "send_json",
    "send_pieces",
    "sse_body",
]

_REASONS = {
    200: "OK",
    301: "Moved Permanently",
    302: "Found",
    307: "Temporary Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class Received:
    """One request as it arrived: header names lower-cased, the body as bytes."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Conn:
    """The server side of one connection, for a handler to write to."""

    sock: socket.socket
    closed: bool = False

    def send(self, data: bytes) -> None:
        if not self.closed:
            self.sock.sendall(data)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)
            self.sock.close()


Handler = Callable[[Received, Conn], None]


def http_head(
    status: int,
    *,
    content_type: str | None = "application/json",
    length: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> bytes:
    """A status line and headers: ``content-length`` when ``length`` is given, else
    ``transfer-encoding: chunked`` (write the body with :func:`chunked`); no
    ``content-type`` when it is None."""
    head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
    if content_type is not None:
        head.append(f"content-type: {content_type}")
    head.append(f"content-length: {length}" if length is not None else "transfer-encoding: chunked")
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode()


def chunked(data: bytes, *, last: bool = False) -> bytes:
    """``data`` as one chunk of a chunked body (and the terminating chunk when ``last``)."""
    out = f"{len(data):x}\r\n".encode() + data + b"\r\n" if data else b""
    return out + (b"0\r\n\r\n" if last else b"")


def http_response(
    status: int,
    body: bytes | str = b"",
    *,
    content_type: str | None = "application/json",
    headers: Mapping[str, str] | None = None,
) -> bytes:
    """A whole HTTP/1.1 response with a Content-Length."""
    data = body.encode() if isinstance(body, str) else body
    head = http_head(status, content_type=content_type, length=len(data), headers=headers)
    return head + data


def sse_body(events: Iterable[Any], *, done: bool = True) -> bytes:
    """``data: ...`` events (dicts are JSON-encoded, strings and bytes sent as they are)."""
    out = bytearray()
    for event in events:
        if isinstance(event, bytes):
            out += event
        elif isinstance(event, str):
            out += f"data: {event}\n\n".encode()
        else:
            out += b"data: " + json.dumps(event).encode() + b"\n\n"
    if done:
        out += b"data: [DONE]\n\n"
    return bytes(out)


# ------------------------------------------------------------------ handlers


def send(data: bytes, *, close: bool = False) -> Handler:
    """A handler that answers with these raw bytes (then closes the connection if asked)."""

    def handler(_: Received, conn: Conn) -> None:
        conn.send(data)
        if close:
            conn.close()

    return handler


def send_json(body: Any, *, status: int = 200, headers: Mapping[str, str] | None = None) -> Handler:
    """A handler that answers with a JSON body (bytes are sent as they are)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return send(http_response(status, raw, headers=headers))


def send_pieces(pieces: Sequence[bytes], *, delay: float = 0.0, close: bool = False) -> Handler:
    """A handler that sends these bytes in these splits (each its own send, ``delay``
    seconds apart, so that the client reads them apart), then closes the connection if
    asked (an early close when the pieces do not make a whole response)."""
    parts = list(pieces)

    def handler(_: Received, conn: Conn) -> None:
        for i, part in enumerate(parts):
            if i and delay:
                time.sleep(delay)
            if conn.closed:  # the server is stopping
                return
            conn.send(part)
        if close:
            conn.close()

    return handler


def send_huge(
    status: int,
    size: int,
    *,
    content_type: str | None = "application/json",
    prefix: bytes = b"",
    fill: bytes = b"x",
    headers: Mapping[str, str] | None = None,
    declare_length: bool = True,
) -> Handler:
    """A handler that sends a body of ``size`` bytes (``prefix``, then ``fill`` repeated),
    produced while it is sent, so a test can send 100 MiB without holding it; chunked
    when ``declare_length`` is False. The client may stop reading at any point: the
    send then fails and the handler ends."""
    block = (fill * (65536 // len(fill) + 1))[:65536]

    def body() -> Iterator[bytes]:
        yield prefix
        left = size - len(prefix)
        while left > 0:
            piece = block[: min(left, len(block))]
            left -= len(piece)
            yield piece

    def handler(_: Received, conn: Conn) -> None:
        length = size if declare_length else None
        conn.send(http_head(status, content_type=content_type, length=length, headers=headers))
        for piece in body():
            if conn.closed:
                return
            conn.send(piece if declare_length else chunked(piece))
        if not declare_length:
            conn.send(chunked(b"", last=True))

    return handler


@dataclass
class LoopbackServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 (a free port) driven by ``handler``."""

    handler: Handler | None = None
    received: list[Received] = field(default_factory=list, repr=False)
    _sock: socket.socket | None = field(default=None, repr=False)
    _threads: list[threading.Thread] = field(default_factory=list, repr=False)
    _conns: list[Conn] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> LoopbackServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(1024)
        self._sock = sock
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
            self._sock = None
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            conn.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._sock is not None, "start() the server first"
        return int(self._sock.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL (``/v1``): chat requests arrive at ``/v1/chat/completions``."""
        return f"{self.url}/v1"

    # ------------------------------------------------------------------ canned answers

    def reply(self, data: bytes, *, close: bool = False) -> None:
        """Answer every request with these raw bytes (then close the connection if asked)."""
        self.handler = send(data, close=close)

    def reply_json(
        self, body: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        self.handler = send_json(body, status=status, headers=headers)

    def reply_sse(
        self,
        events: Iterable[Any],
        *,
        done: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        body = sse_body(events, done=done)
        self.reply(http_response(200, body, content_type="text/event-stream", headers=headers))

    def reply_pieces(
        self, pieces: Sequence[bytes], *, delay: float = 0.0, close: bool = False
    ) -> None:
        """See :func:`send_pieces`."""
        self.handler = send_pieces(pieces, delay=delay, close=close)

    def reply_trickle(self, data: bytes, *, size: int, interval: float) -> None:
        """Send ``data`` ``size`` bytes at a time, ``interval`` seconds apart: every read
        gets something well within any read timeout, the whole takes long."""
        self.handler = send_pieces(
            [data[i : i + size] for i in range(0, len(data), size)], delay=interval
        )

    def reply_huge(self, status: int, size: int, **kw: Any) -> None:
        """See :func:`send_huge`."""
        self.handler = send_huge(status, size, **kw)

    def reply_sequence(self, handlers: Sequence[Handler]) -> None:
        """Answer the n-th request with ``handlers[n]`` (the last one for every later
        request): a 429 then a 200, a broken stream then a good one."""
        todo = list(handlers)
        lock = threading.Lock()

        def handler(request: Received, conn: Conn) -> None:
            with lock:
                current = todo.pop(0) if len(todo) > 1 else todo[0]
            current(request, conn)

        self.handler = handler

    # ------------------------------------------------------------------ internals

    def _accept(self) -> None:
        assert self._sock is not None
        listener = self._sock
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Conn(sock)
            with self._lock:
                self._conns.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: Conn) -> None:
        buffer = b""
        try:
            while not conn.closed:
                while b"\r\n\r\n" not in buffer:
                    data = conn.sock.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _version = lines[0].split(" ", 2)
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                while len(buffer) < length:
                    data = conn.sock.recv(65536)
                    if not data:
                        return
                    buffer += data
                body, buffer = buffer[:length], buffer[length:]
                request = Received(method, path, headers, body)
                with self._lock:
                    self.received.append(request)
                handler = self.handler
                if handler is None:
                    conn.send(http_response(500, b'{"error": "no handler set"}'))
                else:
                    handler(request, conn)
        except OSError:
            return
        finally:
            conn.close()
