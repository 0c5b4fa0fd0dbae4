"""Kimi.stream_chat vs llama-index-llms-openai-like's OpenAILike.stream_chat on the same stream.

Both LLMs read the same local emulator stream (a repeating script of N content deltas,
written in one buffer, so the network costs almost nothing and each client's per-chunk
work dominates), in the same process, sync (``stream_chat``) and async
(``astream_chat``). Rounds alternate between the two so that a burst of load elsewhere
on the machine hits both; the figures are the best round of each (as ``timeit``
reports) and the median of the per-round ratios. Chunks per second = content deltas
delivered per second of wall time. Both go through LlamaIndex's callback decorator, so
both pay for its instrumentation events (about a third of Kimi's time per chunk).

    python benchmarks/llama_index_stream.py [--chunks 2000] [--rounds 9]

Needs the bench dependency group (llama-index-llms-openai-like): ``make bench``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
from typing import Any

from llama_index.core.base.llms.types import ChatMessage

from kimi_core.emulator import KimiEmulator
from llama_index_kimi import Kimi

MODEL = "kimi-k2.5"
MESSAGES = [ChatMessage(role="user", content="Count for me.")]


def _openai_like(emu: KimiEmulator) -> Any:
    try:
        from llama_index.llms.openai_like import OpenAILike
    except ImportError:
        sys.exit("llama-index-llms-openai-like is missing: run `make bench` (bench group)")
    # OpenAILike must be told that the model chats, and its default temperature (0.1) is
    # refused by kimi-k2.5 while thinking: 1.0 is the only value it takes.
    return OpenAILike(
        model=MODEL,
        api_base=emu.base_url,
        api_key=emu.api_key,
        is_chat_model=True,
        is_function_calling_model=True,
        temperature=1.0,
        max_retries=0,
    )


def _kimi(emu: KimiEmulator) -> Kimi:
    return Kimi(model=MODEL, provider=emu.provider, api_base=emu.base_url, api_key=emu.api_key)


def _sync_seconds(llm: Any, expected: int) -> float:
    gc.collect()
    start = time.perf_counter()
    deltas = 0
    for response in llm.stream_chat(MESSAGES):
        deltas += bool(response.delta)
    seconds = time.perf_counter() - start
    _check(llm, deltas, expected)
    return seconds


async def _async_seconds(llm: Any, expected: int) -> float:
    gc.collect()
    start = time.perf_counter()
    deltas = 0
    async for response in await llm.astream_chat(MESSAGES):
        deltas += bool(response.delta)
    seconds = time.perf_counter() - start
    _check(llm, deltas, expected)
    return seconds


def _check(llm: Any, deltas: int, expected: int) -> None:
    if deltas != expected:
        sys.exit(f"{type(llm).__name__} delivered {deltas} content deltas, expected {expected}")


def _sync_rounds(llms: list[Any], rounds: int, chunks: int) -> list[list[float]]:
    for llm in llms:  # warm-up: connection pools, imports, caches
        _sync_seconds(llm, chunks)
    return [[_sync_seconds(llm, chunks) for llm in llms] for _ in range(rounds)]


def _async_rounds(llms: list[Any], rounds: int, chunks: int) -> list[list[float]]:
    # All rounds in one event loop, as a server would run them: this measures the
    # per-chunk work, not the set-up of a connection pool for a new loop.
    async def main() -> list[list[float]]:
        for llm in llms:
            await _async_seconds(llm, chunks)
        return [[await _async_seconds(llm, chunks) for llm in llms] for _ in range(rounds)]

    return asyncio.run(main())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--chunks", type=int, default=2000, help="content deltas per stream")
    parser.add_argument("--rounds", type=int, default=9, help="timed runs per client")
    args = parser.parse_args(argv)

    with KimiEmulator(dialect="moonshot") as emu:
        emu.script(chunks=args.chunks, times=None)
        llms = [_kimi(emu), _openai_like(emu)]
        print(
            f"a stream of {args.chunks} content deltas from the local emulator "
            f"({emu.dialect} dialect, {MODEL}); {args.rounds} alternating rounds"
        )
        print(f"{'':7}{'Kimi':>14}{'OpenAILike':>14}{'ratio (best)':>14}{'(median)':>10}")
        ratios = []
        for label, run in (("sync", _sync_rounds), ("async", _async_rounds)):
            rounds = run(llms, args.rounds, args.chunks)
            kimi = args.chunks / min(r[0] for r in rounds)
            other = args.chunks / min(r[1] for r in rounds)
            median = statistics.median(r[1] / r[0] for r in rounds)
            ratios.append(kimi / other)
            print(
                f"{label:7}{kimi:>10,.0f} c/s{other:>10,.0f} c/s"
                f"{kimi / other:>13.1f}x{median:>9.1f}x"
            )
        print(f"Kimi / OpenAILike chunk rate: {min(ratios):.1f}x (target: at least 4x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
