"""A LangChain tool-calling loop over two tools, with a thinking model.

    python examples/langchain_tool_loop.py

The loop every agent runs: invoke the model with tools bound; run the tools it calls;
send the results back; repeat until it answers. With a thinking model (kimi-k3,
kimi-k2.7-code, kimi-k2.6) Kimi requires each assistant tool-call turn to come back
with its reasoning (``thinking is enabled but reasoning_content is missing in assistant
tool call message at index N`` otherwise). ``ChatKimi`` keeps it in the ``AIMessage``
(``additional_kwargs["reasoning_content"]``) and sends it back: just append the message.
The same works in any LangChain/LangGraph agent built on ``ChatKimi``.
"""

from __future__ import annotations

from _backend import open_backend, run
from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.tools import tool

from langchain_kimi import ChatKimi


@tool
def get_weather(city: str) -> str:
    """Get the current weather in a city: the sky and the temperature in Celsius."""
    return {"paris": "18 C and cloudy", "tokyo": "24 C and sunny"}.get(city.lower(), "20 C")


@tool
def celsius_to_fahrenheit(celsius: float) -> str:
    """Convert a temperature from degrees Celsius to degrees Fahrenheit."""
    return f"{celsius * 9 / 5 + 32:g} F"


TOOLS = {t.name: t for t in (get_weather, celsius_to_fahrenheit)}


def main() -> None:
    with open_backend() as backend:
        model = ChatKimi(model=backend.model, **backend.langchain_kwargs())
        agent = model.bind_tools(list(TOOLS.values()))
        messages: list[BaseMessage] = [
            HumanMessage(
                "What is the weather in Paris and in Tokyo? Give the temperatures in fahrenheit."
            )
        ]
        for _turn in range(6):
            ai = agent.invoke(messages)
            messages.append(ai)  # its reasoning goes back with it
            if not ai.tool_calls:
                break
            print(
                f"reasoning ({len(ai.additional_kwargs.get('reasoning_content', ''))} characters), then:"
            )
            for call in ai.tool_calls:
                result = TOOLS[call["name"]].invoke(call)  # a ToolMessage with the call's id
                print(f"  {call['name']}({call['args']}) -> {result.content}")
                messages.append(result)
        else:
            print("no answer after 6 turns")
            return
        print("answer:", ai.text)


if __name__ == "__main__":
    run(main)
