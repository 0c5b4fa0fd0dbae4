"""The incremental SSE decoder: any chunking of a body yields the same events."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kimi_core._sse import EventTooLargeError, SSEDecoder


def decode_all(chunks: list[bytes]) -> list[bytes]:
    d = SSEDecoder()
    out: list[bytes] = []
    for c in chunks:
        out += d.decode(c)
    return out + d.flush()


def split(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(body) + 1) for c in cuts})
    parts, start = [], 0
    for p in points:
        parts.append(body[start:p])
        start = p
    parts.append(body[start:])
    return parts


def test_line_endings_and_fields() -> None:
    body = b"data: a\n\ndata: b\r\n\r\ndata: c\r\rdata:d\n\n: comment\nevent: x\nid: 1\nretry: 5\ndata:  spaced\n\n"
    assert decode_all([body]) == [b"a", b"b", b"c", b"d", b" spaced"]


def test_multi_line_data_is_joined() -> None:
    assert decode_all([b'data: {"a":\ndata: 1}\n\n']) == [b'{"a":\n1}']
    assert json.loads(decode_all([b'data: {"a":\ndata: 1}\n\n'])[0]) == {"a": 1}


def test_crlf_split_between_chunks_is_one_line_end() -> None:
    assert decode_all([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]) == [b"a\nb"]


def test_utf8_split_inside_a_sequence_and_u2028() -> None:
    payload = json.dumps({"t": "é中\u2028x"}, ensure_ascii=False).encode()
    body = b"data: " + payload + b"\n\n"
    cut = body.index("中".encode()) + 1
    events = decode_all([body[:cut], body[cut:]])
    assert [json.loads(e) for e in events] == [{"t": "é中\u2028x"}]


def test_done_and_a_last_event_without_blank_line() -> None:
    assert decode_all([b"data: x\n\ndata: [DONE]"]) == [b"x", b"[DONE]"]
    assert decode_all([b"data: x"]) == [b"x"]
    assert decode_all([b""]) == []


def test_pending_bytes_are_visible() -> None:
    d = SSEDecoder()
    d.decode(b"data: abc\ndata: de")
    assert d.pending == b"abc\ndata: de"


events = st.lists(
    st.one_of(
        st.dictionaries(
            st.sampled_from(["a", "content", "é"]), st.text(max_size=8), max_size=3
        ).map(lambda d: json.dumps(d, ensure_ascii=False)),
        st.just("[DONE]"),
        st.text(
            alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
            max_size=10,
        ),
    ),
    max_size=8,
)


@settings(max_examples=400, deadline=None)
@given(
    events,
    st.sampled_from([b"\n", b"\r\n", b"\r"]),
    st.lists(st.integers(min_value=0), max_size=12),
    st.booleans(),
)
def test_any_chunking_yields_the_same_events(
    items: list[str], eol: bytes, cuts: list[int], comments: bool
) -> None:
    body = b""
    for item in items:
        if comments:
            body += b": keep-alive" + eol
        body += b"data: " + item.encode() + eol + eol
    expected = [i.encode() for i in items]
    whole = decode_all([body])
    # Empty data lines still dispatch an (empty) event; compare against the unsplit body.
    assert [e for e in whole if e] == [e for e in expected if e]
    assert decode_all(split(body, cuts)) == whole
    assert decode_all([body[i : i + 1] for i in range(len(body))]) == whole


# -- bounds ---------------------------------------------------------------------------


def test_an_event_over_the_limit_raises_with_the_events_before_it() -> None:
    d = SSEDecoder(max_event=100)
    with pytest.raises(EventTooLargeError) as info:
        d.decode(b"data: ok\n\ndata: " + b"x" * 200 + b"\n\n")
    assert info.value.events == [b"ok"] and info.value.limit == 100


@pytest.mark.parametrize("piece", [1, 7, 1024])
def test_an_unfinished_line_over_the_limit_raises_as_it_grows(piece: int) -> None:
    d = SSEDecoder(max_event=1000)
    body = b"data: " + b"y" * 5000
    with pytest.raises(EventTooLargeError):
        for i in range(0, len(body), piece):
            d.decode(body[i : i + piece])
    assert i < 1100  # raised once past the limit, not at the end


def test_many_data_lines_count_together() -> None:
    d = SSEDecoder(max_event=50)
    with pytest.raises(EventTooLargeError):
        d.decode(b"data: 0123456789\n" * 10)


def test_comment_floods_take_no_memory() -> None:
    d = SSEDecoder(max_event=64)
    for _ in range(10_000):
        assert d.decode(b": keep-alive\n") == []
    assert d.decode(b"data: x\n\n") == [b"x"]


def test_an_event_just_at_the_limit_passes() -> None:
    d = SSEDecoder(max_event=11)
    assert d.decode(b"data: 0123456789\n\n") == [b"0123456789"]
