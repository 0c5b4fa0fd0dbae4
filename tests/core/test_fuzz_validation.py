"""Fuzzing request validation: random parameter values never crash. Each either builds
a request or raises ConfigurationError naming the parameter it refuses."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kimi_core as kc
from kimi_core._rules import build_chat_request

PROVIDERS = [kc.get_provider(n) for n in ("moonshot", "acedata", "evolink", "gptproto")]
MODELS = [
    "kimi-k2.5",
    "kimi-k2.6",
    "kimi-k2-thinking",
    "kimi-k2-turbo-preview",
    "moonshot-v1-8k",
    "moonshot-v1-8k-vision-preview",
]

anything = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**6), max_value=10**6),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=40),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)
numbers = st.one_of(st.none(), st.floats(min_value=-3, max_value=3), st.integers(-3, 200), anything)
content = st.one_of(
    st.text(max_size=20),
    st.lists(
        st.one_of(
            st.fixed_dictionaries({"type": st.just("text"), "text": st.text(max_size=10)}),
            st.fixed_dictionaries(
                {
                    "type": st.sampled_from(["image_url", "video_url"]),
                    "image_url": st.fixed_dictionaries(
                        {
                            "url": st.sampled_from(
                                ["data:image/png;base64,AA", "https://x/y.png", "ms://f1"]
                            )
                        }
                    ),
                }
            ),
            st.fixed_dictionaries({"type": st.sampled_from(["file", "audio", "weird"])}),
            anything,
        ),
        max_size=3,
    ),
    anything,
)
message = st.one_of(
    st.fixed_dictionaries(
        {
            "role": st.sampled_from(["system", "user", "assistant", "tool", "bot"]),
            "content": content,
        }
    ),
    st.fixed_dictionaries(
        {"role": st.just("assistant"), "content": st.sampled_from(["", None, "x"])},
        optional={
            "tool_calls": st.just(
                [
                    {
                        "id": "a:0",
                        "type": "function",
                        "function": {"name": "get_x", "arguments": "{}"},
                    }
                ]
            ),
            "partial": st.booleans(),
            "reasoning_content": st.one_of(st.none(), st.text(max_size=5)),
        },
    ),
    st.fixed_dictionaries(
        {"role": st.just("tool"), "content": st.text(max_size=5)},
        optional={"tool_call_id": st.text(max_size=5)},
    ),
    anything,
)
schema = st.recursive(
    st.sampled_from(
        [
            {"type": "string"},
            {},
            {"enum": [1, "a"]},
            {"$ref": "#/$defs/Nope"},
            {"type": ["integer", "null"]},
        ]
    ),
    lambda inner: st.one_of(
        st.dictionaries(st.text(min_size=1, max_size=5), inner, max_size=3).map(
            lambda p: {"type": "object", "properties": p}
        ),
        st.lists(inner, min_size=1, max_size=3).map(lambda xs: {"anyOf": xs}),
        inner.map(lambda i: {"type": "array", "items": i}),
    ),
    max_leaves=6,
)
tool = st.one_of(
    st.builds(
        lambda name, params: {"type": "function", "function": {"name": name, "parameters": params}},
        st.one_of(st.from_regex(r"[a-z_]{3,10}", fullmatch=True), st.text(max_size=8)),
        schema,
    ),
    st.just({"type": "builtin_function", "function": {"name": "$web_search"}}),
    anything,
)
params = st.fixed_dictionaries(
    {},
    optional={
        "temperature": numbers,
        "top_p": numbers,
        "n": numbers,
        "max_tokens": numbers,
        "max_completion_tokens": numbers,
        "stop": st.one_of(
            st.text(max_size=40), st.lists(st.text(max_size=40), max_size=7), anything
        ),
        "presence_penalty": numbers,
        "frequency_penalty": numbers,
        "tools": st.one_of(st.lists(tool, max_size=3), anything),
        "tool_choice": st.one_of(
            st.sampled_from(["auto", "none", "required", "any"]),
            st.just({"type": "function", "function": {"name": "get_x"}}),
            anything,
        ),
        "parallel_tool_calls": st.booleans(),
        "response_format": st.one_of(
            st.sampled_from(
                [
                    {"type": "json_object"},
                    {"type": "text"},
                    {
                        "type": "json_schema",
                        "json_schema": {
                            "name": "x",
                            "schema": {"type": "object", "properties": {"a": {}}},
                        },
                    },
                ]
            ),
            anything,
        ),
        "thinking": st.one_of(st.none(), st.booleans(), anything),
        "prompt_cache_key": st.one_of(st.text(max_size=5), anything),
        "safety_identifier": st.one_of(st.text(max_size=5), anything),
        "stream": st.booleans(),
    },
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(PROVIDERS),
    st.sampled_from(MODELS),
    st.lists(message, min_size=0, max_size=4),
    params,
)
def test_random_parameters_build_or_fail_clearly(
    provider: kc.ProviderProfile, model: str, messages: list[Any], kw: dict[str, Any]
) -> None:
    try:
        request = build_chat_request(provider, model=model, messages=messages, **kw)
    except kc.ConfigurationError as err:
        text = str(err)
        assert err.param, text  # noqa: PT017 - either outcome is valid; the error is judged
        root = err.param.split("[")[0].split(".")[0]
        assert root in text, text
        assert root in {*kw, "messages"}, (root, text)
        assert (
            f"provider {provider.name!r}" in text
            or f"model {model!r}" in text
            or "messages is empty" in text
        ), text
        return
    body = request.body
    json.dumps(body, allow_nan=False)  # what goes on the wire is valid JSON
    assert body["model"] == model and body["messages"]
    for key in ("temperature", "top_p", "presence_penalty", "frequency_penalty"):
        if key in body:
            assert isinstance(body[key], (int, float)) and math.isfinite(body[key])
    info = kc.get_model_info(model)
    if info.fixed_temperature and "temperature" in body:
        assert body["temperature"] in info.fixed_temperature
    for t in body.get("tools", []):
        if t["type"] == "function":
            assert isinstance(t["function"]["parameters"], dict)
