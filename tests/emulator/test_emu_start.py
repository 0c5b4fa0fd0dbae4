"""Starting the emulator: CLI, ``python -m``, the context manager, and the pytest fixtures."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from emu_helpers import USER_HI

import kimi_core as kc
import kimi_emulator
from kimi_emulator import KimiEmulator


def _launch(args: list[str]) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        match = re.search(r"(http://\S+)", first)
        assert match, f"no URL in {first!r}"
        yield proc, match.group(1)
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


#: The console script the distribution installs, next to this interpreter.
SCRIPT = Path(sys.executable).with_name("kimi-emulator")


@pytest.fixture
def cli_moonshot() -> Iterator[tuple[subprocess.Popen[str], str]]:
    yield from _launch([str(SCRIPT), "--port", "0"])


def test_the_console_script_is_installed() -> None:
    assert SCRIPT.is_file(), "pip install -e . installs the kimi-emulator script"


def test_cli_prints_its_url_and_serves(cli_moonshot: tuple[subprocess.Popen[str], str]) -> None:
    proc, url = cli_moonshot
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", url)
    client = kc.KimiClient(provider="moonshot", base_url=url, api_key="any-key")
    result = client.chat(model="kimi-k2.6", thinking=False, messages=USER_HI)
    assert "Hello there" in result.message["content"]
    assert proc.poll() is None


def test_cli_strict_and_max_requests() -> None:
    args = [sys.executable, "-m", "kimi_emulator", "--port", "0", "--strict"]
    for proc, url in _launch([*args, "--max-requests", "1"]):
        assert proc.stdout is not None
        proc.stdout.readline()  # "A local stand-in ..."
        assert "model=kimi-k2.6" in proc.stdout.readline()  # the banner names a model
        body = {"model": "kimi-k2.7-code", "messages": USER_HI, "reasoning_effort": "high"}
        resp = httpx.post(
            url + "/chat/completions", json=body, headers={"Authorization": "Bearer k"}
        )
        assert resp.status_code == 400  # a strict-only rule
        assert "does not support reasoning_effort" in resp.json()["error"]["message"]
    bad = subprocess.run(
        [*args, "--max-requests", "-1"], capture_output=True, text=True, check=False, timeout=60
    )
    assert bad.returncode != 0 and "--max-requests" in bad.stderr


def test_the_emulator_imports_nothing_from_kimi_core() -> None:
    code = (
        "import importlib, pkgutil, sys, kimi_emulator\n"
        "for m in pkgutil.iter_modules(kimi_emulator.__path__):\n"
        "    if m.name != '__main__':\n"
        "        importlib.import_module('kimi_emulator.' + m.name)\n"
        "with kimi_emulator.KimiEmulator() as emu:\n"
        "    import httpx\n"
        "    httpx.post(emu.chat_url, json={'model': 'kimi-k3', 'messages': [{'role': 'user',"
        " 'content': 'hi'}]}, headers={'Authorization': 'Bearer k'}).raise_for_status()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'kimi_core'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
    package = Path(kimi_emulator.__file__).parent
    for source in package.rglob("*.py"):
        assert not re.search(r"^\s*(from|import) kimi_core", source.read_text(), re.M), source


def test_dialect_names_are_the_dialects() -> None:
    from kimi_emulator._dialects import DIALECTS

    assert tuple(DIALECTS) == kimi_emulator.DIALECT_NAMES


def test_python_m_with_options() -> None:
    args = [
        sys.executable,
        "-m",
        "kimi_emulator",
        "--port",
        "0",
        "--dialect",
        "acedata",
        "--api-key",
        "sk-cli",
    ]
    for proc, url in _launch(args):  # noqa: B007 (proc is checked after the loop)
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        body = {"model": "kimi-k2.5", "messages": USER_HI}
        ok = httpx.post(
            url + "/kimi/chat/completions", json=body, headers={"Authorization": "Bearer sk-cli"}
        )
        assert ok.status_code == 200
        bad = httpx.post(
            url + "/kimi/chat/completions", json=body, headers={"Authorization": "Bearer x"}
        )
        assert bad.status_code == 401
        assert bad.json()["error"]["code"] == "invalid_token"
    assert proc.returncode is not None


def test_cli_says_it_is_not_a_model() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "kimi_emulator", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "not a model" in out
    for option in ("--port", "--host", "--dialect", "--api-key"):
        assert option in out


def test_cli_banner_mentions_stand_in() -> None:
    for proc, _ in _launch([sys.executable, "-m", "kimi_emulator", "--port", "0"]):
        assert proc.stdout is not None
        second = proc.stdout.readline()
        assert "not a model" in second


def test_start_stop_and_context_manager() -> None:
    emu = KimiEmulator(dialect="evolink")
    assert not emu.running
    assert "stopped" in repr(emu)
    assert emu.start() is emu
    assert emu.start() is emu  # idempotent
    assert emu.running
    assert emu.port > 0
    assert (
        httpx.get(emu.url + "/v1/models", headers={"Authorization": "Bearer k"}).status_code == 200
    )
    emu.stop()
    emu.stop()
    assert not emu.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(emu.url + "/v1/models")
    with KimiEmulator(dialect="gptproto") as other:
        assert other.running
    assert not other.running


def test_bad_dialect_and_busy_port() -> None:
    with pytest.raises(ValueError, match="dialect"):
        KimiEmulator(dialect="openai")
    for option in ("header_timeout", "body_timeout", "idle_timeout"):
        with pytest.raises(ValueError, match=option):
            KimiEmulator(**{option: 0})
    with pytest.raises(ValueError, match="max_body"):
        KimiEmulator(max_body=-1)
    with KimiEmulator() as emu, pytest.raises(OSError, match=r"(?i)in use"):
        KimiEmulator(port=emu.port).start()


def test_stop_cuts_a_stall_short() -> None:
    emu = KimiEmulator().start()
    emu.fault("stall", events=1, seconds=60)
    client = kc.KimiClient(provider="moonshot", base_url=emu.base_url, api_key="k", max_retries=0)
    stream = iter(client.stream(model="kimi-k2.6", thinking=False, messages=USER_HI))
    assert next(stream)["choices"][0]["delta"]["role"] == "assistant"
    emu.stop()  # returns although the handler was sleeping
    with pytest.raises(kc.KimiError):
        list(stream)


# --------------------------------------------------------------------------- fixtures


def test_kimi_emulator_fixture(kimi_emulator: KimiEmulator) -> None:
    assert kimi_emulator.dialect == "moonshot"
    assert kimi_emulator.requests == []  # reset for this test
    kimi_emulator.script(text="from the fixture")
    kimi_emulator.stream_delay = 0.5
    client = kc.KimiClient(provider="moonshot", base_url=kimi_emulator.base_url, api_key="k")
    kimi_emulator.stream_delay = 0.0
    assert client.chat(model="kimi-k2.6", messages=USER_HI).message["content"] == "from the fixture"


def test_kimi_emulator_fixture_is_reset_between_tests(kimi_emulator: KimiEmulator) -> None:
    assert kimi_emulator.requests == []
    assert kimi_emulator.stream_delay == 0.0


def test_kimi_emulator_factory(kimi_emulator_factory: Callable[..., KimiEmulator]) -> None:
    ace = kimi_emulator_factory("acedata", api_key="sk-a")
    evo = kimi_emulator_factory(dialect="evolink", accept_any_model=True)
    assert ace.running
    assert evo.running
    assert ace.port != evo.port
    assert ace.api_key == "sk-a"
    client = kc.KimiClient(provider="acedata", base_url=ace.base_url, api_key="sk-a")
    assert client.chat(model="kimi-k2.5", messages=USER_HI).message["reasoning_content"]


async def test_async_client_against_the_emulator(kimi_emulator: KimiEmulator) -> None:
    client = kc.AsyncKimiClient(provider="moonshot", base_url=kimi_emulator.base_url, api_key="k")
    result = await client.chat(model="kimi-k2.6", messages=USER_HI)
    assert result.message["content"]
    chunks: list[dict[str, Any]] = [
        c async for c in client.stream(model="kimi-k2.6", messages=USER_HI)
    ]
    assert chunks
    await asyncio.sleep(0)
