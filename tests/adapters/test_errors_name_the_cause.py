"""Errors that name their cause, in kimi_core and through both adapters, over loopback:
a 401 says where the key came from (never the key) and where it went; a key shaped like a
Kimi Code key says where such keys work; a mistyped model id gets "did you mean"; a
base_url on a known host keeps its provider (and its hints), an unknown host says once
which profile it assumed."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from _loopback import LoopbackServer
from _recordings import retired_404

import kimi_core as kc
from kimi_core import _models, _providers
from kimi_core._hints import auth_note, key_source
from langchain_kimi import ChatKimi
from llama_index_kimi import Kimi

WRONG = "sk-wrong-key-0123456789abcdef"
CODE_KEY = "sk-kimi-0123456789abcdefghijklmnop"
USER = [{"role": "user", "content": "Which colour is the sea?"}]


@pytest.fixture
def guarded(kimi_emulator_factory: Any) -> Any:
    """An emulator that accepts one key only (Moonshot's 401 for any other)."""
    return kimi_emulator_factory(dialect="moonshot", api_key="sk-the-right-one-42")


def test_a_401_names_the_variable_and_the_url(guarded: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("MOONSHOT_API_KEY", WRONG)
    client = kc.KimiClient(provider="moonshot", base_url=guarded.base_url, max_retries=0)
    with pytest.raises(kc.AuthenticationError) as info:
        client.chat(model="kimi-k2.6", messages=USER)
    said = str(info.value)
    assert "the key came from the MOONSHOT_API_KEY environment variable" in said
    assert f"was sent to {guarded.base_url} (provider 'moonshot')" in said
    assert WRONG not in said and WRONG not in repr(info.value.body)


def test_a_401_names_the_argument(guarded: Any, monkeypatch: Any) -> None:
    monkeypatch.delenv("MOONSHOT_API_KEY", raising=False)
    monkeypatch.delenv("KIMI_API_KEY", raising=False)
    client = kc.KimiClient(
        provider="moonshot", base_url=guarded.base_url, api_key=WRONG, max_retries=0
    )
    with pytest.raises(kc.AuthenticationError, match="the key came from the api_key argument"):
        client.chat(model="kimi-k2.6", messages=USER)


def test_a_kimi_code_key_elsewhere_says_where_it_works(guarded: Any) -> None:
    model = ChatKimi(
        model="kimi-k2.6",
        provider="moonshot",
        base_url=guarded.base_url,
        api_key=CODE_KEY,
        max_retries=0,
    )
    with pytest.raises(kc.AuthenticationError) as info:
        model.invoke("hi")
    said = str(info.value)
    assert "the shape of a Kimi Code (Kimi For Coding) subscription key" in said
    assert "https://api.kimi.com/coding/v1" in said and "only for coding agents" in said
    assert CODE_KEY not in said


def test_llama_index_gets_the_same_words(guarded: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("MOONSHOT_API_KEY", WRONG)
    llm = Kimi(model="kimi-k2.6", provider="moonshot", api_base=guarded.base_url, max_retries=0)
    with pytest.raises(kc.AuthenticationError, match="MOONSHOT_API_KEY environment variable"):
        llm.complete("hi")


def test_on_the_kimi_code_host_it_says_why_not_and_fakes_nothing() -> None:
    profile = kc.resolve_provider("openai-compatible", "https://api.kimi.com/coding/v1")
    note = auth_note(profile, CODE_KEY, environ={})
    assert "only for coding agents" in note and "does not pretend to be" in note
    assert CODE_KEY not in note


def test_the_source_is_the_first_variable_holding_the_key() -> None:
    profile = kc.get_provider("moonshot")
    env = {"MOONSHOT_API_KEY": "a", "KIMI_API_KEY": "b"}
    assert key_source(profile, "b", env) == "the KIMI_API_KEY environment variable"
    assert key_source(profile, "a", env) == "the MOONSHOT_API_KEY environment variable"
    assert key_source(profile, "c", env) == "the api_key argument"


# --------------------------------------------------------------------------- model ids


def test_a_mistyped_id_gets_did_you_mean_in_its_warning_and_its_404(
    kimi_emulator: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(_models, "_warned", set())  # it warns once per id and process
    model = ChatKimi(
        model="kimi-k26",
        provider="moonshot",
        base_url=kimi_emulator.base_url,
        api_key="k",
        max_retries=0,
    )
    with (
        pytest.warns(kc.UnknownModelWarning, match=r"did you mean 'kimi-k2\.6'\?"),
        pytest.raises(kc.NotFoundError, match=r"did you mean 'kimi-k2\.6'\?"),
    ):
        model.invoke("hi")


def test_no_suggestion_for_a_far_id() -> None:
    assert kc.get_model_info("kimi-k2.6").id == "kimi-k2.6"
    closest_model = _models.closest_model
    assert closest_model("kimi-k26") == "kimi-k2.6"
    assert closest_model("kimi-k2-thinkng") == "kimi-k2-thinking"
    assert closest_model("glm-4.6") is None
    assert closest_model("kimi-k2.6") is None
    assert closest_model("moonshotai/kimi-k2.6") is None


# --------------------------------------------------------------------------- hosts


@pytest.mark.parametrize(
    ("url", "provider"),
    [
        ("https://api.moonshot.ai/v1", "moonshot"),
        ("https://api.moonshot.cn/v1", "moonshot-cn"),
        ("https://api.acedata.cloud", "acedata"),
        ("http://127.0.0.1:8000/v1", "moonshot"),
        ("http://localhost:8000/v1", "moonshot"),
    ],
)
def test_a_known_host_keeps_its_provider_silently(url: str, provider: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert kc.resolve_provider(None, url).name == provider


def test_an_unknown_host_says_once_which_profile_it_assumed(monkeypatch: Any) -> None:
    monkeypatch.setattr(_providers, "_assumed_hosts", set())
    with pytest.warns(kc.ProviderAssumedWarning) as caught:
        profile = kc.resolve_provider(None, "https://llm-relay.example.org/v1")
    assert profile.name == "openai-compatible"
    said = str(caught[0].message)
    assert "'llm-relay.example.org'" in said and "provider='openai-compatible'" in said
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kc.resolve_provider(None, "https://llm-relay.example.org/v1")  # once per host
        kc.resolve_provider("openai-compatible", "https://other.example.org/v1")  # named


def test_the_emulator_on_loopback_keeps_the_retired_hint(loopback: LoopbackServer) -> None:
    """No provider, a loopback base URL: Moonshot's rules, so a retired id's 404 still says
    what to use instead (the 404 is Moonshot's recorded one, the id put in)."""
    retired_404(loopback, "kimi-k2.5")
    with pytest.warns(kc.RetiredModelWarning):
        model = ChatKimi(model="kimi-k2.5", base_url=loopback.base_url, api_key="k", max_retries=0)
    with pytest.raises(kc.NotFoundError, match=r"retired on 2026-08-31; use kimi-k2\.6"):
        model.invoke("hi")


def test_a_generic_gateway_says_when_moonshot_retired_the_id(loopback: LoopbackServer) -> None:
    retired_404(loopback, "kimi-k2.5")
    client = kc.KimiClient(
        provider="openai-compatible", base_url=loopback.base_url, api_key="k", max_retries=0
    )
    with pytest.raises(kc.NotFoundError) as info:
        client.chat(model="kimi-k2.5", messages=USER)
    said = str(info.value)
    assert "Moonshot retired 'kimi-k2.5' (retired on 2026-08-31; use kimi-k2.6)" in said
    assert "provider='moonshot'" in said
