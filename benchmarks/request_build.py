"""The client-side cost of building one request: an agent turn with 20 bound tools and a
100-turn history, ChatKimi vs ChatOpenAI and Kimi vs OpenAILike.

What is timed is everything a client does from the framework's messages and bound tools
to the request body it hands to its HTTP layer, and nothing else (no network, no
framework callbacks, which cost the same for both):

- ``ChatKimi``: ``_prepare`` (messages to wire dicts, the one merge of parameters, the
  provider's and model's checks, tool schemas normalised once per bound set);
- ``ChatOpenAI``: ``_get_request_payload`` (what it builds before the openai SDK);
- ``Kimi``: ``_prepare_chat_with_tools`` (tools and history of the turn) and ``_prepare``;
- ``OpenAILike``: ``_prepare_chat_with_tools``, ``to_openai_message_dicts`` and
  ``_get_model_kwargs``, what its ``_chat`` builds before the openai SDK.

The same 20 tools (a Pydantic model each for LangChain, a ``FunctionTool`` each for
LlamaIndex, with the same arguments) and the same conversation: 100 turns of a question
and an answer, every third with a tool call, its result and reasoning. Rounds alternate
between the two contenders of a pair; a round times ``--calls`` requests. Figures: the
median round's cost per request; ratio = median over rounds of the peer's cost / ours.

    python benchmarks/request_build.py [--rounds 9] [--calls 200]

Needs the bench dependency group (langchain-openai, llama-index-llms-openai-like).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

from _histories import langchain_history, llama_index_history
from pydantic import BaseModel, Field

TOOLS = 20
TURNS = 100
MODEL = "kimi-k2.7-code"  # served by Moonshot in 2026 (nothing is sent here)
GOAL_MS = 1.0


class _Args(BaseModel):
    city: str = Field(description="City name")
    unit: str | None = Field(default=None, description="celsius or fahrenheit")
    days: int = Field(default=1, ge=1, le=14, description="How many days")
    tags: list[str] = Field(default_factory=list, description="Labels to filter by")


def _pydantic_tools() -> list[type[BaseModel]]:
    return [
        type(f"tool_{i:02d}", (_Args,), {"__doc__": f"Tool number {i}: look something up."})
        for i in range(TOOLS)
    ]


def _lookup(
    city: str, unit: str | None = None, days: int = 1, tags: list[str] | None = None
) -> str:
    """Look something up."""
    return city


def _function_tools() -> list[Any]:
    from llama_index.core.tools import FunctionTool

    return [
        FunctionTool.from_defaults(
            fn=_lookup, name=f"tool_{i:02d}", description=f"Tool number {i}: look something up."
        )
        for i in range(TOOLS)
    ]


def _langchain() -> list[tuple[str, Callable[[], Any]]]:
    from langchain_openai import ChatOpenAI

    from langchain_kimi import ChatKimi

    history = langchain_history(TURNS)
    tools = _pydantic_tools()
    kimi = ChatKimi(model=MODEL, api_key="bench-key")
    openai = ChatOpenAI(model=MODEL, api_key="bench-key", base_url="http://127.0.0.1:9/v1")
    kimi_kwargs = kimi.bind_tools(tools).kwargs  # type: ignore[attr-defined]
    openai_kwargs = openai.bind_tools(tools).kwargs  # type: ignore[attr-defined]
    return [
        ("ChatKimi", lambda: kimi._prepare(history, None, kimi_kwargs)),
        ("ChatOpenAI", lambda: openai._get_request_payload(history, **openai_kwargs)),
    ]


def _llama_index() -> list[tuple[str, Callable[[], Any]]]:
    from llama_index.llms.openai.utils import to_openai_message_dicts
    from llama_index.llms.openai_like import OpenAILike

    from llama_index_kimi import Kimi

    history, _ = llama_index_history(TURNS)
    tools = _function_tools()
    kimi = Kimi(model=MODEL, api_key="bench-key")
    peer = OpenAILike(
        model=MODEL,
        api_key="bench-key",
        api_base="http://127.0.0.1:9/v1",
        is_chat_model=True,
        is_function_calling_model=True,
    )

    def ours() -> Any:
        kwargs = kimi._prepare_chat_with_tools(tools, chat_history=list(history))
        return kimi._prepare(kwargs.pop("messages"), False, kwargs)

    def theirs() -> Any:
        kwargs = peer._prepare_chat_with_tools(tools, chat_history=list(history))
        messages = to_openai_message_dicts(kwargs.pop("messages"), model=peer.model)
        return messages, peer._get_model_kwargs(**kwargs)

    return [("Kimi", ours), ("OpenAILike", theirs)]


def _race(
    pair: list[tuple[str, Callable[[], Any]]], rounds: int, calls: list[int]
) -> dict[str, Any]:
    """``rounds`` alternating rounds; contender ``i`` builds ``calls[i]`` requests a round
    (a slow peer fewer, so a round of each takes a similar time)."""
    for _, fn in pair:
        fn()  # warm-up (and the first request of a bound set, which normalises it)
    rows: list[list[float]] = []
    for _ in range(rounds):
        row = []
        for (_, fn), count in zip(pair, calls, strict=True):
            gc.collect()
            start = time.perf_counter()
            for _ in range(count):
                fn()
            row.append((time.perf_counter() - start) / count)
        rows.append(row)
    names = [name for name, _ in pair]
    return {
        "names": names,
        "ms": [statistics.median(r[i] for r in rows) * 1e3 for i in range(len(pair))],
        "best_ms": [min(r[i] for r in rows) * 1e3 for i in range(len(pair))],
        "ratio": statistics.median(r[1] / r[0] for r in rows),
    }


def measure(rounds: int = 9, calls: int = 200) -> dict[str, Any]:
    """Both pairs; ``met`` when ours costs under 1 ms per request (median round)."""
    langchain = _race(_langchain(), rounds, [calls, calls])
    llama_index = _race(_llama_index(), rounds, [calls, max(1, calls // 10)])  # a slow peer
    met = langchain["ms"][0] < GOAL_MS and llama_index["ms"][0] < GOAL_MS
    return {
        "tools": TOOLS,
        "turns": TURNS,
        "rounds": rounds,
        "pairs": [langchain, llama_index],
        "met": met,
    }


def print_result(result: dict[str, Any]) -> None:
    print(
        f"building one request: {result['tools']} bound tools, a {result['turns']}-turn history; "
        f"{result['rounds']} alternating rounds (median round per request; best in brackets)"
    )
    for pair in result["pairs"]:
        (a, b), (ma, mb), (ba, bb) = pair["names"], pair["ms"], pair["best_ms"]
        print(
            f"  {a:>10} {ma:7.3f} ms ({ba:.3f})   {b:>10} {mb:7.3f} ms ({bb:.3f})   "
            f"{b} / {a}: {pair['ratio']:.1f}x"
        )
    print(f"ours under {GOAL_MS:g} ms per request: {'met' if result['met'] else 'NOT met'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=200, help="requests per round (LangChain)")
    args = parser.parse_args()
    print_result(measure(args.rounds, args.calls))
