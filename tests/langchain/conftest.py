"""Fixtures for the LangChain adapter tests: one emulator per dialect, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from lc_helpers import DIALECT_MODELS, KEY, ChatFactory, chat_for

from langchain_kimi import ChatKimi

if TYPE_CHECKING:
    from kimi_emulator import KimiEmulator


@pytest.fixture(scope="session")
def emulators() -> Iterator[dict[str, KimiEmulator]]:
    try:
        from kimi_emulator import KimiEmulator
    except ImportError:  # pragma: no cover - before the emulator is merged
        pytest.skip("kimi_emulator.KimiEmulator is not in this tree yet")
    emulators = {d: KimiEmulator(dialect=d, api_key=KEY).start() for d in DIALECT_MODELS}
    try:
        yield emulators
    finally:
        for emu in emulators.values():
            emu.stop()


def _fresh(emu: KimiEmulator) -> Iterator[KimiEmulator]:
    emu.reset()
    yield emu
    emu.reset()


@pytest.fixture(params=list(DIALECT_MODELS))
def emu(request: pytest.FixtureRequest, emulators: dict[str, KimiEmulator]) -> Iterator[Any]:
    """The emulator of each dialect in turn (reset for the test)."""
    yield from _fresh(emulators[request.param])


@pytest.fixture
def moonshot(emulators: dict[str, KimiEmulator]) -> Iterator[Any]:
    yield from _fresh(emulators["moonshot"])


@pytest.fixture
def acedata(emulators: dict[str, KimiEmulator]) -> Iterator[Any]:
    yield from _fresh(emulators["acedata"])


@pytest.fixture
def gptproto(emulators: dict[str, KimiEmulator]) -> Iterator[Any]:
    yield from _fresh(emulators["gptproto"])


@pytest.fixture
def evolink(emulators: dict[str, KimiEmulator]) -> Iterator[Any]:
    yield from _fresh(emulators["evolink"])


@pytest.fixture
def chat(emu: Any) -> ChatFactory:
    """``chat(model=None, **kwargs)``: a ChatKimi on the current dialect's emulator."""

    def make(model: str | None = None, **kwargs: Any) -> ChatKimi:
        return chat_for(emu, model, **kwargs)

    return make
