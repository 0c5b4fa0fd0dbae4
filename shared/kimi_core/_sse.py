"""Incremental Server-Sent Events decoder, at the bytes level.

Lines end in CR, LF or CRLF (a CRLF may be split across two chunks). Lines are split
as bytes, never as text: a chunk boundary inside a UTF-8 sequence is harmless, and
U+2028 inside a JSON string is not a line break. Comment lines (``:``) are skipped;
several ``data:`` lines of one event are joined with LF; an event is dispatched at a
blank line, or by :meth:`SSEDecoder.flush` at the end of the stream.
"""

from __future__ import annotations

__all__ = ["SSEDecoder"]

_NL = (b"\n", b"\r")


class SSEDecoder:
    """Feed bytes with :meth:`decode`, get the ``data`` payload of each complete event."""

    __slots__ = ("_buf", "_cr", "_data")

    def __init__(self) -> None:
        self._buf = b""
        self._data: list[bytes] = []
        self._cr = False  # the last chunk ended in CR: a leading LF completes a CRLF

    def decode(self, chunk: bytes) -> list[bytes]:
        """Return the data payloads of the events completed by ``chunk``."""
        if self._cr:
            self._cr = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if self._buf:
            chunk = self._buf + chunk
            self._buf = b""
        if not chunk:
            return []
        lines = chunk.splitlines(keepends=True)
        last = lines[-1]
        if not last.endswith(_NL):
            self._buf = lines.pop()
        elif last[-1:] == b"\r":
            self._cr = True
        out: list[bytes] = []
        data = self._data
        for line in lines:
            line = line.rstrip(b"\r\n")
            if not line:
                if data:
                    out.append(data[0] if len(data) == 1 else b"\n".join(data))
                    data.clear()
            elif line.startswith(b"data:"):
                value = line[5:]
                data.append(value[1:] if value[:1] == b" " else value)
            # Comments (":...") and the fields event/id/retry carry nothing we use.
        return out

    def flush(self) -> list[bytes]:
        """End of stream: dispatch what is pending (a last event with no blank line)."""
        out = self.decode(b"\n\n") if self._buf or self._data else []
        self._cr = False
        return out

    @property
    def pending(self) -> bytes:
        """Bytes received but not yet part of a complete event (for error messages)."""
        return b"\n".join([*self._data, self._buf]) if self._data else self._buf
