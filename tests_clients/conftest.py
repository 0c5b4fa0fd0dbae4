"""Popular OpenAI-protocol clients against the emulator (``make test-clients``).

Each client runs as its users run it (its own Moonshot provider where it has one), pointed
at an in-process moonshot-dialect emulator on loopback. Where a client follows Kimi's
rules the call succeeds; where it breaks one, the test asserts the emulator's 400 with the
real text: the emulator catching the bug a user would meet in production.

Nothing leaves the machine: dummy keys, base URLs on 127.0.0.1, telemetry off, and every
connection or name lookup that is not loopback fails the test that made it.
"""

from __future__ import annotations

import os

# Before any client is imported: no remote model-cost map (litellm), no tracing
# (openai-agents), no logfire export (pydantic-ai), and no real key from the environment.
os.environ.update(
    {
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_TELEMETRY": "False",
        "LITELLM_LOG": "ERROR",
        "OPENAI_AGENTS_DISABLE_TRACING": "1",
        "OPENAI_AGENTS_DONT_LOG_MODEL_DATA": "1",
        "LOGFIRE_SEND_TO_LOGFIRE": "false",
        "OPENAI_API_KEY": "test-not-a-key",
        "MOONSHOT_API_KEY": "test-not-a-key",
        "MOONSHOTAI_API_KEY": "test-not-a-key",
    }
)
for _name in ("OPENAI_BASE_URL", "OPENAI_ORG_ID", "MOONSHOT_API_BASE", "KIMI_BASE_URL"):
    os.environ.pop(_name, None)

from collections.abc import Iterator  # noqa: E402

import loopback_guard  # noqa: E402
import pytest  # noqa: E402

from kimi_emulator import KimiEmulator  # noqa: E402

# --------------------------------------------------------------------------- loopback only

loopback_guard.install()


@pytest.fixture(autouse=True)
def _loopback_only() -> Iterator[None]:
    """Fails the test during which (or before which, at import) a client tried anything
    but loopback: a name lookup or a connection."""
    yield
    tried = loopback_guard.take_attempts()
    assert not tried, f"a client tried the network: {tried}"


# --------------------------------------------------------------------------- the emulator


@pytest.fixture(scope="session")
def _emulator() -> Iterator[KimiEmulator]:
    with KimiEmulator(dialect="moonshot", host="127.0.0.1") as emu:
        yield emu


@pytest.fixture
def emu(_emulator: KimiEmulator) -> KimiEmulator:
    """The moonshot-dialect emulator, reset (any non-empty key is accepted)."""
    _emulator.reset()
    return _emulator
