"""Redirects and wrong content: a 3xx is an error naming the status and where it points
(never followed, never taken for a success); a stream answered with something other
than an event stream says what came."""

from __future__ import annotations

import json

import pytest
from _loopback import LoopbackServer, http_response, send_json

import kimi_core as kc

from .wire import MODEL, USER, aclient, acollect, client, collect, completion, delta, event, text_of


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("stream", [False, True])
def test_a_redirect_is_an_error_naming_where_it_points(
    loopback: LoopbackServer, status: int, stream: bool
) -> None:
    target = "https://elsewhere.example/v1/chat/completions"
    loopback.reply(http_response(status, b"moved", headers={"location": target}))
    c = client(loopback.base_url, max_retries=3)
    with pytest.raises(kc.APIStatusError) as info:
        if stream:
            list(c.stream(model=MODEL, messages=USER))
        else:
            c.chat(model=MODEL, messages=USER)
    err = info.value
    assert err.status_code == status and target in str(err) and f"HTTP {status}" in str(err)
    assert "does not follow redirects" in err.message and not err.retryable
    assert len(loopback.received) == 1  # not retried, not followed


async def test_a_redirect_without_location_async(loopback: LoopbackServer) -> None:
    loopback.reply(http_response(307, b""))
    with pytest.raises(kc.APIStatusError, match="without a Location header"):
        await aclient(loopback.base_url).chat(model=MODEL, messages=USER)


# -- a stream answered with something else -----------------------------------------------


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_stream_answered_with_a_whole_completion(loopback: LoopbackServer, mode: str) -> None:
    loopback.reply_json(completion("the whole answer"))
    c = client if mode == "sync" else aclient
    run = collect if mode == "sync" else acollect
    chunks, err = run(c(loopback.base_url).stream(model=MODEL, messages=USER))
    assert chunks == [] and isinstance(err, kc.StreamError)
    assert err.status_code == 200 and "'application/json'" in str(err)
    assert "whole chat completion (the server ignored stream=true)" in str(err)
    assert err.body["choices"][0]["message"]["content"] == "the whole answer"


def test_a_stream_answered_with_an_html_page(loopback: LoopbackServer) -> None:
    page = b"<html><body><h1>Welcome to the captive portal</h1></body></html>"
    loopback.reply(http_response(200, page, content_type="text/html"))
    _chunks, err = collect(client(loopback.base_url).stream(model=MODEL, messages=USER))
    assert isinstance(err, kc.StreamError)
    assert "HTTP 200 with 'text/html'" in str(err) and "captive portal" in str(err)


def test_a_stream_answered_with_an_error_body_under_200(loopback: LoopbackServer) -> None:
    # AceData answers errors with HTTP 200 and "success": false.
    loopback.reply_json({"success": False, "error": {"code": "used_up", "message": "No balance"}})
    _chunks, err = collect(client(loopback.base_url).stream(model=MODEL, messages=USER))
    assert isinstance(err, kc.InsufficientQuotaError) and "No balance" in str(err)


def test_a_stream_with_an_empty_body(loopback: LoopbackServer) -> None:
    loopback.reply(http_response(200, b"", content_type="application/json"))
    _chunks, err = collect(client(loopback.base_url).stream(model=MODEL, messages=USER))
    assert isinstance(err, kc.StreamError) and "an empty body" in str(err)


def test_a_huge_non_stream_body_for_a_stream_stops_at_max_error_bytes(
    loopback: LoopbackServer,
) -> None:
    loopback.reply(http_response(200, b"x" * (3 * 1024 * 1024), content_type="text/plain"))
    _chunks, err = collect(
        client(loopback.base_url, max_error_bytes=65536).stream(model=MODEL, messages=USER)
    )
    assert isinstance(err, kc.StreamError) and "'text/plain'" in str(err)
    assert len(str(err)) < 1000


@pytest.mark.parametrize("ctype", [None, "text/plain; charset=utf-8", "application/octet-stream"])
def test_an_event_stream_under_another_content_type_is_still_read(
    loopback: LoopbackServer, ctype: str | None
) -> None:
    body = b"\n" + event(delta("fine")) + event(delta("", "stop")) + b"data: [DONE]\n\n"
    loopback.reply(http_response(200, body, content_type=ctype))
    chunks, err = collect(client(loopback.base_url).stream(model=MODEL, messages=USER))
    assert err is None and text_of(chunks) == "fine"


def test_an_event_stream_type_with_parameters(loopback: LoopbackServer) -> None:
    body = event(delta("ok", "stop")) + b"data: [DONE]\n\n"
    loopback.reply(http_response(200, body, content_type="Text/Event-Stream; charset=UTF-8"))
    chunks, err = collect(client(loopback.base_url).stream(model=MODEL, messages=USER))
    assert err is None and text_of(chunks) == "ok"


def test_a_retry_after_a_redirect_is_never_made(loopback: LoopbackServer) -> None:
    loopback.reply_sequence(
        [
            send_json({"error": {"message": "busy"}}, status=503),
            send_json({}, status=301, headers={"location": "http://x/"}),
            send_json(completion()),
        ]
    )
    policy = kc.RetryPolicy(base=0.001)
    with pytest.raises(kc.APIStatusError) as info:
        client(loopback.base_url, max_retries=5, retry_policy=policy).chat(
            model=MODEL, messages=USER
        )
    assert info.value.status_code == 301 and len(loopback.received) == 2
    assert json.loads(loopback.received[0].body)["model"] == MODEL
