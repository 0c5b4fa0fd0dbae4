"""Many concurrent async streams on one event loop: ours against the peers.

Each contender runs in a fresh interpreter (so peak memory is its own) against one
emulator process; N streams are started at once with ``asyncio.gather``. Reported:
completed, errors, wall time, aggregate chunk rate, peak RSS.

    python benchmarks/concurrency.py [--streams 200 1000] [--chunks 200]

Each stream is 200 content deltas (a typical answer of a few hundred tokens); shorter
streams weigh fixed per-request costs, the emulator's included, more. The model is
kimi-k2.7-code (served by Moonshot in 2026); it takes only temperature 1.0, so OpenAILike
(0.1 by default) is given 1.0, and ChatOpenAI sends none.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from _harness import EmulatorConfig, emulator_process, run_python

MODEL = "kimi-k2.7-code"

CONTENDERS: dict[str, str] = {
    "kimi_core AsyncKimiClient": """
import kimi_core as kc
client = kc.AsyncKimiClient(provider=PROVIDER, base_url=BASE, api_key=KEY, max_retries=0)
async def one():
    n = 0
    async for e in client.stream(model=MODEL, messages=[{"role": "user", "content": "Count."}]):
        if e["choices"] and e["choices"][0]["delta"].get("content"):
            n += 1
    return n
""",
    "langchain_kimi ChatKimi": """
from langchain_kimi import ChatKimi
model = ChatKimi(model=MODEL, provider=PROVIDER, base_url=BASE, api_key=KEY, max_retries=0)
async def one():
    n = 0
    async for c in model.astream("Count."):
        if c.content:
            n += 1
    return n
""",
    "langchain_openai ChatOpenAI": """
from langchain_openai import ChatOpenAI
model = ChatOpenAI(model=MODEL, base_url=BASE, api_key=KEY, max_retries=0, stream_usage=True)
async def one():
    n = 0
    async for c in model.astream("Count."):
        if c.content:
            n += 1
    return n
""",
    "llama_index_kimi Kimi": """
from llama_index.core.llms import ChatMessage
from llama_index_kimi import Kimi
llm = Kimi(model=MODEL, provider=PROVIDER, api_base=BASE, api_key=KEY, max_retries=0)
async def one():
    n = 0
    async for r in await llm.astream_chat([ChatMessage(role="user", content="Count.")]):
        if r.delta:
            n += 1
    return n
""",
    "llama_index OpenAILike": """
from llama_index.core.llms import ChatMessage
from llama_index.llms.openai_like import OpenAILike
# Its default temperature (0.1) is refused by kimi-k2.6 while it thinks: 1.0 is the only
# value the model takes (as in llama_index_stream.py).
llm = OpenAILike(model=MODEL, api_base=BASE, api_key=KEY, max_retries=0, is_chat_model=True,
                 is_function_calling_model=True, context_window=262144, temperature=1.0)
async def one():
    n = 0
    async for r in await llm.astream_chat([ChatMessage(role="user", content="Count.")]):
        if r.delta:
            n += 1
    return n
""",
}

_RUNNER = """
import asyncio, json, time
PROVIDER, BASE, KEY, MODEL, STREAMS, CHUNKS = {provider!r}, {base!r}, {key!r}, {model!r}, {streams}, {chunks}
{setup}
async def main():
    await one()  # warm-up: pools, imports
    t = time.perf_counter()
    results = await asyncio.gather(*(one() for _ in range(STREAMS)), return_exceptions=True)
    wall = time.perf_counter() - t
    ok = [r for r in results if r == CHUNKS]
    errors = [r for r in results if isinstance(r, BaseException)]
    short = [r for r in results if not isinstance(r, BaseException) and r != CHUNKS]
    return {{"completed": len(ok), "errors": len(errors), "short": len(short), "wall": wall,
            "chunks_per_s": sum(ok) / wall,
            "first_error": repr(errors[0])[:300] if errors else None,
            "peak_rss_mib": peak_rss_mib()}}
def peak_rss_mib():
    # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec (the parent's peak).
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")
print(json.dumps(asyncio.run(main())))
"""


def measure(streams: list[int], chunks: int = 200, rounds: int = 3) -> dict[str, Any]:
    """For each count of streams, ``rounds`` alternating rounds over the contenders (so
    load elsewhere on the machine hits all of them); each contender's best round (by
    wall time) is kept, with the highest peak memory seen."""
    out: dict[str, Any] = {"chunks": chunks, "model": MODEL, "rounds": rounds, "runs": {}}
    config = EmulatorConfig(scripts=[{"chunks": chunks, "times": None}])
    with emulator_process(config) as emu:
        for n in streams:
            for _ in range(rounds):
                for name, setup in CONTENDERS.items():
                    code = _RUNNER.format(
                        provider=emu.provider,
                        base=emu.base_url,
                        key=emu.api_key,
                        model=MODEL,
                        streams=n,
                        chunks=chunks,
                        setup=setup,
                    )
                    try:
                        result = json.loads(run_python(code, timeout=900).strip().splitlines()[-1])
                    except RuntimeError as exc:
                        result = {"failed": str(exc)[-500:]}
                    key = f"{n}|{name}"
                    best = out["runs"].get(key)
                    if (
                        best is None
                        or "failed" in result
                        or ("failed" not in best and result["wall"] < best["wall"])
                    ):
                        if best is not None and "failed" not in best and "failed" not in result:
                            result["peak_rss_mib"] = max(
                                result["peak_rss_mib"], best["peak_rss_mib"]
                            )
                        out["runs"][key] = result
                    elif "failed" not in result and "failed" not in best:
                        best["peak_rss_mib"] = max(result["peak_rss_mib"], best["peak_rss_mib"])
                    print(f"  {n:>5} streams  {name:30} {_fmt(result)}", file=sys.stderr)
    return out


def _fmt(r: dict[str, Any]) -> str:
    if "failed" in r:
        return "FAILED " + r["failed"].splitlines()[-1]
    return (
        f"completed {r['completed']:>5}  errors {r['errors']:>4}  wall {r['wall']:6.2f} s  "
        f"{r['chunks_per_s']:>9,.0f} chunks/s  peak {r['peak_rss_mib']:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--streams", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--chunks", type=int, default=200, help="content deltas per stream")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (best kept)")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    measure(args.streams, args.chunks, args.rounds)


if __name__ == "__main__":
    main()
