"""JSON asked for in the prompt: whether it is, the schema shown, the keys named.

Frameworks ask for JSON in words when they do not set ``response_format``: LlamaIndex's
``LLMTextCompletionProgram`` ("Here's a JSON schema to follow: {{...}} Output a valid
JSON object", braces doubled by its template), LangChain's output parsers ("The output
should be formatted as a JSON instance that conforms to the JSON schema below", an
example schema first, the real one last), or a user ("Return a JSON with 'setup' and
'punchline' keys"). The search is bounded: a few decodes around each ``properties``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

__all__ = ["asks_for_json", "embedded_schema", "named_keys"]

# An instruction: a sentence that starts with (or a "should"/"must"/"please" before) a
# verb of answering, with "JSON" a few words later in the same sentence.
_ASK_RE = re.compile(
    r"(?:^|[.!?:\n]\s*|\b(?:please|should|must|and|then)\s+(?:be\s+|only\s+)?)"
    r"(?:answer|respond|reply|return|output|format|formatted|give|provide|write|describe"
    r"|produce|generate|emit|print)\b(?:[^\w.!?\n]{1,3}\w{1,20}){0,8}?[^\w.!?\n]{1,3}json\b",
    re.IGNORECASE,
)
_KEY_RE = re.compile(r"[\"'`]([A-Za-z_][A-Za-z0-9_]{0,40})[\"'`]")
_KEYS_WORD_RE = re.compile(r"\b(?:keys?|fields?|properties|attributes)\b", re.IGNORECASE)
_KEY_WORD = r"[A-Za-z_][A-Za-z0-9_]{0,40}"
#: Bare keys after "keys" / "fields": "the keys city, country and population".
_BARE_KEYS_RE = re.compile(
    r"\b(?:keys|fields|properties|attributes)\b\s*(?::|named|called)?\s*"
    rf"({_KEY_WORD}(?:\s*(?:,\s*(?:and\s+)?|\s+and\s+|\s+or\s+)\s*{_KEY_WORD}){{1,31}})"
)
_SPLIT_RE = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+|\s+or\s+")
_NOT_KEYS = frozenset({"the", "a", "an", "of", "with", "for", "in", "json", "object", "only"})
_DECODER = json.JSONDecoder()
#: How far back from a ``properties`` the schema's opening brace is looked for.
_MAX_OPENERS = 6
_MAX_SITES = 8


#: Prompt texts up to this size have their answer cached (the same system prompt comes
#: with every request of a run; scanning a long one costs more than the reply).
_CACHED_TEXT = 65_536


def _asks(text: str) -> bool:
    # Substring tests first: much faster than a case-insensitive regex on a long prompt.
    mentions = "JSON" in text or "json" in text or "Json" in text
    return mentions and _ASK_RE.search(text) is not None


_asks_cached = lru_cache(maxsize=64)(_asks)


def asks_for_json(texts: Sequence[str]) -> bool:
    """Whether the prompt asks for a JSON answer, in words."""
    return any((_asks_cached if len(t) <= _CACHED_TEXT else _asks)(t) for t in texts if t)


def _is_schema(value: Any) -> bool:
    if not isinstance(value, Mapping):
        return False
    props = value.get("properties")
    return isinstance(props, Mapping) and all(isinstance(v, Mapping) for v in props.values())


def _schemas_in(text: str) -> list[tuple[int, Mapping[str, Any]]]:
    """The JSON schemas written in ``text``, with where they start."""
    found: list[tuple[int, Mapping[str, Any]]] = []
    floor = 0  # nothing before the end of the last schema found is decoded again
    pos = text.find('"properties"')
    sites = 0
    while pos >= 0 and sites < _MAX_SITES:
        sites += 1
        start = pos
        for _ in range(_MAX_OPENERS):
            start = text.rfind("{", floor, start)
            if start < 0:
                break
            try:
                value, end = _DECODER.raw_decode(text, start)
            except ValueError:
                continue
            if end <= pos:
                continue  # an object that closes before this "properties"
            if _is_schema(value):
                # A schema inside a bigger one ($defs first): take the outermost.
                outer = start
                for _ in range(_MAX_OPENERS):
                    outer = text.rfind("{", floor, outer)
                    if outer < 0:
                        break
                    try:
                        bigger, big_end = _DECODER.raw_decode(text, outer)
                    except ValueError:
                        continue
                    if big_end >= end and _is_schema(bigger):
                        start, value, end = outer, bigger, big_end
                found.append((start, value))
                floor = end
            break
        pos = text.find('"properties"', max(pos + 1, floor))
    return found


def embedded_schema(texts: Sequence[str]) -> Mapping[str, Any] | None:
    """The last JSON schema written in the prompt, if any."""
    best: Mapping[str, Any] | None = None
    for text in texts:
        if '"properties"' not in text:
            continue
        candidates = _schemas_in(text)
        if not candidates and "{{" in text:
            candidates = _schemas_in(text.replace("{{", "{").replace("}}", "}"))
        if candidates:
            best = candidates[-1][1]
    return best


def named_keys(texts: Sequence[str]) -> list[str]:
    """The keys a prompt names, quoted ("a JSON object with the keys 'city' and
    'country'") or not ("with the keys city, country and population")."""
    keys: list[str] = []
    for text in texts:
        if _KEYS_WORD_RE.search(text):
            keys.extend(m.group(1) for m in _KEY_RE.finditer(text))
    if not keys:
        for text in texts:
            for m in _BARE_KEYS_RE.finditer(text):
                keys.extend(
                    k for k in _SPLIT_RE.split(m.group(1)) if k and k.lower() not in _NOT_KEYS
                )
    return list(dict.fromkeys(keys))[:32]
