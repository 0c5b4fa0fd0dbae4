"""Import time of each package against its peers, each in a fresh interpreter, best of N.

python benchmarks/imports.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from _harness import run_python

CASES = {
    "httpx, pydantic (the floor)": "import httpx, pydantic",
    "kimi_core": "import kimi_core",
    "langchain_kimi": "import langchain_kimi",
    "langchain_openai": "import langchain_openai",
    "llama_index_kimi": "import llama_index_kimi",
    "llama_index.llms.openai_like": "import llama_index.llms.openai_like",
}

_PROBE = """
import sys, time, json
t = time.perf_counter()
{stmt}
dt = time.perf_counter() - t
mods = sys.modules
print(json.dumps({{"s": dt, "openai": "openai" in mods, "langchain": any(m.startswith("langchain_core") for m in mods),
  "llama_index": any(m.startswith("llama_index.core") for m in mods)}}))
"""


def measure(rounds: int = 7) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, stmt in CASES.items():
        runs = [json.loads(run_python(_PROBE.format(stmt=stmt))) for _ in range(rounds)]
        best = min(r["s"] for r in runs)
        out[label] = {
            "seconds": best,
            "imports_openai": runs[0]["openai"],
            "imports_langchain": runs[0]["langchain"],
            "imports_llama_index": runs[0]["llama_index"],
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    for label, r in measure(parser.parse_args().rounds).items():
        pulls = [
            k[8:] for k in ("imports_openai", "imports_langchain", "imports_llama_index") if r[k]
        ]
        print(f"{label:32} {r['seconds'] * 1e3:8.1f} ms   pulls in: {', '.join(pulls) or '-'}")


if __name__ == "__main__":
    main()
