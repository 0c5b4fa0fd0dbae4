"""Chat rendering: from a checked request (and maybe a script) to the bytes sent.

A :class:`Script` is one queued answer; :class:`ChatEngine` turns a
:class:`~kimi_emulator._rules.ChatCall` into a :class:`~kimi_emulator._wire.Plan` (the
script's answer, or the responder's: ``_responders.py``), applies ``stop`` and
``max_tokens`` to either, counts usage with the prompt cache, and writes the JSON body or
the SSE stream, through a fault when one applies.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ._dialects import Dialect
from ._faults import Fault, faulty_completion, faulty_stream
from ._http import LAST_CHUNK, chunk_frame, response_head
from ._responders import (
    RejectedError,
    Rejection,
    Reply,
    Responder,
    apply_limits,
    choice_of,
    completion_tokens,
)
from ._rules import ChatCall
from ._server import JSON_TYPE, AbortError, Conn
from ._wire import (
    Choice,
    Plan,
    ToolCallIndexMode,
    completion_bytes,
    render_stream,
    usage_object,
)

__all__ = ["ChatEngine", "Script", "ScriptQueue"]

#: Stands for the chat id in a repeating script's rendered stream (swapped per response).
_PLACEHOLDER = b"chatcmpl-@@kimi-emulator-id@@"
_CACHE_LIMIT = 200_000


@dataclass
class Script:
    """One queued answer (see ``KimiEmulator.script``)."""

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
    rendered: dict[bool, tuple[bytes, int, list[bytes]]] = field(default_factory=dict)


class ScriptQueue:
    """Scripts in FIFO order; a script answers ``times`` requests, then leaves."""

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock
        self._items: deque[Script] = deque()

    def add(self, item: Script) -> None:
        with self._lock:
            self._items.append(item)

    def peek(self) -> Script | None:
        with self._lock:
            return self._items[0] if self._items else None

    def take(self) -> Script | None:
        with self._lock:
            if not self._items:
                return None
            item = self._items[0]
            if item.remaining is not None:
                item.remaining -= 1
                if item.remaining <= 0:
                    self._items.popleft()
            return item


@dataclass
class _Rendered:
    """A rendered stream; a repeating script's template gets its fresh id on use."""

    template: list[bytes]
    body_count: int
    template_joined: bytes | None = None
    chat_id: bytes = b""

    def events(self) -> list[bytes]:
        if self.template_joined is None:
            return self.template
        return [e.replace(_PLACEHOLDER, self.chat_id) for e in self.template]

    def joined(self) -> bytes:
        if self.template_joined is None:
            return b"".join(self.template)
        return self.template_joined.replace(_PLACEHOLDER, self.chat_id)


class ChatEngine:
    """Answers checked chat requests for one dialect (the prompt cache lives here)."""

    def __init__(self, dialect: Dialect, lock: threading.Lock, responder: Responder) -> None:
        self.dialect = dialect
        self._lock = lock
        self._cache: dict[str, int] = {}
        #: Answers what no script answers (``KimiEmulator.responder``).
        self.responder = responder

    def reset(self) -> None:
        with self._lock:
            self._cache = {}

    # ------------------------------------------------------------------ planning

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
            cache = self._cache
            for key, tokens in keys:
                if key in cache:
                    cached = tokens
            if len(cache) > _CACHE_LIMIT:
                cache.clear()
            for key, tokens in keys:
                cache[key] = tokens
        return cached

    def _call_ids(self, call: ChatCall, choices: list[Choice]) -> None:
        prior = sum(
            len(m.get("tool_calls") or ()) for m in call.messages if m.get("role") == "assistant"
        )
        for choice in choices:
            for i, tc in enumerate(choice.tool_calls):
                if not tc.id:
                    tc.id = self.dialect.tool_call_id_for(tc.name, prior + i)

    def _answer(self, call: ChatCall, script: Script | None) -> Reply:
        """The script's answer, or the responder's (a rejection is raised)."""
        if script is not None:
            return Reply(
                content=script.text,
                reasoning=script.reasoning,
                tool_calls=script.tool_calls or (),
                finish_reason=script.finish_reason,
                usage=script.usage,
                model=script.model,
            )
        answer = self.responder.respond(call)
        if isinstance(answer, Rejection):
            raise RejectedError(answer)
        if not isinstance(answer, Reply):
            raise TypeError(
                f"the responder {self.responder!r} returned {type(answer).__name__}; "
                "a Responder returns a Reply or a Rejection"
            )
        return answer

    def plan(self, call: ChatCall, script: Script | None) -> Plan:
        reply = self._answer(call, script)
        first = choice_of(reply)
        # The server's duty for every responder, scripts included: stop and max_tokens.
        cut = apply_limits(call.stop, call.max_tokens, first)
        choices = [first] + [copy.deepcopy(first) for _ in range(call.n - 1)]
        model = reply.model or call.model
        self._call_ids(call, choices)
        if reply.usage is not None and not cut:
            usage: dict[str, Any] = dict(reply.usage)
        else:
            completion = reasoning = 0
            for choice in choices:
                c, r = completion_tokens(choice)
                completion += c
                reasoning += r
            thought = call.thinking or any(c.reasoning is not None for c in choices)
            usage = usage_object(
                self.dialect,
                call.prompt_tokens,
                completion,
                self._cached_tokens(call),
                reasoning,
                thinking=thought,
            )
        return Plan(
            model=model,
            choices=choices,
            usage=usage,
            chunk_size=script.chunk_size if script else None,
            chunks=script.chunks if script else None,
            tool_call_index=script.tool_call_index if script else "normal",
            rules=call.info,
        )

    # ------------------------------------------------------------------ writing

    async def complete(
        self,
        conn: Conn,
        call: ChatCall,
        script: Script | None,
        fault: Fault | None,
        headers: dict[str, str],
        trace_id: str,
    ) -> None:
        plan = self.plan(call, script)
        raw = completion_bytes(self.dialect, plan, self.dialect.chat_id(call.info))
        head = {"Content-Type": JSON_TYPE, **headers}
        if fault is None:
            conn.write(response_head(200, head, length=len(raw)) + raw)
            await conn.drain()
            return
        await faulty_completion(conn, self.dialect, fault, head, raw, trace_id)

    def _render(self, call: ChatCall, script: Script | None) -> _Rendered:
        d = self.dialect
        if script is not None and script.repeat and not call.stop and call.max_tokens is None:
            # A repeating script: render once, then swap in a fresh id per response.
            cached = script.rendered.get(call.include_usage)
            if cached is None:
                plan = self.plan(call, script)
                events, body_count = render_stream(
                    d, plan, _PLACEHOLDER.decode(), include_usage=call.include_usage
                )
                cached = (b"".join(events), body_count, events)
                script.rendered[call.include_usage] = cached
            joined, body_count, events = cached
            fresh = d.chat_id(call.info).encode()
            return _Rendered(events, body_count, joined, fresh)
        plan = self.plan(call, script)
        events, body_count = render_stream(
            d, plan, d.chat_id(call.info), include_usage=call.include_usage
        )
        return _Rendered(events, body_count)

    async def stream(
        self,
        conn: Conn,
        call: ChatCall,
        script: Script | None,
        fault: Fault | None,
        headers: dict[str, str],
        trace_id: str,
        delay: float,
    ) -> None:
        rendered = self._render(call, script)
        if script is not None and script.delay is not None:
            delay = script.delay
        head = {
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            **headers,
        }
        if fault is not None and fault.kind == "drop_after" and fault.events <= 0:
            raise AbortError
        conn.write(response_head(200, head, chunked=True))
        if fault is not None:
            await faulty_stream(
                conn, self.dialect, fault, rendered.events(), rendered.body_count, delay, trace_id
            )
            return
        if delay <= 0:
            # The common case: the whole stream in one buffer.
            conn.write(chunk_frame(rendered.joined()) + LAST_CHUNK)
            await conn.drain()
            return
        await conn.write_events(rendered.events(), delay)
        conn.write(LAST_CHUNK)
        await conn.drain()
