"""Hostile and broken peers, over raw sockets: every malformed request gets its status in
the dialect's error body and the connection closes; slow peers time out; the others keep
being served. (No timing assertions: the ceilings only catch hangs.)"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from typing import Any

import httpx
import pytest
from emu_helpers import HTTP, body, chat, headers

from kimi_emulator import KimiEmulator

#: A ceiling that only catches a hang.
HANG = 30.0


def _connect(emu: KimiEmulator) -> socket.socket:
    sock = socket.create_connection((emu.host, emu.port), timeout=HANG)
    sock.settimeout(HANG)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    out = b""
    while True:
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            return out
        if not data:
            return out
        out += data


def _response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    hdrs = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        hdrs[name.strip().lower()] = value.strip()
    return status, hdrs, rest[: int(hdrs.get("content-length", len(rest)))]


def send_raw(emu: KimiEmulator, data: bytes, *, shut: bool = False) -> tuple[int, dict[str, Any]]:
    """Send raw bytes; the status and JSON body of the one answer, checking the server
    then closes the connection."""
    with _connect(emu) as sock:
        sock.sendall(data)
        if shut:
            sock.shutdown(socket.SHUT_WR)
        raw = _read_all(sock)
    status, hdrs, payload = _response(raw)
    assert hdrs["connection"] == "close", raw[:300]
    assert hdrs["content-type"].startswith("application/json")
    return status, json.loads(payload)


def auth_head(emu: KimiEmulator, extra: str = "") -> bytes:
    return (
        f"POST {emu._dialect.chat_path} HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {emu.api_key}\r\nContent-Type: application/json\r\n{extra}"
    ).encode()


def message_of(emu: KimiEmulator, payload: dict[str, Any]) -> str:
    """The message, checking the error body has the dialect's shape."""
    err = payload["error"]
    if emu.dialect == "moonshot":
        assert set(err) == {"message", "type"}
    elif emu.dialect == "acedata":
        assert payload["success"] is False and set(err) == {"code", "message"}
    elif emu.dialect == "gptproto":
        assert set(err) == {"message", "type"} and err["type"].isdigit()
    else:
        assert set(err) == {"message", "type", "param", "code"}
    return str(err["message"])


CHAT = json.dumps({"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi"}]})


# --------------------------------------------------------------------------- recording


def test_the_key_is_checked_before_anything_is_kept(kimi_emulator_factory: Any) -> None:
    emu = kimi_emulator_factory(api_key="sk-right")
    wrong = HTTP.post(emu.chat_url, json=body(), headers={"Authorization": "Bearer sk-wrong"})
    assert wrong.status_code == 401
    assert emu.requests == [] and emu.last_request is None  # the wrong key is not kept
    assert emu.request_count == 1  # but the request is counted
    assert chat(emu, body()).status_code == 200  # emu.api_key is the right one
    assert [r.headers["authorization"] for r in emu.requests] == [f"Bearer {emu.api_key}"]


def test_the_request_log_keeps_the_last_n(kimi_emulator_factory: Any) -> None:
    default = kimi_emulator_factory()
    for _ in range(1050):
        HTTP.get(default.base_url + "/models", headers=headers(default))
    assert default.request_count == 1050
    assert len(default.requests) == 1000  # the default: the last 1,000
    small = kimi_emulator_factory(max_requests=3)
    for i in range(5):
        HTTP.get(small.base_url + f"/models?i={i}", headers=headers(small))
    assert [r.query["i"] for r in small.requests] == ["2", "3", "4"]
    none = kimi_emulator_factory(max_requests=0)
    HTTP.get(none.base_url + "/models", headers=headers(none))
    assert none.requests == [] and none.request_count == 1
    with pytest.raises(ValueError, match="max_requests"):
        KimiEmulator(max_requests=-1)


# --------------------------------------------------------------------------- malformed


def _chunked(*chunks: bytes) -> bytes:
    return b"".join(chunks)


@pytest.mark.parametrize(
    ("name", "extra", "tail", "status", "text"),
    [
        ("negative length", "Content-Length: -1\r\n", b"", 400, "bad content-length"),
        ("length not a number", "Content-Length: ten\r\n", b"", 400, "bad content-length"),
        ("length with a sign", "Content-Length: +5\r\n", b"hello", 400, "bad content-length"),
        (
            "two lengths",
            "Content-Length: 5\r\nContent-Length: 6\r\n",
            b"hello!",
            400,
            "conflicting content-length",
        ),
        (
            "oversized length",
            "Content-Length: 33554433\r\n",
            b"",
            413,
            "over the limit of 33554432 bytes",
        ),
        (
            "length and chunked",
            "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
            b"0\r\n\r\n",
            400,
            "both content-length and transfer-encoding",
        ),
        ("unknown coding", "Transfer-Encoding: gzip\r\n", b"", 501, "not supported"),
        ("chunk size not hex", "Transfer-Encoding: chunked\r\n", b"zz\r\n", 400, "chunk size"),
        ("negative chunk size", "Transfer-Encoding: chunked\r\n", b"-5\r\n", 400, "chunk size"),
        ("0x chunk size", "Transfer-Encoding: chunked\r\n", b"0x5\r\n", 400, "chunk size"),
        (
            "chunk without its CRLF",
            "Transfer-Encoding: chunked\r\n",
            b"5\r\nhelloXX",
            400,
            "not followed by CRLF",
        ),
        (
            "huge chunk size",
            "Transfer-Encoding: chunked\r\n",
            b"fffffffffff\r\n",
            413,
            "over the limit",
        ),
    ],
)
def test_bad_framing_gets_a_dialect_error(
    moonshot: KimiEmulator, name: str, extra: str, tail: bytes, status: int, text: str
) -> None:
    data = auth_head(moonshot, extra) + b"\r\n" + tail
    got, payload = send_raw(moonshot, data)
    assert got == status, (name, payload)
    assert text in message_of(moonshot, payload), name
    assert moonshot.requests == []  # nothing that could not be read is recorded


@pytest.mark.parametrize(
    ("name", "data", "status"),
    [
        ("garbage request line", b"GARBAGE\r\n\r\n", 400),
        ("HTTP/2 over HTTP/1", b"POST / HTTP/2.0\r\nHost: x\r\n\r\n", 400),
        ("header without a colon", b"GET /v1/models HTTP/1.1\r\nNoColonHere\r\n\r\n", 400),
        (
            "too many headers",
            b"GET /v1/models HTTP/1.1\r\n"
            + b"".join(b"X-%d: y\r\n" % i for i in range(101))
            + b"\r\n",
            431,
        ),
        (
            "head over 64 KiB",
            b"GET /v1/models HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n",
            431,
        ),
    ],
)
def test_bad_heads_get_a_dialect_error(
    moonshot: KimiEmulator, name: str, data: bytes, status: int
) -> None:
    got, payload = send_raw(moonshot, data)
    assert got == status, (name, payload)
    message_of(moonshot, payload)


def test_a_body_shorter_than_declared(moonshot: KimiEmulator) -> None:
    data = auth_head(moonshot, "Content-Length: 100\r\n") + b"\r\n" + b'{"model":'
    status, payload = send_raw(moonshot, data, shut=True)
    assert status == 400
    assert "ended before its declared size" in message_of(moonshot, payload)


def test_expect_100_continue(moonshot: KimiEmulator) -> None:
    head = auth_head(moonshot, f"Content-Length: {len(CHAT)}\r\nExpect: 100-continue\r\n")
    with _connect(moonshot) as sock:
        sock.sendall(head + b"\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(CHAT.encode())
        sock.shutdown(socket.SHUT_WR)
        status, _, payload = _response(_read_all(sock))
    assert status == 200 and json.loads(payload)["choices"][0]["message"]["content"]


def test_every_dialect_answers_bad_framing_in_its_own_shape(any_emu: KimiEmulator) -> None:
    status, payload = send_raw(any_emu, auth_head(any_emu, "Content-Length: -1\r\n") + b"\r\n")
    assert status == 400
    assert "bad content-length" in message_of(any_emu, payload)


def test_the_body_limit_is_configurable(kimi_emulator_factory: Any) -> None:
    emu = kimi_emulator_factory(max_body=1024)
    big = json.dumps({"model": "kimi-k2.6", "messages": [{"role": "user", "content": "x" * 2000}]})
    resp = HTTP.post(emu.chat_url, content=big, headers=headers(emu))
    assert resp.status_code == 413
    assert "over the limit of 1024 bytes" in resp.json()["error"]["message"]
    chunks = [big[i : i + 100].encode() for i in range(0, len(big), 100)]
    resp = HTTP.post(emu.chat_url, content=iter(chunks), headers=headers(emu))  # chunked
    assert resp.status_code == 413
    assert chat(emu, body()).status_code == 200  # small bodies still pass


@pytest.mark.parametrize(
    ("payload", "text"),
    [
        (b"{not json", "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"model": "kimi-k2.6", "messages": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested"),
    ],
)
def test_bad_json_gets_a_400(moonshot: KimiEmulator, payload: bytes, text: str) -> None:
    resp = HTTP.post(moonshot.chat_url, content=payload, headers=headers(moonshot))
    assert resp.status_code == 400
    assert text in message_of(moonshot, resp.json())
    assert chat(moonshot, body()).status_code == 200  # the connection pool still works


def test_deep_but_parseable_json_is_answered(moonshot: KimiEmulator) -> None:
    # 900 levels of objects (deeper than this test's own thread could parse): the server
    # parses them and its rules walk the whole tool schema without overflowing.
    level = '{"type": "object", "properties": {"a": '
    schema = level * 450 + '{"type": "string"}' + "}}" * 450
    tool = f'{{"type": "function", "function": {{"name": "deep_tool", "parameters": {schema}}}}}'
    payload = '{"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi"}], '
    payload += f'"tools": [{tool}]}}'
    resp = HTTP.post(moonshot.chat_url, content=payload.encode(), headers=headers(moonshot))
    assert resp.status_code == 200, resp.text[:300]
    assert resp.json()["choices"][0]["message"]["content"]


def test_a_failing_handler_is_a_500_in_the_dialect_shape(any_emu: KimiEmulator) -> None:
    any_emu.script(text="x", usage={"not_json": object()})  # cannot be serialised
    resp = chat(any_emu, body(MODEL_OF[any_emu.dialect]))
    assert resp.status_code == 500
    assert "the emulator failed" in message_of(any_emu, resp.json())
    assert chat(any_emu, body(MODEL_OF[any_emu.dialect])).status_code == 200


MODEL_OF = {
    "moonshot": "kimi-k2.6",
    "acedata": "kimi-k2.5",
    "evolink": "kimi-k2-thinking",
    "gptproto": "kimi-k2.5",
    "openai-compatible": "moonshotai/kimi-k2.5",
}


# --------------------------------------------------------------------------- timeouts


@pytest.fixture
def quick(kimi_emulator_factory: Any) -> KimiEmulator:
    emu: KimiEmulator = kimi_emulator_factory(
        header_timeout=0.5, body_timeout=0.5, idle_timeout=0.5
    )
    return emu


def test_a_head_that_does_not_arrive_times_out(quick: KimiEmulator) -> None:
    with _connect(quick) as sock:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")  # never ends
        raw = _read_all(sock)
    status, hdrs, payload = _response(raw)
    assert status == 408 and hdrs["connection"] == "close"
    assert "request head did not arrive within 0.5s" in json.loads(payload)["error"]["message"]


def test_a_body_that_does_not_arrive_times_out(quick: KimiEmulator) -> None:
    with _connect(quick) as sock:
        sock.sendall(auth_head(quick, "Content-Length: 500\r\n") + b"\r\n" + CHAT[:20].encode())
        raw = _read_all(sock)
    status, _, payload = _response(raw)
    assert status == 408
    assert "request body did not arrive" in json.loads(payload)["error"]["message"]


def test_an_idle_connection_is_closed_without_an_answer(quick: KimiEmulator) -> None:
    with _connect(quick) as sock:
        assert _read_all(sock) == b""


def test_trickled_bytes_do_not_extend_the_head_deadline(quick: KimiEmulator) -> None:
    data = auth_head(quick, f"Content-Length: {len(CHAT)}\r\n") + b"\r\n" + CHAT.encode()
    with _connect(quick) as sock:
        answer = b""
        for i in range(len(data)):  # one byte every 20 ms: the whole head takes seconds
            try:
                sock.sendall(data[i : i + 1])
            except (BrokenPipeError, ConnectionResetError):
                break
            time.sleep(0.02)
            sock.setblocking(False)
            try:
                answer += sock.recv(65536)
            except BlockingIOError:
                pass
            finally:
                sock.setblocking(True)
            if answer:
                break
        answer += _read_all(sock)
    assert _response(answer)[0] == 408


class SlowPeers:
    """``n`` connections that send a request head one byte at a time, round robin, and
    never finish it; ``finish()`` returns what the server sent each of them."""

    HEAD = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 200 + b"\r\n"

    def __init__(self, emu: KimiEmulator, n: int) -> None:
        self.socks = [_connect(emu) for _ in range(n)]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._trickle, daemon=True)
        self.thread.start()

    def _trickle(self) -> None:
        for pos in range(len(self.HEAD)):
            if self.stop.is_set():
                return
            for sock in self.socks:
                with contextlib.suppress(OSError):
                    sock.sendall(self.HEAD[pos : pos + 1])
            time.sleep(0.01)

    def finish(self) -> list[bytes]:
        self.stop.set()
        self.thread.join(HANG)
        answers = []
        for sock in self.socks:
            answers.append(_read_all(sock))
            sock.close()
        return answers


def test_others_are_served_while_200_sockets_trickle_their_heads(
    kimi_emulator_factory: Any,
) -> None:
    emu = kimi_emulator_factory(header_timeout=3.0)
    slow = SlowPeers(emu, 200)
    try:
        with httpx.Client(timeout=HANG) as client:
            started = time.monotonic()
            for i in range(60):
                req = body(messages=[{"role": "user", "content": f"question {i}"}])
                resp = client.post(emu.chat_url, json=req, headers=headers(emu))
                assert resp.status_code == 200
                assert f"question {i}" in resp.json()["choices"][0]["message"]["content"]
            assert time.monotonic() - started < HANG
    finally:
        answers = slow.finish()
    # Each slow socket was answered 408 (its head never came in time), then closed.
    assert [_response(a)[0] for a in answers] == [408] * 200
    assert emu.request_count == 60
