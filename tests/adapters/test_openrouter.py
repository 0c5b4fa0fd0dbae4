"""OpenRouter as a named provider: its recorded answers (charmbracelet/fantasy's go-vcr
cassettes of OpenRouter serving moonshotai/kimi-k2.5, ``tests/recordings/fantasy/
openrouter-kimi/``, provenance in SOURCES.json) replayed byte for byte over loopback through
kimi_core and both adapters; its provider routing; and the gateway envelope
(``error.metadata.raw``) unwrapped for every provider.

Only the recorded response bodies and their content types are sent back; the loopback
server adds the status line. The envelopes of the error tests are built in the test in
the shape public reports quote (open-webui/computer#293, microsoft/vscode#256166,
anomalyco/opencode#24462; docs/troubleshooting.md): the inner 400 body is a recorded
api.moonshot.ai body; the inner quota body is written here, in the words Moonshot's quota
errors use, and is not a recording.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from _loopback import Conn, LoopbackServer, Received, http_response
from _recordings import ROOT, recorded
from langchain_core.exceptions import ModelPermissionDeniedError
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.tools import tool
from llama_index.core.llms import ChatMessage

import kimi_core as kc
from langchain_kimi import ChatKimi
from llama_index_kimi import Kimi

MODEL = "moonshotai/kimi-k2.5"


def interactions(name: str) -> list[dict[str, Any]]:
    cassette = yaml.safe_load((ROOT / "fantasy" / "openrouter-kimi" / name).read_text())
    return list(cassette["interactions"])


def replay_cassette(server: LoopbackServer, name: str) -> list[dict[str, Any]]:
    """Answer the n-th request with the n-th recorded response (body and content type)."""
    recorded_ = interactions(name)
    answers: Iterator[dict[str, Any]] = iter(recorded_)

    def handler(_: Received, conn: Conn) -> None:
        resp = next(answers)["response"]
        ctype = (resp.get("headers") or {}).get("Content-Type", ["application/json"])[0]
        conn.send(http_response(int(resp["code"]), resp["body"], content_type=ctype))

    server.handler = handler
    return recorded_


def recorded_usage(item: dict[str, Any]) -> dict[str, Any]:
    body: str = item["response"]["body"]
    if "data:" in body:
        last = [ln[5:].strip() for ln in body.splitlines() if ln.startswith("data:")][-2]
        usage: dict[str, Any] = json.loads(last)["usage"]
        return usage
    return dict(json.loads(body)["usage"])


def chat(server: LoopbackServer, **kw: Any) -> ChatKimi:
    return ChatKimi(
        model=MODEL, provider="openrouter", base_url=server.base_url, api_key="or-k", **kw
    )


def llm(server: LoopbackServer, **kw: Any) -> Kimi:
    return Kimi(model=MODEL, provider="openrouter", api_base=server.base_url, api_key="or-k", **kw)


@tool
def weather(location: str) -> str:
    """Get the weather of a city."""
    return "40 C"


# --------------------------------------------------------------------------- the profile


def test_the_profile() -> None:
    profile = kc.get_provider("openrouter")
    assert profile.base_url == "https://openrouter.ai/api/v1"
    assert profile.key_env == "OPENROUTER_API_KEY"
    assert kc.resolve_provider(None, "https://openrouter.ai/api/v1").name == "openrouter"
    # moonshotai/... ids follow the catalogue's family rules
    assert kc.get_model_info(MODEL).family == kc.get_model_info("kimi-k2.5").family
    assert kc.get_model_info("moonshotai/kimi-k3").reasoning_efforts == ("low", "high", "max")


def test_the_key_comes_from_openrouter_api_key(monkeypatch: Any) -> None:
    monkeypatch.delenv("KIMI_API_KEY", raising=False)
    monkeypatch.setenv("OPENROUTER_API_KEY", "or-from-env")
    client = kc.KimiClient(provider="openrouter")
    assert client.base_url == "https://openrouter.ai/api/v1"
    monkeypatch.delenv("OPENROUTER_API_KEY")
    with pytest.raises(kc.ConfigurationError, match="OPENROUTER_API_KEY or KIMI_API_KEY"):
        kc.KimiClient(provider="openrouter")


# --------------------------------------------------------------------------- recorded answers


def test_langchain_reads_the_recorded_answer(loopback: LoopbackServer) -> None:
    (item,) = replay_cassette(loopback, "simple.yaml")
    msg = chat(loopback).invoke("Say hi in Portuguese")
    assert "Oi" in msg.content
    assert msg.additional_kwargs["reasoning_content"].startswith(" The user wants me to say")
    details = msg.additional_kwargs["reasoning_details"]
    assert details[0]["type"] == "reasoning.text"
    assert details[0]["text"] == msg.additional_kwargs["reasoning_content"]
    meta = msg.response_metadata
    usage = recorded_usage(item)
    assert meta["cost"] == usage["cost"] == 0.00045364
    assert meta["cost_details"] == usage["cost_details"]
    assert meta["upstream_provider"] == "Inceptron"
    assert meta["native_finish_reason"] == "stop"
    assert msg.usage_metadata is not None
    assert msg.usage_metadata["output_token_details"] == {"reasoning": 166}
    assert loopback.received[0].path == "/v1/chat/completions"
    assert loopback.received[0].json["model"] == MODEL


def test_langchain_streams_the_recorded_answer(loopback: LoopbackServer) -> None:
    (item,) = replay_cassette(loopback, "simple_streaming.yaml")
    full: Any = None
    for chunk in chat(loopback).stream("Say hi in Portuguese"):
        full = chunk if full is None else full + chunk
    assert "Oi" in full.content or "Olá" in full.content
    assert full.additional_kwargs["reasoning_content"]
    assert full.response_metadata["cost"] == recorded_usage(item)["cost"]
    assert full.usage_metadata["total_tokens"] == recorded_usage(item)["total_tokens"]


def test_langchain_tool_loop_on_the_recorded_answers(loopback: LoopbackServer) -> None:
    replay_cassette(loopback, "tool.yaml")
    model = chat(loopback).bind_tools([weather])
    messages: list[Any] = [HumanMessage("What's the weather in Florence?")]
    ai = model.invoke(messages)
    assert ai.tool_calls and ai.tool_calls[0]["name"] == "weather"
    messages += [ai, ToolMessage("40 C", tool_call_id=ai.tool_calls[0]["id"])]
    final = model.invoke(messages)
    assert "104" in final.content or "40" in final.content
    # the tool-call turn went back with its reasoning and the id exactly as received
    sent = loopback.received[1].json["messages"][1]
    assert sent["tool_calls"][0]["id"] == ai.tool_calls[0]["id"]
    assert sent["reasoning_content"] == ai.additional_kwargs["reasoning_content"]


def test_llama_index_reads_the_recorded_answer(loopback: LoopbackServer) -> None:
    (item,) = replay_cassette(loopback, "simple.yaml")
    response = llm(loopback).chat([ChatMessage(role="user", content="Say hi in Portuguese")])
    assert "Oi" in (response.message.content or "")
    assert response.additional_kwargs["cost"] == recorded_usage(item)["cost"]
    assert response.additional_kwargs["upstream_provider"] == "Inceptron"
    assert response.message.blocks[0].block_type == "thinking"


def test_llama_index_streams_the_recorded_tool_call(loopback: LoopbackServer) -> None:
    items = replay_cassette(loopback, "tool_streaming.yaml")
    from llama_index.core.tools import FunctionTool

    def get_weather(location: str) -> str:
        """Get the weather of a city."""
        return "40 C"

    responses = list(
        llm(loopback).stream_chat_with_tools(
            [FunctionTool.from_defaults(get_weather, name="weather")],
            user_msg="What's the weather in Florence?",
        )
    )
    calls = llm(loopback).get_tool_calls_from_response(responses[-1], error_on_no_tool_call=True)
    assert calls[0].tool_name == "weather"
    assert responses[-1].additional_kwargs["cost"] == recorded_usage(items[0])["cost"]


# --------------------------------------------------------------------------- routing


def test_provider_routing_goes_out_as_the_provider_field(loopback: LoopbackServer) -> None:
    replay_cassette(loopback, "simple.yaml")
    routing = {"order": ["moonshotai"], "allow_fallbacks": False}
    chat(loopback).invoke("Say hi in Portuguese", provider_routing=routing)
    assert loopback.received[0].json["provider"] == routing


def test_provider_routing_in_llama_index_additional_kwargs(loopback: LoopbackServer) -> None:
    replay_cassette(loopback, "simple.yaml")
    routing = {"sort": "price"}
    llm(loopback, additional_kwargs={"provider_routing": routing}).complete("hi")
    assert loopback.received[0].json["provider"] == routing


def test_provider_routing_is_refused_elsewhere_before_sending() -> None:
    client = kc.KimiClient(provider="moonshot", api_key="k")
    with pytest.raises(kc.ConfigurationError, match="provider_routing is OpenRouter's option"):
        client.prepare(
            model="kimi-k2.6",
            messages=[{"role": "user", "content": "hi"}],
            provider_routing={"order": ["x"]},
        )
    router = kc.KimiClient(provider="openrouter", api_key="k")
    with pytest.raises(kc.ConfigurationError, match="a non-empty dict"):
        router.prepare(
            model=MODEL,
            messages=[{"role": "user", "content": "hi"}],
            provider_routing=["moonshotai"],
        )


# --------------------------------------------------------------------------- the envelope


def envelope(raw: str, status: int, provider_name: str = "Moonshot AI") -> bytes:
    body = {
        "error": {
            "message": "Provider returned error",
            "code": status,
            "metadata": {"raw": raw, "provider_name": provider_name, "is_byok": False},
        },
        "user_id": "user_test",
    }
    return json.dumps(body).encode()


QUOTA = json.dumps(  # written here in the words of Moonshot's quota errors: not a recording
    {
        "error": {
            "message": "Your account is suspended due to insufficient balance, please recharge",
            "type": "exceeded_current_quota_error",
        }
    }
)


@pytest.mark.parametrize("provider", ["openrouter", "openai-compatible", "moonshot"])
def test_a_relayed_quota_error_is_typed_by_its_inner_body_and_not_retried(
    loopback: LoopbackServer, provider: str
) -> None:
    loopback.reply(http_response(429, envelope(QUOTA, 429)))
    client = kc.KimiClient(
        provider=provider, base_url=loopback.base_url, api_key="k", max_retries=2
    )
    with pytest.raises(kc.InsufficientQuotaError) as info:
        client.chat(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    err = info.value
    assert err.code == "exceeded_current_quota_error" and not err.retryable
    assert "insufficient balance" in err.message and "Moonshot AI" in err.message
    assert "Provider returned error" in err.message
    assert len(loopback.received) == 1  # not retried


def test_langchain_gets_the_quota_error_as_a_permission_error(loopback: LoopbackServer) -> None:
    loopback.reply(http_response(429, envelope(QUOTA, 429)))
    with pytest.raises(ModelPermissionDeniedError, match="insufficient balance"):
        chat(loopback, max_retries=2).invoke("hi")
    assert len(loopback.received) == 1


def test_llama_index_gets_the_inner_400(loopback: LoopbackServer) -> None:
    inner = recorded("moonshotai-required-tool-choice-error.json").decode()
    loopback.reply(http_response(400, envelope(inner, 400)))
    with pytest.raises(kc.BadRequestError) as info:
        llm(loopback, max_retries=0).complete("hi")
    message = json.loads(inner)["error"]["message"]
    assert message in info.value.message and "Moonshot AI" in info.value.message
    assert info.value.code == json.loads(inner)["error"]["type"]


def test_a_relayed_rate_limit_in_plain_text_is_a_rate_limit(loopback: LoopbackServer) -> None:
    raw = f"{MODEL} is temporarily rate-limited upstream. Please retry shortly."
    loopback.reply(http_response(429, envelope(raw, 429), headers={"retry-after": "0"}))
    client = kc.KimiClient(
        provider="openrouter", base_url=loopback.base_url, api_key="k", max_retries=1
    )
    with pytest.raises(kc.RateLimitError, match="temporarily rate-limited upstream") as info:
        client.chat(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert info.value.retryable and len(loopback.received) == 2


def test_a_relayed_error_inside_a_stream_is_unwrapped_too() -> None:
    payload = json.loads(envelope(QUOTA, 429))
    err = kc._error_map.stream_error_event(payload, provider="openrouter", request_id=None)
    assert err.code == "exceeded_current_quota_error"
    assert "insufficient balance" in err.message
