"""Recorded replay with rule checks: answers come from recordings matched to each request,
and every request still goes through Kimi's rules first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import vcr
from emu_helpers import WEATHER_TOOL, chat, parse_sse

from kimi_emulator import KimiEmulator, RecordedResponder

ROOT = Path(__file__).resolve().parents[2]
#: This project's cassette format (vcrpy YAML with provenance comments).
ACEDATA_CASSETTE = ROOT / "cassettes" / "acedata_kimi-k2.5_invoke.yaml"
#: Recorded bodies (provenance in tests/recordings/SOURCES.json).
K3_JSON = ROOT / "tests" / "recordings" / "issue-19311-kimi-k3-live-2026-08-24.json"
K3_CHUNKS = ROOT / "tests" / "recordings" / "moonshotai-usage-live.chunks.txt"


def _streamed_text(raw: bytes) -> str:
    events, done = parse_sse(raw)
    assert done
    return "".join(e["choices"][0]["delta"].get("content") or "" for e in events if e["choices"])


def test_this_projects_cassette_replays_in_its_dialect() -> None:
    with KimiEmulator(dialect="acedata", recordings=ACEDATA_CASSETTE) as emu:
        sent = {"model": "kimi-k2.5", "messages": [{"role": "user", "content": "Hello"}]}
        message = chat(emu, sent).json()["choices"][0]["message"]
        assert message["content"] == " Hello! How can I help you today?"
        assert message["reasoning_content"].startswith(" The user has simply said")
        assert message["reasoning"] == message["reasoning_content"]  # AceData sends both
        streamed = chat(emu, {**sent, "stream": True})
        assert _streamed_text(streamed.content) == " Hello! How can I help you today?"
        other = chat(emu, {**sent, "messages": [{"role": "user", "content": "Goodbye"}]})
        assert other.status_code == 400
        error = other.json()["error"]["message"]
        assert "no recording matches this request" in error
        assert "'Goodbye'" in error
        assert "acedata_kimi-k2.5_invoke.yaml#0" in error  # the closest recording, named
        assert "differs in last_user" in error


def test_a_recorded_body_still_goes_through_the_rules() -> None:
    recorded = json.loads(K3_JSON.read_text())
    with KimiEmulator(recordings=[K3_JSON]) as emu:
        request: dict[str, Any] = {
            "model": "kimi-k3",
            "messages": [{"role": "user", "content": "anything"}],
        }
        refused = chat(emu, {**request, "temperature": 0.3})
        assert refused.status_code == 400
        assert "only 1 is allowed" in refused.json()["error"]["message"]
        answer = chat(emu, request).json()
        assert answer["choices"][0]["message"] == {
            "role": "assistant",
            "content": recorded["choices"][0]["message"]["content"],
            "reasoning_content": recorded["choices"][0]["message"]["reasoning_content"],
        }
        assert answer["usage"] == recorded["usage"]  # sent as recorded (nothing was cut)
        cut = chat(emu, {**request, "max_tokens": 1}).json()
        assert cut["choices"][0]["finish_reason"] == "length"  # the server's duty still


def test_a_recorded_stream_answers_a_json_request() -> None:
    expected = ""
    for line in K3_CHUNKS.read_text().splitlines():
        for choice in json.loads(line)["choices"] if line.strip() else ():
            expected += choice.get("delta", {}).get("content") or ""
    assert expected
    with KimiEmulator(recordings=K3_CHUNKS) as emu:
        sent = {"model": "kimi-k3", "messages": [{"role": "user", "content": "x"}]}
        assert chat(emu, sent).json()["choices"][0]["message"]["content"] == expected


def _record_with_vcrpy(path: Path, serializer: str) -> None:
    """A plain vcrpy cassette recorded from an ordinary httpx client, against a loopback
    emulator that answers a tool call, then the final answer."""
    with KimiEmulator() as live:
        live.script(
            reasoning="Look it up.",
            tool_calls=[{"name": "get_weather", "arguments": {"city": "Quito"}}],
        )
        live.script(text="Quito: 14 C and rain.", reasoning="Answer.")
        auth = {"Authorization": f"Bearer {live.api_key}"}
        with vcr.use_cassette(str(path), serializer=serializer, filter_headers=["authorization"]):
            first = httpx.post(live.chat_url, json=_turn_one(), headers=auth, timeout=10)
            second = httpx.post(
                live.chat_url, json=_turn_two(first.json()), headers=auth, timeout=10
            )
        assert second.json()["choices"][0]["message"]["content"] == "Quito: 14 C and rain."


def _turn_one() -> dict[str, Any]:
    return {
        "model": "kimi-k2.6",
        "messages": [{"role": "user", "content": "Weather in Quito?"}],
        "tools": [WEATHER_TOOL],
    }


def _turn_two(first: dict[str, Any], *, keep_reasoning: bool = True) -> dict[str, Any]:
    message = dict(first["choices"][0]["message"])
    if not keep_reasoning:
        message.pop("reasoning_content")
    call_id = message["tool_calls"][0]["id"]
    tool = {"role": "tool", "tool_call_id": call_id, "content": "14 C and rain"}
    return {**_turn_one(), "messages": [*_turn_one()["messages"], message, tool]}


@pytest.mark.parametrize("serializer", ["yaml", "json"])
def test_a_plain_vcrpy_cassette_replays_a_tool_loop(tmp_path: Path, serializer: str) -> None:
    cassette = tmp_path / f"loop.{serializer}"
    _record_with_vcrpy(cassette, serializer)
    with KimiEmulator(recordings=cassette) as emu:
        first = chat(emu, _turn_one())
        assert first.status_code == 200, first.text
        call = first.json()["choices"][0]["message"]["tool_calls"][0]
        assert json.loads(call["function"]["arguments"]) == {"city": "Quito"}
        second = chat(emu, _turn_two(first.json()))
        assert second.json()["choices"][0]["message"]["content"] == "Quito: 14 C and rain."
        # The app changed: it drops the reasoning of its tool-call turn. The recording
        # still matches, and Kimi's rule refuses the request, as the real API would.
        broken = chat(emu, _turn_two(first.json(), keep_reasoning=False))
        assert broken.status_code == 400
        assert "reasoning_content" in broken.json()["error"]["message"]


def test_matching_is_configurable(tmp_path: Path) -> None:
    cassette = tmp_path / "loop.json"
    _record_with_vcrpy(cassette, "json")
    with KimiEmulator(recordings=cassette, match_on=["last_user", "tools", "step"]) as emu:
        first = chat(emu, {**_turn_one(), "tools": [WEATHER_TOOL]})
        assert "tool_calls" in first.json()["choices"][0]["message"]
        no_tools = chat(emu, {k: v for k, v in _turn_one().items() if k != "tools"})
        assert no_tools.status_code == 400
        assert "differs in tools" in no_tools.json()["error"]["message"]
    with pytest.raises(ValueError, match="unknown field"):
        RecordedResponder(cassette, match_on=["colour"])
    with pytest.raises(ValueError, match="no such file"):
        KimiEmulator(recordings=tmp_path / "missing.yaml")
