"""Test your own app against the Kimi emulator: offline, deterministic, real HTTP.

    .venv/bin/python -m pytest examples/test_your_app.py

The ``pytest_plugins`` line below (or the same line in your ``conftest.py``) brings two
pytest fixtures: ``kimi_emulator`` (a running
moonshot-dialect emulator, reset before each test) and ``kimi_emulator_factory`` (more,
in another dialect: ``kimi_emulator_factory(dialect="acedata")``). Point your app at
``emu.base_url`` with ``emu.api_key``; assert on what it did and on what it sent
(``emu.requests``); script answers (``emu.script``) and faults (``emu.fault``). The
emulator rejects what Kimi rejects, so e.g. a tool loop that drops the reasoning fails
here with Kimi's own 400 instead of in production.
"""

from __future__ import annotations

import pytest
from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.tools import tool

import kimi_core
from langchain_kimi import ChatKimi
from llama_index_kimi import Kimi

pytest_plugins = ["kimi_emulator.pytest_plugin"]

# --------------------------------------------------------------------------- your app


@tool
def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"18 C and cloudy in {city}"


def weather_assistant(model: ChatKimi, question: str) -> str:
    """The app under test: a one-tool agent loop."""
    agent = model.bind_tools([get_weather])
    messages: list[BaseMessage] = [HumanMessage(question)]
    for _turn in range(5):
        ai = agent.invoke(messages)
        messages.append(ai)
        if not ai.tool_calls:
            return ai.text
        messages += [get_weather.invoke(call) for call in ai.tool_calls]
    raise RuntimeError("no answer after 5 turns")


# --------------------------------------------------------------------------- its tests


@pytest.fixture
def model(kimi_emulator) -> ChatKimi:
    return ChatKimi(
        model="kimi-k2.6",
        provider=kimi_emulator.provider,
        base_url=kimi_emulator.base_url,
        api_key=kimi_emulator.api_key,
    )


def test_the_tool_result_reaches_the_answer(model, kimi_emulator):
    answer = weather_assistant(model, "What's the weather in Paris?")

    assert "18 C and cloudy in Paris" in answer
    first, second = (r.json for r in kimi_emulator.requests)
    assert first["tools"][0]["function"]["name"] == "get_weather"
    assert "temperature" not in first  # kimi-k2.6 fixes it: nothing is sent
    turn = second["messages"][1]  # the assistant tool-call turn, sent back
    assert turn["tool_calls"][0]["function"]["arguments"] == '{"city": "Paris"}'
    assert turn["reasoning_content"]  # Kimi refuses the turn without it while thinking


def test_a_scripted_answer(model, kimi_emulator):
    kimi_emulator.script(text="Sunny all week.", reasoning="No tool needed.")

    assert weather_assistant(model, "Will it rain?") == "Sunny all week."


def test_a_rate_limit_is_retried(model, kimi_emulator):
    kimi_emulator.fault("429", retry_after=0)  # the next request only

    assert "Paris" in weather_assistant(model, "What's the weather in Paris?")
    assert kimi_emulator.request_count == 3  # 429, then the two turns


def test_an_exhausted_balance_is_not_retried(model, kimi_emulator):
    kimi_emulator.script(error_type="exceeded_current_quota_error")

    with pytest.raises(kimi_core.InsufficientQuotaError):
        weather_assistant(model, "What's the weather in Paris?")
    assert kimi_emulator.request_count == 1


def test_llama_index_in_another_dialect(kimi_emulator_factory):
    emu = kimi_emulator_factory(dialect="acedata")
    llm = Kimi(model="kimi-k2.5", provider=emu.provider, api_base=emu.base_url, api_key=emu.api_key)

    assert llm.complete("Hello").text
    assert emu.requests[0].path == "/kimi/chat/completions"
