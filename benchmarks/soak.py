"""Soak: 10,000 streamed requests through the emulator with 10 % injected faults
(429 with Retry-After, 500, 502 HTML, 503), 50 at a time on one event loop.

Every request must succeed with exactly the scripted text (no token lost or
duplicated), and the retries are counted: requests the emulator received minus the
requests made, against the faults it injected, as they arrived on the wire (an httpx
response hook on the client counts every answer that was not a 200, by status). Each
fault must have been retried exactly once: retries == faults, and nothing else failed.

    python benchmarks/soak.py [--requests 10000] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from typing import Any

import httpx
from _harness import EmulatorConfig, emulator_process

import kimi_core as kc

TEXT = " ".join(f"w{i}" for i in range(40))  # 40 words -> many small deltas
MODEL = "kimi-k2.7-code"
#: The statuses of the injected faults (429, 500, 502 HTML, 503).
FAULT_STATUSES = frozenset({429, 500, 502, 503})


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
    statuses: Counter[int] = Counter()  # every non-200 answer the client received

    async def count(response: httpx.Response) -> None:
        if response.status_code != 200:
            statuses[response.status_code] += 1

    with emulator_process(config) as emu:
        outcome = {"ok": 0, "wrong_text": 0, "errors": 0, "first_error": None}

        async def one(client: kc.AsyncKimiClient) -> None:
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
            async with httpx.AsyncClient(event_hooks={"response": [count]}) as http:
                # Up to 6 retries: with 10 % faults, P(7 faults in a row) = 1e-7 per request.
                client = kc.AsyncKimiClient(
                    provider=emu.provider,
                    base_url=emu.base_url,
                    api_key=emu.api_key,
                    max_retries=6,
                    retry_policy=kc.RetryPolicy(base=0.01, max_backoff=0.1),
                    http_client=http,
                )

                async def bounded() -> None:
                    async with sem:
                        await one(client)

                t = time.perf_counter()
                await asyncio.gather(*(bounded() for _ in range(requests)))
                return time.perf_counter() - t

        wall = asyncio.run(main())
        received = emu.request_count()
    faults = sum(statuses[s] for s in FAULT_STATUSES)
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
        "faults": faults,
        "faults_by_status": {s: statuses[s] for s in sorted(FAULT_STATUSES)},
        "other_statuses": {s: n for s, n in statuses.items() if s not in FAULT_STATUSES},
        "retries_match_faults": received - requests == faults,
        "wall": wall,
    }


def passed(r: dict[str, Any]) -> bool:
    """Every request succeeded with the exact text, and each injected fault was retried
    once: no retry without a fault, no fault without its retry, no other failure."""
    return (
        r["succeeded"] == r["requests"]
        and r["wrong_text"] == 0
        and r["errors"] == 0
        and not r["other_statuses"]
        and r["retries_match_faults"]
        and r["faults"] > 0
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    r = measure(args.requests, args.concurrency)
    by_status = ", ".join(f"{n} x {s}" for s, n in r["faults_by_status"].items())
    print(
        f"{r['requests']} requests, {r['fault_rate']:.0%} faults: {r['succeeded']} succeeded with the exact "
        f"text, {r['wrong_text']} wrong, {r['errors']} errors; {r['retries']} retries "
        f"({r['received_by_server']} requests received) for {r['faults']} injected faults "
        f"({by_status}); {r['wall']:.1f} s: {'passed' if passed(r) else 'FAILED'}"
    )
    if r["other_statuses"]:
        print(f"unexpected statuses: {r['other_statuses']}")
    raise SystemExit(0 if passed(r) else 1)


if __name__ == "__main__":
    main()
