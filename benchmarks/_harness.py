"""Shared pieces of the benchmarks: an emulator in its own process, machine facts,
timing helpers and the Markdown table writer.

The emulator runs in a separate process (``multiprocessing`` spawn) so the client being
measured has the interpreter to itself; it is configured (scripts, faults) before it
starts serving, and reports how many requests it received when asked.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from importlib import metadata
from multiprocessing.connection import Connection
from typing import Any

PEER_PACKAGES = (
    "kimi-integrations",
    "httpx",
    "pydantic",
    "langchain-core",
    "llama-index-core",
    "langchain-openai",
    "openai",
    "llama-index-llms-openai-like",
)


@dataclass
class EmulatorConfig:
    """What the emulator process serves: ``script`` and ``faults`` are keyword dicts for
    ``KimiEmulator.script`` / ``KimiEmulator.fault``, applied before serving."""

    dialect: str = "moonshot"
    scripts: list[dict[str, Any]] = field(default_factory=list)
    faults: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    stream_delay: float = 0.0


def _serve(config: EmulatorConfig, conn: Connection) -> None:
    from kimi_core.emulator import KimiEmulator

    with KimiEmulator(dialect=config.dialect, stream_delay=config.stream_delay) as emu:
        for script in config.scripts:
            emu.script(**script)
        for kind, opts in config.faults:
            emu.fault(kind, **opts)
        conn.send((emu.base_url, emu.provider, emu.api_key))
        while True:
            command = conn.recv()
            if command == "count":
                conn.send(emu.request_count)
            elif command == "peak_rss_kib":
                conn.send(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
            else:
                break


@dataclass
class RemoteEmulator:
    base_url: str
    provider: str
    api_key: str
    _conn: Connection

    def request_count(self) -> int:
        self._conn.send("count")
        return int(self._conn.recv())


@contextmanager
def emulator_process(config: EmulatorConfig) -> Iterator[RemoteEmulator]:
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve, args=(config, child), daemon=True)
    proc.start()
    try:
        if not parent.poll(60):
            raise RuntimeError("the emulator process did not start")
        base_url, provider, api_key = parent.recv()
        yield RemoteEmulator(base_url, provider, api_key, parent)
    finally:
        with suppress(BrokenPipeError, OSError):
            parent.send("stop")
        proc.join(10)
        if proc.is_alive():
            proc.kill()


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PEER_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        mem = f", {pages / 2**30:.0f} GiB"
    except (ValueError, OSError):
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}){mem}"


def best_of(fn: Callable[[], float], rounds: int) -> float:
    """The best (lowest) of ``rounds`` timings, each after a collection."""
    times = []
    for _ in range(rounds):
        gc.collect()
        times.append(fn())
    return min(times)


def alternate(fns: list[Callable[[], float]], rounds: int) -> list[list[float]]:
    """Timings of several contenders in alternating rounds (noise hits all alike)."""
    for fn in fns:
        fn()  # warm-up
    out = []
    for _ in range(rounds):
        row = []
        for fn in fns:
            gc.collect()
            row.append(fn())
        out.append(row)
    return out


def median_ratio(rows: list[list[float]], a: int, b: int) -> float:
    """Median over rounds of time[b] / time[a]: how many times faster a is than b."""
    return statistics.median(r[b] / r[a] for r in rows)


def run_python(code: str, *, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    """Run ``code`` in a fresh interpreter (the same venv); return its stdout."""
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"subprocess failed:\n{proc.stderr[-2000:]}")
    return proc.stdout


def now() -> float:
    return time.perf_counter()


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
