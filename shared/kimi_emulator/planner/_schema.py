"""JSON schema nodes as the responder reads them: ``$ref``, ``anyOf`` and ``allOf``
resolved, the type, and what a field holds by its name and description (``city``: a
place; ``name`` in a ``Person``: a person's name, in a ``City``: a place).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .._mfjs import json_type
from ._extract import split_name, words
from ._lexicon import words_of

__all__ = [
    "MISSING",
    "NAME_KEYS",
    "PLACE_KEYS",
    "as_number",
    "field_kind",
    "fit_string",
    "owner_kind",
    "resolve",
    "type_of",
]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


#: What strict filling returns for a field nothing in the facts speaks for.
MISSING: Final = _Missing()

PLACE_KEYS = frozenset(
    {"city", "location", "place", "town", "destination", "origin", "address", "region"}
    | {"state", "where", "area", "locale", "loc", "capital"}
)
NAME_KEYS = frozenset({"name", "person", "user", "username", "who", "author", "customer"})
_SYMBOL_KEYS = frozenset({"symbol", "ticker", "stock"})
_QUERY_KEYS = words_of(
    "query q question search prompt message keyword keywords topic term terms expression "
    "expr code task request instruction instructions sentence statement problem"
)
_THING_WORDS = words_of(
    "company organization organisation org product team brand book movie film song tool "
    "project app application"
)
# --------------------------------------------------------------------------- schema nodes


def resolve(schema: Any, root: Mapping[str, Any]) -> Mapping[str, Any]:
    """``schema`` with ``$ref`` followed, ``allOf`` merged and the first non-null
    ``anyOf``/``oneOf`` branch taken (``nullable`` set when a null branch was there)."""
    node: Any = schema
    for _ in range(16):
        if not isinstance(node, Mapping):
            return {}
        ref = node.get("$ref")
        if isinstance(ref, str):
            node = {**_lookup(ref, root), **{k: v for k, v in node.items() if k != "$ref"}}
            continue
        branches = node.get("anyOf") or node.get("oneOf")
        if isinstance(branches, list) and branches:
            usable = [b for b in branches if isinstance(b, Mapping)]
            non_null = [b for b in usable if b.get("type") != "null"]
            pick = (non_null or usable or [{}])[0]
            rest = {k: v for k, v in node.items() if k not in ("anyOf", "oneOf")}
            if len(non_null) < len(usable):
                rest["nullable"] = True
            node = {**rest, **pick}
            continue
        all_of = node.get("allOf")
        if isinstance(all_of, list) and all_of:
            merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
            for part in all_of:
                for k, v in resolve(part, root).items():
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


def type_of(node: Mapping[str, Any]) -> str:
    typ = node.get("type")
    if isinstance(typ, list):
        if "null" in typ:
            typ = next((t for t in typ if t != "null"), "null")
        else:
            typ = typ[0] if typ else "string"
    if isinstance(typ, str):
        return typ
    enum = node.get("enum")
    if isinstance(enum, list) and enum:
        kind = json_type(enum[0])
        return kind if kind in ("boolean", "integer", "number") else "string"
    if "const" in node:
        return "const"
    if "properties" in node:
        return "object"
    if "items" in node:
        return "array"
    return "string"


def _node_words(node: Mapping[str, Any]) -> set[str]:
    desc = node.get("description")
    title = node.get("title")
    text = f"{desc if isinstance(desc, str) else ''} {title if isinstance(title, str) else ''}"
    return set(words(text))


def owner_kind(node: Mapping[str, Any]) -> str | None:
    """What an object is about, from its title, else its description: ``country``,
    ``place``, ``name`` (a company, a product...) or None (a ``name`` in it is a
    person's)."""
    title = str(node.get("title") or "")
    desc = str(node.get("description") or "")
    for text in (title, desc):
        found = set(split_name(text)) | set(words(text))
        if "country" in found and not found & PLACE_KEYS:
            return "country"
        if found & PLACE_KEYS:
            return "place"
        if found & _THING_WORDS:
            return "name"
        if found & NAME_KEYS:
            return None
    return None


def field_kind(key: str, node: Mapping[str, Any], owner: str | None = None) -> str:
    """What a string field holds: ``country``, ``place``, ``person``, ``symbol``,
    ``query``, ``name`` (of a thing) or ``text``. ``owner``: what the object is about
    (:func:`owner_kind`: a ``name`` in a ``City`` is a place)."""
    names = set(split_name(key))
    if "country" in names:
        return "country"
    if names & PLACE_KEYS:
        return "place"
    if names & _SYMBOL_KEYS:
        return "symbol"
    if names & _QUERY_KEYS:
        return "query"
    described = _node_words(node)
    if names & NAME_KEYS or (names & {"full", "first", "last"}):
        if owner is not None:
            return owner
        if "country" in described and not described & PLACE_KEYS:
            return "country"
        if described & PLACE_KEYS:
            return "place"
        return "name" if described & _THING_WORDS else "person"
    if "country" in described:
        return "country"
    if described & {"city", "town", "location", "place"}:
        return "place"
    return "text"


def as_number(value: float | None, node: Mapping[str, Any], integer: bool) -> Any:
    """``value`` (or the schema's default, minimum, else 0) clamped to the bounds."""
    if value is None:
        default = node.get("default")
        if isinstance(default, (int, float)) and not isinstance(default, bool):
            value = float(default)
        else:
            lo = node.get("minimum")
            xlo = node.get("exclusiveMinimum")
            if isinstance(lo, (int, float)):
                value = float(lo)
            elif isinstance(xlo, (int, float)):
                value = float(xlo) + (1 if integer else 0.5)
            else:
                value = 0.0
    lo = node.get("minimum")
    hi = node.get("maximum")
    if isinstance(lo, (int, float)) and value < lo:
        value = float(lo)
    if isinstance(hi, (int, float)) and value > hi:
        value = float(hi)
    if integer:
        return round(value)
    return int(value) if value.is_integer() and abs(value) < 1e15 else value


def fit_string(value: str, node: Mapping[str, Any]) -> str:
    """``value`` cut or padded to the length bounds."""
    lo = node.get("minLength")
    hi = node.get("maxLength")
    if isinstance(hi, int) and len(value) > hi:
        value = value[:hi]
    if isinstance(lo, int) and len(value) < lo:
        value = value + "." * (lo - len(value))
    return value
