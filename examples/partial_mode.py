"""Kimi's partial mode: the model continues a prefix you give.

    python examples/partial_mode.py

End the conversation with an assistant message marked partial; Kimi continues it and
the reply does not repeat the prefix. Good for forcing a format (start a JSON object) or
keeping a character in role-play (``name=`` on the prefix). Only the last message can be
partial, and partial mode cannot be combined with ``response_format={"type":
"json_object"}`` (refused before sending).
"""

from __future__ import annotations

from _backend import open_backend, run
from langchain_core.messages import AIMessage, HumanMessage
from llama_index.core.llms import ChatMessage

from langchain_kimi import ChatKimi
from llama_index_kimi import Kimi

QUESTION = "Describe Paris as a JSON object with the keys 'city' and 'country'."
PREFIX = "{"


def main() -> None:
    with open_backend() as backend:
        model = ChatKimi(model=backend.model, **backend.langchain_kwargs())
        prefix = AIMessage(PREFIX, additional_kwargs={"partial": True})
        reply = model.invoke([HumanMessage(QUESTION), prefix])
        print("LangChain: ", PREFIX + reply.text)

        llm = Kimi(model=backend.model, **backend.llama_index_kwargs())
        response = llm.chat(
            [
                ChatMessage(role="user", content=QUESTION),
                ChatMessage(role="assistant", content=PREFIX, additional_kwargs={"partial": True}),
            ]
        )
        print("LlamaIndex:", PREFIX + (response.message.content or ""))


if __name__ == "__main__":
    run(main)
