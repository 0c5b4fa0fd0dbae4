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
