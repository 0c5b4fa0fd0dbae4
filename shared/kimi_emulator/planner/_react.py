"""The ReAct text format: tools described in the prompt, answered in Thought/Action lines.

Two prompt shapes are read:

- LlamaIndex's ``ReActAgent``: the system prompt lists ``> Tool Name: X`` /
  ``Tool Description:`` / ``Tool Args: {json schema}``; each step comes back as an
  assistant message ``Thought/Action/Action Input`` (the input as a Python dict) and a
  user message ``Observation: ...``; the final answer is ``Answer: ...``.
- LangChain's classic ReAct prompt: ``name(signature) - description`` lines, ``Action:
  ... one of [a, b]``, then ``Question: ...`` and a scratchpad of
  ``Action/Action Input/Observation`` lines in the same message; the final answer is
  ``Final Answer: ...``.

The tools found are planned like native tools (one action per step, as the format has
it) and the reply is written in the prompt's own format.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ._convo import Conversation, Step, Tool, text_of

__all__ = ["ReactPrompt", "is_react", "read_react", "render_action", "render_answer"]

_TOOL_NAME_RE = re.compile(r"^>?\s*Tool Name:\s*([A-Za-z_][\w\-]{0,63})\s*$")
# The tool names on the format's Action line: "[a, b]" (LangChain) or "(one of a, b)".
_ONE_OF_RE = re.compile(
    r"^Action:[^\n]{0,200}?one of [\[(]\s*([A-Za-z_][\w\-]*(?:\s*,\s*[A-Za-z_][\w\-]*){0,63})",
    re.MULTILINE,
)
_SIGNATURE_RE = re.compile(
    r"^([A-Za-z_][\w\-]{0,63})(\([^)\n]{0,300}\))?(?:\s*->\s*[\w\[\], ]+)?\s*(?:-|:)\s*(.*)$"
)
_PARAM_RE = re.compile(r"([A-Za-z_]\w*)\s*:\s*([A-Za-z_][\w\[\]., ]*?)(?:\s*=\s*[^,]+)?(?:,|$)")
_PY_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}
_MAX_INPUT = 4000


@dataclass
class ReactPrompt:
    """A ReAct prompt, read: its tools, the question, the steps so far."""

    tools: list[Tool] = field(default_factory=list)
    question: str = ""
    steps: list[Step] = field(default_factory=list)
    #: ``Final Answer`` (LangChain) or ``Answer`` (LlamaIndex).
    answer_word: str = "Answer"

    def conversation(self, earlier: Sequence[str] = ()) -> Conversation:
        return Conversation(
            request=self.question,
            earlier=list(earlier),
            steps=self.steps,
            turns=len(self.steps),
            ends_with_results=bool(self.steps) and self.steps[-1].result is not None,
        )


def _lays_out(text: str) -> bool:
    start = 0 if text.startswith("Action Input:") else text.find("\nAction Input:")
    return start >= 0 and "Thought" in text and text.find("\nObservation:", start) >= 0


_lays_out_cached = lru_cache(maxsize=64)(_lays_out)


def is_react(text: str) -> bool:
    """Whether ``text`` lays out the format: a line that starts ``Action Input:`` and a
    later one that starts ``Observation:`` (a mention in prose is not the format). Cached
    for prompts up to 64 KB: the same system prompt comes with every step."""
    return (_lays_out_cached if len(text) <= 65_536 else _lays_out)(text)


def read_react(messages: Sequence[Mapping[str, Any]]) -> tuple[ReactPrompt, list[str]] | None:
    """The ReAct prompt in these messages, and the earlier questions, or None."""
    texts = [(str(m.get("role")), text_of(m.get("content"))) for m in messages]
    where = next((i for i, (_, t) in enumerate(texts) if is_react(t)), -1)
    if where < 0 or where > 1:
        return None
    head = texts[where][1]
    prompt = ReactPrompt(tools=_tools(head))
    if not prompt.tools:
        return None
    if "Final Answer" in head:
        prompt.answer_word = "Final Answer"
    earlier: list[str] = []
    if texts[where][0] == "system":
        # LlamaIndex: the conversation follows in messages.
        for role, text in texts[where + 1 :]:
            if role == "user" and not text.lstrip().startswith("Observation:"):
                if prompt.question:
                    earlier.insert(0, prompt.question)
                prompt.question = text
                prompt.steps = []
            else:
                _read_steps(text, prompt.steps, prompt.tools)
    else:
        # LangChain classic: question and scratchpad in the prompt itself.
        body = head.rsplit("Begin!", 1)[-1]
        m = re.search(r"Question:\s*(.*?)(?:\nThought:|$)", body, re.DOTALL)
        prompt.question = (m.group(1) if m else body).strip()
        _read_steps(body, prompt.steps, prompt.tools)
        for _, text in texts[where + 1 :]:
            _read_steps(text, prompt.steps, prompt.tools)
    return prompt, earlier


def _tools(head: str) -> list[Tool]:
    lines = head.splitlines()
    tools: list[Tool] = []
    i = 0
    while i < len(lines):
        m = _TOOL_NAME_RE.match(lines[i])
        if m is None:
            i += 1
            continue
        name = m.group(1)
        desc: list[str] = []
        params: Mapping[str, Any] = {}
        i += 1
        while i < len(lines) and not _TOOL_NAME_RE.match(lines[i]):
            line = lines[i]
            if line.startswith("Tool Description:"):
                desc.append(line.split(":", 1)[1].strip())
            elif line.startswith("Tool Args:"):
                params = _schema(line.split(":", 1)[1])
                i += 1
                break
            elif desc:
                desc.append(line.strip())
            i += 1
        tools.append(Tool(name, " ".join(desc), params))
    if tools:
        return tools
    m = _ONE_OF_RE.search(head)
    if m is None:
        return []
    names = [n.strip() for n in m.group(1).split(",") if n.strip()]
    for name in names[:64]:
        tools.append(_described(name, lines))
    return tools


def _described(name: str, lines: list[str]) -> Tool:
    for line in lines:
        if not line.startswith(name):
            continue
        m = _SIGNATURE_RE.match(line.strip())
        if m is None or m.group(1) != name:
            continue
        desc = m.group(3)
        params: Mapping[str, Any] = {}
        if "args:" in desc:
            desc, _, raw = desc.partition("args:")
            params = _schema(raw)
        elif m.group(2):
            params = _signature(m.group(2)[1:-1])
        return Tool(name, desc.strip().rstrip(","), params)
    return Tool(name)


def _schema(raw: str) -> Mapping[str, Any]:
    raw = raw.strip()
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(value, Mapping):
        return {}
    if "properties" not in value and all(isinstance(v, Mapping) for v in value.values()):
        # LangChain's render_text_description_and_args: the properties only.
        return {"type": "object", "properties": dict(value), "required": list(value)}
    return value


def _signature(params: str) -> Mapping[str, Any]:
    props: dict[str, Any] = {}
    required: list[str] = []
    for m in _PARAM_RE.finditer(params):
        name, typ = m.group(1), m.group(2).strip()
        props[name] = {"type": _PY_TYPES.get(typ, "string")}
        if "=" not in m.group(0):
            required.append(name)
    return {"type": "object", "properties": props, "required": required}


def _action_input(raw: str, tool: Tool | None) -> dict[str, Any]:
    raw = raw.strip()[:_MAX_INPUT]
    start = raw.find("{")
    if start < 0:
        return _single_input(raw.strip().strip("\"'"), tool) if raw else {}
    depth = 0
    end = -1
    for i in range(start, len(raw)):
        if raw[i] == "{":
            depth += 1
        elif raw[i] == "}":
            depth -= 1
            if depth == 0:
                end = i + 1
                break
    text = raw[start:end] if end > 0 else raw[start:]
    try:
        value = json.loads(text)
    except ValueError:
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return {}
    return dict(value) if isinstance(value, Mapping) else {}


def _single_input(raw: str, tool: Tool | None) -> dict[str, Any]:
    """A plain Action Input ("Paris"): the value of the tool's one parameter."""
    props = tool.params.get("properties") if tool is not None else None
    if not isinstance(props, Mapping) or len(props) != 1:
        return {"input": raw}
    (key, node), *_ = props.items()
    if isinstance(node, Mapping) and node.get("type") in ("number", "integer"):
        try:
            number = float(raw)
        except ValueError:
            return {str(key): raw}
        return {str(key): int(number) if number.is_integer() else number}
    return {str(key): raw}


def _read_steps(text: str, steps: list[Step], tools: Sequence[Tool]) -> None:
    """``Action`` / ``Action Input`` / ``Observation`` lines of ``text``, in order."""
    action: str | None = None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("Action:"):
            action = line[len("Action:") :].strip().split(" ")[0].split("(")[0]
        elif line.startswith("Action Input:") and action:
            raw = [line[len("Action Input:") :]]
            while i + 1 < len(lines) and not lines[i + 1].strip().startswith(
                ("Observation:", "Thought:", "Action:")
            ):
                i += 1
                raw.append(lines[i])
            tool = next((t for t in tools if t.name == action), None)
            steps.append(Step(action, _action_input("\n".join(raw), tool)))
            action = None
        elif line.startswith("Observation:"):
            obs = [line[len("Observation:") :].strip()]
            while i + 1 < len(lines) and not lines[i + 1].strip().startswith(
                ("Thought:", "Action:", "Final Answer:", "Answer:")
            ):
                i += 1
                obs.append(lines[i])
            pending = next((s for s in reversed(steps) if s.result is None), None)
            if pending is not None:
                pending.result = "\n".join(obs).strip()
        i += 1


def render_action(prompt: ReactPrompt, name: str, args: Mapping[str, Any]) -> str:
    """One ReAct step. LangChain's classic format takes a plain input for a tool of one
    parameter (its single-input tools are called with that string)."""
    given = json.dumps(args, ensure_ascii=False)
    if prompt.answer_word == "Final Answer" and len(args) == 1:
        (value,) = args.values()
        given = value if isinstance(value, str) else json.dumps(value)
    return (
        "Thought: I need to use a tool to help me answer the question.\n"
        f"Action: {name}\n"
        f"Action Input: {given}"
    )


def render_answer(prompt: ReactPrompt, answer: str) -> str:
    if prompt.answer_word == "Final Answer":
        return f"Thought: I now know the final answer\nFinal Answer: {answer}"
    return (
        "Thought: I can answer without using any more tools. I'll use the user's language "
        f"to answer\nAnswer: {answer}"
    )
