"""Record-through: forward chat requests to the real provider, check them on the way, and
write what came back as vcrpy cassettes with the credentials stripped.

``kimi-emulator --upstream https://api.moonshot.ai/v1 --record DIR`` (or
``KimiEmulator(upstream=..., record=...)``): each chat request is checked against the
emulator's rules first; what it breaks is reported (logged on the ``kimi_emulator``
logger, kept in ``emu.rule_reports``, and counted in the ``x-kimi-emulator-broken-rules``
response header), and with ``strict`` the request is refused with the emulator's
rejection instead of being forwarded. Otherwise it goes to ``upstream`` with the caller's
own ``Authorization`` header, and the provider's answer (status, body, its content type
and trace headers) goes back to the caller as it arrives (a stream keeps its pace; a body
that breaks off breaks the caller's connection too, and is not recorded).

Each forwarded exchange is appended to one vcrpy JSON cassette per run in ``record``
(``kimi-emulator-<time>.json``), which ``RecordedResponder`` (``--recordings DIR``) and
vcrpy itself replay. Only ``Content-Type`` and ``Accept`` of the request headers are
written, response headers that could carry credentials are dropped, and the caller's key
is replaced with ``<redacted>`` wherever it appears in a body: no key lands in a file.
"""

from __future__ import annotations

import asyncio
import http.client
import ipaddress
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ._dialects import Dialect
from ._http import LAST_CHUNK, RecordedRequest, chunk_frame, response_head
from ._server import AbortError, Conn
from ._wire import ApiError

__all__ = ["Proxy", "RuleReport", "broken_rules", "report"]

log = logging.getLogger("kimi_emulator")

_REDACTED = "<redacted>"
_KEEP_REQUEST_HEADERS = ("content-type", "accept")
_DROP = ("auth", "key", "token", "cookie", "secret", "session")
_HOP = ("connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding")


@dataclass
class RuleReport:
    """The rules one request broke, and whether it was forwarded anyway."""

    path: str
    model: str
    rules: list[str]
    forwarded: bool
    time: float = field(default_factory=time.time)


#: Fields checked together with each part (the rules of a part depend on them).
_CONTEXT = ("model", "thinking", "reasoning_effort", "stream", "stream_options")
#: Parts checked on their own, each with the context: what a rule may be about.
_PARTS: tuple[tuple[str, ...], ...] = (
    ("messages", "tools"),
    ("tools", "tool_choice", "parallel_tool_calls"),
    ("temperature",),
    ("top_p",),
    ("n",),
    ("presence_penalty",),
    ("frequency_penalty",),
    ("stop",),
    ("max_tokens", "max_completion_tokens"),
    ("response_format",),
)
_PROBE = [{"role": "user", "content": "x"}]


def broken_rules(check: Callable[[Any], None], body: Any) -> list[ApiError]:
    """Every rule ``body`` breaks, as far as ``check`` (which raises the first
    :class:`ApiError` of a body) can tell: the whole body first, then each part of it
    alone with the model and thinking fields, so that one broken rule does not hide
    another. Distinct messages only."""
    found: list[ApiError] = []

    def run(candidate: Any) -> None:
        try:
            check(candidate)
        except ApiError as err:
            if all(err.message != seen.message for seen in found):
                found.append(err)

    run(body)
    if not found or not isinstance(body, Mapping):
        return found
    base = {k: body[k] for k in _CONTEXT if k in body}
    for part in _PARTS:
        if not any(k in body for k in part):
            continue
        candidate = {**base, "messages": _PROBE, **{k: body[k] for k in part if k in body}}
        run(candidate)
    return found


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


Put = Callable[[str, Any], None]


def _pump(url: str, body: bytes, headers: dict[str, str], timeout: float, put: Put) -> None:
    """POST ``body`` to ``url`` and hand over what comes back as it comes: ``("head",
    (status, headers))``, then ``("data", bytes)`` pieces, then ``("end", None)``, or
    ``("error", reason)`` if the body breaks off. A network failure is a 502."""
    handlers = [urllib.request.ProxyHandler({})] if _is_loopback(url) else []
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        resp = opener.open(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        put("head", (exc.code, list(exc.headers.items())))
        put("data", exc.read())
        put("end", None)
        return
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        message = f"kimi-emulator: the upstream {url} could not be reached: {reason}"
        err = {"error": {"message": message, "type": "server_error"}}
        put("head", (502, [("Content-Type", "application/json")]))
        put("data", json.dumps(err).encode())
        put("end", None)
        return
    try:
        with resp:
            put("head", (resp.status, list(resp.headers.items())))
            while True:
                data = resp.read1(65536)
                if not data:
                    break
                put("data", data)
    except (OSError, http.client.HTTPException) as exc:
        put("error", str(exc))
        return
    put("end", None)


def _scrub(text: str, secret: str) -> str:
    return text.replace(secret, _REDACTED) if secret else text


class Proxy:
    """Forwards chat requests to ``upstream`` and records them in ``record``."""

    def __init__(
        self,
        upstream: str | None,
        record: str | os.PathLike[str] | None,
        dialect: Dialect,
        *,
        timeout: float = 600.0,
    ) -> None:
        if not upstream:
            raise ValueError("record= needs upstream=: the URL of the provider to record")
        scheme = urlsplit(upstream).scheme
        if scheme not in ("http", "https"):
            raise ValueError(f"upstream={upstream!r} must be an http:// or https:// URL")
        self.upstream = upstream.rstrip("/")
        self.dialect = dialect
        self.timeout = timeout
        self.folder = Path(record) if record is not None else None
        self.cassette: Path | None = None
        self._interactions: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
            self.cassette = self.folder / f"kimi-emulator-{stamp}-{os.getpid()}-{id(self):x}.json"

    def target(self, path: str) -> str:
        """The upstream URL of a request path (the dialect's prefix is the upstream's)."""
        prefix = self.dialect.prefix
        rest = path[len(prefix) :] if prefix and path.startswith(prefix) else path
        return self.upstream + rest

    async def forward(self, req: RecordedRequest, conn: Conn, broken: int) -> None:
        url = self.target(req.path)
        auth = req.headers.get("authorization", "")
        secret = auth.partition(" ")[2].strip()
        headers = {
            "Content-Type": req.headers.get("content-type", "application/json"),
            "Accept": req.headers.get("accept", "application/json, text/event-stream"),
            "Accept-Encoding": "identity",
            "User-Agent": "kimi-emulator-record-through",
        }
        if auth:
            headers["Authorization"] = auth
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        def put(kind: str, value: Any) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, (kind, value))

        args = (url, req.body, headers, self.timeout, put)
        threading.Thread(
            target=_pump, args=args, name="kimi-emulator-upstream", daemon=True
        ).start()
        _, (status, got) = await queue.get()
        ctype = next((v for k, v in got if k.lower() == "content-type"), "application/json")
        relay = {
            k: v
            for k, v in got
            if k.lower() not in _HOP
            and k.lower() != "content-type"
            and not any(word in k.lower() for word in _DROP)
        }
        relay["x-kimi-emulator-broken-rules"] = str(broken)
        # Relayed as it arrives (a stream keeps its pace), recorded once it is whole.
        conn.write(response_head(status, {"Content-Type": ctype, **relay}, chunked=True))
        parts: list[bytes] = []
        while True:
            kind, value = await queue.get()
            if kind == "data":
                parts.append(value)
                conn.write(chunk_frame(value))
                await conn.drain()
            elif kind == "end":
                break
            else:
                log.warning("kimi-emulator: the upstream %s broke off: %s", url, value)
                raise AbortError  # the caller sees the break, as from the provider
        # Written before the body ends, so the cassette is there when the caller has it.
        self._record(url, req, status, got, b"".join(parts), secret)
        conn.write(LAST_CHUNK)
        await conn.drain()

    def _record(
        self,
        url: str,
        req: RecordedRequest,
        status: int,
        got: list[tuple[str, str]],
        body: bytes,
        secret: str,
    ) -> None:
        if self.cassette is None:
            return
        sent = {
            k.title(): [v] for k, v in req.headers.items() if k.lower() in _KEEP_REQUEST_HEADERS
        }
        kept: dict[str, list[str]] = {}
        for k, v in got:
            if k.lower() in _HOP or any(word in k.lower() for word in _DROP):
                continue
            kept.setdefault(k, []).append(_scrub(v, secret))
        interaction = {
            "request": {
                "body": _scrub(req.body.decode("utf-8", "replace"), secret),
                "headers": sent,
                "method": req.method,
                "uri": url,
            },
            "response": {
                "body": {"string": _scrub(body.decode("utf-8", "replace"), secret)},
                "headers": kept,
                "status": {"code": status, "message": _reason(status)},
            },
        }
        with self._lock:
            self._interactions.append(interaction)
            data = {"interactions": self._interactions, "version": 1}
            text = json.dumps(data, indent=2, ensure_ascii=False)
            if secret and secret in text:  # belt and braces: never write a key
                text = text.replace(secret, _REDACTED)
            part = self.cassette.with_suffix(".json.part")
            part.write_text(text, encoding="utf-8")
            part.replace(self.cassette)


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def report(
    rules: list[str], req: RecordedRequest, body: Mapping[str, Any], forwarded: bool
) -> RuleReport:
    """Log the rules a request broke and return the report."""
    model = str(body.get("model", ""))
    what = "forwarded anyway" if forwarded else "refused (strict)"
    for rule in rules:
        log.warning(
            "kimi-emulator: %s %s (%s) breaks a Kimi rule, %s: %s",
            req.method,
            req.path,
            model,
            what,
            rule,
        )
    return RuleReport(req.path, model, rules, forwarded)
