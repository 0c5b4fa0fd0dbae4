"""The texts a person reads: answers from tool results, plain replies, the reasoning.

Each says it comes from the emulator. An answer from tool results follows the calls:
one sentence per subject, results that fed a later call chained to it ("Paris: 18 C and
cloudy, which is 64.4 F."), then what could not be called and why.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ._convo import Step
from ._extract import Facts, read_result, read_text, snippet
from ._planner import Call, Decision

__all__ = [
    "EMULATOR_NOTE",
    "STOCK_REPLY",
    "missing_answer",
    "plain_answer",
    "plan_note",
    "reasoning_text",
    "results_answer",
    "show_args",
    "show_result",
]

STOCK_REPLY = (
    "This is a deterministic reply from the Kimi emulator (a protocol stand-in, not a model)."
)
EMULATOR_NOTE = "(Kimi emulator: a deterministic answer from the tool results, not a model.)"


def plain_answer(text: str) -> str:
    """The reply to a message no tool or format applies to."""
    if not text.strip():
        return STOCK_REPLY
    return f'You said: "{snippet(text)}". {STOCK_REPLY}'


def show_args(args: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in args.items())


def show_result(content: str) -> str:
    """A tool result in a few words (a JSON object as ``key: value`` pairs)."""
    text = content.strip()
    if text[:1] == "{":
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, Mapping):
            text = ", ".join(
                f"{k} {v if isinstance(v, (str, int, float)) else json.dumps(v)}"
                for k, v in value.items()
            )
    return snippet(text, 200).rstrip(".") or "(empty)"


def _feeds(parent: Facts, step: Step, request: Facts) -> bool:
    """Whether one of ``step``'s argument values came from ``parent``'s result."""
    given = {n.value for n in request.numbers}
    names = {e.text.lower() for e in request.entities}
    numbers = {n.value for n in parent.numbers}
    texts = {e.text.lower() for e in parent.entities}
    for value in step.args.values():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if float(value) in numbers and float(value) not in given:
                return True
        elif isinstance(value, str) and value.lower() in texts and value.lower() not in names:
            return True
    return False


def _label(step: Step, request: Facts) -> str:
    names = {e.text.lower(): e.text for e in request.entities}
    for value in step.args.values():
        if isinstance(value, str) and value.lower() in names:
            return names[value.lower()]
    return f"{step.name}({show_args(step.args)})"


def results_answer(
    request: str, steps: Sequence[Step], missing: Sequence[tuple[str, str]] = ()
) -> str:
    """The final answer after tool calls: the results, subject by subject."""
    facts = read_text(request)
    done = [s for s in steps if s.result is not None]
    parsed = [read_result(s.name, s.result or "") for s in done]
    parent: dict[int, int] = {}
    for i, step in enumerate(done):
        for j in range(i):
            if _feeds(parsed[j], step, facts):
                parent[i] = j
                break
    children: dict[int, list[int]] = {}
    for i, j in parent.items():
        children.setdefault(j, []).append(i)
    groups: dict[str, list[str]] = {}
    for i, step in enumerate(done):
        if i in parent:
            continue
        chain = show_result(step.result or "")
        stack = list(children.get(i, ()))
        while stack:
            k = stack.pop(0)
            chain += f", which is {show_result(done[k].result or '')}"
            stack[:0] = children.get(k, [])
        groups.setdefault(_label(step, facts), []).append(chain)
    sentences = [f"{label}: {'; '.join(chains)}." for label, chains in groups.items()]
    for tool, param in missing:
        sentences.append(f"I could not call {tool}: nothing gave a value for {param}.")
    return " ".join([*sentences, EMULATOR_NOTE])


def missing_answer(request: str, missing: Sequence[tuple[str, str]]) -> str:
    """The answer when a relevant tool cannot be called (nothing gives a value)."""
    needs = "; ".join(f"{param} for {tool}" for tool, param in missing)
    return (
        f'To answer "{snippet(request, 80)}" I need {needs}: please give it. '
        "(Kimi emulator: a deterministic answer, not a model.)"
    )


def _show_calls(calls: Sequence[Call]) -> str:
    return ", ".join(f"{c.name}({show_args(c.args)})" for c in calls)


def reasoning_text(request: str, plan: str) -> str:
    """The reasoning of a thinking model: what the user asked and what happens next."""
    return (
        f'The user asks: "{snippet(request, 80)}". {plan} '
        "(Emulated reasoning: the Kimi emulator is not a model.)"
    )


def plan_note(decision: Decision | None, *, answered: bool) -> str:
    """What the plan does this turn, in a sentence or two."""
    if decision is None:
        return "I will answer briefly."
    parts = []
    if decision.follow_up:
        parts.append("It follows up on the earlier request.")
    if decision.calls:
        parts.append(f"I will call {_show_calls(decision.calls)}.")
    for tool, param in decision.waiting:
        parts.append(f"{tool} waits for the {param} value their results give.")
    if not decision.calls:
        if answered:
            parts.append("Every part is answered by the tool results; I will answer with them.")
        for tool, param in decision.missing:
            parts.append(f"Nothing gives {param} for {tool}.")
    return " ".join(parts) or "I will answer briefly."
