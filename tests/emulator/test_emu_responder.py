"""The deterministic responder, through real HTTP and the kimi_core clients."""

from __future__ import annotations

import json
from typing import Any

import pytest
from emu_helpers import MODEL_FOR, WEATHER_TOOL, body, chat, stream, validate

import kimi_core as kc
from kimi_emulator import KimiEmulator

OFF = {"thinking": {"type": "disabled"}}


#: These tests judge the responder, not the served line: their moonshot emulator also
#: serves the retired 2025 ids they ask for (issue 12 made the default list 2026's).
_RETIRED_2025 = ("kimi-k2-turbo-preview", "kimi-k2-thinking")


@pytest.fixture
def moonshot(kimi_emulator_factory: Any) -> KimiEmulator:
    served = KimiEmulator(dialect="moonshot").models
    emu: KimiEmulator = kimi_emulator_factory("moonshot", models=[*served, *_RETIRED_2025])
    return emu


def client_for(emu: KimiEmulator) -> kc.KimiClient:
    return kc.KimiClient(provider=emu.provider, base_url=emu.base_url, api_key=emu.api_key)


def fn(
    name: str, description: str, properties: dict[str, Any], required: list[str]
) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }


STOCK = fn(
    "get_stock_price",
    "Look up the latest stock price for a ticker symbol",
    {"symbol": {"type": "string"}},
    ["symbol"],
)
MULTIPLY = fn(
    "multiply",
    "Multiply two numbers",
    {"a": {"type": "integer"}, "b": {"type": "integer"}},
    ["a", "b"],
)
MAGIC = fn(
    "magic_function",
    "Applies a magic function to an input.",
    {"input": {"type": "integer"}},
    ["input"],
)
EMAIL = fn(
    "send_email",
    "Send an email message to someone",
    {
        "to": {"type": "string", "format": "email"},
        "subject": {"type": "string"},
        "urgent": {"type": "boolean"},
    },
    ["to", "subject"],
)
TOOLS = [WEATHER_TOOL, STOCK, MULTIPLY, MAGIC, EMAIL]


def calls_of(result: kc.ChatResult) -> list[tuple[str, dict[str, Any]]]:
    return [
        (c["function"]["name"], json.loads(c["function"]["arguments"]))
        for c in result.message.get("tool_calls") or ()
    ]


def ask(client: kc.KimiClient, text: str, **kw: Any) -> kc.ChatResult:
    kw.setdefault("model", "kimi-k2-turbo-preview")
    return client.chat(messages=[{"role": "user", "content": text}], **kw)


# --------------------------------------------------------------------------- tool calls


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What's the weather in Paris?", [("get_weather", {"city": "Paris"})]),
        (
            "How is the weather in New York in fahrenheit?",
            [("get_weather", {"city": "New York", "unit": "fahrenheit"})],
        ),
        ("What is the stock price of AAPL today?", [("get_stock_price", {"symbol": "AAPL"})]),
        ("Multiply 3 and 12 please", [("multiply", {"a": 3, "b": 12})]),
        (
            "What is the value of magic_function(3)? Use the tool.",
            [("magic_function", {"input": 3})],
        ),
        ("What's the weather in city: Lyon?", [("get_weather", {"city": "Lyon"})]),
        (
            "What is the weather in San Francisco, CA?",
            [("get_weather", {"city": "San Francisco, CA"})],
        ),
        (
            "Weather in Paris and London?",
            [("get_weather", {"city": "Paris"}), ("get_weather", {"city": "London"})],
        ),
    ],
)
def test_tool_call_from_the_users_words(
    moonshot: KimiEmulator, question: str, expected: list[tuple[str, dict[str, Any]]]
) -> None:
    result = ask(client_for(moonshot), question, tools=TOOLS)
    assert calls_of(result) == expected
    assert result.body["choices"][0]["finish_reason"] == "tool_calls"


def test_parallel_calls_can_be_turned_off(moonshot: KimiEmulator) -> None:
    result = ask(
        client_for(moonshot), "Weather in Paris and London?", tools=TOOLS, parallel_tool_calls=False
    )
    assert calls_of(result) == [("get_weather", {"city": "Paris"})]


def test_arguments_validate_against_the_schema(moonshot: KimiEmulator) -> None:
    result = ask(client_for(moonshot), "Send an email to bob about the launch", tools=TOOLS)
    ((name, args),) = calls_of(result)
    assert name == "send_email"
    validate(args, EMAIL["function"]["parameters"])


def test_no_matching_tool_or_tool_choice_none_gives_text(moonshot: KimiEmulator) -> None:
    client = client_for(moonshot)
    result = ask(client, "Tell me a joke", tools=[WEATHER_TOOL])
    assert not result.message.get("tool_calls")
    assert "Tell me a joke" in result.message["content"]
    result = ask(client, "Weather in Paris?", tools=[WEATHER_TOOL], tool_choice="none")
    assert not result.message.get("tool_calls")


def test_forced_tool_choice_is_honoured(moonshot: KimiEmulator) -> None:
    named = {"type": "function", "function": {"name": "multiply"}}
    result = ask(client_for(moonshot), "Tell me a joke", tools=TOOLS, tool_choice=named)
    assert calls_of(result) == [("multiply", {"a": 1, "b": 1})]
    result = ask(client_for(moonshot), "Tell me a joke", tools=[STOCK], tool_choice="required")
    assert [n for n, _ in calls_of(result)] == ["get_stock_price"]


def test_tool_without_parameters(moonshot: KimiEmulator) -> None:
    tool = {"type": "function", "function": {"name": "magic_function_no_args", "description": "x"}}
    req = {
        "model": "kimi-k2-turbo-preview",
        "messages": [
            {"role": "user", "content": "What is magic_function_no_args()? Use the tool."}
        ],
        "tools": [tool],
    }
    call = chat(moonshot, req).json()["choices"][0]["message"]["tool_calls"][0]
    assert call["function"] == {"name": "magic_function_no_args", "arguments": "{}"}


def test_full_tool_loop_with_reasoning_replayed(moonshot: KimiEmulator) -> None:
    client = client_for(moonshot)
    messages: list[dict[str, Any]] = [{"role": "user", "content": "What's the weather in Paris?"}]
    first = client.chat(model="kimi-k2.6", messages=messages, tools=[WEATHER_TOOL])
    assistant = first.message
    assert assistant["reasoning_content"]
    call = assistant["tool_calls"][0]
    assert call["id"] == "get_weather_0"  # Moonshot 2026 ids (vercel/ai captures)
    messages += [
        assistant,
        {"role": "tool", "tool_call_id": call["id"], "content": '{"temp_c": 22, "sky": "sunny"}'},
    ]
    second = client.chat(model="kimi-k2.6", messages=messages, tools=[WEATHER_TOOL])
    answer = second.message["content"]
    assert "get_weather returned" in answer
    assert '"temp_c": 22' in answer
    assert not second.message.get("tool_calls")
    assert second.body["choices"][0]["finish_reason"] == "stop"
    # The next call in this conversation gets the next id.
    messages += [second.message, {"role": "user", "content": "And the weather in Rome?"}]
    third = client.chat(model="kimi-k2.6", messages=messages, tools=[WEATHER_TOOL])
    assert third.message["tool_calls"][0]["id"] == "get_weather_1"
    assert calls_of(third) == [("get_weather", {"city": "Rome"})]


def test_web_search_builtin_flow(moonshot: KimiEmulator) -> None:
    client = client_for(moonshot)
    tools = [{"type": "builtin_function", "function": {"name": "$web_search"}}]
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Who won the match yesterday?"}]
    first = client.chat(model="kimi-k2.6", messages=messages, tools=tools, thinking=False)
    assert first.body["choices"][0]["finish_reason"] == "tool_calls"
    call = first.message["tool_calls"][0]
    assert call["function"]["name"] == "$web_search"
    args = json.loads(call["function"]["arguments"])
    assert args["search_result"]["search_id"]
    messages += [
        first.message,
        {
            "role": "tool",
            "tool_call_id": call["id"],
            "name": "$web_search",
            "content": call["function"]["arguments"],
        },
    ]
    second = client.chat(model="kimi-k2.6", messages=messages, tools=tools, thinking=False)
    assert second.body["choices"][0]["finish_reason"] == "stop"
    assert "web search" in second.message["content"]
    # The arguments must go back unchanged (whitespace aside).
    messages[-1] = {**messages[-1], "content": json.dumps(args, indent=2)}
    client.chat(model="kimi-k2.6", messages=messages, tools=tools, thinking=False)
    messages[-1] = {**messages[-1], "content": "search results: none"}
    with pytest.raises(kc.BadRequestError, match="must be the call's arguments, unchanged"):
        client.chat(model="kimi-k2.6", messages=messages, tools=tools, thinking=False)


# --------------------------------------------------------------------------- JSON


def test_json_object_mode(moonshot: KimiEmulator) -> None:
    result = ask(
        client_for(moonshot),
        "Reply in JSON: what is the capital of France?",
        response_format={"type": "json_object"},
    )
    assert isinstance(json.loads(result.message["content"]), dict)


def test_json_object_uses_the_keys_the_prompt_names(moonshot: KimiEmulator) -> None:
    result = ask(
        client_for(moonshot),
        "Tell me a joke about cats. Return the result as a JSON with 'setup' and "
        "'punchline' keys. Return nothing other than JSON.",
        response_format={"type": "json_object"},
    )
    value = json.loads(result.message["content"])
    assert set(value) == {"setup", "punchline"}
    assert all(isinstance(v, str) and v for v in value.values())


def test_quoted_unicode_names_become_arguments(moonshot: KimiEmulator) -> None:
    customer = fn(
        "unicode_customer",
        "Tool for creating a customer with Unicode name.",
        {"customer_name": {"type": "string"}, "description": {"type": "string"}},
        ["customer_name", "description"],
    )
    text = "Create a customer named '你好啊集团' (Hello Group) - a Chinese technology company"
    result = ask(client_for(moonshot), text, tools=[customer], tool_choice="required")
    ((name, args),) = calls_of(result)
    assert name == "unicode_customer"
    assert args["customer_name"] == "你好啊集团"
    assert (
        "你好啊集团"
        in chat(
            moonshot,
            {
                "model": "kimi-k2-turbo-preview",
                "messages": [{"role": "user", "content": text}],
                "tools": [customer],
            },
        ).text
    )  # sent as UTF-8, not \u escapes


def test_json_object_follows_a_schema_in_the_prompt(moonshot: KimiEmulator) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
    }
    system = f"Answer with JSON matching this schema: {json.dumps(schema)}"
    result = client_for(moonshot).chat(
        model="kimi-k2-turbo-preview",
        messages=[{"role": "system", "content": system}, {"role": "user", "content": "Ada is 36"}],
        response_format={"type": "json_object"},
    )
    value = json.loads(result.message["content"])
    validate(value, schema)
    assert value == {"name": "Ada", "age": 36}


SCHEMAS: list[dict[str, Any]] = [
    {
        "type": "object",
        "properties": {
            "setup": {"type": "string", "description": "The setup of the joke"},
            "punchline": {"type": "string"},
            "rating": {
                "anyOf": [{"type": "integer", "minimum": 1, "maximum": 10}, {"type": "null"}]
            },
        },
        "required": ["setup", "punchline"],
        "additionalProperties": False,
    },
    {
        "type": "object",
        "properties": {
            "people": {
                "type": "array",
                "items": {"$ref": "#/$defs/person"},
                "minItems": 2,
            },
            "mood": {"type": "string", "enum": ["happy", "sad"]},
            "score": {"type": "number", "minimum": 0.5},
            "ok": {"type": "boolean"},
            "nothing": {"type": "null"},
        },
        "required": ["people", "mood", "score", "ok", "nothing"],
        "$defs": {
            "person": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "minLength": 3},
                    "tags": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["name", "tags"],
            }
        },
    },
]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_json_schema_answers_validate(moonshot: KimiEmulator, schema: dict[str, Any]) -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}
    result = ask(client_for(moonshot), "Tell me a joke about cats, rated 7", response_format=fmt)
    validate(json.loads(result.message["content"]), schema)


# --------------------------------------------------------------------------- text


def test_short_answer_and_reasoning(moonshot: KimiEmulator) -> None:
    client = client_for(moonshot)
    plain = ask(client, "What is the capital of France?")
    assert "What is the capital of France?" in plain.message["content"]
    assert "not a model" in plain.message["content"]
    assert "reasoning_content" not in plain.message
    thinking = ask(client, "What is the capital of France?", model="kimi-k2-thinking")
    assert "capital of France" in thinking.message["reasoning_content"]
    again = ask(client, "What is the capital of France?", model="kimi-k2-thinking")
    assert again.message == thinking.message  # deterministic


def test_partial_mode_continues_the_prefix(moonshot: KimiEmulator) -> None:
    client = client_for(moonshot)
    messages = [
        {"role": "user", "content": "Describe Paris"},
        {"role": "assistant", "content": "Paris is", "partial": True},
    ]
    result = client.chat(model="kimi-k2-turbo-preview", messages=messages)
    content = result.message["content"]
    assert content
    assert not content.startswith("Paris is")
    schema = SCHEMAS[0]
    fmt = {"type": "json_schema", "json_schema": {"name": "joke", "schema": schema}}
    messages[-1] = {"role": "assistant", "content": "{", "partial": True}
    result = client.chat(model="kimi-k2-turbo-preview", messages=messages, response_format=fmt)
    validate(json.loads("{" + result.message["content"]), schema)


def test_stop_sequences_cut_the_content(moonshot: KimiEmulator) -> None:
    result = ask(client_for(moonshot), "Hello", stop=["deterministic"])
    content = result.message["content"]
    assert content.endswith("This is a ")
    assert result.body["choices"][0]["finish_reason"] == "stop"


def test_max_tokens_gives_length(moonshot: KimiEmulator) -> None:
    result = ask(client_for(moonshot), "Hello there, how are you?", max_completion_tokens=5)
    assert result.body["choices"][0]["finish_reason"] == "length"
    assert result.body["usage"]["completion_tokens"] <= 5
    assert result.message["content"]
    thinking = ask(client_for(moonshot), "Hello there", model="kimi-k2-thinking", max_tokens=3)
    assert thinking.body["choices"][0]["finish_reason"] == "length"
    assert thinking.message["content"] == ""


# --------------------------------------------------------------------------- usage


def test_usage_is_consistent(moonshot: KimiEmulator) -> None:
    client = client_for(moonshot)
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Hi there"},
    ]
    result = client.chat(model="kimi-k2.6", messages=messages)
    usage = result.body["usage"]
    assert usage["prompt_tokens"] == client.estimate_token_count("kimi-k2.6", messages)
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["completion_tokens_details"]["reasoning_tokens"] > 0
    # The streamed usage is the same count.
    s = client.stream(model="kimi-k2.6", messages=messages)
    list(s)
    streamed = s.accumulator.usage
    assert streamed is not None
    assert streamed["prompt_tokens"] == usage["prompt_tokens"]
    assert streamed["completion_tokens"] == usage["completion_tokens"]


def test_cached_tokens_on_repeated_prefixes(moonshot: KimiEmulator) -> None:
    client = client_for(moonshot)
    system = {"role": "system", "content": "You are a helpful assistant. " * 40}
    first = client.chat(
        model="kimi-k2-turbo-preview", messages=[system, {"role": "user", "content": "One"}]
    )
    assert "cached_tokens" not in first.body["usage"]  # Moonshot 2026: absent when none
    second = client.chat(
        model="kimi-k2-turbo-preview", messages=[system, {"role": "user", "content": "Two"}]
    )
    usage = second.body["usage"]
    assert 0 < usage["cached_tokens"] < usage["prompt_tokens"]
    assert usage["prompt_tokens_details"]["cached_tokens"] == usage["cached_tokens"]
    moonshot.reset()
    third = client.chat(
        model="kimi-k2-turbo-preview", messages=[system, {"role": "user", "content": "Two"}]
    )
    assert "cached_tokens" not in third.body["usage"]


def test_responder_through_each_dialect_stream(any_emu: KimiEmulator) -> None:
    model = MODEL_FOR[any_emu.dialect]
    req = {
        "model": model,
        "messages": [{"role": "user", "content": "What's the weather in Oslo?"}],
        "tools": [WEATHER_TOOL],
    }
    _, _events, done = stream(any_emu, req)
    assert done
    client = client_for(any_emu)
    s = client.stream(model=model, messages=req["messages"], tools=[WEATHER_TOOL])
    list(s)
    msg = s.completion()["choices"][0]["message"]
    assert msg["reasoning_content"]
    assert json.loads(msg["tool_calls"][0]["function"]["arguments"]) == {"city": "Oslo"}
    assert body()  # helper stays importable
