"""Kimi.stream_chat vs llama-index's OpenAILike.stream_chat on the same local stream.

Both LLMs read the same emulator stream (a repeating script of N content deltas,
written in large buffers by an emulator in its own process, so each client's per-chunk
work dominates), sync (``stream_chat``) and async (``astream_chat``), in alternating
rounds. Both go through LlamaIndex's callback decorator, so both pay for its
instrumentation events (about a third of Kimi's time per chunk).

    python benchmarks/llama_index_stream.py [--chunks 2000] [--rounds 9]

Needs the bench dependency group (llama-index-llms-openai-like): ``make bench``.
"""

from __future__ import annotations

from typing import Any

from _harness import Contender, RemoteEmulator, race, race_cli

MODEL = "kimi-k2.6"


def _contenders(emu: RemoteEmulator) -> list[Contender]:
    from llama_index.core.base.llms.types import ChatMessage
    from llama_index.llms.openai_like import OpenAILike

    from llama_index_kimi import Kimi

    messages = [ChatMessage(role="user", content="Count for me.")]
    kimi = Kimi(model=MODEL, provider=emu.provider, api_base=emu.base_url, api_key=emu.api_key)
    # OpenAILike must be told that the model chats, and its default temperature (0.1) is
    # refused by kimi-k2.6 while thinking: 1.0 is the only value it takes.
    other = OpenAILike(
        model=MODEL,
        api_base=emu.base_url,
        api_key=emu.api_key,
        is_chat_model=True,
        is_function_calling_model=True,
        temperature=1.0,
        max_retries=0,
    )

    def sync(llm: Any) -> Any:
        return lambda: sum(1 for r in llm.stream_chat(messages) if r.delta)

    def asynchronous(llm: Any) -> Any:
        async def run() -> int:
            return sum([1 async for r in await llm.astream_chat(messages) if r.delta])

        return run

    return [(n, sync(m), asynchronous(m)) for n, m in (("Kimi", kimi), ("OpenAILike", other))]


def measure(chunks: int = 2000, rounds: int = 9) -> dict[str, Any]:
    return race(_contenders, chunks, rounds)


if __name__ == "__main__":
    race_cli(_contenders, __doc__, goal=6)
