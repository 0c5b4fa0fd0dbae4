"""Both adapters shape a request with kimi_core's one merge: the same sources give the same
body, and the same unknown keys get the same answer (sent, or refused before sending)."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from llama_index.core.llms import ChatMessage

import kimi_core as kc
from langchain_kimi import ChatKimi
from llama_index_kimi import Kimi

MODEL = "kimi-k2.7-code"  # fixes only its temperature (simstudioai/sim PR #5716)


def both(emu: Any, raw: dict[str, Any], **fields: Any) -> list[Any]:
    """``[send]`` per adapter: ``send(**call)`` makes one call and returns its body."""
    common = {"model": MODEL, "api_key": "k", "provider": emu.provider, **fields}
    chat = ChatKimi(base_url=emu.base_url, model_kwargs=raw, **common)
    llm = Kimi(api_base=emu.base_url, additional_kwargs=raw, **common)

    def via_langchain(**call: Any) -> dict[str, Any]:
        chat.invoke([HumanMessage("hi")], **call)
        return dict(emu.requests[-1].json)

    def via_llama_index(**call: Any) -> dict[str, Any]:
        llm.chat([ChatMessage(role="user", content="hi")], **call)
        return dict(emu.requests[-1].json)

    return [via_langchain, via_llama_index]


def test_the_same_sources_give_the_same_body(kimi_emulator: Any) -> None:
    # (LangChain refuses a field given again in model_kwargs, extra_body among them.)
    raw = {"response_format": {"type": "text"}, "vendor_flag": 1}
    bodies = []
    for send in both(kimi_emulator, raw, max_tokens=100, top_p=0.9):
        plain = send()
        assert (plain["max_completion_tokens"], plain["top_p"]) == (100, 0.9)
        assert plain["response_format"] == {"type": "text"}
        assert plain["vendor_flag"] == 1  # an unknown key of the raw channel: an API field
        # A call keyword wins; None means "not given", so the configured value stays.
        overridden = send(max_tokens=200, top_p=None, extra_body={"vendor_flag": 2})
        assert (overridden["max_completion_tokens"], overridden["top_p"]) == (200, 0.9)
        assert overridden["vendor_flag"] == 2
        bodies.append({k: v for k, v in overridden.items() if k != "messages"})
    assert bodies[0] == bodies[1]


def test_an_unknown_call_keyword_is_refused_by_both(kimi_emulator: Any) -> None:
    texts = []
    for send in both(kimi_emulator, {}):
        with pytest.raises(kc.ConfigurationError, match=r"did you mean 'temperature'\?") as info:
            send(temprature=0.5)
        words = str(info.value).split(" is not a parameter of ")[1].split(" (", 1)[1]
        texts.append(words.replace("model_kwargs", "RAW").replace("additional_kwargs", "RAW"))
        assert info.value.param == "temprature"
    assert texts[0] == texts[1]  # the same words, but for who takes them and the raw field
    assert kimi_emulator.requests == []
