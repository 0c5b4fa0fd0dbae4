"""ChatKimi.stream vs langchain-openai's ChatOpenAI.stream on the same local stream.

Both models read the same emulator stream (a repeating script of N content deltas,
written in one buffer, so the network costs almost nothing and the per-chunk work of
each client dominates), in the same process, sync and async. Rounds alternate between
the two clients so that a burst of load elsewhere on the machine hits both; the figures
are the best round of each (as ``timeit`` reports) and the median of the per-round
ratios. Chunks per second = content deltas delivered per second of wall time.

    python benchmarks/langchain_stream.py [--chunks 2000] [--rounds 9]

Needs the bench dependency group (langchain-openai): ``make bench`` installs it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
from typing import Any

from kimi_core.emulator import KimiEmulator
from langchain_kimi import ChatKimi

MODEL = "kimi-k2.5"
PROMPT = "Count for me."


def _openai(emu: KimiEmulator) -> Any:
    try:
        from langchain_openai import ChatOpenAI
    except ImportError:
        sys.exit("langchain-openai is missing: run `make bench` (the bench dependency group)")
    return ChatOpenAI(
        model=MODEL, base_url=emu.base_url, api_key=emu.api_key, stream_usage=True, max_retries=0
    )


def _kimi(emu: KimiEmulator) -> ChatKimi:
    return ChatKimi(model=MODEL, provider=emu.provider, base_url=emu.base_url, api_key=emu.api_key)


def _sync_seconds(model: Any) -> float:
    gc.collect()
    start = time.perf_counter()
    for _ in model.stream(PROMPT):
        pass
    return time.perf_counter() - start


async def _async_seconds(model: Any) -> float:
    gc.collect()
    start = time.perf_counter()
    async for _ in model.astream(PROMPT):
        pass
    return time.perf_counter() - start


def _sync_rounds(models: list[Any], rounds: int) -> list[list[float]]:
    for model in models:  # warm-up: connection pools, imports, caches
        _sync_seconds(model)
    return [[_sync_seconds(m) for m in models] for _ in range(rounds)]


def _async_rounds(models: list[Any], rounds: int) -> list[list[float]]:
    # All rounds in one event loop, as a server would run them: this measures the
    # per-chunk work, not the set-up of a connection pool for a new loop.
    async def main() -> list[list[float]]:
        for model in models:
            await _async_seconds(model)
        return [[await _async_seconds(m) for m in models] for _ in range(rounds)]

    return asyncio.run(main())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--chunks", type=int, default=2000, help="content deltas per stream")
    parser.add_argument("--rounds", type=int, default=9, help="timed runs per client")
    args = parser.parse_args(argv)

    with KimiEmulator(dialect="moonshot") as emu:
        emu.script(chunks=args.chunks, times=None)
        models = [_kimi(emu), _openai(emu)]
        print(
            f"a stream of {args.chunks} content deltas from the local emulator "
            f"({emu.dialect} dialect, {MODEL}); {args.rounds} alternating rounds"
        )
        print(f"{'':7}{'ChatKimi':>14}{'ChatOpenAI':>14}{'ratio (best)':>14}{'(median)':>10}")
        ratios = []
        for label, run in (("sync", _sync_rounds), ("async", _async_rounds)):
            rounds = run(models, args.rounds)
            kimi = args.chunks / min(r[0] for r in rounds)
            openai = args.chunks / min(r[1] for r in rounds)
            median = statistics.median(r[1] / r[0] for r in rounds)
            ratios.append(kimi / openai)
            print(
                f"{label:7}{kimi:>10,.0f} c/s{openai:>10,.0f} c/s"
                f"{kimi / openai:>13.1f}x{median:>9.1f}x"
            )
        print(f"ChatKimi / ChatOpenAI chunk rate: {min(ratios):.1f}x (target: at least 4x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
