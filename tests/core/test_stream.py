"""Stream assembly: content, reasoning, tool calls, choices, usage, counted once."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kimi_core import StreamAccumulator
from kimi_core._stream import (
    MalformedChunkError,
    first_usable_choice,
    normalize_completion,
    usage_of,
)

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "seeds" / "002_465654b50e148120.txt"


RECORDINGS = Path(__file__).parents[1] / "recordings"


def chunk(
    delta: dict[str, Any] | None = None, *, index: int = 0, finish: str | None = None, **top: Any
) -> dict[str, Any]:
    choices = [] if delta is None else [{"index": index, "delta": delta, "finish_reason": finish}]
    return {"id": "c1", "model": "kimi-k2.5", "created": 1, "choices": choices, **top}


def run(chunks: list[dict[str, Any]]) -> StreamAccumulator:
    acc = StreamAccumulator()
    for c in chunks:
        acc.add(c)
    return acc


def test_the_published_acedata_stream() -> None:
    """Replay the kimi-k2.5 stream published by AceData (seed 002): both reasoning fields,
    usage in a trailing ``choices: []`` chunk."""
    lines = [ln[6:] for ln in SEED.read_text().splitlines() if ln.startswith("data: {")]
    events = [json.loads(ln) for ln in lines]
    acc = StreamAccumulator()
    reasoning_deltas = []
    for e in events:
        acc.add(e)
        for c in e["choices"]:
            assert "reasoning" not in c["delta"]
            if c["delta"].get("reasoning_content"):
                reasoning_deltas.append(c["delta"]["reasoning_content"])
    msg = acc.message()
    assert msg["content"] == " Hello! How can I help you today?"
    assert msg["reasoning_content"] == "".join(reasoning_deltas)
    assert msg["reasoning_content"].startswith(" The user said")
    assert "tool_calls" not in msg
    assert acc.finished and acc.choices[0].finish_reason == "stop"
    assert acc.usage == {
        "prompt_tokens": 9,
        "completion_tokens": 135,
        "total_tokens": 144,
        # its details objects come without the counts: not reported, not 0
        "cached_tokens": None,
        "reasoning_tokens": None,
    }
    assert acc.id == "chatcmpl-952dd5e75583c4d1"


def test_usage_in_the_final_choice_and_a_trailing_chunk_is_counted_once() -> None:
    usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15, "cached_tokens": 4}
    acc = run(
        [
            chunk({"role": "assistant", "content": ""}),
            chunk({"content": "Hi"}),
            {
                "id": "c1",
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop", "usage": usage}],
            },
            chunk(None, usage=usage),
        ]
    )
    assert acc.usage == {
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "total_tokens": 15,
        "cached_tokens": 4,
        "reasoning_tokens": 0,
    }
    assert acc.completion()["usage"] == usage


def test_usage_details_of_each_style() -> None:
    openai = {
        "prompt_tokens": 3,
        "completion_tokens": 9,
        "total_tokens": 12,
        "prompt_tokens_details": {"cached_tokens": 2},
        "completion_tokens_details": {"reasoning_tokens": 6},
    }
    assert usage_of(openai) == {
        "prompt_tokens": 3,
        "completion_tokens": 9,
        "total_tokens": 12,
        "cached_tokens": 2,
        "reasoning_tokens": 6,
    }
    assert usage_of({"prompt_tokens": 1, "completion_tokens": 2}) == {
        "prompt_tokens": 1,
        "completion_tokens": 2,
        "total_tokens": 3,
        "cached_tokens": 0,
        "reasoning_tokens": 0,
    }
    assert usage_of(None) is None


def test_a_count_a_details_object_leaves_out_is_not_reported() -> None:
    """Moonshot leaves out the details it did not use (zero), but a details object that
    comes without its count means the provider did not count it: None, not 0."""
    recorded = json.loads(
        (RECORDINGS / "moonshotai-metadata-live.chunks.txt").read_text().splitlines()[-1]
    )  # kimi-k3 streaming a tool call: completion_tokens_details is {}
    assert recorded["usage"]["completion_tokens_details"] == {}
    assert usage_of(recorded["usage"]) == {
        "prompt_tokens": 99,
        "completion_tokens": 44,
        "total_tokens": 143,
        "cached_tokens": 99,
        "reasoning_tokens": None,
    }
    counted = usage_of({"prompt_tokens": 5, "cached_tokens": 0, "prompt_tokens_details": {}})
    uncounted = usage_of({"prompt_tokens": 5, "prompt_tokens_details": {}})
    no_thinking = usage_of({"prompt_tokens": 5, "completion_tokens_details": {"x": 1}})
    assert counted is not None and uncounted is not None and no_thinking is not None
    assert (counted["cached_tokens"], uncounted["cached_tokens"]) == (0, None)
    assert (no_thinking["reasoning_tokens"], uncounted["reasoning_tokens"]) == (None, 0)


def test_reasoning_from_either_field_once() -> None:
    acc = run(
        [
            chunk({"reasoning": "a"}),
            chunk({"reasoning_content": "b", "reasoning": "b"}),
            chunk({"content": "c"}, finish="stop"),
        ]
    )
    assert acc.message() == {"role": "assistant", "content": "c", "reasoning_content": "ab"}


def test_reasoning_next_to_a_padded_null_field_is_kept() -> None:
    acc = run(
        [
            chunk({"reasoning_content": None, "reasoning": "thought"}),
            chunk({"reasoning_content": "", "reasoning": " more"}),
            chunk({"content": "ok"}, finish="stop"),
        ]
    )
    assert acc.message()["reasoning_content"] == "thought more"


def tc(**kw: Any) -> dict[str, Any]:
    fn = {k: kw.pop(k) for k in ("name", "arguments") if k in kw}
    return {**kw, **({"function": fn} if fn else {})}


def calls(acc: StreamAccumulator, i: int = 0) -> list[tuple[str, str, str]]:
    return [
        (c["id"], c["function"]["name"], c["function"]["arguments"])
        for c in acc.message(i).get("tool_calls", [])
    ]


def test_two_calls_at_once_with_no_index() -> None:
    """The recorded Kimi quirk: the first delta has no index and carries two calls."""
    acc = run(
        [
            chunk(
                {
                    "tool_calls": [
                        tc(id="functions.a:0", type="function", name="get_weather", arguments=""),
                        tc(id="functions.b:1", type="function", name="get_time", arguments=""),
                    ]
                }
            ),
            chunk({"tool_calls": [tc(arguments='{"city": '), tc(arguments='{"tz": ')]}),
            chunk(
                {"tool_calls": [tc(arguments='"Paris"}'), tc(arguments='"UTC"}')]},
                finish="tool_calls",
            ),
        ]
    )
    assert calls(acc) == [
        ("functions.a:0", "get_weather", '{"city": "Paris"}'),
        ("functions.b:1", "get_time", '{"tz": "UTC"}'),
    ]


def test_tool_calls_so_far() -> None:
    acc = StreamAccumulator()
    assert acc.tool_calls() == []
    acc.add(
        chunk(
            {"tool_calls": [tc(index=0, id="a", type="function", name="get_x", arguments='{"q": ')]}
        )
    )
    assert acc.tool_calls() == [
        {"id": "a", "type": "function", "function": {"name": "get_x", "arguments": '{"q": '}}
    ]
    acc.add(chunk({"tool_calls": [tc(index=0, arguments='"y"}')]}))
    assert acc.tool_calls()[0]["function"]["arguments"] == '{"q": "y"}'
    assert acc.tool_calls(1) == []


def test_sequential_calls_with_no_index() -> None:
    acc = run(
        [
            chunk({"tool_calls": [tc(id="x:0", name="one", arguments="{")]}),
            chunk({"tool_calls": [tc(arguments="}")]}),
            chunk({"tool_calls": [tc(id="x:1", name="two", arguments="[")]}),
            chunk({"tool_calls": [tc(arguments="]")]}, finish="tool_calls"),
        ]
    )
    assert calls(acc) == [("x:0", "one", "{}"), ("x:1", "two", "[]")]


def test_a_new_id_under_a_used_index_opens_a_new_call() -> None:
    events = [
        chunk({"tool_calls": [tc(index=0, id="a", name="one", arguments="1")]}),
        chunk({"tool_calls": [tc(index=0, id="b", name="two", arguments="2")]}),
        chunk({"tool_calls": [tc(index=0, arguments="2")]}, finish="tool_calls"),
    ]
    acc = run(events)
    assert calls(acc) == [("a", "one", "1"), ("b", "two", "22")]
    # The indexes were rewritten in the chunks, so a framework merging by index agrees.
    assert [e["choices"][0]["delta"]["tool_calls"][0]["index"] for e in events] == [0, 1, 1]


def test_several_choices_are_kept_apart() -> None:
    acc = run(
        [
            chunk({"content": "A"}, index=0),
            chunk({"content": "B"}, index=1),
            chunk({"content": "a"}, index=0, finish="stop"),
            chunk({"content": "b"}, index=1, finish="length"),
        ]
    )
    assert acc.message(0)["content"] == "Aa" and acc.message(1)["content"] == "Bb"
    done = acc.completion()
    assert [c["finish_reason"] for c in done["choices"]] == ["stop", "length"]


def test_finished_needs_every_choice() -> None:
    acc = run([chunk({"content": "A"}, index=0, finish="stop"), chunk({"content": "B"}, index=1)])
    assert not acc.finished


def test_normalize_completion() -> None:
    body = {
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "x",
                    "reasoning": "r",
                    "tool_calls": [],
                },
                "finish_reason": "stop",
                "usage": {"prompt_tokens": 1},
            }
        ]
    }
    out = normalize_completion(body)
    assert out["choices"][0]["message"] == {
        "role": "assistant",
        "content": "x",
        "reasoning_content": "r",
    }
    assert out["usage"] == {"prompt_tokens": 1}


# -- property: random interleavings, splits and missing indexes -----------------------

names = st.from_regex(r"[a-z_]{3,8}", fullmatch=True)
args = st.dictionaries(
    st.sampled_from(["city", "n", "q"]), st.one_of(st.integers(), st.text(max_size=6)), max_size=3
).map(json.dumps)


@st.composite
def streams(draw: st.DrawFn) -> tuple[list[dict[str, Any]], dict[int, list[tuple[str, str, str]]]]:
    n_choices = draw(st.integers(1, 3))
    per_choice: dict[int, list[list[dict[str, Any]]]] = {}
    expected: dict[int, list[tuple[str, str, str]]] = {}
    for ch in range(n_choices):
        specs = draw(st.lists(st.tuples(names, args), max_size=3))
        with_index = draw(st.booleans())
        expected[ch] = []
        seqs = []
        for k, (name, arg) in enumerate(specs):
            cid = f"functions.{name}:{k}"
            expected[ch].append((cid, name, arg))
            cuts = sorted(draw(st.lists(st.integers(0, len(arg)), max_size=4)))
            pieces = [arg[a:b] for a, b in zip([0, *cuts], [*cuts, len(arg)])]
            head = tc(id=cid, type="function", name=name, arguments=pieces[0])
            rest = [tc(arguments=p) for p in pieces[1:] if p]
            if with_index:
                head["index"] = k
                for r in rest:
                    r["index"] = k
            seqs.append([head, *rest])
        if with_index and seqs:
            # With indexes, calls of one choice may interleave.
            merged: list[dict[str, Any]] = []
            queues = [list(s) for s in seqs]
            while any(queues):
                live = [q for q in queues if q]
                q = live[draw(st.integers(0, len(live) - 1))]
                merged.append(q.pop(0))
            per_choice[ch] = [[m] for m in merged]
        else:
            per_choice[ch] = [[d] for s in seqs for d in s]
    events: list[dict[str, Any]] = []
    queues2 = {ch: list(v) for ch, v in per_choice.items()}
    while any(queues2.values()):
        live = [ch for ch, q in queues2.items() if q]
        ch = live[draw(st.integers(0, len(live) - 1))]
        events.append(chunk({"tool_calls": queues2[ch].pop(0)}, index=ch))
    for ch in range(n_choices):
        events.append(chunk({}, index=ch, finish="tool_calls"))
    return events, expected


@settings(max_examples=300, deadline=None)
@given(streams())
def test_tool_calls_survive_any_interleaving(
    case: tuple[list[dict[str, Any]], dict[int, list[tuple[str, str, str]]]],
) -> None:
    events, expected = case
    acc = run(events)
    for ch, want in expected.items():
        assert calls(acc, ch) == want
    assert acc.finished


def test_seed_stream_is_what_the_seed_says() -> None:
    # Guard for the replay test above: the published stream has 18 data lines, one [DONE].
    text = SEED.read_text()
    assert len(re.findall(r"^data: \{", text, flags=re.M)) == 17
    assert "data: [DONE]" in text


# -- shapes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "where"),
    [
        ({"choices": {"0": {}}}, "choices is dict, not a list"),
        ({"choices": ["x"]}, "choices[0] is str, not an object"),
        ({"choices": [{"index": "0", "delta": {}}]}, "choices[0].index is str, not an integer"),
        ({"choices": [{"index": True, "delta": {}}]}, "choices[0].index is bool"),
        ({"choices": [{"delta": "x"}]}, "choices[0].delta is str, not an object"),
        ({"choices": [{"delta": {"content": 5}}]}, "choices[0].delta.content is int"),
        ({"choices": [{"delta": {"reasoning": ["r"]}}]}, "choices[0].delta.reasoning is list"),
        ({"choices": [{"delta": {"tool_calls": {}}}]}, "choices[0].delta.tool_calls is dict"),
        (
            {"choices": [{"delta": {"tool_calls": [{"id": {"a": 1}}]}}]},
            "choices[0].delta.tool_calls[0].id is dict",
        ),
        (
            {"choices": [{"delta": {"tool_calls": [{"function": {"arguments": 1}}]}}]},
            "choices[0].delta.tool_calls[0].function.arguments is int, not a string",
        ),
        ({"choices": [{"delta": {}, "finish_reason": 1}]}, "choices[0].finish_reason is int"),
        ({"usage": "many"}, "usage is str, not an object"),
    ],
)
def test_a_chunk_of_the_wrong_shape_names_where_and_records_nothing(
    bad: dict[str, Any], where: str
) -> None:
    acc = run([chunk({"content": "kept"})])
    with pytest.raises(MalformedChunkError, match=re.escape(where)):
        acc.add(bad)
    assert acc.events == 1 and acc.message()["content"] == "kept"


def test_falsy_values_of_the_wrong_type_are_empty() -> None:
    acc = run([chunk({"content": "a"}), chunk({"content": None, "reasoning_content": None})])
    assert acc.message() == {"role": "assistant", "content": "a"}


def test_a_completion_of_the_wrong_shape() -> None:
    good = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "x"}}]}
    assert first_usable_choice(normalize_completion(json.loads(json.dumps(good)))) is not None
    for bad, where in (
        ({"choices": [{"message": "x"}]}, "choices[0].message is str"),
        ({"choices": [{"message": {"content": 1}}]}, "choices[0].message.content is int"),
        ({"choices": [{"message": {"content": [1]}}]}, "choices[0].message.content[0] is int"),
        ({"choices": [{"message": {"tool_calls": [1]}}]}, "tool_calls[0] is int"),
        ({"choices": {}}, "choices is dict"),
        ({"choices": [], "usage": [1]}, "usage is list"),
    ):
        with pytest.raises(MalformedChunkError, match=re.escape(where)):
            normalize_completion(bad)
    assert first_usable_choice({"choices": [{"index": 0}]}) is None
    assert first_usable_choice({"choices": []}) is None


def test_tool_arguments_given_as_an_object_become_their_json() -> None:
    body = {"choices": [{"message": {"tool_calls": [{"function": {"arguments": {"a": 1}}}]}}]}
    normalize_completion(body)
    assert body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == '{"a": 1}'
