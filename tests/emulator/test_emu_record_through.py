"""Record-through: the emulator forwards to an upstream with the caller's key, reports the
Kimi rules a request breaks (refuses it with strict), and writes cassettes without any
credential. The upstream here is a second emulator on loopback that accepts one key."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from emu_helpers import WEATHER_TOOL

from kimi_emulator import ChatRequest, KimiEmulator, Reply

SECRET = "sk-live-Zq81-DO-NOT-LEAK-4f0c"


def _weather(request: ChatRequest) -> Reply:
    last = request.messages[-1]
    if last["role"] == "tool":
        return Reply(content=f"Lima: {last['content']}.", reasoning="Answer from the result.")
    if not request.functions:
        return Reply(content=f"echo: {last['content']}", reasoning="Plain.")
    return Reply(
        reasoning="Call the tool.",
        tool_calls=[{"name": "get_weather", "arguments": {"city": "Lima"}}],
    )


@pytest.fixture
def upstream() -> Iterator[KimiEmulator]:
    with KimiEmulator(api_key=SECRET, responder=_weather) as emu:
        yield emu


def _post(emu: KimiEmulator, body: dict[str, Any], key: str = SECRET) -> httpx.Response:
    return httpx.post(
        emu.chat_url, json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )


def _turns(proxy: KimiEmulator) -> tuple[dict[str, Any], dict[str, Any]]:
    ask = {
        "model": "kimi-k2.6",
        "messages": [{"role": "user", "content": "Weather in Lima?"}],
        "tools": [WEATHER_TOOL],
    }
    first = _post(proxy, ask)
    assert first.status_code == 200, first.text
    message = first.json()["choices"][0]["message"]
    result = {"role": "tool", "tool_call_id": message["tool_calls"][0]["id"], "content": "19 C"}
    second = _post(proxy, {**ask, "messages": [*ask["messages"], message, result]})
    assert second.status_code == 200, second.text
    return first.json(), second.json()


def _files_text(folder: Path) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*")) if p.is_file())


def test_record_through_then_replay_with_rules(upstream: KimiEmulator, tmp_path: Path) -> None:
    with KimiEmulator(upstream=upstream.base_url, record=str(tmp_path)) as proxy:
        first, second = _turns(proxy)
        # The key's text also goes into a body, and the upstream echoes it back.
        echoed = _post(proxy, {"model": "kimi-k2.6", "messages": [
            {"role": "user", "content": f"my key is {SECRET}"}]})  # fmt: skip
        assert SECRET in echoed.text  # relayed to the caller as it came
        wrong = _post(proxy, {"model": "kimi-k2.6", "messages": [
            {"role": "user", "content": "hi"}]}, key="sk-wrong-key-123456")  # fmt: skip
        assert wrong.status_code == 401  # the upstream's answer, relayed
    assert second["choices"][0]["message"]["content"] == "Lima: 19 C."
    assert [r.headers["authorization"] for r in upstream.requests[:2]] == [f"Bearer {SECRET}"] * 2
    cassettes = list(tmp_path.glob("*.json"))
    assert len(cassettes) == 1
    text = _files_text(tmp_path)
    assert SECRET not in text and "sk-wrong-key-123456" not in text
    assert "authorization" not in text.lower()
    data = json.loads(cassettes[0].read_text())
    assert [i["response"]["status"]["code"] for i in data["interactions"]] == [200, 200, 200, 401]
    # Replay: the same app gets the same answers, with Kimi's rules still checked.
    with KimiEmulator(recordings=tmp_path) as replay:
        again_first, again_second = _turns(replay)
        assert (
            again_first["choices"][0]["message"]["tool_calls"][0]["function"]
            == (first["choices"][0]["message"]["tool_calls"][0]["function"])
        )
        assert again_second["choices"][0]["message"]["content"] == "Lima: 19 C."
        bad = _post(replay, {"model": "kimi-k2.6", "messages": [
            {"role": "user", "content": "Weather in Lima?"}], "top_p": 0.5})  # fmt: skip
        assert bad.status_code == 400  # kimi-k2.6 fixes top_p while thinking


def test_broken_rules_are_reported_then_forwarded(upstream: KimiEmulator) -> None:
    body = {"model": "kimi-k3", "messages": [{"role": "user", "content": "hi"}],
            "temperature": 0.2}  # fmt: skip
    with KimiEmulator(upstream=upstream.base_url) as proxy:
        resp = _post(proxy, body)
        assert resp.headers["x-kimi-emulator-broken-rules"] == "1"
        assert upstream.request_count == 1  # forwarded: the provider has the last word
        assert resp.status_code == 400  # (this upstream is an emulator: it refuses too)
        [report] = proxy.rule_reports
        assert report.forwarded and report.model == "kimi-k3"
        assert any("only 1 is allowed" in rule for rule in report.rules)
        ok = _post(proxy, {**body, "temperature": 1})
        assert ok.headers["x-kimi-emulator-broken-rules"] == "0"
        assert len(proxy.rule_reports) == 1
        # Two rules at once (kimi-k2.6 thinks by default): both are reported.
        two = {
            "model": "kimi-k2.6",
            "messages": [{"role": "user", "content": "Weather in Lima?"}],
            "temperature": 0.3,
            "tools": [WEATHER_TOOL],
            "tool_choice": "required",
        }
        assert _post(proxy, two).headers["x-kimi-emulator-broken-rules"] == "2"
        rules = proxy.rule_reports[-1].rules
        assert any("temperature" in rule for rule in rules), rules
        assert any("tool_choice" in rule for rule in rules), rules


def test_strict_refuses_before_forwarding(upstream: KimiEmulator) -> None:
    body = {"model": "kimi-k3", "messages": [{"role": "user", "content": "hi"}],
            "temperature": 0.2}  # fmt: skip
    with KimiEmulator(upstream=upstream.base_url, strict=True) as proxy:
        resp = _post(proxy, body)
        assert resp.status_code == 400
        assert "only 1 is allowed" in resp.json()["error"]["message"]
        assert upstream.request_count == 0
        assert not proxy.rule_reports[0].forwarded


def test_an_unreachable_upstream_is_a_clear_502() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with KimiEmulator(upstream=f"http://127.0.0.1:{port}/v1") as proxy:
        resp = _post(proxy, {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "x"}]})
        assert resp.status_code == 502
        assert "could not be reached" in resp.json()["error"]["message"]


def test_record_needs_an_upstream(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs upstream"):
        KimiEmulator(record=str(tmp_path))
    with pytest.raises(ValueError, match="http"):
        KimiEmulator(upstream="ftp://example.invalid")


def test_the_command_records_through(upstream: KimiEmulator, tmp_path: Path) -> None:
    import subprocess
    import sys

    bad = subprocess.run(
        [sys.executable, "-m", "kimi_emulator", "--record", str(tmp_path)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert bad.returncode != 0 and "--upstream" in bad.stderr
    args = [sys.executable, "-m", "kimi_emulator", "--port", "0", "--upstream",
            upstream.base_url, "--record", str(tmp_path / "rec")]  # fmt: skip
    with subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            base = proc.stdout.readline().rsplit(" ", 1)[-1].strip()
            line = "banner"
            while line and "Record-through" not in line:
                line = proc.stdout.readline()  # "" once the process ended
            resp = httpx.post(
                base + "/chat/completions",
                json={"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi"}]},
                headers={"Authorization": f"Bearer {SECRET}"},
                timeout=30,
            )
            assert resp.status_code == 200 and "echo: hi" in resp.text
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    text = _files_text(tmp_path / "rec")
    assert "echo: hi" in text and SECRET not in text


def test_a_stream_is_relayed_as_it_arrives(tmp_path: Path) -> None:
    """A loopback upstream sends the first event, then waits until the caller has read
    it: the caller can only get it if the proxy relays before the body is whole."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    first_read = threading.Event()
    chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
             "model": "kimi-k2.6", "choices": [{"index": 0, "delta": {"content": "Hi"},
                                               "finish_reason": None}]}  # fmt: skip

    class Upstream(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for event in (f"data: {json.dumps(chunk)}\n\n", "data: [DONE]\n\n"):
                data = event.encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
                first_read.wait(30)  # the rest only once the caller has the first
            self.wfile.write(b"0\r\n\r\n")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        upstream = f"http://127.0.0.1:{server.server_address[1]}/v1"
        with KimiEmulator(upstream=upstream, record=str(tmp_path)) as proxy:
            body = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi"}],
                    "stream": True}  # fmt: skip
            with httpx.stream("POST", proxy.chat_url, json=body, timeout=30,
                              headers={"Authorization": f"Bearer {SECRET}"}) as resp:  # fmt: skip
                lines = resp.iter_lines()
                first = next(line for line in lines if line.startswith("data: "))
                assert json.loads(first[6:])["choices"][0]["delta"]["content"] == "Hi"
                assert not list(tmp_path.glob("*.json"))  # recorded only once whole
                first_read.set()
                assert "data: [DONE]" in list(lines)
        [cassette] = tmp_path.glob("*.json")
        assert "[DONE]" in cassette.read_text() and SECRET not in cassette.read_text()
    finally:
        first_read.set()
        server.shutdown()
        server.server_close()
