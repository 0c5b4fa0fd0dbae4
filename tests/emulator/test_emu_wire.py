"""Wire shapes per dialect: endpoints, ids, reasoning fields, usage placement, streams."""

from __future__ import annotations

import re
from typing import Any

import pytest
from emu_helpers import HTTP, NO_THINKING, WEATHER_TOOL, body, chat, headers, stream

import kimi_core as kc
from kimi_emulator import KimiEmulator

#: A model that thinks and one that does not, per dialect (from each documented list).
THINKING = {
    "moonshot": "kimi-k2.6",
    "acedata": "kimi-k2.5",
    "evolink": "kimi-k2-thinking",
    "gptproto": "kimi-k2.5",
    "openai-compatible": "moonshotai/kimi-k2.5",
}
#: EvoLink documents thinking models only, so it has no entry here.
PLAIN: dict[str, tuple[str, dict[str, Any]]] = {
    "moonshot": ("kimi-k2.6", NO_THINKING),
    "acedata": ("kimi-k2-turbo-preview", {}),
    "gptproto": ("kimi-k2.5", NO_THINKING),
    "openai-compatible": ("moonshotai/kimi-k2-instruct-0905", {}),
}
#: The reasoning field each dialect answers with.
REASONING_FIELD = {
    "moonshot": "reasoning_content",
    "acedata": "reasoning_content",
    "evolink": "reasoning_content",
    "gptproto": "reasoning",
    "openai-compatible": "reasoning",
}


def test_urls_and_provider(emus: dict[str, KimiEmulator]) -> None:
    ms, ace = emus["moonshot"], emus["acedata"]
    assert ms.base_url == f"http://127.0.0.1:{ms.port}/v1"
    assert ms.chat_url == ms.base_url + "/chat/completions"
    assert ace.base_url == f"http://127.0.0.1:{ace.port}"
    assert ace.chat_url == ace.base_url + "/kimi/chat/completions"
    assert {name: e.provider for name, e in emus.items()} == {
        "moonshot": "moonshot",
        "acedata": "acedata",
        "evolink": "evolink",
        "gptproto": "gptproto",
        "openai-compatible": "openai-compatible",
    }
    for emu in emus.values():
        assert emu.api_key
        assert emu.dialect in repr(emu)


def test_models_endpoint_on_every_dialect(any_emu: KimiEmulator) -> None:
    resp = HTTP.get(any_emu.url + "/v1/models", headers=headers(any_emu))
    assert resp.status_code == 200
    data = resp.json()
    assert data["object"] == "list"
    ids = {m["id"] for m in data["data"]}
    assert THINKING[any_emu.dialect] in ids
    assert ids == set(any_emu.models)  # the served ids, and only them
    model = next(m for m in data["data"] if m["id"] == THINKING[any_emu.dialect])
    assert model["object"] == "model"
    assert model["context_length"] == 262_144
    assert model["supports_reasoning"] is True


def test_platform_endpoints_only_on_moonshot(emus: dict[str, KimiEmulator]) -> None:
    for name, emu in emus.items():
        resp = HTTP.get(emu.url + "/v1/users/me/balance", headers=headers(emu))
        assert resp.status_code == (200 if name == "moonshot" else 404), name


def test_unknown_path_and_wrong_method(any_emu: KimiEmulator) -> None:
    resp = HTTP.get(any_emu.url + "/v1/nothing-here", headers=headers(any_emu))
    assert resp.status_code == 404
    resp = HTTP.get(any_emu.chat_url, headers=headers(any_emu))
    assert resp.status_code == 405
    assert "error" in resp.json()


# --------------------------------------------------------------------------- non-streamed


def test_moonshot_completion_shape(moonshot: KimiEmulator) -> None:
    resp = chat(moonshot, body("kimi-k2.6"))
    assert resp.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", resp.headers["x-trace-id"])
    data = resp.json()
    assert re.fullmatch(r"chatcmpl-[0-9a-f]{24}", data["id"])
    assert data["object"] == "chat.completion"
    assert data["model"] == "kimi-k2.6"
    assert "system_fingerprint" not in data
    msg = data["choices"][0]["message"]
    assert msg["role"] == "assistant"
    assert "tool_calls" not in msg  # Moonshot 2026: a plain answer has no tool_calls key
    assert msg["reasoning_content"]
    assert "reasoning" not in msg
    assert "Hello there" in msg["content"]
    assert data["choices"][0]["finish_reason"] == "stop"
    usage = data["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    # Nothing cached yet: no cached_tokens and no prompt_tokens_details at all.
    assert "cached_tokens" not in usage and "prompt_tokens_details" not in usage
    assert 0 < usage["completion_tokens_details"]["reasoning_tokens"] < usage["completion_tokens"]
    again = chat(moonshot, body("kimi-k2.6")).json()["usage"]
    assert again["cached_tokens"] == again["prompt_tokens_details"]["cached_tokens"] > 0


def test_moonshot_usage_without_thinking(moonshot: KimiEmulator) -> None:
    usage = chat(moonshot, body()).json()["usage"]
    assert set(usage) == {"prompt_tokens", "completion_tokens", "total_tokens"}


def test_moonshot_ids_per_model(moonshot: KimiEmulator) -> None:
    k3 = chat(moonshot, body("kimi-k3")).json()
    uuid = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    assert re.fullmatch(rf"chatcmpl-{uuid}", k3["id"])
    assert re.fullmatch(
        r"chatcmpl-[0-9a-f]{24}", chat(moonshot, body("kimi-k2.7-code")).json()["id"]
    )


def test_acedata_completion_shape(emus: dict[str, KimiEmulator]) -> None:
    resp = chat(emus["acedata"], body("kimi-k2.5"))
    assert resp.status_code == 200
    assert "x-trace-id" not in resp.headers
    data = resp.json()
    assert re.fullmatch(r"chatcmpl-[0-9a-f]{16}", data["id"])
    choice = data["choices"][0]
    assert choice["logprobs"] is None
    msg = choice["message"]
    assert msg["refusal"] is None
    assert msg["reasoning_content"] == msg["reasoning"] != ""
    assert msg["tool_calls"] == []  # AceData's published answers carry an empty list
    assert data["usage"]["prompt_tokens_details"] == {"cached_tokens_details": {}}
    assert data["usage"]["completion_tokens_details"] == {}  # as published, even when thinking


def test_evolink_and_gptproto_completion_shapes(emus: dict[str, KimiEmulator]) -> None:
    evo = chat(emus["evolink"], body("kimi-k2-thinking")).json()
    assert re.fullmatch(r"cmpl-[0-9a-f]{32}", evo["id"])
    assert evo["choices"][0]["message"]["reasoning_content"]
    assert "tool_calls" not in evo["choices"][0]["message"]
    gpt = chat(emus["gptproto"], body("kimi-k2.5")).json()
    msg = gpt["choices"][0]["message"]
    assert msg["reasoning"]
    assert "reasoning_content" not in msg


def test_openai_compatible_completion_shape(emus: dict[str, KimiEmulator]) -> None:
    resp = chat(emus["openai-compatible"], body("moonshotai/kimi-k2.5"))
    assert resp.content.startswith(b"\n")  # OpenRouter pads its bodies with blank lines
    data = resp.json()
    assert re.fullmatch(r"gen-\d{10}-[A-Za-z0-9]{20}", data["id"])
    assert data["provider"] and data["system_fingerprint"] is None
    choice = data["choices"][0]
    assert choice["native_finish_reason"] == choice["finish_reason"] == "stop"
    msg = choice["message"]
    assert msg["refusal"] is None and "tool_calls" not in msg
    assert msg["reasoning_details"][0]["text"] == msg["reasoning"]
    assert {"cost", "is_byok", "cost_details"} <= set(data["usage"])


@pytest.mark.parametrize("dialect", sorted(PLAIN))
def test_plain_model_has_no_reasoning(emus: dict[str, KimiEmulator], dialect: str) -> None:
    model, extra = PLAIN[dialect]
    msg = chat(emus[dialect], body(model, **extra)).json()["choices"][0]["message"]
    assert "reasoning_content" not in msg
    assert "reasoning" not in msg
    assert msg["content"]


# --------------------------------------------------------------------------- streamed


def _deltas(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["choices"][0]["delta"] for e in events if e.get("choices")]


def _joined(events: list[dict[str, Any]], key: str) -> str:
    return "".join(d.get(key) or "" for d in _deltas(events))


def test_stream_order_and_equivalence(any_emu: KimiEmulator) -> None:
    model = THINKING[any_emu.dialect]
    whole = chat(any_emu, body(model)).json()["choices"][0]["message"]
    resp, events, done = stream(any_emu, body(model))
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert done
    deltas = _deltas(events)
    if any_emu.dialect == "openai-compatible":
        assert all(d["role"] == "assistant" for d in deltas)  # OpenRouter: on every delta
    else:
        assert deltas[0] == {"role": "assistant", "content": ""}
    field = REASONING_FIELD[any_emu.dialect]
    assert _joined(events, field) == whole[field]
    assert _joined(events, "content") == whole["content"]
    # Reasoning first, then content, in several small deltas.
    kinds = [("r" if d.get(field) else "") + ("c" if d.get("content") else "") for d in deltas]
    kinds = [k for k in kinds if k]
    assert kinds.index("r") < min(i for i, k in enumerate(kinds) if "c" in k)
    assert len([k for k in kinds if "c" in k]) > 3
    assert len({e["id"] for e in events}) == 1


def test_moonshot_stream_usage_in_final_choice(moonshot: KimiEmulator) -> None:
    _, events, _ = stream(moonshot, body("kimi-k2.6"))
    assert all("system_fingerprint" not in e for e in events)
    last = events[-1]
    assert last["choices"][0]["finish_reason"] == "stop"
    assert last["choices"][0]["delta"] == {}
    assert last["choices"][0]["usage"]["total_tokens"] > 0
    assert all(e["choices"] for e in events)  # no trailing usage chunk unless asked
    _, events, _ = stream(moonshot, body("kimi-k2.6", stream_options={"include_usage": True}))
    assert events[-1]["choices"] == []
    assert events[-1]["usage"] == events[-2]["choices"][0]["usage"]


def test_k3_stream_marks_the_end_of_reasoning(moonshot: KimiEmulator) -> None:
    _, events, _ = stream(moonshot, body("kimi-k3"))
    deltas = _deltas(events)
    marker = deltas.index({"reasoning_content": ""})
    assert all("reasoning_content" in d for d in deltas[1:marker])
    assert deltas[marker + 1]["content"]
    # K2.6 streams send no marker (none is recorded).
    _, events, _ = stream(moonshot, body("kimi-k2.6"))
    assert {"reasoning_content": ""} not in _deltas(events)


def test_openrouter_stream_quirks(emus: dict[str, KimiEmulator]) -> None:
    resp, events, done = stream(emus["openai-compatible"], body("moonshotai/kimi-k2.5"))
    assert done
    assert resp.content.startswith(b": OPENROUTER PROCESSING\n\n")
    finishing = [e for e in events if e["choices"][0]["finish_reason"]]
    assert len(finishing) == 2  # a finish chunk, then one with the usage
    assert finishing[0]["choices"][0]["delta"]["reasoning"] is None
    assert "usage" not in finishing[0] and finishing[1]["usage"]["total_tokens"] > 0
    assert all(e["choices"] for e in events)  # no choices: [] trailer
    reasoning = [d for d in _deltas(events) if d.get("reasoning")]
    assert all(d["reasoning_details"][0]["text"] == d["reasoning"] for d in reasoning)


def test_acedata_stream_quirks(emus: dict[str, KimiEmulator]) -> None:
    _, events, done = stream(emus["acedata"], body("kimi-k2.5"))
    assert done
    assert all(e["system_fingerprint"] is None for e in events)
    assert all(e["usage"] is None for e in events[:-1])
    assert events[-1]["choices"] == []
    assert events[-1]["usage"]["total_tokens"] > 0
    deltas = _deltas(events)
    assert all(d.get("reasoning") == d.get("reasoning_content") for d in deltas)
    # One chunk carries the last reasoning piece and the first content piece.
    assert any(d.get("content") and d.get("reasoning_content") for d in deltas)
    # The finish reason rides on the last content delta, not on an empty one.
    finishing = [e for e in events if e["choices"] and e["choices"][0]["finish_reason"]]
    assert len(finishing) == 1
    assert finishing[0]["choices"][0]["delta"].get("content")


def test_evolink_usage_only_when_asked(emus: dict[str, KimiEmulator]) -> None:
    evo = emus["evolink"]
    _, events, _ = stream(evo, body("kimi-k2-thinking"))
    assert all("usage" not in e for e in events)
    assert events[-1]["choices"][0]["finish_reason"] == "stop"
    _, events, _ = stream(evo, body("kimi-k2-thinking", stream_options={"include_usage": True}))
    assert events[-1]["choices"] == []
    assert events[-1]["usage"]["prompt_tokens"] > 0


def test_tool_call_stream_fragments(any_emu: KimiEmulator) -> None:
    model = THINKING[any_emu.dialect]
    req = {
        "model": model,
        "messages": [{"role": "user", "content": "What's the weather in Paris?"}],
        "tools": [WEATHER_TOOL],
    }
    whole = chat(any_emu, req).json()["choices"][0]
    assert whole["finish_reason"] == "tool_calls"
    call = whole["message"]["tool_calls"][0]
    _, events, _ = stream(any_emu, req)
    tool_deltas = [tc for d in _deltas(events) for tc in d.get("tool_calls") or ()]
    first, rest = tool_deltas[0], tool_deltas[1:]
    assert first["index"] == 0
    assert first["id"] == call["id"]
    assert first["type"] == "function"
    assert first["function"] == {"name": "get_weather", "arguments": ""}
    assert len(rest) > 1
    assert all(set(tc) == {"index", "function"} for tc in rest)
    if any_emu.dialect == "openai-compatible":
        assert whole["message"]["content"] is None  # OpenRouter's tool-call answers
    assert "".join(tc["function"]["arguments"] for tc in rest) == call["function"]["arguments"]
    finish = [e["choices"][0]["finish_reason"] for e in events if e["choices"]]
    assert finish[-1] == "tool_calls"
    expected_id = {
        "moonshot": "get_weather_0",  # Moonshot 2026 (vercel/ai captures)
        "acedata": "functions.get_weather:0",
        "evolink": "get_weather:0",
        "gptproto": "get_weather_0",
        "openai-compatible": "functions.get_weather:0",  # OpenRouter, Groq
    }[any_emu.dialect]
    assert call["id"] == expected_id


# --------------------------------------------------------------------------- through the core


def test_core_client_round_trip(any_emu: KimiEmulator) -> None:
    client = kc.KimiClient(
        provider=any_emu.provider, base_url=any_emu.base_url, api_key=any_emu.api_key
    )
    model = THINKING[any_emu.dialect]
    result = client.chat(model=model, messages=[{"role": "user", "content": "Hi Kimi"}])
    assert result.message.get("reasoning_content") or result.message.get("reasoning")
    assert "Hi Kimi" in result.message["content"]
    s = client.stream(model=model, messages=[{"role": "user", "content": "Hi Kimi"}])
    chunks = list(s)
    assert chunks
    done = s.completion()["choices"][0]["message"]
    assert done["content"] == result.message["content"]
    field = "reasoning_content" if "reasoning_content" in done else "reasoning"
    assert done[field] == result.message[field]
    usage = s.accumulator.usage
    assert usage is not None
    assert usage["total_tokens"] == result.body["usage"]["total_tokens"]
    if any_emu.dialect == "moonshot":
        assert s.request_id
        assert result.request_id
