"""Every documented rule, answered with each dialect's real status and error body."""

from __future__ import annotations

import base64
import re
from typing import Any

import httpx
import pytest
from emu_helpers import HTTP, NO_THINKING, USER_HI, WEATHER_TOOL, body, chat

import kimi_core as kc
from kimi_emulator import KimiEmulator

SCHEMA_PREFIX = "tools.function.parameters is not a valid moonshot flavored json schema, details: "


def error_of(emu: KimiEmulator, resp: httpx.Response) -> tuple[int, str, str]:
    """``(status, code, message)``, checking the body has the dialect's error shape."""
    data = resp.json()
    err = data["error"]
    if emu.dialect == "moonshot":
        assert set(err) == {"message", "type"}
        assert re.fullmatch(r"[0-9a-f]{32}", resp.headers["x-trace-id"])
        return resp.status_code, err["type"], err["message"]
    if emu.dialect == "acedata":
        assert data["success"] is False
        assert re.fullmatch(
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", data["trace_id"]
        )
        assert set(err) == {"code", "message"}
        return resp.status_code, err["code"], err["message"]
    if emu.dialect == "gptproto":
        assert err["type"] == str(resp.status_code)
        return resp.status_code, err["type"], err["message"]
    assert set(err) == {"message", "type", "param", "code"}
    return resp.status_code, err["code"] or err["type"], err["message"]


def reject(emu: KimiEmulator, req: dict[str, Any], status: int = 400) -> str:
    resp = chat(emu, req)
    got, _, message = error_of(emu, resp)
    assert got == status, (got, message)
    return message


def accept(emu: KimiEmulator, req: dict[str, Any]) -> dict[str, Any]:
    resp = chat(emu, req)
    assert resp.status_code == 200, resp.text
    data: dict[str, Any] = resp.json()
    return data


def tool(name: str, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    fn: dict[str, Any] = {"name": name, "description": f"the {name} tool"}
    if parameters is not None:
        fn["parameters"] = parameters
    return {"type": "function", "function": fn}


# --------------------------------------------------------------------------- auth and models


def test_missing_and_wrong_key_get_the_dialects_401(any_emu: KimiEmulator) -> None:
    resp = HTTP.post(any_emu.chat_url, json=body())
    status, code, _ = error_of(any_emu, resp)
    assert status == 401
    expected = {
        "moonshot": "invalid_authentication_error",
        "acedata": "invalid_token",
        "evolink": "invalid_api_key",
        "gptproto": "401",
        "openai-compatible": "invalid_api_key",
    }[any_emu.dialect]
    assert code == expected
    resp = HTTP.post(any_emu.chat_url, json=body(), headers={"Authorization": "Basic abc"})
    assert resp.status_code == 401


def test_configured_key_is_the_only_one(kimi_emulator_factory: Any) -> None:
    emu = kimi_emulator_factory(api_key="sk-right")
    assert emu.api_key == "sk-right"
    wrong = HTTP.post(emu.chat_url, json=body(), headers={"Authorization": "Bearer sk-wrong"})
    assert wrong.status_code == 401
    assert "sk-wrong" not in wrong.text
    assert chat(emu, body()).status_code == 200


def test_unknown_model(any_emu: KimiEmulator) -> None:
    resp = chat(any_emu, body("kimi-nope-1"))
    status, code, message = error_of(any_emu, resp)
    assert message == "Not found the model kimi-nope-1 or Permission denied"
    if any_emu.dialect == "acedata":
        assert (status, code) == (400, "bad_request")
    else:
        assert status == 404


def test_unknown_model_through_the_core_is_not_found(moonshot: KimiEmulator) -> None:
    client = kc.KimiClient(provider="moonshot", base_url=moonshot.base_url, api_key="k")
    with pytest.warns(kc.UnknownModelWarning), pytest.raises(kc.NotFoundError) as info:
        client.chat(model="kimi-nope-2", messages=USER_HI)
    assert info.value.code == "resource_not_found_error"
    assert re.fullmatch(r"[0-9a-f]{32}", info.value.request_id or "")
    assert info.value.message == "Not found the model kimi-nope-2 or Permission denied"


def test_accept_any_model_and_models_option(kimi_emulator_factory: Any) -> None:
    emu = kimi_emulator_factory("gptproto", accept_any_model=True)
    assert accept(emu, body("moonshotai/some-new-kimi"))["model"] == "moonshotai/some-new-kimi"
    narrow = kimi_emulator_factory("moonshot", models=["kimi-k2.6"])
    assert chat(narrow, body("kimi-k2-turbo-preview")).status_code == 404
    assert chat(narrow, body("kimi-k2.6")).status_code == 200


#: docs/kimi-platform.md §11: GET /v1/models on api.moonshot.ai, 2026-09-02 (chatcli#1344, models.dev PR #6101).
SERVED_2026 = {"kimi-k3", "kimi-k2.7-code", "kimi-k2.7-code-highspeed", "kimi-k2.6"}
#: docs/kimi-platform.md §11: retired on Moonshot in 2026.
RETIRED_2026 = [
    "kimi-latest",
    "kimi-k2-0711-preview",
    "kimi-k2-0905-preview",
    "kimi-k2-turbo-preview",
    "kimi-k2-thinking",
    "kimi-k2-thinking-turbo",
    "kimi-k2.5",
    "moonshot-v1-8k",
    "moonshot-v1-32k",
    "moonshot-v1-128k",
    "moonshot-v1-auto",
    "moonshot-v1-8k-vision-preview",
]


def test_moonshot_serves_todays_line(moonshot: KimiEmulator) -> None:
    for model in SERVED_2026:
        assert chat(moonshot, body(model)).status_code == 200, model


@pytest.mark.parametrize("model", RETIRED_2026)
def test_retired_ids_get_the_real_404(moonshot: KimiEmulator, model: str) -> None:
    resp = chat(moonshot, body(model))
    assert resp.status_code == 404
    assert resp.json() == {
        "error": {
            "message": f"Not found the model {model} or Permission denied",
            "type": "resource_not_found_error",
        }
    }


def test_gateways_keep_their_own_lists(emus: dict[str, KimiEmulator]) -> None:
    # Retirement is per provider: AceData and GPTProto still serve kimi-k2.5.
    assert chat(emus["acedata"], body("kimi-k2.5")).status_code == 200
    assert chat(emus["gptproto"], body("kimi-k2.5")).status_code == 200
    assert chat(emus["evolink"], body("kimi-k2-thinking-turbo")).status_code == 200
    assert chat(emus["acedata"], body("kimi-k3")).status_code == 400  # not in its document


def test_gateway_serves_only_its_documented_models(emus: dict[str, KimiEmulator]) -> None:
    assert chat(emus["gptproto"], body("kimi-k2.6")).status_code == 404
    assert chat(emus["evolink"], body("kimi-k2-turbo-preview")).status_code == 404
    assert chat(emus["acedata"], body("kimi-k2-instruct-0905")).status_code == 200


# --------------------------------------------------------------------------- sampling


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"temperature": 0.7}, "invalid temperature: only 1 is allowed for this model"),
        (
            {"temperature": 1.0, "thinking": {"type": "disabled"}},
            "invalid temperature: only 0.6 is allowed for this model",
        ),
        ({"top_p": 0.9}, "invalid top_p: only 0.95 is allowed for this model"),
        ({"n": 2}, "invalid n: only 1 is allowed for this model"),
        ({"presence_penalty": 0.5}, "invalid presence_penalty: only 0 is allowed for this model"),
        ({"frequency_penalty": -1}, "invalid frequency_penalty: only 0 is allowed for this model"),
    ],
)
@pytest.mark.parametrize(
    ("dialect", "model"), [("moonshot", "kimi-k2.6"), ("acedata", "kimi-k2.5")]
)
def test_fixed_sampling_values(
    emus: dict[str, KimiEmulator], dialect: str, model: str, extra: dict[str, Any], message: str
) -> None:
    assert reject(emus[dialect], body(model, **extra)) == message


def test_k3_takes_temperature_1_only(moonshot: KimiEmulator) -> None:
    # The capture: moonshotai-kimi-k3-temperature-rejection.json (vercel/ai).
    assert reject(moonshot, body("kimi-k3", temperature=0.7)) == (
        "invalid temperature: only 1 is allowed for this model"
    )
    accept(moonshot, body("kimi-k3", temperature=1))
    # big-AGI#1161 (a live probe): top_p, n and the penalties are fixed too, "400 on any
    # other value" (this test accepted them before that evidence was read).
    for extra, name in (
        ({"top_p": 0.5}, "top_p"),
        ({"n": 2}, "n"),
        ({"presence_penalty": 0.5}, "presence_penalty"),
        ({"frequency_penalty": -0.5}, "frequency_penalty"),
    ):
        assert reject(moonshot, body("kimi-k3", **extra)).startswith(f"invalid {name}: only")
    accept(moonshot, body("kimi-k3", top_p=0.95, n=1, presence_penalty=0, frequency_penalty=0))


def test_k3_reasoning_effort(moonshot: KimiEmulator) -> None:
    for effort in ("low", "high", "max"):
        accept(moonshot, body("kimi-k3", reasoning_effort=effort))
    assert "must be one of low, high, max" in reject(
        moonshot, body("kimi-k3", reasoning_effort="medium")
    )
    both = body("kimi-k3", reasoning_effort="high", thinking={"type": "enabled"})
    assert reject(moonshot, both) == "cannot specify both 'thinking' and 'reasoning_effort'"


@pytest.mark.parametrize(
    "extra",
    [
        {"temperature": 1, "top_p": 0.95, "n": 1, "presence_penalty": 0, "frequency_penalty": 0},
        {"temperature": 0.6, "thinking": {"type": "disabled"}},
    ],
)
def test_fixed_sampling_values_accepted_when_equal(
    moonshot: KimiEmulator, extra: dict[str, Any]
) -> None:
    accept(moonshot, body("kimi-k2.6", **extra))


def test_fixed_sampling_on_a_gateway(emus: dict[str, KimiEmulator]) -> None:
    message = reject(emus["acedata"], body("kimi-k2.5", temperature=0.3))
    assert message == "invalid temperature: only 1 is allowed for this model"


@pytest.mark.parametrize(
    ("dialect", "extra", "ok"),
    [
        ("moonshot", {"temperature": 1.5}, False),
        ("moonshot", {"temperature": 0.3, "top_p": 0.5}, True),
        ("moonshot", {"top_p": 1.5}, False),
        ("moonshot", {"n": 5, "temperature": 0.5}, True),
        ("moonshot", {"n": 6}, False),
        ("moonshot", {"n": 2, "temperature": 0}, False),
        ("moonshot", {"presence_penalty": 2.5}, False),
        ("moonshot", {"temperature": "hot"}, False),
        ("acedata", {"temperature": 1.5}, True),
        ("acedata", {"temperature": 2.5}, False),
        ("acedata", {"n": 100}, True),
        ("acedata", {"n": 129}, False),
        ("evolink", {"n": 6}, False),
        ("gptproto", {"temperature": 1.2}, False),
        ("openai-compatible", {"temperature": 1.5}, True),
        ("openai-compatible", {"temperature": 2.5}, False),
    ],
)
def test_ranges_per_dialect(
    emus: dict[str, KimiEmulator], dialect: str, extra: dict[str, Any], ok: bool
) -> None:
    emu = emus[dialect]
    # Models whose sampling is free, so that only the dialect's ranges decide.
    model = {
        # kimi-k2.7-code fixes its temperature (simstudioai/sim PR #5716): a K2 preview, as
        # served to an account from before its retirement.
        "moonshot": "kimi-k2-0905-preview",
        "evolink": "kimi-k2-thinking",
        "gptproto": "kimi-k2.5",
        "openai-compatible": "moonshotai/kimi-k2-instruct-0905",
    }.get(dialect, "kimi-k2-turbo-preview")
    if dialect == "gptproto":
        extra = {**extra, **NO_THINKING}
    if dialect == "moonshot":
        emu.models = emu.models | {model}
    if ok:
        accept(emu, body(model, **extra))
    else:
        assert reject(emu, body(model, **extra)).startswith("invalid ")


def test_n_choices(moonshot: KimiEmulator) -> None:
    data = accept(moonshot, body("kimi-k2.7-code", n=3))
    assert [c["index"] for c in data["choices"]] == [0, 1, 2]


@pytest.mark.parametrize(
    ("dialect", "stop", "ok"),
    [
        ("moonshot", ["a", "b", "c", "d", "e"], True),
        ("moonshot", ["a", "b", "c", "d", "e", "f"], False),
        ("moonshot", ["x" * 33], False),
        ("moonshot", ["é" * 16], True),
        ("evolink", ["x" * 33], False),
        ("gptproto", ["a", "b", "c", "d", "e"], False),
        ("acedata", ["a", "b", "c", "d", "e", "f", "g"], True),
    ],
)
def test_stop_limits(
    emus: dict[str, KimiEmulator], dialect: str, stop: list[str], ok: bool
) -> None:
    model = {
        "evolink": "kimi-k2-thinking",
        "gptproto": "kimi-k2.5",
        "acedata": "kimi-k2-turbo-preview",
    }.get(dialect)
    req = body(model, stop=stop)
    if ok:
        accept(emus[dialect], req)
    else:
        assert reject(emus[dialect], req).startswith("invalid stop")


def test_max_tokens_must_be_positive(moonshot: KimiEmulator) -> None:
    assert "max_completion_tokens" in reject(moonshot, body(max_completion_tokens=0))
    assert "max_tokens" in reject(moonshot, body(max_tokens=-5))


# --------------------------------------------------------------------------- thinking switch


def test_thinking_switch_per_model(emus: dict[str, KimiEmulator]) -> None:
    moonshot, ace = emus["moonshot"], emus["acedata"]
    off = {"thinking": {"type": "disabled"}}
    on = {"thinking": {"type": "enabled"}}
    # The capture: moonshotai-k2.7-disabled-thinking-error.json (vercel/ai).
    for model in ("kimi-k2.7-code", "kimi-k2.7-code-highspeed"):
        assert (
            reject(moonshot, body(model, **off))
            == "invalid thinking: only type=enabled is allowed for this model"
        )
    assert reject(ace, body("kimi-k2-thinking", **off)).endswith(
        "only type=enabled is allowed for this model"
    )
    assert "only type=disabled" in reject(ace, body("kimi-k2-turbo-preview", **on))
    assert "type must be one of" in reject(moonshot, body("kimi-k2.6", thinking={"type": "x"}))
    # K3 thinks always; what it answers to a thinking object is not recorded: accepted.
    k3 = accept(moonshot, body("kimi-k3", **off))["choices"][0]["message"]
    assert k3["reasoning_content"]
    assert (
        "reasoning_content"
        not in accept(moonshot, body("kimi-k2.6", **off))["choices"][0]["message"]
    )
    assert accept(moonshot, body("kimi-k2.6", **on))["choices"][0]["message"]["reasoning_content"]


def test_k26_validates_thinking_keep(moonshot: KimiEmulator) -> None:
    accept(moonshot, body("kimi-k2.6", thinking={"type": "enabled", "keep": "all"}))
    accept(moonshot, body("kimi-k2.6", thinking={"type": "enabled", "keep": None}))
    message = reject(moonshot, body("kimi-k2.6", thinking={"type": "enabled", "keep": "last"}))
    assert message == "invalid thinking.keep: 'last', must be 'all' or null"


# --------------------------------------------------------------------------- strict


def _tool_turn_k26(reasoning: str) -> dict[str, Any]:
    return {"model": "kimi-k2.6", "messages": _tool_turn(reasoning), "tools": [WEATHER_TOOL]}


def test_unconfirmed_rules_only_when_strict(kimi_emulator_factory: Any) -> None:
    lenient = kimi_emulator_factory("moonshot")
    strict = kimi_emulator_factory("moonshot", strict=True)
    assert strict.strict and not lenient.strict
    cases: list[tuple[dict[str, Any], str]] = [
        (
            body("kimi-k3", thinking={"type": "disabled"}),
            "invalid thinking: only type=enabled is allowed for this model",
        ),
        (
            body("kimi-k2.7-code", reasoning_effort="high"),
            "invalid reasoning_effort: this model does not support reasoning_effort",
        ),
        (
            body("kimi-k3", thinking={"type": "enabled", "keep": "all"}),
            "invalid thinking.keep: keep is not supported by this model",
        ),
        (
            _tool_turn_k26(""),
            "thinking is enabled but reasoning_content is missing in assistant tool call "
            "message at index 1",
        ),
        (
            {
                "model": "kimi-k3",
                "messages": [
                    {"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": "Hello!"},
                    {"role": "user", "content": "And again"},
                ],
            },
            "thinking is enabled but reasoning_content is missing in assistant message at index 1",
        ),
    ]
    for req, message in cases:
        accept(lenient, req)
        assert reject(strict, req) == message
    # A strict emulator still takes what the rules allow.
    accept(strict, _tool_turn_k26(" "))
    strict.strict = False  # settable, and restored by reset()
    accept(strict, body("kimi-k2.6", reasoning_effort="high"))
    strict.reset()
    assert strict.strict


# --------------------------------------------------------------------------- tools


def test_tool_name_pattern(moonshot: KimiEmulator) -> None:
    expected = (
        "function name is invalid, must start with a letter and can contain letters, "
        "numbers, underscores, and dashes"
    )
    for bad in ("1st_tool", "ab", "has space", "x" * 65, "dot.name"):
        assert reject(moonshot, body(tools=[tool(bad)])) == expected, bad
    for good in ("_ok", "get-weather", "A1_b-2", "x" * 64):
        accept(moonshot, body(tools=[tool(good)]))


def test_duplicate_tool_names(moonshot: KimiEmulator) -> None:
    message = reject(moonshot, body(tools=[WEATHER_TOOL, WEATHER_TOOL]))
    assert message == "function name get_weather is duplicated"


def test_tool_count_limit(emus: dict[str, KimiEmulator]) -> None:
    many = [tool(f"tool_{i}") for i in range(129)]
    assert "at most 128 tools" in reject(emus["moonshot"], body(tools=many))
    accept(emus["moonshot"], body(tools=many[:128]))
    accept(emus["acedata"], body("kimi-k2.5", tools=many))  # AceData documents no limit


def test_tool_type_must_be_known(moonshot: KimiEmulator) -> None:
    bad = {"type": "retrieval", "function": {"name": "abc"}}
    assert "must be function or builtin_function" in reject(moonshot, body(tools=[bad]))


@pytest.mark.parametrize(
    ("schema", "detail"),
    [
        (
            {
                "type": "object",
                "properties": {
                    "x": {"type": "string", "anyOf": [{"type": "string"}, {"type": "null"}]}
                },
            },
            "At path 'properties.x': when using anyOf, type should be defined in anyOf items "
            "instead of the parent schema",
        ),
        (
            {"type": "object", "properties": {"mode": {"description": "how"}}},
            "At path 'properties.mode': type is not defined",
        ),
        (
            {
                "type": "object",
                "properties": {"a": {"$ref": "#/$defs/A", "description": "the a"}},
                "$defs": {"A": {"type": "string", "description": "an A"}},
            },
            "At path 'properties.a': conflicting keywords found after $ref expansion: description",
        ),
        (
            {
                "type": "object",
                "properties": {"a": {"$ref": "#/definitions/A"}},
                "definitions": {"A": {"type": "string"}},
            },
            "At path 'properties.a.$ref': references must start with #/$defs/",
        ),
        (
            {
                "type": "object",
                "properties": {"a": {"$ref": "#/$defs/A", "type": "object"}},
                "$defs": {"A": {"type": "object"}},
            },
            "At path 'properties.a': when using $ref, type should be defined in the referenced "
            "schema instead of the parent schema",
        ),
        (
            {"type": "object", "properties": {"outputSchema": True}},
            "At path 'properties': property schema for 'outputSchema' must be an object",
        ),
        (
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["b"]},
            "At path 'required': required property 'b' is not defined in properties",
        ),
        (
            {
                "type": "object",
                "properties": {"t": {"type": "array", "items": [{"type": "string"}]}},
            },
            "At path 'properties.t.items': items must be an object",
        ),
        (
            {"type": "object", "anyOf": [{"properties": {}}, {"properties": {}}]},
            "At path 'root': when using anyOf, type should be defined in anyOf items instead of "
            "the parent schema",
        ),
        (
            {"type": "object", "properties": {"n": {"type": "integer", "enum": ["a"]}}},
            "At path 'properties.n.enum': enum value (a) does not match any type in [integer]",
        ),
    ],
)
def test_tool_parameter_schemas_rejected(
    moonshot: KimiEmulator, schema: dict[str, Any], detail: str
) -> None:
    assert reject(moonshot, body(tools=[tool("my_tool", schema)])) == f"{SCHEMA_PREFIX}<{detail}>"


def test_moonshot_flavored_schemas_accepted(moonshot: KimiEmulator) -> None:
    schema = {
        "type": "object",
        "properties": {
            "qs": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
            "limit": {"type": "integer", "default": 10, "minimum": 1},
            "lang": {"type": "string", "enum": ["Chinese", "English"]},
            "node": {"$ref": "#/$defs/node"},
            "meta": {"type": "object", "additionalProperties": {"type": "string"}},
            "anything": {},
        },
        "required": ["qs"],
        "additionalProperties": False,
        "$defs": {
            "node": {
                "type": "object",
                "properties": {
                    "value": {"type": "number"},
                    "next": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]},
                },
            }
        },
    }
    accept(moonshot, body(tools=[tool("search_web", schema)]))
    accept(moonshot, body(tools=[tool("no_params")]))
    # An empty object is not a schema Kimi takes (Hmbown/Codewhale#3265): the root needs
    # "type": "object".
    assert reject(moonshot, body(tools=[tool("empty_params", {})])) == (
        'Invalid request: tools.function.parameters.type is required and must be "object"'
    )


def test_json_schema_response_format(emus: dict[str, KimiEmulator]) -> None:
    bad = {
        "type": "json_schema",
        "json_schema": {
            "name": "x",
            "schema": {"type": "object", "properties": {"a": {}}, "required": ["z"]},
        },
    }
    message = reject(emus["moonshot"], body(response_format=bad))
    assert message == (
        "Invalid request: response_format.json_schema is not a valid moonshot flavored json "
        "schema, details: <At path 'required': required property 'z' is not defined in properties>"
    )
    missing = {"type": "json_schema", "json_schema": {"name": "x"}}
    assert "json_schema.schema is required" in reject(
        emus["moonshot"], body(response_format=missing)
    )
    ok = {
        "type": "json_schema",
        "json_schema": {"name": "x", "schema": {"type": "object", "properties": {}}},
    }
    assert "not supported" in reject(emus["acedata"], body("kimi-k2.5", response_format=ok))
    assert "not supported" in reject(emus["moonshot"], body(response_format={"type": "yaml"}))
    old = KimiEmulator(models=["kimi-latest"]).start()  # served as before its retirement
    try:
        assert "json_schema is not supported by model" in reject(
            old, body("kimi-latest", response_format=ok)
        )
    finally:
        old.stop()


def test_tool_choice_while_thinking(moonshot: KimiEmulator) -> None:
    # The capture: moonshotai-required-tool-choice-error.json (vercel/ai, K2.6 and K2.7).
    for model in ("kimi-k2.6", "kimi-k2.7-code", "kimi-k2.7-code-highspeed"):
        req = body(model, tools=[WEATHER_TOOL], tool_choice="required")
        assert reject(moonshot, req) == (
            "tool_choice 'required' is incompatible with thinking enabled"
        )
    named = {"type": "function", "function": {"name": "get_weather"}}
    req = body("kimi-k2.6", tools=[WEATHER_TOOL], tool_choice=named)
    assert reject(moonshot, req) == "tool_choice 'specified' is incompatible with thinking enabled"
    # K3 thinks and takes "required" (moonshotai-k3-required-tool-choice.json): a call.
    req = body("kimi-k3", tools=[WEATHER_TOOL], tool_choice="required")
    choice = accept(moonshot, req)["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["tool_calls"][0]["id"] == "get_weather_0"
    # Thinking disabled: the forced choice is taken, even with no matching words.
    off = {"thinking": {"type": "disabled"}}
    data = accept(moonshot, body("kimi-k2.6", tools=[WEATHER_TOOL], tool_choice=named, **off))
    assert data["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "get_weather"
    # auto and none are always fine.
    accept(moonshot, body("kimi-k2.6", tools=[WEATHER_TOOL], tool_choice="auto"))
    accept(moonshot, body("kimi-k2.6", tools=[WEATHER_TOOL], tool_choice="none"))


def test_tool_choice_must_name_a_tool(moonshot: KimiEmulator) -> None:
    named = {"type": "function", "function": {"name": "other_tool"}}
    assert "not found in tools" in reject(moonshot, body(tools=[WEATHER_TOOL], tool_choice=named))
    assert "needs at least one function" in reject(moonshot, body(tool_choice="required"))
    assert "must be none, auto" in reject(moonshot, body(tools=[WEATHER_TOOL], tool_choice="any"))


# --------------------------------------------------------------------------- messages


def _tool_turn(reasoning: str | None = None, content: Any = None) -> list[dict[str, Any]]:
    call = {
        "id": "functions.get_weather:0",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    }
    assistant: dict[str, Any] = {"role": "assistant", "tool_calls": [call]}
    if content is not None:
        assistant["content"] = content
    if reasoning is not None:
        assistant["reasoning_content"] = reasoning
    return [
        {"role": "user", "content": "Weather in Paris?"},
        assistant,
        {"role": "tool", "tool_call_id": "functions.get_weather:0", "content": "22 C, sunny"},
    ]


def test_reasoning_content_missing_while_thinking(moonshot: KimiEmulator) -> None:
    req = {"model": "kimi-k2.6", "messages": _tool_turn(), "tools": [WEATHER_TOOL]}
    assert reject(moonshot, req) == (
        "thinking is enabled but reasoning_content is missing in assistant tool call message "
        "at index 1"
    )
    messages = [{"role": "system", "content": "Be brief."}, *_tool_turn()]
    req = {"model": "kimi-k2.7-code", "messages": messages, "tools": [WEATHER_TOOL]}
    assert reject(moonshot, req).endswith("at index 2")
    # An empty string is enough; without thinking nothing is needed.
    accept(moonshot, {"model": "kimi-k2.6", "messages": _tool_turn(""), "tools": [WEATHER_TOOL]})
    off = {"thinking": {"type": "disabled"}}
    accept(
        moonshot, {"model": "kimi-k2.6", "messages": _tool_turn(), "tools": [WEATHER_TOOL], **off}
    )
    accept(moonshot, body(messages=_tool_turn()))


def test_every_dialect_takes_back_the_reasoning_field_it_sends(
    emus: dict[str, KimiEmulator],
) -> None:
    gpt = emus["gptproto"]
    messages = _tool_turn()
    messages[1]["reasoning"] = "I should look it up."  # what GPTProto answers with
    accept(gpt, {"model": "kimi-k2.5", "messages": messages, "tools": [WEATHER_TOOL]})
    assert "reasoning_content is missing" in reject(
        gpt, {"model": "kimi-k2.5", "messages": _tool_turn(), "tools": [WEATHER_TOOL]}
    )


def test_empty_messages(moonshot: KimiEmulator) -> None:
    assert reject(moonshot, {"model": "kimi-k2.6", "messages": []}) == (
        "Invalid request: messages must not be empty"
    )
    assert reject(moonshot, body(messages=[{"role": "user", "content": ""}])) == (
        "Invalid request: the message at position 0 with role 'user' must not be empty"
    )
    msgs = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "  "},
        {"role": "user", "content": "again"},
    ]
    assert reject(moonshot, body(messages=msgs)) == (
        "Invalid request: the message at position 1 with role 'assistant' must not be empty"
    )
    # litellm PR #42199: "Moonshot rejects [] with 'must not be empty'"; an empty text part
    # is "text content is empty" (litellm #42186).
    assert reject(moonshot, body(messages=[{"role": "user", "content": []}])) == (
        "Invalid request: the message at position 0 with role 'user' must not be empty"
    )
    empty_part = [{"type": "text", "text": ""}]
    assert reject(moonshot, body(messages=[{"role": "user", "content": empty_part}])) == (
        "Invalid request: text content is empty"
    )
    off = {"thinking": {"type": "disabled"}}
    req = {"model": "kimi-k2.6", "messages": _tool_turn(content=[]), **off}
    assert reject(moonshot, req).endswith("with role 'assistant' must not be empty")
    req = {"model": "kimi-k2.6", "messages": _tool_turn(content=empty_part), **off}
    assert reject(moonshot, req) == "Invalid request: text content is empty"
    # An assistant tool-call message may leave content out, or send null or "".
    for content in (None, ""):
        accept(moonshot, {"model": "kimi-k2.6", "messages": _tool_turn(content=content), **off})


def test_tool_result_must_answer_a_call(moonshot: KimiEmulator) -> None:
    msgs = [
        {"role": "user", "content": "hi"},
        {"role": "tool", "tool_call_id": "call_x", "content": "orphan"},
    ]
    assert (
        reject(moonshot, body(messages=msgs)) == "Invalid request: tool_call_id call_x is not found"
    )
    msgs = [{"role": "user", "content": "hi"}, {"role": "robot", "content": "beep"}]
    assert "invalid role" in reject(moonshot, body(messages=msgs))


def test_context_window_overflow(moonshot: KimiEmulator) -> None:
    big = "word " * 262_150
    message = reject(moonshot, body("kimi-k2.6", messages=[{"role": "user", "content": big}]))
    match = re.fullmatch(
        r"Your request exceeded model token limit: 262144 \(requested: (\d+)\)", message
    )
    assert match
    assert int(match.group(1)) > 262_144
    # K3 takes 1M tokens (docs/kimi-platform.md §11): the same prompt is accepted.
    accept(moonshot, body("kimi-k3", messages=[{"role": "user", "content": big}]))
    huge = "word " * 1_048_600
    assert "exceeded model token limit: 1048576" in reject(
        moonshot, body("kimi-k3", messages=[{"role": "user", "content": huge}])
    )


def test_context_counts_the_prompt_and_max_tokens(kimi_emulator_factory: Any) -> None:
    small_model = kimi_emulator_factory("moonshot", models=["moonshot-v1-8k"])
    small = [{"role": "user", "content": "word " * 4000}]
    assert "token limit: 8192" in reject(
        small_model, body("moonshot-v1-8k", messages=small, max_tokens=5000)
    )
    accept(small_model, body("moonshot-v1-8k", messages=small, max_tokens=100))


def test_context_overflow_through_the_core(kimi_emulator_factory: Any) -> None:
    # moonshot-v1-8k is retired; served here as before, for its small window.
    moonshot = kimi_emulator_factory("moonshot", models=["moonshot-v1-8k"])
    client = kc.KimiClient(provider="moonshot", base_url=moonshot.base_url, api_key="k")
    with pytest.raises(kc.ContextWindowExceededError) as info:
        client.chat(
            model="moonshot-v1-8k",
            messages=[{"role": "user", "content": "word " * 9000}],
        )
    assert info.value.status_code == 400
    assert "exceeded model token limit: 8192" in info.value.message


def test_partial_mode_with_json_object(moonshot: KimiEmulator) -> None:
    msgs = [
        {"role": "user", "content": "Give JSON"},
        {"role": "assistant", "content": "{", "partial": True},
    ]
    req = body(messages=msgs, response_format={"type": "json_object"})
    assert "partial mode is not compatible with response_format json_object" in reject(
        moonshot, req
    )
    early = [
        {"role": "assistant", "content": "x", "partial": True},
        {"role": "user", "content": "hi"},
    ]
    assert "can be partial" in reject(moonshot, body(messages=early))


def test_content_parts_per_dialect_and_model(emus: dict[str, KimiEmulator]) -> None:
    png = "data:image/png;base64," + base64.b64encode(b"\x89PNG fake").decode()
    parts = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": png}},
    ]
    ms = emus["moonshot"]
    accept(ms, body("kimi-k2.6", messages=[{"role": "user", "content": parts}]))
    assert "image input is not supported by model kimi-k2-thinking" in reject(
        emus["evolink"], body("kimi-k2-thinking", messages=[{"role": "user", "content": parts}])
    )
    remote = [{"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]
    assert "only base64 data URLs and ms://<file_id>" in reject(
        ms, body("kimi-k2.6", messages=[{"role": "user", "content": remote}])
    )
    missing = [{"type": "image_url", "image_url": {"url": "ms://nofile"}}]
    assert "file nofile is not found" in reject(
        ms, body("kimi-k2.6", messages=[{"role": "user", "content": missing}])
    )
    audio = [{"type": "input_audio", "input_audio": {"data": "x"}}]
    assert "unsupported content type" in reject(
        ms, body("kimi-k2.6", messages=[{"role": "user", "content": audio}])
    )
    text_parts = [{"type": "text", "text": "hello"}]
    assert "string content only" in reject(
        emus["acedata"], body("kimi-k2.5", messages=[{"role": "user", "content": text_parts}])
    )
    file_part = [{"type": "file", "file": {"filename": "a.txt", "file_data": "https://x/a.txt"}}]
    accept(
        emus["gptproto"],
        body("kimi-k2.5", messages=[{"role": "user", "content": [*text_parts, *file_part]}]),
    )
    assert "unsupported content type" in reject(
        emus["evolink"], body("kimi-k2-thinking", messages=[{"role": "user", "content": file_part}])
    )


def test_uploaded_file_can_be_referenced(moonshot: KimiEmulator) -> None:
    client = kc.KimiClient(provider="moonshot", base_url=moonshot.base_url, api_key="k")
    uploaded = client.upload_file(b"\x89PNG fake", filename="cat.png", purpose="image")
    part = {"type": "image_url", "image_url": {"url": f"ms://{uploaded['id']}"}}
    accept(moonshot, body("kimi-k2.6", messages=[{"role": "user", "content": [part]}]))


def test_invalid_json_body(moonshot: KimiEmulator) -> None:
    resp = HTTP.post(
        moonshot.chat_url,
        content=b"{not json",
        headers={"Authorization": "Bearer k", "Content-Type": "application/json"},
    )
    assert resp.status_code == 400
    assert "not valid JSON" in resp.json()["error"]["message"]
