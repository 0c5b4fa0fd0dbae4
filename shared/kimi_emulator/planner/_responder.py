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

The server then applies ``stop`` and ``max_tokens`` (``_responders.apply_limits``), as
for every responder. This module is the only one of the planner that reads the rules'
``ChatCall``.
"""

from __future__ import annotations

from .._responders import ChatRequest, Reply
from ._convo import Request, Tool
from ._reply import reply_to

__all__ = ["PlannerResponder", "respond"]


def _request(call: ChatRequest) -> Request:
    """What the planner reads of a validated request."""
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


def respond(call: ChatRequest) -> Reply:
    """The deterministic answer to a validated chat request."""
    reply = reply_to(_request(call))
    return Reply(
        content=reply.content,
        reasoning=reply.reasoning if call.thinking else None,
        tool_calls=[{"name": name, "arguments": args} for name, args in reply.calls],
    )


class PlannerResponder:
    """The rule-based planner as a responder (``responder="planner"``, the default)."""

    def respond(self, request: ChatRequest) -> Reply:
        return respond(request)
