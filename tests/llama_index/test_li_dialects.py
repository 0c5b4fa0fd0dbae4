"""The four provider dialects end to end (moonshot, acedata, evolink, gptproto), and
multimodal input per provider and model."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import TYPE_CHECKING, Any

import pytest
from llama_index.core.base.llms.types import (
    ChatMessage,
    DocumentBlock,
    ImageBlock,
    TextBlock,
    ThinkingBlock,
    VideoBlock,
)
from llama_index.core.tools import FunctionTool

import kimi_core as kc
from llama_index_kimi import Kimi

if TYPE_CHECKING:
    from kimi_emulator import KimiEmulator

DIALECTS = ["moonshot", "acedata", "evolink", "gptproto"]
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 32
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"


def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"18 C and windy in {city}"


def _llm(emu: KimiEmulator, **kwargs: Any) -> Kimi:
    """The provider's default model (kimi-k2.6 / kimi-k2.5 / kimi-k2-thinking ...)."""
    return Kimi(api_key=emu.api_key, api_base=emu.base_url, provider=emu.provider, **kwargs)


@pytest.fixture(params=DIALECTS)
def dialect_emu(request: pytest.FixtureRequest, kimi_emulator_factory: Any) -> KimiEmulator:
    emu: KimiEmulator = kimi_emulator_factory(dialect=request.param)
    return emu


def test_chat_and_stream_in_each_dialect(dialect_emu: KimiEmulator) -> None:
    llm = _llm(dialect_emu)
    assert llm.provider == dialect_emu.provider
    whole = llm.chat([ChatMessage(role="user", content="Why is the sea salty?")])
    chunks = list(llm.stream_chat([ChatMessage(role="user", content="Why is the sea salty?")]))
    last = chunks[-1]
    # the same answer and the same reasoning, streamed or not, reasoning counted once
    # (acedata sends it twice, as reasoning_content and reasoning; gptproto as reasoning)
    assert whole.message.content == last.message.content
    assert isinstance(whole.message.blocks[0], ThinkingBlock)
    assert isinstance(last.message.blocks[0], ThinkingBlock)
    assert whole.message.blocks[0].content == last.message.blocks[0].content
    assert (
        "".join(c.additional_kwargs.get("thinking_delta", "") for c in chunks)
        == whole.message.blocks[0].content
    )
    # usage once, the same numbers either way
    keys = ("prompt_tokens", "completion_tokens", "total_tokens", "reasoning_tokens")
    assert [whole.additional_kwargs.get(k) for k in keys] == [
        last.additional_kwargs.get(k) for k in keys
    ]
    assert sum("total_tokens" in c.additional_kwargs for c in chunks) == 1
    if dialect_emu.dialect == "acedata":
        # AceData publishes completion_tokens_details: {}: not reported, so left out
        assert "reasoning_tokens" not in whole.additional_kwargs
        assert "cached_tokens" not in whole.additional_kwargs
    else:
        assert whole.additional_kwargs["reasoning_tokens"] > 0
    paths = {r.path for r in dialect_emu.chat_requests}
    assert paths == {
        "/kimi/chat/completions" if dialect_emu.dialect == "acedata" else "/v1/chat/completions"
    }


def test_tool_round_trip_in_each_dialect(dialect_emu: KimiEmulator) -> None:
    llm = _llm(dialect_emu)
    tool = FunctionTool.from_defaults(get_weather)

    async def turn() -> str:
        first = [
            c
            async for c in await llm.astream_chat_with_tools(
                [tool], user_msg="What's the weather in Oslo?"
            )
        ]
        calls = llm.get_tool_calls_from_response(first[-1])
        assert [(c.tool_name, c.tool_kwargs) for c in calls] == [("get_weather", {"city": "Oslo"})]
        history = [
            ChatMessage(role="user", content="What's the weather in Oslo?"),
            first[-1].message,
            ChatMessage(
                role="tool",
                content=get_weather(**calls[0].tool_kwargs),
                additional_kwargs={"tool_call_id": calls[0].tool_id},
            ),
        ]
        answer = await llm.achat_with_tools([tool], chat_history=history)
        sent = dialect_emu.last_request.json["messages"]
        assert sent[1]["tool_calls"][0]["id"] == calls[0].tool_id == sent[2]["tool_call_id"]
        assert sent[1]["reasoning_content"] == first[-1].message.blocks[0].content  # type: ignore[union-attr]
        return answer.message.content or ""

    for _ in range(2):  # two event loops in a row
        assert "18 C and windy in Oslo" in asyncio.run(turn())


# --------------------------------------------------------------------------- multimodal


def _ask(*blocks: Any) -> list[ChatMessage]:
    return [ChatMessage(role="user", blocks=[TextBlock(text="What is this?"), *blocks])]


def test_images_and_video_on_moonshot(emu: KimiEmulator, tmp_path: Any) -> None:
    llm = _llm(emu, model="kimi-k2.6")
    path = tmp_path / "pixel.png"
    path.write_bytes(PNG)
    for block in (
        ImageBlock(image=PNG),
        ImageBlock(path=path),
        ImageBlock(image=base64.b64encode(PNG)),
    ):
        assert llm.chat(_ask(block)).message.content
        part = emu.last_request.json["messages"][0]["content"][1]
        assert part == {
            "type": "image_url",
            "image_url": {"url": "data:image/png;base64," + base64.b64encode(PNG).decode()},
        }
    assert llm.chat(_ask(VideoBlock(video=MP4))).message.content
    part = emu.last_request.json["messages"][0]["content"][1]
    assert part["type"] == "video_url"
    assert part["video_url"]["url"].startswith("data:video/mp4;base64,")


def test_uploaded_image_by_file_id(emu: KimiEmulator) -> None:
    client = kc.KimiClient(provider=emu.provider, base_url=emu.base_url, api_key=emu.api_key)
    file_id = client.upload_file(PNG, filename="pixel.png", purpose="image")["id"]
    llm = _llm(emu, model="kimi-k2.6")
    assert llm.chat(_ask(ImageBlock(url=f"ms://{file_id}"))).message.content
    assert (
        emu.last_request.json["messages"][0]["content"][1]["image_url"]["url"] == f"ms://{file_id}"
    )


@pytest.mark.parametrize(
    ("dialect", "model", "block", "message"),
    [
        (
            "evolink",
            "kimi-k2-thinking-turbo",
            ImageBlock(image=PNG),
            "model 'kimi-k2-thinking-turbo': this model takes no image input",
        ),
        ("moonshot", "kimi-k2-instruct-0905", VideoBlock(video=MP4), "takes no video input"),
        (
            "moonshot",
            "kimi-k2.6",
            DocumentBlock(data=PDF),
            "content parts of type image_url, text, video_url",
        ),
        ("acedata", "kimi-k2.5", ImageBlock(image=PNG), "content parts of type text"),
        (
            "evolink",
            "kimi-k2-thinking",
            VideoBlock(video=MP4),
            "content parts of type image_url, text",
        ),
    ],
)
def test_media_a_provider_or_model_does_not_take(
    kimi_emulator_factory: Any, dialect: str, model: str, block: Any, message: str
) -> None:
    emu = kimi_emulator_factory(dialect=dialect)
    llm = _llm(emu, model=model)
    with pytest.raises(kc.ConfigurationError, match=message):
        llm.chat(_ask(block))
    assert emu.chat_requests == []  # refused before anything was sent


def test_documents_on_gptproto(kimi_emulator_factory: Any) -> None:
    emu = kimi_emulator_factory(dialect="gptproto")
    llm = _llm(emu)
    assert llm.chat(_ask(DocumentBlock(data=PDF, title="spec.pdf"))).message.content
    part = emu.last_request.json["messages"][0]["content"][1]
    assert part["type"] == "file"
    assert part["file"]["filename"] == "spec.pdf"
    assert part["file"]["file_data"].startswith("data:application/pdf;base64,")
    assert json.loads(json.dumps(part))  # plain JSON
