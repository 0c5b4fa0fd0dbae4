"""Wire shapes per dialect: ids, error bodies, completions and SSE streams.

Everything here is pure: a :class:`Plan` (what the "model" says) goes in, JSON bodies
or SSE bytes come out. Streams are rendered once, as a list of ``data: ...`` events,
with small JSON pieces joined by hand (no ``json.dumps`` of a whole chunk dict per
event), so that rendering 100k deltas stays cheap.
"""

from __future__ import annotations

import json
import os
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from ._catalogue import ModelRules
from ._dialects import Dialect

__all__ = [
    "ERROR_TYPES",
    "ApiError",
    "Choice",
    "Plan",
    "ToolCall",
    "completion_bytes",
    "error_response",
    "render_completion",
    "render_stream",
    "usage_object",
]

ToolCallIndexMode = Literal["normal", "omit", "zero"]


# --------------------------------------------------------------------------- errors


class ApiError(Exception):
    """A rejection, in Moonshot's terms (``kind`` is Moonshot's ``error.type``).

    :func:`error_response` renders it in each dialect's error body.
    """

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message


# Moonshot error type -> (AceData code, OpenAI-style type, OpenAI-style code)
_KIND_MAP: dict[str, tuple[str, str, str | None]] = {
    "invalid_request_error": ("bad_request", "invalid_request_error", None),
    "invalid_authentication_error": ("invalid_token", "invalid_request_error", "invalid_api_key"),
    "permission_denied_error": ("forbidden", "invalid_request_error", "permission_denied"),
    "resource_not_found_error": ("no_api", "invalid_request_error", "not_found"),
    "model_not_found": ("bad_request", "invalid_request_error", "model_not_found"),
    "rate_limit_reached_error": ("too_many_requests", "requests", "rate_limit_exceeded"),
    "engine_overloaded_error": ("too_many_requests", "requests", "engine_overloaded"),
    "exceeded_current_quota_error": ("used_up", "insufficient_quota", "insufficient_quota"),
    "server_error": ("api_error", "server_error", None),
    "method_not_allowed": ("bad_request", "invalid_request_error", "method_not_allowed"),
    "content_filter": ("forbidden", "invalid_request_error", "content_policy_violation"),
}

#: Moonshot's error types (docs/kimi-platform.md §7): their status and a message like the real one.
ERROR_TYPES: dict[str, tuple[int, str]] = {
    "invalid_request_error": (400, "Invalid request"),
    "content_filter": (
        400,
        "The request was rejected because it was considered high risk (content moderation)",
    ),
    "invalid_authentication_error": (401, "Invalid Authentication"),
    "incorrect_api_key_error": (401, "Incorrect API key provided"),
    "permission_denied_error": (403, "Permission denied: the API key may not use this resource"),
    "resource_not_found_error": (404, "Not found"),
    "engine_overloaded_error": (
        429,
        "The engine is currently overloaded, please try again later",
    ),
    "rate_limit_reached_error": (
        429,
        "Your account org-emulator<ak-emulator> request reached organization max RPM: 3, "
        "please try again after 1 seconds",
    ),
    "exceeded_current_quota_error": (
        429,
        "Your account org-emulator<ak-emulator> is suspended (insufficient balance), please "
        "check your plan and billing details",
    ),
    "server_error": (500, "Internal server error, please retry later"),
    "unexpected_output": (500, "The model produced an unexpected output, please retry"),
}


def new_trace_id() -> str:
    return uuid.uuid4().hex


def _dashed(trace_id: str) -> str:
    try:
        return str(uuid.UUID(hex=trace_id))
    except ValueError:
        return trace_id


def error_response(dialect: Dialect, err: ApiError, trace_id: str) -> tuple[int, dict[str, Any]]:
    """The status and JSON body a dialect answers an error with."""
    status, kind, message = err.status, err.kind, err.message
    ace_code, oa_type, oa_code = _KIND_MAP.get(kind, ("api_error", kind, None))
    style = dialect.error_style
    if style == "moonshot":
        mtype = "resource_not_found_error" if kind == "model_not_found" else kind
        if kind == "method_not_allowed":
            mtype = "invalid_request_error"
        return status, {"error": {"message": message, "type": mtype}}
    if style == "acedata":
        if kind == "model_not_found":
            status = 400  # AceData validates the model against its list: a bad request
        if kind in ("exceeded_current_quota_error", "content_filter"):
            status = 403  # AceData: used_up (balance) and forbidden (moderation) are 403s
        return status, {
            "success": False,
            "error": {"code": ace_code, "message": message},
            "trace_id": _dashed(trace_id),  # AceData's published trace ids are UUIDs
        }
    if style == "gptproto":
        if kind == "exceeded_current_quota_error":
            status = 403  # GPTProto: insufficient balance is a 403
        return status, {"error": {"message": message, "type": str(status)}}
    return status, {"error": {"message": message, "type": oa_type, "param": None, "code": oa_code}}


# --------------------------------------------------------------------------- plans


@dataclass
class ToolCall:
    name: str
    arguments: str
    id: str = ""


@dataclass
class Choice:
    content: str | None = None
    reasoning: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str = "stop"


_OPEN_RULES = ModelRules(id="", context_window=262_144, known=False)


@dataclass
class Plan:
    """One response: its choices, usage, and how to split it into deltas."""

    model: str
    choices: list[Choice]
    #: The raw usage object to send (already in the dialect's shape), or None.
    usage: dict[str, Any] | None
    #: Characters per content/reasoning delta (None: a few words per delta).
    chunk_size: int | None = None
    #: Number of content deltas (overrides chunk_size).
    chunks: int | None = None
    #: Characters per tool-call argument fragment.
    args_chunk: int = 12
    tool_call_index: ToolCallIndexMode = "normal"
    created: int = field(default_factory=lambda: int(time.time()))
    #: The rules of the model answering (its id style, fingerprint, reasoning marker).
    rules: ModelRules = _OPEN_RULES


#: Moonshot's ``system_fingerprint`` on the models that send one (``fpv0_<8 hex>``).
FINGERPRINT = "fpv0_" + secrets.token_hex(4)
#: What OpenRouter names as the upstream ``provider`` of an answer.
OPENROUTER_PROVIDER = "KimiEmulator"


def usage_object(
    dialect: Dialect,
    prompt: int,
    completion: int,
    cached: int,
    reasoning: int,
    *,
    thinking: bool,
) -> dict[str, Any]:
    """A usage object in the dialect's shape.

    Moonshot (2026 captures): ``cached_tokens`` and ``prompt_tokens_details`` only when
    something was cached; ``completion_tokens_details`` only when the model thought
    (``{}`` when it produced no reasoning tokens). AceData's published answers carry
    ``{"cached_tokens_details": {}}`` and ``completion_tokens_details: {}``.
    """
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    style = dialect.usage_style
    if style == "moonshot":
        if cached:
            usage["cached_tokens"] = cached
        if thinking:
            usage["completion_tokens_details"] = (
                {"reasoning_tokens": reasoning} if reasoning else {}
            )
        if cached:
            usage["prompt_tokens_details"] = {"cached_tokens": cached}
    elif style == "acedata":
        details: dict[str, Any] = {"cached_tokens_details": {}}
        if cached:
            details["cached_tokens"] = cached
        usage["prompt_tokens_details"] = details
        usage["completion_tokens_details"] = {}
    elif style == "openrouter":
        prompt_cost = round(prompt * 6e-7, 8)
        completion_cost = round(completion * 2.5e-6, 8)
        usage["cost"] = round(prompt_cost + completion_cost, 8)
        usage["is_byok"] = False
        usage["prompt_tokens_details"] = {
            "cached_tokens": cached,
            "cache_write_tokens": 0,
            "audio_tokens": 0,
            "video_tokens": 0,
        }
        usage["cost_details"] = {
            "upstream_inference_cost": usage["cost"],
            "upstream_inference_prompt_cost": prompt_cost,
            "upstream_inference_completions_cost": completion_cost,
        }
        usage["completion_tokens_details"] = {
            "reasoning_tokens": reasoning,
            "image_tokens": 0,
            "audio_tokens": 0,
        }
    else:
        usage["prompt_tokens_details"] = {"cached_tokens": cached}
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return usage


def _call_object(tc: ToolCall, arguments: str | None = None) -> dict[str, Any]:
    """A tool call as sent: ``{"id", "type", "function": {"name", "arguments"}}``."""
    args = tc.arguments if arguments is None else arguments
    return {"id": tc.id, "type": "function", "function": {"name": tc.name, "arguments": args}}


def _reasoning_details(text: str) -> list[dict[str, Any]]:
    return [{"type": "reasoning.text", "text": text, "format": "unknown", "index": 0}]


# --------------------------------------------------------------------------- non-streamed


def _message(dialect: Dialect, choice: Choice) -> dict[str, Any]:
    content: str | None = choice.content or ""
    if dialect.openrouter and choice.tool_calls and not choice.content:
        content = None  # OpenRouter: a tool-call answer has "content": null
    msg: dict[str, Any] = {"role": "assistant", "content": content}
    if dialect.acedata_chunks or dialect.openrouter:
        msg["refusal"] = None
    if choice.reasoning is not None:
        for name in dialect.reasoning_fields:
            msg[name] = choice.reasoning
    if choice.tool_calls:
        msg["tool_calls"] = [
            {"index": i, **_call_object(tc)} for i, tc in enumerate(choice.tool_calls)
        ]
    elif dialect.empty_tool_calls:
        msg["tool_calls"] = []
    if dialect.openrouter and choice.reasoning is not None:
        msg["reasoning_details"] = _reasoning_details(choice.reasoning)
    return msg


def render_completion(dialect: Dialect, plan: Plan, chat_id: str) -> dict[str, Any]:
    """The non-streamed completion body."""
    choices = []
    for i, choice in enumerate(plan.choices):
        entry: dict[str, Any] = {"index": i}
        if dialect.openrouter:
            entry["logprobs"] = None
            entry["finish_reason"] = choice.finish_reason
            entry["native_finish_reason"] = choice.finish_reason
            entry["message"] = _message(dialect, choice)
        else:
            entry["message"] = _message(dialect, choice)
            if dialect.acedata_chunks:
                entry["logprobs"] = None
            entry["finish_reason"] = choice.finish_reason
        choices.append(entry)
    body: dict[str, Any] = {
        "id": chat_id,
        "object": "chat.completion",
        "created": plan.created,
        "model": plan.model,
    }
    if dialect.openrouter:
        body["provider"] = OPENROUTER_PROVIDER
        body["system_fingerprint"] = None
    body["choices"] = choices
    if plan.rules.fingerprint and dialect.name == "moonshot":
        body["system_fingerprint"] = FINGERPRINT
    if plan.usage is not None:
        body["usage"] = plan.usage
    return body


#: OpenRouter writes blank padding lines before a JSON body while the model works.
_OPENROUTER_PADDING = b"\n         \n\n"


def completion_bytes(dialect: Dialect, plan: Plan, chat_id: str) -> bytes:
    """The non-streamed response body, as sent."""
    raw = _dumps(render_completion(dialect, plan, chat_id)).encode()
    return _OPENROUTER_PADDING + raw if dialect.openrouter else raw


# --------------------------------------------------------------------------- streamed

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
DONE = b"data: [DONE]\n\n"
#: OpenRouter's keep-alive comment (an SSE comment line a client must ignore).
OPENROUTER_COMMENT = b": OPENROUTER PROCESSING\n\n"


def split_text(text: str, size: int | None) -> list[str]:
    """Delta pieces: ``size`` characters each, or two words each when size is None."""
    if not text:
        return []
    if size is not None:
        size = max(1, size)
        return [text[i : i + size] for i in range(0, len(text), size)]
    pieces: list[str] = []
    start = 0
    words = 0
    n = len(text)
    i = 0
    while i < n:
        # A word ends at a space that follows a non-space.
        if text[i] == " " and i > 0 and text[i - 1] != " ":
            words += 1
            if words == 2:
                pieces.append(text[start:i])
                start = i
                words = 0
        i += 1
    pieces.append(text[start:])
    return [p for p in pieces if p]


def split_count(text: str, count: int) -> list[str]:
    """``text`` in ``count`` nearly equal pieces (fewer when it is shorter)."""
    if not text:
        return []
    count = max(1, min(count, len(text)))
    base, extra = divmod(len(text), count)
    out = []
    pos = 0
    for i in range(count):
        step = base + (1 if i < extra else 0)
        out.append(text[pos : pos + step])
        pos += step
    return out


class _Chunker:
    """Builds ``data: {...}`` events with a precomputed head and tail."""

    def __init__(self, dialect: Dialect, plan: Plan, chat_id: str) -> None:
        self.dialect = dialect
        head: dict[str, Any] = {
            "id": chat_id,
            "object": "chat.completion.chunk",
            "created": plan.created,
            "model": plan.model,
        }
        if dialect.acedata_chunks:
            head["system_fingerprint"] = None
        if dialect.openrouter:
            head["provider"] = OPENROUTER_PROVIDER
        self.head = b"data: " + _dumps(head)[:-1].encode() + b',"choices":['
        if dialect.acedata_chunks:
            close = b'],"usage":null}'
        elif plan.rules.fingerprint and dialect.name == "moonshot":
            close = b'],"system_fingerprint":' + _dumps(FINGERPRINT).encode() + b"}"
        else:
            close = b"]}"
        self.tail = close + b"\n\n"
        self.choice_extra = b',"logprobs":null' if dialect.acedata_chunks else b""
        self.native = dialect.openrouter

    def event(
        self,
        index: int,
        delta: bytes,
        finish: str | None = None,
        usage: dict[str, Any] | None = None,
    ) -> bytes:
        fin = b"null" if finish is None else _dumps(finish).encode()
        extra = self.choice_extra
        if usage is not None:
            extra += b',"usage":' + _dumps(usage).encode()
        native = b',"native_finish_reason":' + fin if self.native else b""
        return b"".join(
            (
                self.head,
                b'{"index":',
                str(index).encode(),
                b',"delta":',
                delta,
                extra,
                b',"finish_reason":',
                fin,
                native,
                b"}",
                self.tail,
            )
        )

    def usage_event(self, usage: dict[str, Any]) -> bytes:
        base = self.head[: -len(b'"choices":[')]
        return base + b'"choices":[],"usage":' + _dumps(usage).encode() + b"}\n\n"


def _reasoning_delta(dialect: Dialect, piece: str, content: str | None = None) -> bytes:
    text = _dumps(piece)
    parts = []
    if content is not None:
        parts.append('"content":' + _dumps(content))
    parts.extend(f'"{name}":{text}' for name in dialect.reasoning_fields)
    return ("{" + ",".join(parts) + "}").encode()


def _pieces(choice: Choice, plan: Plan) -> tuple[list[str], list[str]]:
    reasoning = split_text(choice.reasoning or "", plan.chunk_size)
    if plan.chunks is not None:
        content = split_count(choice.content or "", plan.chunks)
    else:
        content = split_text(choice.content or "", plan.chunk_size)
    return reasoning, content


def render_stream(
    dialect: Dialect,
    plan: Plan,
    chat_id: str,
    *,
    include_usage: bool,
) -> tuple[list[bytes], int]:
    """The SSE events of a streamed response, and how many precede the finish events.

    Returns ``(events, body_count)``: ``events[:body_count]`` are the role, reasoning,
    content and tool-call deltas; the rest are the finish chunk(s), the usage chunk
    and ``[DONE]`` (what a "truncated" fault leaves out).
    """
    if dialect.openrouter:
        return _render_openrouter(dialect, plan, chat_id)
    ch = _Chunker(dialect, plan, chat_id)
    events: list[bytes] = []
    tail: list[bytes] = []
    last = len(plan.choices) - 1
    role = b'{"role":"assistant","content":""}'
    marker = plan.rules.reasoning_marker and dialect.name == "moonshot"
    for ci, choice in enumerate(plan.choices):
        start = len(events)
        events.append(ch.event(ci, role))
        reasoning, content = _pieces(choice, plan)
        if dialect.acedata_chunks and reasoning and content:
            # AceData: the first content piece shares a chunk with the last reasoning piece.
            for piece in reasoning[:-1]:
                events.append(ch.event(ci, _reasoning_delta(dialect, piece)))
            events.append(ch.event(ci, _reasoning_delta(dialect, reasoning[-1], content[0])))
            content = content[1:]
        else:
            for piece in reasoning:
                events.append(ch.event(ci, _reasoning_delta(dialect, piece)))
            if marker and reasoning and content:
                # K3: an empty reasoning delta marks the end of the reasoning.
                events.append(ch.event(ci, _reasoning_delta(dialect, "")))
        events.extend(ch.event(ci, b'{"content":' + _dumps(p).encode() + b"}") for p in content)
        events.extend(_tool_call_events(ch, ci, choice, plan))
        usage = plan.usage if dialect.usage_in_final_choice and ci == last else None
        if dialect.acedata_chunks and len(events) - start > 1:
            # AceData: the finish reason rides on the last delta of the choice.
            events[-1] = _with_finish(events[-1], choice.finish_reason)
        else:
            tail.append(ch.event(ci, b"{}", choice.finish_reason, usage))
    if plan.usage is not None and (
        dialect.trailing_usage == "always"
        or (dialect.trailing_usage == "include_usage" and include_usage)
    ):
        tail.append(ch.usage_event(plan.usage))
    body_count = len(events)
    if dialect.acedata_chunks:
        # The finish reason is inside the last delta: a truncated stream stops before it.
        body_count -= 1
    events.extend(tail)
    events.append(DONE)
    return events, body_count


def _render_openrouter(dialect: Dialect, plan: Plan, chat_id: str) -> tuple[list[bytes], int]:
    """OpenRouter's stream (charmbracelet/fantasy cassettes): a comment first; the role
    on every delta; reasoning as ``reasoning`` plus ``reasoning_details``; a finish chunk
    with ``reasoning: null``, then a second one carrying the usage; no ``choices: []``."""
    ch = _Chunker(dialect, plan, chat_id)
    events: list[bytes] = [OPENROUTER_COMMENT]
    tail: list[bytes] = []
    last = len(plan.choices) - 1
    for ci, choice in enumerate(plan.choices):
        reasoning, content = _pieces(choice, plan)
        for piece in reasoning:
            text = _dumps(piece).encode()
            details = _dumps(_reasoning_details(piece)).encode()
            delta = (
                b'{"content":"","role":"assistant","reasoning":'
                + text
                + b',"reasoning_details":'
                + details
                + b"}"
            )
            events.append(ch.event(ci, delta))
        for piece in content:
            delta = b'{"content":' + _dumps(piece).encode() + b',"role":"assistant"}'
            events.append(ch.event(ci, delta))
        events.extend(
            _tool_call_events(ch, ci, choice, plan, b'"content":null,"role":"assistant",')
        )
        fin = choice.finish_reason
        tail.append(ch.event(ci, b'{"content":"","role":"assistant","reasoning":null}', fin))
        finish = ch.event(ci, b'{"content":"","role":"assistant"}', fin)
        if ci == last and plan.usage is not None:
            finish = finish[: -len(ch.tail)] + b'],"usage":' + _dumps(plan.usage).encode()
            finish += b"}\n\n"
        tail.append(finish)
    body_count = len(events)
    events.extend(tail)
    events.append(DONE)
    return events, body_count


def _with_finish(event: bytes, finish: str) -> bytes:
    marker = b',"finish_reason":null}'
    pos = event.rfind(marker)
    if pos < 0:
        return event
    return (
        event[:pos]
        + b',"finish_reason":'
        + _dumps(finish).encode()
        + b"}"
        + event[pos + len(marker) :]
    )


def _tool_call_events(
    ch: _Chunker, ci: int, choice: Choice, plan: Plan, lead: bytes = b""
) -> list[bytes]:
    calls = choice.tool_calls
    if not calls:
        return []
    out: list[bytes] = []
    if plan.tool_call_index == "omit":
        # Recorded Kimi quirk: all calls arrive together, the first without an index.
        items = [
            {"index": i, **_call_object(tc)} if i else _call_object(tc)
            for i, tc in enumerate(calls)
        ]
        out.append(ch.event(ci, b"{" + lead + _dumps({"tool_calls": items}).encode()[1:]))
        return out
    if plan.tool_call_index == "zero":
        # Gateways that number every call 0: each call arrives whole, in its own delta.
        for tc in calls:
            item = {"index": 0, **_call_object(tc)}
            out.append(ch.event(ci, b"{" + lead + _dumps({"tool_calls": [item]}).encode()[1:]))
        return out
    for index, tc in enumerate(calls):
        first = {"tool_calls": [{"index": index, **_call_object(tc, "")}]}
        out.append(ch.event(ci, b"{" + lead + _dumps(first).encode()[1:]))
        prefix = (
            b"{"
            + lead
            + b'"tool_calls":[{"index":'
            + str(index).encode()
            + b',"function":{"arguments":'
        )
        for frag in split_text(tc.arguments, plan.args_chunk):
            out.append(ch.event(ci, prefix + _dumps(frag).encode() + b"}}]}"))
    return out


def sse_error_event(dialect: Dialect, err: ApiError, trace_id: str) -> bytes:
    """An ``{"error": ...}`` event inside a stream, in the dialect's error shape."""
    _, body = error_response(dialect, err, trace_id)
    return b"data: " + _dumps(body).encode() + b"\n\n"


def as_json_bytes(body: Any) -> bytes:
    return _dumps(body).encode()


def random_file_id() -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    raw = os.urandom(20)
    return "".join(alphabet[b % len(alphabet)] for b in raw)
