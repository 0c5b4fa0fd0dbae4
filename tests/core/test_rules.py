"""Request rules: every check runs before anything is sent, and every error names the
parameter, the value, what is allowed and whose rule it is."""

from __future__ import annotations

from typing import Any

import pytest

import kimi_core as kc
from kimi_core import _adapter as ka
from kimi_core._rules import REQUEST_PARAMS, build_chat_request

MOON = kc.get_provider("moonshot")
ACE = kc.get_provider("acedata")
EVO = kc.get_provider("evolink")
GPT = kc.get_provider("gptproto")
USER = [{"role": "user", "content": "hi"}]


def build(
    profile: kc.ProviderProfile = MOON, model: str = "kimi-k2.5", **kw: Any
) -> kc.ChatRequest:
    kw.setdefault("messages", USER)
    return build_chat_request(profile, model=model, **kw)


def fn(name: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": name,
            "parameters": params or {"type": "object", "properties": {}},
        },
    }


def raises(match: str, **kw: Any) -> kc.ConfigurationError:
    with pytest.raises(kc.ConfigurationError, match=match) as info:
        build(**kw)
    return info.value


# -- fixed sampling ---------------------------------------------------------------


def test_fixed_sampling_values_are_left_out_when_unset() -> None:
    body = build().body
    for key in ("temperature", "top_p", "n", "presence_penalty", "frequency_penalty"):
        assert key not in body


def test_conflicting_temperature_names_the_allowed_value() -> None:
    err = raises(
        r"temperature=0.7 is not accepted by model 'kimi-k2.5'.*with thinking enabled: only 1 is allowed",
        temperature=0.7,
    )
    assert err.param == "temperature" and err.model == "kimi-k2.5" and err.provider == "moonshot"
    raises(
        r"temperature=1 .*thinking disabled: only 0.6 is allowed", temperature=1.0, thinking=False
    )
    assert build(temperature=0.6, thinking=False).body["temperature"] == 0.6
    assert build(model="kimi-k2.6", temperature=1).body["temperature"] == 1


@pytest.mark.parametrize(
    ("param", "value", "allowed"),
    [("top_p", 0.9, "0.95"), ("presence_penalty", 0.5, "0"), ("frequency_penalty", -1, "0")],
)
def test_other_fixed_values(param: str, value: float, allowed: str) -> None:
    raises(rf"{param}={value} .*only {allowed} is allowed", **{param: value})


def test_fixed_n() -> None:
    raises(r"n=2 is not accepted by model 'kimi-k2.5': the value is fixed: only 1", n=2)
    assert build(n=1).body["n"] == 1


# -- provider ranges ----------------------------------------------------------------


def test_temperature_ranges_per_provider() -> None:
    raises(
        r"temperature=1.5 is not accepted by provider 'moonshot'.*from 0 to 1",
        model="kimi-k2-turbo-preview",
        temperature=1.5,
    )
    assert build(ACE, "kimi-k2-turbo-preview", temperature=1.5).body["temperature"] == 1.5
    raises(
        r"provider 'gptproto'.*from 0 to 1",
        profile=GPT,
        model="kimi-k2-turbo-preview",
        temperature=1.2,
    )
    raises(
        r"temperature=nan .*a finite number",
        model="kimi-k2-turbo-preview",
        temperature=float("nan"),
    )
    raises(r"temperature=True .*a finite number", model="kimi-k2-turbo-preview", temperature=True)


def test_n_ranges() -> None:
    raises(r"n=6 .*provider 'moonshot'.*from 1 to 5", model="kimi-k2-turbo-preview", n=6)
    assert build(ACE, "kimi-k2-turbo-preview", n=100).body["n"] == 100
    raises(r"n=129 .*from 1 to 128", profile=ACE, model="kimi-k2-turbo-preview", n=129)
    raises(r"n=0 ", model="kimi-k2-turbo-preview", n=0)
    raises(
        r"n must be 1 when temperature is close to 0",
        model="kimi-k2-turbo-preview",
        n=2,
        temperature=0,
    )


def test_stop_limits() -> None:
    assert build(stop="END").body["stop"] == ["END"]
    raises(r"stop=\[.*at most 5 stop sequences", stop=list("abcdef"))
    raises(r"at most 4 stop sequences", profile=GPT, stop=list("abcde"))
    raises(r"each stop sequence at most 32 bytes \(this one is 33\)", stop=["é" * 16 + "x"])
    assert build(ACE, stop=["x" * 100]).body["stop"] == ["x" * 100]
    raises(r"non-empty string", stop=[""])


def test_max_tokens_goes_under_the_documented_name() -> None:
    assert build(max_tokens=100).body == {**build().body, "max_completion_tokens": 100}
    assert build(ACE, max_tokens=100).body["max_tokens"] == 100
    assert "max_completion_tokens" not in build(ACE, max_completion_tokens=100).body
    raises(r"not both", max_tokens=10, max_completion_tokens=20)
    raises(r"max_tokens=0 .*a positive integer", max_tokens=0)
    raises(r"max_tokens=300000 .*at most the context window, 262144 tokens", max_tokens=300_000)


# -- thinking -------------------------------------------------------------------------


def test_unconfirmed_model_rules_warn_and_send() -> None:
    # kimi-k3.1-pro is reported after the 2026-09 listing (lower confidence): the kimi-k3
    # rules warn instead of refusing. (kimi-k3 and kimi-k2.7-code, unconfirmed in 2025,
    # are served and recorded now: their rules refuse, see test_thinking.py.)
    pro = "kimi-k3.1-pro"
    with pytest.warns(kc.UnconfirmedRuleWarning, match=rf"temperature=0.7 .*'{pro}'.*unconfirmed"):
        assert build(model=pro, temperature=0.7).body["temperature"] == 0.7
    with pytest.warns(kc.UnconfirmedRuleWarning, match=r"n=2 "):
        assert build(model=pro, n=2).body["n"] == 2
    with pytest.warns(kc.UnconfirmedRuleWarning, match=rf"thinking=False .*'{pro}'"):
        assert build(model=pro, thinking=False).body["thinking"] == {"type": "disabled"}
    with pytest.warns(kc.UnconfirmedRuleWarning, match=r"reasoning_effort='medium' "):
        assert build(model=pro, reasoning_effort="medium").body["reasoning_effort"] == "medium"
    body = build(model=pro).body  # the rules that send nothing still apply
    assert "temperature" not in body and "thinking" not in body


def test_thinking_switch() -> None:
    assert build(thinking=False).body["thinking"] == {"type": "disabled"}
    assert build(thinking=True).body["thinking"] == {"type": "enabled"}
    assert "thinking" not in build().body
    assert build().thinking and not build(thinking=False).thinking
    raises(
        r"thinking=False .*'kimi-k2-thinking'.*always thinks",
        model="kimi-k2-thinking",
        thinking=False,
    )
    assert "thinking" not in build(model="kimi-k2-thinking", thinking=True).body
    raises(
        r"thinking=True .*'kimi-k2-turbo-preview'.*does not think",
        model="kimi-k2-turbo-preview",
        thinking=True,
    )
    assert "thinking" not in build(model="kimi-k2-turbo-preview", thinking=False).body
    raises(r"thinking='yes' .*True, False, None .*\{'type': 'enabled'", thinking="yes")


# -- tools -----------------------------------------------------------------------------


def test_tool_names_and_counts() -> None:
    raises(r"tools\[0\].function.name='1abc' .*\^\[a-zA-Z_\]", tools=[fn("1abc")])
    raises(r"tools\[0\].function.name='ab' ", tools=[fn("ab")])
    raises(
        r"tools\[1\].function.name='get_weather' .*unique",
        tools=[fn("get_weather"), fn("get_weather")],
    )
    raises(r"tools='129 tools' .*at most 128 tools", tools=[fn(f"tool_{i}") for i in range(129)])
    assert len(build(ACE, tools=[fn(f"tool_{i}") for i in range(129)]).body["tools"]) == 129
    ok = build(tools=[fn("get-weather_2")]).body
    assert ok["tools"][0]["function"]["name"] == "get-weather_2"


def test_tool_schemas_are_normalised() -> None:
    params = {
        "type": "object",
        "properties": {"x": {"$ref": "#/$defs/X", "description": "the x"}},
        "$defs": {"X": {"type": "string", "description": "X"}},
    }
    body = build(tools=[fn("tool_a", params)]).body
    assert body["tools"][0]["function"]["parameters"] == {
        "type": "object",
        "properties": {"x": {"type": "string", "description": "the x"}},
        "required": [],
    }
    assert params["properties"]["x"] == {
        "$ref": "#/$defs/X",
        "description": "the x",
    }  # input untouched


def test_builtin_web_search() -> None:
    ws = {"type": "builtin_function", "function": {"name": "$web_search"}}
    assert build(tools=[ws], thinking=False).body["tools"] == [ws]
    # Documented with thinking disabled: done for the caller who left thinking unset...
    req = build(tools=[ws])
    assert req.body["thinking"] == {"type": "disabled"} and not req.thinking
    # ...but an explicit choice, or a temperature only valid while thinking, is kept.
    assert (
        "thinking" in build(tools=[ws], thinking=True).body
        and build(tools=[ws], thinking=True).thinking
    )
    assert build(tools=[ws], temperature=1.0).thinking
    assert "thinking" not in build(model="kimi-k2-thinking", tools=[ws]).body
    raises(
        r"a builtin such as '\$web_search'",
        tools=[{"type": "builtin_function", "function": {"name": "web"}}],
    )


def test_tool_choice_values() -> None:
    raises(
        r"tool_choice='any' .*'auto', 'none', 'required'",
        tools=[fn("get_weather")],
        tool_choice="any",
    )
    raises(
        r"tool_choice=.*name one of the tools: 'get_weather'",
        tools=[fn("get_weather")],
        tool_choice={"type": "function", "function": {"name": "nope"}},
    )
    raises(r"a forced tool_choice needs tools", tool_choice="required")
    assert "tool_choice" not in build(tool_choice="auto").body


def test_forced_tool_choice_disables_thinking_where_the_model_allows() -> None:
    req = build(tools=[fn("get_weather")], tool_choice="required")
    assert req.body["tool_choice"] == "required"
    assert req.body["thinking"] == {"type": "disabled"}
    assert not req.thinking and req.required_tool is None


def test_forced_tool_choice_on_an_always_thinking_model_becomes_auto_plus_a_check() -> None:
    named = {"type": "function", "function": {"name": "get_weather"}}
    req = build(
        model="kimi-k2-thinking", tools=[fn("get_weather"), fn("get_time")], tool_choice=named
    )
    assert req.body["tool_choice"] == "auto" and req.required_tool == "get_weather"
    assert [t["function"]["name"] for t in req.body["tools"]] == ["get_weather"]
    req = build(
        model="kimi-k2-thinking", tools=[fn("get_weather"), fn("get_time")], tool_choice="required"
    )
    assert (
        req.body["tool_choice"] == "auto"
        and req.required_tool is True
        and len(req.body["tools"]) == 2
    )


def test_explicit_thinking_or_a_thinking_temperature_keeps_thinking_on() -> None:
    req = build(tools=[fn("get_weather")], tool_choice="required", thinking=True)
    assert req.body["tool_choice"] == "auto" and req.required_tool is True and req.thinking
    req = build(tools=[fn("get_weather")], tool_choice="required", temperature=1.0)
    assert req.body["tool_choice"] == "auto" and req.required_tool is True


def test_forced_tool_choice_without_thinking_is_sent_as_is() -> None:
    req = build(model="kimi-k2-turbo-preview", tools=[fn("get_weather")], tool_choice="required")
    assert req.body["tool_choice"] == "required" and "thinking" not in req.body


# -- messages ---------------------------------------------------------------------------


def test_empty_content_is_refused_with_its_index() -> None:
    raises(
        r"messages\[1\].content='' .*must not be empty",
        messages=[*USER, {"role": "user", "content": ""}],
    )
    raises(r"messages\[0\].content=\[\]", messages=[{"role": "user", "content": []}])
    raises(r"messages is empty", messages=[])
    raises(r"messages\[0\].role='bot'", messages=[{"role": "bot", "content": "x"}])


CALL = {
    "id": "functions.get_weather:0",
    "type": "function",
    "function": {"name": "get_weather", "arguments": "{}"},
}


def test_reasoning_content_is_added_to_tool_call_messages_while_thinking() -> None:
    msgs = [
        *USER,
        {"role": "assistant", "content": "", "tool_calls": [CALL]},
        {"role": "tool", "tool_call_id": CALL["id"], "content": "sunny"},
    ]
    body = build(messages=msgs).body
    assistant = body["messages"][1]
    assert assistant == {"role": "assistant", "reasoning_content": "", "tool_calls": [CALL]}
    assert "content" in msgs[1]  # the caller's dicts are not modified
    kept = build(
        messages=[
            *USER,
            {"role": "assistant", "reasoning_content": "because", "tool_calls": [CALL]},
            msgs[2],
        ]
    ).body
    assert kept["messages"][1]["reasoning_content"] == "because"
    off = build(messages=msgs, thinking=False).body
    assert "reasoning_content" not in off["messages"][1]


def test_malformed_messages_are_named() -> None:
    raises(
        r"messages\[0\].content=\{'text': 'x'\} .*a string or a list of content parts",
        messages=[{"role": "user", "content": {"text": "x"}}],
    )
    raises(
        r"messages\[1\].tool_calls=True .*a list of",
        messages=[*USER, {"role": "assistant", "tool_calls": True}],
    )
    raises(
        r"messages\[1\].tool_calls\[0\]=.*'arguments': str",
        messages=[
            *USER,
            {
                "role": "assistant",
                "tool_calls": [{"id": "a", "function": {"name": "f", "arguments": {"x": 1}}}],
            },
        ],
    )
    raises(
        r"messages\[0\].tool_calls=.*only assistant messages",
        messages=[{"role": "user", "content": "x", "tool_calls": [CALL]}],
    )
    raises(r"stop=\{'a': 1\} .*a non-empty string or a list", stop={"a": 1})


def test_tool_message_needs_its_call_id() -> None:
    raises(r"messages\[1\].tool_call_id=None", messages=[*USER, {"role": "tool", "content": "x"}])


def test_partial_mode() -> None:
    msgs = [*USER, {"role": "assistant", "content": "Once upon", "partial": True}]
    assert build(messages=msgs).body["messages"][-1]["partial"] is True
    raises(
        r"partial mode .*cannot be combined with json_object",
        messages=msgs,
        response_format={"type": "json_object"},
    )
    raises(
        r"messages\[0\].partial=True .*only the last message",
        messages=[{"role": "assistant", "content": "x", "partial": True}, *USER],
    )


IMAGE = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
VIDEO = {"type": "video_url", "video_url": {"url": "ms://file-1"}}


def test_content_parts_per_provider_and_model() -> None:
    parts = [{"type": "text", "text": "what is this?"}, IMAGE]
    assert (
        build(messages=[{"role": "user", "content": parts}]).body["messages"][0]["content"] == parts
    )
    raises(
        r"messages\[0\].content\[1\].type='image_url' .*model 'kimi-k2-thinking': this model takes no image input",
        model="kimi-k2-thinking",
        messages=[{"role": "user", "content": parts}],
    )
    raises(
        r"content\[1\].type='video_url' .*provider 'evolink'.*content parts of type image_url, text",
        profile=EVO,
        model="kimi-k2-thinking",
        messages=[{"role": "user", "content": [parts[0], VIDEO]}],
    )
    raises(
        r"content\[1\].type='image_url' .*provider 'acedata'",
        profile=ACE,
        messages=[{"role": "user", "content": parts}],
    )
    assert build(model="kimi-k2.5", messages=[{"role": "user", "content": [parts[0], VIDEO]}]).body
    file_part = {"type": "file", "file": {"filename": "a.pdf", "file_data": "https://x/a.pdf"}}
    assert build(GPT, messages=[{"role": "user", "content": [parts[0], file_part]}]).body
    raises(
        r"content\[1\].type='file' .*provider 'moonshot'",
        messages=[{"role": "user", "content": [parts[0], file_part]}],
    )


def test_media_urls_on_moonshot_must_be_data_uris_or_file_ids() -> None:
    web = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
    err = raises(
        r"messages\[0\].content\[1\].image_url.url='https://example.com/cat.png' .*provider 'moonshot'.*base64 data URI.*ms://",
        messages=[{"role": "user", "content": [{"type": "text", "text": "what is it?"}, web]}],
    )
    assert err.param == "messages[0].content[1].image_url.url"
    assert build(
        GPT, messages=[{"role": "user", "content": [{"type": "text", "text": "x"}, web]}]
    ).body
    raises(
        r"image_url.url=None .*a URL string",
        messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}],
    )


def test_text_parts_are_joined_for_string_only_providers() -> None:
    parts = [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]
    assert (
        build(ACE, messages=[{"role": "user", "content": parts}]).body["messages"][0]["content"]
        == "ab"
    )


# -- response_format ------------------------------------------------------------------


def test_response_formats_per_provider() -> None:
    schema = {
        "type": "json_schema",
        "json_schema": {
            "name": "x",
            "schema": {"type": "object", "properties": {"a": {"const": 1}}},
        },
    }
    body = build(response_format=schema).body
    assert body["response_format"]["json_schema"]["schema"]["properties"]["a"] == {
        "enum": [1],
        "type": "integer",
    }
    raises(
        r"response_format.type='json_schema' .*provider 'acedata'.*one of json_object, text",
        profile=ACE,
        response_format=schema,
    )
    raises(r"response_format.json_schema=None", response_format={"type": "json_schema"})
    assert build(ACE, response_format={"type": "json_object"}).body["response_format"] == {
        "type": "json_object"
    }
    raises(r"this model has no json_schema mode", model="kimi-latest", response_format=schema)


# -- the rest ---------------------------------------------------------------------------


def test_stream_options_and_extras() -> None:
    assert build(stream=True).body["stream_options"] == {"include_usage": True}
    assert "stream_options" not in build(stream=True, stream_usage=False).body
    assert "stream_options" not in build(ACE, stream=True).body
    body = build(
        prompt_cache_key="session-1",
        safety_identifier="u-hash",
        extra_body={"thinking": {"type": "enabled", "keep": "all"}},
    ).body
    assert body["prompt_cache_key"] == "session-1" and body["safety_identifier"] == "u-hash"
    assert body["thinking"] == {"type": "enabled", "keep": "all"}
    raises(r"prompt_cache_key=''", prompt_cache_key="")


def test_model_id_required() -> None:
    with pytest.raises(kc.ConfigurationError, match="model='' is not a model id"):
        build_chat_request(MOON, model="", messages=USER)


def test_sniff_media_type() -> None:
    import base64

    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 20
    assert ka.sniff_media_type(png) == "image/png"
    assert ka.sniff_media_type(base64.b64encode(png).decode()) == "image/png"
    assert ka.sniff_media_type(b"\xff\xd8\xff\xe0") == "image/jpeg"
    assert ka.sniff_media_type(b"RIFF\0\0\0\0WEBPVP8 ") == "image/webp"
    assert ka.sniff_media_type(b"\0\0\0\x18ftypmp42") == "video/mp4"
    assert ka.sniff_media_type(b"%PDF-1.7") == "application/pdf"
    assert ka.sniff_media_type(b"hello") is None
    assert ka.sniff_media_type("not base64 !!") is None


def test_request_params_are_the_builders_keywords() -> None:
    import inspect

    keywords = set(inspect.signature(build_chat_request).parameters)
    assert keywords - {"profile", "model", "messages", "stream", "extra_body"} == REQUEST_PARAMS


def test_a_builtin_call_goes_back_typed_as_kimi_sent_it() -> None:
    ws_call = {
        "id": "ws:0",
        "type": "function",
        "function": {"name": "$web_search", "arguments": '{"q": 1}'},
    }
    msgs = [
        *USER,
        {"role": "assistant", "tool_calls": [ws_call, CALL]},
        {"role": "tool", "tool_call_id": "ws:0", "name": "$web_search", "content": '{"q": 1}'},
    ]
    sent = build(messages=msgs, thinking=False).body["messages"][1]["tool_calls"]
    assert [c["type"] for c in sent] == ["builtin_function", "function"]
    assert ws_call["type"] == "function"  # the caller's dict is untouched


@pytest.mark.parametrize("role", [[], {}, 3, None, "robot"])
def test_a_role_that_is_not_a_known_string_is_refused_clearly(role: Any) -> None:
    # Found by test_fuzz_validation: {"role": []} raised TypeError (unhashable) before.
    err = raises(r"messages\[0\]\.role", messages=[{"role": role, "content": "hi"}])
    assert err.param == "messages[0].role"
