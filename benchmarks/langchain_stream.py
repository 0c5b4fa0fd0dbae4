"""ChatKimi.stream vs langchain-openai's ChatOpenAI.stream on the same local stream.

Both models read the same emulator stream (a repeating script of N content deltas,
written in one buffer, so the network costs almost nothing and the per-chunk work of
each client dominates). The emulator runs in its own process, so the two clients have
the interpreter to themselves. Rounds alternate between the two clients so that a burst
of load elsewhere on the machine hits both; the figures are the best round of each (as
``timeit`` reports) and the median of the per-round ratios. Chunks per second = content
deltas delivered per second of wall time. Sync (``stream``) and async (``astream``, all
rounds in one event loop).

    python benchmarks/langchain_stream.py [--chunks 2000] [--rounds 9]

Needs the bench dependency group (langchain-openai): ``make bench`` installs it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import Any

from _harness import EmulatorConfig, RemoteEmulator, alternate, emulator_process, median_ratio, now

from langchain_kimi import ChatKimi

MODEL = "kimi-k2.5"
PROMPT = "Count for me."


def _openai(emu: RemoteEmulator) -> Any:
    try:
        from langchain_openai import ChatOpenAI
    except ImportError:
        sys.exit("langchain-openai is missing: run `make bench` (the bench dependency group)")
    return ChatOpenAI(
        model=MODEL, base_url=emu.base_url, api_key=emu.api_key, stream_usage=True, max_retries=0
    )


def _kimi(emu: RemoteEmulator) -> ChatKimi:
    return ChatKimi(model=MODEL, provider=emu.provider, base_url=emu.base_url, api_key=emu.api_key)


def _sync_timer(model: Any) -> Callable[[], float]:
    def run() -> float:
        start = now()
        for _ in model.stream(PROMPT):
            pass
        return now() - start

    return run


def _async_rounds(models: list[Any], rounds: int) -> list[list[float]]:
    # All rounds in one event loop, as a server would run them: this measures the
    # per-chunk work, not the set-up of a connection pool for a new loop.
    async def once(model: Any) -> float:
        start = now()
        async for _ in model.astream(PROMPT):
            pass
        return now() - start

    async def main() -> list[list[float]]:
        for model in models:
            await once(model)  # warm-up
        return [[await once(m) for m in models] for _ in range(rounds)]

    return asyncio.run(main())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--chunks", type=int, default=2000, help="content deltas per stream")
    parser.add_argument("--rounds", type=int, default=9, help="timed runs per client")
    args = parser.parse_args(argv)

    config = EmulatorConfig(scripts=[{"chunks": args.chunks, "times": None}])
    with emulator_process(config) as emu:
        models = [_kimi(emu), _openai(emu)]
        print(
            f"a stream of {args.chunks} content deltas from the local emulator "
            f"(moonshot dialect, {MODEL}, own process); {args.rounds} alternating rounds"
        )
        print(f"{'':7}{'ChatKimi':>14}{'ChatOpenAI':>14}{'ratio (best)':>14}{'(median)':>10}")
        ratios = []
        for label in ("sync", "async"):
            if label == "sync":
                rows = alternate([_sync_timer(m) for m in models], args.rounds)
            else:
                rows = _async_rounds(models, args.rounds)
            kimi = args.chunks / min(r[0] for r in rows)
            openai = args.chunks / min(r[1] for r in rows)
            ratios.append(median_ratio(rows, 0, 1))
            print(
                f"{label:7}{kimi:>10,.0f} c/s{openai:>10,.0f} c/s"
                f"{kimi / openai:>13.1f}x{median_ratio(rows, 0, 1):>9.1f}x"
            )
        print(
            f"ChatKimi / ChatOpenAI chunk rate (median ratio, worse of sync and async): "
            f"{min(ratios):.1f}x (target: at least 4x)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
