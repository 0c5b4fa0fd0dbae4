"""Error paths end to end: kimi_core's typed errors, one retry layer (kimi_core's), requests
counted at the emulator, streamed tokens never lost."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, ChatResponse
from llama_index.core.callbacks import CallbackManager, CBEventType, EventPayload
from llama_index.core.callbacks.base_handler import BaseCallbackHandler

import kimi_core as kc
from llama_index_kimi import Kimi

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from kimi_emulator import KimiEmulator

    from .conftest import MakeLLM


async def _drain(stream: AsyncIterator[ChatResponse], into: list[ChatResponse]) -> None:
    async for chunk in stream:
        into.append(chunk)


def _user(text: str = "Tell me a story.") -> list[ChatMessage]:
    return [ChatMessage(role="user", content=text)]


def test_rate_limit_retried_by_kimi_core_only(emu: KimiEmulator, make_llm: MakeLLM) -> None:
    llm = make_llm(emu, max_retries=2)
    emu.fault("429", times=5, retry_after=0)
    with pytest.raises(kc.RateLimitError) as info:
        llm.chat(_user())
    assert len(emu.chat_requests) == 3  # one try + max_retries, no second layer
    assert info.value.status_code == 429
    assert info.value.request_id
    assert [r.headers["x-kimi-attempt"] for r in emu.chat_requests] == ["1", "2", "3"]


def test_no_retries_when_disabled(emu: KimiEmulator, make_llm: MakeLLM) -> None:
    llm = make_llm(emu, max_retries=0)
    emu.fault("500")
    with pytest.raises(kc.InternalServerError):
        llm.complete("hi")
    assert len(emu.chat_requests) == 1


def test_server_error_then_success(emu: KimiEmulator, make_llm: MakeLLM) -> None:
    llm = make_llm(emu, max_retries=2)
    emu.fault("500", times=1)
    assert llm.chat(_user()).message.content
    assert len(emu.chat_requests) == 2


async def test_async_retry_and_stream_retry_before_first_event(
    emu: KimiEmulator, make_llm: MakeLLM
) -> None:
    llm = make_llm(emu, max_retries=1)
    emu.fault("503", times=1)
    assert (await llm.achat(_user())).message.content
    assert len(emu.chat_requests) == 2
    emu.reset()
    emu.fault("drop_after", events=0, times=1)  # the connection dies before any event
    chunks = [c async for c in await llm.astream_chat(_user())]
    assert chunks[-1].message.content
    assert len(emu.chat_requests) == 2


def test_html_proxy_error(emu: KimiEmulator, make_llm: MakeLLM) -> None:
    llm = make_llm(emu, max_retries=0)
    emu.fault("502_html")
    with pytest.raises(kc.InternalServerError, match="502") as info:
        llm.chat(_user())
    assert "<" not in info.value.message


def test_wrong_key(kimi_emulator_factory: Any) -> None:
    emu = kimi_emulator_factory(api_key="sk-the-right-one")
    llm = Kimi(api_key="sk-wrong", api_base=emu.base_url, provider=emu.provider)
    with pytest.raises(kc.AuthenticationError) as info:
        llm.chat(_user())
    assert info.value.status_code == 401
    assert info.value.code == "invalid_authentication_error"
    assert "sk-wrong" not in str(info.value)
    assert emu.request_count == 1  # one request, counted but not kept: the key was wrong
    assert emu.chat_requests == []


def test_exhausted_quota_is_not_retried(emu: KimiEmulator, make_llm: MakeLLM) -> None:
    llm = make_llm(emu, max_retries=3)
    emu.script(
        status=429,
        body={
            "error": {
                "type": "exceeded_current_quota_error",
                "message": "Your account is suspended, please check your plan and billing details",
            }
        },
    )
    with pytest.raises(kc.InsufficientQuotaError, match="suspended"):
        llm.chat(_user())
    assert len(emu.chat_requests) == 1


def test_unknown_model(emu: KimiEmulator, make_llm: MakeLLM) -> None:
    llm = make_llm(emu, model="kimi-k9")
    with pytest.warns(kc.UnknownModelWarning), pytest.raises(kc.NotFoundError, match="kimi-k9"):
        llm.chat(_user())


def test_context_window_exceeded(emu: KimiEmulator, make_llm: MakeLLM) -> None:
    llm = make_llm(emu, model="kimi-k2.6")
    with pytest.raises(kc.ContextWindowExceededError, match="token limit: 262144"):
        llm.chat(_user("lorem ipsum dolor " * 90_000))


def test_stream_broken_midway_keeps_every_token(emu: KimiEmulator, make_llm: MakeLLM) -> None:
    llm = make_llm(emu, model="kimi-k2.6", max_retries=3)
    emu.script(reasoning="Plan.", text="one two three four five six seven eight", chunk_size=4)
    emu.fault("drop_after", events=6)
    received: list[ChatResponse] = []
    with pytest.raises(kc.StreamError) as info:
        received.extend(chunk for chunk in llm.stream_chat(_user()))
    assert len(emu.chat_requests) == 1  # never retried after the first event
    partial = info.value.partial["choices"][0]["message"]
    text = "".join(c.delta or "" for c in received)
    assert text
    assert text == partial["content"] == received[-1].message.content
    assert partial["reasoning_content"] == "Plan."


async def test_error_event_inside_a_stream(emu: KimiEmulator, make_llm: MakeLLM) -> None:
    llm = make_llm(emu)
    emu.fault("error_event", events=3)
    received = []
    stream = await llm.astream_chat(_user())
    with pytest.raises(kc.StreamError, match="error event inside the stream") as info:
        await _drain(stream, received)
    # the events that came before the error event (in the same read) were delivered
    assert len(received) == 3
    assert info.value.partial["choices"][0]["message"]["reasoning_content"] == (
        received[-1].message.blocks[0].content
    )
    assert info.value.request_id
    assert len(emu.chat_requests) == 1


def test_malformed_and_truncated_streams(emu: KimiEmulator, make_llm: MakeLLM) -> None:
    llm = make_llm(emu)
    emu.fault("malformed", events=2)
    with pytest.raises(kc.StreamError, match="malformed"):
        list(llm.stream_chat(_user()))
    emu.fault("truncated")
    with pytest.raises(kc.StreamError, match="ended before"):
        list(llm.stream_complete("hi"))


def test_callbacks_see_the_error(emu: KimiEmulator, make_llm: MakeLLM) -> None:
    seen: list[Any] = []

    class Handler(BaseCallbackHandler):
        def __init__(self) -> None:
            super().__init__([], [])

        def on_event_start(self, *args: Any, **kwargs: Any) -> str:
            return ""

        def on_event_end(
            self, event_type: CBEventType, payload: dict[str, Any] | None = None, **kwargs: Any
        ) -> None:
            if event_type == CBEventType.LLM and payload and EventPayload.EXCEPTION in payload:
                seen.append(payload[EventPayload.EXCEPTION])

        def start_trace(self, trace_id: str | None = None) -> None:
            pass

        def end_trace(self, *args: Any, **kwargs: Any) -> None:
            pass

    llm = make_llm(emu, max_retries=0, callback_manager=CallbackManager([Handler()]))
    emu.fault("429", retry_after=0)
    with pytest.raises(kc.RateLimitError):
        llm.chat(_user())
    emu.fault("drop_after", events=4)
    with pytest.raises(kc.StreamError):
        list(llm.stream_chat(_user()))
    assert [type(e) for e in seen] == [kc.RateLimitError, kc.StreamError]
