"""Partial mode behaves the same in both adapters, over loopback (the emulator).

Moonshot's partial mode: the LAST message is an assistant message with ``"partial": true``,
whose content the model continues (docs/kimi-platform.md; Moonshot's "Partial Mode" guide).
A ``partial`` flag on an earlier message has no meaning on the wire. Both adapters pass
the flag through wherever the user set it, and ``kimi_core`` refuses it anywhere but on
the last message, before anything is sent, naming the message (it used to be dropped
silently by ``langchain_kimi`` and sent by ``llama_index_kimi``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from llama_index.core.llms import ChatMessage

import kimi_core as kc
from langchain_kimi import ChatKimi
from llama_index_kimi import Kimi

KEY = "sk-partial-mode-4b1e9d0c7a2f-SECRET"
MODEL = "kimi-k2.6"
REFUSAL = r"messages\[1\]\.partial.*only the last message, an assistant one, can be partial"


@pytest.fixture(scope="module")
def emu() -> Iterator[Any]:
    from kimi_emulator import KimiEmulator

    emulator = KimiEmulator(dialect="moonshot", api_key=KEY).start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def fresh(emu: Any) -> Iterator[Any]:
    emu.reset()
    yield emu
    emu.reset()


def chatkimi(emu: Any) -> ChatKimi:
    return ChatKimi(
        model=MODEL, provider=emu.provider, base_url=emu.base_url, api_key=KEY, max_retries=0
    )


def llamakimi(emu: Any) -> Kimi:
    return Kimi(
        model=MODEL, provider=emu.provider, api_base=emu.base_url, api_key=KEY, max_retries=0
    )


def lc_history(prefix: str, *, then: str | None = None) -> list[Any]:
    messages: list[Any] = [
        HumanMessage("Name a city, as JSON."),
        AIMessage(prefix, additional_kwargs={"partial": True}),
    ]
    if then is not None:
        messages.append(HumanMessage(then))
    return messages


def li_history(prefix: str, *, then: str | None = None) -> list[ChatMessage]:
    messages = [
        ChatMessage(role="user", content="Name a city, as JSON."),
        ChatMessage(role="assistant", content=prefix, additional_kwargs={"partial": True}),
    ]
    if then is not None:
        messages.append(ChatMessage(role="user", content=then))
    return messages


def test_a_partial_last_message_is_sent_by_both_adapters(fresh: Any) -> None:
    chatkimi(fresh).invoke(lc_history('{"city": "'))
    llamakimi(fresh).chat(li_history('{"town": "'))
    sent = [r.json["messages"][-1] for r in fresh.requests]
    assert sent == [
        {"role": "assistant", "content": '{"city": "', "partial": True},
        {"role": "assistant", "content": '{"town": "', "partial": True},
    ]


def test_an_earlier_partial_message_is_refused_before_sending_by_both_adapters(
    fresh: Any,
) -> None:
    lc, li = chatkimi(fresh), llamakimi(fresh)
    with pytest.raises(kc.ConfigurationError, match=REFUSAL) as lc_err:
        lc.invoke(lc_history("{", then="Go on."))
    with pytest.raises(kc.ConfigurationError, match=REFUSAL) as li_err:
        li.chat(li_history("{", then="Go on."))
    with pytest.raises(kc.ConfigurationError, match=REFUSAL):
        list(lc.stream(lc_history("{", then="Go on.")))
    with pytest.raises(kc.ConfigurationError, match=REFUSAL):
        list(li.stream_chat(li_history("{", then="Go on.")))

    async def both_async() -> None:
        with pytest.raises(kc.ConfigurationError, match=REFUSAL):
            await lc.ainvoke(lc_history("{", then="Go on."))
        with pytest.raises(kc.ConfigurationError, match=REFUSAL):
            await li.achat(li_history("{", then="Go on."))

    asyncio.run(both_async())
    assert lc_err.value.param == li_err.value.param == "messages[1].partial"
    assert fresh.requests == []  # nothing reached the server
