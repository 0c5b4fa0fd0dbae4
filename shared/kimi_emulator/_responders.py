"""Responders: who writes the assistant's message, once the request passed the rules.

A responder is one small protocol: the validated request (:class:`ChatRequest`) in, the
assistant message (:class:`Reply`) or an error (:class:`Rejection`) out. Everything else
is the server's duty, the same for every responder: Kimi's rules and rejections (checked
before the responder is asked), rendering in the dialect's wire shape, usage, ``stop``
and ``max_tokens`` truncation (:func:`apply_limits`), streaming and faults.

Built in (:func:`make_responder` by name):

- ``"planner"``: the deterministic rule-based planner (``kimi_emulator.planner``), the
  default; it guesses tool calls from the conversation and the tools' schemas;
- ``"echo"``: no guessing: quotes the last user message (or the tool results) back and
  never calls a tool;
- ``"scripted"``: only what the test queued (``emu.script(...)``, or the replies given
  to :class:`ScriptedResponder`); an unscripted request is an error that says so;
- ``"recorded"``: answers from recorded traffic (``kimi_emulator._recorded``);
- a callable: :class:`FunctionResponder` (``fn(request) -> Reply | Rejection | str``).

Queued scripts (``emu.script(...)``) answer before any responder.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ._rules import TOKEN_RE, ChatCall, _content_text, count_text_tokens
from ._wire import ApiError, Choice, ToolCall

__all__ = [
    "RESPONDER_NAMES",
    "ChatRequest",
    "EchoResponder",
    "FunctionResponder",
    "RejectedError",
    "Rejection",
    "Reply",
    "Responder",
    "ScriptedResponder",
    "apply_limits",
    "completion_tokens",
    "make_responder",
    "truncate_tokens",
]

#: The validated request a responder reads: ``model``, ``messages``, ``functions`` (the
#: tools' ``function`` objects), ``tool_choice``, ``response_format``, ``json_schema``,
#: ``thinking``, ``stream``, ``max_tokens``, ``stop``, ... (``_rules.ChatCall``).
ChatRequest = ChatCall

#: The responders :func:`make_responder` knows by name.
RESPONDER_NAMES = ("planner", "echo", "scripted", "recorded")


@dataclass(frozen=True)
class Reply:
    """The assistant message a responder answers with.

    ``tool_calls``: ``[{"name": ..., "arguments": dict | str, "id": optional}]`` (ids
    default to the dialect's form). ``finish_reason`` defaults to ``tool_calls`` or
    ``stop``; ``usage`` is a raw usage object sent as given unless ``stop`` or
    ``max_tokens`` cut the message (then it is counted); ``model`` the id the response
    names (default: the requested one).
    """

    content: str | None = None
    reasoning: str | None = None
    tool_calls: Sequence[Mapping[str, Any]] = ()
    finish_reason: str | None = None
    usage: Mapping[str, Any] | None = None
    model: str | None = None


@dataclass(frozen=True)
class Rejection:
    """An error answer: ``status`` with ``message`` in the dialect's error body (of
    Moonshot's ``error_type``), or ``body`` (dict or text) sent as it is."""

    status: int = 400
    message: str = ""
    error_type: str | None = None
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


Answer = Reply | Rejection


@runtime_checkable
class Responder(Protocol):
    """Writes the answer to a request that passed the rules."""

    def respond(self, request: ChatRequest) -> Reply | Rejection: ...


#: Moonshot's error type for a status, when a rejection names none.
_KINDS = {
    401: "invalid_authentication_error",
    403: "permission_denied_error",
    404: "resource_not_found_error",
    429: "rate_limit_reached_error",
}


class RejectedError(ApiError):
    """A :class:`Rejection` on its way to the server (raised while planning)."""

    def __init__(self, rejection: Rejection) -> None:
        kind = rejection.error_type or _KINDS.get(
            rejection.status,
            "server_error" if rejection.status >= 500 else "invalid_request_error",
        )
        super().__init__(rejection.status, kind, rejection.message or f"error {rejection.status}")
        self.body = rejection.body
        self.headers = dict(rejection.headers)


# --------------------------------------------------------------------------- built in


def last_user_text(request: ChatRequest) -> str:
    """The text of the last user message ("" when there is none)."""
    for msg in reversed(request.messages):
        if msg.get("role") == "user":
            return _content_text(msg.get("content"))
    return ""


class EchoResponder:
    """Deterministic, no guessing: the last user message quoted back, or, after tool
    results, the results listed. It never calls a tool; a thinking request gets one
    sentence of reasoning; ``json_object`` gets ``{"echo": ...}``."""

    def respond(self, request: ChatRequest) -> Reply:
        results = []
        for msg in reversed(request.messages):
            if msg.get("role") != "tool":
                break
            results.append(_content_text(msg.get("content")))
        if results:
            text = "Tool results: " + "; ".join(reversed(results))
        else:
            text = f'You said: "{last_user_text(request)}"'
        if request.response_format == "json_object":
            text = json.dumps({"echo": text}, ensure_ascii=False)
        reasoning = "Echoing the request (kimi-emulator echo responder)."
        return Reply(content=text, reasoning=reasoning if request.thinking else None)


FunctionType = Callable[[ChatRequest], Reply | Rejection | str]


class FunctionResponder:
    """A user callable as the responder: ``fn(request)`` returns a :class:`Reply`, a
    :class:`Rejection`, or a string (the content)."""

    def __init__(self, fn: FunctionType) -> None:
        if not callable(fn):
            raise TypeError(f"FunctionResponder needs a callable, got {fn!r}")
        self.fn = fn

    def respond(self, request: ChatRequest) -> Reply | Rejection:
        out = self.fn(request)
        if isinstance(out, str):
            return Reply(content=out)
        if isinstance(out, (Reply, Rejection)):
            return out
        raise TypeError(
            f"the responder function {getattr(self.fn, '__name__', self.fn)!r} returned "
            f"{type(out).__name__}; return a Reply, a Rejection or a str"
        )


class ScriptedResponder:
    """Only scripted answers: the ``replies`` given here, in order (the last one again
    with ``repeat_last=True``), besides the queue of ``emu.script(...)``, which answers
    first. A request with nothing scripted is refused with a message that says so."""

    def __init__(self, replies: Iterable[Reply | Rejection] = (), *, repeat_last: bool = False):
        self._replies = list(replies)
        self._next = 0
        self.repeat_last = repeat_last

    def reset(self) -> None:
        """Start again from the first reply (``emu.reset()`` calls this)."""
        self._next = 0

    def respond(self, request: ChatRequest) -> Reply | Rejection:
        if self._next < len(self._replies):
            self._next += 1
            return self._replies[self._next - 1]
        if self.repeat_last and self._replies:
            return self._replies[-1]
        return Rejection(
            400,
            "kimi-emulator: nothing is scripted for this request (responder 'scripted'): "
            f"queue an answer with emu.script(...) before sending; last user message: "
            f"{last_user_text(request)[:80]!r}",
        )


class _LazyPlanner:
    """The planner, imported when the first request reaches it."""

    def __init__(self) -> None:
        self._planner: Responder | None = None

    def respond(self, request: ChatRequest) -> Reply | Rejection:
        if self._planner is None:
            from .planner import PlannerResponder

            self._planner = PlannerResponder()
        return self._planner.respond(request)

    def __repr__(self) -> str:
        return "PlannerResponder()"


def make_responder(spec: Responder | str | FunctionType | None, **options: Any) -> Responder:
    """A responder from a name (``RESPONDER_NAMES``), a responder, or a callable."""
    if spec is None or spec == "planner":
        return _LazyPlanner()
    if isinstance(spec, str):
        if spec == "echo":
            return EchoResponder()
        if spec == "scripted":
            return ScriptedResponder()
        if spec == "recorded":
            from ._recorded import RecordedResponder

            return RecordedResponder(options.pop("recordings", ()), **options)
        raise ValueError(
            f"responder={spec!r} is unknown; choose one of {', '.join(RESPONDER_NAMES)}, "
            "or pass a Responder or a callable"
        )
    if isinstance(spec, Responder):
        return spec
    if callable(spec):
        return FunctionResponder(spec)
    raise TypeError(f"responder={spec!r}: pass a name, a Responder or a callable")


# --------------------------------------------------------------------------- the server's part


def choice_of(reply: Reply) -> Choice:
    """The wire choice of a reply."""
    calls = []
    for i, tc in enumerate(reply.tool_calls):
        if "name" not in tc:
            raise TypeError(f"Reply.tool_calls[{i}] needs a 'name'")
        args = tc.get("arguments", {})
        if not isinstance(args, str):
            args = json.dumps(args, ensure_ascii=False)
        calls.append(ToolCall(str(tc["name"]), args, str(tc.get("id") or "")))
    return Choice(
        content=reply.content,
        reasoning=reply.reasoning,
        tool_calls=calls,
        finish_reason=reply.finish_reason or ("tool_calls" if calls else "stop"),
    )


def truncate_tokens(text: str, limit: int) -> str:
    """``text`` cut after ``limit`` tokens (same counting as the usage)."""
    if limit <= 0:
        return ""
    for count, m in enumerate(TOKEN_RE.finditer(text), 1):
        if count == limit:
            return text[: m.end()]
    return text


def apply_limits(stop: Sequence[str], limit: int | None, choice: Choice) -> bool:
    """Cut ``choice`` at the first ``stop`` sequence in its content, then to ``limit``
    completion tokens (reasoning first, tool calls dropped, finish ``length``), as the
    server does for every responder. True when something was cut."""
    cut_any = False
    if choice.content and stop:
        cut = min((pos for s in stop if (pos := choice.content.find(s)) >= 0), default=-1)
        if cut >= 0:
            choice.content = choice.content[:cut]
            choice.finish_reason = "stop"
            cut_any = True
    if limit is None:
        return cut_any
    total, r_tokens = completion_tokens(choice)
    if total <= limit:
        return cut_any
    choice.finish_reason = "length"
    choice.tool_calls = []
    if r_tokens >= limit:
        choice.reasoning = truncate_tokens(choice.reasoning or "", limit)
        choice.content = ""
        return True
    choice.content = truncate_tokens(choice.content or "", limit - r_tokens)
    return True


def completion_tokens(choice: Choice) -> tuple[int, int]:
    """``(completion tokens, reasoning tokens)`` of one choice."""
    reasoning = count_text_tokens(choice.reasoning or "")
    content = count_text_tokens(choice.content or "")
    calls = sum(count_text_tokens(tc.arguments) + 1 for tc in choice.tool_calls)
    return reasoning + content + calls, reasoning
