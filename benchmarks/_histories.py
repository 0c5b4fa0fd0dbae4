"""The agent histories the request-build and agent-turn benchmarks send: ``turns`` turns
(a question and an answer each; every third turn an assistant tool call with its reasoning,
then the tool's result) after a system message."""

from __future__ import annotations

from typing import Any


def _turns(turns: int) -> list[tuple[str, str, bool]]:
    return [
        (f"Question {t}: " + "what about it? " * 4, f"Answer {t}. " * 10, t % 3 == 0)
        for t in range(turns)
    ]


def langchain_history(turns: int) -> list[Any]:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

    out: list[Any] = [SystemMessage("You are a helpful assistant.")]
    for t, (question, answer, calls) in enumerate(_turns(turns)):
        out.append(HumanMessage(question))
        if calls:
            call = {"name": "tool_01", "args": {"city": "Paris"}, "id": f"tool_01:{t}"}
            reasoning = {"reasoning_content": "Look it up."}
            out.append(AIMessage("", tool_calls=[call], additional_kwargs=reasoning))
            out.append(ToolMessage("Sunny, 21 C.", tool_call_id=f"tool_01:{t}"))
        out.append(AIMessage(answer))
    out.append(HumanMessage("And the weather in Paris for two days?"))
    return out


def llama_index_history(turns: int) -> tuple[list[Any], str]:
    """The history before the last user message, and that message (chat_with_tools
    takes it apart)."""
    from llama_index.core.base.llms.types import ThinkingBlock, ToolCallBlock
    from llama_index.core.llms import ChatMessage

    out: list[Any] = [ChatMessage(role="system", content="You are a helpful assistant.")]
    for t, (question, answer, calls) in enumerate(_turns(turns)):
        out.append(ChatMessage(role="user", content=question))
        if calls:
            blocks = [
                ThinkingBlock(content="Look it up."),
                ToolCallBlock(
                    tool_call_id=f"tool_01:{t}", tool_name="tool_01", tool_kwargs={"city": "Paris"}
                ),
            ]
            out.append(ChatMessage(role="assistant", blocks=blocks))
            out.append(
                ChatMessage(
                    role="tool",
                    content="Sunny, 21 C.",
                    additional_kwargs={"tool_call_id": f"tool_01:{t}"},
                )
            )
        out.append(ChatMessage(role="assistant", content=answer))
    return out, "And the weather in Paris for two days?"
