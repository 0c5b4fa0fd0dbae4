"""Linear, bounded parsing against a hostile server: huge events, bodies and error
pages end quickly as typed errors, reading no more than the limits.

Wall-clock ceilings here only catch hangs and quadratic work (on main a 4 MiB event in
1 KiB reads took 15 s and a 256 KiB page of ``<`` more than 20 s); they are 10x and more
above what the linear code needs on a slow machine.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from _loopback import Conn, LoopbackServer, Received, http_head, send_huge

import kimi_core as kc
from kimi_core._error_map import make_status_error
from kimi_core._sse import SSEDecoder

from .wire import MODEL, USER, client, collect, completion, delta, event, text_of, within

MiB = 1024 * 1024


def counting_huge(status: int, size: int, sent: list[int], **kw: Any) -> Any:
    """``send_huge`` that records how many bytes the client took before it stopped."""
    inner = send_huge(status, size, **kw)

    def handler(request: Received, conn: Conn) -> None:
        real = conn.send

        def send(data: bytes) -> None:
            real(data)
            sent[0] += len(data)

        conn.send = send  # type: ignore[method-assign]
        inner(request, conn)

    return handler


# -- the SSE decoder -----------------------------------------------------------------


def test_a_15_mib_event_in_1_kib_reads_is_decoded_in_linear_time() -> None:
    body = event(delta("x" * (15 * MiB)))
    decoder = SSEDecoder()

    def feed() -> list[bytes]:
        out: list[bytes] = []
        for i in range(0, len(body), 1024):
            out += decoder.decode(body[i : i + 1024])
        return out

    (payload,) = within(20, feed)
    assert json.loads(payload)["choices"][0]["delta"]["content"] == "x" * (15 * MiB)


def test_a_4_mib_event_trickled_in_1_kib_sends_over_the_wire(loopback: LoopbackServer) -> None:
    body = event(delta("y" * (4 * MiB), "stop")) + b"data: [DONE]\n\n"
    head = http_head(200, content_type="text/event-stream", length=len(body))
    loopback.reply_pieces([head] + [body[i : i + 1024] for i in range(0, len(body), 1024)])
    chunks, err = within(
        20, lambda: collect(client(loopback.base_url).stream(model=MODEL, messages=USER))
    )
    assert err is None and text_of(chunks) == "y" * (4 * MiB)


def test_an_event_over_max_event_bytes_is_a_stream_error_after_the_good_ones(
    loopback: LoopbackServer,
) -> None:
    big = event(delta("z" * 100_000))
    loopback.reply_sse([delta("kept"), big.decode()[6:-2]])  # one read: a good event, a big one
    c = client(loopback.base_url, max_event_bytes=64 * 1024)
    chunks, err = collect(c.stream(model=MODEL, messages=USER))
    assert text_of(chunks) == "kept"
    assert isinstance(err, kc.StreamError) and "max_event_bytes=65536" in str(err)
    assert err.partial["choices"][0]["message"]["content"] == "kept"


def test_an_endless_event_stops_at_the_default_16_mib(loopback: LoopbackServer) -> None:
    sent = [0]
    loopback.handler = counting_huge(
        200, 200 * MiB, sent, content_type="text/event-stream", prefix=b"data: "
    )
    chunks, err = within(
        60, lambda: collect(client(loopback.base_url).stream(model=MODEL, messages=USER))
    )
    assert chunks == [] and isinstance(err, kc.StreamError)
    assert f"max_event_bytes={16 * MiB}" in str(err)
    assert sent[0] < 64 * MiB  # it stopped reading, well before the 200 MiB


# -- non-streamed bodies ---------------------------------------------------------------


def test_a_body_declared_over_max_body_bytes_is_not_read(loopback: LoopbackServer) -> None:
    sent = [0]
    loopback.handler = counting_huge(200, 80 * MiB, sent)
    with pytest.raises(kc.StreamError, match="declares 83886080 bytes, more than max_body_bytes"):
        within(30, lambda: client(loopback.base_url).chat(model=MODEL, messages=USER))
    assert sent[0] < 32 * MiB


def test_a_chunked_body_over_a_configured_limit_stops_at_it(loopback: LoopbackServer) -> None:
    sent = [0]
    loopback.handler = counting_huge(200, 20 * MiB, sent, declare_length=False)
    c = client(loopback.base_url, max_body_bytes=MiB)
    with pytest.raises(kc.StreamError, match="is longer, more than max_body_bytes=1048576"):
        within(30, lambda: c.chat(model=MODEL, messages=USER))
    assert sent[0] < 16 * MiB


def test_a_body_under_the_limit_is_read_whole(loopback: LoopbackServer) -> None:
    loopback.reply_json(completion("w" * 500_000))
    out = client(loopback.base_url, max_body_bytes=MiB).chat(model=MODEL, messages=USER)
    assert out.message["content"] == "w" * 500_000


# -- error bodies ----------------------------------------------------------------------


@pytest.mark.parametrize("size", [64 * 1024, 256 * 1024, 100 * MiB])
def test_an_error_page_of_angle_brackets_does_not_freeze(
    loopback: LoopbackServer, size: int
) -> None:
    sent = [0]
    loopback.handler = counting_huge(502, size, sent, content_type="text/html", fill=b"<")
    with pytest.raises(kc.InternalServerError) as info:
        within(30, lambda: client(loopback.base_url).chat(model=MODEL, messages=USER))
    assert info.value.status_code == 502 and len(str(info.value)) < 1000
    assert sent[0] < 32 * MiB  # at most max_error_bytes (1 MiB) is read, plus socket buffers


def test_an_error_body_is_read_up_to_max_error_bytes(loopback: LoopbackServer) -> None:
    sent = [0]
    body = json.dumps({"error": {"type": "server_error", "message": "m" * (3 * MiB)}})
    loopback.handler = counting_huge(500, 50 * MiB, sent, prefix=body.encode(), fill=b" ")
    c = client(loopback.base_url, max_error_bytes=MiB)
    with pytest.raises(kc.InternalServerError) as info:
        within(30, lambda: c.chat(model=MODEL, messages=USER))
    # Cut at the limit the body is no longer JSON: its excerpt is the message.
    assert info.value.status_code == 500 and len(info.value.message) <= 300
    assert sent[0] < 32 * MiB


def test_a_whole_json_error_keeps_a_bounded_message(loopback: LoopbackServer) -> None:
    loopback.reply_json({"error": {"type": "server_error", "message": "m" * 100_000}}, status=500)
    with pytest.raises(kc.InternalServerError) as info:
        client(loopback.base_url).chat(model=MODEL, messages=USER)
    assert info.value.code == "server_error" and len(info.value.message) == 2000


@pytest.mark.parametrize("size", [64 * 1024, 256 * 1024, 4 * MiB])
def test_the_excerpt_is_linear_in_any_page(size: int) -> None:
    for page in (b"<" * size, b"<script" * (size // 7), b"<a" * (size // 2), b"<<>" * (size // 3)):
        err = within(10, lambda page=page: make_status_error(502, page, provider="p"))
        assert isinstance(err, kc.InternalServerError) and len(err.message) <= 300


def test_the_excerpt_keeps_the_readable_text() -> None:
    page = (
        b"<html><head><title>502 Bad Gateway</title><style>body{color:red}</style>"
        b"<script>var a = '<b>';</script></head><body><center><h1>502 Bad Gateway</h1>"
        b"</center><hr><center>nginx</center></body></html>"
    )
    err = make_status_error(502, page, provider="p")
    assert err.message == "502 Bad Gateway 502 Bad Gateway nginx"
    assert make_status_error(503, b"upstream < overloaded", provider="p").message == (
        "upstream < overloaded"
    )
