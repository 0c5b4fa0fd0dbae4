"""Soak: 10,000 streamed requests through the emulator with 10 % injected faults
(429 with Retry-After, 500, 502 HTML, 503), 50 at a time on one event loop.

Every request must succeed with exactly the scripted text (no token lost or
duplicated), and the retries are counted: requests the emulator received minus the
requests made, against the faults it injected.

    python benchmarks/soak.py [--requests 10000] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from _harness import EmulatorConfig, emulator_process

import kimi_core as kc

TEXT = " ".join(f"w{i}" for i in range(40))  # 40 words -> many small deltas
MODEL = "kimi-k2.7-code"


def measure(
    requests: int = 10_000, concurrency: int = 50, fault_rate: float = 0.10
) -> dict[str, Any]:
    each = fault_rate / 4
    config = EmulatorConfig(
        scripts=[{"text": TEXT, "chunk_size": 3, "times": None}],
        faults=[
            ("429", {"rate": each, "seed": 1, "retry_after": 0.01}),
            ("500", {"rate": each, "seed": 2}),
            ("502_html", {"rate": each, "seed": 3}),
            ("503", {"rate": each, "seed": 4}),
        ],
    )
    with emulator_process(config) as emu:
        # Up to 6 retries: with 10 % faults, P(7 faults in a row) = 1e-7 per request.
        client = kc.AsyncKimiClient(
            provider=emu.provider,
            base_url=emu.base_url,
            api_key=emu.api_key,
            max_retries=6,
            retry_policy=kc.RetryPolicy(base=0.01, max_backoff=0.1),
        )
        outcome = {"ok": 0, "wrong_text": 0, "errors": 0, "first_error": None}

        async def one() -> None:
            parts = []
            try:
                async for event in client.stream(
                    model=MODEL, messages=[{"role": "user", "content": "Say the words."}]
                ):
                    if event["choices"]:
                        parts.append(event["choices"][0]["delta"].get("content") or "")
            except kc.KimiError as exc:
                outcome["errors"] += 1
                outcome["first_error"] = outcome["first_error"] or repr(exc)[:300]
                return
            if "".join(parts) == TEXT:
                outcome["ok"] += 1
            else:
                outcome["wrong_text"] += 1

        async def main() -> float:
            sem = asyncio.Semaphore(concurrency)

            async def bounded() -> None:
                async with sem:
                    await one()

            t = time.perf_counter()
            await asyncio.gather(*(bounded() for _ in range(requests)))
            return time.perf_counter() - t

        wall = asyncio.run(main())
        received = emu.request_count()
    return {
        "requests": requests,
        "concurrency": concurrency,
        "fault_rate": fault_rate,
        "succeeded": outcome["ok"],
        "wrong_text": outcome["wrong_text"],
        "errors": outcome["errors"],
        "first_error": outcome["first_error"],
        "received_by_server": received,
        "retries": received - requests,
        "wall": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    r = measure(args.requests, args.concurrency)
    print(
        f"{r['requests']} requests, {r['fault_rate']:.0%} faults: {r['succeeded']} succeeded with the exact "
        f"text, {r['wrong_text']} wrong, {r['errors']} errors; {r['retries']} retries "
        f"({r['received_by_server']} requests received); {r['wall']:.1f} s"
    )


if __name__ == "__main__":
    main()
