"""Incremental Server-Sent Events decoder, at the bytes level.

Lines end in CR, LF or CRLF (a CRLF may be split across two chunks). Lines are split
as bytes, never as text: a chunk boundary inside a UTF-8 sequence is harmless, and
U+2028 inside a JSON string is not a line break. Comment lines (``:``) are skipped;
several ``data:`` lines of one event are joined with LF; an event is dispatched at a
blank line, or by :meth:`SSEDecoder.flush` at the end of the stream.

Work is linear in the input: each byte is looked at for a line end once, when it
arrives (an unfinished line is kept in a buffer that is only appended to, never split
again), and an event larger than ``max_event`` bytes raises :class:`EventTooLargeError`
as soon as it grows past the limit, without waiting for its end.
"""

from __future__ import annotations

__all__ = ["DEFAULT_MAX_EVENT", "EventTooLargeError", "SSEDecoder"]

#: The largest event (its ``data`` lines and any unfinished line) accepted by default.
DEFAULT_MAX_EVENT = 16 * 1024 * 1024

_NL = (b"\n", b"\r")


class EventTooLargeError(ValueError):
    """An event grew past the decoder's ``max_event``.

    ``events`` holds the payloads completed earlier in the same :meth:`SSEDecoder.decode`
    call (deliver them before reporting the error)."""

    def __init__(self, size: int, limit: int, events: list[bytes]) -> None:
        self.size = size
        self.limit = limit
        self.events = events
        super().__init__(f"an event of more than {limit} bytes ({size} bytes so far)")


class SSEDecoder:
    """Feed bytes with :meth:`decode`, get the ``data`` payload of each complete event."""

    __slots__ = ("_buf", "_cr", "_data", "_size", "max_event")

    def __init__(self, max_event: int = DEFAULT_MAX_EVENT) -> None:
        self.max_event = max_event
        self._buf = bytearray()  # an unfinished line
        self._data: list[bytes] = []  # data lines of the current event
        self._size = 0  # bytes in _data
        self._cr = False  # the last chunk ended in CR: a leading LF completes a CRLF

    def decode(self, chunk: bytes) -> list[bytes]:
        """Return the data payloads of the events completed by ``chunk``.

        Raises :class:`EventTooLargeError` (with the events completed before it) when the
        current event grows past ``max_event``.
        """
        if self._cr:
            self._cr = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        out: list[bytes] = []
        if not chunk:
            return out
        buf = self._buf
        first: bytes | None = None
        if buf:
            # Only the new bytes are searched for the end of the pending line.
            end = _line_end(chunk)
            if end < 0:
                buf += chunk
                return self._checked(out)
            buf += chunk[:end]
            first = bytes(buf)
            buf.clear()
            if chunk[end] == 13:  # CR: a CRLF may be split across two chunks
                if end + 1 == len(chunk):
                    self._cr = True
                elif chunk[end + 1] == 10:
                    end += 1
            chunk = chunk[end + 1 :]
        lines = chunk.splitlines(keepends=True) if chunk else []
        if lines:
            last = lines[-1]
            if not last.endswith(_NL):
                buf += lines.pop()
            elif last[-1:] == b"\r":
                self._cr = True
        if first is not None:
            lines.insert(0, first)
        data = self._data
        size, limit = self._size, self.max_event
        for line in lines:
            line = line.rstrip(b"\r\n")
            if not line:
                if data:
                    out.append(data[0] if len(data) == 1 else b"\n".join(data))
                    data.clear()
                    size = 0
            elif line.startswith(b"data:"):
                value = line[6:] if line[5:6] == b" " else line[5:]
                data.append(value)
                size += len(value) + 1
                if size > limit:
                    self._size = size
                    raise EventTooLargeError(size, limit, out)
            # Comments (":...") and the fields event/id/retry carry nothing we use.
        self._size = size
        return self._checked(out) if buf else out

    def _checked(self, out: list[bytes]) -> list[bytes]:
        size = len(self._buf) + self._size
        if size > self.max_event:
            raise EventTooLargeError(size, self.max_event, out)
        return out

    def flush(self) -> list[bytes]:
        """End of stream: dispatch what is pending (a last event with no blank line)."""
        out = self.decode(b"\n\n") if self._buf or self._data else []
        self._cr = False
        return out

    @property
    def pending(self) -> bytes:
        """Bytes received but not yet part of a complete event (for error messages)."""
        if self._data:
            return b"\n".join([*self._data, bytes(self._buf)])
        return bytes(self._buf)


def _line_end(chunk: bytes) -> int:
    """The index of the first CR or LF in ``chunk``, or -1."""
    lf = chunk.find(b"\n")
    cr = chunk.find(b"\r", 0, lf if lf >= 0 else len(chunk))
    return cr if cr >= 0 else lf
