"""Recorded 2026 answers of api.moonshot.ai, read as they were published.

The files are in ``tests/recordings/`` (``SOURCES.json`` gives the repository, path and
commit of each; the conformance tests read the same files). Only bodies were published: the status line, the
content type and, for streams, the SSE framing are added here, and say so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from _loopback import LoopbackServer, http_response, sse_body

ROOT = Path(__file__).resolve().parent / "recordings"

__all__ = [
    "ROOT",
    "recorded",
    "recorded_json",
    "replay",
    "replay_stream",
    "retired_404",
    "sent_body",
]


def recorded(name: str) -> bytes:
    """A recorded body, byte for byte."""
    return (ROOT / name).read_bytes()


def recorded_json(name: str) -> Any:
    return json.loads(recorded(name))


def replay(server: LoopbackServer, name: str, *, status: int = 200) -> None:
    """Answer every request with a recorded body (added: the status line and the
    ``application/json`` content type)."""
    server.reply(http_response(status, recorded(name)))


def replay_stream(server: LoopbackServer, name: str) -> None:
    """Answer with a recorded ``*.chunks.txt`` stream (added: ``data:`` framing and the
    ``[DONE]`` terminator, and the ``text/event-stream`` response)."""
    events = [line for line in recorded(name).decode().splitlines() if line]
    body = sse_body(events)
    server.reply(http_response(200, body, content_type="text/event-stream"))


def retired_404(server: LoopbackServer, model: str) -> None:
    """Moonshot's 404 for an id it does not serve (recorded), with ``model`` put in the
    message where the recording names an invented id: docs/kimi-platform.md §11 says a retired id gets the
    same answer. Not a recording of a retired id."""
    body = recorded("moonshotai-error-without-code-live.json").replace(
        b"definitely-not-a-real-moonshot-model", model.encode()
    )
    server.reply(http_response(404, body))


def sent_body(server: LoopbackServer) -> dict[str, Any]:
    """The JSON body of the one request ``server`` received (it fails on any other count)."""
    assert len(server.received) == 1, [r.body[:200] for r in server.received]
    body: dict[str, Any] = server.received[0].json
    return body
