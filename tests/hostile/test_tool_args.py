"""Invalid tool arguments stay visible: LangChain ``invalid_tool_calls`` (invoke, invoke
over a stream, the summed stream's report), LlamaIndex a ``ToolArgumentsError`` once the
answer is finished; never a call with ``{}`` or cut-off arguments.

On main a stream whose call was cut off (``{"city": "Par``) or unparsable as a whole
(``{``) gave ``{"city": "Par"}`` / ``{}`` in ChatKimi, and ``{}`` in LlamaIndex's tool
selection, so the agent called the tool with them.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from _loopback import LoopbackServer
from langchain_core.messages import AIMessageChunk

import kimi_core as kc

from .wire import MODEL, completion

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning:inspect"),
]

INVALID = [
    '{"city": "Par',
    "{",
    '{"city": "Paris"}{"city": "Rome"}',
    "city=Paris",
    "[1, 2]",
    "null",
]


def call(
    args: str, cid: str = "call_1", name: str = "get_weather", index: int = 0
) -> dict[str, Any]:
    return {
        "index": index,
        "id": cid,
        "type": "function",
        "function": {"name": name, "arguments": args},
    }


def stream_events(*calls: dict[str, Any]) -> list[Any]:
    """A stream whose tool-call arguments arrive in two fragments each."""
    out: list[Any] = []
    for c in calls:
        args = c["function"]["arguments"]
        half = len(args) // 2
        first = {**c, "function": {"name": c["function"]["name"], "arguments": args[:half]}}
        rest = {"index": c["index"], "function": {"arguments": args[half:]}}
        out.append({"choices": [{"index": 0, "delta": {"tool_calls": [first]}}]})
        out.append({"choices": [{"index": 0, "delta": {"tool_calls": [rest]}}]})
    out.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
    return out


def whole(*calls: dict[str, Any]) -> dict[str, Any]:
    body = completion("", tool_calls=[{k: v for k, v in c.items() if k != "index"} for c in calls])
    body["choices"][0]["finish_reason"] = "tool_calls"
    return body


# -- LangChain --------------------------------------------------------------------------


def chat_kimi(loopback: LoopbackServer, **kw: Any) -> Any:
    from langchain_kimi import ChatKimi

    return ChatKimi(
        model=MODEL, provider="openai-compatible", base_url=loopback.base_url, api_key="k", **kw
    )


@pytest.mark.parametrize("args", INVALID)
@pytest.mark.parametrize("how", ["invoke", "invoke-streaming", "ainvoke-streaming"])
def test_chatkimi_reports_invalid_arguments(loopback: LoopbackServer, args: str, how: str) -> None:
    good = call('{"city": "Oslo"}', cid="call_0", index=0)
    bad = call(args, cid="call_1", index=1)
    if how == "invoke":
        loopback.reply_json(whole(good, bad))
        msg = chat_kimi(loopback).invoke("weather?")
    else:
        loopback.reply_sse(stream_events(good, bad))
        model = chat_kimi(loopback, streaming=True)
        msg = (
            model.invoke("weather?")
            if how == "invoke-streaming"
            else asyncio.run(model.ainvoke("weather?"))
        )
    assert [tc["args"] for tc in msg.tool_calls] == [{"city": "Oslo"}]
    (itc,) = msg.invalid_tool_calls
    assert (itc["id"], itc["name"], itc["args"]) == ("call_1", "get_weather", args)
    assert itc["error"] and "invalid_tool_calls" not in msg.response_metadata


@pytest.mark.parametrize("args", INVALID)
def test_the_summed_chatkimi_stream_reports_them(loopback: LoopbackServer, args: str) -> None:
    loopback.reply_sse(stream_events(call(args)))
    chunks = list(chat_kimi(loopback).stream("weather?"))
    full = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    assert isinstance(full, AIMessageChunk)
    # LangChain sums argument fragments as partial JSON; the last chunk says which
    # calls are not valid as a whole (langchain-ai/langchain#39275).
    (reported,) = full.response_metadata["invalid_tool_calls"]
    assert reported["args"] == args and reported["error"]
    # The chunks carry the arguments exactly as they came.
    assert (
        "".join(c.tool_call_chunks[0]["args"] or "" for c in chunks if c.tool_call_chunks) == args
    )


def test_a_valid_streamed_call_is_untouched(loopback: LoopbackServer) -> None:
    loopback.reply_sse(stream_events(call('{"city": "Paris"}')))
    msg = chat_kimi(loopback, streaming=True).invoke("weather?")
    assert msg.tool_calls[0]["args"] == {"city": "Paris"} and msg.invalid_tool_calls == []
    assert "invalid_tool_calls" not in msg.response_metadata


def test_an_empty_argument_string_is_a_call_without_arguments(loopback: LoopbackServer) -> None:
    loopback.reply_sse(stream_events(call("")))
    msg = chat_kimi(loopback, streaming=True).invoke("now?")
    assert msg.tool_calls[0]["args"] == {} and msg.invalid_tool_calls == []


# -- LlamaIndex -------------------------------------------------------------------------


def kimi(loopback: LoopbackServer) -> Any:
    from llama_index_kimi import Kimi

    return Kimi(model=MODEL, provider="openai-compatible", api_base=loopback.base_url, api_key="k")


def user() -> list[Any]:
    from llama_index.core.llms import ChatMessage

    return [ChatMessage(role="user", content="weather?")]


@pytest.mark.parametrize("args", INVALID)
def test_llamaindex_refuses_invalid_arguments_of_a_whole_answer(
    loopback: LoopbackServer, args: str
) -> None:
    loopback.reply_json(whole(call(args)))
    llm = kimi(loopback)
    response = llm.chat(user())
    with pytest.raises(kc.ToolArgumentsError) as info:
        llm.get_tool_calls_from_response(response)
    err = info.value
    assert (err.tool_name, err.tool_call_id, err.arguments) == ("get_weather", "call_1", args)
    assert "get_weather" in str(err) and isinstance(err, ValueError)


@pytest.mark.parametrize("args", INVALID)
def test_llamaindex_streams_partial_arguments_then_refuses_the_finished_call(
    loopback: LoopbackServer, args: str
) -> None:
    loopback.reply_sse(stream_events(call(args)))
    llm = kimi(loopback)
    responses = list(llm.stream_chat(user()))
    *middle, last = responses
    for r in middle:  # mid-stream: parsed as far as they go, never an error
        llm.get_tool_calls_from_response(r, error_on_no_tool_call=False)
    with pytest.raises(kc.ToolArgumentsError):
        llm.get_tool_calls_from_response(last)


def test_llamaindex_valid_arguments(loopback: LoopbackServer) -> None:
    loopback.reply_sse(stream_events(call('{"city": "Paris"}')))
    llm = kimi(loopback)
    *_, last = llm.stream_chat(user())
    (selection,) = llm.get_tool_calls_from_response(last)
    assert selection.tool_kwargs == {"city": "Paris"}


def test_a_function_agent_never_calls_the_tool_with_cut_off_arguments(
    loopback: LoopbackServer,
) -> None:
    from llama_index.core.agent.workflow import FunctionAgent
    from llama_index.core.tools import FunctionTool

    called: list[Any] = []

    def get_weather(city: str = "nowhere") -> str:
        """The weather in a city."""
        called.append(city)
        return "sunny"

    loopback.reply_sse(stream_events(call('{"city": "Par')))
    agent = FunctionAgent(
        tools=[FunctionTool.from_defaults(get_weather)], llm=kimi(loopback), streaming=True
    )

    async def run() -> Any:
        return await agent.run(user_msg="weather?")

    with pytest.raises(kc.ToolArgumentsError, match="'get_weather'"):
        asyncio.run(run())
    assert called == []
    assert json.loads(loopback.received[0].body)["stream"] is True
