"""The transport alone (kimi_core's client: HTTP, SSE decoding, JSON, stream assembly)
against the floor, plain httpx + ``json.loads``, on the same emulator stream; and the
time to first token each adds.

    python benchmarks/transport.py [--chunks 5000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
from typing import Any

import httpx
from _harness import EmulatorConfig, alternate, emulator_process, median_rates, now

import kimi_core as kc

MODEL = "kimi-k2.7-code"
BODY = {"model": MODEL, "messages": [{"role": "user", "content": "Count."}], "stream": True}


def plain_sync(http: httpx.Client, url: str, key: str) -> tuple[int, float]:
    """The floor: httpx's line iterator and one json.loads per data line."""
    start = now()
    first = 0.0
    n = 0
    with http.stream(
        "POST", url, json=BODY, headers={"Authorization": f"Bearer {key}"}
    ) as response:
        for line in response.iter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                event = json.loads(line[6:])
                if event["choices"] and event["choices"][0]["delta"].get("content"):
                    n += 1
                    if not first:
                        first = now() - start
    return n, first


async def plain_async(http: httpx.AsyncClient, url: str, key: str) -> tuple[int, float]:
    start = now()
    first = 0.0
    n = 0
    async with http.stream(
        "POST", url, json=BODY, headers={"Authorization": f"Bearer {key}"}
    ) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                event = json.loads(line[6:])
                if event["choices"] and event["choices"][0]["delta"].get("content"):
                    n += 1
                    if not first:
                        first = now() - start
    return n, first


def core_sync(client: kc.KimiClient) -> tuple[int, float]:
    start = now()
    first = 0.0
    n = 0
    for event in client.stream(model=MODEL, messages=BODY["messages"]):
        if event["choices"] and event["choices"][0]["delta"].get("content"):
            n += 1
            if not first:
                first = now() - start
    return n, first


async def core_async(client: kc.AsyncKimiClient) -> tuple[int, float]:
    start = now()
    first = 0.0
    n = 0
    async for event in client.stream(model=MODEL, messages=BODY["messages"]):
        if event["choices"] and event["choices"][0]["delta"].get("content"):
            n += 1
            if not first:
                first = now() - start
    return n, first


def versus_floor(rows: list[list[float]], chunks: int) -> dict[str, float]:
    """The floor's and kimi_core's rates (median rounds) and the time kimi_core takes
    relative to the floor, the quotient of the two."""
    floor, core = median_rates(rows, chunks)
    return {"floor_cps": floor, "core_cps": core, "slowdown": floor / core}


def measure(chunks: int = 5000, rounds: int = 7, ttft_samples: int = 40) -> dict[str, Any]:
    out: dict[str, Any] = {"chunks": chunks, "rounds": rounds}
    config = EmulatorConfig(scripts=[{"chunks": chunks, "times": None}])
    with emulator_process(config) as emu:
        url = emu.base_url + "/chat/completions"
        http = httpx.Client(timeout=60)
        core = kc.KimiClient(provider=emu.provider, base_url=emu.base_url, api_key=emu.api_key)

        def timed(fn: Any) -> Any:
            def run() -> float:
                t = now()
                n, _ = fn()
                if n != chunks:
                    raise RuntimeError(f"expected {chunks} chunks, got {n}")
                return now() - t

            return run

        rows = alternate(
            [timed(lambda: plain_sync(http, url, emu.api_key)), timed(lambda: core_sync(core))],
            rounds,
        )
        out["sync"] = versus_floor(rows, chunks)

        async def arun() -> list[list[float]]:
            ahttp = httpx.AsyncClient(timeout=60)
            acore = kc.AsyncKimiClient(
                provider=emu.provider, base_url=emu.base_url, api_key=emu.api_key
            )

            async def one(coro_fn: Any) -> float:
                t = now()
                n, _ = await coro_fn()
                if n != chunks:
                    raise RuntimeError(f"expected {chunks} chunks, got {n}")
                return now() - t

            fns = [lambda: plain_async(ahttp, url, emu.api_key), lambda: core_async(acore)]
            for fn in fns:
                await one(fn)
            result = [[await one(fn) for fn in fns] for _ in range(rounds)]
            await ahttp.aclose()
            return result

        arows = asyncio.run(arun())
        out["async"] = versus_floor(arows, chunks)
        http.close()

    # Time to first token: a short stream, many samples, medians.
    config = EmulatorConfig(scripts=[{"chunks": 20, "times": None}])
    with emulator_process(config) as emu:
        url = emu.base_url + "/chat/completions"
        http = httpx.Client(timeout=60)
        core = kc.KimiClient(provider=emu.provider, base_url=emu.base_url, api_key=emu.api_key)
        plain_sync(http, url, emu.api_key)
        core_sync(core)
        firsts: dict[str, list[float]] = {"floor": [], "core": []}
        for _ in range(ttft_samples):
            firsts["floor"].append(plain_sync(http, url, emu.api_key)[1])
            firsts["core"].append(core_sync(core)[1])
        floor = statistics.median(firsts["floor"])
        mine = statistics.median(firsts["core"])
        out["ttft"] = {
            "floor_ms": floor * 1e3,
            "core_ms": mine * 1e3,
            "overhead_ms": (mine - floor) * 1e3,
        }
        http.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--chunks", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    r = measure(args.chunks, args.rounds)
    for mode in ("sync", "async"):
        m = r[mode]
        print(
            f"{mode:5}  httpx+json.loads {m['floor_cps']:>9,.0f} chunks/s   "
            f"kimi_core {m['core_cps']:>9,.0f} chunks/s   {m['slowdown']:.2f}x the floor's time"
        )
    t = r["ttft"]
    print(
        f"time to first token: httpx {t['floor_ms']:.2f} ms, kimi_core {t['core_ms']:.2f} ms "
        f"(+{t['overhead_ms']:.2f} ms)"
    )


if __name__ == "__main__":
    main()
