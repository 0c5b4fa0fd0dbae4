"""Kimi's construction, fields, metadata, serialization and request building (no network)."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.tools import FunctionTool
from pydantic import ValidationError

import kimi_core as kc
from llama_index_kimi import Kimi

SECRET = "sk-very-secret-key-0123456789"
KEY_VARS = (
    "KIMI_API_KEY",
    "MOONSHOT_API_KEY",
    "ACEDATACLOUD_API_TOKEN",
    "EVOLINK_API_KEY",
    "GPTPROTO_API_KEY",
)
# A port nothing listens on: a request that were sent would fail with a connection error.
NOWHERE = "http://127.0.0.1:9/v1"


@pytest.fixture(autouse=True)
def _no_env_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in KEY_VARS:
        monkeypatch.delenv(var, raising=False)


def _user(text: str = "hi") -> list[ChatMessage]:
    return [ChatMessage(role="user", content=text)]


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


# --------------------------------------------------------------------------- keys and secrets


def test_key_never_shown() -> None:
    llm = Kimi(api_key=SECRET, default_headers={"Authorization": f"Bearer {SECRET}", "X-App": "a"})
    shown = [
        repr(llm),
        str(llm),
        json.dumps(llm.to_dict(), default=str),
        llm.to_json(),
        json.dumps(llm.model_dump(), default=str),
        llm.model_dump_json(),
        json.dumps(llm.to_payload(), default=str),
        repr(llm._get_client()),
    ]
    for text in shown:
        assert SECRET not in text
    assert "api_key" not in llm.to_dict()
    assert llm.to_dict()["default_headers"] == {"Authorization": "**********", "X-App": "a"}
    assert llm.api_key is not None
    assert SECRET not in repr(llm.api_key)


def test_instrumentation_payload_has_no_key() -> None:
    seen: list[BaseEvent] = []

    class Collect(BaseEventHandler):
        def handle(self, event: BaseEvent, **kwargs: Any) -> None:
            seen.append(event)

    handler = Collect()
    root = get_dispatcher()
    root.add_event_handler(handler)
    try:
        llm = Kimi(api_key=SECRET, api_base=NOWHERE, max_retries=0)
        with pytest.raises(kc.APIConnectionError):
            llm.chat(_user())
    finally:
        root.event_handlers.remove(handler)
    start = [e for e in seen if type(e).__name__ == "LLMChatStartEvent"]
    assert start
    dumped = json.dumps([e.model_dump() for e in seen], default=str)
    assert SECRET not in dumped
    assert start[0].model_dump()["model_dict"]["model_name"] == "kimi-k2.6"


def test_round_trip_without_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    llm = Kimi(
        model="kimi-k2.5", api_key=SECRET, provider="gptproto", thinking=False, max_tokens=99
    )
    data = llm.to_dict()
    assert data["class_name"] == "Kimi_LLM"
    with pytest.raises(kc.ConfigurationError, match="GPTPROTO_API_KEY or KIMI_API_KEY"):
        Kimi.from_dict(data)
    monkeypatch.setenv("GPTPROTO_API_KEY", "env-key")
    again = Kimi.from_dict(data)
    assert again.to_dict() == data
    assert again.api_key is None
    assert again._get_client()._api_key == "env-key"
    assert Kimi.from_json(llm.to_json()).model == "kimi-k2.5"


def test_pickle_round_trip() -> None:
    llm = Kimi(api_key=SECRET, thinking=True)
    again = pickle.loads(pickle.dumps(llm))
    assert again.thinking is True
    assert again._get_client()._api_key == SECRET


def test_key_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(kc.ConfigurationError, match="MOONSHOT_API_KEY or KIMI_API_KEY"):
        Kimi()
    monkeypatch.setenv("KIMI_API_KEY", "fallback")
    assert Kimi()._get_client()._api_key == "fallback"
    monkeypatch.setenv("MOONSHOT_API_KEY", "moonshot")
    assert Kimi()._get_client()._api_key == "moonshot"
    assert Kimi(provider="acedata")._get_client()._api_key == "fallback"
    assert Kimi(api_key="arg")._get_client()._api_key == "arg"


# --------------------------------------------------------------------------- fields and metadata


@pytest.mark.parametrize(
    ("provider", "model"),
    [
        ("moonshot", "kimi-k2.6"),
        ("moonshot-cn", "kimi-k2.6"),
        ("acedata", "kimi-k2.5"),
        ("evolink", "kimi-k2-thinking"),
        ("gptproto", "kimi-k2.5"),
    ],
)
def test_default_model_per_provider(provider: str, model: str) -> None:
    assert Kimi(provider=provider, api_key="k").model == model


def test_provider_from_api_base() -> None:
    assert Kimi(api_key="k", api_base="https://api.acedata.cloud").provider == "acedata"
    # A loopback host keeps Moonshot's profile (the emulator's default dialect).
    assert Kimi(api_key="k", api_base="http://localhost:8000/v1").provider == "moonshot"
    with pytest.raises(kc.ConfigurationError, match="provider='nope' is unknown"):
        Kimi(api_key="k", provider="nope")
    with pytest.raises(kc.ConfigurationError, match="needs base_url"):
        Kimi(api_key="k", provider="openai-compatible")


def test_metadata_from_the_catalogue() -> None:
    md = Kimi(api_key="k").metadata
    assert (md.context_window, md.num_output, md.model_name) == (262_144, 32_768, "kimi-k2.6")
    assert md.is_chat_model and md.is_function_calling_model
    k3 = Kimi(api_key="k", model="kimi-k3").metadata
    assert (k3.context_window, k3.num_output, k3.model_name) == (1_048_576, 262_144, "kimi-k3")
    with pytest.warns(kc.RetiredModelWarning, match="'moonshot-v1-8k' was retired"):
        small = Kimi(api_key="k", model="moonshot-v1-8k", max_tokens=500).metadata
    assert (small.context_window, small.num_output) == (8_192, 500)
    custom = Kimi(api_key="k", context_window=1000, num_output=100).metadata
    assert (custom.context_window, custom.num_output) == (1000, 100)
    # a smaller window given by hand: a quarter of it is reserved, not the model's maximum
    assert Kimi(api_key="k", context_window=8000).metadata.num_output == 2000
    served = Kimi(api_key="k", model="kimi-k2-0711-preview", provider="acedata")
    assert served.metadata.context_window == 131_072


def test_field_bounds() -> None:
    for bad in ({"temperature": 3.0}, {"max_tokens": 0}, {"max_retries": -1}, {"timeout": 0}):
        with pytest.raises(ValidationError):
            Kimi(api_key="k", **bad)


def test_client_follows_field_changes() -> None:
    llm = Kimi(api_key="k", max_retries=2)
    first = llm._get_client()
    assert llm._get_client() is first
    llm.max_retries = 5
    assert llm._get_client().max_retries == 5


# --------------------------------------------------------------------------- requests


def test_bad_parameters_fail_before_anything_is_sent() -> None:
    llm = Kimi(api_key="k", model="kimi-k2.6", api_base=NOWHERE, provider="moonshot")
    with pytest.raises(kc.ConfigurationError, match=r"temperature=0\.3.*only 1 is allowed"):
        llm.chat(_user(), temperature=0.3)
    with pytest.raises(kc.ConfigurationError, match="at most 5 stop sequences"):
        llm.complete("x", stop=["a", "b", "c", "d", "e", "f"])
    with pytest.raises(kc.ConfigurationError, match="content must not be empty"):
        llm.stream_chat([ChatMessage(role="user", content="")])
    llm.temperature = 0.2
    with pytest.raises(kc.ConfigurationError, match="temperature"):
        llm.stream_complete("x")


async def test_bad_parameters_fail_before_anything_is_sent_async() -> None:
    llm = Kimi(api_key="k", model="kimi-k3", api_base=NOWHERE, provider="moonshot")
    with pytest.raises(kc.ConfigurationError, match="temperature"):
        await llm.achat(_user(), temperature=0.3)
    with pytest.raises(kc.ConfigurationError, match="temperature"):
        await llm.astream_chat(_user(), temperature=0.3)
    with pytest.raises(kc.ConfigurationError, match="temperature"):
        await llm.acomplete("x", temperature=0.3)
    with pytest.raises(kc.ConfigurationError, match="temperature"):
        await llm.astream_complete("x", temperature=0.3)


def test_image_on_a_text_only_provider_or_model_is_refused() -> None:
    from llama_index.core.base.llms.types import ImageBlock, TextBlock

    msg = ChatMessage(role="user", blocks=[TextBlock(text="what?"), ImageBlock(url="ms://x")])
    with pytest.raises(kc.ConfigurationError, match="content parts of type text"):
        Kimi(api_key="k", provider="acedata", api_base=NOWHERE).chat([msg])
    with pytest.raises(kc.ConfigurationError, match="takes no image input"):
        Kimi(api_key="k", model="kimi-k2-thinking", api_base=NOWHERE, provider="evolink").chat(
            [msg]
        )


def test_request_parameters_routing() -> None:
    llm = Kimi(
        api_key="k",
        model="kimi-k2.7-code",
        temperature=1.0,
        max_tokens=100,
        additional_kwargs={"stop": ["END"], "prompt_cache_key": "session-1", "vendor_flag": 1},
    )
    body = llm._prepare(_user(), False, {"top_p": 0.5, "extra_body": {"x": 2}, "stream": True}).body
    assert body == {
        "model": "kimi-k2.7-code",
        "messages": [{"role": "user", "content": "hi"}],
        "temperature": 1.0,
        "top_p": 0.5,
        "max_completion_tokens": 100,
        "stop": ["END"],
        "prompt_cache_key": "session-1",
        "vendor_flag": 1,
        "x": 2,
    }
    # kimi-k3 fixes its temperature: none is sent unless given
    assert "temperature" not in Kimi(api_key="k", model="kimi-k3")._prepare(_user(), False, {}).body
    gateway = Kimi(api_key="k", provider="acedata", max_tokens=100)
    assert gateway._prepare(_user(), True, {}).body["max_tokens"] == 100


def test_prepare_chat_with_tools() -> None:
    tool = FunctionTool.from_defaults(get_weather)
    history = [ChatMessage(role="system", content="be brief")]
    llm = Kimi(api_key="k", model="kimi-k2.6")
    kwargs = llm._prepare_chat_with_tools([tool], "weather in Paris?", chat_history=history)
    assert len(history) == 1  # the caller's list is not changed
    assert [m.role.value for m in kwargs["messages"]] == ["system", "user"]
    assert kwargs["tools"][0]["function"]["name"] == "get_weather"
    assert "tool_choice" not in kwargs
    assert kwargs["parallel_tool_calls"] is False
    body = llm._prepare(kwargs.pop("messages"), False, kwargs).body
    assert "thinking" not in body

    # tool_required on a thinking model with a switch: thinking off for this call
    forced = llm._prepare_chat_with_tools(
        [tool], "x", tool_required=True, allow_parallel_tool_calls=True
    )
    assert forced["tool_choice"] == "required"
    req = llm._prepare(forced.pop("messages"), False, forced)
    assert req.body["tool_choice"] == "required"
    assert req.body["thinking"] == {"type": "disabled"}
    assert req.body["parallel_tool_calls"] is True
    assert req.required_tool is None

    # an always-thinking model: auto + a check that the call was made
    always = Kimi(api_key="k", model="kimi-k2.7-code")
    forced = always._prepare_chat_with_tools([tool], "x", tool_choice="get_weather")
    req = always._prepare(forced.pop("messages"), False, forced)
    assert req.body["tool_choice"] == "auto"
    assert req.required_tool == "get_weather"
    assert "always thinks" in req.plan.reason

    # kimi-k3 takes the forced choice while thinking: sent as it is, and checked
    k3 = Kimi(api_key="k", model="kimi-k3")
    forced = k3._prepare_chat_with_tools([tool], "x", tool_required=True)
    req = k3._prepare(forced.pop("messages"), False, forced)
    assert req.body["tool_choice"] == "required" and "thinking" not in req.body
    assert req.required_tool is True

    strict = llm._prepare_chat_with_tools([tool], "x", strict=True)
    assert strict["tools"][0]["function"]["strict"] is True


def test_structured_output_method_defaults() -> None:
    """``kimi_core.structured_output_method``: json_schema where the provider documents
    it (the model keeps thinking), else a forced call where it goes out as one, else
    json_mode (always-thinking models), else function calling checked."""
    assert Kimi(api_key="k", model="kimi-k2.6")._json_method() == "json_schema"
    assert Kimi(api_key="k", model="kimi-k2.7-code")._json_method() == "json_schema"
    assert Kimi(api_key="k", model="kimi-k3")._json_method() == "json_schema"
    assert Kimi(api_key="k", model="kimi-k2.5", provider="acedata")._json_method() is None
    assert (
        Kimi(api_key="k", model="kimi-k2-thinking", provider="evolink")._json_method()
        == "json_mode"
    )
    assert (
        Kimi(api_key="k", model="kimi-k2-thinking", provider="acedata")._json_method()
        == "json_mode"
    )
    assert Kimi(api_key="k", structured_output_method="json_mode")._json_method() == "json_mode"
    assert (
        Kimi(
            api_key="k", model="kimi-k2.7-code", structured_output_method="function_calling"
        )._json_method()
        is None
    )
    with pytest.raises(
        kc.ConfigurationError, match="method='json_schema' is not accepted by provider 'evolink'"
    ):
        Kimi(
            api_key="k",
            model="kimi-k2-thinking",
            provider="evolink",
            structured_output_method="json_schema",
        )._json_method()


# --------------------------------------------------------------------------- packaging


def test_llama_index_import_path() -> None:
    from llama_index.llms.kimi import Kimi as Reexported

    assert Reexported is Kimi
    root = Path(__file__).resolve().parents[2]
    assert not (root / "llama_index" / "__init__.py").exists()
    assert not (root / "llama_index" / "llms" / "__init__.py").exists()


def test_import_pulls_in_neither_openai_nor_langchain() -> None:
    code = (
        "import sys, llama_index_kimi, llama_index.llms.kimi\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('openai', 'langchain', 'langchain_core', 'langchain_kimi', 'tiktoken'))\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_tools_and_tool_choice_straight_to_chat() -> None:
    llm = Kimi(api_key="k", model="kimi-k2.6", strict=True)  # thinking off for a forced call
    tool = FunctionTool.from_defaults(get_weather)
    body = llm._prepare(_user(), False, {"tools": [tool], "tool_choice": "get_weather"}).body
    assert body["tools"][0]["function"]["name"] == "get_weather"
    assert body["tools"][0]["function"]["strict"] is True
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert (
        llm._prepare(_user(), False, {"tools": [tool], "tool_choice": "any"}).body["tool_choice"]
        == "required"
    )


def test_structured_output_method_follows_the_core_rules() -> None:
    # Where json_schema is not documented: a temperature only thinking takes keeps
    # thinking on, so no forced call can go out -> json_mode; the thinking-off one allows it.
    on_acedata = {"api_key": "k", "provider": "acedata", "model": "kimi-k2.5"}
    assert Kimi(**on_acedata, temperature=1.0)._json_method() == "json_mode"
    assert Kimi(**on_acedata, temperature=0.6)._json_method() is None
    assert Kimi(**on_acedata, thinking=False)._json_method() is None
    assert Kimi(api_key="k", model="kimi-k3")._json_method() == "json_schema"
    with pytest.warns(kc.RetiredModelWarning, match="'kimi-latest' .* on 2026-01-28"):
        latest = Kimi(api_key="k", model="kimi-latest")
    assert latest._json_method() is None  # no json_schema mode


def test_a_misspelled_keyword_is_refused_before_sending(kimi_emulator: Any) -> None:
    llm = Kimi(
        model="kimi-k2.6",
        provider=kimi_emulator.provider,
        api_base=kimi_emulator.base_url,
        api_key="k",
    )
    msgs = [ChatMessage(role="user", content="hi")]
    with pytest.raises(
        kc.ConfigurationError,
        match=r"temprature=0.5 is not a parameter of Kimi.chat \(did you mean 'temperature'\?\): .*extra_body",
    ):
        llm.chat(msgs, temprature=0.5)
    assert kimi_emulator.requests == []
    llm.chat(msgs, extra_body={"custom_field": 1})
    assert kimi_emulator.requests[-1].json["custom_field"] == 1
    raw = Kimi(
        model="kimi-k2.6",
        provider=kimi_emulator.provider,
        api_base=kimi_emulator.base_url,
        api_key="k",
        additional_kwargs={"other_field": 2},
    )
    raw.chat(msgs)
    assert kimi_emulator.requests[-1].json["other_field"] == 2


def test_several_choices_are_refused_when_streaming(kimi_emulator: Any) -> None:
    llm = Kimi(
        model="kimi-k2.7-code",
        provider=kimi_emulator.provider,
        api_base=kimi_emulator.base_url,
        api_key="k",
    )
    msgs = [ChatMessage(role="user", content="hi")]
    with pytest.raises(kc.ConfigurationError, match=r"n=2 is not accepted when streaming"):
        llm.stream_chat(msgs, n=2)
    assert kimi_emulator.requests == []
    assert llm.chat(msgs, n=2).raw["choices"][1]["message"]["content"]


def test_a_small_window_leaves_room_for_the_prompt(kimi_emulator_factory: Any) -> None:
    """moonshot-v1-8k may answer with its whole window; LlamaIndex must still be able to
    pack a prompt (num_output at most a quarter of the window). Moonshot retired it
    (a warning); this emulator still serves it."""
    from llama_index.core import Document, SummaryIndex

    emu = kimi_emulator_factory(models=["moonshot-v1-8k"])
    with pytest.warns(kc.RetiredModelWarning):
        llm = Kimi(
            model="moonshot-v1-8k", provider=emu.provider, api_base=emu.base_url, api_key="k"
        )
    assert llm.metadata.num_output == 2048
    docs = [
        Document(text="Kimi is served by Moonshot. " * 200),
        Document(text="AceData also serves Kimi. " * 200),
    ]
    engine = SummaryIndex.from_documents(docs).as_query_engine(llm=llm)
    assert str(engine.query("Who serves Kimi?"))


def test_the_payload_follows_every_setting_it_shows() -> None:
    """to_payload() is kept for the settings it was made of: a changed setting, a thinking
    dict changed in place, or a payload changed by a handler never shows stale values."""
    llm = Kimi(model="kimi-k2.6", api_key="k", temperature=0.6, thinking={"type": "enabled"})
    first = llm.to_payload()
    assert (first["model_name"], first["temperature"]) == ("kimi-k2.6", 0.6)
    first["temperature"] = 9.0  # a handler changing what it got
    first["thinking"]["type"] = "x"
    assert llm.to_payload()["temperature"] == 0.6
    assert llm.to_payload()["thinking"] == {"type": "enabled"}
    llm.temperature = 1.0
    assert llm.to_payload()["temperature"] == 1.0
    assert isinstance(llm.thinking, dict)
    llm.thinking["type"] = "disabled"  # changed in place
    assert llm.to_payload()["thinking"] == {"type": "disabled"}
    llm.model = "kimi-k2.5"
    llm.context_window = 1000
    payload = llm.to_payload()
    assert (payload["model_name"], payload["context_window"]) == ("kimi-k2.5", 1000)
    llm.api_base = "http://127.0.0.1:9/v1"
    assert llm.to_payload()["api_base"] == "http://127.0.0.1:9/v1"
