"""End to end through the emulator: tools and tool_choice, thinking, structured output,
partial mode, $web_search, multimodal parts, parameters and token counting."""

from __future__ import annotations

import base64
import json
import warnings
from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.rate_limiters import InMemoryRateLimiter
from langchain_core.tools import tool
from lc_helpers import KEY, chat_for
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

import kimi_core as kc
from langchain_kimi import WEB_SEARCH_TOOL, ChatKimi, KimiWebSearch, web_search_echo


@tool
def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"18°C in {city}"


@tool
def get_population(city: str) -> int:
    """Get the population of a city."""
    return 2_100_000


class Person(BaseModel):
    """A person mentioned in the text."""

    name: str = Field(description="The person's name")
    age: int = Field(description="Age in years")


class PersonDict(TypedDict):
    """A person mentioned in the text."""

    name: str
    age: int


PERSON_SCHEMA = {
    "title": "person",
    "description": "A person mentioned in the text.",
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}
EXTRACT = "Alice is 30 years old. Extract the person."


# --------------------------------------------------------------------------- tool_choice


def _body(emu: Any) -> dict[str, Any]:
    body: dict[str, Any] = emu.chat_requests[-1].json
    return body


@pytest.mark.parametrize("choice", ["required", "any", True, "get_weather"])
def test_forced_choice_on_switchable_thinking_model_disables_thinking(
    moonshot: Any, choice: Any
) -> None:
    model = chat_for(moonshot, "kimi-k2.6").bind_tools([get_weather], tool_choice=choice)
    ai = model.invoke("What's the weather in Paris?")
    assert ai.tool_calls[0]["name"] == "get_weather"
    body = _body(moonshot)
    assert body["thinking"] == {"type": "disabled"}
    expected = (
        {"type": "function", "function": {"name": "get_weather"}}
        if choice == "get_weather"
        else "required"
    )
    assert body["tool_choice"] == expected


def test_forced_choice_on_always_thinking_model_is_sent_as_auto_and_checked(
    evolink: Any,
) -> None:
    model = chat_for(evolink, "kimi-k2-thinking").bind_tools(
        [get_weather, get_population], tool_choice="get_population"
    )
    emu = evolink
    emu.script(
        reasoning="Population.",
        tool_calls=[{"name": "get_population", "arguments": {"city": "Paris"}}],
    )
    ai = model.invoke("Tell me about Paris")
    assert ai.tool_calls[0]["name"] == "get_population"
    body = _body(emu)
    assert body["tool_choice"] == "auto"
    assert [t["function"]["name"] for t in body["tools"]] == ["get_population"]
    assert "thinking" not in body
    # No call in the answer: the forced choice was not honoured -> a clear error.
    emu.script("Paris is big.", reasoning="No tool needed.")
    with pytest.raises(kc.ToolCallMissingError, match="get_population"):
        model.invoke("Tell me about Paris")
    emu.script("Paris is big.", reasoning="No tool needed.")
    with pytest.raises(kc.ToolCallMissingError):
        list(model.stream("Tell me about Paris"))


def test_explicit_thinking_true_keeps_thinking(moonshot: Any) -> None:
    model = chat_for(moonshot, "kimi-k2.6", thinking=True).bind_tools(
        [get_weather], tool_choice="required"
    )
    ai = model.invoke("What's the weather in Paris?")
    assert ai.tool_calls
    assert ai.additional_kwargs["reasoning_content"]
    body = _body(moonshot)
    assert body["thinking"] == {"type": "enabled"}
    assert body["tool_choice"] == "auto"


def test_tool_choice_none_and_auto(moonshot: Any) -> None:
    model = chat_for(moonshot)
    ai = model.bind_tools([get_weather], tool_choice="none").invoke("Weather in Paris?")
    assert ai.tool_calls == []
    assert _body(moonshot)["tool_choice"] == "none"
    model.bind_tools([get_weather], tool_choice="auto", parallel_tool_calls=False).invoke("hi")
    assert _body(moonshot)["tool_choice"] == "auto"
    assert _body(moonshot)["parallel_tool_calls"] is False


def test_unknown_tool_choice_fails_at_bind(moonshot: Any) -> None:
    with pytest.raises(kc.ConfigurationError, match="get_weather"):
        chat_for(moonshot).bind_tools([get_weather], tool_choice="nope")


def test_tool_schemas_are_normalised(moonshot: Any) -> None:
    class Inner(BaseModel):
        unit: str = Field(description="unit")

    class Query(BaseModel):
        """Query with a nested model and an optional field."""

        inner: Inner = Field(description="a nested model next to its description")
        limit: int | None = None

    ai = chat_for(moonshot).bind_tools([Query]).invoke("Query please")
    assert isinstance(ai, AIMessage)  # the emulator's MFJS judge accepted the schema
    params = _body(moonshot)["tools"][0]["function"]["parameters"]
    assert "$defs" not in json.dumps(params)


def test_parallel_calls(moonshot: Any) -> None:
    ai = (
        chat_for(moonshot)
        .bind_tools([get_weather])
        .invoke("what is the weather in Paris and in Tokyo?")
    )
    assert sorted(c["args"]["city"] for c in ai.tool_calls) == ["Paris", "Tokyo"]
    assert len({c["id"] for c in ai.tool_calls}) == 2


# --------------------------------------------------------------------------- structured output


@pytest.mark.parametrize("schema", [Person, PersonDict, PERSON_SCHEMA])
def test_structured_json_schema_default_on_moonshot(moonshot: Any, schema: Any) -> None:
    model = chat_for(moonshot, "kimi-k2.6")
    out = model.with_structured_output(schema).invoke(EXTRACT)
    parsed = out.model_dump() if isinstance(out, BaseModel) else out
    assert set(parsed) == {"name", "age"}
    assert isinstance(parsed["age"], int)
    body = _body(moonshot)
    assert body["response_format"]["type"] == "json_schema"
    assert "tools" not in body
    assert "thinking" not in body  # the model keeps thinking


@pytest.mark.parametrize("schema", [Person, PersonDict, PERSON_SCHEMA])
def test_structured_function_calling(emu: Any, schema: Any) -> None:
    model = chat_for(emu)
    name = schema.__name__ if isinstance(schema, type) else "person"
    emu.script(
        reasoning="Extract.", tool_calls=[{"name": name, "arguments": {"name": "Alice", "age": 30}}]
    )
    out = model.with_structured_output(schema, method="function_calling").invoke(EXTRACT)
    parsed = out.model_dump() if isinstance(out, BaseModel) else out
    assert parsed == {"name": "Alice", "age": 30}
    body = _body(emu)
    assert [t["function"]["name"] for t in body["tools"]] == [name]


def test_structured_default_is_function_calling_without_json_schema(acedata: Any) -> None:
    model = chat_for(acedata, "kimi-k2.5")
    acedata.script(
        reasoning="Extract.", tool_calls=[{"name": "Person", "arguments": {"name": "Al", "age": 3}}]
    )
    out = model.with_structured_output(Person).invoke(EXTRACT)
    assert out == Person(name="Al", age=3)
    body = _body(acedata)
    # kimi-k2.5 has a thinking switch: the forced call goes with thinking disabled.
    assert body["thinking"] == {"type": "disabled"}
    assert body["tool_choice"] == {"type": "function", "function": {"name": "Person"}}


def test_structured_json_mode(acedata: Any) -> None:
    acedata.script('{"name": "Alice", "age": 30}', reasoning="JSON.")
    out = (
        chat_for(acedata)
        .with_structured_output(Person, method="json_mode")
        .invoke("Return the person as JSON with keys name and age. " + EXTRACT)
    )
    assert out == Person(name="Alice", age=30)
    assert _body(acedata)["response_format"] == {"type": "json_object"}
    acedata.script('{"a": 1}')
    assert chat_for(acedata).with_structured_output(None, method="json_mode").invoke(
        "JSON please"
    ) == {"a": 1}


def test_structured_default_on_an_always_thinking_model_without_json_schema(acedata: Any) -> None:
    """AceData documents json_object only and kimi-k2-thinking always thinks (a forced
    tool call would go out as auto): the default is json_mode with the schema in the
    system message, answered by the emulator's responder (no script)."""
    out = chat_for(acedata, "kimi-k2-thinking").with_structured_output(Person).invoke(EXTRACT)
    assert isinstance(out, Person)
    body = _body(acedata)
    assert body["response_format"] == {"type": "json_object"} and "tools" not in body
    assert body["messages"][0]["role"] == "system"
    assert "conforms to this JSON Schema" in body["messages"][0]["content"]


def test_structured_include_raw(moonshot: Any) -> None:
    moonshot.script('{"name": "Alice"}', reasoning="Oops, no age.")
    out = chat_for(moonshot).with_structured_output(Person, include_raw=True).invoke(EXTRACT)
    assert isinstance(out, dict)
    assert isinstance(out["raw"], AIMessage)
    assert out["raw"].additional_kwargs["reasoning_content"] == "Oops, no age."
    assert out["parsed"] is None
    assert out["parsing_error"] is not None
    ok = chat_for(moonshot).with_structured_output(Person, include_raw=True).invoke(EXTRACT)
    assert isinstance(ok["parsed"], Person)  # type: ignore[index]
    assert ok["parsing_error"] is None  # type: ignore[index]


async def test_structured_output_async_and_streamed(moonshot: Any) -> None:
    model = chat_for(moonshot).with_structured_output(Person)
    assert isinstance(await model.ainvoke(EXTRACT), Person)
    streamed = [
        p async for p in chat_for(moonshot).with_structured_output(PersonDict).astream(EXTRACT)
    ]
    assert streamed, "the JSON parser yields as the answer streams in"
    assert set(streamed[-1]) == {"name", "age"}
    assert moonshot.chat_requests[-1].json["stream"] is True


def test_structured_methods_refused_where_not_offered(acedata: Any) -> None:
    with pytest.raises(kc.ConfigurationError, match=r"json_schema.*acedata"):
        chat_for(acedata).with_structured_output(Person, method="json_schema")
    assert acedata.requests == []


# --------------------------------------------------------------------------- partial mode


def test_partial_mode(emu: Any) -> None:
    prefix = AIMessage("Once upon a time", additional_kwargs={"partial": True})
    reply = chat_for(emu).invoke([HumanMessage("Tell me a story."), prefix])
    last = _body(emu)["messages"][-1]
    assert last == {"role": "assistant", "content": "Once upon a time", "partial": True}
    assert reply.content
    assert not str(reply.content).startswith("Once upon a time")


def test_partial_mode_with_json_object_is_refused_before_sending(moonshot: Any) -> None:
    prefix = AIMessage("{", additional_kwargs={"partial": True})
    model = chat_for(moonshot).bind(response_format={"type": "json_object"})
    with pytest.raises(kc.ConfigurationError, match="partial"):
        model.invoke([HumanMessage("JSON"), prefix])
    assert moonshot.requests == []


# --------------------------------------------------------------------------- $web_search


SEARCH = "Search the web: what is new in Paris today?"


def test_web_search_loop(moonshot: Any) -> None:
    model = chat_for(moonshot, "kimi-k2.6").bind_web_search()
    messages: list[BaseMessage] = [HumanMessage(SEARCH)]
    ai = model.invoke(messages)
    assert ai.tool_calls[0]["name"] == "$web_search"
    turns = 0
    while ai.tool_calls:
        messages += [ai, *web_search_echo(ai)]
        ai = model.invoke(messages)
        turns += 1
    assert turns == 1
    assert "web search" in str(ai.content)
    first, second = moonshot.chat_requests
    assert first.json["tools"] == [WEB_SEARCH_TOOL]
    assert first.json["thinking"] == {"type": "disabled"}
    echo = second.json["messages"][-1]
    sent_call = second.json["messages"][-2]["tool_calls"][0]
    assert sent_call["type"] == "builtin_function"
    assert echo["role"] == "tool"
    assert echo["name"] == "$web_search"
    assert echo["tool_call_id"] == sent_call["id"]
    assert json.loads(echo["content"]) == json.loads(sent_call["function"]["arguments"])


async def test_web_search_loop_async_streamed(moonshot: Any) -> None:
    model = chat_for(moonshot, "kimi-k2.6").bind_web_search([get_weather])
    messages: list[BaseMessage] = [HumanMessage(SEARCH)]
    for _ in range(3):
        full = None
        async for chunk in model.astream(messages):
            full = chunk if full is None else full + chunk
        assert full is not None
        if not full.tool_calls:
            break
        messages += [full, *web_search_echo(full)]
    assert "web search" in str(full.content)
    assert len(moonshot.chat_requests) == 2


def test_web_search_as_an_agent_tool(moonshot: Any) -> None:
    tools = {t.name: t for t in (KimiWebSearch(), get_weather)}
    model = chat_for(moonshot, "kimi-k2.6").bind_tools(list(tools.values()))
    messages: list[BaseMessage] = [HumanMessage(SEARCH)]
    ai = model.invoke(messages)
    while ai.tool_calls:  # what an agent's tool node does
        messages += [ai, *[tools[c["name"]].invoke(c) for c in ai.tool_calls]]
        ai = model.invoke(messages)
    assert "web search" in str(ai.content)
    declared = moonshot.chat_requests[0].json["tools"]
    assert WEB_SEARCH_TOOL in declared


# --------------------------------------------------------------------------- multimodal

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(24)).decode()
IMAGE = {"type": "image", "base64": PNG, "mime_type": "image/png"}
QUESTION = {"type": "text", "text": "What is in this picture?"}


def test_image_blocks_on_moonshot(moonshot: Any) -> None:
    model = chat_for(moonshot, "kimi-k2.6")
    reply = model.invoke([HumanMessage(content=[QUESTION, IMAGE])])
    assert reply.content
    part = _body(moonshot)["messages"][0]["content"][1]
    assert part == {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}
    # An uploaded file id is sent as ms://<id>.
    client = kc.KimiClient(provider="moonshot", base_url=moonshot.base_url, api_key=KEY)
    file_id = client.upload_file(base64.b64decode(PNG), filename="a.png", purpose="image")["id"]
    model.invoke([HumanMessage(content=[QUESTION, {"type": "image", "file_id": file_id}])])
    assert _body(moonshot)["messages"][0]["content"][1]["image_url"]["url"] == f"ms://{file_id}"
    # OpenAI-style parts pass through.
    openai_part = {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}
    assert model.invoke([HumanMessage(content=[QUESTION, openai_part])]).content


def test_video_on_a_model_that_takes_video(moonshot: Any) -> None:
    video = {"type": "video", "base64": "AAAAIGZ0eXBpc29t", "mime_type": "video/mp4"}
    assert chat_for(moonshot, "kimi-k2.6").invoke([HumanMessage(content=[QUESTION, video])]).content
    assert _body(moonshot)["messages"][0]["content"][1]["type"] == "video_url"


def test_file_part_on_gptproto(gptproto: Any) -> None:
    pdf = {
        "type": "file",
        "base64": "JVBERi0xLjQ=",
        "mime_type": "application/pdf",
        "filename": "a.pdf",
    }
    reply = chat_for(gptproto).invoke([HumanMessage(content=[QUESTION, pdf])])
    assert reply.content
    assert _body(gptproto)["messages"][0]["content"][1] == {
        "type": "file",
        "file": {"file_data": "data:application/pdf;base64,JVBERi0xLjQ=", "filename": "a.pdf"},
    }


@pytest.mark.parametrize(
    ("dialect", "model", "part", "match"),
    [
        ("acedata", "kimi-k2.5", IMAGE, "content parts of type text"),
        ("evolink", "kimi-k2-thinking-turbo", IMAGE, "takes no image input"),
        ("gptproto", "kimi-k2-instruct-0905", IMAGE, "takes no image input"),
        ("evolink", "kimi-k2-thinking", IMAGE, "takes no image input"),
        ("moonshot", "kimi-k2.6", {"type": "file", "url": "https://e.x/a.pdf"}, "file"),
        ("gptproto", "kimi-k2.5", {"type": "video", "file_id": "v"}, "video_url"),
        (
            "moonshot",
            "kimi-k2.6",
            {"type": "audio", "base64": "AA", "mime_type": "audio/wav"},
            "audio",
        ),
    ],
)
def test_unsupported_parts_fail_before_sending(
    emulators: dict[str, Any], dialect: str, model: str, part: dict[str, Any], match: str
) -> None:
    emu = emulators[dialect]
    emu.reset()
    with pytest.raises(kc.ConfigurationError, match=match) as info:
        chat_for(emu, model).invoke([HumanMessage(content=[QUESTION, part])])
    assert "messages[0].content[1]" in str(info.value)
    assert emu.requests == []


def test_http_image_url_on_moonshot_is_refused_before_sending(moonshot: Any) -> None:
    url_image = {"type": "image", "url": "https://example.com/cat.png"}
    with pytest.raises(
        kc.ConfigurationError,
        match=r"image_url.url='https://example.com/cat.png' .*'moonshot'.*base64 data URI",
    ):
        chat_for(moonshot, "kimi-k2.6").invoke([HumanMessage(content=[QUESTION, url_image])])
    assert moonshot.requests == []


# --------------------------------------------------------------------------- parameters


def test_parameters_reach_the_body(moonshot: Any) -> None:
    # A Moonshot account from before the 2026-05-25 retirement of the K2 previews: models
    # whose sampling is free (the emulator serves them when asked to; reset restores).
    moonshot.models = moonshot.models | {"kimi-k2-0905-preview", "kimi-k2-turbo-preview"}
    # kimi-k2.7-code fixes its temperature (simstudioai/sim PR #5716): a K2 preview instead,
    # whose RetiredModelWarning (once per process) is beside the point here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kc.RetiredModelWarning)
        model = _parameters_model(moonshot)
    model.invoke([SystemMessage("Be brief."), HumanMessage("hi")])
    _check_parameters(moonshot, model)


def _parameters_model(moonshot: Any) -> Any:
    return chat_for(
        moonshot,
        "kimi-k2-0905-preview",  # fixes no sampling value
        temperature=0.3,
        top_p=0.9,
        max_tokens=256,
        stop=["END"],
        presence_penalty=0.5,
        frequency_penalty=0.2,
        prompt_cache_key="session-1",
        safety_identifier="user-hash",
        extra_body={"x_custom": 1},
        model_kwargs={"top_k_custom": 5, "response_format": {"type": "text"}},
        default_headers={"X-Team": "lc"},
    )


def _check_parameters(moonshot: Any, model: Any) -> None:
    request = moonshot.chat_requests[-1]
    body = request.json
    assert body["temperature"] == 0.3
    assert body["top_p"] == 0.9
    assert body["max_completion_tokens"] == 256  # the name Moonshot documents
    assert body["stop"] == ["END"]
    assert body["presence_penalty"] == 0.5
    assert body["frequency_penalty"] == 0.2
    assert body["prompt_cache_key"] == "session-1"
    assert body["safety_identifier"] == "user-hash"
    assert body["x_custom"] == 1
    assert body["top_k_custom"] == 5
    assert body["response_format"] == {"type": "text"}
    assert request.headers["x-team"] == "lc"
    # Per-call values win; a per-call model override is honoured.
    model.invoke("hi", temperature=0.1, model="kimi-k2-turbo-preview", stop=["X"])
    body = moonshot.chat_requests[-1].json
    assert (body["temperature"], body["model"], body["stop"]) == (
        0.1,
        "kimi-k2-turbo-preview",
        ["X"],
    )


def test_max_tokens_name_per_provider(acedata: Any) -> None:
    chat_for(acedata, max_tokens=100).invoke("hi")
    body = acedata.chat_requests[-1].json
    assert body["max_tokens"] == 100
    assert "max_completion_tokens" not in body


def test_fixed_sampling_is_refused_before_sending(moonshot: Any) -> None:
    with pytest.raises(kc.ConfigurationError, match=r"temperature=0 .*kimi-k2\.6.*only 1"):
        chat_for(moonshot, "kimi-k2.6", temperature=0).invoke("hi")
    # with thinking off the fixed value is 0.6
    chat_for(moonshot, "kimi-k2.6", temperature=0.6, thinking=False).invoke("hi")
    assert len(moonshot.requests) == 1


def test_thinking_switch(moonshot: Any) -> None:
    off = chat_for(moonshot, "kimi-k2.6", thinking=False).invoke("hi")
    assert "reasoning_content" not in off.additional_kwargs
    assert _body(moonshot)["thinking"] == {"type": "disabled"}
    with pytest.raises(kc.ConfigurationError, match="always thinks"):
        chat_for(moonshot, "kimi-k2.7-code", thinking=False).invoke("hi")


def test_stop_limits_per_provider(gptproto: Any) -> None:
    with pytest.raises(kc.ConfigurationError, match="at most 4 stop"):
        chat_for(gptproto, stop=["a", "b", "c", "d", "e"]).invoke("hi")
    assert gptproto.requests == []


def test_unknown_call_parameter_is_refused(moonshot: Any) -> None:
    with pytest.raises(kc.ConfigurationError, match="extra_body"):
        chat_for(moonshot).invoke("hi", top_kk=3)
    chat_for(moonshot).invoke("hi", extra_body={"top_kk": 3})
    assert _body(moonshot)["top_kk"] == 3


def test_stream_usage_is_ignored_by_invoke(moonshot: Any) -> None:
    assert chat_for(moonshot).invoke("hi", stream_usage=False).usage_metadata is not None
    assert "stream_usage" not in _body(moonshot)


def test_streaming_several_choices_is_refused(moonshot: Any) -> None:
    with pytest.raises(kc.ConfigurationError, match="n=2"):
        list(chat_for(moonshot, "kimi-k2.7-code", n=2).stream("hi"))


def test_custom_http_clients(moonshot: Any) -> None:
    seen: list[str] = []

    def hook(request: httpx.Request) -> None:
        seen.append(str(request.url))

    async def ahook(request: httpx.Request) -> None:
        seen.append("async " + str(request.url))

    with httpx.Client(event_hooks={"request": [hook]}) as sync_client:
        model = chat_for(moonshot, http_client=sync_client)
        model.invoke("hi")
    assert seen == [moonshot.base_url + "/chat/completions"]


async def test_custom_async_http_client(moonshot: Any) -> None:
    seen: list[str] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(str(request.url))

    async with httpx.AsyncClient(event_hooks={"request": [hook]}) as client:
        await chat_for(moonshot, http_async_client=client).ainvoke("hi")
    assert seen == [moonshot.base_url + "/chat/completions"]


def test_rate_limiter_is_used(moonshot: Any) -> None:
    class Counting(InMemoryRateLimiter):
        calls = 0

        def acquire(self, *, blocking: bool = True) -> bool:
            type(self).calls += 1
            return True

    limiter = Counting(requests_per_second=1000)
    model = chat_for(moonshot, rate_limiter=limiter)
    model.invoke("a")
    list(model.stream("b"))
    assert Counting.calls == 2


def test_message_names_and_system_prompt(moonshot: Any) -> None:
    chat_for(moonshot).invoke([SystemMessage("sys"), HumanMessage("hi", name="bob")])
    assert _body(moonshot)["messages"] == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "hi", "name": "bob"},
    ]


def test_tool_message_with_list_content(moonshot: Any) -> None:
    ai = AIMessage("", tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "c0"}])
    tool_msg = ToolMessage([{"type": "text", "text": "18°C"}], tool_call_id="c0")
    model = chat_for(moonshot).bind_tools([get_weather])
    assert model.invoke([HumanMessage("Weather in Paris?"), ai, tool_msg]).content
    assert _body(moonshot)["messages"][2]["content"] == "18°C"


# --------------------------------------------------------------------------- tokens


def test_token_count_uses_the_estimate_endpoint_on_moonshot(moonshot: Any) -> None:
    messages = [SystemMessage("Be brief."), HumanMessage("How many tokens is this?")]
    count = chat_for(moonshot).get_num_tokens_from_messages(messages)
    assert count > 0
    (request,) = moonshot.requests
    assert request.path.endswith("/tokenizers/estimate-token-count")
    assert request.json["messages"][1] == {"role": "user", "content": "How many tokens is this?"}
    assert chat_for(moonshot).get_num_tokens("hello") > 0


def test_token_count_is_approximated_elsewhere(acedata: Any) -> None:
    model = chat_for(acedata)
    short = model.get_num_tokens_from_messages([HumanMessage("hi")])
    long = model.get_num_tokens_from_messages([HumanMessage("hi " * 400)])
    assert 0 < short < long
    with_tools = model.get_num_tokens_from_messages([HumanMessage("hi")], tools=[get_weather])
    assert with_tools > short
    assert acedata.requests == []


def test_model_without_key_fails_at_the_first_call(
    moonshot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("MOONSHOT_API_KEY", "KIMI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    model = ChatKimi(model="kimi-k2.6", provider="moonshot", base_url=moonshot.base_url)
    with pytest.raises(kc.ConfigurationError, match="MOONSHOT_API_KEY or KIMI_API_KEY"):
        model.invoke("hi")
    monkeypatch.setenv("KIMI_API_KEY", KEY)
    assert model.invoke("hi").content


def test_malformed_tool_arguments_are_kept_not_raised(emu: Any) -> None:
    emu.script(
        reasoning="Call.", tool_calls=[{"name": "get_weather", "arguments": '{"city": "Par'}]
    )
    model = chat_for(emu).bind_tools([get_weather])
    ai = model.invoke("What's the weather in Paris?")
    assert ai.tool_calls == []
    (bad,) = ai.invalid_tool_calls
    assert (bad["name"], bad["args"]) == ("get_weather", '{"city": "Par')
    assert "not valid JSON" in (bad["error"] or "")
    # Sent back on the next turn as it came.
    ai2 = model.invoke(
        [
            HumanMessage("What's the weather in Paris?"),
            ai,
            ToolMessage("bad call", tool_call_id=bad["id"] or ""),
        ]
    )
    assert ai2.content
    replay = _body(emu)["messages"][1]["tool_calls"][0]
    assert replay["function"]["arguments"] == '{"city": "Par'


def test_strict_tools_reach_the_body(moonshot: Any) -> None:
    chat_for(moonshot).bind_tools([get_weather], strict=True).invoke("What's the weather in Paris?")
    fn = _body(moonshot)["tools"][0]["function"]
    assert fn["strict"] is True
    assert fn["parameters"]["additionalProperties"] is False
