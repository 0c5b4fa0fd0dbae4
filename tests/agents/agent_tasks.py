"""The tasks the agents are given, their tools, and what must hold on the wire.

The task is the README's: the weather in a city, in Fahrenheit, with a tool that gives
the weather in Celsius and one that converts. A careful model calls ``get_weather``
first, then ``celsius_to_fahrenheit`` with the Celsius value it returned, then answers
with both results (Paris: 18 C and cloudy, 64.4 F).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import BaseModel, Field

from kimi_emulator import KimiEmulator

QUESTION = "What is the weather in Paris, in Fahrenheit?"
TWO_CITIES = "What is the weather in Paris and in Tokyo? Give the temperatures in fahrenheit."
FOLLOW_UP = "And in Berlin?"
PERSON_TEXT = "Alice Smith is 30 years old and lives in Lyon."
PARTIAL_QUESTION = "Describe Paris as a JSON object with the keys 'city' and 'country'."
SKIES = {"paris": "18 C and cloudy", "tokyo": "24 C and sunny", "berlin": "12 C and rainy"}

#: The calls a careful model makes for QUESTION, in order.
PARIS_CALLS = [("get_weather", {"city": "Paris"}), ("celsius_to_fahrenheit", {"celsius": 18})]
PARIS_ANSWER = "Paris: 18 C and cloudy, which is 64.4 F."
BERLIN_CALLS = [("get_weather", {"city": "Berlin"}), ("celsius_to_fahrenheit", {"celsius": 12})]
EMULATOR_NOTE = "(Kimi emulator: a deterministic answer from the tool results, not a model.)"


def get_weather(city: str) -> str:
    """Get the current weather in a city: the sky and the temperature in Celsius."""
    return SKIES.get(city.lower(), "no weather data for that city")


def celsius_to_fahrenheit(celsius: float) -> str:
    """Convert a temperature from degrees Celsius to degrees Fahrenheit."""
    return f"{celsius * 9 / 5 + 32:g} F"


class Weather(BaseModel):
    """The weather in a city."""

    city: str
    temperature_f: float = Field(description="temperature in Fahrenheit")
    sky: str


class Person(BaseModel):
    """A person and where they live."""

    name: str
    age: int
    city: str


PARIS_WEATHER = Weather(city="Paris", temperature_f=64.4, sky="cloudy")
ALICE = Person(name="Alice Smith", age=30, city="Lyon")
PARTIAL_JSON = {"city": "Paris", "country": "France"}


@dataclass(frozen=True)
class Variant:
    """A model the agents run on."""

    id: str
    model: str
    #: The ``thinking`` the client is given (None: the model's default).
    thinking: bool | None
    #: Whether the model thinks for these requests.
    thinks: bool
    dialect: str = "moonshot"

    def client_kwargs(self) -> dict[str, Any]:
        return {} if self.thinking is None else {"thinking": self.thinking}


K26 = Variant("kimi-k2.6", "kimi-k2.6", None, True)
K3 = Variant("kimi-k3", "kimi-k3", None, True)
K26_OFF = Variant("kimi-k2.6-no-thinking", "kimi-k2.6", False, False)
#: A gateway dialect's model that does not think (AceData).
GATEWAY = Variant("acedata-kimi-k2-instruct-0905", "kimi-k2-instruct-0905", None, False, "acedata")
VARIANTS = [K26, K3, K26_OFF]
#: The plain tool loops also run on a gateway.
LOOP_VARIANTS = [*VARIANTS, GATEWAY]


def with_options(options: list[str]) -> list[Any]:
    """``(variant, option)`` pytest params for every variant and option."""
    return [pytest.param(v, o, id=f"{v.id}-{o}") for v in VARIANTS for o in options]


def check_wire(emu: KimiEmulator, variant: Variant) -> None:
    """What must hold on every request the agent sent, for this model."""
    requests = [r.json for r in emu.chat_requests]
    assert requests, "the agent talked to the emulator"
    for body in requests:
        assert body["model"] == variant.model
        if variant.model == "kimi-k3":
            # kimi-k3 always thinks and takes no thinking field (docs/kimi-platform.md §11).
            assert "thinking" not in body, body.get("thinking")
        elif not variant.thinks and variant.dialect == "moonshot":
            assert body.get("thinking") == {"type": "disabled"}
        # kimi-k2.6 thinks unless the request disables it (the client does so for a
        # forced tool choice, which Kimi refuses while thinking).
        thinks = variant.thinks and body.get("thinking") != {"type": "disabled"}
        for msg in body["messages"]:
            if msg["role"] == "assistant" and msg.get("tool_calls"):
                if thinks:
                    assert msg.get("reasoning_content"), "the reasoning went back with the call"
                else:
                    assert not msg.get("reasoning_content")


def wire_turns(emu: KimiEmulator) -> list[list[tuple[str, dict[str, Any]]]]:
    """The tool calls of each assistant turn, as the last request carried them back."""
    import json

    last = emu.chat_requests[-1].json
    turns = []
    for msg in last["messages"]:
        if msg["role"] == "assistant" and msg.get("tool_calls"):
            turns.append(
                [
                    (c["function"]["name"], json.loads(c["function"]["arguments"]))
                    for c in msg["tool_calls"]
                ]
            )
    return turns
