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


def test_hostile_helpers_send_what_they_say() -> None:
    import httpx
    from _loopback import chunked, http_head, send_huge, send_json, send_pieces

    with LoopbackServer() as server:
        server.reply_sequence([send_json({"n": 1}, status=503), send_json({"n": 2})])
        with httpx.Client() as http:
            first, second, third = (http.get(server.url + "/x") for _ in range(3))
        assert (first.status_code, second.json(), third.json()) == (503, {"n": 2}, {"n": 2})

        server.handler = send_huge(200, 300_000, declare_length=False, prefix=b"<", fill=b"ab")
        with httpx.Client() as http:
            body = http.get(server.url).content
        assert len(body) == 300_000 and body[:5] == b"<abab"

        head = http_head(200, content_type=None, length=5)
        assert b"content-type" not in head and b"content-length: 5" in head
        assert chunked(b"abc", last=True) == b"3\r\nabc\r\n0\r\n\r\n"

        server.handler = send_pieces([http_head(200, length=4), b"ab", b"cd"], delay=0.01)
        with httpx.Client() as http:
            assert http.get(server.url).content == b"abcd"
        assert [r.path for r in server.received] == ["/x", "/x", "/x", "/", "/"]
