"""The deterministic responder: what the emulator answers when nothing is scripted.

There is no model here, and the same conversation always gets the same answer. It does
what a careful model would do with the conversation, the tools and their schemas:

- **Tool plans across turns** (``_planner.py``): the calls the request asks for, several
  at once when it names several things (unless ``parallel_tool_calls`` is false); a call
  whose argument comes from an earlier result once that result is in (18 C from
  ``get_weather`` becomes ``celsius_to_fahrenheit(celsius=18)``); follow-ups ("And in
  Berlin?") resolved against the earlier request; arguments from the request, the results
  and the schema (types, enums, defaults), never a made-up number. When every part is
  answered, the answer uses the results (``_answer.py``). A tool named like a class
  (``Weather``) is the structured answer itself and is called last; a forced
  ``tool_choice`` is honoured.
- **Formats at every turn** (``_reply.py``, ``_schema.py``): ``json_schema`` and
  ``json_object`` answers, also after tool results, filled by field name and type (a
  person's name, the age from "30 years old", a city); a prompt that asks for JSON or
  shows a schema gets JSON without ``response_format``.
- **ReAct** (``_react.py``): a prompt in the Thought / Action / Action Input /
  Observation format is answered in it, with the same plan.
- **Partial mode** (``_partial.py``): a JSON prefix is continued into valid JSON with the
  keys the prompt names; a text prefix gets a continuation.
- ``$web_search`` declared: a ``$web_search`` call first, then an answer.
- Reasoning text when the model thinks for this request, saying what the plan does.

Then ``stop`` sequences cut the content and ``max_tokens`` cuts reasoning and content
(finish reason ``length``). This module is the only one that reads the rules'
``ChatCall`` and writes the wire's ``Choice``.
"""

from __future__ import annotations

from ._convo import Request, Tool
from ._reply import reply_to
from ._rules import TOKEN_RE, ChatCall, count_text_tokens
from ._wire import Choice, ToolCall

__all__ = ["completion_tokens", "respond", "truncate_tokens"]


def _request(call: ChatCall) -> Request:
    """What the responder reads of a validated request."""
    return Request(
        messages=call.messages,
        thinking=call.thinking,
        tools=[Tool.from_function(fn) for fn in call.functions],
        builtins=call.builtins,
        tool_choice=call.tool_choice,
        parallel=call.parallel_tool_calls,
        response_format=call.response_format,
        json_schema=call.json_schema,
        partial=call.partial,
    )


def respond(call: ChatCall) -> Choice:
    """The deterministic answer to a validated chat request (one choice)."""
    reply = reply_to(_request(call))
    choice = Choice(content=reply.content)
    if reply.calls:
        choice.tool_calls = [ToolCall(name, args) for name, args in reply.calls]
        choice.finish_reason = "tool_calls"
    if call.thinking:
        choice.reasoning = reply.reasoning
    _apply_limits(call.stop, call.max_tokens, choice)
    return choice


def truncate_tokens(text: str, limit: int) -> str:
    """``text`` cut after ``limit`` tokens (same counting as the usage)."""
    if limit <= 0:
        return ""
    for count, m in enumerate(TOKEN_RE.finditer(text), 1):
        if count == limit:
            return text[: m.end()]
    return text


def _apply_limits(stop: list[str], limit: int | None, choice: Choice) -> None:
    if choice.content and stop:
        cut = min((pos for s in stop if (pos := choice.content.find(s)) >= 0), default=-1)
        if cut >= 0:
            choice.content = choice.content[:cut]
            choice.finish_reason = "stop"
    if limit is None:
        return
    total, r_tokens = completion_tokens(choice)
    if total <= limit:
        return
    choice.finish_reason = "length"
    choice.tool_calls = []
    if r_tokens >= limit:
        choice.reasoning = truncate_tokens(choice.reasoning or "", limit)
        choice.content = ""
        return
    choice.content = truncate_tokens(choice.content or "", limit - r_tokens)


def completion_tokens(choice: Choice) -> tuple[int, int]:
    """``(completion tokens, reasoning tokens)`` of one choice."""
    reasoning = count_text_tokens(choice.reasoning or "")
    content = count_text_tokens(choice.content or "")
    calls = sum(count_text_tokens(tc.arguments) + 1 for tc in choice.tool_calls)
    return reasoning + content + calls, reasoning
