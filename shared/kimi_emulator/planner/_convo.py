"""The responder's view of a request: the conversation, the tools, the format asked for.

:class:`Request` is what the responder reads, built once per request from the rules'
``ChatCall`` (in ``_responder.py``, the one place that reads it). :func:`read_conversation`
reads the parts that matter: the leading system messages, the user's current request,
the few user messages before it (for follow-ups such as "And in Berlin?"), and the calls
made since the request with their results; a long history in between costs nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# The rules' reading of message content, so that both count and read the same text.
from .._rules import _content_text as text_of

__all__ = ["Conversation", "Request", "Step", "Tool", "read_conversation", "text_of"]

#: Output tools by name: pydantic-ai's default (``final_result``) and common spellings.
_OUTPUT_NAMES = frozenset({"final_result", "final_answer", "final_output", "structured_output"})
_OUTPUT_TOOL_RE = re.compile(r"^[A-Z][A-Za-z0-9]*$")
#: A description that says the tool carries the final answer (pydantic-ai's output tool:
#: ``final_result``, "The final response which ends this conversation").
_OUTPUT_DESC_RE = re.compile(r"\bfinal (?:response|answer|result|output)\b", re.IGNORECASE)
#: Earlier user messages kept for follow-ups.
MAX_EARLIER = 4
#: Calls since the request that are read (a longer run is answered).
MAX_STEPS = 64


@dataclass(frozen=True)
class Tool:
    """A function the client offers."""

    name: str
    description: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_output(self) -> bool:
        """A tool named like a class (``Weather``, ``Person``: LangChain's ToolStrategy,
        ``with_structured_output``, LlamaIndex's programs, instructor), named as the final
        result or described as the final answer (pydantic-ai's ``final_result``, "The final
        response which ends this conversation"): the structured answer itself, called last,
        with the answer as arguments."""
        return bool(
            _OUTPUT_TOOL_RE.match(self.name)
            or self.name.lower() in _OUTPUT_NAMES
            or _OUTPUT_DESC_RE.search(self.description)
        )

    @classmethod
    def from_function(cls, fn: Mapping[str, Any]) -> Tool:
        params = fn.get("parameters")
        return cls(
            str(fn.get("name") or ""),
            str(fn.get("description") or ""),
            params if isinstance(params, Mapping) else {},
        )


@dataclass
class Request:
    """What the responder reads of one validated chat request."""

    messages: Sequence[Mapping[str, Any]]
    thinking: bool = False
    tools: list[Tool] = field(default_factory=list)
    builtins: Sequence[str] = ()
    tool_choice: Any = None
    parallel: bool = True
    response_format: str = "text"
    json_schema: Mapping[str, Any] | None = None
    partial: str | None = None

    @property
    def forced(self) -> str | None:
        """The function ``tool_choice`` names, if any."""
        choice = self.tool_choice
        if isinstance(choice, Mapping):
            fn = choice.get("function")
            if isinstance(fn, Mapping) and isinstance(fn.get("name"), str):
                return str(fn["name"])
        return None


@dataclass
class Step:
    """A call made since the user's request, and what it returned."""

    name: str
    args: dict[str, Any]
    result: str | None = None
    #: The arguments were not a JSON object: the call counts as made, whatever it meant.
    malformed: bool = False


@dataclass
class Conversation:
    request: str = ""
    #: Earlier user messages, latest first.
    earlier: list[str] = field(default_factory=list)
    system: str = ""
    steps: list[Step] = field(default_factory=list)
    #: Whether the conversation ends with tool results.
    ends_with_results: bool = False
    #: Assistant tool-call turns since the request.
    turns: int = 0

    @property
    def results(self) -> list[Step]:
        return [s for s in self.steps if s.result is not None]


def _args(raw: Any) -> dict[str, Any] | None:
    """The arguments of a call (None: not a JSON object)."""
    if isinstance(raw, Mapping):
        return dict(raw)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError:
            return None
        return dict(value) if isinstance(value, Mapping) else None
    return None


def read_conversation(messages: Sequence[Mapping[str, Any]], partial: str | None) -> Conversation:
    """The conversation's parts (the partial prefix, if any, left out)."""
    msgs = messages[:-1] if partial is not None and messages else messages
    conv = Conversation()
    # The leading system messages, the last user message and what follows it: the work
    # does not grow with a long history in between.
    systems: list[str] = []
    for msg in msgs[:8]:
        if msg.get("role") != "system":
            break
        systems.append(text_of(msg.get("content")))
    conv.system = "\n".join(systems)
    last_user = -1
    for i in range(len(msgs) - 1, -1, -1):
        if msgs[i].get("role") == "user":
            last_user = i
            break
    if last_user >= 0:
        conv.request = text_of(msgs[last_user].get("content"))
        for i in range(last_user - 1, -1, -1):
            if msgs[i].get("role") == "user":
                conv.earlier.append(text_of(msgs[i].get("content")))
                if len(conv.earlier) >= MAX_EARLIER:
                    break
    else:
        conv.request = conv.system
    by_id: dict[str, Step] = {}
    pending: list[Step] = []
    for msg in msgs[last_user + 1 :]:
        role = msg.get("role")
        if role == "assistant":
            calls = msg.get("tool_calls") or ()
            if calls:
                conv.turns += 1
            for tc in calls:
                if not isinstance(tc, Mapping) or len(conv.steps) >= MAX_STEPS:
                    continue
                fn = tc.get("function") or {}
                args = _args(fn.get("arguments"))
                step = Step(str(fn.get("name") or ""), args or {}, malformed=args is None)
                conv.steps.append(step)
                pending.append(step)
                by_id[str(tc.get("id"))] = step
        elif role == "tool":
            found = by_id.get(str(msg.get("tool_call_id")))
            if found is None or found.result is not None:
                found = next((s for s in pending if s.result is None), None)
            if found is not None:
                found.result = text_of(msg.get("content"))
    conv.ends_with_results = bool(msgs) and msgs[-1].get("role") == "tool"
    return conv
