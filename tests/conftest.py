"""Fixtures every test folder can use: a loopback server whose answers a test writes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _loopback import LoopbackServer


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    """A running :class:`LoopbackServer` (no handler yet), stopped after the test."""
    with LoopbackServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _retired_ids_warn_in_every_test() -> None:
    """A retired id warns once per process (``kimi_core.warn_if_retired``); forget who was
    warned, so that each test sees the warning its own models cause, whatever the order."""
    from kimi_core import _models

    _models._warned_retired.clear()
