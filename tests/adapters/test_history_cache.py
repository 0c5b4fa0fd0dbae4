"""An agent's earlier messages are converted once while unchanged (kimi_core._history),
and never served stale: over loopback, each test changes an earlier message (in place,
or by replacing it) or a bound tool between two calls and reads the body on the wire.
Conversions are counted, never timed."""

from __future__ import annotations

import copy
import pickle
import threading
from typing import Any

import pytest
from _loopback import LoopbackServer
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.messages import ToolMessage as LCToolMessage
from llama_index.core.base.llms.types import TextBlock, ThinkingBlock, ToolCallBlock
from llama_index.core.llms import ChatMessage
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel, Field

from kimi_core._history import HistoryCache, Wire
from langchain_kimi import ChatKimi
from langchain_kimi import _convert as lc_convert
from llama_index_kimi import Kimi
from llama_index_kimi import utils as li_utils

MODEL = "kimi-k2.6"

ANSWER = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1767225600,
    "model": MODEL,
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Done."},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12},
}


class Forecast(BaseModel):
    """Look up the forecast."""

    town: str = Field(description="Town name")


class Tides(BaseModel):
    """Look up the tides."""

    harbour: str = Field(description="Harbour name")


def lc_history() -> list[BaseMessage]:
    call = {"name": "Forecast", "args": {"town": "Brest"}, "id": "Forecast:0"}
    return [
        SystemMessage("Be brief."),
        HumanMessage("Rain in Brest?"),
        AIMessage("", tool_calls=[call], additional_kwargs={"reasoning_content": "Check."}),
        LCToolMessage("Drizzle.", tool_call_id="Forecast:0"),
        AIMessage("It drizzles."),
        HumanMessage("And tomorrow?"),
    ]


def li_history() -> list[ChatMessage]:
    return [
        ChatMessage(role="system", content="Be brief."),
        ChatMessage(role="user", content="Rain in Brest?"),
        ChatMessage(
            role="assistant",
            blocks=[
                ThinkingBlock(content="Check."),
                ToolCallBlock(
                    tool_call_id="forecast:0", tool_name="forecast", tool_kwargs={"town": "Brest"}
                ),
            ],
        ),
        ChatMessage(
            role="tool", content="Drizzle.", additional_kwargs={"tool_call_id": "forecast:0"}
        ),
        ChatMessage(role="assistant", content="It drizzles."),
        ChatMessage(role="user", content="And tomorrow?"),
    ]


@pytest.fixture
def server(loopback: LoopbackServer) -> LoopbackServer:
    loopback.reply_json(ANSWER)
    return loopback


def chat_kimi(server: LoopbackServer) -> ChatKimi:
    return ChatKimi(
        model=MODEL, provider="moonshot", base_url=server.base_url, api_key="k", max_retries=0
    )


def kimi(server: LoopbackServer) -> Kimi:
    return Kimi(model=MODEL, provider="moonshot", api_base=server.base_url, api_key="k")


def sent(server: LoopbackServer) -> dict[str, Any]:
    body: dict[str, Any] = server.received[-1].json
    return body


def fresh_lc_body(server: LoopbackServer, messages: list[BaseMessage], tools: Any) -> Any:
    """What a new model (an empty cache) sends for the same turn."""
    chat_kimi(server).bind_tools(tools).invoke(messages)
    return sent(server)


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


def fresh_li_chat_body(server: LoopbackServer, messages: list[ChatMessage]) -> Any:
    kimi(server).chat(messages)
    return sent(server)


def fresh_li_body(server: LoopbackServer, messages: list[ChatMessage], tools: Any) -> Any:
    kimi(server).chat_with_tools(tools, chat_history=messages)
    return sent(server)


@pytest.fixture
def lc_converted(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    seen: list[Any] = []
    real = lc_convert.message_to_wire

    def counting(message: Any, **kw: Any) -> dict[str, Any]:
        seen.append(message)
        return real(message, **kw)

    monkeypatch.setattr(lc_convert, "message_to_wire", counting)
    return seen


@pytest.fixture
def li_converted(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    seen: list[Any] = []
    real = li_utils.to_wire_message

    def counting(message: Any, **kw: Any) -> dict[str, Any]:
        seen.append(message)
        return real(message, **kw)

    monkeypatch.setattr(li_utils, "to_wire_message", counting)
    return seen


# --------------------------------------------------------------------------- LangChain


def test_chatkimi_converts_an_unchanged_history_once(
    server: LoopbackServer, lc_converted: list[Any]
) -> None:
    model = chat_kimi(server).bind_tools([Forecast])
    history = lc_history()
    model.invoke(history)
    first = sent(server)
    assert len(lc_converted) == len(history)
    for _ in range(3):
        model.invoke(history)
        assert sent(server) == first
    assert len(lc_converted) == len(history) + 3  # the last message only, each call
    history += [AIMessage("Sunny."), HumanMessage("Thanks.")]
    model.invoke(history)
    # the former last message (never kept) and the two new ones
    assert len(lc_converted) == 6 + 3 + 3
    assert sent(server) == fresh_lc_body(server, history, [Forecast])


@pytest.mark.parametrize(
    "change",
    [
        "content",
        "tool_call_args",
        "reasoning",
        "replaced",
        "tool_result",
        "name",
    ],
)
def test_chatkimi_sees_an_earlier_message_changed(server: LoopbackServer, change: str) -> None:
    model = chat_kimi(server).bind_tools([Forecast])
    history = lc_history()
    model.invoke(history)
    before = sent(server)
    if change == "content":
        history[1].content = "Rain in Quimper?"
    elif change == "tool_call_args":
        history[2].tool_calls[0]["args"]["town"] = "Quimper"  # type: ignore[attr-defined]
    elif change == "reasoning":
        history[2].additional_kwargs["reasoning_content"] = "Check Quimper."
    elif change == "replaced":
        history[4] = AIMessage("It pours.")
    elif change == "tool_result":
        history[3].content = "Pouring."
    else:
        history[1].name = "alice"
    model.invoke(history)
    after = sent(server)
    assert after != before
    assert after == fresh_lc_body(server, history, [Forecast])


def test_chatkimi_sees_a_changed_tool(server: LoopbackServer) -> None:
    model = chat_kimi(server)
    history = lc_history()
    model.bind_tools([Forecast]).invoke(history)
    assert [t["function"]["name"] for t in sent(server)["tools"]] == ["Forecast"]
    model.bind_tools([Tides]).invoke(history)
    assert [t["function"]["name"] for t in sent(server)["tools"]] == ["Tides"]
    assert sent(server) == fresh_lc_body(server, history, [Tides])


def test_a_model_with_a_history_copies_and_pickles(server: LoopbackServer) -> None:
    model = chat_kimi(server)
    model.invoke(lc_history())
    for other in (copy.copy(model), copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        other.invoke(lc_history())
        assert sent(server)["messages"][-1]["content"] == "And tomorrow?"


async def test_chatkimi_async_sees_a_changed_message(server: LoopbackServer) -> None:
    model = chat_kimi(server).bind_tools([Forecast])
    history = lc_history()
    await model.ainvoke(history)
    history[2].tool_calls[0]["args"]["town"] = "Quimper"  # type: ignore[attr-defined]
    await model.ainvoke(history)
    call = sent(server)["messages"][2]["tool_calls"][0]
    assert call["function"]["arguments"] == '{"town": "Quimper"}'


# --------------------------------------------------------------------------- LlamaIndex


def forecast(town: str) -> str:
    """Look up the forecast."""
    return town


def tides(harbour: str) -> str:
    """Look up the tides."""
    return harbour


def test_kimi_converts_an_unchanged_history_once(
    server: LoopbackServer, li_converted: list[Any]
) -> None:
    llm = kimi(server)
    tools = [FunctionTool.from_defaults(fn=forecast)]
    history = li_history()
    llm.chat_with_tools(tools, chat_history=history)
    first = sent(server)
    assert len(li_converted) == len(history)
    for _ in range(3):
        llm.chat_with_tools(tools, chat_history=history)
        assert sent(server) == first
    assert len(li_converted) == len(history) + 3
    assert first == fresh_li_body(server, history, tools)


@pytest.mark.parametrize("change", ["content", "tool_kwargs", "thinking", "block", "replaced"])
def test_kimi_sees_an_earlier_message_changed(server: LoopbackServer, change: str) -> None:
    llm = kimi(server)
    tools = [FunctionTool.from_defaults(fn=forecast)]
    history = li_history()
    llm.chat_with_tools(tools, chat_history=history)
    before = sent(server)
    if change == "content":
        history[1].content = "Rain in Quimper?"
    elif change == "tool_kwargs":
        block = history[2].blocks[1]
        assert isinstance(block, ToolCallBlock)
        block.tool_kwargs["town"] = "Quimper"  # type: ignore[index]
    elif change == "thinking":
        thinking = history[2].blocks[0]
        assert isinstance(thinking, ThinkingBlock)
        thinking.content = "Check Quimper."
    elif change == "block":
        history[4].blocks.append(TextBlock(text=" Bring a coat."))
    else:
        history[4] = ChatMessage(role="assistant", content="It pours.")
    llm.chat_with_tools(tools, chat_history=history)
    after = sent(server)
    assert after != before
    assert after == fresh_li_body(server, history, tools)


def test_kimi_sees_a_changed_tool(server: LoopbackServer) -> None:
    llm = kimi(server)
    history = li_history()
    llm.chat_with_tools([FunctionTool.from_defaults(fn=forecast)], chat_history=history)
    tools = [FunctionTool.from_defaults(fn=tides)]
    llm.chat_with_tools(tools, chat_history=history)
    assert [t["function"]["name"] for t in sent(server)["tools"]] == ["tides"]
    assert sent(server) == fresh_li_body(server, history, tools)


def test_a_kimi_with_a_history_copies(server: LoopbackServer) -> None:
    llm = kimi(server)
    llm.chat(li_history())
    for other in (copy.copy(llm), copy.deepcopy(llm)):
        history = li_history()
        other.chat(history)
        history[1].blocks[0] = TextBlock(text="Rain in Quimper?")
        other.chat(history)
        assert sent(server)["messages"][1]["content"] == "Rain in Quimper?"


def test_kimi_reads_a_media_file_again_on_every_call(server: LoopbackServer, tmp_path: Any) -> None:
    from llama_index.core.base.llms.types import ImageBlock

    picture = tmp_path / "picture.png"
    picture.write_bytes(PNG + b"one")
    llm = kimi(server)
    history = li_history()
    history[1].blocks.append(ImageBlock(path=picture))
    llm.chat(history)
    first = sent(server)["messages"][1]
    picture.write_bytes(PNG + b"two")  # the same message, another file content
    llm.chat(history)
    second = sent(server)["messages"][1]
    assert second != first
    assert sent(server) == fresh_li_chat_body(server, history)


async def test_kimi_async_sees_a_changed_message(server: LoopbackServer) -> None:
    llm = kimi(server)
    tools = [FunctionTool.from_defaults(fn=forecast)]
    history = li_history()
    await llm.achat_with_tools(tools, chat_history=history)
    history[1].content = "Rain in Quimper?"
    await llm.achat_with_tools(tools, chat_history=history)
    assert sent(server)["messages"][1]["content"] == "Rain in Quimper?"


# --------------------------------------------------------------------------- the cache


class Note:
    def __init__(self, text: str) -> None:
        self.text = text


def convert(note: Note, index: int, last: bool) -> dict[str, Any]:
    return {"role": "user", "content": note.text, "last": last}


def test_the_last_message_is_always_converted_anew() -> None:
    cache: HistoryCache[Note] = HistoryCache()
    notes = [Note("a"), Note("b")]
    first = cache.convert(notes, convert)
    assert [w["last"] for w in first] == [False, True]
    notes.append(Note("c"))
    second = cache.convert(notes, convert)
    assert second[0] is first[0]  # kept
    assert second[1] is not first[1] and second[1]["last"] is False  # was last: converted
    assert isinstance(second[0], Wire)


def test_an_uncopyable_message_is_converted_every_time() -> None:
    calls: list[int] = []

    def counting(note: Note, index: int, last: bool) -> dict[str, Any]:
        calls.append(index)
        return convert(note, index, last)

    cache: HistoryCache[Note] = HistoryCache()
    locked = Note("a")
    locked.lock = threading.Lock()  # type: ignore[attr-defined]
    notes = [locked, Note("b"), Note("c")]
    cache.convert(notes, counting)
    cache.convert(notes, counting)
    assert calls == [0, 1, 2, 0, 2]


def test_the_cache_holds_at_most_its_size() -> None:
    cache: HistoryCache[Note] = HistoryCache(size=3)
    notes = [Note(str(i)) for i in range(10)]
    cache.convert(notes, convert)
    assert len(cache._entries) == 3
    kept = {id(n) for n in notes[6:9]}
    assert set(cache._entries) == kept


def test_a_checked_wire_message_is_checked_again_for_another_model(
    server: LoopbackServer,
) -> None:
    history = lc_history()
    model = chat_kimi(server)
    model.invoke(history)
    other = ChatKimi(
        model="kimi-k3",
        provider="moonshot",
        base_url=server.base_url,
        api_key="k",
        max_retries=0,
    )
    other._history = model._history  # the same wire dicts, checked for another model
    other.invoke(history)
    body = sent(server)
    assert body["model"] == "kimi-k3"
    assert body["messages"] == fresh_lc_body_for(server, other, history)


def fresh_lc_body_for(server: LoopbackServer, model: ChatKimi, history: list[BaseMessage]) -> Any:
    ChatKimi(
        model=model.model_name,
        provider="moonshot",
        base_url=server.base_url,
        api_key="k",
        max_retries=0,
    ).invoke(history)
    return sent(server)["messages"]


class Inner(BaseModel, extra="allow"):
    label: str
    tags: list[str] = Field(default_factory=list)


class Outer(BaseModel):
    inner: Inner
    parts: list[Inner]


def test_pydantic_models_in_a_message_are_compared_field_by_field() -> None:
    calls: list[int] = []

    def counting(message: Outer, index: int, last: bool) -> dict[str, Any]:
        calls.append(index)
        return {"role": "user", "content": message.inner.label}

    cache: HistoryCache[Outer] = HistoryCache()
    first = Outer(inner=Inner(label="a"), parts=[Inner(label="p")])
    messages = [first, Outer(inner=Inner(label="z"), parts=[])]
    cache.convert(messages, counting)
    cache.convert(messages, counting)
    assert calls == [0, 1, 1]  # the first kept
    for change in (
        lambda: first.parts[0].tags.append("t"),  # a list in a nested model
        lambda: setattr(first.inner, "label", "b"),  # a nested model's field
        lambda: setattr(first.inner, "colour", "red"),  # an extra field
        lambda: first.parts.append(Inner(label="q")),  # a list of models
    ):
        calls.clear()
        change()
        cache.convert(messages, counting)
        assert calls == [0, 1], change
        calls.clear()
        cache.convert(messages, counting)
        assert calls == [1]
