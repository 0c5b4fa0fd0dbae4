"""A LlamaIndex ``FunctionAgent`` with two tools, on a thinking model.

    python examples/llama_index_agent.py

``FunctionAgent`` streams each turn through ``Kimi.astream_chat_with_tools`` and sends
the whole assistant message back on the next turn; ``Kimi`` keeps the reasoning in a
``ThinkingBlock`` and sends it as ``reasoning_content``, which Kimi requires of every
tool-call turn while the model thinks. Plain Python functions are tools (their
docstrings and annotations are the schema).
"""

from __future__ import annotations

from _backend import open_backend, run
from llama_index.core.agent.workflow import AgentStream, FunctionAgent, ToolCallResult

from llama_index_kimi import Kimi


def get_weather(city: str) -> str:
    """Get the current weather in a city: the sky and the temperature in Celsius."""
    return {"paris": "18 C and cloudy", "tokyo": "24 C and sunny"}.get(city.lower(), "20 C")


def celsius_to_fahrenheit(celsius: float) -> str:
    """Convert a temperature from degrees Celsius to degrees Fahrenheit."""
    return f"{celsius * 9 / 5 + 32:g} F"


async def main() -> None:
    with open_backend() as backend:
        # With MOONSHOT_API_KEY set this is just Kimi(model="kimi-k2.6").
        llm = Kimi(model=backend.model, **backend.llama_index_kwargs())
        agent = FunctionAgent(tools=[get_weather, celsius_to_fahrenheit], llm=llm)
        handler = agent.run(user_msg="What is the weather in Tokyo, in fahrenheit?")
        thinking = 0
        async for event in handler.stream_events():
            if isinstance(event, AgentStream) and event.thinking_delta:
                thinking += len(event.thinking_delta)  # print it, if you like
            elif isinstance(event, ToolCallResult):
                print(f"tool: {event.tool_name}({event.tool_kwargs}) -> {event.tool_output}")
        output = await handler
        print(f"reasoning streamed: {thinking} characters")
        print("answer:", output.response.content)


if __name__ == "__main__":
    run(main)
