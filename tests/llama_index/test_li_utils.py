"""Pure unit tests of the LlamaIndex <-> Kimi wire conversion functions."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from llama_index.core.base.llms.types import (
    AudioBlock,
    CacheControl,
    CachePoint,
    ChatMessage,
    ChatResponse,
    CitableBlock,
    DocumentBlock,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
    VideoBlock,
)
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel

import kimi_core as kc
from kimi_core._rules import build_chat_request
from llama_index_kimi.utils import (
    ChatStreamState,
    chat_response_from_completion,
    completion_response_from_chat,
    message_from_wire,
    parse_json_output,
    resolve_tool_choice,
    to_wire_message,
    to_wire_messages,
    to_wire_tool,
    tool_selections,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 40
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 40
PDF = b"%PDF-1.7\n" + b"\x00" * 40


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# --------------------------------------------------------------------------- requests


def test_text_message_is_a_string() -> None:
    msg = ChatMessage(role="user", blocks=[TextBlock(text="a"), TextBlock(text="b")])
    assert to_wire_message(msg) == {"role": "user", "content": "a\nb"}


@pytest.mark.parametrize(
    ("role", "wire"),
    [
        (MessageRole.SYSTEM, "system"),
        (MessageRole.DEVELOPER, "system"),
        (MessageRole.USER, "user"),
        (MessageRole.ASSISTANT, "assistant"),
        (MessageRole.CHATBOT, "assistant"),
        (MessageRole.MODEL, "assistant"),
        (MessageRole.TOOL, "tool"),
    ],
)
def test_roles(role: MessageRole, wire: str) -> None:
    assert to_wire_message(ChatMessage(role=role, content="x"))["role"] == wire


def test_image_url_ms_and_data_uri_pass_unchanged() -> None:
    for url in (
        "https://example.com/cat.png",
        "ms://cq1234abcd",
        f"data:image/png;base64,{b64(PNG)}",
    ):
        msg = ChatMessage(role="user", blocks=[TextBlock(text="what?"), ImageBlock(url=url)])
        assert to_wire_message(msg)["content"] == [
            {"type": "text", "text": "what?"},
            {"type": "image_url", "image_url": {"url": url}},
        ]


def test_image_bytes_base64_and_path_become_data_uris(tmp_path: Any) -> None:
    path = tmp_path / "pic.jpg"
    path.write_bytes(JPEG)
    cases = [
        (ImageBlock(image=PNG), f"data:image/png;base64,{b64(PNG)}"),
        (ImageBlock(image=b64(PNG).encode()), f"data:image/png;base64,{b64(PNG)}"),
        (ImageBlock(path=path), f"data:image/jpeg;base64,{b64(JPEG)}"),
        (
            ImageBlock(image=PNG, image_mimetype="image/webp"),
            f"data:image/webp;base64,{b64(PNG)}",
        ),
    ]
    for block, url in cases:
        part = to_wire_message(ChatMessage(role="user", blocks=[block]))["content"][0]
        assert part == {"type": "image_url", "image_url": {"url": url}}


def test_image_of_unknown_format_is_a_clear_error() -> None:
    block = ImageBlock.model_construct(
        block_type="image", image=b64(b"not an image at all").encode(), path=None, url=None
    )
    block.image_mimetype = None
    msg = ChatMessage(role="user", blocks=[TextBlock(text="x")])
    msg.blocks.append(block)
    with pytest.raises(kc.ConfigurationError, match=r"messages\[0\]\.blocks\[1\].*image_mimetype"):
        to_wire_messages([msg])


def test_video_and_document_parts(tmp_path: Any) -> None:
    doc_path = tmp_path / "report.pdf"
    doc_path.write_bytes(PDF)
    msg = ChatMessage(
        role="user",
        blocks=[
            VideoBlock(url="https://example.com/clip.mp4"),
            VideoBlock(video=MP4),
            DocumentBlock(data=PDF, title="report.pdf"),
            DocumentBlock(path=str(doc_path)),
            DocumentBlock(url="https://example.com/a.pdf", title="a.pdf"),
        ],
    )
    parts = to_wire_message(msg)["content"]
    assert parts == [
        {"type": "video_url", "video_url": {"url": "https://example.com/clip.mp4"}},
        {"type": "video_url", "video_url": {"url": f"data:video/mp4;base64,{b64(MP4)}"}},
        {
            "type": "file",
            "file": {
                "filename": "report.pdf",
                "file_data": f"data:application/pdf;base64,{b64(PDF)}",
            },
        },
        {
            "type": "file",
            "file": {
                "filename": "input_document",
                "file_data": f"data:application/pdf;base64,{b64(PDF)}",
            },
        },
        {"type": "file", "file": {"filename": "a.pdf", "file_data": "https://example.com/a.pdf"}},
    ]


def test_audio_becomes_input_audio_so_the_core_can_refuse_it() -> None:
    msg = ChatMessage(role="user", blocks=[AudioBlock(audio=b"RIFF0000WAVE", format="wav")])
    part = to_wire_message(msg)["content"][0]
    assert part["type"] == "input_audio"
    assert part["input_audio"]["format"] == "wav"
    profile = kc.get_provider("moonshot")
    with pytest.raises(kc.ConfigurationError, match="input_audio"):
        build_chat_request(profile, model="kimi-k2.6", messages=[to_wire_message(msg)])


def test_cache_points_are_skipped_and_citable_blocks_flattened() -> None:
    msg = ChatMessage(
        role="user",
        blocks=[
            CachePoint(cache_control=CacheControl(type="ephemeral")),
            CitableBlock(title="t", source="s", content=[TextBlock(text="cited")]),
            ImageBlock(url="ms://abc"),
        ],
    )
    assert to_wire_message(msg)["content"] == [
        {"type": "text", "text": "cited"},
        {"type": "image_url", "image_url": {"url": "ms://abc"}},
    ]


def test_assistant_reasoning_and_tool_calls_go_back() -> None:
    msg = ChatMessage(
        role="assistant",
        blocks=[
            ThinkingBlock(content="I need the weather."),
            TextBlock(text=""),
            ToolCallBlock(
                tool_call_id="functions.get_weather:0",
                tool_name="get_weather",
                tool_kwargs='{"city": "Paris"}',
            ),
            ToolCallBlock(tool_call_id="search:1", tool_name="search", tool_kwargs={"q": "é"}),
        ],
    )
    assert to_wire_message(msg) == {
        "role": "assistant",
        "reasoning_content": "I need the weather.",
        "tool_calls": [
            {
                "id": "functions.get_weather:0",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            },
            {
                "id": "search:1",
                "type": "function",
                "function": {"name": "search", "arguments": '{"q": "é"}'},
            },
        ],
    }


def test_tool_calls_from_additional_kwargs_and_reasoning_fallback() -> None:
    call = {
        "id": "get_weather_0",
        "type": "function",
        "function": {"name": "get_weather", "arguments": {"city": "Oslo"}},
    }
    msg = ChatMessage(
        role="assistant",
        content="Checking.",
        additional_kwargs={"tool_calls": [call], "reasoning_content": "hm"},
    )
    wire = to_wire_message(msg)
    assert wire["content"] == "Checking."
    assert wire["reasoning_content"] == "hm"
    assert wire["tool_calls"][0]["id"] == "get_weather_0"
    assert json.loads(wire["tool_calls"][0]["function"]["arguments"]) == {"city": "Oslo"}


def test_empty_thinking_block_sends_an_empty_reasoning_and_user_thinking_is_dropped() -> None:
    msg = ChatMessage(role="assistant", blocks=[ThinkingBlock(content=None), TextBlock(text="ok")])
    assert to_wire_message(msg) == {"role": "assistant", "content": "ok", "reasoning_content": ""}
    user = ChatMessage(role="user", blocks=[ThinkingBlock(content="x"), TextBlock(text="hi")])
    assert to_wire_message(user) == {"role": "user", "content": "hi"}


def test_tool_message_and_partial_mode() -> None:
    tool = ChatMessage(
        role="tool",
        content="22 C",
        additional_kwargs={"tool_call_id": "a:0", "name": "get_weather"},
    )
    assert to_wire_message(tool) == {
        "role": "tool",
        "content": "22 C",
        "tool_call_id": "a:0",
        "name": "get_weather",
    }
    prefix = ChatMessage(
        role="assistant", content="{", additional_kwargs={"partial": True, "name": "Dr. Kimi"}
    )
    assert to_wire_message(prefix) == {
        "role": "assistant",
        "content": "{",
        "partial": True,
        "name": "Dr. Kimi",
    }


def test_unknown_block_is_a_clear_error() -> None:
    msg = ChatMessage.model_construct(
        role=MessageRole.USER, blocks=[object()], additional_kwargs={}
    )
    with pytest.raises(kc.ConfigurationError, match=r"messages\[3\]\.blocks\[0\] is a object"):
        to_wire_message(msg, index=3)


def test_tools_and_tool_choice() -> None:
    def get_weather(city: str) -> str:
        """Weather of a city."""
        return city

    tool = FunctionTool.from_defaults(get_weather)
    spec = to_wire_tool(tool)
    assert spec["type"] == "function"
    assert spec["function"]["name"] == "get_weather"
    assert spec["function"]["parameters"]["required"] == ["city"]
    assert "strict" not in spec["function"]
    assert to_wire_tool(tool, strict=True)["function"]["strict"] is True
    builtin = {"type": "builtin_function", "function": {"name": "$web_search"}}
    assert to_wire_tool(builtin) == builtin

    assert resolve_tool_choice(None) is None
    assert resolve_tool_choice(None, tool_required=True) == "required"
    assert resolve_tool_choice("any") == "required"
    assert resolve_tool_choice("none", tool_required=True) == "none"
    assert resolve_tool_choice("get_weather") == {
        "type": "function",
        "function": {"name": "get_weather"},
    }
    named = {"type": "function", "function": {"name": "x"}}
    assert resolve_tool_choice(named) == named


# --------------------------------------------------------------------------- responses


def test_message_from_wire() -> None:
    msg = message_from_wire(
        {
            "role": "assistant",
            "content": "",
            "reasoning_content": "think",
            "tool_calls": [
                {
                    "id": "functions.f:0",
                    "type": "function",
                    "function": {"name": "f", "arguments": '{"a": 1}'},
                }
            ],
        },
        reasoning_tokens=7,
    )
    thinking, text, call = msg.blocks
    assert isinstance(thinking, ThinkingBlock)
    assert (thinking.content, thinking.num_tokens) == ("think", 7)
    assert isinstance(text, TextBlock)
    assert text.text == ""
    assert isinstance(call, ToolCallBlock)
    assert (call.tool_call_id, call.tool_name, call.tool_kwargs) == (
        "functions.f:0",
        "f",
        '{"a": 1}',
    )
    assert msg.additional_kwargs["tool_calls"][0]["id"] == "functions.f:0"
    assert msg.role == MessageRole.ASSISTANT
    # content given as parts by some gateways
    parts = message_from_wire(
        {"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}
    )
    assert parts.content == "ab"
    # the constructed models validate and serialize like normal ones
    assert ChatMessage.model_validate(msg.model_dump()).blocks[2] == call


def test_chat_response_from_completion() -> None:
    body = {
        "id": "x",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}
        ],
        "usage": {
            "prompt_tokens": 10,
            "completion_tokens": 4,
            "total_tokens": 14,
            "cached_tokens": 6,
            "completion_tokens_details": {"reasoning_tokens": 2},
        },
    }
    resp = chat_response_from_completion(body, "trace-1")
    assert resp.message.content == "Hi"
    assert resp.raw is body
    assert resp.additional_kwargs == {
        "prompt_tokens": 10,
        "completion_tokens": 4,
        "total_tokens": 14,
        "cached_tokens": 6,
        "reasoning_tokens": 2,
        "request_id": "trace-1",
    }
    completion = completion_response_from_chat(resp)
    assert completion.text == "Hi"
    assert completion.additional_kwargs["cached_tokens"] == 6


def _events() -> list[dict[str, Any]]:
    usage = {"prompt_tokens": 9, "completion_tokens": 5, "total_tokens": 14, "cached_tokens": 4}
    return [
        {"id": "c", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]},
        {"id": "c", "choices": [{"index": 0, "delta": {"reasoning_content": "Let me "}}]},
        {"id": "c", "choices": [{"index": 0, "delta": {"reasoning": "see."}}]},
        {"id": "c", "choices": [{"index": 0, "delta": {"content": "Sure"}}]},
        # two calls at once, the first delta without an index (recorded Kimi streams)
        {
            "id": "c",
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {
                                "id": "f:0",
                                "type": "function",
                                "function": {"name": "f", "arguments": ""},
                            },
                            {
                                "id": "g:1",
                                "type": "function",
                                "function": {"name": "g", "arguments": ""},
                            },
                        ]
                    },
                }
            ],
        },
        {
            "id": "c",
            "choices": [
                {
                    "index": 0,
                    "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '{"x": '}}]},
                }
            ],
        },
        {
            "id": "c",
            "choices": [
                {
                    "index": 0,
                    "delta": {"tool_calls": [{"index": 1, "function": {"arguments": "{}"}}]},
                }
            ],
        },
        {
            "id": "c",
            "choices": [
                {
                    "index": 0,
                    "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]},
                    "finish_reason": "tool_calls",
                    "usage": usage,
                }
            ],
        },
        {"id": "c", "choices": [], "usage": usage},
    ]


def test_stream_state_builds_cumulative_responses_and_counts_usage_once() -> None:
    acc = kc.StreamAccumulator()
    state = ChatStreamState()
    responses: list[ChatResponse] = []
    for event in _events():
        r = state.response(acc.add(event), acc)
        if r is not None:
            responses.append(r)
    final = state.final(acc, "rid")
    assert final is not None
    responses.append(final)
    # one response per event with a choice, plus the final one
    assert len(responses) == 9
    assert [r.delta for r in responses] == ["", "", "", "Sure", "", "", "", "", ""]
    assert [r.additional_kwargs.get("thinking_delta") for r in responses[:4]] == [
        None,
        "Let me ",
        "see.",
        None,
    ]
    assert responses[3].message.content == "Sure"
    assert isinstance(responses[3].message.blocks[0], ThinkingBlock)
    assert responses[3].message.blocks[0].content == "Let me see."
    # earlier responses are not changed by later events
    assert responses[1].message.blocks[0].content == "Let me "
    assert len(responses[4].message.blocks) == 4
    assert (
        responses[5].message.additional_kwargs["tool_calls"][0]["function"]["arguments"] == '{"x": '
    )
    # tool calls per chunk, as FunctionAgent reads them
    sel = tool_selections(responses[7].message)
    assert [(s.tool_id, s.tool_name, s.tool_kwargs) for s in sel] == [
        ("f:0", "f", {"x": 1}),
        ("g:1", "g", {}),
    ]
    # usage once, only on the final response, with the whole completion as raw
    with_usage = [r for r in responses if "prompt_tokens" in r.additional_kwargs]
    assert with_usage == [final]
    assert final.additional_kwargs == {
        "prompt_tokens": 9,
        "completion_tokens": 5,
        "total_tokens": 14,
        "cached_tokens": 4,
        "reasoning_tokens": 0,
        "request_id": "rid",
    }
    assert final.raw["usage"]["prompt_tokens"] == 9
    assert final.message.content == "Sure"
    assert [b.tool_call_id for b in final.message.blocks if isinstance(b, ToolCallBlock)] == [
        "f:0",
        "g:1",
    ]
    # completion view of a streamed chunk
    c = completion_response_from_chat(responses[1])
    assert (c.text, c.delta, c.additional_kwargs) == ("", "", {"thinking_delta": "Let me "})


def _streamed(events: list[dict[str, Any]]) -> list[ChatResponse]:
    acc = kc.StreamAccumulator()
    state = ChatStreamState()
    out = [state.response(acc.add(event), acc) for event in events]
    return [r for r in out if r is not None]


def test_streamed_responses_equal_validated_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """Streamed responses are built without pydantic validation; they are equal, field
    for field and in their dumps, to the responses the constructors build."""
    import llama_index_kimi.utils as li_utils

    assert li_utils._FAST_RESPONSES  # the fast path is the one measured here
    fast = _streamed(_events())
    monkeypatch.setattr(li_utils, "_FAST_RESPONSES", False)
    validated = _streamed(_events())
    assert len(fast) == len(validated) == 8
    for a, b in zip(fast, validated, strict=True):
        assert a == b
        assert a.model_dump() == b.model_dump()
        assert a.model_fields_set == b.model_fields_set
        assert a.message.model_fields_set == b.message.model_fields_set
        assert [type(x) for x in a.message.blocks] == [type(x) for x in b.message.blocks]
        text = next(x for x in a.message.blocks if isinstance(x, TextBlock))
        assert text == TextBlock(text=text.text)
        assert text.model_fields_set == TextBlock(text=text.text).model_fields_set
    # and they behave as models: copied, changed, serialised
    last = fast[-1]
    assert last.model_copy(update={"delta": "z"}).delta == "z"
    assert ChatResponse.model_validate(last.model_dump()) == ChatResponse.model_validate(
        validated[-1].model_dump()
    )


def test_stream_state_without_usage_has_no_final() -> None:
    acc = kc.StreamAccumulator()
    state = ChatStreamState()
    event = {"choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": "stop"}]}
    assert state.response(acc.add(event), acc) is not None
    assert state.final(acc) is None


def test_tool_selections() -> None:
    partial = ChatMessage(
        role="assistant",
        blocks=[ToolCallBlock(tool_call_id="a", tool_name="f", tool_kwargs='{"city": "Pa')],
    )
    # Mid-stream, partial arguments are parsed as far as they go...
    assert tool_selections(partial, partial=True)[0].tool_kwargs in ({"city": "Pa"}, {"city": None})
    # ...a finished call whose arguments are not a JSON object is refused, never {}.
    with pytest.raises(kc.ToolArgumentsError, match="not valid JSON"):
        tool_selections(partial)
    broken = ChatMessage(
        role="assistant",
        blocks=[ToolCallBlock(tool_call_id="a", tool_name="f", tool_kwargs="[1, 2]")],
    )
    assert tool_selections(broken, partial=True)[0].tool_kwargs == {}
    with pytest.raises(kc.ToolArgumentsError, match="not an object"):
        tool_selections(broken)
    legacy = ChatMessage(
        role="assistant",
        content="",
        additional_kwargs={
            "tool_calls": [{"id": "z", "function": {"name": "f", "arguments": '{"a": 2}'}}]
        },
    )
    assert tool_selections(legacy)[0].tool_kwargs == {"a": 2}
    none = ChatMessage(role="assistant", content="no calls")
    assert tool_selections(none, error_on_no_tool_call=False) == []
    with pytest.raises(ValueError, match="tool call"):
        tool_selections(none)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', '{"a": 1}'),
        ('```json\n{"a": 1}\n```', '{"a": 1}'),
        ('Here it is: {"a": {"b": 2}} done', '{"a": {"b": 2}}'),
        ("  [1]  ", "[1]"),
    ],
)
def test_parse_json_output(text: str, expected: str) -> None:
    assert parse_json_output(text) == expected


def test_parse_json_output_without_json() -> None:
    with pytest.raises(ValueError, match="no JSON object"):
        parse_json_output("I cannot do that.")


class _Args(BaseModel):
    city: str
    days: int


@given(
    call_id=st.text(min_size=1, max_size=30),
    name=st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_-]{2,20}", fullmatch=True),
    reasoning=st.text(max_size=50),
    args=st.builds(_Args, city=st.text(max_size=20), days=st.integers()),
)
def test_tool_call_turn_round_trips(call_id: str, name: str, reasoning: str, args: _Args) -> None:
    """A response message sent back gives the same wire message: ids, arguments, reasoning."""
    wire = {
        "role": "assistant",
        "content": "",
        "reasoning_content": reasoning,
        "tool_calls": [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": args.model_dump_json()},
            }
        ],
    }
    back = to_wire_message(message_from_wire(wire))
    expected = {k: v for k, v in wire.items() if k != "content"}
    if not reasoning:
        expected.pop("reasoning_content")  # none produced: kimi_core adds "" while thinking
    assert back == expected
