"""Kimi's built-in ``$web_search``: the model searches the web on Kimi's side.

    python examples/web_search.py

The protocol has an "echo turn": the model calls ``$web_search``; you send the call's
arguments back unchanged in a tool message; Kimi then searches and answers (it may ask
again: loop while it calls). ``ChatKimi.bind_web_search()`` declares the builtin
(``{"type": "builtin_function", "function": {"name": "$web_search"}}``) and turns thinking
off for these calls on models with a switch, as Kimi documents the search;
``web_search_echo(ai)`` builds the echo. In an agent, put ``KimiWebSearch()`` among the
tools instead (or ``WEB_SEARCH_TOOL`` in ``bind_tools`` next to your own tools): the
agent's tool node runs the echo. Searches are billed by Moonshot (the echo's
``usage.total_tokens``). The emulator plays the protocol without any web access.
"""

from __future__ import annotations

from _backend import open_backend, run
from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.tools import tool

from langchain_kimi import ChatKimi, KimiWebSearch, web_search_echo


@tool
def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"18 C and cloudy in {city}"


def echo_loop(model: ChatKimi) -> None:
    """The builtin alone, and the echo loop written out."""
    searcher = model.bind_web_search()  # or model.bind_tools([WEB_SEARCH_TOOL, my_tool])
    messages: list[BaseMessage] = [HumanMessage("What is the latest released version of Python?")]
    ai = searcher.invoke(messages)
    rounds = 0
    while ai.tool_calls and rounds < 5:  # usually one round
        rounds += 1
        echo = web_search_echo(ai)  # ToolMessage(name="$web_search", content=<the arguments>)
        print(f"round {rounds}: {ai.tool_calls[0]['name']} called; echoing {echo[0].content}")
        messages += [ai, *echo]
        ai = searcher.invoke(messages)
    print("answer:", ai.text)


def agent_loop(model: ChatKimi) -> None:
    """``KimiWebSearch`` among other tools: running it is the echo, like any tool."""
    tools = {t.name: t for t in (KimiWebSearch(), get_weather)}
    agent = model.bind_tools(list(tools.values()))
    messages: list[BaseMessage] = [HumanMessage("Any news about the Louvre in Paris today?")]
    for _turn in range(6):
        ai = agent.invoke(messages)
        messages.append(ai)
        if not ai.tool_calls:
            break
        for call in ai.tool_calls:
            print(f"agent: {call['name']} called")
            messages.append(tools[call["name"]].invoke(call))
    print("agent answer:", messages[-1].text)


def main() -> None:
    with open_backend() as backend:
        model = ChatKimi(model=backend.model, **backend.langchain_kwargs())
        echo_loop(model)
        agent_loop(model)


if __name__ == "__main__":
    run(main)
