"""Structured output into a Pydantic model, in both frameworks.

    python examples/structured_output.py

LangChain: ``ChatKimi.with_structured_output(City)``. On Moonshot the default method is
``json_schema`` (Kimi's ``response_format``, the schema normalised to what Kimi accepts),
which keeps a thinking model thinking; on AceData, EvoLink and GPTProto it is one forced
tool call (on a thinking model, thinking is switched off for that call where the model
allows it; kimi-k3 takes the forced call as it is; kimi-k2.7-code gets
``tool_choice="auto"`` and the call is checked).
LlamaIndex: ``Kimi.structured_predict(City, prompt, ...)`` chooses the same way.
"""

from __future__ import annotations

from _backend import open_backend, run
from llama_index.core.prompts import PromptTemplate
from pydantic import BaseModel, Field

from langchain_kimi import ChatKimi
from llama_index_kimi import Kimi


class City(BaseModel):
    """A city, the country it is in and its population."""

    country: str = Field(description="The country the city is in")
    name: str = Field(description="The city's name")
    population_millions: float = Field(description="Inhabitants, in millions")


TEXT = "Paris, the capital city of France, has about 2.1 million inhabitants."


def main() -> None:
    with open_backend() as backend:
        model = ChatKimi(model=backend.model, **backend.langchain_kwargs())
        city = model.with_structured_output(City).invoke(TEXT)
        print("LangChain: ", repr(city))

        # include_raw=True: the AIMessage too, and a parsing error instead of an exception.
        out = model.with_structured_output(City, include_raw=True).invoke(TEXT)
        print("  raw usage:", out["raw"].usage_metadata, "parsing_error:", out["parsing_error"])

        llm = Kimi(model=backend.model, **backend.llama_index_kwargs())
        prompt = PromptTemplate("Extract the city from: {text}")
        print("LlamaIndex:", repr(llm.structured_predict(City, prompt, text=TEXT)))


if __name__ == "__main__":
    run(main)
