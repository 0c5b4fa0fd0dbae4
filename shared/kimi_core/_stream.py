"""Stream assembly: normalise each streamed chunk, and accumulate the final message.

Both adapters use :class:`StreamAccumulator`. :meth:`~StreamAccumulator.add` fixes
each chunk in place, so an adapter can build its framework's chunk straight from it:

- reasoning is always in ``delta["reasoning_content"]`` (a provider's ``reasoning``
  is moved there; when a provider sends both, it is counted once);
- every tool-call delta has an ``index``, merged by index, or by id / position when the
  provider leaves the index out, parallel calls kept apart (and a new id arriving under
  a used index opens a new call);
- usage is taken from wherever it comes (the final choice, a trailing ``choices: []``
  chunk, or both) and kept once, in :attr:`~StreamAccumulator.usage`; adapters emit it
  once, at the end.

:meth:`~StreamAccumulator.completion` returns the whole response in the shape of a
non-streamed one.

Shapes are checked on the way, with plain ``isinstance`` tests (no model per chunk):
a chunk or a completion whose ``choices``, choice, ``delta`` / ``message``, content,
reasoning or tool calls are not what the protocol says raises :class:`MalformedChunkError`
naming where, before anything of that chunk is recorded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypedDict

__all__ = [
    "MalformedChunkError",
    "StreamAccumulator",
    "Usage",
    "first_usable_choice",
    "normalize_completion",
    "usage_of",
]


class MalformedChunkError(ValueError):
    """A chunk or a completion whose shape is not a chat completion's (the message says
    where). The transport turns it into a :class:`kimi_core.StreamError`."""


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _bad(where: str, value: Any, wanted: str) -> MalformedChunkError:
    return MalformedChunkError(f"{where} is {_kind(value)}, not {wanted}")


def _text(value: Any, where: str) -> None:
    if value is not None and not isinstance(value, str):
        raise _bad(where, value, "a string")


def _check_calls(calls: Any, where: str) -> None:
    """Tool calls (whole or deltas): a list of objects whose ``function`` is an object
    with a string ``name``; ``arguments`` given as an object are turned into their JSON
    text (some gateways send them so), other types are refused."""
    if not isinstance(calls, list):
        raise _bad(where, calls, "a list")
    for i, tc in enumerate(calls):
        at = f"{where}[{i}]"
        if not isinstance(tc, dict):
            raise _bad(at, tc, "an object")
        index = tc.get("index")
        if index is not None and (not isinstance(index, int) or isinstance(index, bool)):
            raise _bad(f"{at}.index", index, "an integer")
        _text(tc.get("id"), f"{at}.id")
        _text(tc.get("type"), f"{at}.type")
        fn = tc.get("function")
        if fn is None:
            continue
        if not isinstance(fn, dict):
            raise _bad(f"{at}.function", fn, "an object")
        _text(fn.get("name"), f"{at}.function.name")
        args = fn.get("arguments")
        if isinstance(args, (dict, list)):
            fn["arguments"] = json.dumps(args, ensure_ascii=False)
        elif args is not None and not isinstance(args, str):
            raise _bad(f"{at}.function.arguments", args, "a string")


#: Delta and message fields that must be text when present.
_TEXT_FIELDS = frozenset({"content", "reasoning_content", "reasoning", "role"})


def _check_choices(choices: Any, where: str, field: str) -> None:
    """``choices`` is a list of objects with an integer ``index``, a text
    ``finish_reason``, an object ``usage`` and, for a chunk (``field`` "delta"), a delta
    whose text fields are text. Plain type tests; a path is built only for an error."""
    if choices.__class__ is not list:
        raise _bad(where, choices, "a list")
    for i, choice in enumerate(choices):
        if choice.__class__ is not dict:
            raise _bad(f"{where}[{i}]", choice, "an object")
        index = choice.get("index")
        if index is not None and index.__class__ is not int:
            raise _bad(f"{where}[{i}].index", index, "an integer")
        value = choice.get("finish_reason")
        if value is not None and value.__class__ is not str:
            raise _bad(f"{where}[{i}].finish_reason", value, "a string")
        value = choice.get("usage")
        if value is not None and value.__class__ is not dict:
            raise _bad(f"{where}[{i}].usage", value, "an object")
        if field != "delta":
            continue
        delta = choice.get("delta")
        if not delta:
            continue
        if delta.__class__ is not dict:
            raise _bad(f"{where}[{i}].delta", delta, "an object")
        for key, value in delta.items():
            if value is None:
                continue
            if key in _TEXT_FIELDS:
                if value.__class__ is not str:
                    raise _bad(f"{where}[{i}].delta.{key}", value, "a string")
            elif key == "tool_calls":
                _check_calls(value, f"{where}[{i}].delta.tool_calls")


def _check_message(msg: Any, where: str) -> None:
    if not isinstance(msg, dict):
        raise _bad(where, msg, "an object")
    content = msg.get("content")
    if isinstance(content, list):
        for j, part in enumerate(content):
            if not isinstance(part, (str, dict)):
                raise _bad(f"{where}.content[{j}]", part, "a string or an object")
    elif content is not None and not isinstance(content, str):
        raise _bad(f"{where}.content", content, "a string or a list of parts")
    for key in ("reasoning_content", "reasoning", "role", "name"):
        _text(msg.get(key), f"{where}.{key}")
    calls = msg.get("tool_calls")
    if calls is not None:
        _check_calls(calls, f"{where}.tool_calls")


class Usage(TypedDict):
    """Token counts, counted once, whichever way the provider reported them.

    ``cached_tokens`` and ``reasoning_tokens`` are ``None`` when the provider did not
    count them: its details object came without the count (AceData sends
    ``completion_tokens_details: {}``, Moonshot does too in some kimi-k3 streams). A
    details object left out altogether means zero, as Moonshot leaves out what it did
    not use (nothing cached, no thinking; docs/kimi-platform.md §6).
    """

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cached_tokens: int | None
    reasoning_tokens: int | None


def usage_of(raw: Mapping[str, Any] | None) -> Usage | None:
    """Normalised token counts from a usage object of any provider.

    Cached tokens come from the top-level ``cached_tokens`` (Moonshot) or
    ``prompt_tokens_details.cached_tokens`` (OpenAI style); reasoning tokens from
    ``completion_tokens_details.reasoning_tokens``. See :class:`Usage` for ``None``.
    """
    if not raw:
        return None
    prompt = _int(raw.get("prompt_tokens"))
    completion = _int(raw.get("completion_tokens"))
    total = _int(raw.get("total_tokens")) or prompt + completion
    cached = _count(raw, "prompt_tokens_details", "cached_tokens")
    if "cached_tokens" in raw:
        cached = _int(raw["cached_tokens"]) or cached or 0
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=total,
        cached_tokens=cached,
        reasoning_tokens=_count(raw, "completion_tokens_details", "reasoning_tokens"),
    )


def _count(raw: Mapping[str, Any], details: str, key: str) -> int | None:
    """``raw[details][key]``: 0 without a details object, ``None`` if it lacks the count."""
    found = raw.get(details)
    if not isinstance(found, Mapping):
        return 0
    if key not in found:
        return None
    return _int(found[key])


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class _ToolCalls:
    """Tool-call state of one choice: indexes, ids, and argument fragments."""

    __slots__ = ("alias", "by_id", "calls", "last")

    def __init__(self) -> None:
        self.calls: dict[int, dict[str, Any]] = {}
        self.by_id: dict[str, int] = {}
        self.alias: dict[int, int] = {}  # provider index -> our index, when they differ
        self.last = -1

    def place(self, tc: dict[str, Any], position: int, count: int) -> int:
        """The index a tool-call delta belongs to (written back into the delta)."""
        given = tc.get("index")
        tid = tc.get("id")
        if isinstance(given, int) and not isinstance(given, bool):
            index = self.alias.get(given, given)
            existing = self.calls.get(index)
            if tid and existing is not None and existing["id"] and existing["id"] != tid:
                # A new call under an index already used (gateways that send 0 for every
                # call): keep the calls apart, and send later fragments to the new one.
                index = self.by_id.get(tid, self._next())
                self.alias[given] = index
        elif tid and tid in self.by_id:
            index = self.by_id[tid]
        elif tid or (tc.get("function") or {}).get("name"):
            index = self._next()
        elif count > 1 and position in self.calls:
            index = position
        else:
            index = self.last if self.last >= 0 else 0
        tc["index"] = index
        return index

    def _next(self) -> int:
        return max(self.calls, default=-1) + 1

    def add(self, tc: dict[str, Any], position: int, count: int) -> None:
        index = self.place(tc, position, count)
        call = self.calls.get(index)
        fn = tc.get("function") or {}
        if call is None:
            call = {"id": None, "type": "function", "name": None, "args": []}
            self.calls[index] = call
        tid = tc.get("id")
        if tid and not call["id"]:
            call["id"] = tid
            self.by_id[tid] = index
        if tc.get("type"):
            call["type"] = tc["type"]
        name = fn.get("name")
        if name and not call["name"]:
            call["name"] = name
        args = fn.get("arguments")
        if args:
            call["args"].append(args)
        self.last = index

    def result(self) -> list[dict[str, Any]]:
        return [
            {
                "id": c["id"] or "",
                "type": c["type"],
                "function": {"name": c["name"] or "", "arguments": "".join(c["args"])},
            }
            for _, c in sorted(self.calls.items())
        ]


class _Choice:
    __slots__ = ("content", "finish_reason", "reasoning", "role", "tools")

    def __init__(self) -> None:
        self.content: list[str] = []
        self.reasoning: list[str] = []
        self.tools: _ToolCalls | None = None
        self.finish_reason: str | None = None
        self.role = "assistant"


class StreamAccumulator:
    """Turns streamed chunks into the final message (for every choice)."""

    def __init__(self) -> None:
        self.id: str | None = None
        self.model: str | None = None
        self.created: int | None = None
        self.system_fingerprint: str | None = None
        self.choices: dict[int, _Choice] = {}
        self.raw_usage: dict[str, Any] | None = None
        self.events = 0

    def add(self, chunk: dict[str, Any]) -> dict[str, Any]:
        """Normalise ``chunk`` in place (see the module doc), record it, return it.

        Raises :class:`MalformedChunkError` (recording nothing of the chunk) when its
        shape is not a chat completion chunk's. Each field is checked where it is read,
        before anything is recorded; a chunk of several choices is checked whole first.
        """
        choices = chunk.get("choices")
        if choices.__class__ is list and len(choices) == 1 and self.id is not None:
            # The usual chunk, most of a stream: one choice, a delta of text and nothing
            # else (no usage, no finish, no fingerprint); checked as the full path would.
            choice = choices[0]
            if choice.__class__ is dict and choice.get("finish_reason") is None:
                delta = choice.get("delta")
                index = choice.get("index")
                if (
                    delta.__class__ is dict
                    and len(delta) == 1
                    and (index == 0 and index.__class__ is int)
                    and "usage" not in choice
                    and "usage" not in chunk
                    and "system_fingerprint" not in chunk
                ):
                    text = delta.get("content")
                    state = self.choices.get(0)
                    if text.__class__ is str and state is not None:
                        if text:
                            state.content.append(text)
                        self.events += 1
                        return chunk
        usage = chunk.get("usage")
        if usage is not None and usage.__class__ is not dict:
            raise _bad("usage", usage, "an object")
        choice_usage = None
        if choices:
            if choices.__class__ is not list or len(choices) > 1:
                _check_choices(choices, "choices", "delta")
            for choice in choices:
                choice_usage = self._add_choice(choice) or choice_usage
        self.events += 1
        if self.id is None:
            self.id = _str(chunk.get("id"))
            self.model = _str(chunk.get("model"))
            created = chunk.get("created")
            self.created = created if isinstance(created, int) else None
        fingerprint = chunk.get("system_fingerprint")
        if fingerprint and isinstance(fingerprint, str):
            self.system_fingerprint = fingerprint
        # Moonshot puts usage inside the final choice; it wins over a top-level one.
        if choice_usage:
            self.raw_usage = choice_usage
        elif usage:
            self.raw_usage = usage
        return chunk

    def _add_choice(self, choice: Any) -> dict[str, Any] | None:
        """Check one choice of a chunk, then record it; its usage object, if any."""
        if choice.__class__ is not dict:
            raise _bad("choices[0]", choice, "an object")
        index = choice.get("index")
        if index is None:
            index = 0
        elif index.__class__ is not int:
            raise _bad("choices[0].index", index, "an integer")
        finish = choice.get("finish_reason")
        if finish is not None and finish.__class__ is not str:
            raise _bad("choices[0].finish_reason", finish, "a string")
        usage = choice.get("usage")
        if usage is not None and usage.__class__ is not dict:
            raise _bad("choices[0].usage", usage, "an object")
        delta = choice.get("delta")
        reasoning = content = calls = role = None
        if delta:
            if delta.__class__ is not dict:
                raise _bad("choices[0].delta", delta, "an object")
            if "reasoning" in delta:
                text = delta["reasoning"]
                if text is not None and text.__class__ is not str:
                    raise _bad("choices[0].delta.reasoning", text, "a string")
                del delta["reasoning"]
                # Gateways pad the other field with null or "": keep the text once.
                if text and not delta.get("reasoning_content"):
                    delta["reasoning_content"] = text
            reasoning = delta.get("reasoning_content")
            content = delta.get("content")
            role = delta.get("role")
            if content is not None and content.__class__ is not str:
                raise _bad("choices[0].delta.content", content, "a string")
            if reasoning is not None and reasoning.__class__ is not str:
                raise _bad("choices[0].delta.reasoning_content", reasoning, "a string")
            if role is not None and role.__class__ is not str:
                raise _bad("choices[0].delta.role", role, "a string")
            calls = delta.get("tool_calls")
            if calls is not None:
                _check_calls(calls, "choices[0].delta.tool_calls")
        state = self.choices.get(index)
        if state is None:
            state = self.choices[index] = _Choice()
        if reasoning:
            state.reasoning.append(reasoning)
        if content:
            state.content.append(content)
        if calls:
            tools = state.tools
            if tools is None:
                tools = state.tools = _ToolCalls()
            count = len(calls)
            for position, tc in enumerate(calls):
                tools.add(tc, position, count)
        if role:
            state.role = role
        if finish:
            state.finish_reason = finish
        return usage or None

    @property
    def finished(self) -> bool:
        """Whether every choice seen so far has a finish_reason."""
        return bool(self.choices) and all(c.finish_reason for c in self.choices.values())

    @property
    def usage(self) -> Usage | None:
        """Token counts, taken once (the last usage object seen)."""
        return usage_of(self.raw_usage)

    def tool_calls(self, index: int = 0) -> list[dict[str, Any]]:
        """The tool calls of one choice so far (arguments as received until now)."""
        state = self.choices.get(index)
        if state is None or state.tools is None:
            return []
        return state.tools.result()

    def message(self, index: int = 0) -> dict[str, Any]:
        """The assembled assistant message of one choice."""
        state = self.choices.get(index) or _Choice()
        msg: dict[str, Any] = {"role": state.role, "content": "".join(state.content)}
        if state.reasoning:
            msg["reasoning_content"] = "".join(state.reasoning)
        if state.tools is not None and state.tools.calls:
            msg["tool_calls"] = state.tools.result()
        return msg

    def completion(self) -> dict[str, Any]:
        """Everything received, in the shape of a non-streamed chat completion."""
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": self.system_fingerprint,
            "choices": [
                {
                    "index": i,
                    "message": self.message(i),
                    "finish_reason": self.choices[i].finish_reason,
                }
                for i in sorted(self.choices)
            ],
            "usage": self.raw_usage,
        }


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def first_usable_choice(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The first choice of a (checked) completion that carries a message, if any."""
    for choice in body.get("choices") or ():
        if isinstance(choice, dict) and isinstance(choice.get("message"), dict):
            return choice
    return None


def normalize_completion(body: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise a non-streamed completion in place: reasoning in
    ``reasoning_content`` (once), usage from the top level or a choice, ``tool_calls:
    []`` dropped. Raises :class:`MalformedChunkError` for a shape that is not a completion's
    (``choices`` must be a list of objects, each ``message`` an object with text
    content, text reasoning and a list of tool calls)."""
    choices = body.get("choices")
    if choices is not None:
        _check_choices(choices, "choices", "message")
    usage = body.get("usage")
    if usage is not None and not isinstance(usage, dict):
        raise _bad("usage", usage, "an object")
    for i, choice in enumerate(choices or ()):
        msg = choice.get("message")
        if msg is None:
            continue
        _check_message(msg, f"choices[{i}].message")
        if "reasoning" in msg:
            text = msg.pop("reasoning")
            if not msg.get("reasoning_content") and text:
                msg["reasoning_content"] = text
        if "tool_calls" in msg and not msg["tool_calls"]:
            del msg["tool_calls"]
        if not body.get("usage") and choice.get("usage"):
            body["usage"] = choice["usage"]
    return body
