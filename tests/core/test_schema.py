"""Schema normalisation to Moonshot flavored JSON Schema."""

from __future__ import annotations

import copy
import enum
import json
from typing import Any, Literal, Optional, Union

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from kimi_core import normalize_schema

from .mfjs import problems


class Unit(str, enum.Enum):
    celsius = "celsius"
    fahrenheit = "fahrenheit"


class Location(BaseModel):
    """A place on Earth."""

    city: str = Field(description="City name, e.g. Paris")
    country: Optional[str] = Field(default=None, description="ISO country code")


class TreeNode(BaseModel):
    name: str
    children: list[TreeNode] = []


class Forecast(BaseModel):
    """Get the weather forecast."""

    location: Location = Field(description="Where to look")
    unit: Unit = Unit.celsius
    days: list[int] = Field(default_factory=list, description="Day offsets")
    mode: Literal["brief", "full"] = "brief"
    fallback: Optional[Location] = None
    tags: dict[str, str] = {}
    anything: Any = None
    either: Union[int, str] = 0
    tree: Optional[TreeNode] = None


def test_pydantic_models_become_valid_and_keep_their_meaning() -> None:
    raw = Forecast.model_json_schema()
    before = copy.deepcopy(raw)
    out = normalize_schema(raw)
    assert raw == before
    assert problems(out) == []
    props = out["properties"]
    # Nested model inlined, its description and fields kept; the use site's description wins.
    assert props["location"]["type"] == "object"
    assert props["location"]["description"] == "Where to look"
    assert props["location"]["properties"]["city"] == {
        "description": "City name, e.g. Paris",
        "title": "City",
        "type": "string",
    }
    assert props["location"]["required"] == ["city"]
    # Optional -> typed anyOf with null, default kept.
    assert props["fallback"]["anyOf"][1] == {"type": "null"}
    assert props["fallback"]["anyOf"][0]["properties"]["city"]["type"] == "string"
    assert props["fallback"]["default"] is None
    # Enum inlined with its type and default.
    assert props["unit"]["enum"] == ["celsius", "fahrenheit"] and props["unit"]["type"] == "string"
    assert props["unit"]["default"] == "celsius"
    assert props["days"] == {
        "description": "Day offsets",
        "items": {"type": "integer"},
        "title": "Days",
        "type": "array",
    }
    assert props["mode"]["enum"] == ["brief", "full"] and props["mode"]["type"] == "string"
    assert props["tags"]["additionalProperties"] == {"type": "string"}
    assert {b["type"] for b in props["anything"]["anyOf"]} == {
        "string",
        "number",
        "boolean",
        "object",
        "array",
        "null",
    }
    assert props["either"]["anyOf"] == [{"type": "integer"}, {"type": "string"}]
    assert out["required"] == ["location"]
    # The recursive model stays as a bare #/$defs ref.
    assert out["$defs"]["TreeNode"]["properties"]["children"]["items"] == {
        "$ref": "#/$defs/TreeNode"
    }
    assert "Location" not in out["$defs"]
    json.dumps(out)


def test_ref_siblings_are_merged_not_left_beside_the_ref() -> None:
    schema = {
        "type": "object",
        "properties": {
            "loc": {
                "$ref": "#/definitions/Loc",
                "description": "use site",
                "default": {"city": "Oslo"},
            }
        },
        "definitions": {
            "Loc": {
                "type": "object",
                "description": "def site",
                "properties": {"city": {"type": "string"}},
            }
        },
    }
    out = normalize_schema(schema)
    assert out["properties"]["loc"] == {
        "type": "object",
        "description": "use site",
        "default": {"city": "Oslo"},
        "properties": {"city": {"type": "string"}},
        "required": [],
    }
    assert problems(out) == []


def test_parent_type_moves_into_untyped_anyof_items() -> None:
    # The shape MCP servers emit (openclaw#113130, kimi-code#2661).
    schema = {
        "type": "object",
        "properties": {
            "tasks": {
                "type": "array",
                "items": {
                    "type": "object",
                    "anyOf": [
                        {"properties": {"a": {"type": "string"}}, "required": ["a"]},
                        {"properties": {"b": {"type": "integer"}}, "required": ["b"]},
                    ],
                },
            },
        },
    }
    out = normalize_schema(schema)
    items = out["properties"]["tasks"]["items"]
    assert "type" not in items
    assert items["anyOf"] == [
        {"properties": {"a": {"type": "string"}}, "required": ["a"], "type": "object"},
        {"properties": {"b": {"type": "integer"}}, "required": ["b"], "type": "object"},
    ]
    assert problems(out) == []


def test_required_only_branches_fold_into_the_parent() -> None:
    # FTShare-MCP#7: type + properties + anyOf of required-only branches.
    schema = {
        "type": "object",
        "anyOf": [{"required": ["stock_code"]}, {"required": ["year", "report_type"]}],
        "properties": {
            "stock_code": {"type": "string"},
            "year": {"type": "integer"},
            "report_type": {"type": "string"},
        },
    }
    out = normalize_schema(schema)
    assert out == {"type": "object", "properties": schema["properties"]}
    assert problems(out) == []


def test_parent_properties_beside_typed_branches_go_into_each_branch() -> None:
    schema = {
        "type": "object",
        "properties": {"shared": {"type": "string"}},
        "required": ["shared"],
        "anyOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}},
            {"type": "object", "properties": {"b": {"type": "string"}}},
        ],
    }
    out = normalize_schema(schema)
    assert problems(out) == []
    for branch, own in zip(out["anyOf"], "ab"):
        assert set(branch["properties"]) == {"shared", own}
        assert branch["required"] == ["shared"]


def test_other_constructs() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "kind": {"oneOf": [{"const": "a"}, {"const": "b"}]},
            "size": {"type": ["integer", "null"], "minimum": 1},
            "pair": {
                "type": "array",
                "prefixItems": [{"type": "string"}, {"type": "number"}],
                "items": False,
            },
            "merged": {
                "allOf": [
                    {"type": "object", "properties": {"x": {"type": "string"}}},
                    {"properties": {"y": {"type": "string"}}, "required": ["y"]},
                ]
            },
            "cond": {
                "type": "object",
                "properties": {},
                "if": {"required": ["a"]},
                "then": {"required": ["b"]},
            },
            "untyped_enum": {"enum": [1, 2.5]},
            "mixed_enum": {"enum": ["a", 1]},
            "remote": {"$ref": "https://example.com/schema.json", "description": "remote"},
        },
    }
    out = normalize_schema(schema)
    assert problems(out) == [], problems(out)
    p = out["properties"]
    assert "$schema" not in out
    assert p["kind"]["anyOf"] == [
        {"enum": ["a"], "type": "string"},
        {"enum": ["b"], "type": "string"},
    ]
    assert p["size"]["anyOf"] == [{"type": "integer", "minimum": 1}, {"type": "null"}]
    assert p["pair"]["items"]["anyOf"] == [{"type": "string"}, {"type": "number"}]
    assert (p["pair"]["minItems"], p["pair"]["maxItems"]) == (2, 2)
    assert p["merged"]["properties"].keys() == {"x", "y"} and p["merged"]["required"] == ["y"]
    assert "if" not in p["cond"] and "then" not in p["cond"]
    assert p["untyped_enum"]["type"] == "number"
    assert p["mixed_enum"]["anyOf"] == [
        {"type": "string", "enum": ["a"]},
        {"type": "integer", "enum": [1]},
    ]
    assert p["remote"]["description"] == "remote" and "$ref" not in p["remote"]


def test_empty_and_untyped_roots_become_objects() -> None:
    assert normalize_schema({}) == {"type": "object", "properties": {}, "required": []}
    assert normalize_schema({"properties": {"a": {"type": "string"}}})["type"] == "object"


def test_every_object_says_what_it_requires() -> None:
    """An object without ``required`` gets ``[]`` (hermes-agent#66835 reports Kimi asking
    for the array; an empty one means the same), at the root, nested and in ``$defs``;
    a given list is kept."""
    out = normalize_schema(
        {
            "type": "object",
            "properties": {
                "a": {"type": "object", "properties": {"b": {"type": "string"}}},
                "c": {"type": "object", "properties": {}, "required": []},
                "d": {"$ref": "#/$defs/D"},
            },
            "required": ["a"],
            "$defs": {"D": {"type": "object", "properties": {"d": {"$ref": "#/$defs/D"}}}},
        }
    )
    assert out["required"] == ["a"]
    assert out["properties"]["a"]["required"] == []
    assert out["properties"]["c"]["required"] == []
    assert out["$defs"]["D"]["required"] == []


def test_mutually_recursive_defs() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"$ref": "#/$defs/A"}},
        "$defs": {
            "A": {"type": "object", "properties": {"b": {"$ref": "#/$defs/B"}}},
            "B": {
                "type": "object",
                "properties": {"a": {"$ref": "#/$defs/A"}, "note": {"type": "string"}},
            },
        },
    }
    out = normalize_schema(schema)
    assert problems(out) == []
    assert set(out["$defs"]) >= {"A"}


# -- property: whatever comes in, what goes out passes the checker -------------------

leaf = st.sampled_from(
    [
        {"type": "string"},
        {"type": "integer", "minimum": 0},
        {"type": "boolean"},
        {"type": "null"},
        {},
        {"enum": ["x", "y"]},
        {"const": 3},
        {"type": ["string", "null"]},
        {"description": "untyped"},
        {"$ref": "#/$defs/Leaf", "description": "side"},
    ]
)


def _extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.dictionaries(st.from_regex(r"[a-z]{1,5}", fullmatch=True), children, max_size=3).map(
            lambda p: {"type": "object", "properties": p}
        ),
        st.dictionaries(st.from_regex(r"[a-z]{1,5}", fullmatch=True), children, max_size=3).map(
            lambda p: {"properties": p}
        ),
        children.map(lambda c: {"type": "array", "items": c}),
        st.lists(children, min_size=1, max_size=3).map(lambda xs: {"anyOf": xs}),
        st.lists(children, min_size=1, max_size=3).map(lambda xs: {"type": "object", "anyOf": xs}),
        st.lists(children, min_size=1, max_size=3).map(
            lambda xs: {"oneOf": xs, "description": "d"}
        ),
        st.lists(children, min_size=1, max_size=2).map(lambda xs: {"allOf": xs}),
    )


schemas = st.recursive(leaf, _extend, max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(schemas)
def test_any_schema_normalises_to_an_accepted_one(schema: Any) -> None:
    doc = {
        "type": "object",
        "properties": {"p": schema},
        "$defs": {"Leaf": {"type": "string", "description": "leaf"}},
    }
    out = normalize_schema(doc)
    assert problems(out) == [], (schema, out)
    json.dumps(out)


@pytest.mark.parametrize("bad", [True, None, 3, "x", []])
def test_garbage_nodes_become_any(bad: Any) -> None:
    out = normalize_schema({"type": "object", "properties": {"p": bad}})
    assert problems(out) == []
