"""The emulator's Moonshot flavored JSON Schema judge, and the core normaliser against it.

``check_schema`` is a pure function, tested directly; the cross-check runs the core's
``normalize_schema`` on Pydantic and generated schemas and asks the independent judge.
"""

from __future__ import annotations

from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

import kimi_core as kc
from kimi_emulator._mfjs import SchemaRejectedError, check_schema


def rejected(schema: Any) -> str:
    with pytest.raises(SchemaRejectedError) as info:
        check_schema(schema)
    return str(info.value)


def test_accepts_the_spec_examples() -> None:
    check_schema({})
    check_schema({"type": "object"})
    check_schema(
        {
            "type": "object",
            "properties": {
                "qs": {
                    "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
                },
                "limit": {"type": "integer", "default": 10},
                "lang": {"type": "string", "enum": ["Chinese", "English"]},
            },
            "additionalProperties": False,
            "required": ["qs"],
        }
    )
    check_schema(
        {
            "type": "object",
            "properties": {"linked_list": {"$ref": "#/$defs/node"}},
            "$defs": {
                "node": {
                    "type": "object",
                    "properties": {
                        "value": {"type": "number"},
                        "next": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]},
                    },
                    "required": ["next", "value"],
                }
            },
        }
    )
    check_schema({"type": "object", "properties": {"self": {"$ref": "#"}}})
    check_schema({"type": ["string", "null"], "enum": ["a", None]})


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ("not a dict", "At path 'root': schema must be a dict"),
        ({"properties": {"a": {"type": "string"}}}, "At path 'root': type is not defined"),
        ({"type": "thing"}, "At path 'root': invalid type"),
        ({"type": []}, "At path 'root': type array cannot be empty"),
        ({"type": ["string", 3]}, "At path 'root': invalid type in type array"),
        ({"type": 3}, "At path 'root': type must be string or array of strings"),
        (
            {"type": ["object", "null"], "enum": [None]},
            "At path 'root': type object is not allowed in combination with enum",
        ),
        (
            {"type": "object", "properties": []},
            "At path 'properties': properties must be an object",
        ),
        ({"type": "object", "required": "a"}, "At path 'required': required must be an array"),
        (
            {"type": "object", "properties": {}, "required": [1]},
            "At path 'required': items in required array must be strings",
        ),
        ({"type": "string", "enum": []}, "At path 'enum': enum array cannot be empty"),
        ({"type": "string", "enum": "a"}, "At path 'enum': enum must be an array"),
        (
            {"type": "string", "description": 5},
            "At path 'description': description must be a string",
        ),
        (
            {"type": "object", "additionalProperties": "no"},
            "At path 'additionalProperties': additionalProperties must be a boolean or an object",
        ),
        ({"anyOf": []}, "At path 'anyOf': anyOf must have at least 1 item"),
        ({"anyOf": {"type": "string"}}, "At path 'anyOf': anyOf must be an array"),
        ({"anyOf": ["string"]}, "At path 'anyOf': schema in anyOf must be an object"),
        (
            {"anyOf": [{"type": "string", "format": "date"}], "format": "date"},
            "At path 'root': conflicting keywords found in anyOf with parent: format",
        ),
        ({"$ref": 5}, "At path '$ref': $ref must be a string"),
        ({"$ref": "#/$defs/"}, "At path '$ref': definition name cannot be empty"),
        ({"$ref": "#/$defs/x"}, "At path '$ref': $defs not found for reference: #/$defs/x"),
        ({"$ref": "#/$defs/x", "$defs": {}}, "At path 'root': invalid $ref path: #/$defs/x"),
        ({"type": "object", "$defs": []}, "At path '$defs': $defs must be an object"),
        (
            {"type": "object", "$defs": {"a/b": {"type": "string"}}},
            "At path '$defs': $defs property name 'a/b' cannot contain '/' character",
        ),
        ({"type": "object", "$defs": {"a": 1}}, "At path '$defs': $defs schema must be object: a"),
        (
            {"type": "object", "$defs": {"a": {"description": "x"}}},
            "At path '$defs.a': type is not defined",
        ),
        (
            {
                "type": "object",
                "properties": {"a": {"$ref": "#/$defs/A", "anyOf": [{"type": "null"}]}},
                "$defs": {"A": {"type": "string"}},
            },
            "At path 'properties.a': invalid schema after $ref expansion: (when using anyOf, "
            "type should be defined in anyOf items instead of the parent schema)",
        ),
        (
            {"type": "array", "items": {"type": "object", "properties": {"x": {"title": "X"}}}},
            "At path 'items.properties.x': type is not defined",
        ),
        (
            {
                "type": "object",
                "properties": {"v": {"anyOf": [{"type": "string"}, {"description": "other"}]}},
            },
            "At path 'properties.v.anyOf': type is not defined",
        ),
    ],
)
def test_rejections(schema: Any, message: str) -> None:
    assert rejected(schema) == message


def test_ref_chains_are_expanded_before_the_conflict_check() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"$ref": "#/$defs/Alias", "description": "use"}},
        "$defs": {
            "Alias": {"$ref": "#/$defs/Real"},
            "Real": {"type": "string", "description": "real"},
        },
    }
    assert rejected(schema) == (
        "At path 'properties.a': conflicting keywords found after $ref expansion: description"
    )


# --------------------------------------------------------------------------- Pydantic


class Address(BaseModel):
    """A postal address."""

    street: str
    city: str = Field(description="The city")


class Person(BaseModel):
    name: str = Field(description="Full name")
    age: int | None = Field(default=None, description="Age in years")
    home: Address = Field(description="Where they live")
    tags: list[str] = []
    kind: Literal["a", "b"] = "a"
    extra: dict[str, int] = {}
    anything: Any = None


class Tree(BaseModel):
    value: int
    children: list[Tree] = []


def test_raw_pydantic_schemas_are_rejected_and_normalised_ones_accepted() -> None:
    raw = Person.model_json_schema()
    # The error Kimi users see with Pydantic models (a described field of a model type).
    assert rejected(raw) == (
        "At path 'properties.home': conflicting keywords found after $ref expansion: description"
    )
    check_schema(kc.normalize_schema(raw))
    check_schema(kc.normalize_schema(Tree.model_json_schema()))


# --------------------------------------------------------------------------- generated


_LEAF_TYPES = ["string", "integer", "number", "boolean", "null"]
_annotations = st.fixed_dictionaries(
    {},
    optional={
        "description": st.text(max_size=5),
        "title": st.text(max_size=5),
    },
)


def _leaf() -> st.SearchStrategy[dict[str, Any]]:
    typed = st.builds(lambda t, a: {"type": t, **a}, st.sampled_from(_LEAF_TYPES), _annotations)
    enum = st.builds(
        lambda values, a: {"enum": values, **a},
        st.lists(
            st.one_of(st.integers(-5, 5), st.text(max_size=3), st.booleans()),
            min_size=1,
            max_size=3,
        ),
        _annotations,
    )
    const = st.builds(lambda v: {"const": v}, st.one_of(st.integers(), st.text(max_size=3)))
    untyped = st.builds(lambda a: dict(a), _annotations)
    ref = st.builds(
        lambda name, a: {"$ref": f"#/$defs/{name}", **a},
        st.sampled_from(["D1", "D2"]),
        _annotations,
    )
    formats = st.builds(
        lambda f: {"type": "string", "format": f, "minLength": 1},
        st.sampled_from(["date", "email"]),
    )
    return st.one_of(typed, enum, const, untyped, ref, formats)


def _extend(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    props = st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), children, max_size=3)

    def obj(p: dict[str, Any], req: list[str], a: dict[str, Any], typed: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"properties": p, **a}
        if typed:
            out["type"] = "object"
        required = [k for k in req if k in p]
        if required:
            out["required"] = required
        return out

    objects = st.builds(
        obj, props, st.lists(st.sampled_from(["a", "b", "c"])), _annotations, st.booleans()
    )
    arrays = st.builds(lambda c, a: {"type": "array", "items": c, **a}, children, _annotations)
    any_of = st.builds(
        lambda cs, key, parent: {key: cs, **({"type": parent} if parent else {})},
        st.lists(children, min_size=1, max_size=3),
        st.sampled_from(["anyOf", "oneOf"]),
        st.sampled_from([None, "object", "string"]),
    )
    # allOf as generators write it: one referenced or inline schema plus annotations
    # (contradictory parts, e.g. an integer enum and a string, have no valid form at all).
    all_of = st.builds(lambda c, a: {"allOf": [c], **a}, children, _annotations)
    multi = st.builds(
        lambda ts: {"type": ts},
        st.lists(st.sampled_from([*_LEAF_TYPES, "object"]), min_size=1, max_size=3),
    )
    return st.one_of(objects, arrays, any_of, all_of, multi)


_schemas = st.recursive(_leaf(), _extend, max_leaves=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    root=st.dictionaries(st.sampled_from(["p", "q", "r"]), _schemas, max_size=3),
    d1=_schemas,
    d2=_leaf(),
)
def test_core_normaliser_output_passes_the_judge(
    root: dict[str, Any], d1: dict[str, Any], d2: dict[str, Any]
) -> None:
    schema = {"type": "object", "properties": root, "$defs": {"D1": d1, "D2": d2}}
    normalised = kc.normalize_schema(schema)
    check_schema(normalised)
