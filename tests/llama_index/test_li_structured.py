"""Structured output end to end: FunctionCallingProgram and JSON mode, on thinking models."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.prompts import PromptTemplate
from llama_index.core.types import PydanticProgramMode
from pydantic import BaseModel, Field

import kimi_core as kc

if TYPE_CHECKING:
    from kimi_emulator import KimiEmulator

    from .conftest import MakeLLM

PROMPT = PromptTemplate("Extract the city and its population from: {text}")
TEXT = "Paris has about 2100000 inhabitants."


class City(BaseModel):
    """A city and its population."""

    name: str = Field(description="The city's name")
    population: int = Field(description="Number of inhabitants")
    country: str | None = None


def test_the_default_on_moonshot_is_json_schema_and_keeps_thinking(
    emu: KimiEmulator, make_llm: MakeLLM
) -> None:
    city = make_llm(emu, model="kimi-k2.6").structured_predict(City, PROMPT, text=TEXT)
    assert city.population == 2100000
    body = emu.last_request.json
    assert body["response_format"]["type"] == "json_schema"
    assert "thinking" not in body and "tools" not in body


def test_function_calling_on_a_switchable_thinking_model(
    emu: KimiEmulator, make_llm: MakeLLM
) -> None:
    """kimi-k2.6 thinks by default; the forced call goes out with thinking disabled."""
    llm = make_llm(emu, model="kimi-k2.6", structured_output_method="function_calling")
    city = llm.structured_predict(City, PROMPT, text=TEXT)
    assert isinstance(city, City)
    assert city.population == 2100000
    body = emu.last_request.json
    assert body["tool_choice"] == "required"
    assert body["thinking"] == {"type": "disabled"}
    assert body["tools"][0]["function"]["name"] == "City"
    assert "response_format" not in body


async def test_function_calling_async_and_stream(emu: KimiEmulator, make_llm: MakeLLM) -> None:
    llm = make_llm(emu, model="kimi-k2.6", structured_output_method="function_calling")
    city = await llm.astructured_predict(City, PROMPT, text=TEXT)
    assert city.population == 2100000
    partials = list(llm.stream_structured_predict(City, PROMPT, text=TEXT))
    assert partials
    assert partials[-1].population == 2100000
    assert emu.last_request.json["stream"] is True
    assert emu.last_request.json["tool_choice"] == "required"
    apartials = [p async for p in await llm.astream_structured_predict(City, PROMPT, text=TEXT)]
    assert apartials[-1].population == 2100000


def test_function_calling_on_an_always_thinking_model(emu: KimiEmulator, make_llm: MakeLLM) -> None:
    """kimi-k2.7-code cannot switch thinking off: tool_choice goes as auto and the call
    is checked; the emulator's model calls the only tool it has."""
    llm = make_llm(emu, model="kimi-k2.7-code", structured_output_method="function_calling")
    city = llm.structured_predict(City, PROMPT, text=TEXT)
    assert city.name
    body = emu.last_request.json
    assert body["tool_choice"] == "auto"
    assert "thinking" not in body
    # a model that answers without the call: a typed error, not a silent wrong result
    emu.script(text="I'd rather not.")
    with pytest.raises(kc.ToolCallMissingError, match="without a tool call"):
        llm.structured_predict(City, PROMPT, text=TEXT)


@pytest.mark.parametrize(
    ("dialect", "model", "method", "format_type"),
    [
        ("moonshot", "kimi-k2.7-code", None, "json_schema"),
        ("moonshot", "kimi-k2.6", "json_schema", "json_schema"),
        ("moonshot", "kimi-k2.6", "json_mode", "json_object"),
        ("evolink", "kimi-k2-thinking", None, "json_object"),
        ("acedata", "kimi-k2.5", "json_mode", "json_object"),
    ],
)
def test_json_modes(
    kimi_emulator_factory: object,
    make_llm: MakeLLM,
    dialect: str,
    model: str,
    method: str | None,
    format_type: str,
) -> None:
    emu = kimi_emulator_factory(dialect=dialect)  # type: ignore[operator]
    llm = make_llm(emu, model=model, structured_output_method=method)
    city = llm.structured_predict(City, PROMPT, text=TEXT)
    assert isinstance(city, City)
    body = emu.last_request.json
    assert body["response_format"]["type"] == format_type
    assert "tools" not in body
    if format_type == "json_object":
        # json_object needs the format in the prompt
        assert '"population"' in body["messages"][0]["content"]
        assert body["messages"][0]["role"] == "system"
    else:
        assert body["response_format"]["json_schema"]["name"] == "City"
    # the thinking is not in the JSON
    partials = list(llm.stream_structured_predict(City, PROMPT, text=TEXT))
    assert isinstance(partials[-1], City)
    assert partials[-1] == city


async def test_json_mode_async(emu: KimiEmulator, make_llm: MakeLLM) -> None:
    llm = make_llm(emu, model="kimi-k2.7-code")
    city = await llm.astructured_predict(City, PROMPT, text=TEXT)
    assert isinstance(city, City)
    partials = [p async for p in await llm.astream_structured_predict(City, PROMPT, text=TEXT)]
    assert partials[-1] == city
    assert emu.last_request.json["response_format"]["type"] == "json_schema"


def test_json_mode_keeps_the_system_prompt(emu: KimiEmulator, make_llm: MakeLLM) -> None:
    llm = make_llm(
        emu, model="kimi-k2.6", structured_output_method="json_mode", system_prompt="Be exact."
    )
    llm.structured_predict(City, PROMPT, text=TEXT)
    messages = emu.last_request.json["messages"]
    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[0]["content"].startswith("Be exact.\n")
    assert "JSON" in messages[0]["content"]


def test_json_answer_that_does_not_validate(emu: KimiEmulator, make_llm: MakeLLM) -> None:
    llm = make_llm(emu, model="kimi-k2.6", structured_output_method="json_mode")
    emu.script(text=json.dumps({"name": "Paris"}))
    with pytest.raises(ValueError, match="not a valid City"):
        llm.structured_predict(City, PROMPT, text=TEXT)


# StructuredLLM.stream_chat calls pydantic's deprecated .json(): LlamaIndex's, not ours.
@pytest.mark.filterwarnings("ignore:The `json` method is deprecated:DeprecationWarning")
@pytest.mark.parametrize("method", ["function_calling", "json_schema"])
def test_as_structured_llm(emu: KimiEmulator, make_llm: MakeLLM, method: str) -> None:
    llm = make_llm(emu, model="kimi-k2.6", structured_output_method=method)
    sllm = llm.as_structured_llm(City)
    resp = sllm.chat([ChatMessage(role="user", content=f"Extract: {TEXT}")])
    assert isinstance(resp.raw, City)
    assert resp.raw.population == 2100000
    assert json.loads(resp.message.content or "")["population"] == 2100000
    streamed = list(sllm.stream_chat([ChatMessage(role="user", content=f"Extract: {TEXT}")]))
    assert isinstance(streamed[-1].raw, City)


def test_text_program_mode_still_works(emu: KimiEmulator, make_llm: MakeLLM) -> None:
    """pydantic_program_mode=LLM: LlamaIndex's own text program, no tools, no response_format."""
    llm = make_llm(emu, model="kimi-k2.6", pydantic_program_mode=PydanticProgramMode.LLM)
    emu.script(text='Here: {"name": "Paris", "population": 2100000}')
    city = llm.structured_predict(City, PROMPT, text=TEXT)
    assert city.name == "Paris"
    body = emu.last_request.json
    assert "tools" not in body
    assert "response_format" not in body
