"""Minimal HTTP/1.1 on asyncio streams: read requests, write responses (stdlib only).

Parsing is strict and bounded: a request line, at most ``MAX_HEADERS`` header lines in at
most ``MAX_HEAD`` bytes, a body of at most ``max_body`` bytes given by one decimal
``Content-Length`` or by well-formed chunked encoding. Anything else raises
:class:`HTTPError` with the status to answer (400, 413, 431, 501); the connection is
closed after that answer, since the rest of its bytes cannot be trusted.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = [
    "DEFAULT_MAX_BODY",
    "HTTPError",
    "RecordedRequest",
    "read_body",
    "read_head",
    "response_head",
]

#: Default body limit (``KimiEmulator(max_body=...)``): 32 MiB.
DEFAULT_MAX_BODY = 32 * 1024 * 1024
MAX_HEAD = 64 * 1024
MAX_HEADERS = 100
_MAX_TRAILERS = 32
_HEX = frozenset(b"0123456789abcdefABCDEF")

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    413: "Payload Too Large",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class HTTPError(Exception):
    """A request that cannot be read: answered with ``status``, then the connection closes."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class RecordedRequest:
    """One request the emulator received.

    ``headers`` has lower-case names; ``json`` is the parsed body (None when the body is
    not JSON); ``time`` is ``time.monotonic()`` at arrival (compare two of them for
    back-off gaps). The ``Authorization`` header is kept (tests check it) but never shown
    in the repr.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    query: dict[str, str] = field(default_factory=dict)
    time: float = 0.0
    version: str = "HTTP/1.1"
    _json: Any = field(default=None, repr=False)
    _parsed: bool = field(default=False, repr=False)
    #: Why the body is not JSON ("invalid" or "too_deep"), once ``json`` was read.
    json_error: str | None = field(default=None, repr=False)

    @property
    def json(self) -> Any:
        if not self._parsed:
            self._parsed = True
            ctype = self.headers.get("content-type", "")
            if self.body and "multipart" not in ctype:
                try:
                    self._json = json.loads(self.body)
                except RecursionError:
                    self.json_error = "too_deep"
                except ValueError:
                    self.json_error = "invalid"
            else:
                self.json_error = "invalid"
        return self._json

    @property
    def keep_alive(self) -> bool:
        conn = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return conn == "keep-alive"
        return conn != "close"

    def __repr__(self) -> str:
        shown = {
            k: ("**********" if k in ("authorization", "x-api-key") else v)
            for k, v in self.headers.items()
        }
        return (
            f"RecordedRequest(method={self.method!r}, path={self.path!r}, "
            f"headers={shown!r}, body={len(self.body)} bytes)"
        )


async def read_head(reader: asyncio.StreamReader, first: bytes) -> RecordedRequest:
    """The request line and headers (``first``: the byte already read to see a request
    start). The body is read by :func:`read_body`."""
    try:
        rest = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        raise HTTPError(400, "incomplete request head") from None
    except asyncio.LimitOverrunError:
        raise HTTPError(431, "request head too large") from None
    head = first + rest
    if len(head) > MAX_HEAD:
        raise HTTPError(431, "request head too large")
    lines = head[:-4].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[0].isalpha() or not parts[1]:
        raise HTTPError(400, "malformed request line")
    method, target, version = parts
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise HTTPError(400, f"unsupported HTTP version {version[:16]!r}")
    if len(lines) - 1 > MAX_HEADERS:
        raise HTTPError(431, "too many header fields")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        name = name.strip().lower()
        if not colon or not name or " " in name:
            raise HTTPError(400, "malformed header line")
        value = value.strip()
        if name in headers:
            if name == "content-length" and headers[name] != value:
                raise HTTPError(400, "conflicting content-length headers")
            if name not in ("content-length", "host"):
                value = headers[name] + ", " + value
        headers[name] = value
    split = urlsplit(target)
    return RecordedRequest(
        method=method.upper(),
        path=unquote(split.path) or "/",
        headers=headers,
        query=dict(parse_qsl(split.query)),
        time=time.monotonic(),
        version=version,
    )


def body_length(headers: Mapping[str, str], max_body: int) -> int | None:
    """The declared body size (None: chunked), checked before anything is read."""
    length = headers.get("content-length")
    coding = headers.get("transfer-encoding")
    if coding is not None:
        if length is not None:
            raise HTTPError(400, "both content-length and transfer-encoding are set")
        if coding.strip().lower() != "chunked":
            raise HTTPError(501, f"transfer-encoding {coding[:32]!r} is not supported")
        return None
    if length is None:
        return 0
    if not (length.isascii() and length.isdigit()):
        raise HTTPError(400, f"bad content-length {length[:32]!r}")
    size = int(length)
    if size > max_body:
        raise HTTPError(413, f"body of {size} bytes is over the limit of {max_body} bytes")
    return size


async def read_body(reader: asyncio.StreamReader, size: int | None, max_body: int) -> bytes:
    """The body: ``size`` bytes, or chunked when ``size`` is None."""
    try:
        if size is None:
            return await _read_chunked(reader, max_body)
        return await reader.readexactly(size) if size else b""
    except asyncio.IncompleteReadError:
        raise HTTPError(400, "the body ended before its declared size") from None
    except asyncio.LimitOverrunError:
        raise HTTPError(400, "bad chunked encoding: line too long") from None


async def _read_chunked(reader: asyncio.StreamReader, max_body: int) -> bytes:
    out = bytearray()
    while True:
        line = (await reader.readuntil(b"\r\n"))[:-2]
        digits = line.split(b";", 1)[0].strip()
        if not digits or len(digits) > 16 or not _HEX.issuperset(digits):
            raise HTTPError(400, f"bad chunked encoding: chunk size {digits[:20]!r}")
        size = int(digits, 16)
        if size == 0:
            for _ in range(_MAX_TRAILERS):
                if await reader.readuntil(b"\r\n") == b"\r\n":
                    return bytes(out)
            raise HTTPError(400, "bad chunked encoding: too many trailer lines")
        if len(out) + size > max_body:
            raise HTTPError(413, f"body over the limit of {max_body} bytes")
        out += await reader.readexactly(size)
        if await reader.readexactly(2) != b"\r\n":
            raise HTTPError(400, "bad chunked encoding: chunk not followed by CRLF")


def response_head(
    status: int,
    headers: Mapping[str, str],
    *,
    length: int | None = None,
    chunked: bool = False,
    close: bool = False,
) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}"]
    lines.extend(f"{k}: {v}" for k, v in headers.items())
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    elif length is not None:
        lines.append(f"Content-Length: {length}")
    lines.append("Connection: close" if close else "Connection: keep-alive")
    lines.append("Server: kimi-emulator")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def chunk_frame(data: bytes) -> bytes:
    """One HTTP/1.1 chunk (empty data would end the body, so it yields nothing)."""
    if not data:
        return b""
    return b"%x\r\n%s\r\n" % (len(data), data)


LAST_CHUNK = b"0\r\n\r\n"
