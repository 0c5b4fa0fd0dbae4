"""The eight chat/complete methods end to end over real HTTP, against the emulator."""

from __future__ import annotations

import asyncio
import itertools
from typing import TYPE_CHECKING, Any

import pytest
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    CompletionResponse,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool
from pydantic import Field

from llama_index_kimi import Kimi

if TYPE_CHECKING:
    from collections.abc import Iterator

    from kimi_emulator import KimiEmulator

    from .conftest import MakeLLM

USAGE_KEYS = {
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cached_tokens",
    "reasoning_tokens",
}


def _user(text: str = "Why is the sky blue?") -> list[ChatMessage]:
    return [ChatMessage(role="user", content=text)]


def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"21 C and sunny in {city}"


class Events(BaseEventHandler):
    """Collects LlamaIndex instrumentation events."""

    events: list[BaseEvent] = Field(default_factory=list)

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        self.events.append(event)

    def names(self) -> list[str]:
        return [type(e).__name__ for e in self.events]


@pytest.fixture
def events() -> Iterator[Events]:
    handler = Events()
    root = get_dispatcher()
    root.add_event_handler(handler)
    yield handler
    root.event_handlers.remove(handler)


def _check_whole(resp: ChatResponse, emu: KimiEmulator) -> None:
    thinking, text = resp.message.blocks[:2]
    assert isinstance(thinking, ThinkingBlock)
    assert thinking.content
    assert isinstance(text, TextBlock)
    assert text.text
    assert resp.additional_kwargs.keys() >= USAGE_KEYS
    assert resp.additional_kwargs["total_tokens"] == resp.raw["usage"]["total_tokens"] > 0
    assert resp.additional_kwargs["request_id"]  # Moonshot's x-trace-id
    body = emu.last_request.json
    assert "temperature" not in body  # kimi-k2.6 fixes it; OpenAILike always sends one
    assert body["messages"][-1]["role"] == "user"


def _check_stream(chunks: list[ChatResponse], emu: KimiEmulator) -> None:
    assert len(chunks) > 3
    last = chunks[-1]
    text = "".join(c.delta or "" for c in chunks)
    thought = "".join(c.additional_kwargs.get("thinking_delta", "") for c in chunks)
    assert text and text == last.message.content
    assert thought and isinstance(last.message.blocks[0], ThinkingBlock)
    assert thought == last.message.blocks[0].content
    # each chunk carries the cumulative message so far
    grown = [c.message.content for c in chunks]
    assert all(
        a is not None and b is not None and b.startswith(a) for a, b in itertools.pairwise(grown)
    )
    # usage once, on the last response, equal to what the provider counted
    with_usage = [c for c in chunks if "total_tokens" in c.additional_kwargs]
    assert with_usage == [last]
    assert last.raw["usage"]["total_tokens"] == last.additional_kwargs["total_tokens"] > 0
    assert emu.last_request.json["stream"] is True


def test_chat(llm: Kimi, emu: KimiEmulator) -> None:
    resp = llm.chat(_user())
    _check_whole(resp, emu)


def test_stream_chat(llm: Kimi, emu: KimiEmulator) -> None:
    _check_stream(list(llm.stream_chat(_user())), emu)


async def test_achat(llm: Kimi, emu: KimiEmulator) -> None:
    _check_whole(await llm.achat(_user()), emu)


async def test_astream_chat(llm: Kimi, emu: KimiEmulator) -> None:
    _check_stream([c async for c in await llm.astream_chat(_user())], emu)


def _check_completion(resp: CompletionResponse, emu: KimiEmulator) -> None:
    assert resp.text
    assert resp.additional_kwargs["thinking"]
    assert resp.additional_kwargs["total_tokens"] > 0
    assert emu.last_request.json["messages"] == [{"role": "user", "content": "Say hi"}]
    assert emu.last_request.path.endswith("/chat/completions")


def _check_completion_stream(chunks: list[CompletionResponse], emu: KimiEmulator) -> None:
    assert "".join(c.delta or "" for c in chunks) == chunks[-1].text
    assert any(c.additional_kwargs.get("thinking_delta") for c in chunks)
    assert chunks[-1].additional_kwargs["total_tokens"] > 0
    assert emu.last_request.json["messages"] == [{"role": "user", "content": "Say hi"}]


def test_complete(llm: Kimi, emu: KimiEmulator) -> None:
    _check_completion(llm.complete("Say hi"), emu)


def test_stream_complete(llm: Kimi, emu: KimiEmulator) -> None:
    _check_completion_stream(list(llm.stream_complete("Say hi")), emu)


async def test_acomplete(llm: Kimi, emu: KimiEmulator) -> None:
    _check_completion(await llm.acomplete("Say hi"), emu)


async def test_astream_complete(llm: Kimi, emu: KimiEmulator) -> None:
    _check_completion_stream([c async for c in await llm.astream_complete("Say hi")], emu)


def test_events_and_callbacks_fire(emu: KimiEmulator, make_llm: MakeLLM, events: Events) -> None:
    counter = TokenCountingHandler()
    llm = make_llm(emu, callback_manager=CallbackManager([counter]))
    llm.chat(_user())
    list(llm.stream_chat(_user()))
    llm.complete("Say hi")
    list(llm.stream_complete("Say hi"))
    names = events.names()
    assert names.count("LLMChatStartEvent") == names.count("LLMChatEndEvent") == 2
    assert names.count("LLMCompletionStartEvent") == names.count("LLMCompletionEndEvent") == 2
    assert names.count("LLMChatInProgressEvent") > 3
    assert names.count("LLMCompletionInProgressEvent") > 3
    # token counts reach LlamaIndex's counter once per call, streamed or not
    requests = emu.chat_requests
    assert len(counter.llm_token_counts) == len(requests) == 4
    assert all(
        c.prompt_token_count > 0 and c.completion_token_count > 0 for c in counter.llm_token_counts
    )


def test_several_event_loops_in_a_row(llm: Kimi, emu: KimiEmulator) -> None:
    async def one() -> str:
        resp = await llm.achat(_user())
        chunks = [c async for c in await llm.astream_chat(_user())]
        return f"{resp.message.content}|{chunks[-1].message.content}"

    first = asyncio.run(one())
    second = asyncio.run(one())
    assert first == second
    assert len(emu.chat_requests) == 4


def test_predict_and_stream_helpers(llm: Kimi, emu: KimiEmulator) -> None:
    """LLM.predict / stream / apredict go through chat (Kimi is a chat model)."""
    prompt = PromptTemplate("Say {word}.")
    assert llm.predict(prompt, word="yes")
    assert emu.last_request.json["messages"] == [{"role": "user", "content": "Say yes."}]
    assert "".join(llm.stream(prompt, word="no"))
    assert emu.last_request.json["stream"] is True

    async def both() -> str:
        return await llm.apredict(prompt, word="maybe")

    assert asyncio.run(both())


def test_sync_stream_can_stop_early(llm: Kimi, emu: KimiEmulator) -> None:
    emu.script(text="word " * 200)
    stream = llm.stream_chat(_user())
    first = next(stream)
    assert first.message.role.value == "assistant"
    stream.close()
    assert llm.chat(_user()).message.content  # the pool is fine afterwards


def test_thinking_switch_and_parameters(emu: KimiEmulator, make_llm: MakeLLM) -> None:
    llm = make_llm(emu, model="kimi-k2.6", thinking=False, max_tokens=64)
    resp = llm.chat(_user(), stop=["\n\n"], prompt_cache_key="session-7")
    assert not any(isinstance(b, ThinkingBlock) for b in resp.message.blocks)
    body = emu.last_request.json
    assert body["thinking"] == {"type": "disabled"}
    assert body["max_completion_tokens"] == 64
    assert body["stop"] == ["\n\n"]
    assert body["prompt_cache_key"] == "session-7"
    # kimi-k2.7-code fixes its temperature at 1 (simstudioai/sim PR #5716); top_p is free.
    free = make_llm(emu, model="kimi-k2.7-code", temperature=1.0, top_p=0.5)
    free.chat(_user())
    assert (emu.last_request.json["temperature"], emu.last_request.json["top_p"]) == (1.0, 0.5)


def test_cached_tokens_are_reported(llm: Kimi, emu: KimiEmulator) -> None:
    history = [ChatMessage(role="system", content="You are terse. " * 40), *_user()]
    llm.chat(history)
    again = llm.chat(history)
    assert again.additional_kwargs["cached_tokens"] > 0
    assert again.raw["usage"]["cached_tokens"] == again.additional_kwargs["cached_tokens"]


def test_tool_turn_round_trip_with_reasoning(llm: Kimi, emu: KimiEmulator) -> None:
    tool = FunctionTool.from_defaults(get_weather)
    first = llm.chat_with_tools([tool], user_msg="What's the weather in Paris?")
    calls = llm.get_tool_calls_from_response(first)
    assert [(c.tool_name, c.tool_kwargs) for c in calls] == [("get_weather", {"city": "Paris"})]
    assert calls[0].tool_id.startswith("get_weather_")  # Moonshot 2026 ids
    thinking = first.message.blocks[0]
    assert isinstance(thinking, ThinkingBlock)
    assert thinking.content
    history = [
        ChatMessage(role="user", content="What's the weather in Paris?"),
        first.message,
        ChatMessage(
            role="tool",
            content=get_weather(**calls[0].tool_kwargs),
            additional_kwargs={"tool_call_id": calls[0].tool_id},
        ),
    ]
    second = llm.chat_with_tools([tool], chat_history=history)
    assert "21 C and sunny in Paris" in (second.message.content or "")
    sent = emu.last_request.json["messages"][1]
    assert sent["reasoning_content"] == thinking.content
    assert sent["tool_calls"][0]["id"] == calls[0].tool_id
    assert emu.last_request.json["messages"][2]["tool_call_id"] == calls[0].tool_id


def test_tool_turn_without_reasoning_still_sends_reasoning_content(
    llm: Kimi, emu: KimiEmulator
) -> None:
    """A tool-call message from elsewhere (no ThinkingBlock): Kimi would answer 400."""
    tool = FunctionTool.from_defaults(get_weather)
    history = [
        ChatMessage(role="user", content="Weather in Oslo?"),
        ChatMessage(
            role="assistant",
            blocks=[
                ToolCallBlock(
                    tool_call_id="get_weather:0",
                    tool_name="get_weather",
                    tool_kwargs={"city": "Oslo"},
                )
            ],
        ),
        ChatMessage(
            role="tool", content="cold", additional_kwargs={"tool_call_id": "get_weather:0"}
        ),
    ]
    resp = llm.chat_with_tools([tool], chat_history=history)
    assert "cold" in (resp.message.content or "")
    assert emu.last_request.json["messages"][1]["reasoning_content"] == ""


@pytest.mark.parametrize("quirk", ["omit", "zero"])
def test_streamed_parallel_calls_without_index(llm: Kimi, emu: KimiEmulator, quirk: str) -> None:
    """Recorded quirks: two calls in one delta, the first without an index ("omit"), or
    every call under index 0 ("zero")."""
    emu.script(
        reasoning="Two cities.",
        tool_calls=[
            {"name": "get_weather", "arguments": {"city": "Paris"}},
            {"name": "get_weather", "arguments": {"city": "Tokyo"}},
        ],
        tool_call_index=quirk,
    )
    tool = FunctionTool.from_defaults(get_weather)
    chunks = list(
        llm.stream_chat_with_tools(
            [tool], user_msg="Weather in Paris and Tokyo?", allow_parallel_tool_calls=True
        )
    )
    per_chunk = [llm.get_tool_calls_from_response(c, error_on_no_tool_call=False) for c in chunks]
    final = per_chunk[-1]
    assert [(c.tool_name, c.tool_kwargs) for c in final] == [
        ("get_weather", {"city": "Paris"}),
        ("get_weather", {"city": "Tokyo"}),
    ]
    assert len({c.tool_id for c in final}) == 2
    assert (
        chunks[-1].message.additional_kwargs["tool_calls"][1]["function"]["name"] == "get_weather"
    )


def test_single_call_kept_when_parallel_calls_are_not_allowed(llm: Kimi, emu: KimiEmulator) -> None:
    emu.script(
        tool_calls=[
            {"name": "get_weather", "arguments": {"city": "Paris"}},
            {"name": "get_weather", "arguments": {"city": "Tokyo"}},
        ]
    )
    tool = FunctionTool.from_defaults(get_weather)
    resp = llm.chat_with_tools([tool], user_msg="Weather in Paris and Tokyo?")
    assert [c.tool_kwargs for c in llm.get_tool_calls_from_response(resp)] == [{"city": "Paris"}]
    assert emu.last_request.json["parallel_tool_calls"] is False


def test_serialized_llm_works_again(
    llm: Kimi, emu: KimiEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = llm.to_dict()
    assert emu.api_key not in llm.to_json()
    monkeypatch.setenv("KIMI_API_KEY", emu.api_key)
    again = Kimi.from_dict(data)
    assert again.chat(_user()).message.content
    assert emu.last_request.headers["authorization"] == f"Bearer {emu.api_key}"
