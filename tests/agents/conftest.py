"""Fixtures for the framework-agent proofs: emulators over real HTTP, and the models.

Every test runs once per model variant: two that think (kimi-k2.6 by default, kimi-k3)
and one that does not (kimi-k2.6 with thinking disabled). Nothing is scripted: the
emulator's responder answers.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from agent_tasks import VARIANTS, Variant

from kimi_emulator import KimiEmulator


@pytest.fixture(scope="session")
def _agent_emulators() -> Iterator[dict[str, KimiEmulator]]:
    started = {name: KimiEmulator(dialect=name).start() for name in ("moonshot", "acedata")}
    try:
        yield started
    finally:
        for emu in started.values():
            emu.stop()


@pytest.fixture(params=VARIANTS, ids=[v.id for v in VARIANTS])
def variant(request: pytest.FixtureRequest) -> Variant:
    """The model a test runs on (see ``agent_tasks.VARIANTS``)."""
    chosen: Variant = request.param
    return chosen


@pytest.fixture
def emu(_agent_emulators: dict[str, KimiEmulator], variant: Variant) -> KimiEmulator:
    """The emulator of the variant's dialect, reset."""
    found = _agent_emulators[variant.dialect]
    found.reset()
    return found
