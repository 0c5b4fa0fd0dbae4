"""Typed errors only: every malformed shape of a completion, a chunk or an error body
ends as a ``kimi_core`` error (a stream's with ``.partial``), after the good events
that came before it; a 200 without a usable choice is an error in both adapters."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from _loopback import LoopbackServer, http_response

import kimi_core as kc

from .wire import MODEL, USER, aclient, acollect, client, collect, completion, delta, event, text_of

DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a":' * 50_000 + b"1" + b"}" * 50_000


def broken(path: tuple[Any, ...], value: Any, base: dict[str, Any]) -> dict[str, Any]:
    """``base`` with the value at ``path`` replaced (or the key dropped when ``...``)."""
    out = copy.deepcopy(base)
    node: Any = out
    for key in path[:-1]:
        node = node[key]
    if value is ...:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


TOOL_MESSAGE = {
    "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
    ]
}

BAD_COMPLETIONS = {
    "choices an object": broken(("choices",), {"0": {}}, completion()),
    "choices empty": broken(("choices",), [], completion()),
    "no choices": broken(("choices",), ..., completion()),
    "choice a string": broken(("choices", 0), "hello", completion()),
    "choice without message": broken(("choices", 0, "message"), ..., completion()),
    "message a string": broken(("choices", 0, "message"), "hello", completion()),
    "content a number": broken(("choices", 0, "message", "content"), 42, completion()),
    "content an object": broken(("choices", 0, "message", "content"), {"a": 1}, completion()),
    "content parts of numbers": broken(("choices", 0, "message", "content"), [1, 2], completion()),
    "reasoning a list": broken(("choices", 0, "message", "reasoning_content"), [], completion()),
    "tool_calls an object": broken(
        ("choices", 0, "message", "tool_calls"), {"a": 1}, completion(**TOOL_MESSAGE)
    ),
    "tool call a string": broken(
        ("choices", 0, "message", "tool_calls", 0), "f()", completion(**TOOL_MESSAGE)
    ),
    "function a string": broken(
        ("choices", 0, "message", "tool_calls", 0, "function"), "f", completion(**TOOL_MESSAGE)
    ),
    "arguments a number": broken(
        ("choices", 0, "message", "tool_calls", 0, "function", "arguments"),
        7,
        completion(**TOOL_MESSAGE),
    ),
    "tool call id an object": broken(
        ("choices", 0, "message", "tool_calls", 0, "id"), {"x": 1}, completion(**TOOL_MESSAGE)
    ),
    "index a string": broken(("choices", 0, "index"), "0", completion()),
    "usage a list": broken(("usage",), [1], completion()),
}
RAW_BAD_COMPLETIONS = {
    "a JSON list": b"[1, 2]",
    "a JSON string": b'"ok"',
    "not JSON": b"<html>ok</html>",
    "100k-deep list": DEEP,
    "50k-deep object": DEEP_OBJECT,
    "empty": b"",
}


def all_bad_completions() -> list[tuple[str, bytes]]:
    cases = [(name, json.dumps(body).encode()) for name, body in BAD_COMPLETIONS.items()]
    return cases + list(RAW_BAD_COMPLETIONS.items())


@pytest.mark.parametrize(("name", "raw"), all_bad_completions(), ids=lambda v: str(v)[:30])
def test_a_malformed_completion_is_a_stream_error(
    loopback: LoopbackServer, name: str, raw: bytes
) -> None:
    loopback.reply(http_response(200, raw))
    with pytest.raises(kc.StreamError) as info:
        client(loopback.base_url).chat(model=MODEL, messages=USER)
    err = info.value
    assert err.status_code == 200 and "HTTP 200" in str(err) and len(str(err)) < 1000


# -- streams --------------------------------------------------------------------------

BAD_CHUNKS = {
    "choices an object": broken(("choices",), {"a": 1}, delta("x")),
    "choice a string": broken(("choices", 0), "x", delta("x")),
    "delta a string": broken(("choices", 0, "delta"), "x", delta("x")),
    "delta a list": broken(("choices", 0, "delta"), [1], delta("x")),
    "content a number": broken(("choices", 0, "delta", "content"), 5, delta("x")),
    "content a list": broken(("choices", 0, "delta", "content"), ["x"], delta("x")),
    "reasoning an object": broken(
        ("choices", 0, "delta", "reasoning_content"), {"a": 1}, delta("x")
    ),
    "tool_calls an object": broken(("choices", 0, "delta", "tool_calls"), {"a": 1}, delta("x")),
    "tool call a number": broken(("choices", 0, "delta", "tool_calls"), [3], delta("x")),
    "function a list": broken(
        ("choices", 0, "delta", "tool_calls"), [{"index": 0, "function": [1]}], delta("x")
    ),
    "index a float": broken(("choices", 0, "index"), 0.5, delta("x")),
    "finish_reason an object": broken(("choices", 0, "finish_reason"), {"a": 1}, delta("x")),
    "usage a string": broken(("usage",), "lots", delta("x")),
}
RAW_BAD_EVENTS = {
    "not JSON": b"{nope",
    "a JSON list": b"[1]",
    "a number": b"12",
    "100k-deep list": DEEP,
    "50k-deep object": DEEP_OBJECT,
    "an error that is a number": b'{"error": 5}',
    "an error with a deep message": b'{"error": {"message": ' + DEEP + b"}}",
}


def all_bad_events() -> list[tuple[str, bytes]]:
    cases = [(name, json.dumps(body).encode()) for name, body in BAD_CHUNKS.items()]
    return cases + list(RAW_BAD_EVENTS.items())


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(("name", "raw"), all_bad_events(), ids=lambda v: str(v)[:30])
def test_a_malformed_chunk_after_a_good_one_in_the_same_read(
    loopback: LoopbackServer, name: str, raw: bytes, mode: str
) -> None:
    body = event(delta("good ")) + event(raw) + event(delta("never"))
    loopback.reply(http_response(200, body, content_type="text/event-stream"))
    if mode == "sync":
        chunks, err = collect(client(loopback.base_url).stream(model=MODEL, messages=USER))
    else:
        chunks, err = acollect(aclient(loopback.base_url).stream(model=MODEL, messages=USER))
    assert text_of(chunks) == "good "  # delivered before the error
    assert isinstance(err, kc.StreamError), repr(err)
    assert err.partial["choices"][0]["message"]["content"] == "good "
    assert len(str(err)) < 1000


def test_a_bad_chunk_records_nothing_of_itself(loopback: LoopbackServer) -> None:
    two = {
        "choices": [
            {"index": 0, "delta": {"content": "half"}},
            {"index": 1, "delta": {"content": 3}},
        ]
    }
    loopback.reply_sse([delta("a"), two])
    _chunks, err = collect(client(loopback.base_url).stream(model=MODEL, messages=USER))
    assert isinstance(err, kc.StreamError) and "choices[1].delta.content is int" in str(err)
    assert [c["message"]["content"] for c in err.partial["choices"]] == ["a"]


def test_tool_arguments_sent_as_an_object_are_kept_as_their_json(
    loopback: LoopbackServer,
) -> None:
    call = {"index": 0, "id": "c1", "function": {"name": "f", "arguments": {"city": "Paris"}}}
    loopback.reply_sse(
        [
            {"choices": [{"index": 0, "delta": {"tool_calls": [call]}}]},
            {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
        ]
    )
    stream = client(loopback.base_url).stream(model=MODEL, messages=USER)
    list(stream)
    (tc,) = stream.completion()["choices"][0]["message"]["tool_calls"]
    assert json.loads(tc["function"]["arguments"]) == {"city": "Paris"}


# -- error bodies -----------------------------------------------------------------------

BAD_ERRORS = [
    b'{"error": [1, 2]}',
    b'{"error": {"message": {"nested": [1, 2, {"x": "y"}]}, "code": {"a": 1}}}',
    b'{"error": {"message": 42, "type": ["x"]}}',
    b'{"error": {"message": "' + b"e" * 50_000 + b'"}}',
    b'{"detail": ' + DEEP + b"}",
    DEEP,
    b"\xff\xfe\x00garbage",
    b'{"error": null}',
    b"[]",
]


@pytest.mark.parametrize("raw", BAD_ERRORS, ids=lambda v: repr(v[:24]))
def test_a_malformed_error_body_is_the_typed_status_error(
    loopback: LoopbackServer, raw: bytes
) -> None:
    loopback.reply(http_response(500, raw))
    with pytest.raises(kc.InternalServerError) as info:
        client(loopback.base_url).chat(model=MODEL, messages=USER)
    assert info.value.status_code == 500 and len(str(info.value)) < 2500


def test_an_error_event_with_odd_fields(loopback: LoopbackServer) -> None:
    loopback.reply_sse([delta("a"), {"error": {"message": ["x"], "code": {"c": 1}}}])
    chunks, err = collect(client(loopback.base_url).stream(model=MODEL, messages=USER))
    assert text_of(chunks) == "a" and isinstance(err, kc.StreamError)
    assert err.code is None and err.partial["choices"][0]["message"]["content"] == "a"


# -- a 200 without a usable choice, in both adapters -----------------------------------


@pytest.mark.parametrize(
    "raw",
    [b'{"id": "x", "choices": []}', b'{"id": "x"}', b"[]", b'{"choices": [{"index": 0}]}'],
)
def test_no_usable_choice_is_an_error_in_both_adapters(
    loopback: LoopbackServer, raw: bytes
) -> None:
    from llama_index.core.llms import ChatMessage

    from langchain_kimi import ChatKimi
    from llama_index_kimi import Kimi

    loopback.reply(http_response(200, raw))
    lc = ChatKimi(
        model=MODEL, provider="openai-compatible", base_url=loopback.base_url, api_key="k"
    )
    with pytest.raises(kc.StreamError, match="HTTP 200"):
        lc.invoke("hi")
    li = Kimi(model=MODEL, provider="openai-compatible", api_base=loopback.base_url, api_key="k")
    with pytest.raises(kc.StreamError, match="HTTP 200"):
        li.chat([ChatMessage(role="user", content="hi")])


def test_a_stream_without_any_choice_is_an_error_in_both_adapters(
    loopback: LoopbackServer,
) -> None:
    from llama_index.core.llms import ChatMessage

    from langchain_kimi import ChatKimi
    from llama_index_kimi import Kimi

    usage = {"usage": {"prompt_tokens": 1, "completion_tokens": 0, "total_tokens": 1}}
    loopback.reply_sse([{"id": "x", "choices": []}, usage])
    lc = ChatKimi(
        model=MODEL, provider="openai-compatible", base_url=loopback.base_url, api_key="k"
    )
    with pytest.raises(kc.StreamError, match="without any choice"):
        list(lc.stream("hi"))
    li = Kimi(model=MODEL, provider="openai-compatible", api_base=loopback.base_url, api_key="k")
    with pytest.raises(kc.StreamError, match="without any choice"):
        list(li.stream_chat([ChatMessage(role="user", content="hi")]))
