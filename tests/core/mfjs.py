"""An independent checker of the Moonshot flavored JSON Schema rules seen in the wild.

Used by the tests to judge kimi_core's normaliser; it shares no code with it.
"""

from __future__ import annotations

from typing import Any

FORBIDDEN = {"oneOf", "allOf", "if", "then", "else", "not", "definitions", "prefixItems", "const"}


def problems(schema: Any, path: str = "root", *, root: bool = True) -> list[str]:
    out: list[str] = []
    if not isinstance(schema, dict):
        return [f"{path}: not an object"]
    if root:
        for name, sub in (schema.get("$defs") or {}).items():
            out += problems(sub, f"$defs.{name}", root=False)
    if "$ref" in schema:
        ref = schema["$ref"]
        if not str(ref).startswith("#/$defs/"):
            out.append(f"{path}: ref {ref} does not start with #/$defs")
        extra = set(schema) - {"$ref"}
        if extra:
            out.append(f"{path}: conflicting keywords found after $ref expansion: {sorted(extra)}")
        return out
    for key in FORBIDDEN & set(schema):
        out.append(f"{path}: keyword {key}")
    if "anyOf" in schema:
        if "type" in schema:
            out.append(
                f"{path}: when using anyOf, type should be defined in anyOf items instead of the parent schema"
            )
        for i, item in enumerate(schema["anyOf"]):
            if not isinstance(item, dict) or ("type" not in item and "$ref" not in item):
                out.append(f"{path}.anyOf[{i}]: no type")
            else:
                out += problems(item, f"{path}.anyOf[{i}]", root=False)
        return out
    if "type" not in schema:
        out.append(f"{path}: no type")
    elif isinstance(schema["type"], list):
        out.append(f"{path}: type list")
    for name, sub in (schema.get("properties") or {}).items():
        out += problems(sub, f"{path}.properties.{name}", root=False)
    if isinstance(schema.get("items"), dict):
        out += problems(schema["items"], f"{path}.items", root=False)
    if isinstance(schema.get("additionalProperties"), dict):
        out += problems(schema["additionalProperties"], f"{path}.additionalProperties", root=False)
    return out
