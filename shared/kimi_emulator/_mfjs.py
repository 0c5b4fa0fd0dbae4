"""The server's side of "Moonshot flavored JSON Schema": which schemas Kimi refuses.

An independent judge for ``kimi_core.normalize_schema`` (this module never calls it).
Written from the published MFJS spec and the rejections observed from the real API:

- ``At path 'properties.x': type is not defined`` (a node with no ``type``, ``anyOf``
  or ``$ref``; an empty ``{}`` still means "any value" and passes);
- ``when using anyOf, type should be defined in anyOf items instead of the parent schema``;
- ``when using $ref, type should be defined in the referenced schema instead of the
  parent schema``;
- ``conflicting keywords found after $ref expansion: description`` (a keyword beside a
  ``$ref`` that the referenced schema also has);
- ``references must start with #/$defs/``; ``property schema for 'x' must be an object``
  (boolean schemas); ``items must be an object`` (tuple ``items``); ``required property
  'x' is not defined in properties``; enum values of the wrong type.

Keywords the spec does not list (``minimum``, ``format``, ``title``...) are accepted, as
the real validator does outside its strictest mode.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["SchemaRejectedError", "check_schema", "json_type"]

_TYPES = frozenset({"null", "boolean", "object", "array", "number", "integer", "string"})
_REF_PREFIX = "#/$defs/"


class SchemaRejectedError(Exception):
    """A schema Kimi refuses; ``str()`` is the ``At path '...': ...`` detail."""

    def __init__(self, path: tuple[str, ...], message: str) -> None:
        self.path = path
        self.detail = message
        shown = ".".join(path) if path else "root"
        super().__init__(f"At path '{shown}': {message}")


def check_schema(schema: Any) -> None:
    """Raise :class:`SchemaRejectedError` when Kimi would refuse ``schema``."""
    if not isinstance(schema, Mapping):
        raise SchemaRejectedError((), "schema must be a dict")
    if not schema:
        return
    _Checker(schema).node(schema, ())


def json_type(value: Any) -> str:
    """The JSON type name of a decoded value (``integer`` for an int, not ``number``)."""
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


def _matches(value: Any, typ: str) -> bool:
    kind = json_type(value)
    if typ == "number":
        return kind in ("integer", "number")
    if typ == "integer":
        return kind == "integer" or (isinstance(value, float) and value.is_integer())
    return kind == typ


class _Checker:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        defs = root.get("$defs")
        self.defs: Mapping[str, Any] = defs if isinstance(defs, Mapping) else {}

    def node(self, node: Mapping[str, Any], path: tuple[str, ...]) -> None:
        if not path and "$defs" in node:
            self._defs(node["$defs"])
        has_type = "type" in node
        if has_type and "anyOf" in node:
            raise SchemaRejectedError(
                path,
                "when using anyOf, type should be defined in anyOf items instead of the "
                "parent schema",
            )
        if has_type and "$ref" in node:
            raise SchemaRejectedError(
                path,
                "when using $ref, type should be defined in the referenced schema instead "
                "of the parent schema",
            )
        types = self._type(node, path) if has_type else []
        structural = node.keys() - {"$defs"}
        if not has_type and "anyOf" not in node and "$ref" not in node and structural:
            raise SchemaRejectedError(path, "type is not defined")

        if "description" in node and not isinstance(node["description"], str):
            raise SchemaRejectedError((*path, "description"), "description must be a string")
        if "enum" in node:
            self._enum(node["enum"], types, path)
        props = node.get("properties")
        if "properties" in node:
            if not isinstance(props, Mapping):
                raise SchemaRejectedError((*path, "properties"), "properties must be an object")
            for name, sub in props.items():
                if not isinstance(sub, Mapping):
                    raise SchemaRejectedError(
                        (*path, "properties"), f"property schema for '{name}' must be an object"
                    )
        if "required" in node:
            self._required(node["required"], props, path)
        if "items" in node and not isinstance(node["items"], Mapping):
            raise SchemaRejectedError((*path, "items"), "items must be an object")
        extra = node.get("additionalProperties")
        if "additionalProperties" in node and not isinstance(extra, (bool, Mapping)):
            raise SchemaRejectedError(
                (*path, "additionalProperties"),
                "additionalProperties must be a boolean or an object",
            )
        if "$ref" in node:
            self._ref(node, path)
        if "anyOf" in node:
            self._any_of(node, path)

        if isinstance(props, Mapping):
            for name, sub in props.items():
                self.node(sub, (*path, "properties", str(name)))
        items = node.get("items")
        if isinstance(items, Mapping):
            self.node(items, (*path, "items"))
        if isinstance(extra, Mapping):
            self.node(extra, (*path, "additionalProperties"))
        for branch in node.get("anyOf") or ():
            self.node(branch, (*path, "anyOf"))

    def _defs(self, defs: Any) -> None:
        if not isinstance(defs, Mapping):
            raise SchemaRejectedError(("$defs",), "$defs must be an object")
        for name, sub in defs.items():
            if not name:
                raise SchemaRejectedError(("$defs",), "$defs property name cannot be empty")
            if "/" in name:
                raise SchemaRejectedError(
                    ("$defs",), f"$defs property name '{name}' cannot contain '/' character"
                )
            if not isinstance(sub, Mapping):
                raise SchemaRejectedError(("$defs",), f"$defs schema must be object: {name}")
            self.node(sub, ("$defs", str(name)))

    def _type(self, node: Mapping[str, Any], path: tuple[str, ...]) -> list[str]:
        value = node["type"]
        if isinstance(value, str):
            if value not in _TYPES:
                raise SchemaRejectedError(path, "invalid type")
            return [value]
        if isinstance(value, list):
            if not value:
                raise SchemaRejectedError(path, "type array cannot be empty")
            if not all(isinstance(t, str) and t in _TYPES for t in value):
                raise SchemaRejectedError(path, "invalid type in type array")
            if len(value) > 1 and "enum" in node:
                for t in value:
                    if t in ("object", "array"):
                        raise SchemaRejectedError(
                            path, f"type {t} is not allowed in combination with enum"
                        )
            return list(value)
        raise SchemaRejectedError(path, "type must be string or array of strings")

    def _enum(self, enum: Any, types: list[str], path: tuple[str, ...]) -> None:
        where = (*path, "enum")
        if not isinstance(enum, list):
            raise SchemaRejectedError(where, "enum must be an array")
        if not enum:
            raise SchemaRejectedError(where, "enum array cannot be empty")
        if not types:
            raise SchemaRejectedError(path, "type is not defined")
        for value in enum:
            if not any(_matches(value, t) for t in types):
                shown = "<nil>" if value is None else value
                raise SchemaRejectedError(
                    where, f"enum value ({shown}) does not match any type in [{' '.join(types)}]"
                )

    def _required(self, required: Any, props: Any, path: tuple[str, ...]) -> None:
        where = (*path, "required")
        if not isinstance(required, list):
            raise SchemaRejectedError(where, "required must be an array")
        for name in required:
            if not isinstance(name, str):
                raise SchemaRejectedError(where, "items in required array must be strings")
            if not isinstance(props, Mapping) or name not in props:
                raise SchemaRejectedError(
                    where, f"required property '{name}' is not defined in properties"
                )

    def _ref(self, node: Mapping[str, Any], path: tuple[str, ...]) -> None:
        ref = node["$ref"]
        where = (*path, "$ref")
        if not isinstance(ref, str):
            raise SchemaRejectedError(where, "$ref must be a string")
        if ref == "#":
            target: Any = self.root
        else:
            if not ref.startswith(_REF_PREFIX):
                raise SchemaRejectedError(where, "references must start with #/$defs/")
            name = ref[len(_REF_PREFIX) :]
            if not name:
                raise SchemaRejectedError(where, "definition name cannot be empty")
            if "$defs" not in self.root:
                raise SchemaRejectedError(where, f"$defs not found for reference: {ref}")
            target = self.defs.get(name)
            if not isinstance(target, Mapping):
                raise SchemaRejectedError(path, f"invalid $ref path: {ref}")
            # Follow chains of bare refs, as the server expands them.
            seen = {ref}
            while (
                isinstance(target.get("$ref"), str)
                and target["$ref"].startswith(_REF_PREFIX)
                and target["$ref"] not in seen
                and not (target.keys() - {"$ref", "description", "title", "default"})
            ):
                seen.add(target["$ref"])
                nxt = self.defs.get(target["$ref"][len(_REF_PREFIX) :])
                if not isinstance(nxt, Mapping):
                    break
                target = {**nxt, **{k: v for k, v in target.items() if k != "$ref"}}
        siblings = set(node) - {"$ref"}
        if not path:
            siblings -= {"$defs"}
        conflicts = sorted(siblings & set(target))
        if conflicts:
            raise SchemaRejectedError(
                path, f"conflicting keywords found after $ref expansion: {', '.join(conflicts)}"
            )
        if ("anyOf" in node and "type" in target) or ("type" in node and "anyOf" in target):
            raise SchemaRejectedError(
                path,
                "invalid schema after $ref expansion: (when using anyOf, type should be "
                "defined in anyOf items instead of the parent schema)",
            )

    def _any_of(self, node: Mapping[str, Any], path: tuple[str, ...]) -> None:
        branches = node["anyOf"]
        where = (*path, "anyOf")
        if not isinstance(branches, list):
            raise SchemaRejectedError(where, "anyOf must be an array")
        if not branches:
            raise SchemaRejectedError(where, "anyOf must have at least 1 item")
        outer = set(node) - {"anyOf", "description", "title"}
        if not path:
            outer -= {"$defs"}
        for branch in branches:
            if not isinstance(branch, Mapping):
                raise SchemaRejectedError(where, "schema in anyOf must be an object")
            clash = sorted((set(branch) - {"description", "title"}) & outer)
            if clash:
                raise SchemaRejectedError(
                    path, f"conflicting keywords found in anyOf with parent: {', '.join(clash)}"
                )
