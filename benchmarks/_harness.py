"""Shared pieces of the benchmarks: an emulator in its own process, machine facts,
timing helpers and the Markdown table writer.

The emulator runs in a separate process (``multiprocessing`` spawn) so the client being
measured has the interpreter to itself; it is configured (scripts, faults) before it
starts serving, and reports how many requests it received when asked.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
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
    from kimi_emulator import KimiEmulator

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


def median_rates(rows: list[list[float]], work: int) -> list[float]:
    """Each contender's rate: ``work`` (chunks) per second of its median round. The one
    statistic the benchmarks publish: a ratio is the quotient of two of these rates, so the
    figures printed side by side divide into the ratio printed beside them."""
    return [work / statistics.median(r[i] for r in rows) for i in range(len(rows[0]))]


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


Contender = tuple[str, Callable[[], int], Callable[[], Awaitable[int]]]
"""A name, a sync run and an async run; each streams once and returns the number of
content deltas it delivered."""


def race(
    make: Callable[[RemoteEmulator], list[Contender]], chunks: int, rounds: int
) -> dict[str, Any]:
    """Stream the same ``chunks``-delta emulator stream with each contender, sync and
    async, in alternating rounds; chunks per second (:func:`median_rates`) and the ratio
    of the first contender's rate to the second's."""
    config = EmulatorConfig(scripts=[{"chunks": chunks, "times": None}])
    with emulator_process(config) as emu:
        contenders = make(emu)

        def check(name: str, n: int) -> None:
            if n != chunks:
                raise RuntimeError(f"{name} delivered {n} content deltas, expected {chunks}")

        def sync_timer(name: str, fn: Callable[[], int]) -> Callable[[], float]:
            def run() -> float:
                start = now()
                n = fn()
                seconds = now() - start
                check(name, n)
                return seconds

            return run

        sync_rows = alternate([sync_timer(n, s) for n, s, _ in contenders], rounds)

        async def async_rows() -> list[list[float]]:
            # All rounds in one event loop, as a server runs them: the per-chunk work,
            # not the set-up of a pool for a new loop.
            async def once(name: str, fn: Callable[[], Awaitable[int]]) -> float:
                gc.collect()
                start = now()
                n = await fn()
                seconds = now() - start
                check(name, n)
                return seconds

            for name, _, afn in contenders:
                await once(name, afn)
            return [[await once(n, a) for n, _, a in contenders] for _ in range(rounds)]

        arows = asyncio.run(async_rows())
    out: dict[str, Any] = {"names": [c[0] for c in contenders], "chunks": chunks, "rounds": rounds}
    for label, rows in (("sync", sync_rows), ("async", arows)):
        rates = median_rates(rows, chunks)
        out[label] = {"chunks_per_s": rates, "ratio": rates[0] / rates[1]}
    return out


def print_race(result: dict[str, Any], goal: float) -> None:
    a, b = result["names"][:2]
    print(
        f"a stream of {result['chunks']} content deltas from the emulator (its own process); "
        f"{result['rounds']} alternating rounds"
    )
    print(f"{'':7}{a:>18}{b:>18}{'ratio':>16}  (medians over the rounds)")
    for label in ("sync", "async"):
        r = result[label]
        print(
            f"{label:7}{r['chunks_per_s'][0]:>12,.0f} c/s{r['chunks_per_s'][1]:>12,.0f} c/s"
            f"{r['ratio']:>15.1f}x"
        )
    worst = min(result["sync"]["ratio"], result["async"]["ratio"])
    print(f"{a} / {b} chunk rate, worse of sync and async: {worst:.1f}x (goal: at least {goal:g}x)")


def race_cli(
    make: Callable[[RemoteEmulator], list[Contender]], doc: str | None, goal: float
) -> None:
    """The command line of a stream benchmark: ``--chunks``, ``--rounds``; prints the race
    and whether ours reached ``goal`` times the peer's chunk rate."""
    import argparse

    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--chunks", type=int, default=2000, help="content deltas per stream")
    parser.add_argument("--rounds", type=int, default=9, help="timed runs per client")
    args = parser.parse_args()
    print_race(race(make, args.chunks, args.rounds), goal)
