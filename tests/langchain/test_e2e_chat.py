"""End to end through the emulator over real HTTP, in every dialect: invoke, stream,
batch, events, callbacks, usage, metadata, and the full agent loop."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.tools import tool
from lc_helpers import ChatFactory

from langchain_kimi import ChatKimi

PROMPT = "Hello there"


def _merge(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    full = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    return full


def _check_answer(msg: AIMessage, emu: Any) -> None:
    assert msg.content and isinstance(msg.content, str)
    # Every dialect's model thinks: reasoning arrives in reasoning_content (GPTProto
    # sends it as "reasoning", AceData sends both) and as a standard block.
    assert msg.additional_kwargs["reasoning_content"]
    assert msg.content_blocks[0] == {
        "type": "reasoning",
        "reasoning": msg.additional_kwargs["reasoning_content"],
    }
    usage = msg.usage_metadata
    assert usage is not None
    assert usage["input_tokens"] > 0
    assert usage["output_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    if emu.dialect == "acedata":
        # AceData's published usage has details objects without the counts: not
        # reported, so left out (as langchain-openai does), never shown as 0.
        assert usage["input_token_details"] == {}  # type: ignore[typeddict-item]
        assert usage["output_token_details"] == {}  # type: ignore[typeddict-item]
    else:
        assert usage["output_token_details"]["reasoning"] > 0  # type: ignore[typeddict-item]
        assert "cache_read" in usage["input_token_details"]  # type: ignore[typeddict-item]
    meta = msg.response_metadata
    assert meta["model_provider"] == emu.provider
    assert meta["model_name"] == chat_model_name(emu)
    assert meta["finish_reason"] == "stop"
    assert meta["id"]
    if emu.dialect == "moonshot":  # x-trace-id header
        assert meta["request_id"]


def chat_model_name(emu: Any) -> str:
    from lc_helpers import DIALECT_MODELS

    return DIALECT_MODELS[emu.dialect]


def test_invoke(chat: ChatFactory, emu: Any) -> None:
    msg = chat().invoke(PROMPT)
    _check_answer(msg, emu)
    (request,) = emu.chat_requests
    assert request.json["messages"] == [{"role": "user", "content": PROMPT}]
    assert request.headers["authorization"] == f"Bearer {chat().api_key.get_secret_value()}"  # type: ignore[union-attr]


async def test_ainvoke(chat: ChatFactory, emu: Any) -> None:
    msg = await chat().ainvoke(PROMPT)
    _check_answer(msg, emu)


def test_stream_merges_to_the_invoked_message(chat: ChatFactory, emu: Any) -> None:
    model = chat()
    whole = model.invoke(PROMPT)
    emu.reset()  # same prompt-cache state for the stream
    chunks = list(model.stream(PROMPT))
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert len(chunks) > 3
    # Reasoning deltas come first, then content; usage only on the last chunk.
    assert chunks[0].additional_kwargs.get("reasoning_content")
    assert [c.usage_metadata is not None for c in chunks] == [False] * (len(chunks) - 1) + [True]
    assert chunks[-1].chunk_position == "last"
    full = _merge(chunks)
    assert full.content == whole.content
    assert full.additional_kwargs == whole.additional_kwargs
    assert full.usage_metadata == whole.usage_metadata
    assert full.tool_calls == whole.tool_calls == []
    for key in ("model_name", "model_provider", "finish_reason"):
        assert full.response_metadata[key] == whole.response_metadata[key]
    _check_answer(full, emu)
    request = emu.chat_requests[-1].json
    assert request["stream"] is True


async def test_astream_merges_to_the_invoked_message(chat: ChatFactory, emu: Any) -> None:
    model = chat()
    whole = await model.ainvoke(PROMPT)
    emu.reset()
    chunks = [c async for c in model.astream(PROMPT)]
    assert [c.usage_metadata is not None for c in chunks][-2:] == [False, True]
    full = _merge(chunks)
    assert full.content == whole.content
    assert full.additional_kwargs == whole.additional_kwargs
    assert full.usage_metadata == whole.usage_metadata
    _check_answer(full, emu)


def test_batch(chat: ChatFactory, emu: Any) -> None:
    answers = chat().batch(["one", "two", "three"])
    assert len(answers) == 3
    for answer in answers:
        _check_answer(answer, emu)
    sent = sorted(r.json["messages"][0]["content"] for r in emu.chat_requests)
    assert sent == ["one", "three", "two"]


async def test_abatch(chat: ChatFactory, emu: Any) -> None:
    answers = await chat().abatch(["one", "two"])
    assert [a.content for a in answers] != ["", ""]
    for answer in answers:
        _check_answer(answer, emu)
    assert len(emu.chat_requests) == 2


async def test_astream_events(chat: ChatFactory, emu: Any) -> None:
    events = [e async for e in chat().astream_events(PROMPT, version="v2")]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "on_chat_model_start"
    assert kinds[-1] == "on_chat_model_end"
    streamed = [e["data"]["chunk"] for e in events if e["event"] == "on_chat_model_stream"]
    assert len(streamed) > 3
    output = events[-1]["data"]["output"]
    assert output.content == _merge(streamed).content
    assert output.usage_metadata["total_tokens"] > 0
    assert emu.chat_requests[-1].json["stream"] is True


def test_streaming_invoke_uses_the_stream(chat: ChatFactory, emu: Any) -> None:
    msg = chat(streaming=True).invoke(PROMPT)
    _check_answer(msg, emu)
    assert emu.chat_requests[-1].json["stream"] is True


class _Recorder(BaseCallbackHandler):
    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.chunks: list[Any] = []

    def on_llm_new_token(self, token: str, *, chunk: Any = None, run_id: UUID, **kw: Any) -> None:
        self.tokens.append(token)
        self.chunks.append(chunk)


def test_on_llm_new_token_before_each_chunk(chat: ChatFactory) -> None:
    recorder = _Recorder()
    seen = []
    for chunk in chat().stream(PROMPT, config={"callbacks": [recorder]}):
        # The callback for this chunk already ran when the chunk is received.
        assert recorder.chunks[-1].message is chunk
        seen.append(chunk)
    assert len(recorder.chunks) == len(seen)
    assert "".join(recorder.tokens) == _merge(seen).content
    # The native path, called with a run manager, reports each chunk once as well.
    recorder = _Recorder()
    model = chat()
    from langchain_core.callbacks import CallbackManager

    manager = CallbackManager.configure([recorder])
    (run,) = manager.on_chat_model_start({}, [[HumanMessage(PROMPT)]])
    generated = list(model._stream([HumanMessage(PROMPT)], run_manager=run))
    assert [c.message for c in recorder.chunks] == [g.message for g in generated]


async def test_async_on_llm_new_token(chat: ChatFactory) -> None:
    class Recorder(AsyncCallbackHandler):
        def __init__(self) -> None:
            self.chunks: list[Any] = []

        async def on_llm_new_token(self, token: str, *, chunk: Any = None, **kw: Any) -> None:
            self.chunks.append(chunk)

    recorder = Recorder()
    seen = []
    async for chunk in chat().astream(PROMPT, config={"callbacks": [recorder]}):
        assert recorder.chunks[-1].message is chunk
        seen.append(chunk)
    assert len(seen) == len(recorder.chunks)


def test_two_event_loops_in_a_row(chat: ChatFactory, emu: Any) -> None:
    model = chat()

    async def once() -> tuple[str, str]:
        msg = await model.ainvoke(PROMPT)
        streamed = "".join([str(c.content) async for c in model.astream(PROMPT)])
        return str(msg.content), streamed

    first = asyncio.run(once())
    second = asyncio.run(once())
    assert first == second
    assert first[0] == first[1]
    assert len(emu.chat_requests) == 4


def test_usage_is_counted_once_when_reported_twice(chat: ChatFactory, emu: Any) -> None:
    # Moonshot reports streamed usage in the final choice and in a trailing chunk.
    usage = {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30, "cached_tokens": 4}
    emu.script("Hi!", reasoning="r", usage=usage)
    chunks = list(chat().stream(PROMPT))
    full = _merge(chunks)
    assert full.usage_metadata is not None
    assert full.usage_metadata["input_tokens"] == 10
    assert full.usage_metadata["output_tokens"] == 20
    assert full.usage_metadata["total_tokens"] == 30
    if emu.dialect == "moonshot":
        assert full.usage_metadata["input_token_details"] == {"cache_read": 4}


def test_stream_usage_off(chat: ChatFactory, emu: Any) -> None:
    chunks = list(chat(stream_usage=False).stream(PROMPT))
    assert all(c.usage_metadata is None for c in chunks)
    assert "stream_options" not in emu.chat_requests[-1].json


def test_missing_tool_call_index_is_repaired(chat: ChatFactory, emu: Any) -> None:
    # The recorded Kimi quirk: two calls in one delta, the first without "index".
    emu.script(
        reasoning="Two cities.",
        tool_calls=[
            {"name": "get_weather", "arguments": {"city": "Paris"}, "id": "get_weather:0"},
            {"name": "get_weather", "arguments": {"city": "Tokyo"}, "id": "get_weather:1"},
        ],
        tool_call_index="omit",
    )
    model = chat().bind_tools([get_weather])
    full = _merge(list(model.stream("Weather in Paris and Tokyo?")))
    assert [(c["id"], c["args"]) for c in full.tool_calls] == [
        ("get_weather:0", {"city": "Paris"}),
        ("get_weather:1", {"city": "Tokyo"}),
    ]
    assert full.response_metadata["finish_reason"] == "tool_calls"


# --------------------------------------------------------------------------- agent loop


@tool
def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"It is 18°C and sunny in {city}."


def _run_tools(ai: AIMessage) -> list[ToolMessage]:
    tools = {"get_weather": get_weather}
    return [tools[call["name"]].invoke(call) for call in ai.tool_calls]


def _check_agent_requests(emu: Any, first: AIMessage) -> None:
    requests = emu.chat_requests
    assert len(requests) == 2
    replay = requests[1].json["messages"]
    assert [m["role"] for m in replay] == ["user", "assistant", "tool"]
    # The reasoning of the tool-call turn goes back; the call id comes back unchanged.
    assert replay[1]["reasoning_content"] == first.additional_kwargs["reasoning_content"]
    assert "content" not in replay[1]  # no text: content omitted
    assert replay[1]["tool_calls"][0]["id"] == first.tool_calls[0]["id"]
    assert replay[2]["tool_call_id"] == first.tool_calls[0]["id"]
    assert replay[2]["name"] == "get_weather"


def _check_first_turn(first: AIMessage) -> None:
    assert first.additional_kwargs["reasoning_content"]
    assert [(c["name"], c["args"]) for c in first.tool_calls] == [
        ("get_weather", {"city": "Paris"})
    ]
    assert first.response_metadata["finish_reason"] == "tool_calls"


QUESTION = "What's the weather in Paris?"


def test_agent_loop(chat: ChatFactory, emu: Any) -> None:
    model = chat().bind_tools([get_weather])
    messages: list[BaseMessage] = [HumanMessage(QUESTION)]
    first = model.invoke(messages)
    _check_first_turn(first)
    messages += [first, *_run_tools(first)]
    answer = model.invoke(messages)
    assert "18°C and sunny in Paris" in str(answer.content)
    assert answer.tool_calls == []
    _check_agent_requests(emu, first)


def test_agent_loop_streamed(chat: ChatFactory, emu: Any) -> None:
    model = chat().bind_tools([get_weather])
    messages: list[BaseMessage] = [HumanMessage(QUESTION)]
    first = _merge(list(model.stream(messages)))
    _check_first_turn(first)
    messages += [first, *_run_tools(first)]
    answer = _merge(list(model.stream(messages)))
    assert "18°C and sunny in Paris" in str(answer.content)
    _check_agent_requests(emu, first)


async def test_agent_loop_async(chat: ChatFactory, emu: Any) -> None:
    model = chat().bind_tools([get_weather])
    messages: list[BaseMessage] = [HumanMessage(QUESTION)]
    first = await model.ainvoke(messages)
    _check_first_turn(first)
    messages += [first, *[await get_weather.ainvoke(c) for c in first.tool_calls]]
    answer = await model.ainvoke(messages)
    assert "18°C and sunny in Paris" in str(answer.content)
    _check_agent_requests(emu, first)


async def test_agent_loop_async_streamed(chat: ChatFactory, emu: Any) -> None:
    model = chat().bind_tools([get_weather])
    messages: list[BaseMessage] = [HumanMessage(QUESTION)]
    first = _merge([c async for c in model.astream(messages)])
    _check_first_turn(first)
    messages += [first, *[await get_weather.ainvoke(c) for c in first.tool_calls]]
    answer = _merge([c async for c in model.astream(messages)])
    assert "18°C and sunny in Paris" in str(answer.content)
    _check_agent_requests(emu, first)


def test_agent_loop_with_v1_messages(chat: ChatFactory, emu: Any) -> None:
    # output_version="v1": content is a list of standard blocks; the reasoning block of
    # the tool-call turn is what goes back as reasoning_content.
    model = chat(output_version="v1").bind_tools([get_weather])
    messages: list[BaseMessage] = [HumanMessage(QUESTION)]
    first = model.invoke(messages)
    assert isinstance(first.content, list)
    kinds = [b["type"] for b in first.content]  # type: ignore[index]
    assert kinds[0] == "reasoning"
    assert "tool_call" in kinds
    messages += [first, *_run_tools(first)]
    answer = model.invoke(messages)
    assert any(b.get("type") == "text" for b in answer.content)  # type: ignore[union-attr]
    replay = emu.chat_requests[1].json["messages"][1]
    assert replay["reasoning_content"] == first.content[0]["reasoning"]  # type: ignore[index]


def test_v1_stream_has_reasoning_blocks(chat: ChatFactory) -> None:
    chunks = list(chat(output_version="v1").stream(PROMPT))
    full = _merge(chunks)
    assert isinstance(full.content, list)
    assert full.content[0]["type"] == "reasoning"  # type: ignore[index]
    assert any(b["type"] == "text" for b in full.content)  # type: ignore[index]


def test_model_object_is_shareable_across_threads(chat: ChatFactory, emu: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    model: ChatKimi = chat()
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda i: model.invoke(f"question {i}").content, range(8)))
    assert len(set(answers)) == 8
    assert len(emu.chat_requests) == 8


@pytest.mark.parametrize("n", [2])
def test_n_choices(moonshot: Any, n: int) -> None:
    from lc_helpers import chat_for

    result = chat_for(moonshot, "kimi-k2.7-code", n=n).generate([[HumanMessage("hi")]])
    assert len(result.generations[0]) == n


def test_leaving_a_stream_early_closes_it(chat: ChatFactory, emu: Any) -> None:
    model = chat()
    emu.script(chunks=200)
    stream = model.stream(PROMPT)
    first = next(stream)
    assert first.additional_kwargs.get("reasoning_content") or first.content
    stream.close()  # the response is closed; the pool stays usable
    assert model.invoke(PROMPT).content
    assert len(emu.chat_requests) == 2


async def test_leaving_an_async_stream_early_closes_it(chat: ChatFactory, emu: Any) -> None:
    model = chat()
    emu.script(chunks=200)
    stream = model.astream(PROMPT)
    assert await stream.__anext__()
    await stream.aclose()
    assert (await model.ainvoke(PROMPT)).content
