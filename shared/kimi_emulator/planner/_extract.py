"""What a text says, as facts a schema can be filled from.

:func:`read_text` finds, in one pass of a few bounded regexes: names (classified as a
city, a country, another place, a person, a ticker symbol or just a name), numbers with
their unit, scale and the words around them, quoted strings and ``key: value`` pairs.
:func:`read_result` reads a tool result (JSON or prose) the same way and also keeps its
descriptive phrases ("cloudy" in "18 C and cloudy"); :func:`read_args` reads the
arguments of a call that was made. Inputs are capped, so the work is linear and bounded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ._lexicon import (
    CITIES,
    COUNTRIES,
    FIRST_NAMES,
    LOCATION_PREPOSITIONS,
    NOT_NAMES,
    PERSON_CUES,
    SCALES,
    STOP,
    UNITS,
)

__all__ = [
    "PLACE_KINDS",
    "Entity",
    "Facts",
    "Number",
    "read_args",
    "read_result",
    "read_text",
    "snippet",
    "split_name",
    "stem",
    "words",
]

#: Characters of a text that are read (the rest is ignored).
MAX_TEXT = 20_000
#: Characters of a tool result that are read.
MAX_RESULT = 8_000
PLACE_KINDS = frozenset({"city", "country", "place"})

_WORD_RE = re.compile(r"[a-z0-9]+")
_SPLIT_RE = re.compile(r"[\s_\-.$]+")
_CAMEL_RE = re.compile(r"([a-z0-9])([A-Z])")
_NUMBER_RE = re.compile(
    r"(?<![\w.])(?P<cur>[$€])?(?P<num>-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?)(?!\.?\d)"
)
_AFTER_RE = re.compile(r"\s?(°\s?[CFcf]\b|%|[A-Za-z]+)")
_QUOTED_RE = re.compile(r"(?:^|(?<=[\s(:=,\[]))[\"“'‘]([^\"”'’\n]{1,200})[\"”'’]")
_NAME_RE = re.compile(
    r"\b[A-Z][\w'’\-]*(?:\s+(?:[A-Z][\w'’\-]*|de|del|da|la|le|of))*(?:,\s*[A-Z]{2,3}\b)?"
)
#: A country right after a city ("Florence,Italy", "Lyon, France"): one place, as written.
_COUNTRY_AFTER_RE = re.compile(r",\s*([A-Z][\w'’\-]*(?:\s+[A-Z][\w'’\-]*)?)")
_PAIR_RE = re.compile(
    r"\b([A-Za-z_]\w{0,40})\s*[:=]\s*(\"[^\"\n]{0,200}\"|'[^'\n]{0,200}'|[^\s,;?!{\[\n][^,;?!\n]{0,100})"
)
_PAIR_END_RE = re.compile(r"\s+(?:and|or|in|for|with)\s|\.(?:\s|$)")
_PERSON_AFTER_RE = re.compile(
    r"\s*(?:,|is|was|\(|aged)?\s*(?:aged\s+)?\d+\s*(?:years|yrs|-year|\))"
)
_TOPIC_RE = re.compile(r"\b(?:about|regarding|concerning|on the subject of)\s+([^,.;:?!\n]{1,80})")
_PIECE_RE = re.compile(r"[,;\n]|\band\b|\bbut\b|\.(?:\s|$)")


def words(text: str) -> list[str]:
    """The lower-case words of ``text`` that carry meaning (no stop words)."""
    return [w for w in _WORD_RE.findall(text.lower()) if w not in STOP]


@lru_cache(maxsize=4096)
def stem(word: str) -> str:
    for suffix in ("ing", "es", "s", "ed"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def split_name(name: str) -> list[str]:
    """``getWeather`` / ``get_weather`` / ``temperature_f`` -> lower-case words."""
    return list(_split_name(name))


@lru_cache(maxsize=4096)
def _split_name(name: str) -> tuple[str, ...]:
    return tuple(w.lower() for w in _SPLIT_RE.split(_CAMEL_RE.sub(r"\1 \2", name)) if w)


def snippet(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Entity:
    """A name found in a text."""

    text: str
    #: ``city``, ``country``, ``place``, ``person``, ``symbol`` or ``name``.
    kind: str
    #: False for a capitalised word that may only start a sentence.
    strong: bool = True
    #: The key it was found under (a JSON result or call arguments), if any.
    key: str | None = None


@dataclass(frozen=True)
class Number:
    """A number found in a text, with what is written around it."""

    value: float
    raw: str
    unit: str | None = None
    scale: float = 1.0
    context: frozenset[str] = frozenset()
    key: str | None = None


@dataclass
class Facts:
    """Everything :func:`read_text` found, in order of appearance."""

    text: str
    entities: list[Entity] = field(default_factory=list)
    numbers: list[Number] = field(default_factory=list)
    quoted: list[str] = field(default_factory=list)
    #: Quoted names right after "named", "called" or "titled" ("a customer named 'X'").
    named: list[str] = field(default_factory=list)
    #: ``key: value`` / ``key=value`` pairs (lower-case keys), JSON keys, call arguments.
    pairs: dict[str, Any] = field(default_factory=dict)
    #: What the text is about ("the launch" in "an email about the launch").
    topics: list[str] = field(default_factory=list)
    #: Descriptive phrases of a tool result ("cloudy").
    phrases: list[str] = field(default_factory=list)
    #: For a call's arguments or result: the call's name.
    source: str | None = None

    @property
    def low(self) -> str:
        return self.text.lower()

    def phrase_of_key(self, key: str) -> str | None:
        """The value of ``key: value`` / ``key is value`` in the text, if written."""
        m = _key_pattern(key).search(self.text)
        if m is None:
            return None
        return _clean_value(m.group(1))


@lru_cache(maxsize=512)
def _key_pattern(key: str) -> re.Pattern[str]:
    return re.compile(
        rf"\b{re.escape(key)}\s*(?::|=|\bis\b)\s*(\"[^\"\n]{{0,200}}\"|'[^'\n]{{0,200}}'|[^,;?!\n]{{1,80}})",
        re.IGNORECASE,
    )


def _clean_value(raw: str) -> str | None:
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1] or None
    cut = _PAIR_END_RE.search(value)
    if cut is not None:
        value = value[: cut.start()]
    value = value.strip().rstrip(".").strip()
    return value or None


# --------------------------------------------------------------------------- numbers


def _number_unit(text: str, end: int) -> tuple[str | None, float, int, bool]:
    """``(unit, scale, end, glued_word)`` of what follows a number at ``end``."""
    unit: str | None = None
    scale = 1.0
    pos = end
    for _ in range(2):
        m = _AFTER_RE.match(text, pos)
        if m is None:
            break
        token = m.group(1).lower().replace(" ", "")
        glued = m.start(1) == pos == end
        if token in SCALES and scale == 1.0 and unit is None:
            scale = SCALES[token]
        elif token in UNITS and unit is None:
            if len(token) == 1 and token.isalpha() and m.end() < len(text):
                nxt = text[m.end()]
                if nxt.isalnum():
                    break
            unit = UNITS[token]
        else:
            if glued:
                return None, 1.0, end, True
            break
        pos = m.end()
    return unit, scale, pos, False


def _context(text: str, start: int, end: int, unit_end: int) -> frozenset[str]:
    before = _WORD_RE.findall(text[max(0, start - 40) : start].lower())[-3:]
    unit = _WORD_RE.findall(text[end:unit_end].lower())
    after = _WORD_RE.findall(text[unit_end : unit_end + 40].lower())[:3]
    return frozenset(stem(w) for w in (*before, *unit, *after) if w not in STOP)


def _numbers(text: str) -> list[Number]:
    out: list[Number] = []
    for m in _NUMBER_RE.finditer(text):
        raw = m.group("num")
        unit, scale, end, glued = _number_unit(text, m.end())
        if glued:
            continue  # part of a word ("gpt-4o", "3rd")
        if m.group("cur"):
            unit = UNITS[m.group("cur")]
        try:
            value = float(raw.replace(",", ""))
        except ValueError:  # pragma: no cover - the regex only matches numbers
            continue
        out.append(Number(value, raw, unit, scale, _context(text, m.start(), m.end(), end)))
        if len(out) >= 64:
            break
    return out


# --------------------------------------------------------------------------- names


def _classify(phrase: str, before: str, after: str, initial: bool) -> Entity | None:
    low = phrase.lower()
    head = low.split(",")[0].strip()
    prev = before.split()[-1].lower().strip("(\"'") if before.split() else ""
    if low in COUNTRIES:
        return Entity(COUNTRIES[low], "country")
    if head in CITIES:
        return Entity(phrase, "city")
    first = low.split()[0]
    if first in FIRST_NAMES or prev in PERSON_CUES or _PERSON_AFTER_RE.match(after):
        return Entity(phrase, "person")
    if prev in LOCATION_PREPOSITIONS and prev != "of":
        return Entity(phrase, "place")
    if phrase.isupper() and 1 < len(phrase) <= 5 and " " not in phrase:
        return Entity(phrase, "symbol")
    if prev == "of":
        return Entity(phrase, "place", strong=not initial)
    return Entity(phrase, "name", strong=not initial)


def _entities(text: str, exclude: frozenset[str]) -> list[Entity]:
    found: list[Entity] = []
    seen: set[str] = set()
    for m in _NAME_RE.finditer(text):
        parts = m.group(0).split()
        lead = 0
        while lead < len(parts) and _not_a_name(parts[lead], exclude):
            lead += 1
        tail = len(parts)
        while tail > lead and _not_a_name(parts[tail - 1], exclude):
            tail -= 1
        if lead >= tail:
            continue
        phrase = " ".join(parts[lead:tail]).strip("'’-,")
        if not phrase or phrase in seen:
            continue
        start = m.start() if lead == 0 else text.find(parts[lead], m.start())
        before = text[max(0, start - 30) : start]
        stripped = before.rstrip()
        initial = not stripped or stripped[-1] in ".!?:\n" or lead > 0
        entity = _classify(phrase, before, text[m.end() : m.end() + 30], initial)
        if entity is None:
            continue
        if entity.kind == "city":
            country = _COUNTRY_AFTER_RE.match(text, m.end())
            if country is not None and country.group(1).lower() in COUNTRIES:
                entity = Entity(phrase + country.group(0), "city")
                seen.add(country.group(1))
        seen.add(phrase)
        found.append(entity)
        if len(found) >= 32:
            break
    return found


def _not_a_name(word: str, exclude: frozenset[str]) -> bool:
    low = word.lower().strip("'’,.:;!?")
    return len(low) < 2 or low in STOP or low in NOT_NAMES or low in UNITS or low in exclude


# --------------------------------------------------------------------------- readers


def _mask_json(text: str) -> str:
    """``text`` with its JSON objects (schemas, examples) blanked out: their keys and
    type names are not what the text says."""
    if '":' not in text:
        return text
    out = list(text)
    depth = 0
    start = -1
    for i, ch in enumerate(text):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0 and '":' in text[start:i]:
                out[start : i + 1] = " " * (i + 1 - start)
    return "".join(out)


def read_text(text: str, exclude: Iterable[str] = ()) -> Facts:
    """The facts of a user's message (or any prompt text); JSON objects written in it
    (a schema to follow) are left out."""
    text = _mask_json(text[:MAX_TEXT])
    facts = Facts(text)
    facts.numbers = _numbers(text)
    facts.entities = _entities(text, frozenset(exclude))
    for m in _QUOTED_RE.finditer(text):
        facts.quoted.append(m.group(1))
        before = text[max(0, m.start() - 12) : m.start()].split()
        if before and before[-1].lower() in ("named", "called", "titled"):
            facts.named.append(m.group(1))
        if len(facts.quoted) >= 32:
            break
    facts.topics = [m.group(1).strip() for m in _TOPIC_RE.finditer(text)][:8]
    for m in _PAIR_RE.finditer(text):
        key = m.group(1).lower()
        if key not in facts.pairs:
            value = _clean_value(m.group(2))
            if value is not None:
                facts.pairs[key] = value
    return facts


def _key_kind(key: str) -> str:
    names = set(split_name(key))
    if "country" in names:
        return "country"
    if names & {"city", "town", "location", "place", "destination", "origin", "region"}:
        return "place"
    if names & {"name", "person", "user", "author", "who"}:
        return "person"
    return "name"


def _add_value(facts: Facts, key: str, value: Any, depth: int = 0, *, phrases: bool = True) -> None:
    if depth > 3 or len(facts.pairs) > 64:
        return
    if isinstance(value, Mapping):
        for k, v in value.items():
            _add_value(facts, str(k), v, depth + 1, phrases=phrases)
        return
    if isinstance(value, list):
        for item in value[:16]:
            _add_value(facts, key, item, depth + 1, phrases=phrases)
        return
    facts.pairs.setdefault(key.lower(), value)
    key_words = split_name(key)
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, (int, float)):
        unit = next((UNITS[w] for w in key_words if w in UNITS), None)
        context = frozenset(stem(w) for w in key_words)
        facts.numbers.append(Number(float(value), str(value), unit, 1.0, context, key))
    elif isinstance(value, str) and value.strip():
        inner = read_text(value)
        if inner.numbers and len(value) < 40:
            for n in inner.numbers:
                facts.numbers.append(
                    Number(n.value, n.raw, n.unit, n.scale, n.context | set(key_words), key)
                )
        else:
            facts.entities.append(Entity(value.strip(), _key_kind(key), key=key))
            if phrases:
                facts.phrases.append(value.strip())


def read_args(name: str, args: Mapping[str, Any]) -> Facts:
    """The facts of a call that was made: its arguments, by key."""
    facts = Facts(json.dumps(args, ensure_ascii=False), source=name)
    for key, value in args.items():
        _add_value(facts, str(key), value, phrases=False)
    return facts


def read_result(name: str, content: str) -> Facts:
    """The facts of a tool's result: JSON by key, or prose (numbers, names, phrases)."""
    content = content[:MAX_RESULT]
    stripped = content.strip()
    if stripped[:1] in ("{", "["):
        try:
            value = json.loads(stripped)
        except ValueError:
            value = None
        if isinstance(value, (Mapping, list)):
            facts = Facts(content, source=name)
            _add_value(facts, "result", value)
            return facts
    facts = read_text(content)
    facts.source = name
    names = {e.text.lower() for e in facts.entities}
    for piece in _PIECE_RE.split(content):
        if any(ch.isdigit() for ch in piece):
            continue
        kept = [
            w
            for w in piece.split()
            if w.lower().strip(".,!?") not in STOP and w.lower().strip(".,!?") not in names
        ]
        if 0 < len(kept) <= 6:
            facts.phrases.append(" ".join(kept).strip(".,!?"))
    return facts
