"""The deterministic responder: what the emulator answers when nothing is scripted.

There is no model here. The same request always gets the same answer:

- reasoning text when the model thinks for this request;
- with tools offered (and ``tool_choice`` not ``none``) and the user speaking last: a
  call to the tool whose name and description best match the user's words (a forced
  choice is honoured), with arguments built from the tool's schema and values found in
  the message: ``name=value`` / ``name: value`` pairs, enum values mentioned, numbers in
  order, quoted strings, capitalised names for location-like parameters (``city``,
  ``location``...), the question itself for query-like ones. Several places named for a
  one-place tool give parallel calls (unless ``parallel_tool_calls`` is false);
- ``$web_search`` declared: a ``$web_search`` call first, then an answer;
- tool results last: an answer that quotes them;
- ``json_object``: JSON that follows a schema embedded in the prompt, else
  ``{"answer": ...}``; ``json_schema``: an instance that validates against the schema;
- otherwise a short answer that quotes the prompt; partial mode continues the prefix.

Then ``stop`` sequences cut the content and ``max_tokens`` cuts reasoning and content
(finish reason ``length``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from ._rules import ChatCall, _content_text, count_text_tokens
from ._wire import Choice, ToolCall

__all__ = ["respond", "truncate_tokens"]

_WORD_RE = re.compile(r"[a-z0-9]+")
_NUMBER_RE = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.]*\w)")
_QUOTED_RE = re.compile(r"(?:^|(?<=[\s(:=,]))[\"“'‘]([^\"”'’\n]{1,200})[\"”'’]")
# Capitalised names ("New York", "Rio de Janeiro"), with a state or country code after a
# comma kept as part of the name ("San Francisco, CA").
_CAPS_RE = re.compile(
    r"\b[A-Z][\w'’\-]*(?:\s+(?:[A-Z][\w'’\-]*|de|del|la|le|of))*(?:,\s*[A-Z]{2,3}\b)?"
)
_STOP_WORDS = (
    "a an the is are was were be been am do does did what whats what's which who whom "
    "whose when where why how can could would should will shall may might must please "
    "tell me my i you your we our us it its this that these those there here of in on at "
    "to for from by with about into over under and or but not no yes if then than so as "
    "use using call tool tools function value give get show find let lets let's hi hello "
    "hey thanks thank ok okay now today just also some any all one need want like know"
)
_STOP = frozenset(_STOP_WORDS.split())
_LOCATION_KEYS = frozenset(
    {
        "city",
        "location",
        "place",
        "town",
        "country",
        "region",
        "destination",
        "origin",
        "address",
        "state",
        "where",
        "area",
        "locale",
        "loc",
    }
)
_QUERY_KEYS = frozenset(
    {
        "query",
        "q",
        "question",
        "search",
        "text",
        "input",
        "prompt",
        "message",
        "content",
        "keyword",
        "keywords",
        "topic",
        "term",
        "terms",
        "expression",
        "expr",
        "code",
        "task",
        "request",
        "instruction",
        "instructions",
        "body",
        "sentence",
        "statement",
        "problem",
    }
)
_NAME_KEYS = frozenset({"name", "person", "user", "username", "who", "title", "author"})
_PREPOSITIONS = ("in", "at", "for", "of", "from", "to", "near", "about")
_STOCK_REPLY = (
    "This is a deterministic reply from the Kimi emulator (a protocol stand-in, not a model)."
)


def _words(text: str) -> list[str]:
    return [w for w in _WORD_RE.findall(text.lower()) if w not in _STOP]


def _stem(word: str) -> str:
    for suffix in ("ing", "es", "s", "ed"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _split_name(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [w.lower() for w in re.split(r"[\s_\-.$]+", spaced) if w]


def _snippet(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def truncate_tokens(text: str, limit: int) -> str:
    """``text`` cut after ``limit`` tokens (same counting as the usage)."""
    if limit <= 0:
        return ""
    for count, m in enumerate(re.finditer(r"[A-Za-z]+|\d|[^\sA-Za-z\d]", text), 1):
        if count == limit:
            return text[: m.end()]
    return text


# --------------------------------------------------------------------------- conversation


def _last_user_text(call: ChatCall) -> str:
    for msg in reversed(call.messages):
        if msg.get("role") == "user":
            return _content_text(msg.get("content"))
    for msg in reversed(call.messages):
        if msg.get("role") == "system":
            return _content_text(msg.get("content"))
    return ""


def _trailing_tool_results(call: ChatCall) -> list[tuple[str, str]]:
    """``(tool name, content)`` of the tool messages at the end of the conversation."""
    msgs = call.messages
    if call.partial is not None:
        msgs = msgs[:-1]
    results: list[dict[str, Any]] = []
    for msg in reversed(msgs):
        if msg.get("role") != "tool":
            break
        results.append(msg)
    if not results:
        return []
    names: dict[str, str] = {}
    for msg in msgs:
        for tc in msg.get("tool_calls") or ():
            if isinstance(tc, Mapping):
                fn = tc.get("function") or {}
                names[str(tc.get("id"))] = str(fn.get("name"))
    return [
        (
            str(m.get("name") or names.get(str(m.get("tool_call_id")), "the tool")),
            _content_text(m.get("content")),
        )
        for m in reversed(results)
    ]


# --------------------------------------------------------------------------- values


class _Values:
    """Values found in the user's message, handed out in order."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.low = text.lower()
        self.numbers = [m.group(0) for m in _NUMBER_RE.finditer(text)]
        self.quoted = [m.group(1) for m in _QUOTED_RE.finditer(text)]
        ranked = self._places(text)
        self.places = [p for _, p in ranked]
        #: Names that are likely real names (not a sentence-initial capitalised word).
        self.strong_places = sum(1 for rank, _ in ranked if rank < 2)
        self.used_numbers = 0
        self.used_places = 0
        self.used_quoted = 0

    @staticmethod
    def _places(text: str) -> list[tuple[int, str]]:
        """Capitalised names, best first: after a preposition ("weather in Paris"), then
        mid-sentence, then sentence-initial words (often just a capitalised verb)."""
        found: list[tuple[int, int, str]] = []
        for m in _CAPS_RE.finditer(text):
            words = m.group(0).split()
            while words and words[0].lower().strip("'’") in _STOP:
                words.pop(0)
            if not words:
                continue
            phrase = " ".join(words).strip("'’-")
            if not phrase or phrase.lower() in _STOP:
                continue
            before = text[: m.start()].rstrip()
            prev = before.split()[-1].lower() if before else ""
            if prev in _PREPOSITIONS:
                rank = 0
            elif not before or before[-1] in ".!?\n" or m.group(0) != phrase:
                rank = 2
            else:
                rank = 1
            found.append((rank, m.start(), phrase))
        found.sort()
        seen: dict[str, int] = {}
        for rank, _, phrase in found:
            seen.setdefault(phrase, rank)
        return [(rank, phrase) for phrase, rank in seen.items()]

    def explicit(self, key: str) -> str | None:
        pattern = re.compile(
            rf"\b{re.escape(key)}\s*(?:=|:|\bis\b|\bof\b)\s*(\"[^\"]*\"|'[^']*'|[^,;?!\n]+?)"
            r"(?=\s*(?:[,;?!\n]|\band\b|$|\.(?:\s|$)))",
            re.IGNORECASE,
        )
        m = pattern.search(self.text)
        if m is None:
            return None
        value = m.group(1).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        return value or None

    def number(self) -> str | None:
        if self.used_numbers < len(self.numbers):
            self.used_numbers += 1
            return self.numbers[self.used_numbers - 1]
        return None

    def place(self) -> str | None:
        if self.used_places < len(self.places):
            self.used_places += 1
            return self.places[self.used_places - 1]
        return None

    def quote(self) -> str | None:
        if self.used_quoted < len(self.quoted):
            self.used_quoted += 1
            return self.quoted[self.used_quoted - 1]
        return None


def _resolve(schema: Any, root: Mapping[str, Any], depth: int = 0) -> Mapping[str, Any]:
    """Follow ``$ref`` and pick the first non-null ``anyOf`` branch."""
    node: Any = schema
    for _ in range(16):
        if not isinstance(node, Mapping):
            return {}
        ref = node.get("$ref")
        if isinstance(ref, str):
            target = _lookup(ref, root)
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            continue
        branches = node.get("anyOf") or node.get("oneOf")
        if isinstance(branches, list) and branches:
            usable = [b for b in branches if isinstance(b, Mapping)]
            non_null = [b for b in usable if b.get("type") != "null"]
            pick = (non_null or usable or [{}])[0]
            rest = {k: v for k, v in node.items() if k not in ("anyOf", "oneOf")}
            node = {**rest, **pick}
            continue
        all_of = node.get("allOf")
        if isinstance(all_of, list) and all_of:
            merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
            for part in all_of:
                part = _resolve(part, root, depth + 1)
                for k, v in part.items():
                    if k == "properties" and isinstance(merged.get(k), Mapping):
                        merged[k] = {**merged[k], **v}
                    elif k == "required" and isinstance(merged.get(k), list):
                        merged[k] = [*merged[k], *v]
                    else:
                        merged.setdefault(k, v)
            node = merged
            continue
        return node
    return node if isinstance(node, Mapping) else {}


def _lookup(ref: str, root: Mapping[str, Any]) -> Mapping[str, Any]:
    if ref == "#":
        return root
    for prefix in ("#/$defs/", "#/definitions/"):
        if ref.startswith(prefix):
            defs = root.get(prefix[2:-1])
            if isinstance(defs, Mapping):
                found = defs.get(ref[len(prefix) :])
                if isinstance(found, Mapping):
                    return found
    return {}


def _type_of(node: Mapping[str, Any]) -> str:
    typ = node.get("type")
    if isinstance(typ, list):
        typ = next((t for t in typ if t != "null"), "null")
    if isinstance(typ, str):
        return typ
    enum = node.get("enum")
    if isinstance(enum, list) and enum:
        first = enum[0]
        if isinstance(first, bool):
            return "boolean"
        if isinstance(first, int):
            return "integer"
        if isinstance(first, float):
            return "number"
        return "string"
    if "const" in node:
        return "const"
    if "properties" in node:
        return "object"
    if "items" in node:
        return "array"
    return "string"


def _coerce_number(raw: str | None, node: Mapping[str, Any], integer: bool) -> int | float:
    value: float
    if raw is not None:
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
    else:
        value = float("nan")
    if value != value:  # nan: nothing usable found
        default = node.get("default")
        if isinstance(default, (int, float)) and not isinstance(default, bool):
            value = float(default)
        else:
            value = float(node.get("minimum", node.get("exclusiveMinimum", 0)) or 0)
            if "exclusiveMinimum" in node and "minimum" not in node:
                value += 1
            if value == 0 and "minimum" not in node:
                value = 1.0
    lo = node.get("minimum")
    hi = node.get("maximum")
    if isinstance(lo, (int, float)) and value < lo:
        value = float(lo)
    if isinstance(hi, (int, float)) and value > hi:
        value = float(hi)
    if integer:
        return round(value)
    return int(value) if value.is_integer() and raw is not None and "." not in raw else value


def _fit_string(value: str, node: Mapping[str, Any]) -> str:
    fmt = node.get("format")
    if fmt == "date":
        return "2025-01-01"
    if fmt == "date-time":
        return "2025-01-01T00:00:00Z"
    if fmt == "time":
        return "00:00:00"
    if fmt == "email":
        return "user@example.com"
    if fmt in ("uri", "url"):
        return "https://example.com"
    if fmt == "uuid":
        return "00000000-0000-4000-8000-000000000000"
    lo = node.get("minLength")
    hi = node.get("maxLength")
    if isinstance(hi, int) and len(value) > hi:
        value = value[:hi]
    if isinstance(lo, int) and len(value) < lo:
        value = value + "x" * (lo - len(value))
    return value


class _Builder:
    """Builds a JSON value for a schema from the values in the user's message."""

    def __init__(self, root: Mapping[str, Any], values: _Values, question: str) -> None:
        self.root = root
        self.values = values
        self.question = question

    def value(self, schema: Any, key: str, depth: int = 0, *, everything: bool = False) -> Any:
        node = _resolve(schema, self.root)
        typ = _type_of(node)
        key_words = set(_split_name(key)) if key else set()
        explicit = self.values.explicit(key) if key else None
        enum = node.get("enum")
        if typ == "const":
            return node["const"]
        if isinstance(enum, list) and enum:
            if explicit is not None:
                for option in enum:
                    if str(option).lower() == explicit.lower():
                        return option
            for option in enum:
                if isinstance(option, str) and re.search(
                    rf"\b{re.escape(option.lower())}\b", self.values.low
                ):
                    return option
            return enum[0]
        if typ in ("integer", "number"):
            return _coerce_number(explicit or self.values.number(), node, typ == "integer")
        if typ == "boolean":
            if explicit is not None:
                return explicit.lower() in ("true", "yes", "1", "on")
            default = node.get("default")
            return default if isinstance(default, bool) else False
        if typ == "null":
            return None
        if typ == "array":
            return self._array(node, key, depth, everything)
        if typ == "object":
            return self.obj(node, depth + 1, everything=everything) if depth < 6 else {}
        return _fit_string(explicit or self._string(node, key_words), node)

    def _string(self, node: Mapping[str, Any], key_words: set[str]) -> str:
        values = self.values
        if key_words & _LOCATION_KEYS or key_words & _NAME_KEYS:
            found = values.quote() or values.place()
            if found:
                return found
        if key_words & _QUERY_KEYS:
            return values.quote() or _snippet(self.question, 200) or "query"
        found = values.quote() or values.place()
        if found:
            return found
        default = node.get("default")
        if isinstance(default, str):
            return default
        return _snippet(self.question, 80) or "text"

    def _array(self, node: Mapping[str, Any], key: str, depth: int, everything: bool) -> list[Any]:
        items = _resolve(node.get("items", {}), self.root)
        typ = _type_of(items)
        out: list[Any] = []
        if typ in ("integer", "number"):
            while (raw := self.values.number()) is not None:
                out.append(_coerce_number(raw, items, typ == "integer"))
        elif typ == "string" and not items.get("enum"):
            words = set(_split_name(key))
            source = (
                self.values.place if words & (_LOCATION_KEYS | _NAME_KEYS) else self.values.quote
            )
            while (found := source()) is not None:
                out.append(_fit_string(found, items))
        if not out:
            out.append(self.value(items, key, depth + 1, everything=everything))
        lo = node.get("minItems")
        hi = node.get("maxItems")
        while isinstance(lo, int) and len(out) < lo:
            out.append(out[-1])
        if isinstance(hi, int):
            out = out[:hi]
        return out

    def obj(self, schema: Any, depth: int = 0, *, everything: bool = False) -> dict[str, Any]:
        node = _resolve(schema, self.root)
        props = node.get("properties")
        if not isinstance(props, Mapping):
            return {}
        required = node.get("required")
        req = set(required) if isinstance(required, list) else set()
        out: dict[str, Any] = {}
        for key, sub in props.items():
            key = str(key)
            include = everything or key in req
            if not include:
                resolved = _resolve(sub, self.root)
                include = self.values.explicit(key) is not None or bool(
                    isinstance(resolved.get("enum"), list)
                    and any(
                        isinstance(o, str)
                        and re.search(rf"\b{re.escape(o.lower())}\b", self.values.low)
                        for o in resolved["enum"]
                    )
                )
            if include:
                out[key] = self.value(sub, key, depth, everything=everything)
        return out


def build_instance(schema: Mapping[str, Any], text: str) -> Any:
    """A value that validates against ``schema``, filled from ``text``."""
    builder = _Builder(schema, _Values(text), text)
    node = _resolve(schema, schema)
    if _type_of(node) == "object" or "properties" in node:
        return builder.obj(schema, everything=True)
    return builder.value(schema, "", everything=True)


# --------------------------------------------------------------------------- tools


def _score(fn: Mapping[str, Any], words: list[str], text: str) -> int:
    name = str(fn.get("name") or "")
    desc = str(fn.get("description") or "")
    name_words = {_stem(w) for w in _split_name(name) if w not in _STOP}
    desc_words = {_stem(w) for w in _words(desc)}
    stems = [_stem(w) for w in words]
    score = 3 * sum(1 for w in stems if w in name_words)
    score += sum(1 for w in set(stems) if w in desc_words)
    if name and name.lower() in text.lower():
        score += 20
    return score


def _pick_tool(call: ChatCall, text: str) -> Mapping[str, Any] | None:
    choice = call.tool_choice
    functions = call.functions
    if choice == "none" or not functions:
        return None
    if isinstance(choice, Mapping):
        name = (choice.get("function") or {}).get("name")
        return next((f for f in functions if f.get("name") == name), None)
    words = _words(text)
    scored = [(_score(f, words, text), -i, f) for i, f in enumerate(functions)]
    best = max(scored, key=lambda s: (s[0], s[1]))
    if best[0] > 0 or choice == "required":
        return best[2]
    return None


def _location_param(params: Mapping[str, Any]) -> str | None:
    props = params.get("properties")
    if not isinstance(props, Mapping):
        return None
    required = params.get("required") or []
    for key, sub in props.items():
        if (
            key in required
            and set(_split_name(str(key))) & _LOCATION_KEYS
            and _type_of(_resolve(sub, params)) == "string"
        ):
            return str(key)
    return None


def _tool_calls(call: ChatCall, fn: Mapping[str, Any], text: str) -> list[tuple[str, str]]:
    name = str(fn.get("name"))
    params = fn.get("parameters")
    if not isinstance(params, Mapping) or not params:
        return [(name, "{}")]
    values = _Values(text)
    place_key = _location_param(params)
    count = 1
    if place_key and call.parallel_tool_calls and values.explicit(place_key) is None:
        count = max(1, min(values.strong_places, 5))
    out = []
    for _ in range(count):
        builder = _Builder(params, values, text)
        args = builder.obj(params)
        values.used_numbers = 0  # numbers are shared by parallel calls
        out.append((name, json.dumps(args, ensure_ascii=False)))
    return out


# --------------------------------------------------------------------------- json mode

_DECODER = json.JSONDecoder()


def _embedded_schema(call: ChatCall) -> Mapping[str, Any] | None:
    """A JSON schema written into the prompt (format instructions), if any."""
    for msg in call.messages:
        text = _content_text(msg.get("content"))
        start = text.find("{")
        tries = 0
        while start >= 0 and tries < 50:
            tries += 1
            try:
                obj, _ = _DECODER.raw_decode(text, start)
            except ValueError:
                start = text.find("{", start + 1)
                continue
            if isinstance(obj, Mapping) and isinstance(obj.get("properties"), Mapping):
                return obj
            start = text.find("{", start + 1)
    return None


_KEY_RE = re.compile(r"[\"'`]([A-Za-z_][A-Za-z0-9_]{0,40})[\"'`]")


def _named_keys(call: ChatCall, text: str) -> dict[str, Any]:
    """JSON for a prompt that names its keys ("a JSON with 'setup' and 'punchline' keys")."""
    prompt = " ".join(
        _content_text(m.get("content"))
        for m in call.messages
        if m.get("role") in ("system", "user")
    )
    keys: list[str] = []
    if re.search(r"\b(keys?|fields?|properties|attributes)\b", prompt, re.IGNORECASE):
        keys = list(dict.fromkeys(m.group(1) for m in _KEY_RE.finditer(prompt)))
    if not keys:
        return {"answer": _snippet(text)}
    return {key: f"{key} for: {_snippet(text, 60)}" for key in keys}


# --------------------------------------------------------------------------- respond


def _answer_text(call: ChatCall, text: str) -> str:
    if not text.strip():
        return _STOCK_REPLY
    return f'You said: "{_snippet(text)}". {_STOCK_REPLY}'


def _web_search_args(text: str) -> str:
    digest = hashlib.sha1(text.encode()).hexdigest()[:16]
    return json.dumps(
        {
            "search_result": {"search_id": f"ws-{digest}"},
            "usage": {"total_tokens": 30 + count_text_tokens(text)},
        }
    )


def respond(call: ChatCall) -> Choice:
    """The deterministic answer to a validated chat request (one choice)."""
    text = _last_user_text(call)
    results = _trailing_tool_results(call)
    plan_note: str
    choice = Choice()
    if results:
        quoted = "; ".join(f"{name} returned {_snippet(content, 300)}" for name, content in results)
        if results[0][0] == "$web_search":
            choice.content = (
                f'Here is what the web search found for "{_snippet(text)}" '
                "(emulated: no web access)."
            )
        else:
            choice.content = f"Based on the tool results: {quoted}."
        plan_note = "The tool results are in; I will answer with them."
    elif call.builtins and "$web_search" in call.builtins and call.tool_choice != "none":
        choice.tool_calls = [ToolCall("$web_search", _web_search_args(text))]
        choice.finish_reason = "tool_calls"
        plan_note = "I should search the web first."
    else:
        fn = _pick_tool(call, text) if call.partial is None else None
        if fn is not None:
            choice.tool_calls = [ToolCall(n, a) for n, a in _tool_calls(call, fn, text)]
            choice.finish_reason = "tool_calls"
            plan_note = f"I should call {fn.get('name')} with the values from the question."
        elif call.response_format == "json_schema" and call.json_schema is not None:
            choice.content = json.dumps(build_instance(call.json_schema, text), ensure_ascii=False)
            plan_note = "I will answer with JSON that follows the schema."
        elif call.response_format == "json_object":
            schema = _embedded_schema(call)
            value = build_instance(schema, text) if schema else _named_keys(call, text)
            choice.content = json.dumps(value, ensure_ascii=False)
            plan_note = "I will answer with a JSON object."
        else:
            choice.content = _answer_text(call, text)
            plan_note = "I will answer briefly."
    if call.partial is not None and not choice.tool_calls:
        choice.content = _continue(call, choice.content or "", text)
        plan_note = "I will continue the given prefix."
    if call.thinking:
        choice.reasoning = f'The user wrote: "{_snippet(text, 80)}". {plan_note}'
    _apply_limits(call, choice)
    return choice


def _continue(call: ChatCall, answer: str, text: str) -> str:
    prefix = call.partial or ""
    stripped = prefix.rstrip()
    if stripped.endswith("{"):
        if call.json_schema is not None:
            full = json.dumps(build_instance(call.json_schema, text), ensure_ascii=False)
        else:
            full = json.dumps({"answer": _snippet(text)}, ensure_ascii=False)
        return full[1:]
    if not stripped:
        return answer
    return f" (continued) {answer}"


def _apply_limits(call: ChatCall, choice: Choice) -> None:
    if choice.content and call.stop:
        cut = min(
            (pos for s in call.stop if (pos := choice.content.find(s)) >= 0),
            default=-1,
        )
        if cut >= 0:
            choice.content = choice.content[:cut]
            choice.finish_reason = "stop"
    limit = call.max_tokens
    if limit is None:
        return
    r_tokens = count_text_tokens(choice.reasoning or "")
    c_tokens = count_text_tokens(choice.content or "")
    a_tokens = sum(count_text_tokens(tc.arguments) + 1 for tc in choice.tool_calls)
    if r_tokens + c_tokens + a_tokens <= limit:
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
