"""pytest plugin: fixtures that run the Kimi emulator.

Opt-in: ``pytest_plugins = ["kimi_emulator.pytest_plugin"]`` in a top-level
``conftest.py`` (or a test module), or ``pytest -p kimi_emulator.pytest_plugin``. It
imports nothing heavy and starts nothing until a fixture is used.

- ``kimi_emulator``: a running moonshot-dialect :class:`~kimi_emulator.KimiEmulator`
  shared by the session and reset before each test (scripts, faults, recorded requests,
  cache and options).
- ``kimi_emulator_factory``: ``factory(dialect="moonshot", **options)`` starts a fresh
  emulator (any constructor option); all are stopped at teardown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from kimi_emulator import KimiEmulator


@pytest.fixture(scope="session")
def _kimi_emulator_session() -> Iterator[KimiEmulator]:
    from kimi_emulator import KimiEmulator

    emu = KimiEmulator(dialect="moonshot").start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def kimi_emulator(_kimi_emulator_session: KimiEmulator) -> Iterator[KimiEmulator]:
    """A running moonshot-dialect emulator, reset for this test."""
    _kimi_emulator_session.reset()
    yield _kimi_emulator_session
    _kimi_emulator_session.reset()


@pytest.fixture
def kimi_emulator_factory() -> Iterator[Callable[..., KimiEmulator]]:
    """Start emulators with any dialect and options; stopped at teardown."""
    from kimi_emulator import KimiEmulator

    started: list[KimiEmulator] = []

    def factory(dialect: str = "moonshot", **options: Any) -> KimiEmulator:
        emu = KimiEmulator(dialect=dialect, **options).start()
        started.append(emu)
        return emu

    try:
        yield factory
    finally:
        for emu in started:
            emu.stop()
