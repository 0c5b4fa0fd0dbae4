"""ChatKimi.stream vs langchain-openai's ChatOpenAI.stream on the same local stream.

Both models read the same emulator stream (a repeating script of N content deltas,
written in large buffers by an emulator in its own process, so each client's per-chunk
work dominates), sync (``stream``) and async (``astream``), in alternating rounds so
that load elsewhere on the machine hits both. Chunks per second = content deltas
delivered per second of wall time in each client's median round; the ratio is the
quotient of the two rates.

    python benchmarks/langchain_stream.py [--chunks 2000] [--rounds 9]

Needs the bench dependency group (langchain-openai): ``make bench`` installs it.
"""

from __future__ import annotations

from typing import Any

from _harness import Contender, RemoteEmulator, race, race_cli

MODEL = "kimi-k2.6"
PROMPT = "Count for me."


def _contenders(emu: RemoteEmulator) -> list[Contender]:
    from langchain_openai import ChatOpenAI

    from langchain_kimi import ChatKimi

    kimi = ChatKimi(model=MODEL, provider=emu.provider, base_url=emu.base_url, api_key=emu.api_key)
    # ChatOpenAI sends no temperature unless asked, so kimi-k2.6 accepts its requests.
    openai = ChatOpenAI(
        model=MODEL, base_url=emu.base_url, api_key=emu.api_key, stream_usage=True, max_retries=0
    )
    return [(name, _sync(m), _async(m)) for name, m in (("ChatKimi", kimi), ("ChatOpenAI", openai))]


def _sync(model: Any) -> Any:
    return lambda: sum(1 for c in model.stream(PROMPT) if c.content)


def _async(model: Any) -> Any:
    async def run() -> int:
        return sum([1 async for c in model.astream(PROMPT) if c.content])

    return run


def measure(chunks: int = 2000, rounds: int = 9) -> dict[str, Any]:
    return race(_contenders, chunks, rounds)


if __name__ == "__main__":
    race_cli(_contenders, __doc__, goal=4)
