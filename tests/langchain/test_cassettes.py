"""Replay of the AceData kimi-k2.5 responses published in the seeds (vcrpy cassettes),
and the recorder's secret filtering, tested by recording from the emulator."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from lc_helpers import KEY

from langchain_kimi import ChatKimi

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"


def _recorder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kimi_cassette_recorder", CASSETTES / "record.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


recorder = _recorder()


@pytest.fixture
def acedata_model() -> ChatKimi:
    # The key is a placeholder: replay sends nothing over the network.
    return ChatKimi(model="kimi-k2.5", provider="acedata", api_key="replay-placeholder")


def _published(name: str) -> str:
    data = yaml.safe_load((CASSETTES / name).read_text(encoding="utf-8"))
    body: str = data["interactions"][0]["response"]["body"]["string"]
    return body


WHOLE = json.loads(_published("acedata_kimi-k2.5_invoke.yaml"))
STREAM_EVENTS = [
    json.loads(line[len("data: ") :])
    for line in _published("acedata_kimi-k2.5_stream.yaml").split("\n\n")
    if line.startswith("data: {")
]
STREAM_REASONING = "".join(
    e["choices"][0]["delta"].get("reasoning_content", "") for e in STREAM_EVENTS if e["choices"]
)
STREAM_TEXT = "".join(
    e["choices"][0]["delta"].get("content", "") for e in STREAM_EVENTS if e["choices"]
)


def _check_whole(msg: AIMessage) -> None:
    published = WHOLE["choices"][0]["message"]
    assert msg.content == published["content"] == " Hello! How can I help you today?"
    # AceData sends the reasoning twice (reasoning_content and reasoning): kept once.
    assert msg.additional_kwargs == {"reasoning_content": published["reasoning_content"]}
    assert msg.tool_calls == []  # "tool_calls": [] means no calls
    assert msg.usage_metadata == {
        "input_tokens": 9,
        "output_tokens": 184,
        "total_tokens": 193,
        # AceData's details objects come without the counts: not reported, not 0.
        "input_token_details": {},
        "output_token_details": {},
    }
    assert msg.response_metadata["id"] == "chatcmpl-b5d9e1b799c137e3"
    assert msg.response_metadata["model_name"] == "kimi-k2.5"
    assert msg.response_metadata["model_provider"] == "acedata"
    assert msg.response_metadata["finish_reason"] == "stop"


def test_replay_invoke(acedata_model: ChatKimi) -> None:
    with recorder.kimi_vcr().use_cassette("acedata_kimi-k2.5_invoke.yaml") as cassette:
        msg = acedata_model.invoke("Hello")
    assert cassette.play_count == 1
    _check_whole(msg)


async def test_replay_ainvoke(acedata_model: ChatKimi) -> None:
    with recorder.kimi_vcr().use_cassette("acedata_kimi-k2.5_invoke.yaml") as cassette:
        msg = await acedata_model.ainvoke("Hello")
    assert cassette.play_count == 1
    _check_whole(msg)


def _check_stream(chunks: list[AIMessageChunk]) -> None:
    assert STREAM_TEXT == " Hello! How can I help you today?"
    full = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    assert full.content == STREAM_TEXT
    # Reasoning arrives as both reasoning_content and reasoning: counted once.
    assert full.additional_kwargs == {"reasoning_content": STREAM_REASONING}
    assert STREAM_REASONING.startswith(" The user said")
    # One chunk per published delta that carries text (the role chunk carries none),
    # then the final chunk with usage, which comes from the trailing choices: [] chunk.
    assert len(chunks) == 15 + 1
    assert [c.usage_metadata is not None for c in chunks] == [False] * 15 + [True]
    assert full.usage_metadata == {
        "input_tokens": 9,
        "output_tokens": 135,
        "total_tokens": 144,
        # AceData's details objects come without the counts: not reported, not 0.
        "input_token_details": {},
        "output_token_details": {},
    }
    assert full.response_metadata["id"] == "chatcmpl-952dd5e75583c4d1"
    assert full.response_metadata["finish_reason"] == "stop"
    # The delta that carries both the end of the reasoning and the start of the answer.
    mixed = [c for c in chunks if c.content and c.additional_kwargs.get("reasoning_content")]
    assert [(c.content, c.additional_kwargs["reasoning_content"]) for c in mixed] == [
        (" Hello! How can I help", " help with. ")
    ]


def test_replay_stream(acedata_model: ChatKimi) -> None:
    with recorder.kimi_vcr().use_cassette("acedata_kimi-k2.5_stream.yaml") as cassette:
        chunks = list(acedata_model.stream("Hello"))
    assert cassette.play_count == 1
    _check_stream(chunks)


async def test_replay_astream(acedata_model: ChatKimi) -> None:
    with recorder.kimi_vcr().use_cassette("acedata_kimi-k2.5_stream.yaml"):
        chunks = [c async for c in acedata_model.astream("Hello")]
    _check_stream(chunks)


def test_replay_multi_turn(acedata_model: ChatKimi) -> None:
    history = [AIMessage("Hello! How can I help you today?"), HumanMessage("What model are you?")]
    with recorder.kimi_vcr().use_cassette("acedata_kimi-k2.5_multi_turn.yaml"):
        msg = acedata_model.invoke(history)
    assert "K2.5" in str(msg.content)
    assert msg.additional_kwargs["reasoning_content"].startswith(" The user is asking")
    assert msg.usage_metadata is not None
    assert msg.usage_metadata["total_tokens"] == 263


def test_a_different_request_is_not_replayed(acedata_model: ChatKimi) -> None:
    from vcr.errors import CannotOverwriteExistingCassetteException

    with (
        recorder.kimi_vcr().use_cassette("acedata_kimi-k2.5_invoke.yaml"),
        pytest.raises(CannotOverwriteExistingCassetteException),
    ):
        acedata_model.invoke("Something else")


@pytest.mark.parametrize("path", sorted(CASSETTES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_cassette_says_where_it_came_from(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# ")
    assert "Source:" in text or "Recorded by" in text
    for interaction in yaml.safe_load(text)["interactions"]:
        headers = {h.lower() for h in interaction["request"]["headers"]}
        assert "authorization" not in headers
    # No credential anywhere in the file (headers, bodies, comments).
    leak = re.search(r"(Bearer|api[-_]key\"?:)\s*\"?(sk-|[A-Za-z0-9]{24,})", text, flags=re.I)
    assert leak is None, leak


# --------------------------------------------------------------------------- recording


def test_recording_filters_the_key(moonshot: Any, tmp_path: Path) -> None:
    for stream in (False, True):
        path = recorder.record(
            f"emulated_{'stream' if stream else 'invoke'}",
            provider="moonshot",
            model="kimi-k2.6",
            prompt="Hello",
            stream=stream,
            base_url=moonshot.base_url,
            api_key=KEY,
            cassette_dir=tmp_path,
        )
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# Recorded by cassettes/record.py")
        assert KEY not in text
        interaction = yaml.safe_load(text)["interactions"][0]
        assert {h.lower() for h in interaction["request"]["headers"]} & {"authorization"} == set()
        # The emulator saw the key: it was sent, and only the cassette lacks it.
        assert moonshot.chat_requests[-1].headers["authorization"] == f"Bearer {KEY}"
    # The recorded cassettes replay without the network.
    sent = len(moonshot.requests)
    model = ChatKimi(
        model="kimi-k2.6", provider="moonshot", base_url=moonshot.base_url, api_key="other"
    )
    with recorder.kimi_vcr(cassette_dir=tmp_path).use_cassette("emulated_invoke.yaml"):
        assert model.invoke("Hello").content
    with recorder.kimi_vcr(cassette_dir=tmp_path).use_cassette("emulated_stream.yaml"):
        assert "".join(str(c.content) for c in model.stream("Hello"))
    assert len(moonshot.requests) == sent


def test_key_echoed_in_a_body_is_scrubbed(moonshot: Any, tmp_path: Path) -> None:
    moonshot.script(f"Your key is {KEY}.")
    path = recorder.record(
        "echo",
        provider="moonshot",
        model="kimi-k2.6",
        prompt="Hello",
        base_url=moonshot.base_url,
        api_key=KEY,
        cassette_dir=tmp_path,
    )
    text = path.read_text(encoding="utf-8")
    assert KEY not in text
    assert recorder.FILTERED in text
