"""Fixtures: a Kimi LLM talking to the local emulator over real HTTP, set as Settings.llm."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from llama_index.core import Settings
from llama_index.core.embeddings import MockEmbedding

import kimi_core as kc
from llama_index_kimi import Kimi

if TYPE_CHECKING:
    from kimi_emulator import KimiEmulator

#: No waiting between retries in tests (the count of attempts is what is checked).
NO_WAIT = kc.RetryPolicy(base=0.0, max_backoff=0.0, max_wait=0.0)

MakeLLM = Callable[..., Kimi]


@pytest.fixture
def make_llm() -> MakeLLM:
    """``make_llm(emu, **fields)``: a Kimi bound to an emulator."""

    def make(emu: KimiEmulator, **kwargs: Any) -> Kimi:
        kwargs.setdefault("retry_policy", NO_WAIT)
        return Kimi(api_key=emu.api_key, api_base=emu.base_url, provider=emu.provider, **kwargs)

    return make


@pytest.fixture
def emu(kimi_emulator: KimiEmulator) -> KimiEmulator:
    return kimi_emulator


@pytest.fixture
def llm(emu: KimiEmulator, make_llm: MakeLLM) -> Kimi:
    """kimi-k2.6 (thinks by default) on the moonshot dialect."""
    return make_llm(emu, model="kimi-k2.6")


@pytest.fixture(autouse=True)
def _settings(request: pytest.FixtureRequest) -> Iterator[None]:
    """Nothing reaches for OpenAI: Settings.llm is our Kimi (when a test has one) and the
    embedding model is a mock."""
    llm = request.getfixturevalue("llm") if "llm" in request.fixturenames else None
    Settings.embed_model = MockEmbedding(embed_dim=8)
    if llm is not None:
        Settings.llm = llm
    yield
    Settings._llm = None
    Settings._embed_model = None
