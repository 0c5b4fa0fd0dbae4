"""Streaming in both frameworks: the reasoning arrives first, then the answer.

    python examples/streaming.py

LangChain: ``ChatKimi.stream`` yields chunks whose ``additional_kwargs["reasoning_content"]``
carries the reasoning and whose text is the answer; the last chunk has the token usage.
LlamaIndex: ``Kimi.astream_chat`` (native async) yields responses with the reasoning in
``additional_kwargs["thinking_delta"]`` and the answer in ``delta``.

Runs on the built-in emulator without a key, on your provider with one (see _backend.py).
"""

from __future__ import annotations

from _backend import open_backend, run
from langchain_core.messages import AIMessageChunk
from llama_index.core.llms import ChatMessage

from langchain_kimi import ChatKimi
from llama_index_kimi import Kimi

QUESTION = "Why is the sky blue? Answer in one sentence."


def langchain_stream(model: ChatKimi) -> None:
    print("LangChain:")
    full: AIMessageChunk | None = None
    thinking = answering = False
    for chunk in model.stream(QUESTION):
        full = chunk if full is None else full + chunk
        reasoning = chunk.additional_kwargs.get("reasoning_content", "")
        if reasoning:
            if not thinking:
                print("--- reasoning:", flush=True)
                thinking = True
            print(reasoning, end="", flush=True)
        if chunk.text:
            if not answering:
                print("\n--- answer:" if thinking else "--- answer:", flush=True)
                answering = True
            print(chunk.text, end="", flush=True)
    print()
    if full is not None:
        print("usage:", full.usage_metadata)


async def llama_index_stream(llm: Kimi) -> None:
    print("LlamaIndex:")
    thinking = answering = False
    last = None
    async for response in await llm.astream_chat([ChatMessage(role="user", content=QUESTION)]):
        reasoning = response.additional_kwargs.get("thinking_delta")
        if reasoning:
            if not thinking:
                print("--- reasoning:", flush=True)
                thinking = True
            print(reasoning, end="", flush=True)
        if response.delta:
            if not answering:
                print("\n--- answer:" if thinking else "--- answer:", flush=True)
                answering = True
            print(response.delta, end="", flush=True)
        last = response
    print()
    if last is not None:  # the last response carries the token counts
        tokens = {k: v for k, v in last.additional_kwargs.items() if k.endswith("_tokens")}
        print("usage:", tokens)


async def main() -> None:
    with open_backend() as backend:
        # With MOONSHOT_API_KEY set this is just ChatKimi(model="kimi-k2.6").
        langchain_stream(ChatKimi(model=backend.model, **backend.langchain_kwargs()))
        await llama_index_stream(Kimi(model=backend.model, **backend.llama_index_kwargs()))


if __name__ == "__main__":
    run(main)
