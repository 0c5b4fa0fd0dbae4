"""Fixtures for the emulator tests: one running emulator per dialect for the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kimi_emulator import DIALECT_NAMES, KimiEmulator


@pytest.fixture(scope="session")
def _emulators() -> Iterator[dict[str, KimiEmulator]]:
    started = {name: KimiEmulator(dialect=name).start() for name in DIALECT_NAMES}
    try:
        yield started
    finally:
        for emu in started.values():
            emu.stop()


@pytest.fixture(params=DIALECT_NAMES)
def any_emu(request: pytest.FixtureRequest, _emulators: dict[str, KimiEmulator]) -> KimiEmulator:
    """Each dialect in turn (reset)."""
    emu = _emulators[request.param]
    emu.reset()
    return emu


@pytest.fixture
def emus(_emulators: dict[str, KimiEmulator]) -> dict[str, KimiEmulator]:
    """All four dialects by name (reset)."""
    for emu in _emulators.values():
        emu.reset()
    return _emulators


@pytest.fixture
def moonshot(emus: dict[str, KimiEmulator]) -> KimiEmulator:
    return emus["moonshot"]
