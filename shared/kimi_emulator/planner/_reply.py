"""What the responder answers: a tool plan's next calls, or the final answer in the
format asked for (prose, ``response_format`` JSON, JSON asked for in the prompt, the
ReAct text format, a partial prefix continued).

Pure functions of a :class:`~._convo.Request`; ``_responder.py`` turns the
:class:`Reply` into the wire's choice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._answer import (
    missing_answer,
    plain_answer,
    plan_note,
    reasoning_text,
    results_answer,
)
from ._convo import Conversation, Request, Tool, read_conversation
from ._extract import Facts, read_text, snippet, split_name
from ._filler import Filler
from ._jsonprompt import asks_for_json, embedded_schema, named_keys
from ._lexicon import words_of
from ._partial import continue_json, opens_json, prefix_keys
from ._planner import Decision, Planner
from ._react import is_react, read_react, render_action, render_answer
from ._schema import MISSING

__all__ = ["Reply", "reply_to"]

_NUMERIC_KEYS = words_of(
    "age count number total amount population price cost temperature temp year score "
    "rating quantity size celsius fahrenheit"
)


@dataclass
class Reply:
    content: str | None = None
    #: What a thinking model reasons before answering (used when the request thinks).
    reasoning: str = ""
    #: ``(name, arguments JSON)`` of the tool calls to make.
    calls: list[tuple[str, str]] = field(default_factory=list)


def reply_to(req: Request) -> Reply:
    """The deterministic reply to one request."""
    conv = read_conversation(req.messages, req.partial)
    last = conv.steps[-1] if conv.steps else None
    if conv.ends_with_results and last is not None and last.name == "$web_search":
        return Reply(
            f'Here is what the web search found for "{snippet(conv.request)}" '
            "(emulated: no web access).",
            _reason(conv, "The search results are in; I will answer with them."),
        )
    if "$web_search" in req.builtins and req.tool_choice != "none":
        return Reply(
            None,
            _reason(conv, "I should search the web first."),
            [("$web_search", _web_search_args(conv.request))],
        )
    if not req.tools and req.partial is None:
        react = _react(req)
        if react is not None:
            return react
    if req.tools and req.tool_choice != "none" and req.partial is None:
        return _with_tools(req, conv)
    return _final(req, conv, None, None)


def _reason(conv: Conversation, note: str) -> str:
    return reasoning_text(conv.request, note)


def _web_search_args(text: str) -> str:
    digest = hashlib.sha1(text.encode()).hexdigest()[:16]
    tokens = len(text.split())
    return json.dumps(
        {"search_result": {"search_id": f"ws-{digest}"}, "usage": {"total_tokens": 30 + tokens}}
    )


# --------------------------------------------------------------------------- tools


def _call(tool: Tool, args: Mapping[str, Any]) -> tuple[str, str]:
    return tool.name, json.dumps(args, ensure_ascii=False)


def _with_tools(req: Request, conv: Conversation) -> Reply:
    planner = Planner(conv, req.tools, parallel=req.parallel)
    decision = planner.decide()
    forced = req.forced
    if forced is not None:
        tool = next(t for t in req.tools if t.name == forced)
        planned = next((c for c in decision.calls if c.name == forced), None)
        args = planned.args if planned is not None else _fill_call(tool, planner, conv)
        note = f"The request names {forced}; I will call it with what the conversation gives."
        return Reply(None, _reason(conv, note), [_call(tool, args)])
    if decision.calls:
        calls = [(c.name, json.dumps(c.args, ensure_ascii=False)) for c in decision.calls]
        return Reply(None, _reason(conv, plan_note(decision, answered=False)), calls)
    output = _output_tool(req, conv)
    if output is not None:
        note = f"Every part is answered; I will give the answer through {output.name}."
        return Reply(None, _reason(conv, note), [_call(output, _fill_call(output, planner, conv))])
    if req.tool_choice == "required":
        # A call is required and nothing is left to do: a tool not called yet (the
        # output tool, in a framework's terms), else the best one.
        called = {s.name for s in conv.steps}
        fresh = [t for t in req.tools if t.name not in called]
        tool = fresh[0] if len(fresh) == 1 else planner.best_tool() or req.tools[0]
        note = f"A tool call is required; {tool.name} fits the request best."
        return Reply(None, _reason(conv, note), [_call(tool, _fill_call(tool, planner, conv))])
    return _final(req, conv, planner, decision)


def _output_tool(req: Request, conv: Conversation) -> Tool | None:
    """The tool that carries the answer: one named like a class or as the final result,
    or one whose parameters are the requested ``json_schema``."""
    for tool in req.tools:
        if tool.is_output:
            return tool
    if req.json_schema is not None:
        wanted = json.dumps(req.json_schema, sort_keys=True)
        for tool in req.tools:
            if json.dumps(tool.params, sort_keys=True) == wanted:
                return tool
    return None


def _fill_call(tool: Tool, planner: Planner, conv: Conversation) -> Any:
    """Arguments for a call the model must make (forced, or the structured answer):
    from every fact, with valid stand-ins where nothing speaks."""
    pools = planner.answer_pools()
    if tool.is_output and planner.results:
        # The answer carries what the calls found: their results first (the newest
        # first), then the request and the calls' arguments.
        results = [facts for _, facts in reversed(planner.results)]
        pools = results + [p for p in pools if all(p is not r for r in results)]
    filler = Filler(pools, tool.params, fallback=conv.request)
    return filler.obj(tool.params, everything=tool.is_output)


# --------------------------------------------------------------------------- final answers


def _final(
    req: Request, conv: Conversation, planner: Planner | None, decision: Decision | None
) -> Reply:
    texts = [conv.system, conv.request]
    answered = bool(conv.results)

    def pools() -> list[Facts]:
        # Read only for a JSON answer: a plain reply needs no facts.
        return planner.answer_pools() if planner is not None else [read_text(conv.request)]

    if req.partial is not None:
        return _partial(req, conv, pools(), texts)
    asks = req.response_format == "json_object" or asks_for_json(texts)
    schema = _answer_schema(req, texts, asks)
    if schema is not None:
        value = _json_value(schema, pools(), conv)
        note = plan_note(decision, answered=answered) if answered else ""
        return Reply(
            json.dumps(value, ensure_ascii=False),
            _reason(conv, f"{note} I will answer with JSON that follows the schema.".strip()),
        )
    prose = _prose(conv, decision)
    if asks:
        keys = named_keys(texts)
        value = _keyed(keys, pools(), conv) if keys else {"answer": prose}
        return Reply(
            json.dumps(value, ensure_ascii=False),
            _reason(conv, "I will answer with a JSON object."),
        )
    return Reply(prose, _reason(conv, plan_note(decision, answered=answered)))


def _prose(conv: Conversation, decision: Decision | None) -> str:
    if conv.results:
        missing = decision.missing if decision is not None else ()
        return results_answer(conv.request, conv.steps, missing)
    if decision is not None and decision.missing:
        return missing_answer(conv.request, decision.missing)
    return plain_answer(conv.request)


def _answer_schema(req: Request, texts: Sequence[str], asks: bool) -> Mapping[str, Any] | None:
    """The schema the answer follows: ``json_schema``'s, else one shown in a prompt that
    asks for JSON (``asks``)."""
    if req.response_format == "json_schema" and req.json_schema is not None:
        return req.json_schema
    return embedded_schema(texts) if asks else None


def _json_value(schema: Mapping[str, Any], pools: Sequence[Facts], conv: Conversation) -> Any:
    filler = Filler(pools, schema, fallback=conv.request)
    if "properties" in schema or schema.get("type") == "object":
        return filler.obj(schema)
    value = filler.value(schema, "")
    return filler.stand_in(schema, "") if value is MISSING else value


def _keyed(keys: Sequence[str], pools: Sequence[Facts], conv: Conversation) -> dict[str, Any]:
    """JSON with the keys the prompt names, each filled by its name."""
    props: dict[str, Any] = {}
    for key in keys:
        numeric = bool(set(split_name(key)) & _NUMERIC_KEYS)
        props[key] = {"type": "number" if numeric else "string"}
    schema = {"type": "object", "properties": props, "required": list(keys)}
    strict = Filler(pools, schema, strict=False, fallback=conv.request)
    out: dict[str, Any] = {}
    for key in keys:
        value = strict.value(props[key], key)
        if value is MISSING or value is None:
            value = strict.value({"type": "string"}, key)
        if value is MISSING or value is None:
            value = f"{key} for: {snippet(conv.request, 60)}"
        out[key] = value
    return out


def _partial(
    req: Request, conv: Conversation, pools: Sequence[Facts], texts: Sequence[str]
) -> Reply:
    prefix = req.partial or ""
    note = "I will continue the given prefix."
    if opens_json(prefix):
        schema = _answer_schema(req, texts, asks=True)
        planned: Any
        if schema is not None:
            planned = _json_value(schema, pools, conv)
        else:
            # The keys the prompt names, and those the prefix has begun.
            keys = list(dict.fromkeys([*named_keys(texts), *prefix_keys(prefix)]))
            planned = _keyed(keys, pools, conv) if keys else {"answer": _prose(conv, None)}
        if not isinstance(planned, Mapping):
            planned = {"answer": planned}
        cont = continue_json(prefix, planned)
        if cont is None:
            cont = continue_json(prefix, {}) or ""
        return Reply(cont, _reason(conv, f"{note} The prefix opens JSON; I will complete it."))
    answer = _prose(conv, None)
    if not prefix.strip():
        return Reply(answer, _reason(conv, note))
    return Reply(
        " … (the Kimi emulator continues your text here; it is a stand-in, not a model).",
        _reason(conv, note),
    )


# --------------------------------------------------------------------------- ReAct


def _react(req: Request) -> Reply | None:
    if not any(is_react(_head(m)) for m in req.messages[:2]):
        return None
    found = read_react(req.messages)
    if found is None:
        return None
    prompt, earlier = found
    conv = prompt.conversation(earlier)
    planner = Planner(conv, prompt.tools, parallel=False)
    decision = planner.decide()
    if decision.calls:
        call = decision.calls[0]
        note = "The prompt asks for the ReAct format: one Action per step. " + plan_note(
            decision, answered=False
        )
        return Reply(render_action(prompt, call.name, call.args), _reason(conv, note))
    answer = _prose(conv, decision)
    note = "The prompt asks for the ReAct format. " + plan_note(
        decision, answered=bool(conv.results)
    )
    return Reply(render_answer(prompt, answer), _reason(conv, note))


def _head(msg: Mapping[str, Any]) -> str:
    content = msg.get("content")
    return content if isinstance(content, str) else ""
