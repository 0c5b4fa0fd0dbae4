"""Property tests over the wire (hypothesis): random bytes, random JSON shapes at every
level of a chunk, a completion and an error body, and random splits into reads. The
client always ends (in time proportional to the input: a generous ceiling per example
only catches a hang), raises only ``kimi_core`` errors, and ``.partial`` holds exactly
what was delivered, a prefix of what the server sent."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
from typing import Any

import pytest
from _loopback import LoopbackServer, http_head, http_response, send_pieces
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kimi_core as kc

from .wire import MODEL, USER, aclient, client, completion, delta, splits, within

WIRE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def loopback() -> Any:
    """One server for every example of the module (each example sets its handler)."""
    with LoopbackServer() as server:
        yield _Quiet(server)


class _Quiet:
    """The server, shown briefly in hypothesis' reports."""

    def __init__(self, server: LoopbackServer) -> None:
        self.server = server

    def __getattr__(self, name: str) -> Any:
        return getattr(self.server, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "server":
            object.__setattr__(self, name, value)
        else:
            setattr(self.server, name, value)

    def __repr__(self) -> str:
        return "loopback"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["choices", "delta", "content", "index", "error", "message", "x"]),
            inner,
            max_size=3,
        )
    ),
    max_leaves=8,
)


def paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into ``doc`` (dict keys and list positions)."""
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += paths(v, (*prefix, i))
    return out


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> Any:
    """``base`` with one value somewhere in it replaced by random JSON, or dropped, or
    the whole replaced."""
    doc = copy.deepcopy(base)
    where = draw(st.sampled_from([(), *paths(doc)]))
    value = draw(json_values)
    if not where:
        return value
    node = doc
    for key in where[:-1]:
        node = node[key]
    if draw(st.booleans()) and isinstance(node, dict):
        del node[where[-1]]
    else:
        node[where[-1]] = value
    return doc


def texts_sent(events: list[Any]) -> dict[int, str]:
    """Per choice index, the text of every string content the server sent, in order."""
    out: dict[int, str] = {}
    for ev in events:
        choices = ev.get("choices") if isinstance(ev, dict) else None
        if not isinstance(choices, list):
            continue
        for ch in choices:
            if not isinstance(ch, dict):
                continue
            index = ch.get("index") or 0
            d = ch.get("delta")
            if isinstance(index, int) and isinstance(d, dict) and isinstance(d.get("content"), str):
                out[index] = out.get(index, "") + d["content"]
    return out


def consume(stream: Any) -> tuple[dict[int, str], BaseException | None]:
    delivered: dict[int, str] = {}
    try:
        for chunk in stream:
            for ch in chunk.get("choices") or ():
                text = (ch.get("delta") or {}).get("content") or ""
                delivered[ch.get("index") or 0] = delivered.get(ch.get("index") or 0, "") + text
    except BaseException as exc:
        return delivered, exc
    return delivered, None


def check_partial(
    delivered: dict[int, str], err: BaseException | None, sent: dict[int, str]
) -> None:
    if err is None:
        return
    assert isinstance(err, kc.KimiError), repr(err)
    partial = err.partial
    if partial is None:
        assert not any(delivered.values())  # nothing was delivered before it
        return
    got = {c["index"]: c["message"]["content"] for c in partial["choices"]}
    for index, text in delivered.items():
        assert got.get(index, "") == text  # everything delivered is in .partial...
    for index, text in got.items():
        assert sent.get(index, "").startswith(text)  # ...which is a prefix of what was sent


SEPARATORS = st.sampled_from([b"\n\n", b"\r\n\r\n", b"\r\r", b"\n: ping\n\n"])
good_events = st.lists(st.text(max_size=6).map(delta), max_size=4)


@st.composite
def streams(draw: st.DrawFn) -> tuple[list[Any], bytes]:
    """A stream: good deltas, some mutated at any level, some random bytes, maybe an end."""
    events: list[Any] = []
    body = b""
    for ev in draw(good_events):
        if draw(st.integers(0, 3)) == 0:
            ev = draw(mutated(ev))
        events.append(ev)
        body += b"data: " + json.dumps(ev).encode() + draw(SEPARATORS)
    if draw(st.booleans()):
        body += draw(st.binary(max_size=60))
    end = draw(st.sampled_from([b"", b"data: [DONE]\n\n", json.dumps(delta("", "stop")).encode()]))
    if end.startswith(b"{"):
        events.append(json.loads(end))
        end = b"data: " + end + b"\n\n"
    return events, body + end


@WIRE
@given(
    stream=streams(),
    cuts=st.lists(st.integers(min_value=0), max_size=8),
    ctype=st.sampled_from(["text/event-stream", "text/event-stream", None, "application/json"]),
    delay=st.sampled_from([0.0, 0.0, 0.001]),
)
def test_any_stream_ends_in_a_typed_error_or_an_answer(
    loopback: Any,
    stream: tuple[list[Any], bytes],
    cuts: list[int],
    ctype: str | None,
    delay: float,
) -> None:
    events, body = stream
    head = http_head(200, content_type=ctype, length=len(body))
    loopback.handler = send_pieces([head, *splits(body, cuts)], delay=delay)
    c = client(loopback.base_url, max_event_bytes=4096)
    delivered, err = within(20, lambda: consume(c.stream(model=MODEL, messages=USER)))
    check_partial(delivered, err, texts_sent(events))


@WIRE
@given(body=st.binary(max_size=3000), cuts=st.lists(st.integers(min_value=0), max_size=8))
def test_random_bytes_under_an_event_stream(loopback: Any, body: bytes, cuts: list[int]) -> None:
    head = http_head(200, content_type="text/event-stream", length=len(body))
    loopback.handler = send_pieces([head, *splits(body, cuts)])
    delivered, err = within(
        20, lambda: consume(client(loopback.base_url).stream(model=MODEL, messages=USER))
    )
    assert err is None or isinstance(err, kc.KimiError), repr(err)
    if err is not None and err.partial is not None:
        assert err.partial["choices"] == [] or delivered


@settings(WIRE, max_examples=40)
@given(stream=streams(), cuts=st.lists(st.integers(min_value=0), max_size=6))
def test_the_async_stream_too(
    loopback: Any, stream: tuple[list[Any], bytes], cuts: list[int]
) -> None:
    events, body = stream
    head = http_head(200, content_type="text/event-stream", length=len(body))
    loopback.handler = send_pieces([head, *splits(body, cuts)])

    async def run() -> tuple[dict[int, str], BaseException | None]:
        delivered: dict[int, str] = {}
        try:
            async for chunk in aclient(loopback.base_url).stream(model=MODEL, messages=USER):
                for ch in chunk.get("choices") or ():
                    i = ch.get("index") or 0
                    delivered[i] = delivered.get(i, "") + (
                        (ch.get("delta") or {}).get("content") or ""
                    )
        except BaseException as exc:
            return delivered, exc
        return delivered, None

    delivered, err = within(20, lambda: asyncio.run(run()))
    check_partial(delivered, err, texts_sent(events))


TOOLS = completion(
    "",
    reasoning_content="r",
    tool_calls=[{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
)


@WIRE
@given(
    body=mutated(TOOLS) | mutated(completion("hello")), cuts=st.lists(st.integers(0), max_size=4)
)
def test_any_completion_is_an_answer_or_a_typed_error(
    loopback: Any, body: Any, cuts: list[int]
) -> None:
    raw = json.dumps(body).encode()
    loopback.handler = send_pieces(splits(http_response(200, raw), cuts))
    try:
        out = within(20, lambda: client(loopback.base_url).chat(model=MODEL, messages=USER))
    except kc.KimiError:
        return
    assert isinstance(out.message, dict)  # the message of a usable choice


ADAPTERS = settings(WIRE, max_examples=60)


@ADAPTERS
@given(body=mutated(TOOLS) | mutated(completion("hello")))
def test_the_adapters_raise_only_kimi_core_errors(loopback: Any, body: Any) -> None:
    from llama_index.core.llms import ChatMessage

    from langchain_kimi import ChatKimi
    from llama_index_kimi import Kimi

    loopback.reply(http_response(200, json.dumps(body).encode()))
    lc = ChatKimi(
        model=MODEL, provider="openai-compatible", base_url=loopback.base_url, api_key="k"
    )
    li = Kimi(model=MODEL, provider="openai-compatible", api_base=loopback.base_url, api_key="k")
    for call in (
        lambda: lc.invoke("hi"),
        lambda: li.chat([ChatMessage(role="user", content="hi")]),
    ):
        with contextlib.suppress(kc.KimiError):
            within(20, call)


@ADAPTERS
@given(stream=streams(), cuts=st.lists(st.integers(min_value=0), max_size=4))
def test_the_adapter_streams_raise_only_kimi_core_errors(
    loopback: Any, stream: tuple[list[Any], bytes], cuts: list[int]
) -> None:
    from llama_index.core.llms import ChatMessage

    from langchain_kimi import ChatKimi
    from llama_index_kimi import Kimi

    _, body = stream
    head = http_head(200, content_type="text/event-stream", length=len(body))
    loopback.handler = send_pieces([head, *splits(body, cuts)])
    lc = ChatKimi(
        model=MODEL, provider="openai-compatible", base_url=loopback.base_url, api_key="k"
    )
    li = Kimi(model=MODEL, provider="openai-compatible", api_base=loopback.base_url, api_key="k")
    for call in (
        lambda: list(lc.stream("hi")),
        lambda: list(li.stream_chat([ChatMessage(role="user", content="hi")])),
    ):
        with contextlib.suppress(kc.KimiError):
            within(20, call)


@WIRE
@given(
    status=st.integers(400, 599),
    body=json_values.map(lambda v: json.dumps(v).encode())
    | st.binary(max_size=400)
    | mutated({"error": {"type": "rate_limit_reached_error", "message": "m", "code": "c"}}).map(
        lambda v: json.dumps(v).encode()
    ),
)
def test_any_error_body_is_the_typed_status_error(loopback: Any, status: int, body: bytes) -> None:
    loopback.reply(http_response(status, body))
    with pytest.raises(kc.APIStatusError) as info:
        within(20, lambda: client(loopback.base_url).chat(model=MODEL, messages=USER))
    assert info.value.status_code in (status, 400, 401, 403, 404, 429, 500, 504)
    assert len(str(info.value)) < 3000
