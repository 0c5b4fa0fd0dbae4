"""Filling a JSON schema from facts, by each field's name, description and type.

A field's name and description say what it holds (``_schema.field_kind``), its type and
keywords what is valid (enums, bounds, formats). :class:`Filler` takes the facts in
priority order (the request, then the calls made and their results) and hands each fact
to one field only: the age is the number written with "years", ``temperature_f`` the
number in Fahrenheit, ``sky`` what is left of a result ("cloudy"). In strict mode
(arguments of a tool call the responder decides to make) a field nothing speaks for is
:data:`~._schema.MISSING` instead of a made-up value: the call waits for a result that
gives it, or is not made.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from functools import lru_cache
from typing import Any

from ._extract import PLACE_KINDS, Entity, Facts, Number, snippet, split_name, stem, words
from ._lexicon import CITIES, SCALES, SYNONYMS, UNIT_WORDS, UNITS
from ._schema import (
    MISSING,
    as_number,
    field_kind,
    fit_string,
    owner_kind,
    resolve,
    type_of,
)

__all__ = ["Filler"]

_EMAIL_RE = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+")
_URL_RE = re.compile(r"https?://[^\s\"'<>)]{1,300}")
_DATE_RE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
#: An id-like token: letters and digits mixed (ORD-7731, A1B2, #4521, 10042).
_ID_RE = re.compile(r"(?<![\w@.-])#?(?=[\w-]*\d)[A-Za-z0-9][\w-]{2,}(?![\w@-])")
_TARGET_WORDS = frozenset({"to", "target", "into", "dest", "destination", "output", "out"})
_SOURCE_WORDS = frozenset({"from", "source", "origin", "input", "base", "in"})
_TARGET_BEFORE_RE = re.compile(r"(?:\bto|\binto|\bin|\bas|\bhow many)\s+$")


@lru_cache(maxsize=256)
def _word_re(word: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w]){re.escape(word)}(?![\w])")


#: Names of string fields that hold an id-like token.
_ID_KEYS = frozenset(
    {"id", "ids", "number", "no", "code", "ref", "reference", "sku", "zip", "postcode", "postal"}
)
_CURRENCY_RE = re.compile(r"\b[A-Z]{3}\b")
_TIME_RE = re.compile(r"\b(?:[01]?\d|2[0-3]):[0-5]\d\b")
#: ISO 4217 codes in common use (a three-letter word in capitals is not always one).
CURRENCIES = frozenset(
    [
        "USD",
        "EUR",
        "JPY",
        "GBP",
        "CHF",
        "CAD",
        "AUD",
        "NZD",
        "CNY",
        "HKD",
        "SGD",
        "SEK",
        "NOK",
        "DKK",
        "PLN",
        "CZK",
        "HUF",
        "INR",
        "KRW",
        "BRL",
        "MXN",
        "ZAR",
        "TRY",
        "RUB",
        "AED",
        "SAR",
        "THB",
        "IDR",
        "MYR",
        "PHP",
        "VND",
        "ILS",
        "EGP",
        "NGN",
        "KES",
        "ARS",
        "CLP",
        "COP",
        "PEN",
        "TWD",
        "ISK",
        "RON",
        "BGN",
        "UAH",
    ]
)
_FORMAT_RE: dict[str, re.Pattern[str]] = {
    "email": _EMAIL_RE,
    "uri": _URL_RE,
    "url": _URL_RE,
    "date": _DATE_RE,
}
_FORMAT_DEFAULTS = {
    "date": "2025-01-01",
    "date-time": "2025-01-01T00:00:00Z",
    "time": "00:00:00",
    "email": "user@example.com",
    "uri": "https://example.com",
    "url": "https://example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


class Filler:
    """Builds JSON values for a schema from facts, each fact used once.

    ``pools``: the facts, best first. ``strict``: :data:`MISSING` for a required field
    nothing speaks for (a tool call's arguments); otherwise a valid stand-in value (a
    final answer, a forced call). ``subject``: the entity a call is about (one call per
    city...), given to the first field of its kind. ``fallback``: the text a free-text
    field gets when nothing better is found.
    """

    def __init__(
        self,
        pools: Sequence[Facts],
        root: Mapping[str, Any],
        *,
        strict: bool = False,
        subject: Entity | None = None,
        fallback: str = "",
    ) -> None:
        self.pools = pools
        self.root = root
        self.strict = strict
        self.subject = subject
        self.fallback = fallback
        self._used_numbers: set[int] = set()
        self._used_names: set[str] = set()
        self._used_phrases: set[str] = set()
        self._used_quotes: set[str] = set()
        if subject is not None:
            self._used_names.add(subject.text.lower())
        self._subject_given = False
        #: Property names of the object being filled: a quoted key is not a value.
        self._key_names: set[str] = set()

    # ------------------------------------------------------------------ objects

    def obj(self, schema: Any, *, everything: bool = True, keys: Sequence[str] = ()) -> Any:
        """An object for ``schema`` (all properties, or the required ones and those the
        facts speak for). :data:`MISSING` in strict mode when a required field is."""
        node = resolve(schema, self.root)
        props = node.get("properties")
        if not isinstance(props, Mapping):
            return {}
        required = node.get("required")
        req = {str(k) for k in required} if isinstance(required, list) else set()
        owner = owner_kind(node)
        self._key_names = {str(k).lower() for k in props} | {k.lower() for k in keys}
        values: dict[str, Any] = {}
        # Fields of a definite kind first, free text last, so text takes what is left.
        ordered = sorted(props.items(), key=lambda kv: self._is_free_text(kv[0], kv[1], owner))
        for key, sub in ordered:
            key = str(key)
            if not (everything or key in req or self._spoken_for(key, sub)):
                continue
            value = self.value(sub, key, owner)
            if value is MISSING:
                if key not in req:
                    continue  # an optional field nothing speaks for is left out
                if self.strict:
                    return MISSING
                value = self.stand_in(sub, key)
            values[key] = value
        return {str(k): values[str(k)] for k in props if str(k) in values}

    def _is_free_text(self, key: Any, sub: Any, owner: str | None) -> bool:
        node = resolve(sub, self.root)
        if type_of(node) != "string" or node.get("enum") or node.get("format"):
            return False
        return field_kind(str(key), node, owner) in ("text", "query")

    def _spoken_for(self, key: str, sub: Any) -> bool:
        """Whether an optional field is written in the facts (``key: value``, one of
        its enum values, a number in its unit)."""
        node = resolve(sub, self.root)
        if self._pair(key) is not None:
            return True
        enum = node.get("enum")
        if isinstance(enum, list):
            return self._mentioned(enum) is not None
        if type_of(node) in ("integer", "number"):
            return self._number(key, node, optional=True) is not None
        return False

    # ------------------------------------------------------------------ values

    def value(self, schema: Any, key: str, owner: str | None = None) -> Any:
        node = resolve(schema, self.root)
        typ = type_of(node)
        if typ == "const":
            return node["const"]
        enum = node.get("enum")
        if isinstance(enum, list) and enum:
            return self._enum(key, node, enum)
        if typ in ("integer", "number"):
            found = self._number(key, node)
            if found is None:
                return None if node.get("nullable") and not self.strict else MISSING
            return as_number(found, node, typ == "integer")
        if typ == "boolean":
            raw = self._pair(key)
            if raw is not None:
                return str(raw).lower() in ("true", "yes", "1", "on")
            default = node.get("default")
            return default if isinstance(default, bool) else False
        if typ == "null":
            return None
        if typ == "array":
            return self._array(node, key, owner)
        if typ == "object":
            inner = Filler(self.pools, self.root, strict=self.strict, fallback=self.fallback)
            inner._used_names = self._used_names
            inner._used_numbers = self._used_numbers
            return inner.obj(node)
        text = self._string(key, node, owner)
        if text is None:
            if node.get("nullable") and not self.strict:
                return None
            return MISSING
        return fit_string(text, node)

    def stand_in(self, schema: Any, key: str) -> Any:
        """A valid value for a field nothing speaks for: the schema's default, else its
        minimum (numbers), else a neutral value."""
        node = resolve(schema, self.root)
        if "default" in node:
            return node["default"]
        typ = type_of(node)
        if typ in ("integer", "number"):
            return as_number(None, node, typ == "integer")
        if typ == "string":
            return fit_string(self.fallback or key, node)
        if typ == "array":
            return []
        if typ == "object":
            return Filler(self.pools, self.root, fallback=self.fallback).obj(node)
        if typ == "boolean":
            return False
        return None

    def _pair(self, key: str) -> Any:
        low = key.lower()
        for pool in self.pools:
            if low in pool.pairs:
                return pool.pairs[low]
        if len(key) >= 3 and self.pools:
            return self.pools[0].phrase_of_key(key)
        return None

    def _mentioned(self, options: list[Any]) -> Any:
        for pool in self.pools:
            low = pool.low
            for option in options:
                if isinstance(option, str) and option and _has_word(low, option.lower()):
                    return option
        return None

    def _enum(self, key: str, node: Mapping[str, Any], enum: list[Any]) -> Any:
        raw = self._pair(key)
        if raw is not None:
            for option in enum:
                if str(option).lower() == str(raw).lower():
                    return option
        mentioned = self._mentioned_in_order(enum)
        if len(mentioned) >= 2:
            # Two ends of a conversion: the target follows "to", "into", "in", "as" or
            # "how many"; the source is the other one.
            names = set(split_name(key))
            target = next((o for o, after in mentioned if after), mentioned[-1][0])
            source = next(o for o, _ in mentioned if o != target)
            if names & _TARGET_WORDS:
                return target
            if names & _SOURCE_WORDS:
                return source
        if mentioned:
            return mentioned[0][0]
        if "default" in node:
            return node["default"]
        # A required choice nobody made is not made up for a tool call.
        return MISSING if self.strict else enum[0]

    def _mentioned_in_order(self, options: list[Any]) -> list[tuple[Any, bool]]:
        """The options the first pool that mentions any names, in the order written,
        each with whether it follows a target word ("to km", "how many miles")."""
        for pool in self.pools:
            low = pool.low
            found: list[tuple[int, Any, bool]] = []
            for option in options:
                if not isinstance(option, str) or not option:
                    continue
                m = _word_re(option.lower()).search(low)
                if m is not None:
                    before = low[max(0, m.start() - 12) : m.start()]
                    found.append((m.start(), option, bool(_TARGET_BEFORE_RE.search(before))))
            if found:
                return [(o, after) for _, o, after in sorted(found, key=lambda f: f[0])]
        return []

    # ------------------------------------------------------------------ numbers

    def _number(self, key: str, node: Mapping[str, Any], *, optional: bool = False) -> Any:
        raw = self._pair(key)
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            return float(raw)
        if isinstance(raw, str):
            try:
                return float(raw.replace(",", ""))
            except ValueError:
                pass
        key_words = split_name(key)
        desc = words(str(node.get("description") or ""))
        wanted = {
            UNITS[w]
            for w in (*key_words, *desc)
            if w in UNITS and UNITS[w] in UNIT_WORDS and (len(w) > 1 or len(key_words) > 1)
        }
        meaning = {stem(w) for w in (*key_words, *desc)}
        for w in list(meaning):
            meaning |= {stem(s) for s in SYNONYMS.get(w, ())}
        best: tuple[float, int, Number] | None = None
        order = 0
        for pool in self.pools:
            for n in pool.numbers:
                order += 1
                if id(n) in self._used_numbers:
                    continue
                if n.key is not None and n.key.lower() == key.lower():
                    score = 100.0
                else:
                    if wanted and n.unit is not None and n.unit not in wanted:
                        continue  # 64.4 F is not a Celsius value
                    score = 10.0 if n.unit is not None and n.unit in wanted else 0.0
                    tags = set(n.context)
                    if n.unit:
                        tags.add(stem(n.unit))
                    if n.key:
                        tags |= {stem(w) for w in split_name(n.key)}
                    score += 3.0 * len(meaning & tags)
                if optional and score <= 0:
                    continue
                if best is None or score > best[0] or (score == best[0] and order < best[1]):
                    best = (score, order, n)
        if best is None:
            return None
        n = best[2]
        self._used_numbers.add(id(n))
        value = n.value
        scale_words = {w for w, s in SCALES.items() if s == n.scale}
        if n.scale != 1.0 and not (scale_words & set(key_words) or scale_words & set(desc)):
            value *= n.scale
        return value

    # ------------------------------------------------------------------ strings

    def _string(self, key: str, node: Mapping[str, Any], owner: str | None) -> str | None:
        raw = self._pair(key)
        if raw is not None and not isinstance(raw, (Mapping, list)):
            self._used_names.add(str(raw).lower())
            return str(raw)
        fmt = node.get("format")
        if isinstance(fmt, str) and fmt in _FORMAT_DEFAULTS:
            pattern = _FORMAT_RE.get(fmt)
            for pool in self.pools:
                m = pattern.search(pool.text) if pattern else None
                if m is not None:
                    return m.group(0)
            return None if self.strict else _FORMAT_DEFAULTS[fmt]
        typed = self._typed(key, node)
        if typed is not None:
            return typed or None
        kind = field_kind(key, node, owner)
        if self.subject is not None and not self._subject_given and _fits(self.subject, kind):
            self._subject_given = True
            return self.subject.text
        if kind in ("person", "name"):
            named = self._named()
            if named is not None:
                return named
        if kind in ("country", "place", "person", "symbol", "name"):
            found = self._entity(kind)
            if found is not None:
                return found
            if kind == "country":
                city = self._entity("city-country")
                if city is not None:
                    return city
            return self._quote() if kind == "place" else None
        if kind == "query":
            return self._quote() or snippet(self.fallback, 200) or None
        # A tool's free-text argument takes what the message names (a thing, else a place:
        # "high tide in Brest" for a ``harbour``) rather than nothing; an answer's field
        # says what it is (below).
        found = (
            self._quote()
            or self._phrase()
            or self._topic()
            or self._entity("name")
            or (self._entity("place") if self.strict else None)
        )
        if found is not None:
            return found
        default = node.get("default")
        if isinstance(default, str):
            return default
        if not self.fallback:
            return None
        # A tool argument is never the request itself (nothing speaks for it: the call
        # waits or the answer says what is missing); an answer's field says what it is.
        return None if self.strict else f"{key} for: {snippet(self.fallback, 60)}"

    def _typed(self, key: str, node: Mapping[str, Any]) -> str | None:
        """A value of a typed field found by its name: an email, an id, a currency
        code, a date or a time, from the pools (results first when they lead). ``""``:
        the field is of such a type and nothing of it was found; None: not such a field."""
        names = set(split_name(key))
        described = " ".join(words(str(node.get("description") or "")))
        pattern: re.Pattern[str] | None = None
        #: Whether a field of this type with nothing found is still of it (else: free).
        firm = True
        if "email" in names or "mail" in names:
            pattern = _EMAIL_RE
        elif names & {"currency", "currencies"} or "currency code" in described:
            pattern = _CURRENCY_RE
        elif "date" in names and "time" not in names:
            pattern = _DATE_RE
        elif names & {"day", "time", "hour"} and "zone" not in names:
            pattern, firm = (_DATE_RE if "day" in names else _TIME_RE), False
        elif names & _ID_KEYS and type_of(node) == "string":
            pattern = _ID_RE
        if pattern is None:
            return None
        used = self._used_names
        for pool in self.pools:
            for m in pattern.finditer(pool.text):
                value = m.group(0).lstrip("#")
                if pattern is _CURRENCY_RE and value not in CURRENCIES:
                    continue
                if value.lower() in used or value.lower() in self._key_names:
                    continue
                used.add(value.lower())
                return value
        return "" if firm else None

    def _entity(self, kind: str) -> str | None:
        for pool in self.pools:
            for e in pool.entities:
                low = e.text.lower()
                if kind == "city-country":
                    # A city's country, when the text names the city only.
                    city = CITIES.get(low.split(",")[0])
                    if e.kind == "city" and city is not None:
                        country = city[1]
                        if country.lower() not in self._used_names:
                            self._used_names.add(country.lower())
                            return country
                    continue
                if low not in self._used_names and _fits(e, kind):
                    self._used_names.add(low)
                    return e.text
        return None

    def _take(self, field: str, used: set[str], skip: AbstractSet[str] = frozenset()) -> str | None:
        """The first string of the pools' ``field`` (quoted, named, topics, phrases) not
        used yet and not in ``skip``; it is used from now on."""
        for pool in self.pools:
            for text in getattr(pool, field):
                if text not in used and text.lower() not in skip:
                    used.add(text)
                    return str(text)
        return None

    def _quote(self) -> str | None:
        return self._take("quoted", self._used_quotes, self._key_names)

    def _named(self) -> str | None:
        return self._take("named", self._used_quotes)

    def _topic(self) -> str | None:
        return self._take("topics", self._used_phrases)

    def _phrase(self) -> str | None:
        return self._take("phrases", self._used_phrases, self._used_names)

    def _array(self, node: Mapping[str, Any], key: str, owner: str | None) -> Any:
        items = resolve(node.get("items", {}), self.root)
        typ = type_of(items)
        out: list[Any] = []
        if typ in ("integer", "number"):
            while len(out) < 16 and (n := self._number(key, items)) is not None:
                out.append(as_number(n, items, typ == "integer"))
        elif typ == "string" and not items.get("enum"):
            kind = field_kind(key, items, owner)
            if kind in ("country", "place", "person", "symbol", "name"):
                while len(out) < 16 and (found := self._entity(kind)) is not None:
                    out.append(fit_string(found, items))
            while len(out) < 16 and (q := self._quote()) is not None:
                out.append(fit_string(q, items))
        elif typ == "object":
            count = max(1, min(5, self._count_subjects(items)))
            for _ in range(count):
                value = self.value(items, key, owner)
                if value is MISSING:
                    break
                out.append(value)
        if not out:
            value = self.value(items, key, owner)
            if value is MISSING:
                if self.strict and isinstance(node.get("minItems"), int) and node["minItems"] > 0:
                    return MISSING
                return []
            out.append(value)
        lo = node.get("minItems")
        hi = node.get("maxItems")
        while isinstance(lo, int) and len(out) < lo:
            out.append(out[-1])
        if isinstance(hi, int):
            out = out[:hi]
        return out

    def _count_subjects(self, items: Mapping[str, Any]) -> int:
        props = items.get("properties")
        if not isinstance(props, Mapping):
            return 1
        owner = owner_kind(items)
        kinds = {field_kind(str(k), resolve(v, self.root), owner) for k, v in props.items()}
        for kind in ("person", "place", "country", "symbol"):
            if kind in kinds:
                return sum(
                    1
                    for pool in self.pools
                    for e in pool.entities
                    if _fits(e, kind) and e.text.lower() not in self._used_names
                )
        return 1


def _fits(entity: Entity, kind: str) -> bool:
    if kind == "country":
        return entity.kind == "country"
    if kind == "place":
        return entity.kind in PLACE_KINDS or (entity.kind == "name" and entity.strong)
    if kind == "person":
        return entity.kind == "person" or (entity.kind == "name" and entity.strong)
    if kind == "symbol":
        return entity.kind == "symbol"
    if kind == "name":
        return entity.kind in ("name", "symbol") and entity.strong
    return False


def _has_word(text: str, word: str) -> bool:
    start = text.find(word)
    while start >= 0:
        end = start + len(word)
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        if not before.isalnum() and not after.isalnum():
            return True
        start = text.find(word, start + 1)
    return False
