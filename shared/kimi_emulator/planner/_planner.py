"""The tool plan: which calls a careful model makes next, from the conversation alone.

Every turn the plan is worked out again from the request, the tools and the calls made
since the request (no state is kept, so the same conversation gets the same plan):

1. **Relevant tools**: those whose name or description shares a meaningful word with
   the request ("weather", "fahrenheit"). A request that names none but reads like a
   follow-up ("And in Berlin?") takes the intent of the user's earlier message.
2. **Calls from the request**: a relevant tool whose required arguments the request
   gives (a city, the numbers, an enum value...) is called, once per subject when the
   request names several (two cities: two calls).
3. **Calls from results**: a relevant tool whose required argument the request does not
   give (``celsius`` in "the weather in Paris, in Fahrenheit") waits; tools whose
   description speaks of that argument ("... the temperature in Celsius") are called
   first, and once their results are in, it is called with the value they give (18 C
   becomes ``celsius=18``), once per result.
4. **Done** when every call of 2 and 3 was made: the answer is written from the results.

Calls already made (same name and arguments) are not repeated, so a plan always ends.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ._convo import Conversation, Step, Tool
from ._extract import Entity, Facts, read_args, read_result, read_text, split_name, stem, words
from ._filler import CURRENCIES, Filler
from ._lexicon import GENERIC, STOP, SYNONYMS, UNITS
from ._schema import MISSING, field_kind, resolve, type_of

__all__ = ["Call", "Decision", "Planner"]

#: Calls one plan may make since the request (a longer run is answered).
MAX_CALLS = 16
#: At most this many tool-call turns after a request, then the answer.
MAX_TURNS = 8
#: Calls per tool for the subjects of one request.
MAX_SUBJECTS = 5
_FOLLOW_UP_RE = re.compile(r"^\s*(?:and|also|what about|how about|same for|now)\b", re.IGNORECASE)
#: A message that only asks for a tool ("Please select a tool to handle the current issue.",
#: which litellm appends in place of tool_choice="required", after Moonshot's migration
#: guide): the request is the user's message before it.
_NUDGE_RE = re.compile(
    r"^\s*(?:please\s+)?(?:select|choose|pick|use|call)\s+(?:a|an|one|the)\s+(?:tool|function)\b",
    re.IGNORECASE,
)
_ID_WORDS = frozenset({"id", "ids", "number", "no", "ref", "reference"})
_LETTERS_RE = re.compile(r"(?<![\w])[a-z](?![\w])")
_CODE_RE = re.compile(r"\b[A-Z]{3}\b")
_SUBJECT_KINDS = ("place", "country", "person", "symbol")


@dataclass(frozen=True)
class Call:
    name: str
    args: dict[str, Any]

    @property
    def key(self) -> str:
        return _call_key(self.name, self.args)


@dataclass
class Decision:
    """The next step: calls to make now, or none (answer)."""

    calls: list[Call] = field(default_factory=list)
    #: Tools waiting for a value a result will give: (tool, parameter).
    waiting: list[tuple[str, str]] = field(default_factory=list)
    #: Relevant tools that cannot be called: (tool, parameter nothing gives).
    missing: list[tuple[str, str]] = field(default_factory=list)
    #: Whether a follow-up message took its intent from an earlier request.
    follow_up: bool = False


def _call_key(name: str, args: Mapping[str, Any]) -> str:
    canonical = {
        k: (float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v)
        for k, v in args.items()
    }
    return name + json.dumps(canonical, sort_keys=True, ensure_ascii=False, default=str)


def _loose_key(name: str, args: Mapping[str, Any]) -> str:
    """The call key with each string cut at its first comma and lower-cased: a call made
    for "Florence" answers a plan for "Florence, Italy", as a model would take it."""
    return _call_key(
        name,
        {k: v.split(",")[0].strip().lower() if isinstance(v, str) else v for k, v in args.items()},
    )


_SIGNATURE_RE = re.compile(r"\b\w+\([^)]{0,200}\)\s*->\s*\w+")


@lru_cache(maxsize=1024)
def _stems_of(name: str, description: str) -> tuple[frozenset[str], frozenset[str]]:
    """The meaningful word stems of a tool's name and description (a signature such as
    LlamaIndex's ``get_weather(city: str) -> str`` left out); once per tool."""
    desc = _SIGNATURE_RE.sub(" ", description[:4000])
    return (
        frozenset(stem(w) for w in split_name(name) if w not in STOP),
        frozenset(stem(w) for w in words(desc) if w not in GENERIC),
    )


class _ToolInfo:
    """What the planner reads of one tool, worked out once per request."""

    def __init__(self, tool: Tool) -> None:
        self.tool = tool
        self.params = tool.params
        self.name_stems, self.desc_stems = _stems_of(tool.name, tool.description)
        props = self.params.get("properties")
        self.props: Mapping[str, Any] = props if isinstance(props, Mapping) else {}
        required = self.params.get("required")
        self.required = [str(k) for k in required] if isinstance(required, list) else []
        self.enum_words = {
            str(option).lower()
            for sub in self.props.values()
            if isinstance(sub, Mapping) and isinstance(sub.get("enum"), list)
            for option in sub["enum"]
            if isinstance(option, str) and option
        }

    def score(self, stems: set[str], low: str, found: set[str]) -> int:
        score = 3 * len(stems & self.name_stems) + len(stems & self.desc_stems)
        # The request names the values of its enums ("42 km in mi"): both ends of a
        # conversion, or a value longer than a letter.
        named = found & self.enum_words
        if len(named) >= 2 or any(len(w) > 2 for w in named):
            score += 2 * len(named)
        if len(self.tool.name) > 3 and self.tool.name.lower() in low:
            score += 20
        return score

    def speaks_of(self, param: str, node: Mapping[str, Any]) -> bool:
        """Whether this tool's name or description speaks of ``param`` (it may give it)."""
        wanted = {stem(w) for w in split_name(param) if w not in STOP}
        wanted |= {stem(w) for w in words(str(node.get("description") or "")) if w not in GENERIC}
        for w in list(wanted):
            wanted |= {stem(s) for s in SYNONYMS.get(w, ())}
        return bool(wanted & (self.desc_stems | self.name_stems))

    def speaks_of_id(self, param: str) -> bool:
        """Whether this tool speaks of what the id ``param`` identifies (``bill`` of
        ``bill_id``); an id named by ``id`` alone is any id."""
        wanted = {stem(w) for w in split_name(param) if w not in STOP and w not in _ID_WORDS}
        return not wanted or bool(wanted & (self.desc_stems | self.name_stems))

    def kind_count(self, kind: str) -> int:
        """How many required string parameters of ``kind`` this tool takes."""
        count = 0
        for key in self.required:
            node = resolve(self.props.get(key, {}), self.params)
            if type_of(node) == "string" and not node.get("enum"):
                count += field_kind(key, node) == kind
        return count

    def subject_param(self) -> tuple[str, str] | None:
        """The required string parameter a call is about (``city``), and its kind."""
        for key in self.required:
            node = resolve(self.props.get(key, {}), self.params)
            if type_of(node) != "string" or node.get("enum"):
                continue
            kind = field_kind(key, node)
            if kind in _SUBJECT_KINDS:
                return key, kind
        return None


class Planner:
    """Works out the plan for one request (see the module docstring)."""

    def __init__(self, conv: Conversation, tools: Sequence[Tool], *, parallel: bool) -> None:
        self.conv = conv
        self.parallel = parallel
        self.infos = [_ToolInfo(t) for t in tools if not t.is_output and t.name]
        exclude = _enum_words(tools)
        self.request = read_text(conv.request, exclude)
        self.pools: list[Facts] = [self.request]
        self.follow_up = False
        self.wanted = self._relevant(self.request)
        if not self.wanted and conv.earlier and _follows_up(self.request):
            for earlier in conv.earlier:
                facts = read_text(earlier, exclude)
                wanted = self._relevant(facts)
                if wanted:
                    self.wanted = wanted
                    self.pools = [self.request, facts]
                    self.follow_up = True
                    break
        if not self.wanted and conv.earlier and _NUDGE_RE.match(self.request.text):
            for earlier in conv.earlier:
                facts = read_text(earlier, exclude)
                wanted = self._relevant(facts)
                if wanted:
                    self.wanted = wanted
                    self.request = facts
                    self.pools = [facts]
                    break
        self.results: list[tuple[Step, Facts]] = [
            (s, read_result(s.name, s.result)) for s in conv.steps if s.result is not None
        ]
        self._done = {_loose_key(s.name, s.args) for s in conv.steps}
        #: Tools called with arguments that were not JSON: counted as called.
        self._attempted = {s.name for s in conv.steps if s.malformed}

    # ------------------------------------------------------------------ relevance

    def _relevant(self, facts: Facts) -> list[_ToolInfo]:
        found = words(facts.text)
        stems = {stem(w) for w in found} | {UNITS[w] for w in found if w in UNITS}
        if any(code in CURRENCIES for code in _CODE_RE.findall(facts.text)):
            stems |= {stem("currency"), stem("currencies"), stem("exchange")}
        low = facts.low
        raw = set(found) | set(_LETTERS_RE.findall(low))
        scored = [(info.score(stems, low, raw), i, info) for i, info in enumerate(self.infos)]
        return [info for score, _, info in sorted(scored, key=lambda s: (-s[0], s[1])) if score]

    def best_tool(self) -> Tool | None:
        """The most relevant tool (for a ``required`` choice with nothing left to do)."""
        if self.wanted:
            return self.wanted[0].tool
        return self.infos[0].tool if self.infos else None

    # ------------------------------------------------------------------ plan

    def decide(self) -> Decision:
        decision = Decision(follow_up=self.follow_up)
        if len(self.conv.steps) >= MAX_CALLS or self.conv.turns >= MAX_TURNS:
            return decision
        wanted = list(self.wanted)
        from_request: list[Call] = []
        blocked: list[tuple[_ToolInfo, str]] = []
        for info in wanted:
            calls = self._from_request(info)
            if calls:
                from_request.extend(calls)
                continue
            param = self._missing_param(info)
            blocked.append((info, param))
            # Tools that speak of the missing value are called first to get it.
            node = resolve(info.props.get(param, {}), info.params)
            for other in self.infos:
                if other is info or other in wanted or not other.speaks_of(param, node):
                    continue
                calls = self._from_request(other)
                if calls:
                    wanted.append(other)
                    from_request.extend(calls)
        from_results: list[Call] = []
        for info, param in blocked:
            calls = self._from_results(info)
            if calls:
                from_results.extend(calls)
            elif any(o.tool.name != info.tool.name and o.speaks_of(param, {}) for o in wanted):
                decision.waiting.append((info.tool.name, param))
            else:
                decision.missing.append((info.tool.name, param))
        seen: set[str] = set()
        todo: list[Call] = []
        for call in [*from_request, *from_results]:
            done = _loose_key(call.name, call.args) in self._done
            if call.key in seen or done or call.name in self._attempted:
                continue
            seen.add(call.key)
            todo.append(call)
        if not todo:
            # Nothing more will come: what still waits cannot be called.
            decision.missing += decision.waiting
            decision.waiting = []
            return decision
        room = MAX_CALLS - len(self.conv.steps)
        decision.calls = todo[: min(room, len(todo) if self.parallel else 1)]
        return decision

    def _from_request(self, info: _ToolInfo) -> list[Call]:
        subject = info.subject_param()
        subjects: list[Entity | None] = [None]
        if subject is not None:
            found = _subjects(self.pools[0], subject[1]) or (
                _subjects(self.pools[1], subject[1]) if len(self.pools) > 1 else []
            )
            # Several subjects: one call each; one is found by the filler like any value.
            # A tool that takes several of that kind (origin and destination) gets them
            # all in one call.
            if (
                self.request.pairs.get(subject[0].lower()) is None
                and len(found) > 1
                and info.kind_count(subject[1]) < 2
            ):
                subjects = list(found[:MAX_SUBJECTS])
        calls = []
        for entity in subjects:
            args = Filler(
                self.pools, info.params, strict=True, subject=entity, fallback=self.conv.request
            ).obj(info.params, everything=False)
            if args is MISSING:
                return []
            calls.append(Call(info.tool.name, args))
        return calls

    def _missing_param(self, info: _ToolInfo) -> str:
        for key in info.required:
            filler = Filler(self.pools, info.params, strict=True, fallback=self.conv.request)
            if filler.value(info.props.get(key, {}), key) is MISSING:
                return key
        return info.required[0] if info.required else ""

    def _from_results(self, info: _ToolInfo) -> list[Call]:
        """Calls of ``info`` with the values of earlier results: only the results that
        came before its own first call, so results never feed each other in a loop."""
        calls = []
        steps = self.conv.steps
        first = next((i for i, s in enumerate(steps) if s.name == info.tool.name), len(steps))
        facts_of = {id(step): facts for step, facts in self.results}
        infos = {i.tool.name: i for i in self.infos}
        # An id (bill_id) comes only from a tool that speaks of that id ("the bill id").
        ids = [k for k in info.required if _ID_WORDS & set(split_name(k))]
        for step in steps[:first]:
            facts = facts_of.get(id(step))
            if facts is None or step.name == info.tool.name:
                continue
            source = infos.get(step.name)
            if source is not None and any(not source.speaks_of_id(k) for k in ids):
                continue
            pools = [facts, read_args(step.name, step.args), *self.pools]
            args = Filler(pools, info.params, strict=True, fallback=self.conv.request).obj(
                info.params, everything=False
            )
            if args is not MISSING:
                calls.append(Call(info.tool.name, args))
        return calls

    # ------------------------------------------------------------------ answer facts

    def answer_pools(self) -> list[Facts]:
        """Every fact, for a final answer: the request, the calls made, their results."""
        pools = list(self.pools)
        for step, facts in self.results:
            pools.append(read_args(step.name, step.args))
            pools.append(facts)
        return pools


def _subjects(facts: Facts, kind: str) -> list[Entity]:
    out = []
    for e in facts.entities:
        if (
            (
                kind == "place"
                and (e.kind in ("city", "country", "place") or (e.kind == "name" and e.strong))
            )
            or (kind == "country" and e.kind == "country")
            or (kind == "person" and (e.kind == "person" or (e.kind == "name" and e.strong)))
            or (kind == "symbol" and e.kind == "symbol")
        ):
            out.append(e)
    return out


def _follows_up(facts: Facts) -> bool:
    """Whether a message reads like a follow-up that changes the subject ("And in
    Berlin?", "What about 25?"): short or starting so, and naming something new."""
    short = bool(_FOLLOW_UP_RE.match(facts.text)) or len(facts.text.split()) <= 6
    return short and bool(facts.entities or facts.numbers or facts.quoted)


def _enum_words(tools: Sequence[Tool]) -> set[str]:
    out: set[str] = set()
    for tool in tools:
        out |= set(split_name(tool.name))
        props = tool.params.get("properties")
        if not isinstance(props, Mapping):
            continue
        for sub in props.values():
            enum = sub.get("enum") if isinstance(sub, Mapping) else None
            if isinstance(enum, list):
                out |= {str(o).lower() for o in enum if isinstance(o, str)}
    return out
