"""The loopback server itself: what a test sets is what goes over the wire."""

from __future__ import annotations

from _loopback import LoopbackServer

import kimi_core as kc


def test_a_canned_answer_is_what_the_client_reads(loopback: LoopbackServer) -> None:
    loopback.reply_json(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": "kimi-k2.6",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "hi"},
                    "finish_reason": "stop",
                }
            ],
        },
        headers={"x-trace-id": "trace-1"},
    )
    client = kc.KimiClient(provider="openai-compatible", base_url=loopback.base_url, api_key="k")
    out = client.chat(model="kimi-k2.6", messages=[{"role": "user", "content": "hello"}])
    assert out.message["content"] == "hi"
    assert out.request_id == "trace-1"
    sent = loopback.received[-1]
    assert (sent.method, sent.path) == ("POST", "/v1/chat/completions")
    assert sent.headers["authorization"] == "Bearer k"
    assert sent.json["messages"] == [{"role": "user", "content": "hello"}]


def test_a_canned_stream(loopback: LoopbackServer) -> None:
    delta = {"choices": [{"index": 0, "delta": {"content": "a"}, "finish_reason": None}]}
    loopback.reply_sse([delta, delta])
    client = kc.KimiClient(provider="openai-compatible", base_url=loopback.base_url, api_key="k")
    chunks = list(client.stream(model="kimi-k2.6", messages=[{"role": "user", "content": "hi"}]))
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c.get("choices"))
    assert text == "aa"
    assert loopback.received[-1].json["stream"] is True
