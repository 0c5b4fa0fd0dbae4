"""One agent turn over loopback against the floor: ChatKimi / Kimi vs a bare httpx POST
of the same body, and vs langchain-openai ChatOpenAI / llama-index OpenAILike.

An agent turn is one whole (not streamed) chat request with 20 bound tools and a history
of 0 or 100 turns (a question and an answer each; every third turn an assistant tool call
with its reasoning, then the tool's result), answered by a tool call with reasoning:

- ``ChatKimi``: ``model.bind_tools(tools).invoke(history)`` (``ainvoke`` async);
- ``ChatOpenAI``: the same, langchain-openai (openai SDK);
- ``Kimi``: ``llm.chat_with_tools(tools, chat_history=history)`` (``achat_with_tools``);
- ``OpenAILike``: the same, llama-index-llms-openai-like (openai SDK);
- the floor: ``json.dumps`` of the body ChatKimi sends for that turn, ``httpx.Client.post``
  (``AsyncClient`` async) and ``json.loads`` of the answer; nothing else.

The server is a minimal HTTP/1.1 keep-alive server in its own process that reads each
request and answers every one with the same canned completion (a tool call with
reasoning), so what differs between the contenders is the client's own work. Rounds
alternate between the contenders (noise hits all alike); a round times ``--calls`` turns
(the peers a quarter as many: they are several times slower). Figures: the median
round's time per turn; ratio = the median over rounds of a round's time / the floor's
in the same round.

    python benchmarks/agent_turn.py [--rounds 7] [--calls 100] [--no-async]

Needs the bench dependency group (langchain-openai, llama-index-llms-openai-like).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from multiprocessing.connection import Connection
from typing import Any

import httpx
from _harness import alternate
from _histories import langchain_history, llama_index_history
from request_build import (
    _function_tools,
    _pydantic_tools,
)

MODEL = "kimi-k2.7-code"
KEY = "bench-key"
TURNS = (0, 100)
#: The goals of issue 24: ours / the floor, by history length.
GOALS = {0: 1.25, 100: 1.5}

ANSWER = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1767225600,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "",
                    "reasoning_content": "The user wants the weather; look it up.",
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "tool_01:0",
                            "type": "function",
                            "function": {
                                "name": "tool_01",
                                "arguments": '{"city": "Paris", "days": 2}',
                            },
                        }
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 1200, "completion_tokens": 30, "total_tokens": 1230},
    }
).encode()


# --------------------------------------------------------------------------- the server


def _serve(conn: Connection) -> None:
    """A keep-alive HTTP/1.1 server answering every request with :data:`ANSWER`."""
    response = (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        b"x-request-id: bench\r\ncontent-length: " + str(len(ANSWER)).encode() + b"\r\n\r\n"
    ) + ANSWER

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                if length:
                    await reader.readexactly(length)
                writer.write(response)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        conn.send(f"http://127.0.0.1:{port}/v1")
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        os._exit(0)  # no shutdown of the open connections to wait for

    asyncio.run(main())


@contextmanager
def canned_server() -> Iterator[str]:
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve, args=(child,), daemon=True)
    proc.start()
    try:
        if not parent.poll(60):
            raise RuntimeError("the server process did not start")
        yield str(parent.recv())
    finally:
        with suppress(BrokenPipeError, OSError):
            parent.send("stop")
        proc.join(10)
        if proc.is_alive():
            proc.kill()


# --------------------------------------------------------------------------- contenders

Turn = tuple[str, Callable[[], Any], Callable[[], Awaitable[Any]]]


def _floor(base_url: str, body: dict[str, Any]) -> Turn:
    """A bare httpx POST of ``body``: json.dumps, post, json.loads."""
    url = base_url + "/chat/completions"
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    http = httpx.Client(timeout=60)
    ahttp = httpx.AsyncClient(timeout=60)

    def run() -> Any:
        r = http.post(url, content=json.dumps(body), headers=headers)
        return json.loads(r.content)

    async def arun() -> Any:
        r = await ahttp.post(url, content=json.dumps(body), headers=headers)
        return json.loads(r.content)

    return "httpx floor", run, arun


def _langchain(base_url: str, turns: int) -> tuple[list[Turn], dict[str, Any]]:
    from langchain_openai import ChatOpenAI

    from langchain_kimi import ChatKimi

    history = langchain_history(turns)
    tools = _pydantic_tools()
    kimi = ChatKimi(model=MODEL, provider="moonshot", base_url=base_url, api_key=KEY)
    peer = ChatOpenAI(model=MODEL, base_url=base_url, api_key=KEY, max_retries=0)
    ours = kimi.bind_tools(tools)
    theirs = peer.bind_tools(tools)
    # The floor's body: what ChatKimi sends for this turn.
    body = kimi._prepare(history, None, ours.kwargs).body  # type: ignore[attr-defined]

    def check(message: Any) -> Any:
        assert message.tool_calls[0]["args"] == {"city": "Paris", "days": 2}, message
        return message

    async def ainvoke(runnable: Any) -> Any:
        return check(await runnable.ainvoke(history))

    pair: list[Turn] = [
        ("ChatKimi", lambda: check(ours.invoke(history)), lambda: ainvoke(ours)),
        ("ChatOpenAI", lambda: check(theirs.invoke(history)), lambda: ainvoke(theirs)),
    ]
    return pair, body


def _llama_index(base_url: str, turns: int) -> tuple[list[Turn], dict[str, Any]]:
    from llama_index.llms.openai_like import OpenAILike

    from llama_index_kimi import Kimi

    history, question = llama_index_history(turns)
    tools = _function_tools()
    kimi = Kimi(model=MODEL, provider="moonshot", api_base=base_url, api_key=KEY)
    peer = OpenAILike(
        model=MODEL,
        api_base=base_url,
        api_key=KEY,
        is_chat_model=True,
        is_function_calling_model=True,
        max_retries=0,
    )
    kwargs = kimi._prepare_chat_with_tools(tools, user_msg=question, chat_history=list(history))
    body = kimi._prepare(kwargs.pop("messages"), False, kwargs, kimi._get_client()).body

    def check(llm: Any, response: Any) -> Any:
        calls = llm.get_tool_calls_from_response(response)
        assert calls[0].tool_kwargs == {"city": "Paris", "days": 2}, response
        return response

    # A fresh list for every call: llama-index-llms-openai appends the user message to the
    # chat_history it is given (the list, not a copy), so a shared list would grow by one
    # message a call for whoever runs next.
    def run(llm: Any) -> Callable[[], Any]:
        return lambda: check(
            llm, llm.chat_with_tools(tools, user_msg=question, chat_history=list(history))
        )

    def arun(llm: Any) -> Callable[[], Awaitable[Any]]:
        async def go() -> Any:
            return check(
                llm,
                await llm.achat_with_tools(tools, user_msg=question, chat_history=list(history)),
            )

        return go

    pair: list[Turn] = [("Kimi", run(kimi), arun(kimi)), ("OpenAILike", run(peer), arun(peer))]
    return pair, body


# --------------------------------------------------------------------------- timing


def _sync_round(fn: Callable[[], Any], calls: int) -> Callable[[], float]:
    def timed() -> float:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        return (time.perf_counter() - start) / calls

    return timed


async def _async_rounds(
    fns: list[Callable[[], Awaitable[Any]]], calls: list[int], rounds: int
) -> list[list[float]]:
    async def timed(fn: Callable[[], Awaitable[Any]], count: int) -> float:
        start = time.perf_counter()
        for _ in range(count):
            await fn()
        return (time.perf_counter() - start) / count

    for fn in fns:
        await fn()  # warm-up
    rows = []
    for _ in range(rounds):
        row = []
        for fn, count in zip(fns, calls, strict=True):
            gc.collect()
            row.append(await timed(fn, count))
        rows.append(row)
    return rows


def measure(rounds: int = 7, calls: int = 100, modes: tuple[str, ...] = ("sync", "async")) -> Any:
    """For each adapter, history length and mode: the floor's, ours and the peer's time per
    turn (ms) and ours / floor, peer / floor. The async forms all run in one event loop
    (langchain-openai keeps one async HTTP client per base URL, bound to the first loop)."""
    out: dict[str, Any] = {"rounds": rounds, "calls": calls, "rows": []}
    with canned_server() as base_url:
        blocks = []
        for adapter, make in (("LangChain", _langchain), ("LlamaIndex", _llama_index)):
            for turns in TURNS:
                pair, body = make(base_url, turns)
                contenders = [_floor(base_url, body), *pair]
                # the peers are several times slower: fewer calls
                counts = [calls, calls, max(1, calls // 4)]
                blocks.append((adapter, turns, contenders, counts))

        def row(adapter: str, turns: int, mode: str, names: list[str], rows: Any) -> None:
            ours_vs_floor = statistics.median(r[1] / r[0] for r in rows)
            out["rows"].append(
                {
                    "adapter": adapter,
                    "turns": turns,
                    "mode": mode,
                    "names": names,
                    "ms": [statistics.median(r[i] for r in rows) * 1e3 for i in range(3)],
                    "ours_vs_floor": ours_vs_floor,
                    "peer_vs_floor": statistics.median(r[2] / r[0] for r in rows),
                    "goal": GOALS[turns],
                    "met": ours_vs_floor <= GOALS[turns],
                }
            )

        if "sync" in modes:
            for adapter, turns, contenders, counts in blocks:
                fns = [_sync_round(c[1], n) for c, n in zip(contenders, counts, strict=True)]
                row(adapter, turns, "sync", [c[0] for c in contenders], alternate(fns, rounds))
        if "async" in modes:

            async def all_async() -> list[list[list[float]]]:
                return [
                    await _async_rounds([c[2] for c in contenders], counts, rounds)
                    for _, _, contenders, counts in blocks
                ]

            for (adapter, turns, contenders, _), times in zip(
                blocks, asyncio.run(all_async()), strict=True
            ):
                row(adapter, turns, "async", [c[0] for c in contenders], times)
    out["met"] = all(r["met"] for r in out["rows"])
    return out


def print_result(result: dict[str, Any]) -> None:
    print(
        "one agent turn (20 bound tools) over loopback; median of "
        f"{result['rounds']} alternating rounds, ms per turn; x = time / the httpx floor's"
    )
    for r in result["rows"]:
        (_, a, b), (f, ma, mb) = r["names"], r["ms"]
        print(
            f"  {a:>8} {r['turns']:>3} turns {r['mode']:5}  floor {f:6.3f}  "
            f"{a} {ma:6.3f} ({r['ours_vs_floor']:.2f}x, goal {r['goal']:g}x "
            f"{'met' if r['met'] else 'NOT met'})  {b} {mb:7.3f} ({r['peer_vs_floor']:.2f}x)"
        )
    print(f"goals: {'met' if result['met'] else 'NOT met'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=100, help="turns per round")
    parser.add_argument("--no-async", action="store_true", help="sync calls only")
    args = parser.parse_args()
    modes = ("sync",) if args.no_async else ("sync", "async")
    print_result(measure(args.rounds, args.calls, modes))
