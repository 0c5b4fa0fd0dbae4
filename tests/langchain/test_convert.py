"""Unit tests of the pure conversion functions (no IO)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGenerationChunk
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

import kimi_core as kc
from kimi_core._rules import build_chat_request
from langchain_kimi import WEB_SEARCH_TOOL, KimiWebSearch, web_search_echo
from langchain_kimi._convert import (
    chunk_from_event,
    completion_to_result,
    content_to_wire,
    final_chunk,
    message_to_wire,
    messages_to_wire,
    parse_tool_calls,
    text_chunk,
    usage_to_metadata,
)
from langchain_kimi._tools import (
    convert_tools,
    response_format_to_wire,
    tool_choice_to_wire,
)

# --------------------------------------------------------------------------- messages in


def test_roles_and_names() -> None:
    wire = messages_to_wire(
        [
            SystemMessage("Be brief."),
            HumanMessage("Hi", name="alice"),
            AIMessage("Hello"),
            ChatMessage(role="user", content="again"),
        ]
    )
    assert wire == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi", "name": "alice"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "again"},
    ]


def test_tool_call_round_trip_keeps_ids_and_reasoning() -> None:
    ai = AIMessage(
        "",
        additional_kwargs={"reasoning_content": "I need the weather."},
        tool_calls=[
            {"name": "get_weather", "args": {"city": "Paris"}, "id": "functions.get_weather:0"},
            {"name": "get_weather", "args": {"city": "東京"}, "id": "get_weather_1"},
        ],
    )
    tool = ToolMessage("18°C", tool_call_id="functions.get_weather:0", name="get_weather")
    wire = messages_to_wire([HumanMessage("Weather?"), ai, tool])
    assert wire[1] == {
        "role": "assistant",
        "content": "",
        "reasoning_content": "I need the weather.",
        "tool_calls": [
            {
                "id": "functions.get_weather:0",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            },
            {
                "id": "get_weather_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "東京"}'},
            },
        ],
    }
    assert wire[2] == {
        "role": "tool",
        "tool_call_id": "functions.get_weather:0",
        "content": "18°C",
        "name": "get_weather",
    }


def test_empty_tool_call_content_is_omitted_by_the_core() -> None:
    # The adapter sends "" and kimi_core drops it (an assistant tool-call message with no
    # text omits content) and adds reasoning_content "" while thinking.
    ai = AIMessage("", tool_calls=[{"name": "f_x", "args": {}, "id": "c0"}])
    req = build_chat_request(
        kc.get_provider("moonshot"),
        model="kimi-k2.5",
        messages=messages_to_wire([HumanMessage("x"), ai, ToolMessage("ok", tool_call_id="c0")]),
    )
    assistant = req.body["messages"][1]
    assert "content" not in assistant
    assert assistant["reasoning_content"] == ""


def test_invalid_tool_calls_go_back_with_their_raw_arguments() -> None:
    ai = AIMessage(
        "",
        invalid_tool_calls=[
            {
                "name": "f_x",
                "args": '{"a": ',
                "id": "c1",
                "error": "bad",
                "type": "invalid_tool_call",
            }
        ],
    )
    assert message_to_wire(ai)["tool_calls"] == [
        {"id": "c1", "type": "function", "function": {"name": "f_x", "arguments": '{"a": '}}
    ]


def test_reasoning_from_v1_blocks() -> None:
    ai = AIMessage(
        [
            {"type": "reasoning", "reasoning": "step 1. "},
            {"type": "reasoning", "reasoning": "step 2."},
            {"type": "text", "text": "Answer"},
            {"type": "tool_call", "name": "f_x", "args": {"a": 1}, "id": "c1"},
        ],
        tool_calls=[{"name": "f_x", "args": {"a": 1}, "id": "c1"}],
        response_metadata={"output_version": "v1"},
    )
    wire = message_to_wire(ai)
    assert wire["content"] == "Answer"
    assert wire["reasoning_content"] == "step 1. step 2."
    assert [c["id"] for c in wire["tool_calls"]] == ["c1"]


def test_additional_kwargs_reasoning_wins_over_blocks() -> None:
    ai = AIMessage(
        [{"type": "reasoning", "reasoning": "block"}, {"type": "text", "text": "A"}],
        additional_kwargs={"reasoning_content": "kwargs"},
    )
    assert message_to_wire(ai)["reasoning_content"] == "kwargs"


def test_anthropic_thinking_block_is_reasoning() -> None:
    ai = AIMessage([{"type": "thinking", "thinking": "hmm"}, {"type": "text", "text": "A"}])
    assert message_to_wire(ai) == {"role": "assistant", "content": "A", "reasoning_content": "hmm"}


def test_image_in_assistant_content_is_refused() -> None:
    ai = AIMessage([{"type": "image", "url": "https://x/y.png"}])
    with pytest.raises(kc.ConfigurationError, match=r"messages\[0\]\.content\[0\]\.type"):
        message_to_wire(ai)


def test_partial_only_on_the_last_message() -> None:
    prefix = AIMessage('{"name": "', additional_kwargs={"partial": True}, name="Kimi")
    wire = messages_to_wire([HumanMessage("JSON please"), prefix])
    assert wire[-1] == {
        "role": "assistant",
        "content": '{"name": "',
        "partial": True,
        "name": "Kimi",
    }
    # Partial mode has one behaviour in both adapters: the flag goes to kimi_core, which
    # refuses it anywhere but on the last message (was: dropped here silently).
    wire = messages_to_wire([HumanMessage("a"), prefix, HumanMessage("b")])
    assert wire[1]["partial"] is True
    with pytest.raises(kc.ConfigurationError, match=r"messages\[1\]\.partial"):
        build_chat_request(kc.get_provider("moonshot"), model="kimi-k2.6", messages=wire)


def test_function_message_is_refused() -> None:
    with pytest.raises(kc.ConfigurationError, match="ToolMessage"):
        messages_to_wire([FunctionMessage("x", name="f")])


# --------------------------------------------------------------------------- content parts

PNG = "iVBORw0KGgo="


@pytest.mark.parametrize(
    ("block", "url"),
    [
        (
            {"type": "image", "base64": PNG, "mime_type": "image/png"},
            f"data:image/png;base64,{PNG}",
        ),
        ({"type": "image", "url": "https://e.x/a.png"}, "https://e.x/a.png"),
        ({"type": "image", "file_id": "cq1"}, "ms://cq1"),
        ({"type": "image", "file_id": "ms://cq1"}, "ms://cq1"),
        (
            {"type": "image", "source_type": "base64", "data": PNG, "mime_type": "image/jpeg"},
            f"data:image/jpeg;base64,{PNG}",
        ),
        ({"type": "image", "source_type": "url", "url": "https://e.x/b"}, "https://e.x/b"),
        ({"type": "image", "source_type": "id", "id": "f1"}, "ms://f1"),
        (
            {"type": "image", "source": {"type": "base64", "media_type": "image/gif", "data": PNG}},
            f"data:image/gif;base64,{PNG}",
        ),
        (
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}},
            "data:image/png;base64,AA",
        ),
        ({"type": "image_url", "image_url": "ms://f2"}, "ms://f2"),
    ],
)
def test_image_blocks(block: dict[str, Any], url: str) -> None:
    wire = content_to_wire([{"type": "text", "text": "What is this?"}, block])
    assert wire == [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": url}},
    ]


def test_image_url_detail_is_kept() -> None:
    part = {"type": "image_url", "image_url": {"url": "data:x", "detail": "high"}}
    assert content_to_wire([part]) == [part]


def test_video_blocks() -> None:
    wire = content_to_wire(
        [
            {"type": "video", "base64": "AAAA", "mime_type": "video/mp4"},
            {"type": "video", "file_id": "v1"},
            {"type": "video_url", "video_url": {"url": "ms://v2"}},
        ]
    )
    assert [p["video_url"]["url"] for p in wire] == [
        "data:video/mp4;base64,AAAA",
        "ms://v1",
        "ms://v2",
    ]
    assert all(p["type"] == "video_url" for p in wire)


def test_file_blocks() -> None:
    wire = content_to_wire(
        [
            {"type": "file", "base64": "JVBE", "mime_type": "application/pdf", "filename": "a.pdf"},
            {"type": "file", "url": "https://e.x/b.pdf"},
            {"type": "file", "file": {"filename": "c.pdf", "file_data": "https://e.x/c.pdf"}},
        ]
    )
    assert wire == [
        {
            "type": "file",
            "file": {"file_data": "data:application/pdf;base64,JVBE", "filename": "a.pdf"},
        },
        {"type": "file", "file": {"file_data": "https://e.x/b.pdf"}},
        {"type": "file", "file": {"filename": "c.pdf", "file_data": "https://e.x/c.pdf"}},
    ]


@pytest.mark.parametrize(
    ("block", "match"),
    [
        ({"type": "image", "base64": "QUJDREVGR0g="}, "mime_type"),
        ({"type": "image"}, "url, base64"),
        ({"type": "audio", "base64": "AA", "mime_type": "audio/wav"}, "no audio"),
        ({"type": "file", "file_id": "f1"}, "file-extract"),
        ({"type": "image_url", "image_url": {}}, "image_url"),
        ({"text": "no type"}, "with a 'type'"),
    ],
)
def test_bad_blocks_raise_before_sending(block: Any, match: str) -> None:
    with pytest.raises(kc.ConfigurationError, match=match) as info:
        messages_to_wire([HumanMessage(content=["hi", block])])
    assert "messages[0].content[1]" in str(info.value)


def test_text_only_lists_become_strings() -> None:
    assert content_to_wire(["a", {"type": "text", "text": "b", "id": "x"}]) == "ab"
    tool = ToolMessage([{"type": "text", "text": "42"}], tool_call_id="c")
    assert message_to_wire(tool)["content"] == "42"


def test_unknown_parts_pass_through_for_the_core_to_check() -> None:
    part = {"type": "input_text_v9", "x": 1}
    assert content_to_wire([part, {"type": "image", "file_id": "f"}])[0] == part
    # ...and the core refuses what the provider does not take.
    with pytest.raises(kc.ConfigurationError, match="content parts of type"):
        build_chat_request(
            kc.get_provider("moonshot"),
            model="kimi-k2.6",
            messages=messages_to_wire([HumanMessage(content=[part])]),
        )


def test_non_standard_block_value_is_sent_as_is() -> None:
    value = {"type": "video_url", "video_url": {"url": "ms://v"}}
    assert content_to_wire([{"type": "non_standard", "value": value}]) == [value]


# --------------------------------------------------------------------------- output


def test_parse_tool_calls_keeps_malformed_arguments() -> None:
    calls, invalid = parse_tool_calls(
        [
            {"id": "a", "function": {"name": "f_ok", "arguments": '{"x": 1}'}},
            {"id": "b", "function": {"name": "f_empty", "arguments": ""}},
            {"id": "c", "function": {"name": "f_bad", "arguments": '{"x": '}},
            {"id": "d", "function": {"name": "f_list", "arguments": "[1]"}},
        ]
    )
    assert [(c["name"], c["args"], c["id"]) for c in calls] == [
        ("f_ok", {"x": 1}, "a"),
        ("f_empty", {}, "b"),
    ]
    assert [(c["name"], c["args"], c["id"]) for c in invalid] == [
        ("f_bad", '{"x": ', "c"),
        ("f_list", "[1]", "d"),
    ]
    assert "not valid JSON" in (invalid[0]["error"] or "")
    assert "not an object" in (invalid[1]["error"] or "")


ACEDATA_BODY = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": "kimi-k2.5",
    "system_fingerprint": "fp",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": " Hi", "reasoning_content": " Think"},
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 9,
        "completion_tokens": 184,
        "total_tokens": 193,
        "cached_tokens": 4,
        "completion_tokens_details": {"reasoning_tokens": 150},
    },
}


def test_completion_to_result() -> None:
    result = completion_to_result(ACEDATA_BODY, provider="acedata", request_id="tr-1")
    (gen,) = result.generations
    msg = gen.message
    assert isinstance(msg, AIMessage)
    assert msg.content == " Hi"
    assert msg.additional_kwargs == {"reasoning_content": " Think"}
    assert msg.usage_metadata == {
        "input_tokens": 9,
        "output_tokens": 184,
        "total_tokens": 193,
        "input_token_details": {"cache_read": 4},
        "output_token_details": {"reasoning": 150},
    }
    assert msg.response_metadata == {
        "model_name": "kimi-k2.5",
        "model_provider": "acedata",
        "finish_reason": "stop",
        "id": "chatcmpl-1",
        "system_fingerprint": "fp",
        "request_id": "tr-1",
    }
    assert msg.content_blocks[0] == {"type": "reasoning", "reasoning": " Think"}


def test_completion_with_several_choices_counts_usage_once() -> None:
    body = {
        **ACEDATA_BODY,
        "choices": [
            {"index": 0, "message": {"content": "a"}, "finish_reason": "stop"},
            {"index": 1, "message": {"content": "b"}, "finish_reason": "length"},
        ],
    }
    gens = completion_to_result(body, provider="moonshot", request_id=None).generations
    assert [g.message.content for g in gens] == ["a", "b"]
    assert gens[0].message.usage_metadata is not None  # type: ignore[attr-defined]
    assert gens[1].message.usage_metadata is None  # type: ignore[attr-defined]
    assert gens[1].message.response_metadata["finish_reason"] == "length"


@pytest.mark.parametrize(
    ("content", "reasoning"), [("tok ", None), ("", "think"), ("a", "b"), ("é\u2028", None)]
)
def test_fast_text_chunk_equals_validated_chunk(content: str, reasoning: str | None) -> None:
    fast = text_chunk(content, reasoning, "moonshot")
    slow = ChatGenerationChunk(
        message=AIMessageChunk(
            content=content,
            additional_kwargs={"reasoning_content": reasoning} if reasoning else {},
            response_metadata={"model_provider": "moonshot"},
        )
    )
    assert fast == slow
    assert fast.message.model_fields_set == slow.message.model_fields_set
    assert fast.text == slow.text == content
    merged_fast = fast + text_chunk("x", "y", "moonshot")
    merged_slow = slow + text_chunk("x", "y", "moonshot")
    assert merged_fast == merged_slow
    # Mutable fields are not shared between chunks.
    other = text_chunk(content, reasoning, "moonshot")
    fast.message.tool_calls.append({"name": "n", "args": {}, "id": "i"})  # type: ignore[attr-defined]
    fast.message.response_metadata["x"] = 1
    assert other.message.tool_calls == []  # type: ignore[attr-defined]
    assert "x" not in other.message.response_metadata


def test_chunk_from_event() -> None:
    assert chunk_from_event({"choices": []}, "m") is None
    assert (
        chunk_from_event({"choices": [{"delta": {"role": "assistant", "content": ""}}]}, "m")
        is None
    )
    assert chunk_from_event({"choices": [{"delta": {"reasoning_content": ""}}]}, "m") is None
    chunk = chunk_from_event({"choices": [{"delta": {"reasoning_content": "r"}}]}, "m")
    assert chunk is not None
    assert chunk.message.additional_kwargs == {"reasoning_content": "r"}
    event = {
        "choices": [
            {
                "delta": {
                    "tool_calls": [
                        {"index": 0, "id": "c0", "function": {"name": "f_a", "arguments": '{"x"'}},
                        {"index": 1, "id": "c1", "function": {"name": "f_b", "arguments": ""}},
                    ]
                }
            }
        ]
    }
    chunk = chunk_from_event(event, "m")
    assert chunk is not None
    assert isinstance(chunk.message, AIMessageChunk)
    assert [
        (t["index"], t["id"], t["name"], t["args"]) for t in chunk.message.tool_call_chunks
    ] == [
        (0, "c0", "f_a", '{"x"'),
        (1, "c1", "f_b", ""),
    ]


def test_final_chunk_carries_usage_and_metadata() -> None:
    acc = kc.StreamAccumulator()
    acc.add(
        {"id": "x1", "model": "kimi-k2.6", "choices": [{"index": 0, "delta": {"content": "a"}}]}
    )
    acc.add({"id": "x1", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    acc.add({"id": "x1", "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2}})
    last = final_chunk(acc.completion(), acc.usage, provider="moonshot", request_id="r")
    msg = last.message
    assert isinstance(msg, AIMessageChunk)
    assert msg.chunk_position == "last"
    assert msg.usage_metadata == usage_to_metadata(
        {
            "prompt_tokens": 1,
            "completion_tokens": 2,
            "total_tokens": 3,
            "cached_tokens": 0,
            "reasoning_tokens": 0,
        }
    )
    assert msg.response_metadata == {
        "model_name": "kimi-k2.6",
        "model_provider": "moonshot",
        "finish_reason": "stop",
        "id": "x1",
        "request_id": "r",
    }


# --------------------------------------------------------------------------- tools


class GetWeather(BaseModel):
    """Get the weather of a city."""

    city: str = Field(description="City name")


class Movie(TypedDict):
    """A movie."""

    title: str
    year: int


def get_time(zone: str) -> str:
    """Get the time in a zone."""
    return zone


def test_convert_tools_all_kinds() -> None:
    from langchain_core.tools import tool

    @tool
    def add_numbers(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    raw = {"type": "function", "function": {"name": "raw_fn", "parameters": {"type": "object"}}}
    schema = {"title": "lookup", "description": "Look up.", "type": "object", "properties": {}}
    tools = convert_tools([GetWeather, Movie, get_time, add_numbers, raw, schema, WEB_SEARCH_TOOL])
    assert [t["type"] for t in tools] == ["function"] * 6 + ["builtin_function"]
    assert [t["function"]["name"] for t in tools] == [
        "GetWeather",
        "Movie",
        "get_time",
        "add_numbers",
        "raw_fn",
        "lookup",
        "$web_search",
    ]
    assert tools[0]["function"]["parameters"]["properties"]["city"]["type"] == "string"


def test_web_search_tool_in_any_form_is_the_builtin() -> None:
    expected = {"type": "builtin_function", "function": {"name": "$web_search"}}
    assert convert_tools([KimiWebSearch()]) == [expected]
    assert convert_tools([{"type": "function", "function": {"name": "$web_search"}}]) == [expected]


def test_strict_flag() -> None:
    (tool,) = convert_tools([GetWeather], strict=True)
    assert tool["function"]["strict"] is True
    (tool,) = convert_tools([{"type": "function", "function": {"name": "f_x"}}], strict=False)
    assert tool["function"]["strict"] is False


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        (None, None),
        (False, None),
        (True, "required"),
        ("any", "required"),
        ("required", "required"),
        ("auto", "auto"),
        ("none", "none"),
        ("GetWeather", {"type": "function", "function": {"name": "GetWeather"}}),
        (
            {"type": "function", "function": {"name": "GetWeather"}},
            {"type": "function", "function": {"name": "GetWeather"}},
        ),
        ({"name": "GetWeather"}, {"type": "function", "function": {"name": "GetWeather"}}),
    ],
)
def test_tool_choice(choice: Any, wire: Any) -> None:
    assert tool_choice_to_wire(choice, ["GetWeather", "other"]) == wire


def test_tool_choice_unknown_name() -> None:
    with pytest.raises(kc.ConfigurationError, match=r"'nope'.*'GetWeather'"):
        tool_choice_to_wire("nope", ["GetWeather"])
    with pytest.raises(kc.ConfigurationError, match=r"tool_choice=3"):
        tool_choice_to_wire(3, ["GetWeather"])  # type: ignore[arg-type]


def test_web_search_echo() -> None:
    args = {"search_result": {"search_id": "s1"}, "usage": {"total_tokens": 12}}
    ai = AIMessage(
        "",
        tool_calls=[
            {"name": "$web_search", "args": args, "id": "$web_search:0"},
            {"name": "other", "args": {}, "id": "o"},
        ],
    )
    (echo,) = web_search_echo(ai)
    assert echo.name == "$web_search"
    assert echo.tool_call_id == "$web_search:0"
    assert json.loads(echo.content) == args  # type: ignore[arg-type]
    # The assistant turn goes back as a builtin_function call.
    assert message_to_wire(ai)["tool_calls"][0]["type"] == "builtin_function"


def test_kimi_web_search_tool_echoes_its_arguments() -> None:
    args = {"search_result": {"search_id": "s1"}}
    out = KimiWebSearch().invoke(
        {"type": "tool_call", "id": "c", "name": "$web_search", "args": args}
    )
    assert isinstance(out, ToolMessage)
    assert out.name == "$web_search"
    assert json.loads(out.content) == args  # type: ignore[arg-type]


def test_response_format_to_wire() -> None:
    fmt = response_format_to_wire(GetWeather, strict=True)
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "GetWeather"
    assert fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"]["required"] == ["city"]
    assert response_format_to_wire({"type": "json_object"}) == {"type": "json_object"}
    spec = {"name": "x", "schema": {"type": "object"}}
    assert response_format_to_wire(spec) == {"type": "json_schema", "json_schema": spec}
    assert response_format_to_wire(Movie)["json_schema"]["name"] == "Movie"


def test_base64_media_without_a_type_is_recognised() -> None:
    for block in (
        {"type": "image", "base64": PNG},
        {"type": "image", "source_type": "base64", "data": PNG},
        {"type": "image", "source": {"type": "base64", "data": PNG}},
    ):
        wire = messages_to_wire([HumanMessage(content=[{"type": "text", "text": "what?"}, block])])
        assert wire[0]["content"][1]["image_url"]["url"].startswith("data:image/png;base64,")
