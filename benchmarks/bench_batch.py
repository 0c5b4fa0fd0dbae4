"""Building and parsing a 10,000-line Batch API job: kimi_core vs the openai-SDK way.

The openai SDK has no helper that builds a batch input file or matches result lines to
inputs (``client.batches`` / ``client.files`` only move files), so the peers are what its
users write (the OpenAI cookbook's way):

- build: a dict per request, ``json.dumps`` per line, the lines joined (no checks);
- parse: ``json.loads`` per line into a dict by ``custom_id`` ("plain"), and the same with
  each body validated into the SDK's ``ChatCompletion`` model ("openai types").

kimi_core's figures include what it does more: ``client.prepare`` (the provider's and the
model's checks, as ``invoke`` does), the job's checks (one model, unique ids, size) and the
fixed sampling values left out ("build"; "build, prepared" times ``BatchJob.add`` and
``content`` alone, on requests prepared beforehand); parsing normalises each answer as a live
one is, maps error lines to typed errors and gives every input one result, in input order.
The output file is a real one: 10,000 lines answered by the emulator. Time is the median of
``--rounds`` rounds; peak memory is ``tracemalloc``'s peak during one round.

    python benchmarks/bench_batch.py [--lines 10000] [--rounds 5]

Not part of ``make bench`` (run it on its own). Needs the openai SDK (the test group).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import kimi_core as kc
from kimi_core._batch import read_results
from kimi_emulator import KimiEmulator

MODEL = "kimi-k2.6"


def texts(n: int) -> list[str]:
    return [
        f"Label the sentiment of review {i}: 'the lamp {i} flickers at night'" for i in range(n)
    ]


def measure(fn: Callable[[], Any], rounds: int) -> tuple[float, float]:
    """(median seconds, peak MiB of one traced round)."""
    times = []
    for _ in range(rounds):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(times), peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from openai.types.chat import ChatCompletion

    items = texts(args.lines)
    with KimiEmulator(batch_time_scale=0.001) as emu:
        client = kc.KimiClient(provider=emu.provider, base_url=emu.base_url, api_key=emu.api_key)

        def ours_build() -> bytes:
            job = client.batches.job(job_id="bench")
            for text in items:
                job.add(client.prepare(model=MODEL, messages=[{"role": "user", "content": text}]))
            return job.content()

        prepared = [
            client.prepare(model=MODEL, messages=[{"role": "user", "content": t}]) for t in items
        ]

        def ours_add() -> bytes:
            job = client.batches.job(job_id="bench")
            for request in prepared:
                job.add(request)
            return job.content()

        def plain_build() -> bytes:
            lines = [
                json.dumps(
                    {
                        "custom_id": f"request-{i}",
                        "method": "POST",
                        "url": "/v1/chat/completions",
                        "body": {"model": MODEL, "messages": [{"role": "user", "content": t}]},
                    }
                )
                for i, t in enumerate(items)
            ]
            return ("\n".join(lines) + "\n").encode()

        # A real output file: the job run by the emulator.
        job = client.batches.job(job_id="bench")
        for request in prepared:
            job.add(request)
        started = time.perf_counter()
        batch = client.batches.wait(client.batches.submit(job).id, poll_interval=0.05, timeout=600)
        ran = time.perf_counter() - started
        assert batch.output_file_id is not None
        output = list(client.batches.iter_lines(batch.output_file_id))
        assert len(output) == args.lines
        ids = job.custom_ids
        size = sum(len(line) + 1 for line in output)

        def ours_parse() -> list[kc.BatchResult]:
            results = read_results(batch, ids, output, [], provider="moonshot")
            assert len(results) == args.lines
            return results

        def plain_parse() -> list[Any]:
            by_id = {}
            for raw in output:
                line = json.loads(raw)
                by_id[line["custom_id"]] = line["response"]["body"]
            return [by_id[i] for i in ids]

        def typed_parse() -> list[Any]:
            by_id = {}
            for raw in output:
                line = json.loads(raw)
                by_id[line["custom_id"]] = ChatCompletion.model_validate(line["response"]["body"])
            return [by_id[i] for i in ids]

        rows = [
            ("build: kimi_core (prepare + job)", ours_build),
            ("build: kimi_core job, prepared requests", ours_add),
            ("build: plain json.dumps", plain_build),
            ("parse: kimi_core read_results", ours_parse),
            ("parse: plain json.loads", plain_parse),
            ("parse: json.loads + openai ChatCompletion", typed_parse),
        ]
        print(
            f"{args.lines} lines; input file {len(ours_build()):,} bytes, output file "
            f"{size:,} bytes; the emulator ran the job in {ran:.1f} s"
        )
        print(f"{'what':<44}{'median s':>10}{'per line us':>13}{'peak MiB':>10}")
        for name, fn in rows:
            seconds, peak = measure(fn, args.rounds)
            print(f"{name:<44}{seconds:>10.3f}{seconds / args.lines * 1e6:>13.1f}{peak:>10.1f}")


if __name__ == "__main__":
    main()
