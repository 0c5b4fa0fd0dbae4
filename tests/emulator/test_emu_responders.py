"""Pluggable responders over real HTTP: the server's duties (rules, dialect shapes, usage,
stop / max_tokens, streaming, faults) hold whoever writes the answer."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from emu_helpers import MODEL_FOR, WEATHER_TOOL, body, chat, stream

from kimi_emulator import (
    ChatRequest,
    EchoResponder,
    FunctionResponder,
    KimiEmulator,
    Rejection,
    Reply,
    Responder,
    ScriptedResponder,
)


@pytest.fixture
def echo() -> Iterator[KimiEmulator]:
    with KimiEmulator(responder="echo") as emu:
        yield emu


def test_the_built_in_responders_follow_the_protocol() -> None:
    for responder in (EchoResponder(), ScriptedResponder(), FunctionResponder(lambda r: "x")):
        assert isinstance(responder, Responder)
    with pytest.raises(ValueError, match="responder='oracle' is unknown"):
        KimiEmulator(responder="oracle")
    with pytest.raises(TypeError):
        KimiEmulator(responder=42)


def test_echo_quotes_the_request_and_never_calls_a_tool(echo: KimiEmulator) -> None:
    msg = chat(echo, body(tools=[WEATHER_TOOL]))
    assert msg.status_code == 200, msg.text
    choice = msg.json()["choices"][0]
    assert choice["message"]["content"] == 'You said: "Hello there"'
    assert "tool_calls" not in choice["message"]  # Moonshot's plain answer: no key
    assert choice["finish_reason"] == "stop"
    usage = msg.json()["usage"]
    assert usage["completion_tokens"] == 7  # You said : " Hello there "
    resp, events, done = stream(echo, body())
    assert done and resp.status_code == 200
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events if e["choices"])
    assert text == 'You said: "Hello there"'


def test_echo_lists_tool_results_and_thinks_when_the_model_does(echo: KimiEmulator) -> None:
    messages = [
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": "",
            "reasoning_content": "call it",
            "tool_calls": [
                {
                    "id": "get_weather_0",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "get_weather_0", "content": "3 C and snow"},
    ]
    resp = chat(echo, {"model": "kimi-k3", "messages": messages, "tools": [WEATHER_TOOL]})
    message = resp.json()["choices"][0]["message"]
    assert message["content"] == "Tool results: 3 C and snow"
    assert message["reasoning_content"]  # kimi-k3 always thinks


def test_rules_apply_to_every_responder(echo: KimiEmulator) -> None:
    resp = chat(echo, {"model": "kimi-k3", "messages": [{"role": "user", "content": "hi"}],
                       "temperature": 0.3})  # fmt: skip
    assert resp.status_code == 400
    assert "only 1 is allowed" in resp.json()["error"]["message"]


def test_stop_and_max_tokens_cut_every_responder(echo: KimiEmulator) -> None:
    cut = chat(echo, body(stop=["Hello"])).json()["choices"][0]
    assert cut["message"]["content"] == 'You said: "'
    assert cut["finish_reason"] == "stop"
    short = chat(echo, body(max_tokens=2)).json()
    assert short["choices"][0]["message"]["content"] == "You said"
    assert short["choices"][0]["finish_reason"] == "length"
    assert short["usage"]["completion_tokens"] == 2


def test_stop_and_max_tokens_cut_a_script_too(moonshot: KimiEmulator) -> None:
    moonshot.script(text="alpha beta STOP gamma")
    cut = chat(moonshot, body(stop=["STOP"])).json()["choices"][0]
    assert (cut["message"]["content"], cut["finish_reason"]) == ("alpha beta ", "stop")
    moonshot.script(text="one two three four", usage={"prompt_tokens": 1, "completion_tokens": 99})
    _, events, _ = stream(moonshot, body(max_tokens=3))
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events if e["choices"])
    assert text == "one two three"
    finish = [e for e in events if e["choices"] and e["choices"][0].get("finish_reason")]
    assert finish[-1]["choices"][0]["finish_reason"] == "length"
    usage = finish[-1]["choices"][0]["usage"]
    assert usage["completion_tokens"] == 3  # counted: the scripted usage no longer holds


def _weather_reply(request: ChatRequest) -> Reply | Rejection:
    if not request.functions:
        return Rejection(400, "this app always offers tools", error_type="invalid_request_error")
    if request.messages[-1]["role"] == "tool":
        return Reply(content=f"It is {request.messages[-1]['content']}.")
    city = request.messages[-1]["content"].split()[-1].strip("?")
    return Reply(
        reasoning="The user wants the weather.",
        tool_calls=[{"name": "get_weather", "arguments": {"city": city}}],
    )


def test_a_function_responder_in_every_dialect(any_emu: KimiEmulator) -> None:
    any_emu.responder = FunctionResponder(_weather_reply)
    model = MODEL_FOR[any_emu.dialect]
    request = {
        "model": model,
        "messages": [{"role": "user", "content": "Weather in Lima?"}],
        "tools": [WEATHER_TOOL],
    }
    resp = chat(any_emu, request)
    assert resp.status_code == 200, resp.text
    call = resp.json()["choices"][0]["message"]["tool_calls"][0]
    assert json.loads(call["function"]["arguments"]) == {"city": "Lima"}
    assert call["id"]  # the dialect's id form
    refused = chat(any_emu, {"model": model, "messages": request["messages"]})
    assert refused.status_code == 400
    assert "always offers tools" in refused.text  # in the dialect's own error body
    any_emu.reset()
    assert not isinstance(any_emu.responder, FunctionResponder)


def test_a_plain_callable_is_a_function_responder() -> None:
    seen: list[str] = []

    def answer(request: ChatRequest) -> str:
        seen.append(request.model)
        return "fixed answer"

    with KimiEmulator(responder=answer) as emu:
        resp, _, done = stream(emu, body())
        assert done and resp.status_code == 200
        assert "fixed answer" in resp.text
    assert seen == ["kimi-k2.6"]


def test_a_responder_error_has_its_raw_body(moonshot: KimiEmulator) -> None:
    moonshot.responder = FunctionResponder(
        lambda r: Rejection(503, body="<html>upstream down</html>")
    )
    resp = chat(moonshot, body())
    assert resp.status_code == 503
    assert resp.headers["content-type"].startswith("text/html")


def test_faults_apply_to_every_responder(echo: KimiEmulator) -> None:
    echo.fault("drop_after", events=2)
    with pytest.raises(httpx.HTTPError):
        stream(echo, body())
    echo.fault("500")
    assert chat(echo, body()).status_code == 500


def test_scripted_answers_only_what_was_scripted() -> None:
    replies: list[Reply | Rejection] = [Reply(content="first"), Reply(content="second")]
    with KimiEmulator(responder=ScriptedResponder(replies)) as emu:
        assert chat(emu, body()).json()["choices"][0]["message"]["content"] == "first"
        emu.script(text="queued wins")
        assert chat(emu, body()).json()["choices"][0]["message"]["content"] == "queued wins"
        assert chat(emu, body()).json()["choices"][0]["message"]["content"] == "second"
        empty = chat(emu, body())
        assert empty.status_code == 400
        assert "nothing is scripted" in empty.json()["error"]["message"]
        emu.reset()
        assert chat(emu, body()).json()["choices"][0]["message"]["content"] == "first"


def test_the_planner_is_the_default_and_a_responder_by_name() -> None:
    request = body(
        messages=[{"role": "user", "content": "What's the weather in Paris?"}],
        tools=[WEATHER_TOOL],
    )
    with KimiEmulator(responder="planner") as emu:
        call = chat(emu, request).json()["choices"][0]["message"]["tool_calls"][0]
        assert json.loads(call["function"]["arguments"]) == {"city": "Paris"}


def test_the_command_takes_a_responder(tmp_path: Path) -> None:
    script = tmp_path / "replies.json"
    script.write_text(
        json.dumps([{"content": "from the file"}, {"status": 429, "message": "slow"}])
    )
    args = [sys.executable, "-m", "kimi_emulator", "--port", "0", "--responder", "scripted",
            "--script", str(script)]  # fmt: skip
    with subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().rsplit(" ", 1)[-1].strip()
            deadline = time.monotonic() + 30
            while "Responder" not in proc.stdout.readline() and time.monotonic() < deadline:
                pass
            auth = {"Authorization": "Bearer k"}
            ok = httpx.post(url + "/chat/completions", json=body(), headers=auth, timeout=10)
            assert ok.json()["choices"][0]["message"]["content"] == "from the file"
            limited = httpx.post(url + "/chat/completions", json=body(), headers=auth, timeout=10)
            assert limited.status_code == 429 and limited.json()["error"]["message"] == "slow"
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    bad = subprocess.run(
        [sys.executable, "-m", "kimi_emulator", "--responder", "nope"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert bad.returncode != 0 and "module:function" in bad.stderr


def test_usage_is_counted_for_a_function_responder(moonshot: KimiEmulator) -> None:
    moonshot.responder = FunctionResponder(lambda r: Reply(content="a b c"))
    data: dict[str, Any] = chat(moonshot, body()).json()
    assert data["usage"]["completion_tokens"] == 3
    assert data["usage"]["total_tokens"] == data["usage"]["prompt_tokens"] + 3
