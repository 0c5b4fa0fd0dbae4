"""Schema normalisation: any JSON Schema in, "Moonshot flavored JSON Schema" out.

Kimi validates tool parameters and ``json_schema`` response formats against a
subset of JSON Schema. Observed rejections (docs/kimi-platform.md §4, and public issue threads):

- ``conflicting keywords found after $ref expansion: description``: nothing may stand
  beside a ``$ref``;
- ``when using anyOf, type should be defined in anyOf items instead of the parent
  schema``: every ``anyOf`` item needs its own ``type`` and the parent none;
- nested properties without ``type``; ``anyOf`` branches that only say ``required``;
- refs that do not start with ``#/$defs``; ``if``/``then``/``not`` and friends.

:func:`normalize_schema` rewrites a schema (Pydantic's output, an MCP tool's, a hand
written one) into that subset while keeping its meaning: refs are inlined (recursive
ones stay as bare ``#/$defs/...`` refs), ``oneOf`` becomes ``anyOf``, ``const``
becomes a one-value ``enum``, type lists become typed ``anyOf`` branches, untyped
nodes get a type inferred from their keywords, and keywords Kimi rejects are dropped.
The input is never modified.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["normalize_schema"]

_DROP = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "$anchor",
        "$dynamicRef",
        "$dynamicAnchor",
        "if",
        "then",
        "else",
        "not",
        "dependentRequired",
        "dependentSchemas",
        "dependencies",
        "unevaluatedProperties",
        "unevaluatedItems",
        "patternProperties",
        "propertyNames",
        "contains",
        "minContains",
        "maxContains",
        "discriminator",
        "examples",
        "readOnly",
        "writeOnly",
        "deprecated",
        "contentMediaType",
        "contentEncoding",
        "nullable",
        "definitions",
        "$defs",
    }
)

_ANY_BRANCHES = ("string", "number", "boolean", "object", "array", "null")

# Keywords that belong to one JSON type (used to split ``type: [..]`` into branches).
_TYPE_KEYWORDS: dict[str, frozenset[str]] = {
    "object": frozenset(
        {"properties", "required", "additionalProperties", "minProperties", "maxProperties"}
    ),
    "array": frozenset({"items", "minItems", "maxItems", "uniqueItems", "prefixItems"}),
    "string": frozenset({"minLength", "maxLength", "pattern", "format"}),
    "number": frozenset(
        {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
    ),
}
_TYPE_KEYWORDS["integer"] = _TYPE_KEYWORDS["number"]
_ANNOTATIONS = frozenset({"description", "title", "default"})


def normalize_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``schema`` rewritten as Moonshot flavored JSON Schema.

    The root is always an object schema (``{"type": "object", "properties": {}}`` for an
    empty one), as tool parameters require.
    """
    defs: dict[str, Any] = {}
    _collect_defs(schema, defs)
    norm = _Normalizer(defs)
    top = dict(schema)
    if not _has_type_info(top) and _infer(top) is None:
        top["type"] = "object"
    root = norm.node(top, ())
    if "anyOf" not in root and "$ref" not in root:
        root.setdefault("type", "object")
        if root.get("type") == "object":
            root.setdefault("properties", {})
    if norm.kept_defs:
        out_defs: dict[str, Any] = {}
        # Normalising a kept def may reveal further recursive defs: iterate to a fixpoint.
        while len(out_defs) < len(norm.kept_defs):
            for name in list(norm.kept_defs):
                if name not in out_defs:
                    out_defs[name] = norm.node(dict(defs[name]), (name,))
        root["$defs"] = out_defs
    return root


def _collect_defs(node: Any, defs: dict[str, Any]) -> None:
    """Gather ``$defs``/``definitions`` from anywhere in the schema (hoisted to the root)."""
    if isinstance(node, Mapping):
        for key in ("$defs", "definitions"):
            found = node.get(key)
            if isinstance(found, Mapping):
                for name, sub in found.items():
                    defs.setdefault(str(name), sub)
        for value in node.values():
            _collect_defs(value, defs)
    elif isinstance(node, list):
        for value in node:
            _collect_defs(value, defs)


class _Normalizer:
    def __init__(self, defs: dict[str, Any]) -> None:
        self.defs = defs
        self.kept_defs: dict[str, None] = {}

    def node(self, schema: Any, stack: tuple[str, ...]) -> dict[str, Any]:
        """Normalise one schema node; ``stack`` holds the defs being expanded."""
        if not isinstance(schema, Mapping):
            # ``true``, ``null`` or garbage: any value.
            return _any({})
        node = {k: v for k, v in schema.items() if k not in _DROP}

        ref = node.pop("$ref", None)
        if isinstance(ref, str):
            return self._ref(ref, node, stack)
        if "allOf" in node:
            node = self._merge_all_of(node, stack)
            if "$ref" in node:
                return node
        if "oneOf" in node:
            node["anyOf"] = node.pop("oneOf")
        if "const" in node:
            node["enum"] = [node.pop("const")]

        self._children(node, stack)

        if "anyOf" in node:
            return self._any_of(node, stack)
        typ = node.get("type")
        if isinstance(typ, list):
            return _split_types(node, typ)
        if typ is None:
            inferred = _infer(node)
            if inferred is None:
                return _any(node)
            node["type"] = inferred
        if node["type"] == "object" and "required" not in node:
            # Whether Kimi needs an explicit ``required`` on an object is unconfirmed
            # (hermes-agent#66835 reports "required must be an array" for an object without
            # one; no other probe): an empty list means the same and works either way.
            node["required"] = []
        return node

    def _children(self, node: dict[str, Any], stack: tuple[str, ...]) -> None:
        props = node.get("properties")
        if isinstance(props, Mapping):
            node["properties"] = {str(k): self.node(v, stack) for k, v in props.items()}
        elif "properties" in node:
            del node["properties"]
        items = node.get("items")
        prefix = node.pop("prefixItems", None)
        if isinstance(prefix, list) and prefix:
            # Tuples: Kimi knows no prefixItems; keep the item types and the length.
            node["items"] = self.node({"anyOf": prefix}, stack)
            node.setdefault("minItems", len(prefix))
            if items is False or items is None:
                node.setdefault("maxItems", len(prefix))
        elif isinstance(items, list):
            node["items"] = self.node({"anyOf": items}, stack) if items else _any({})
        elif isinstance(items, Mapping) or items is True:
            node["items"] = self.node(items, stack)
        elif "items" in node:
            del node["items"]
        extra = node.get("additionalProperties")
        if isinstance(extra, Mapping):
            node["additionalProperties"] = self.node(extra, stack)

    def _ref(self, ref: str, siblings: dict[str, Any], stack: tuple[str, ...]) -> dict[str, Any]:
        name = _ref_name(ref)
        if name is None or name not in self.defs:
            # A remote ref or one to a missing def: keep the annotations and accept any
            # value rather than send a dangling ref.
            return _any({k: v for k, v in siblings.items() if k in _ANNOTATIONS})
        if name in stack:
            # Recursive: Kimi accepts a bare "#/$defs/..." ref with nothing beside it.
            self.kept_defs[name] = None
            return {"$ref": f"#/$defs/{name}"}
        target = self.node(self.defs[name], (*stack, name))
        if "$ref" in target or not siblings:
            return target
        extra = {k: v for k, v in siblings.items() if k not in _ANNOTATIONS}
        merged = target
        if extra and "type" in target:
            merged = _merge_objects(target, self.node({**extra, "type": target["type"]}, stack))
        # The use site's description/title/default win over the definition's.
        merged.update({k: v for k, v in siblings.items() if k in _ANNOTATIONS})
        return merged

    def _merge_all_of(self, node: dict[str, Any], stack: tuple[str, ...]) -> dict[str, Any]:
        parts = node.pop("allOf")
        merged: dict[str, Any] = {}
        for part in parts if isinstance(parts, list) else ():
            sub = self.node(part, stack)
            if "$ref" in sub:
                # allOf with a recursive ref: the ref alone is the closest Kimi accepts.
                return sub
            merged = _merge_objects(merged, sub)
        return _merge_objects(merged, node)

    def _any_of(self, node: dict[str, Any], stack: tuple[str, ...]) -> dict[str, Any]:
        raw = node.pop("anyOf")
        parent_type = node.pop("type", None)
        if isinstance(parent_type, list):
            parent_type = None
        items = [i for i in raw if isinstance(i, Mapping)] if isinstance(raw, list) else []
        if parent_type and items and not any(_has_type_info(i) for i in items):
            # ``type`` + ``anyOf`` of branches that only say ``required``: a constraint
            # Kimi cannot read. The parent schema alone still describes every property.
            node["type"] = parent_type
            return node
        branches: list[dict[str, Any]] = []
        for item in items:
            if parent_type and not _has_type_info(item):
                item = {**item, "type": parent_type}
            sub = self.node(item, stack)
            if "anyOf" in sub and not (sub.keys() - _ANNOTATIONS - {"anyOf"}):
                branches.extend(sub["anyOf"])  # flatten nested anyOf
            else:
                branches.append(sub)
        # Keywords beside the anyOf (an object's properties, a string's format) go into
        # each branch of the type they belong to.
        for key in [k for k in node if k not in _ANNOTATIONS]:
            value = node.pop(key)
            for branch in branches:
                if _applies(key, branch):
                    branch.update(
                        _merge_objects({key: value}, branch) if key in branch else {key: value}
                    )
        branches = _dedupe(branches)
        annotations = {k: v for k, v in node.items() if k in _ANNOTATIONS}
        if not branches:
            return _any(annotations)
        if len(branches) == 1:
            return {**branches[0], **annotations}
        return {**annotations, "anyOf": branches}


def _ref_name(ref: str) -> str | None:
    for prefix in ("#/$defs/", "#/definitions/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :].replace("~1", "/").replace("~0", "~")
    return None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _infer(node: Mapping[str, Any]) -> str | None:
    """The type an untyped node's keywords imply, or None when they imply none."""
    if "properties" in node or "additionalProperties" in node or "required" in node:
        return "object"
    if "items" in node:
        return "array"
    enum = node.get("enum")
    if isinstance(enum, list) and enum:
        kinds = {_json_type(v) for v in enum}
        if kinds == {"integer"}:
            return "integer"
        if kinds <= {"integer", "number"}:
            return "number"
        return kinds.pop() if len(kinds) == 1 else None
    if node.keys() & _TYPE_KEYWORDS["string"]:
        return "string"
    if node.keys() & _TYPE_KEYWORDS["number"]:
        return "number"
    return None


def _any(node: Mapping[str, Any]) -> dict[str, Any]:
    """An untyped node: "any JSON value", spelled as typed branches Kimi accepts."""
    out = {k: v for k, v in node.items() if k in _ANNOTATIONS}
    enum = node.get("enum")
    if isinstance(enum, list) and enum:
        kinds = dict.fromkeys(_json_type(v) for v in enum)
        out["anyOf"] = [{"type": k, "enum": [v for v in enum if _json_type(v) == k]} for k in kinds]
    else:
        out["anyOf"] = [{"type": t} for t in _ANY_BRANCHES]
    return out


def _split_types(node: dict[str, Any], types: list[Any]) -> dict[str, Any]:
    """``type: [a, b]`` as typed ``anyOf`` branches, each with its own keywords."""
    names = [t for t in dict.fromkeys(types) if isinstance(t, str)]
    if len(names) <= 1:
        if names:
            node["type"] = names[0]
        else:
            del node["type"]
        return node if names else _any(node)
    enum = node.get("enum")
    branches: list[dict[str, Any]] = []
    for t in names:
        branch: dict[str, Any] = {"type": t}
        branch.update({k: node[k] for k in _TYPE_KEYWORDS.get(t, ()) if k in node})
        if isinstance(enum, list):
            values = [v for v in enum if _json_type(v) == t or (t == "number" and _is_number(v))]
            if not values:
                continue
            branch["enum"] = values
        branches.append(branch)
    out = {k: v for k, v in node.items() if k in _ANNOTATIONS}
    out["anyOf"] = branches
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _has_type_info(item: Mapping[str, Any]) -> bool:
    return not item.keys().isdisjoint(
        ("type", "$ref", "anyOf", "oneOf", "allOf", "enum", "const", "properties", "items")
    )


def _applies(key: str, branch: Mapping[str, Any]) -> bool:
    typ = branch.get("type")
    return isinstance(typ, str) and key in _TYPE_KEYWORDS.get(typ, frozenset())


def _merge_objects(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """Merge two schemas (allOf semantics): properties and required are unioned, b wins."""
    out = dict(a)
    for key, value in b.items():
        old = out.get(key)
        if key == "properties" and isinstance(old, Mapping) and isinstance(value, Mapping):
            out[key] = {**old, **value}
        elif key == "required" and isinstance(old, list) and isinstance(value, list):
            out[key] = list(dict.fromkeys([*old, *value]))
        else:
            out[key] = value
    return out


def _dedupe(branches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    for branch in branches:
        if branch not in seen:
            seen.append(branch)
    return seen
