"""KimiClient / AsyncKimiClient over real HTTP against the emulator: auth, headers,
retries, timeouts, streams, faults, pools, event loops, threads, platform endpoints."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest

import kimi_core as kc
from kimi_emulator import KimiEmulator

KEY = "sk-test-0123456789abcdefghijklmnop"
USER = [{"role": "user", "content": "Say hello"}]


class RecordingPolicy(kc.RetryPolicy):
    """The real delay computation, recorded; waits a millisecond instead of the delay."""

    def __init__(self) -> None:
        super().__init__()
        object.__setattr__(self, "seen", [])

    def delay(self, retry: int, headers: Mapping[str, str] | None) -> float:
        self.seen.append(super().delay(retry, headers))  # type: ignore[attr-defined]
        return 0.001


@pytest.fixture
def emu(kimi_emulator: KimiEmulator) -> KimiEmulator:
    return kimi_emulator


def client(emu: KimiEmulator, **kw: Any) -> kc.KimiClient:
    kw.setdefault("retry_policy", RecordingPolicy())
    return kc.KimiClient(provider=emu.provider, base_url=emu.base_url, api_key=KEY, **kw)


def aclient(emu: KimiEmulator, **kw: Any) -> kc.AsyncKimiClient:
    kw.setdefault("retry_policy", RecordingPolicy())
    return kc.AsyncKimiClient(provider=emu.provider, base_url=emu.base_url, api_key=KEY, **kw)


# -- whole completions ----------------------------------------------------------------


def test_chat_sends_auth_headers_and_returns_the_request_id(emu: KimiEmulator) -> None:
    emu.script(text="Hello there", reasoning="thinking about it")
    result = client(emu, default_headers={"X-App": "demo"}).chat(model="kimi-k2.6", messages=USER)
    assert result.message["content"] == "Hello there"
    assert result.message["reasoning_content"] == "thinking about it"
    assert result.request_id  # moonshot sends x-trace-id
    (req,) = emu.requests
    assert req.headers["authorization"] == f"Bearer {KEY}"
    assert req.headers["user-agent"].startswith("kimi-integrations/")
    assert req.headers["x-kimi-attempt"] == "1"
    assert req.headers["x-app"] == "demo"
    assert req.json["model"] == "kimi-k2.6" and "temperature" not in req.json


def test_validation_happens_before_anything_is_sent(emu: KimiEmulator) -> None:
    with pytest.raises(kc.ConfigurationError, match="only 1 is allowed"):
        client(emu).chat(model="kimi-k2.6", messages=USER, temperature=0.2)
    assert emu.requests == []


@pytest.mark.parametrize("dialect", ["moonshot", "acedata", "evolink", "gptproto"])
def test_each_dialect_whole_and_streamed(kimi_emulator_factory: Any, dialect: str) -> None:
    emu = kimi_emulator_factory(dialect=dialect)
    model = {"evolink": "kimi-k2-thinking", "moonshot": "kimi-k2.6"}.get(dialect, "kimi-k2.5")
    c = client(emu)
    emu.script(text="Bonjour", reasoning="r1")
    whole = c.chat(model=model, messages=USER)
    assert whole.message["content"] == "Bonjour" and whole.message["reasoning_content"] == "r1"
    emu.script(text="Bonjour", reasoning="r1")
    stream = c.stream(model=model, messages=USER)
    chunks = list(stream)
    assert (
        "".join(ch["choices"][0]["delta"].get("content") or "" for ch in chunks if ch["choices"])
        == "Bonjour"
    )
    done = stream.completion()["choices"][0]["message"]
    assert done["content"] == "Bonjour" and done["reasoning_content"] == "r1"
    usage = stream.accumulator.usage
    assert usage is not None and usage["total_tokens"] == whole.body["usage"]["total_tokens"]


# -- errors and retries -----------------------------------------------------------------


def test_429_is_retried_after_the_retry_after_it_names(emu: KimiEmulator) -> None:
    emu.fault("429", retry_after=1.5)
    policy = RecordingPolicy()
    emu.script(text="ok")
    result = client(emu, retry_policy=policy).chat(model="kimi-k2.6", messages=USER)
    assert result.message["content"] == "ok"
    assert [r.headers["x-kimi-attempt"] for r in emu.requests] == ["1", "2"]
    assert policy.seen == [1.5]  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["500", "503", "502_html"])
def test_server_errors_are_retried_with_backoff(emu: KimiEmulator, kind: str) -> None:
    emu.fault(kind)
    policy = RecordingPolicy()
    emu.script(text="ok")
    assert (
        client(emu, retry_policy=policy).chat(model="kimi-k2.6", messages=USER).message["content"]
        == "ok"
    )
    assert len(emu.requests) == 2
    assert 0.375 <= policy.seen[0] <= 0.5  # type: ignore[attr-defined]  # 0.5 s base, up to 25 % jitter


def test_retries_give_up_after_max_retries(emu: KimiEmulator) -> None:
    for _ in range(3):
        emu.fault("502_html")
    with pytest.raises(kc.InternalServerError) as info:
        client(emu, max_retries=2).chat(model="kimi-k2.6", messages=USER)
    err = info.value
    assert err.status_code == 502 and "Bad Gateway" in err.message and "<" not in err.message
    assert len(emu.requests) == 3


def test_client_errors_and_quota_are_not_retried(emu: KimiEmulator) -> None:
    emu.script(
        status=429,
        body={
            "error": {
                "type": "exceeded_current_quota_error",
                "message": "Your account is suspended",
            }
        },
    )
    with pytest.raises(kc.InsufficientQuotaError):
        client(emu).chat(model="kimi-k2.6", messages=USER)
    assert len(emu.requests) == 1
    with (
        pytest.raises(kc.NotFoundError, match="Not found the model kimi-nope"),
        pytest.warns(kc.UnknownModelWarning),
    ):
        client(emu).chat(model="kimi-nope", messages=USER)
    assert len(emu.requests) == 2


def test_typed_errors_carry_the_provider_fields(emu: KimiEmulator) -> None:
    emu.script(
        status=400,
        body={"error": {"type": "invalid_request_error", "message": "Invalid request: custom"}},
        headers={"x-trace-id": "trace-42"},
    )
    with pytest.raises(kc.BadRequestError) as info:
        client(emu).chat(model="kimi-k2.6", messages=USER)
    err = info.value
    assert (err.status_code, err.code, err.request_id, err.provider) == (
        400,
        "invalid_request_error",
        "trace-42",
        "moonshot",
    )
    assert "Invalid request: custom" in str(err) and KEY not in str(err)


def test_wrong_key_is_an_authentication_error(kimi_emulator_factory: Any) -> None:
    emu = kimi_emulator_factory(dialect="acedata", api_key="the-right-key")
    with pytest.raises(kc.AuthenticationError) as info:
        client(emu).chat(model="kimi-k2.6", messages=USER)
    assert info.value.status_code == 401 and KEY not in str(info.value)


def test_connection_refused_is_a_connection_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    policy = RecordingPolicy()
    c = kc.KimiClient(
        provider="moonshot",
        base_url=f"http://127.0.0.1:{port}/v1",
        api_key=KEY,
        retry_policy=policy,
        max_retries=1,
    )
    with pytest.raises(kc.APIConnectionError) as info:
        c.chat(model="kimi-k2.6", messages=USER)
    assert not isinstance(info.value, kc.APITimeoutError)
    assert len(policy.seen) == 1  # type: ignore[attr-defined]


def test_slow_first_byte_past_the_read_timeout_is_a_timeout(emu: KimiEmulator) -> None:
    emu.fault("slow_first_byte", seconds=2)
    with pytest.raises(kc.APITimeoutError):
        client(emu, timeout=httpx.Timeout(5, read=0.2), max_retries=0).chat(
            model="kimi-k2.6", messages=USER
        )


# -- streams --------------------------------------------------------------------------


def stream_text(chunks: list[dict[str, Any]]) -> str:
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


def test_stream_dropped_after_events_keeps_them_and_sends_one_request(emu: KimiEmulator) -> None:
    emu.fault("drop_after", events=3)
    emu.script(text="one two three four five six seven")
    received: list[dict[str, Any]] = []
    with pytest.raises(kc.StreamError) as info:
        for chunk in client(emu).stream(model="kimi-k2.6", messages=USER):
            received.append(chunk)
    assert len(received) == 3
    assert len(emu.requests) == 1
    partial = info.value.partial["choices"][0]["message"]["content"]
    assert partial == stream_text(received)


def test_stream_retried_when_it_fails_before_the_first_event(emu: KimiEmulator) -> None:
    emu.fault("drop_after", events=0)
    emu.script(text="fine", times=2)  # the dropped attempt consumes one
    chunks = list(client(emu).stream(model="kimi-k2.6", messages=USER))
    assert stream_text(chunks) == "fine"
    assert [r.headers["x-kimi-attempt"] for r in emu.requests] == ["1", "2"]


def test_stream_stall_is_a_timeout_with_the_partial(emu: KimiEmulator) -> None:
    emu.fault("stall", events=2, seconds=3)
    emu.script(text="a b c d e f")
    got: list[dict[str, Any]] = []
    with pytest.raises(kc.APITimeoutError) as info:
        for chunk in client(emu, timeout=httpx.Timeout(5, read=0.3)).stream(
            model="kimi-k2.6", messages=USER
        ):
            got.append(chunk)
    assert len(got) == 2 and len(emu.requests) == 1
    assert info.value.partial is not None


def test_malformed_event_quotes_the_bad_data(emu: KimiEmulator) -> None:
    emu.fault("malformed", events=1)
    emu.script(text="a b c")
    with pytest.raises(kc.StreamError, match="malformed event") as info:
        list(client(emu).stream(model="kimi-k2.6", messages=USER))
    assert "b'" in str(info.value)


def test_error_event_inside_the_stream(emu: KimiEmulator) -> None:
    emu.fault("error_event", events=1)
    emu.script(text="a b c")
    with pytest.raises(kc.StreamError, match="error event inside the stream") as info:
        list(client(emu).stream(model="kimi-k2.6", messages=USER))
    assert info.value.code and info.value.body["error"]


def test_truncated_stream_is_an_error_that_says_so(emu: KimiEmulator) -> None:
    emu.fault("truncated")
    emu.script(text="a b c")
    with pytest.raises(kc.StreamError, match="ended before \\[DONE\\] and before a finish_reason"):
        list(client(emu).stream(model="kimi-k2.6", messages=USER))


def test_two_calls_whose_first_delta_has_no_index(emu: KimiEmulator) -> None:
    emu.script(
        tool_calls=[
            {"name": "get_weather", "arguments": {"city": "Paris"}},
            {"name": "get_time", "arguments": {"tz": "CET"}},
        ],
        tool_call_index="omit",
    )
    stream = client(emu).stream(model="kimi-k2.6", messages=USER)
    for chunk in stream:
        for choice in chunk["choices"]:
            for tc in choice["delta"].get("tool_calls") or []:
                assert isinstance(tc["index"], int)
    calls = stream.completion()["choices"][0]["message"]["tool_calls"]
    assert [(c["function"]["name"], c["function"]["arguments"]) for c in calls] == [
        ("get_weather", '{"city": "Paris"}'),
        ("get_time", '{"tz": "CET"}'),
    ]


def test_forced_tool_that_was_not_called_raises(emu: KimiEmulator) -> None:
    tool = {
        "type": "function",
        "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}},
    }
    emu.script(text="I would rather not")
    with pytest.raises(kc.ToolCallMissingError, match="always thinks"):
        client(emu).chat(
            model="kimi-k2.7-code", messages=USER, tools=[tool], tool_choice="required"
        )
    assert emu.requests[0].json["tool_choice"] == "auto"


# -- async, loops, threads, pools -------------------------------------------------------


def test_async_client_across_successive_event_loops(emu: KimiEmulator) -> None:
    c = aclient(emu)

    async def once() -> str:
        emu.script(text="hi")
        parts = [ch async for ch in c.stream(model="kimi-k2.6", messages=USER)]
        emu.script(text="there")
        whole = await c.chat(model="kimi-k2.6", messages=USER)
        return stream_text(parts) + " " + whole.message["content"]

    assert asyncio.run(once()) == "hi there"
    assert asyncio.run(once()) == "hi there"


async def test_async_stream_fault_and_retry(emu: KimiEmulator) -> None:
    emu.fault("503")
    emu.script(text="after retry")
    chunks = [ch async for ch in aclient(emu).stream(model="kimi-k2.6", messages=USER)]
    assert stream_text(chunks) == "after retry" and len(emu.requests) == 2
    emu.fault("drop_after", events=2)
    emu.script(text="a b c d e")
    got = []
    with pytest.raises(kc.StreamError):
        async for ch in aclient(emu).stream(model="kimi-k2.6", messages=USER):
            got.append(ch)
    assert len(got) == 2


def test_one_client_from_several_threads(emu: KimiEmulator) -> None:
    c = client(emu)
    errors: list[BaseException] = []
    results: list[str] = []

    def work() -> None:
        try:
            for _ in range(5):
                results.append(c.chat(model="kimi-k2.6", messages=USER).message["content"])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(results) == 40 and all(results)


def test_one_pool_per_configuration_shared_across_clients(emu: KimiEmulator) -> None:
    from kimi_core import _pools

    a, b = client(emu), client(emu)
    other = client(emu, timeout=12.5)
    assert a._client() is b._client()
    assert other._client() is not a._client()
    assert _pools.sync_pool(a.timeout) is a._client()


def test_an_injected_http_client_is_used(emu: KimiEmulator) -> None:
    seen: list[str] = []
    with httpx.Client(event_hooks={"request": [lambda r: seen.append(str(r.url))]}) as http:
        c = client(emu, http_client=http)
        c.chat(model="kimi-k2.6", messages=USER)
    assert seen == [emu.base_url + "/chat/completions"]


# -- platform endpoints ------------------------------------------------------------------


def test_platform_endpoints_on_moonshot(emu: KimiEmulator) -> None:
    c = client(emu)
    ids = {m["id"] for m in c.list_models()}
    assert {"kimi-k3", "kimi-k2.6"} <= ids
    assert c.estimate_token_count("kimi-k2.6", USER) > 0
    assert "available_balance" in c.balance()
    uploaded = c.upload_file(b"hello file", filename="note.txt")
    assert any(f["id"] == uploaded["id"] for f in c.list_files())
    assert c.get_file(uploaded["id"])["filename"] == "note.txt"
    assert "hello file" in c.file_content(uploaded["id"])
    c.delete_file(uploaded["id"])
    assert all(f["id"] != uploaded["id"] for f in c.list_files())


async def test_platform_endpoints_async(emu: KimiEmulator) -> None:
    c = aclient(emu)
    assert await c.estimate_token_count("kimi-k2.6", USER) > 0
    assert "available_balance" in await c.balance()
    assert await c.list_models()


def test_platform_endpoints_elsewhere_say_not_supported(kimi_emulator_factory: Any) -> None:
    emu = kimi_emulator_factory(dialect="acedata")
    c = client(emu)
    with pytest.raises(kc.ConfigurationError, match="balance is not supported by acedata"):
        c.balance()
    with pytest.raises(kc.ConfigurationError, match="listing models is not supported by acedata"):
        c.list_models()
    assert emu.requests == []


# -- secrets -------------------------------------------------------------------------------


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.DEBUG):
        yield caplog


def test_the_key_never_shows(emu: KimiEmulator, debug_logs: pytest.LogCaptureFixture) -> None:
    c = client(emu)
    assert KEY not in repr(c) and KEY not in str(c)
    emu.fault("500")
    emu.script(
        status=401,
        body={
            "error": {"type": "invalid_authentication_error", "message": "Invalid Authentication"}
        },
    )
    with pytest.raises(kc.AuthenticationError) as info:
        c.chat(model="kimi-k2.6", messages=USER)
    assert KEY not in str(info.value) and KEY not in repr(info.value.body)
    assert debug_logs.records, "httpx and kimi_core log at DEBUG"
    assert all(KEY not in r.getMessage() for r in debug_logs.records)


def test_the_tls_context_is_built_once_for_every_pool_and_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kimi_core import _pools

    built: list[object] = []
    real = httpx.create_ssl_context

    def counting(*args: Any, **kw: Any) -> Any:
        built.append(object())
        return real(*args, **kw)

    monkeypatch.setattr(_pools, "_ssl", None)
    monkeypatch.setattr(httpx, "create_ssl_context", counting)

    async def pool() -> httpx.AsyncClient:
        return await _pools.async_pool(httpx.Timeout(7.25))

    first, second = asyncio.run(pool()), asyncio.run(pool())
    assert first is not second  # one pool per event loop...
    _pools.sync_pool(httpx.Timeout(7.5))
    assert len(built) == 1  # ...and a single TLS context for all of them


def test_a_transport_error_never_echoes_the_key(emu: KimiEmulator) -> None:
    c = client(emu, max_retries=0)
    c._api_key = KEY + "\n"  # what resolve_api_key now refuses: httpx names the header
    with pytest.raises(kc.APIConnectionError) as info:
        c.chat(model="kimi-k2.6", messages=USER)
    assert KEY not in str(info.value) and "**********" in str(info.value)
    import traceback

    assert KEY not in "".join(traceback.format_exception(info.value))


# -- retry timing rules (pure), total timeout, the in-stream retry ---------------------


def test_retry_policy_delays() -> None:
    import email.utils
    import time

    p = kc.RetryPolicy()
    assert p.delay(0, {"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert p.delay(0, {"retry-after": "3"}) == 3.0
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= p.delay(0, {"retry-after": future}) <= 30
    assert p.delay(0, {"retry-after": "3600"}) == 60.0  # capped
    assert p.delay(0, {"retry-after": email.utils.formatdate(time.time() - 30, usegmt=True)}) == 0.0
    for n, top in ((0, 0.5), (1, 1.0), (2, 2.0), (5, 8.0), (9, 8.0)):
        for _ in range(20):
            assert top * 0.75 <= p.delay(n, {"retry-after": "soon"}) <= top  # unparseable: backoff
            assert top * 0.75 <= p.delay(n, None) <= top


def test_total_timeout_bounds_a_stream_that_stalls(emu: KimiEmulator) -> None:
    emu.fault("stall", events=2, seconds=3)
    emu.script(text="a b c d e f g h")
    c = client(emu, timeout=httpx.Timeout(10), total_timeout=0.5, max_retries=3)
    got: list[dict[str, Any]] = []
    with pytest.raises(kc.APITimeoutError) as info:
        for chunk in c.stream(model="kimi-k2.6", messages=USER):
            got.append(chunk)
    assert len(got) == 2 and info.value.partial is not None
    assert len(emu.requests) == 1


def test_total_timeout_bounds_retries_and_a_slow_answer(emu: KimiEmulator) -> None:
    emu.fault("slow_first_byte", seconds=3)
    c = client(emu, timeout=httpx.Timeout(10), total_timeout=0.5, max_retries=3)
    with pytest.raises(kc.APITimeoutError):
        c.chat(model="kimi-k2.6", messages=USER)
    assert len(emu.requests) == 1  # the deadline passed: no retry after it


async def test_total_timeout_async(emu: KimiEmulator) -> None:
    emu.fault("slow_first_byte", seconds=3)
    c = aclient(emu, timeout=httpx.Timeout(10), total_timeout=0.5, max_retries=3)
    with pytest.raises(kc.APITimeoutError):
        await c.chat(model="kimi-k2.6", messages=USER)


def test_stream_whose_body_breaks_before_the_first_event_is_retried(emu: KimiEmulator) -> None:
    # The head arrives (200), then the body stalls before any event: retried in the
    # iterator, not in the request.
    emu.fault("stall", events=0, seconds=3)
    emu.script(text="second try", times=2)
    chunks = list(
        client(emu, timeout=httpx.Timeout(5, read=0.3)).stream(model="kimi-k2.6", messages=USER)
    )
    assert stream_text(chunks) == "second try"
    assert [r.headers["x-kimi-attempt"] for r in emu.requests] == ["1", "2"]


async def test_stream_whose_body_breaks_before_the_first_event_is_retried_async(
    emu: KimiEmulator,
) -> None:
    emu.fault("stall", events=0, seconds=3)
    emu.script(text="second try", times=2)
    c = aclient(emu, timeout=httpx.Timeout(5, read=0.3))
    chunks = [ch async for ch in c.stream(model="kimi-k2.6", messages=USER)]
    assert stream_text(chunks) == "second try"
    assert [r.headers["x-kimi-attempt"] for r in emu.requests] == ["1", "2"]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_total_timeout_between_chunks_is_a_timeout_with_the_partial(
    emu: KimiEmulator, mode: str
) -> None:
    # Each event arrives well within the read timeout; the whole stream does not.
    emu.script(text=" ".join(["word"] * 60), delay=0.05)
    kw: dict[str, Any] = {"timeout": httpx.Timeout(10), "total_timeout": 0.4}
    got: list[dict[str, Any]] = []

    async def consume() -> None:
        async for chunk in aclient(emu, **kw).stream(model="kimi-k2.6", messages=USER):
            got.append(chunk)

    with pytest.raises(kc.APITimeoutError, match="total timeout") as info:
        if mode == "sync":
            for chunk in client(emu, **kw).stream(model="kimi-k2.6", messages=USER):
                got.append(chunk)
        else:
            asyncio.run(consume())
    assert got and info.value.partial["choices"][0]["message"]["content"] == stream_text(got)


# -- the deadline and body-reading rules (IO-free, shared by both drivers) -----------------


def test_a_deadline_caps_each_attempt_and_raises_once_passed() -> None:
    from kimi_core._deadline import Deadline

    base = httpx.Timeout(connect=10, read=600, write=60, pool=60)
    assert Deadline(None, "p").attempt_timeout(base) is base
    capped = Deadline(2, "p").attempt_timeout(base)
    assert all(0 < v <= 2 for v in (capped.connect, capped.read, capped.write, capped.pool))  # type: ignore[operator]
    passed = Deadline(0.001, "p")
    time.sleep(0.01)
    with pytest.raises(kc.APITimeoutError, match=r"total timeout of 0\.001 s exceeded before"):
        passed.attempt_timeout(base)


def test_a_retry_wait_longer_than_the_time_left_raises_the_cause() -> None:
    from kimi_core._deadline import Deadline

    status = kc.RateLimitError("slow down", status_code=429, provider="p")
    assert Deadline(None, "p").retry_wait(99.0, status) == 99.0
    assert Deadline(10, "p").retry_wait(0.5, status) == 0.5
    with pytest.raises(kc.RateLimitError, match=r"slow down \(not retried: the wait .* \(5.0 s\)"):
        Deadline(1, "p").retry_wait(5.0, status)
    broken = kc.APIConnectionError("connection failed: ReadError", provider="p")
    with pytest.raises(
        kc.APITimeoutError, match="would pass before a retry after: connection failed"
    ) as info:
        Deadline(1, "p").retry_wait(5.0, broken)
    assert info.value.__cause__ is broken


def test_a_body_reader_keeps_to_its_limit_and_the_deadline() -> None:
    from kimi_core._deadline import BodyReader, Deadline, check_limit

    ok = BodyReader(10, Deadline(None, "p"), "the answer")
    assert ok.feed(b"12345") and ok.feed(b"12345") and ok.body(200) == b"1234512345"
    over = BodyReader(10, Deadline(None, "p"), "the answer")
    assert over.feed(b"1234567") and not over.feed(b"89abc")
    assert over.error_body() == b"123456789a" and over.truncated
    with pytest.raises(kc.StreamError, match="is longer, more than max_body_bytes=10"):
        over.body(200)
    late = BodyReader(10, Deadline(0.001, "p"), "the HTTP 500 error body", "rid")
    time.sleep(0.01)
    with pytest.raises(kc.APITimeoutError, match="while reading the HTTP 500 error body") as info:
        late.feed(b"x")
    assert info.value.request_id == "rid"
    assert check_limit({"content-length": "11"}, 10) == 11
    assert check_limit({"content-length": "10"}, 10) is None
    assert check_limit({"content-length": "nope"}, 10) is None


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("max_event_bytes", 0),
        ("max_body_bytes", -1),
        ("max_error_bytes", True),
        ("max_event_bytes", 1.5),
        ("total_timeout", 0),
        ("total_timeout", "3"),
    ],
)
def test_limits_and_the_deadline_are_checked(param: str, value: Any) -> None:
    with pytest.raises(kc.ConfigurationError, match=f"{param}={value!r} is not accepted"):
        kc.KimiClient(provider="moonshot", api_key=KEY, **{param: value})
