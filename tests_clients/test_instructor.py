"""instructor against the emulator, through the openai SDK (``instructor.from_openai``).

Measured: its default mode, ``Mode.TOOLS``, forces the response model's function with a
named ``tool_choice`` (``{"type": "function", "function": {"name": "Person"}}``), streamed
(``create_partial``) or not: kimi-k2.6 refuses it while thinking, and so does kimi-k3. ``Mode.JSON`` (``json_object``), ``Mode.JSON_SCHEMA`` (a non-strict
``json_schema``) and ``Mode.MD_JSON`` (a prompt only) follow the rules. instructor has no
tool loop of its own: its tool call is the structured answer.
"""

from __future__ import annotations

from typing import Any

import instructor
import openai
import pytest
from instructor.core import InstructorRetryException
from kimi_cells import (
    DUMMY_KEY,
    MODELS,
    NAMED_WHILE_THINKING,
    assert_nothing_fixed_sent,
    sent,
)
from pydantic import BaseModel

from kimi_emulator import KimiEmulator

PERSON = [{"role": "user", "content": "Alice is 30 years old. Extract the person."}]


class Person(BaseModel):
    name: str
    age: int


def client(emu: KimiEmulator, mode: instructor.Mode = instructor.Mode.TOOLS) -> Any:
    sdk = openai.OpenAI(base_url=emu.base_url, api_key=DUMMY_KEY, max_retries=0)
    return instructor.from_openai(sdk, mode=mode)


def refusal(exc: BaseException) -> tuple[int, str]:
    """Status and message of the openai error that instructor wraps (InstructorRetryException
    chains it)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, openai.APIStatusError):
            body: Any = seen.body
            return seen.status_code, body["message"]
        seen = seen.__cause__ or seen.__context__
    raise AssertionError(f"no API error in the chain of {exc!r}")


@pytest.mark.parametrize("model", MODELS)
def test_plain_chat(emu: KimiEmulator, model: str) -> None:
    answer = client(emu).chat.completions.create(
        model=model, response_model=None, messages=[{"role": "user", "content": "Hello"}]
    )
    assert "Hello" in answer.choices[0].message.content
    assert_nothing_fixed_sent(sent(emu))


@pytest.mark.parametrize(
    ("mode", "sent_format"),
    [
        (instructor.Mode.JSON, "json_object"),
        (instructor.Mode.JSON_SCHEMA, "json_schema"),
        (instructor.Mode.MD_JSON, None),
    ],
    ids=["JSON", "JSON_SCHEMA", "MD_JSON"],
)
@pytest.mark.parametrize("model", MODELS)
def test_structured_output_in_the_json_modes(
    emu: KimiEmulator, model: str, mode: instructor.Mode, sent_format: str | None
) -> None:
    person = client(emu, mode).chat.completions.create(
        model=model, response_model=Person, max_retries=0, messages=PERSON
    )
    assert person.model_dump() == {"name": "Alice", "age": 30}
    body = sent(emu)[0]
    assert body.get("response_format", {}).get("type") == sent_format
    assert "tool_choice" not in body
    assert_nothing_fixed_sent(sent(emu))


@pytest.mark.parametrize("model", MODELS)
def test_stream_in_json_mode(emu: KimiEmulator, model: str) -> None:
    partials = list(
        client(emu, instructor.Mode.JSON).chat.completions.create_partial(
            model=model, response_model=Person, max_retries=0, messages=PERSON
        )
    )
    assert partials[-1].name == "Alice" and partials[-1].age == 30
    assert sent(emu)[0]["stream"] is True


@pytest.mark.parametrize("model", MODELS)
def test_the_default_tools_mode_is_refused_while_thinking(emu: KimiEmulator, model: str) -> None:
    with pytest.raises(InstructorRetryException) as caught:
        client(emu).chat.completions.create(
            model=model, response_model=Person, max_retries=0, messages=PERSON
        )
    assert refusal(caught.value) == (400, NAMED_WHILE_THINKING)
    assert sent(emu)[0]["tool_choice"] == {"type": "function", "function": {"name": "Person"}}


@pytest.mark.parametrize("model", MODELS)
def test_the_default_tools_mode_stream_is_refused_while_thinking(
    emu: KimiEmulator, model: str
) -> None:
    with pytest.raises(InstructorRetryException) as caught:
        list(
            client(emu).chat.completions.create_partial(
                model=model, response_model=Person, max_retries=0, messages=PERSON
            )
        )
    assert refusal(caught.value) == (400, NAMED_WHILE_THINKING)
    body = sent(emu)[0]
    assert body["stream"] is True
    assert body["tool_choice"] == {"type": "function", "function": {"name": "PartialPerson"}}
