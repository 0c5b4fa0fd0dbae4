"""Minimal HTTP/1.1 on asyncio streams: read requests, write responses (stdlib only)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["HTTPError", "RecordedRequest", "read_request", "response_head"]

MAX_BODY = 110 * 1024 * 1024

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class HTTPError(Exception):
    """A request that cannot be parsed (answered with a bare status, then closed)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


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
    _json: Any = field(default=None, repr=False)
    _parsed: bool = field(default=False, repr=False)

    @property
    def json(self) -> Any:
        if not self._parsed:
            self._parsed = True
            ctype = self.headers.get("content-type", "")
            if self.body and "multipart" not in ctype:
                try:
                    self._json = json.loads(self.body)
                except ValueError:
                    self._json = None
        return self._json

    def __repr__(self) -> str:
        shown = {
            k: ("**********" if k in ("authorization", "x-api-key") else v)
            for k, v in self.headers.items()
        }
        return (
            f"RecordedRequest(method={self.method!r}, path={self.path!r}, "
            f"headers={shown!r}, body={len(self.body)} bytes)"
        )


async def read_request(reader: asyncio.StreamReader) -> RecordedRequest | None:
    """The next request on a connection, or None at a clean end of the connection."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise HTTPError(400, "incomplete request head") from None
        return None
    except asyncio.LimitOverrunError:
        raise HTTPError(431, "request head too large") from None
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, _version = lines[0].split(" ", 2)
    except ValueError:
        raise HTTPError(400, "malformed request line") from None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = b""
    length = headers.get("content-length")
    if length is not None:
        try:
            size = int(length)
        except ValueError:
            raise HTTPError(400, "bad content-length") from None
        if size > MAX_BODY:
            raise HTTPError(413, "body too large")
        body = await reader.readexactly(size) if size else b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    parts = urlsplit(target)
    return RecordedRequest(
        method=method.upper(),
        path=unquote(parts.path) or "/",
        headers=headers,
        body=body,
        query=dict(parse_qsl(parts.query)),
        time=time.monotonic(),
    )


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    out = bytearray()
    while True:
        line = await reader.readuntil(b"\r\n")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise HTTPError(400, "bad chunk size") from None
        if size == 0:
            # Trailers, up to the blank line.
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass
            return bytes(out)
        if len(out) + size > MAX_BODY:
            raise HTTPError(413, "body too large")
        out += await reader.readexactly(size)
        await reader.readexactly(2)


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
