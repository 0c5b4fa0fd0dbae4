"""The deterministic responder, through real HTTP and the kimi_core client.

Nothing here is scripted: the emulator answers from the conversation, the tools and
their schemas. The tests run the tools themselves (small local functions) and send the
results back, as an agent loop does. ``tests/agents/`` runs the same tasks through
LangChain, LangGraph and LlamaIndex agents.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from emu_helpers import MODEL_FOR, WEATHER_TOOL, chat, stream, validate

import kimi_core as kc
from kimi_emulator import KimiEmulator

#: A model that does not think for these requests (kimi-k2.6 with thinking disabled).
PLAIN: dict[str, Any] = {"model": "kimi-k2.6", "thinking": False}
#: The same in a raw request body.
RAW: dict[str, Any] = {"model": "kimi-k2.6", "thinking": {"type": "disabled"}}
EMULATOR_NOTE = "(Kimi emulator: a deterministic answer from the tool results, not a model.)"


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

#: The two tools of the README's agent example.
GET_WEATHER = fn(
    "get_weather",
    "Get the current weather in a city: the sky and the temperature in Celsius.",
    {"city": {"type": "string"}},
    ["city"],
)
TO_FAHRENHEIT = fn(
    "celsius_to_fahrenheit",
    "Convert a temperature from degrees Celsius to degrees Fahrenheit.",
    {"celsius": {"type": "number"}},
    ["celsius"],
)
AGENT_TOOLS = [GET_WEATHER, TO_FAHRENHEIT]
SKIES = {"paris": "18 C and cloudy", "tokyo": "24 C and sunny", "berlin": "12 C and rainy"}


def run_tool(name: str, args: dict[str, Any]) -> str:
    """The tools, run locally as an app would."""
    if name == "get_weather":
        return SKIES.get(str(args["city"]).lower(), "no weather data for that city")
    if name == "celsius_to_fahrenheit":
        return f"{float(args['celsius']) * 9 / 5 + 32:g} F"
    if name == "multiply":
        return str(int(args["a"]) * int(args["b"]))
    raise AssertionError(f"unexpected call {name}({args})")


def calls_of(result: kc.ChatResult) -> list[tuple[str, dict[str, Any]]]:
    return [
        (c["function"]["name"], json.loads(c["function"]["arguments"]))
        for c in result.message.get("tool_calls") or ()
    ]


def ask(client: kc.KimiClient, text: str, **kw: Any) -> kc.ChatResult:
    kw = {**PLAIN, **kw}
    return client.chat(messages=[{"role": "user", "content": text}], **kw)


def run_loop(
    client: kc.KimiClient, messages: list[dict[str, Any]], tools: list[dict[str, Any]], **kw: Any
) -> tuple[list[list[tuple[str, dict[str, Any]]]], kc.ChatResult]:
    """An agent loop: the calls of each turn (run locally), and the final result."""
    kw = {**PLAIN, **kw}
    turns: list[list[tuple[str, dict[str, Any]]]] = []
    for _ in range(10):
        result = client.chat(messages=messages, tools=tools, **kw)
        messages.append(result.message)
        calls = calls_of(result)
        if not calls:
            return turns, result
        turns.append(calls)
        for raw, (name, args) in zip(result.message["tool_calls"], calls, strict=True):
            messages.append(
                {"role": "tool", "tool_call_id": raw["id"], "content": run_tool(name, args)}
            )
    raise AssertionError(f"no answer after 10 turns: {turns}")


# --------------------------------------------------------------------------- 1. plans


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
        (
            "Send an email to bob@example.com about the launch",
            [("send_email", {"to": "bob@example.com", "subject": "the launch"})],
        ),
    ],
)
def test_tool_call_from_the_users_words(
    moonshot: KimiEmulator, question: str, expected: list[tuple[str, dict[str, Any]]]
) -> None:
    result = ask(client_for(moonshot), question, tools=TOOLS)
    assert calls_of(result) == expected
    assert result.body["choices"][0]["finish_reason"] == "tool_calls"
    for name, args in calls_of(result):
        schema = next(t for t in TOOLS if t["function"]["name"] == name)["function"]
        validate(args, schema["parameters"])


def test_a_call_whose_argument_comes_from_a_result_follows_it(moonshot: KimiEmulator) -> None:
    """The README's task: get_weather first, its 18 C becomes celsius=18, then the answer."""
    messages = [{"role": "user", "content": "What is the temperature in Paris in Fahrenheit?"}]
    turns, final = run_loop(client_for(moonshot), messages, AGENT_TOOLS)
    assert turns == [
        [("get_weather", {"city": "Paris"})],
        [("celsius_to_fahrenheit", {"celsius": 18})],
    ]
    assert final.message["content"] == f"Paris: 18 C and cloudy, which is 64.4 F. {EMULATOR_NOTE}"
    assert final.body["choices"][0]["finish_reason"] == "stop"


def test_independent_calls_go_together_and_each_result_is_converted(
    moonshot: KimiEmulator,
) -> None:
    messages = [
        {
            "role": "user",
            "content": "What is the weather in Paris and in Tokyo? Give the temperatures in "
            "fahrenheit.",
        }
    ]
    turns, final = run_loop(client_for(moonshot), messages, AGENT_TOOLS)
    assert turns == [
        [("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Tokyo"})],
        [("celsius_to_fahrenheit", {"celsius": 18}), ("celsius_to_fahrenheit", {"celsius": 24})],
    ]
    assert final.message["content"] == (
        "Paris: 18 C and cloudy, which is 64.4 F. Tokyo: 24 C and sunny, which is 75.2 F. "
        + EMULATOR_NOTE
    )


def test_parallel_tool_calls_false_makes_one_call_a_turn(moonshot: KimiEmulator) -> None:
    messages = [{"role": "user", "content": "Weather in Paris and in Tokyo, in fahrenheit?"}]
    turns, final = run_loop(client_for(moonshot), messages, AGENT_TOOLS, parallel_tool_calls=False)
    assert all(len(turn) == 1 for turn in turns)
    assert [call for turn in turns for call in turn] == [
        ("get_weather", {"city": "Paris"}),
        ("get_weather", {"city": "Tokyo"}),
        ("celsius_to_fahrenheit", {"celsius": 18}),
        ("celsius_to_fahrenheit", {"celsius": 24}),
    ]
    assert "64.4 F" in final.message["content"] and "75.2 F" in final.message["content"]


def test_a_follow_up_resolves_against_the_conversation(moonshot: KimiEmulator) -> None:
    client = client_for(moonshot)
    messages = [{"role": "user", "content": "What is the weather in Paris, in Fahrenheit?"}]
    run_loop(client, messages, AGENT_TOOLS)
    messages.append({"role": "user", "content": "And in Berlin?"})
    turns, final = run_loop(client, messages, AGENT_TOOLS)
    assert turns == [
        [("get_weather", {"city": "Berlin"})],
        [("celsius_to_fahrenheit", {"celsius": 12})],
    ]
    assert final.message["content"].startswith("Berlin: 12 C and rainy, which is 53.6 F.")
    # A message that asks for nothing new is answered, not a repeat of the plan.
    messages.append({"role": "user", "content": "Thanks!"})
    assert not calls_of(client.chat(messages=messages, tools=AGENT_TOOLS, **PLAIN))


def test_a_missing_number_is_never_made_up(moonshot: KimiEmulator) -> None:
    client = client_for(moonshot)
    result = ask(client, "Convert the temperature to fahrenheit", tools=[TO_FAHRENHEIT])
    assert not calls_of(result)
    assert "I need celsius for celsius_to_fahrenheit" in result.message["content"]
    result = ask(client, "What's the weather?", tools=[GET_WEATHER])
    assert not calls_of(result)
    assert "I need city for get_weather" in result.message["content"]
    # Forced: the schema's default, else its minimum, else 0; never 1.
    named = {"type": "function", "function": {"name": "multiply"}}
    assert calls_of(ask(client, "Tell me a joke", tools=TOOLS, tool_choice=named)) == [
        ("multiply", {"a": 0, "b": 0})
    ]
    bounded = fn(
        "set_volume",
        "Set the volume",
        {"level": {"type": "integer", "minimum": 3}, "step": {"type": "number", "default": 2.5}},
        ["level", "step"],
    )
    forced = ask(client, "Louder", tools=[bounded], tool_choice="required")
    assert calls_of(forced) == [("set_volume", {"level": 3, "step": 2.5})]


def test_a_result_that_gives_nothing_ends_the_plan(moonshot: KimiEmulator) -> None:
    messages = [{"role": "user", "content": "What is the weather in Atlantis, in Fahrenheit?"}]
    turns, final = run_loop(client_for(moonshot), messages, AGENT_TOOLS)
    assert turns == [[("get_weather", {"city": "Atlantis"})]]
    assert final.message["content"] == (
        "Atlantis: no weather data for that city. I could not call celsius_to_fahrenheit: "
        f"nothing gave a value for celsius. {EMULATOR_NOTE}"
    )


def test_the_plan_is_bounded(moonshot: KimiEmulator) -> None:
    """A conversation that already made many calls gets an answer, not one more call."""
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "What is the weather in Paris, in Fahrenheit?"}
    ]
    for i in range(20):
        messages.append(
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": f"call_{i}",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": f'{{"city": "X{i}"}}'},
                    }
                ],
            }
        )
        messages.append({"role": "tool", "tool_call_id": f"call_{i}", "content": f"{i} C"})
    result = client_for(moonshot).chat(messages=messages, tools=AGENT_TOOLS, **PLAIN)
    assert not calls_of(result)
    assert result.message["content"].endswith(EMULATOR_NOTE)


def test_no_matching_tool_or_tool_choice_none_gives_text(moonshot: KimiEmulator) -> None:
    client = client_for(moonshot)
    result = ask(client, "Tell me a joke", tools=[WEATHER_TOOL])
    assert not result.message.get("tool_calls")
    assert "Tell me a joke" in result.message["content"]
    result = ask(client, "Weather in Paris?", tools=[WEATHER_TOOL], tool_choice="none")
    assert not result.message.get("tool_calls")


def test_forced_and_required_tool_choice_are_honoured(moonshot: KimiEmulator) -> None:
    client = client_for(moonshot)
    named = {"type": "function", "function": {"name": "get_weather"}}
    assert calls_of(ask(client, "Weather in Oslo?", tools=TOOLS, tool_choice=named)) == [
        ("get_weather", {"city": "Oslo"})
    ]
    result = ask(client, "Tell me a joke", tools=[STOCK], tool_choice="required")
    assert [n for n, _ in calls_of(result)] == ["get_stock_price"]


def test_tool_without_parameters(moonshot: KimiEmulator) -> None:
    tool = {"type": "function", "function": {"name": "magic_function_no_args", "description": "x"}}
    req = {
        **RAW,
        "messages": [
            {"role": "user", "content": "What is magic_function_no_args()? Use the tool."}
        ],
        "tools": [tool],
    }
    call = chat(moonshot, req).json()["choices"][0]["message"]["tool_calls"][0]
    assert call["function"] == {"name": "magic_function_no_args", "arguments": "{}"}


def test_a_class_named_tool_is_the_answer_and_comes_last(moonshot: KimiEmulator) -> None:
    """LangChain's ToolStrategy: the real tools first, then ``Weather`` with the results."""
    weather = fn(
        "Weather",
        "The weather in a city.",
        {
            "city": {"type": "string"},
            "temperature_f": {"type": "number", "description": "temperature in Fahrenheit"},
            "sky": {"type": "string"},
        },
        ["city", "temperature_f", "sky"],
    )
    messages = [{"role": "user", "content": "What is the weather in Paris, in Fahrenheit?"}]
    client = client_for(moonshot)
    for expected in (
        [("get_weather", {"city": "Paris"})],
        [("celsius_to_fahrenheit", {"celsius": 18})],
    ):
        result = client.chat(
            messages=messages, tools=[*AGENT_TOOLS, weather], tool_choice="required", **PLAIN
        )
        assert calls_of(result) == expected
        messages.append(result.message)
        ((name, args),) = expected
        messages.append(
            {
                "role": "tool",
                "tool_call_id": result.message["tool_calls"][0]["id"],
                "content": run_tool(name, args),
            }
        )
    result = client.chat(
        messages=messages, tools=[*AGENT_TOOLS, weather], tool_choice="required", **PLAIN
    )
    assert calls_of(result) == [
        ("Weather", {"city": "Paris", "temperature_f": 64.4, "sky": "cloudy"})
    ]


def test_full_tool_loop_with_reasoning_replayed(moonshot: KimiEmulator) -> None:
    client = client_for(moonshot)
    messages: list[dict[str, Any]] = [{"role": "user", "content": "What's the weather in Paris?"}]
    first = client.chat(model="kimi-k2.6", messages=messages, tools=[WEATHER_TOOL])
    assistant = first.message
    assert "I will call get_weather(city=" in assistant["reasoning_content"]
    call = assistant["tool_calls"][0]
    assert call["id"] == "get_weather_0"  # Moonshot 2026 ids (vercel/ai captures)
    messages += [
        assistant,
        {"role": "tool", "tool_call_id": call["id"], "content": '{"temp_c": 22, "sky": "sunny"}'},
    ]
    second = client.chat(model="kimi-k2.6", messages=messages, tools=[WEATHER_TOOL])
    assert second.message["content"] == f"Paris: temp_c 22, sky sunny. {EMULATOR_NOTE}"
    assert "Every part is answered" in second.message["reasoning_content"]
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


# --------------------------------------------------------------------------- 2. formats

PERSON = {
    "type": "object",
    "title": "Person",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer"},
        "city": {"type": "string"},
    },
    "required": ["name", "age", "city"],
}
CITY = {
    "type": "object",
    "properties": {
        "country": {"type": "string", "description": "The country the city is in"},
        "name": {"type": "string", "description": "The city's name"},
        "population_millions": {"type": "number", "description": "Inhabitants, in millions"},
    },
    "required": ["country", "name", "population_millions"],
}
PEOPLE = {
    "type": "object",
    "properties": {"people": {"type": "array", "items": {"$ref": "#/$defs/Person"}}},
    "required": ["people"],
    "$defs": {"Person": {**PERSON, "required": ["name", "age"]}},
}


def fmt(schema: dict[str, Any], name: str = "answer") -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}


@pytest.mark.parametrize(
    ("text", "schema", "expected"),
    [
        (
            "Alice Smith is 30 years old and lives in Lyon.",
            PERSON,
            {"name": "Alice Smith", "age": 30, "city": "Lyon"},
        ),
        (
            "Paris, the capital city of France, has about 2.1 million inhabitants.",
            CITY,
            {"country": "France", "name": "Paris", "population_millions": 2.1},
        ),
        (
            "Paris has about 2.1 million inhabitants.",
            {
                "type": "object",
                "title": "City",
                "properties": {"name": {"type": "string"}, "population": {"type": "integer"}},
                "required": ["name", "population"],
            },
            {"name": "Paris", "population": 2100000},
        ),
        (
            "Alice is 30 and Bob is 25.",
            PEOPLE,
            {"people": [{"name": "Alice", "age": 30}, {"name": "Bob", "age": 25}]},
        ),
    ],
)
def test_a_schema_is_filled_by_field_name_and_type(
    moonshot: KimiEmulator, text: str, schema: dict[str, Any], expected: dict[str, Any]
) -> None:
    result = ask(client_for(moonshot), text, response_format=fmt(schema))
    value = json.loads(result.message["content"])
    validate(value, schema)
    assert value == expected


def test_response_format_holds_after_tool_results(moonshot: KimiEmulator) -> None:
    """LangChain's ProviderStrategy: ``json_schema`` and tools on every turn; the calls
    first, then the JSON, filled from the results."""
    weather = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "temperature_f": {"type": "number", "description": "temperature in Fahrenheit"},
            "sky": {"type": "string"},
        },
        "required": ["city", "temperature_f", "sky"],
    }
    messages = [{"role": "user", "content": "What is the weather in Paris, in Fahrenheit?"}]
    turns, final = run_loop(
        client_for(moonshot), messages, AGENT_TOOLS, response_format=fmt(weather, "Weather")
    )
    assert turns == [
        [("get_weather", {"city": "Paris"})],
        [("celsius_to_fahrenheit", {"celsius": 18})],
    ]
    assert json.loads(final.message["content"]) == {
        "city": "Paris",
        "temperature_f": 64.4,
        "sky": "cloudy",
    }
    # json_object with the schema in the prompt, after results too.
    system = {"role": "system", "content": f"Answer in JSON following: {json.dumps(weather)}"}
    messages = [system, {"role": "user", "content": "What is the weather in Tokyo in °F?"}]
    _, final = run_loop(
        client_for(moonshot), messages, AGENT_TOOLS, response_format={"type": "json_object"}
    )
    assert json.loads(final.message["content"]) == {
        "city": "Tokyo",
        "temperature_f": 75.2,
        "sky": "sunny",
    }


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
    body = {**RAW, "messages": [{"role": "user", "content": text}], "tools": [customer]}
    assert "你好啊集团" in chat(moonshot, body).text  # sent as UTF-8, not \u escapes


def test_json_object_follows_a_schema_in_the_prompt(moonshot: KimiEmulator) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
    }
    system = f"Answer with JSON matching this schema: {json.dumps(schema)}"
    result = client_for(moonshot).chat(
        messages=[{"role": "system", "content": system}, {"role": "user", "content": "Ada is 36"}],
        response_format={"type": "json_object"},
        **PLAIN,
    )
    value = json.loads(result.message["content"])
    validate(value, schema)
    assert value == {"name": "Ada", "age": 36}


#: LlamaIndex's LLMTextCompletionProgram prompt (its template doubles the schema's braces).
TEXT_PROGRAM_PROMPT = (
    "Extract the person from: Alice Smith is 30 years old and lives in Lyon.\n\n\n"
    "Here's a JSON schema to follow:\n"
    + json.dumps(PERSON).replace("{", "{{").replace("}", "}}")
    + "\n\nOutput a valid JSON object but do not repeat the schema.\n"
)
#: LangChain's PydanticOutputParser format instructions: an example schema first, then
#: the real one (langchain_core.output_parsers.pydantic.PYDANTIC_FORMAT_INSTRUCTIONS).
PARSER_PROMPT = (
    "Alice Smith is 30 years old and lives in Lyon.\n"
    "The output should be formatted as a JSON instance that conforms to the JSON schema "
    'below.\n\nAs an example, for the schema {"properties": {"foo": {"title": "Foo", '
    '"description": "a list of strings", "type": "array", "items": {"type": "string"}}}, '
    '"required": ["foo"]}\nthe object {"foo": ["bar", "baz"]} is a well-formatted instance '
    'of the schema. The object {"properties": {"foo": ["bar", "baz"]}} is not '
    f"well-formatted.\n\nHere is the output schema:\n```\n{json.dumps(PERSON)}\n```"
)


@pytest.mark.parametrize("prompt", [TEXT_PROGRAM_PROMPT, PARSER_PROMPT])
def test_json_asked_for_in_the_prompt_comes_without_response_format(
    moonshot: KimiEmulator, prompt: str
) -> None:
    result = ask(client_for(moonshot), prompt)
    assert json.loads(result.message["content"]) == {
        "name": "Alice Smith",
        "age": 30,
        "city": "Lyon",
    }


def test_json_in_words_gets_json_and_a_mention_of_json_does_not(moonshot: KimiEmulator) -> None:
    client = client_for(moonshot)
    value = json.loads(
        ask(client, "Reply in JSON: what is the capital of France?").message["content"]
    )
    assert set(value) == {"answer"}
    assert "Kimi emulator" in value["answer"]
    prose = ask(client, "What is JSON, and who uses it?").message["content"]
    assert prose.startswith('You said: "What is JSON')


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
    result = ask(
        client_for(moonshot), "Tell me a joke about cats, rated 7", response_format=fmt(schema)
    )
    value = json.loads(result.message["content"])
    validate(value, schema)
    if "rating" in schema["properties"]:
        assert value["rating"] == 7


# --------------------------------------------------------------------------- 3. ReAct

#: LangChain's classic ReAct prompt: LangChain Hub ``hwchase17/react`` (commit
#: d15fe3c426f1c4b3f37c9198853e4a86e20c425ca7f4752ec0c9b0e97ca7ea4d), as reproduced in
#: kyoky-Fundasta/LangraBot ``data/prompt_templates/default_template.py``.
CLASSIC_REACT = (
    "Answer the following questions as best you can. You have access to the following "
    "tools:\n\n{tools}\n\nUse the following format:\n\nQuestion: the input question you "
    "must answer\nThought: you should always think about what to do\nAction: the action to "
    "take, should be one of [{tool_names}]\nAction Input: the input to the action\n"
    "Observation: the result of the action\n... (this Thought/Action/Action Input/"
    "Observation can repeat N times)\nThought: I now know the final answer\nFinal Answer: "
    "the final answer to the original input question\n\nBegin!\n\nQuestion: {input}\n"
    "Thought:{agent_scratchpad}"
)
#: ``langchain_core.tools.render_text_description`` of the two agent tools.
CLASSIC_TOOLS = (
    "get_weather(city: str) -> str - Get the current weather in a city: the sky and the "
    "temperature in Celsius.\ncelsius_to_fahrenheit(celsius: float) -> str - Convert a "
    "temperature from degrees Celsius to degrees Fahrenheit."
)


def test_the_classic_react_prompt_is_answered_in_its_format(moonshot: KimiEmulator) -> None:
    client = client_for(moonshot)
    scratchpad = ""
    actions: list[tuple[str, str]] = []
    for _ in range(5):
        prompt = CLASSIC_REACT.format(
            tools=CLASSIC_TOOLS,
            tool_names="get_weather, celsius_to_fahrenheit",
            input="What is the weather in Paris, in Fahrenheit?",
            agent_scratchpad=scratchpad,
        )
        result = client.chat(
            messages=[{"role": "user", "content": prompt}], stop=["\nObservation"], **PLAIN
        )
        text = result.message["content"]
        assert text.startswith("Thought: ")
        if "Final Answer:" in text:
            break
        action = text.split("Action: ", 1)[1].split("\n", 1)[0]
        given = text.split("Action Input: ", 1)[1].strip()
        actions.append((action, given))
        arg = "city" if action == "get_weather" else "celsius"
        scratchpad += f"{text}\nObservation: {run_tool(action, {arg: given})}\nThought: "
    assert actions == [("get_weather", "Paris"), ("celsius_to_fahrenheit", "18")]
    assert text == (
        "Thought: I now know the final answer\nFinal Answer: Paris: 18 C and cloudy, which is "
        f"64.4 F. {EMULATOR_NOTE}"
    )


def test_a_llama_index_react_conversation_is_continued(moonshot: KimiEmulator) -> None:
    """The shape of LlamaIndex's ReActAgent: tools in the system prompt, each step an
    assistant message and a user ``Observation``, the input as a Python dict."""
    system = (
        "You have access to the following tools:\n"
        "> Tool Name: get_weather\nTool Description: get_weather(city: str) -> str\n"
        "Get the current weather in a city: the sky and the temperature in Celsius.\n"
        'Tool Args: {"properties": {"city": {"title": "City", "type": "string"}}, '
        '"required": ["city"], "type": "object"}\n\n'
        "> Tool Name: celsius_to_fahrenheit\nTool Description: celsius_to_fahrenheit("
        "celsius: float) -> str\nConvert a temperature from degrees Celsius to degrees "
        'Fahrenheit.\nTool Args: {"properties": {"celsius": {"title": "Celsius", "type": '
        '"number"}}, "required": ["celsius"], "type": "object"}\n\n'
        "Use the following format:\nThought: ...\nAction: tool name (one of get_weather, "
        "celsius_to_fahrenheit)\nAction Input: the input to the tool, in a JSON format\n"
        "Observation: tool response\n...\nThought: I can answer without using any more "
        "tools.\nAnswer: [your answer here]\n"
    )
    messages = [
        {"role": "system", "content": system},
        {"role": "user", "content": "What is the weather in Paris, in Fahrenheit?"},
        {
            "role": "assistant",
            "content": "Thought: I need a tool.\nAction: get_weather\n"
            "Action Input: {'city': 'Paris'}",
        },
        {"role": "user", "content": "Observation: 18 C and cloudy"},
    ]
    result = client_for(moonshot).chat(messages=messages, **PLAIN)
    assert result.message["content"] == (
        "Thought: I need to use a tool to help me answer the question.\n"
        'Action: celsius_to_fahrenheit\nAction Input: {"celsius": 18}'
    )
    messages += [
        {"role": "assistant", "content": result.message["content"]},
        {"role": "user", "content": "Observation: 64.4 F"},
    ]
    final = client_for(moonshot).chat(messages=messages, **PLAIN).message["content"]
    assert final.startswith("Thought: I can answer without using any more tools.")
    assert final.endswith(f"\nAnswer: Paris: 18 C and cloudy, which is 64.4 F. {EMULATOR_NOTE}")


# --------------------------------------------------------------------------- 4. partial mode

PARTIAL_QUESTION = "Describe Paris as a JSON object with the keys 'city' and 'country'."


@pytest.mark.parametrize(
    "prefix",
    [
        "{",
        '{"city": "',
        '{"city": "Pa',
        '{"city": "Paris", ',
        '{"city": "Paris", "country":',
        '{"cit',
        "```json\n{",
    ],
)
def test_a_json_prefix_is_continued_into_valid_json(moonshot: KimiEmulator, prefix: str) -> None:
    messages = [
        {"role": "user", "content": PARTIAL_QUESTION},
        {"role": "assistant", "content": prefix, "partial": True},
    ]
    content = client_for(moonshot).chat(messages=messages, **PLAIN).message["content"]
    whole = prefix + content
    if whole.startswith("```json\n"):
        assert whole.endswith("\n```")
        whole = whole[len("```json\n") : -len("\n```")]
    assert json.loads(whole) == {"city": "Paris", "country": "France"}


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ('{"colours": [', {"colours": ["colours for: Name three colours as JSON."]}),
        ('{"colours": ["red", ', {"colours": ["red", "colours for: Name three colours as JSON."]}),
        ('{"colours": ["red"], ', {"colours": ["red"], "note": "completed by the Kimi emulator"}),
        ('{"a": {"b": 1, ', {"a": {"b": 1, "note": "completed by the Kimi emulator"}}),
        ("[1, ", [1, None]),
    ],
)
def test_a_prefix_that_opened_an_array_or_ends_in_a_comma_is_completed(
    moonshot: KimiEmulator, prefix: str, expected: Any
) -> None:
    messages = [
        {"role": "user", "content": "Name three colours as JSON."},
        {"role": "assistant", "content": prefix, "partial": True},
    ]
    content = client_for(moonshot).chat(messages=messages, **PLAIN).message["content"]
    assert json.loads(prefix + content) == expected


def test_partial_mode_continues_a_text_prefix_and_a_schema(moonshot: KimiEmulator) -> None:
    client = client_for(moonshot)
    messages = [
        {"role": "user", "content": "Describe Paris"},
        {"role": "assistant", "content": "Paris is", "partial": True},
    ]
    content = client.chat(messages=messages, **PLAIN).message["content"]
    assert content and not content.startswith("Paris is")
    assert "Kimi emulator" in content
    schema = SCHEMAS[0]
    messages[-1] = {"role": "assistant", "content": "{", "partial": True}
    result = client.chat(messages=messages, response_format=fmt(schema), **PLAIN)
    validate(json.loads("{" + result.message["content"]), schema)


def test_deep_and_hostile_prefixes_are_closed(moonshot: KimiEmulator) -> None:
    client = client_for(moonshot)
    for prefix in ("[" * 150, '{"a": [{"b": "x' + "{" * 0, "[" * 20_000):
        messages = [
            {"role": "user", "content": "List things."},
            {"role": "assistant", "content": prefix, "partial": True},
        ]
        content = client.chat(messages=messages, **PLAIN).message["content"]
        if len(prefix) < 1000:
            json.loads(prefix + content)
        else:
            assert content == "]" * 20_000


@pytest.mark.parametrize(
    "text",
    [
        "{" * 100_000 + '"properties"' * 500,
        " ".join(str(i) for i in range(20_000)),
        "Paris London " * 50_000,
        "'q' key: value, " * 20_000,
    ],
    ids=["braces", "numbers", "names", "quotes-and-pairs"],
)
def test_huge_prompts_get_an_answer(moonshot: KimiEmulator, text: str) -> None:
    """The responder reads a bounded part of each text: big, hostile prompts are answered
    (the whole suite would hang or time out otherwise; nothing here is timed)."""
    client = client_for(moonshot)
    messages = [{"role": "user", "content": text}]
    assert client.chat(messages=messages, tools=AGENT_TOOLS, **PLAIN).message
    value = client.chat(messages=messages, response_format={"type": "json_object"}, **PLAIN)
    assert isinstance(json.loads(value.message["content"]), dict)


# --------------------------------------------------------------------------- 5. a stand-in


def _stable(body: dict[str, Any]) -> dict[str, Any]:
    """The answer without its id, time and usage (the second request hits the cache)."""
    return {k: v for k, v in body.items() if k not in ("id", "created", "usage")}


@pytest.mark.parametrize(
    "request_body",
    [
        {
            "messages": [{"role": "user", "content": "Weather in Paris and Tokyo, in F?"}],
            "tools": AGENT_TOOLS,
        },
        {
            "messages": [{"role": "user", "content": "Alice Smith is 30 and lives in Lyon."}],
            "response_format": fmt(PERSON),
        },
        {"messages": [{"role": "user", "content": TEXT_PROGRAM_PROMPT}]},
        {
            "messages": [
                {"role": "user", "content": PARTIAL_QUESTION},
                {"role": "assistant", "content": '{"city": "', "partial": True},
            ]
        },
    ],
)
def test_the_same_conversation_gets_the_same_answer(
    moonshot: KimiEmulator, request_body: dict[str, Any]
) -> None:
    for model in ("kimi-k2.6", "kimi-k3"):
        body = {"model": model, **request_body}
        first, second = (chat(moonshot, body).json() for _ in range(2))
        assert _stable(first) == _stable(second)
        assert first["choices"][0]["message"].get("reasoning_content")


_ANSWER_IN_A_FRESH_PROCESS = """
import json, sys
import httpx
from kimi_emulator import KimiEmulator
bodies = json.loads(sys.stdin.read())
with KimiEmulator() as emu, httpx.Client() as http:
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    out = [http.post(emu.chat_url, json=b, headers=headers).json()["choices"] for b in bodies]
print(json.dumps(out))
"""


def test_the_same_answer_in_another_process(moonshot: KimiEmulator) -> None:
    """Nothing depends on the process (hash seeds, set order): two fresh processes with
    different seeds answer alike, and like this one."""
    bodies = [
        {"model": "kimi-k2.6", "messages": [{"role": "user", "content": q}], "tools": AGENT_TOOLS}
        for q in ("Weather in Paris and Tokyo, in Fahrenheit?", "And in Berlin?")
    ] + [
        {"model": "kimi-k2.6", "messages": [{"role": "user", "content": TEXT_PROGRAM_PROMPT}]},
        {"model": "kimi-k2.6", **fmt_body(PEOPLE, "Alice is 30 and Bob is 25.")},
    ]
    outputs = []
    for seed in ("1", "4242"):
        proc = subprocess.run(
            [sys.executable, "-c", _ANSWER_IN_A_FRESH_PROCESS],
            input=json.dumps(bodies),
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            timeout=120,
            check=True,
        )
        outputs.append(json.loads(proc.stdout))
    here = [chat(moonshot, b).json()["choices"] for b in bodies]
    assert outputs[0] == outputs[1] == here


def fmt_body(schema: dict[str, Any], text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}], "response_format": fmt(schema)}


def test_answers_a_person_reads_say_they_come_from_the_emulator(moonshot: KimiEmulator) -> None:
    client = client_for(moonshot)
    plain = client.chat(model="kimi-k2.6", messages=[{"role": "user", "content": "Hi"}])
    assert "Kimi emulator" in plain.message["content"]
    assert "not a model" in plain.message["reasoning_content"]
    missing = ask(client, "Convert the temperature to fahrenheit", tools=[TO_FAHRENHEIT])
    assert "Kimi emulator" in missing.message["content"]
    messages = [{"role": "user", "content": "What is the weather in Paris, in Fahrenheit?"}]
    _, final = run_loop(client, messages, AGENT_TOOLS)
    assert final.message["content"].endswith(EMULATOR_NOTE)


def test_a_scripted_turn_the_model_could_not_produce_is_refused(moonshot: KimiEmulator) -> None:
    call = [{"name": "get_weather", "arguments": {"city": "Paris"}}]
    with pytest.raises(ValueError, match=r"kimi-k2\.7-code always thinks") as info:
        moonshot.script(tool_calls=call, model="kimi-k2.7-code")
    assert "pass reasoning=" in str(info.value)
    with pytest.raises(ValueError, match=r"kimi-k2-instruct-0905 does not think"):
        moonshot.script(text="Hi", reasoning="Hmm.", model="kimi-k2-instruct-0905")
    # What the models can produce is queued: reasoning with the call; a switch model
    # either way; an unknown id, an error script and a script without a model as given.
    moonshot.script(tool_calls=call, reasoning="Weather first.", model="kimi-k2.7-code")
    moonshot.script(tool_calls=call, model="kimi-k2.6")
    moonshot.script(text="Hi", reasoning="Hmm.", model="kimi-k2.6")
    moonshot.script(text="Hi", reasoning="Hmm.", model="kimi-k9-experimental")
    moonshot.script(status=500, model="kimi-k2-instruct-0905", reasoning="x")
    moonshot.script(tool_calls=call)
    body = {**RAW, "messages": [{"role": "user", "content": "x"}], "tools": [GET_WEATHER]}
    answered = [chat(moonshot, body) for _ in range(6)]
    assert [r.status_code for r in answered] == [200, 200, 200, 200, 500, 200]


# --------------------------------------------------------------------------- text and usage


def test_short_answer_and_reasoning(moonshot: KimiEmulator) -> None:
    client = client_for(moonshot)
    plain = ask(client, "What is the capital of France?")
    assert "What is the capital of France?" in plain.message["content"]
    assert "not a model" in plain.message["content"]
    assert "reasoning_content" not in plain.message
    thinking = ask(client, "What is the capital of France?", thinking=None)
    assert "capital of France" in thinking.message["reasoning_content"]
    again = ask(client, "What is the capital of France?", thinking=None)
    assert again.message == thinking.message  # deterministic


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
    with pytest.warns(kc.ReasoningCutWarning):  # reasoning only: the client says so
        thinking = ask(client_for(moonshot), "Hello there", thinking=None, max_completion_tokens=3)
    assert thinking.body["choices"][0]["finish_reason"] == "length"
    assert thinking.message["content"] == ""


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
    first = client.chat(messages=[system, {"role": "user", "content": "One"}], **PLAIN)
    assert "cached_tokens" not in first.body["usage"]  # Moonshot 2026: absent when none
    second = client.chat(messages=[system, {"role": "user", "content": "Two"}], **PLAIN)
    usage = second.body["usage"]
    assert 0 < usage["cached_tokens"] < usage["prompt_tokens"]
    assert usage["prompt_tokens_details"]["cached_tokens"] == usage["cached_tokens"]
    moonshot.reset()
    third = client.chat(messages=[system, {"role": "user", "content": "Two"}], **PLAIN)
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
