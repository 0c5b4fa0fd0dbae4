"""`make demo` (examples/demo.py) as a user runs it: a subprocess, no provider key.

Each part's output is checked against what the emulator really answers (it is
deterministic), and the summary's figures against each other, the parts, and what an
emulator recorded.
"""

from __future__ import annotations

import importlib
import re
import subprocess
from dataclasses import dataclass

import httpx
import pytest

from langchain_kimi import ChatKimi

from .runner import (
    ANSI,
    EXAMPLES,
    ROOT,
    clean_env,
    finish,
    lines_starting,
    run_example,
    start_example,
)

TITLES = [
    "1. LangChain: a streamed answer, the reasoning first",
    "2. LangChain: a tool-calling loop (two tools, a thinking model, reasoning kept)",
    "3. LangChain: structured output into a Pydantic model",
    "4. LlamaIndex: RAG over this project's docs (KimiFileReader, VectorStoreIndex)",
    "5. LlamaIndex: a FunctionAgent that uses a tool",
    "6. Batch API: 50 short texts labelled in one job (ChatKimi use_batch_api)",
    "Summary",
]
PART_NAMES = [
    "LangChain stream",
    "LangChain tool loop",
    "LangChain structured output",
    "LlamaIndex RAG",
    "LlamaIndex FunctionAgent",
    "Batch API",
]


def sections(stdout: str) -> dict[str, str]:
    """The output under each ``== title ==`` heading (``""``: before the first)."""
    out: dict[str, list[str]] = {"": []}
    current = ""
    for line in stdout.splitlines():
        m = re.fullmatch(r"== (.+) ==", line)
        if m:
            current = m.group(1)
            out[current] = []
        else:
            out[current].append(line)
    return {title: "\n".join(lines) for title, lines in out.items()}


@dataclass
class Row:
    name: str
    requests: int
    tokens_in: int
    tokens_out: int
    status: str


@dataclass
class Summary:
    rows: list[Row]
    requests: int
    recorded: int | None
    tokens_in: int
    cached: int
    tokens_out: int
    reasoning: int
    with_usage: int
    responses: int


def parse_summary(text: str) -> Summary:
    rows = [
        Row(m["name"], int(m["req"]), int(m["tin"]), int(m["tout"]), m["status"] or "")
        for m in re.finditer(
            r"^\d\. (?P<name>.+?) +(?P<req>\d+) +(?P<tin>\d+) +(?P<tout>\d+) +[\d.]+"
            r"(?:  \((?P<status>\w+)\))?$",
            text,
            re.MULTILINE,
        )
    ]
    req = re.search(
        r"^requests  (\d+) made \(counted on the wire\)(?:; the emulator recorded (\d+))?$",
        text,
        re.MULTILINE,
    )
    tok = re.search(
        r"^tokens    (\d+) in \((\d+) cached\), (\d+) out \((\d+) reasoning\); "
        r"reported with (\d+) of (\d+) responses$",
        text,
        re.MULTILINE,
    )
    assert req and tok, text
    return Summary(
        rows,
        int(req[1]),
        int(req[2]) if req[2] else None,
        *(int(g) for g in tok.groups()),
    )


def check_clean(result: subprocess.CompletedProcess[str], code: int = 0) -> None:
    assert result.returncode == code, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not ANSI.search(result.stdout + result.stderr)


# --------------------------------------------------------------------------- the default run


@pytest.fixture(scope="module")
def demo() -> subprocess.CompletedProcess[str]:
    """The demo as `NO_COLOR=1 make demo` runs it on a machine with no key."""
    return run_example("demo.py")


@pytest.fixture(scope="module")
def parts(demo: subprocess.CompletedProcess[str]) -> dict[str, str]:
    return sections(demo.stdout)


@pytest.fixture
def emulated(kimi_emulator) -> ChatKimi:
    """The model the demo runs by default, on an emulator of our own (deterministic)."""
    return ChatKimi(
        model="kimi-k2.6",
        provider=kimi_emulator.provider,
        base_url=kimi_emulator.base_url,
        api_key=kimi_emulator.api_key,
    )


def test_it_exits_0_without_colour_traceback_or_stderr(demo):
    check_clean(demo)
    assert demo.stderr == ""
    assert list(sections(demo.stdout))[1:] == TITLES


def test_it_says_the_emulator_is_not_a_model(parts):
    head = parts[""]
    assert "backend: the built-in Kimi emulator (moonshot dialect), started in this process" in head
    assert "It is a stand-in for the Kimi protocol, not a model" in head
    assert "model:   kimi-k2.6  (no provider key set)" in head


def test_part1_streams_the_reasoning_then_the_answer(parts, emulated):
    text = parts[TITLES[0]]
    (question,) = lines_starting(text, "> ")
    (thinking,) = lines_starting(text, "thinking: ")
    (answer,) = lines_starting(text, "answer: ")
    assert text.index("thinking: ") < text.index("answer: ")
    expected = emulated.invoke(question)
    assert answer == expected.text
    assert thinking == expected.additional_kwargs["reasoning_content"]
    (streamed,) = lines_starting(text, "streamed: ")
    m = re.fullmatch(
        r"(\d+) reasoning chunks, then (\d+) answer chunks; usage on the last chunk: "
        r"(\d+) in, (\d+) out \((\d+) reasoning\)",
        streamed,
    )
    assert m, streamed
    assert int(m[1]) > 1 and int(m[2]) > 1  # really streamed, not one block
    usage = expected.usage_metadata
    assert usage is not None
    assert [int(m[3]), int(m[4]), int(m[5])] == [
        usage["input_tokens"],
        usage["output_tokens"],
        usage["output_token_details"]["reasoning"],
    ]


def test_part2_the_tool_loop_keeps_the_reasoning_and_ends_with_an_answer(parts):
    text = parts[TITLES[1]]
    assert lines_starting(text, "turn 1 tool: ") == [
        'get_weather({"city": "Paris"}) -> 18 C and cloudy in Paris',
        'get_weather({"city": "Tokyo"}) -> 24 C and sunny in Tokyo',
    ]
    # The Celsius values of the first results feed the conversions of the second turn.
    assert lines_starting(text, "turn 2 tool: ") == [
        'celsius_to_fahrenheit({"celsius": 18}) -> 64.4 F',
        'celsius_to_fahrenheit({"celsius": 24}) -> 75.2 F',
    ]
    (answer,) = lines_starting(text, "answer: ")
    assert answer == (
        "Paris: 18 C and cloudy in Paris, which is 64.4 F. Tokyo: 24 C and sunny in Tokyo, "
        "which is 75.2 F. (Kimi emulator: a deterministic answer from the tool results, not a "
        "model.)"
    )
    sizes = []
    for turn in (1, 2):
        (thought,) = lines_starting(text, f"turn {turn} thinking: ")
        size = re.search(r"\((\d+) characters\)$", thought)
        assert size
        sizes.append(size[1])
    (kept,) = lines_starting(text, "reasoning kept: ")
    assert kept == (
        "request 3 of this part sent 2 assistant tool-call turns back with the "
        f"reasoning_content received ({sizes[0]}, {sizes[1]} characters), and the request was "
        "accepted."
    )


def test_part3_gives_the_pydantic_object(parts):
    text = parts[TITLES[2]]
    assert lines_starting(text, "parsed: ") == [
        "City(country='France', name='Paris', population_millions=2.1)"
    ]
    assert lines_starting(text, "sent as: ") == [
        "response_format json_schema, thinking on (the model's default)"
    ]


def test_part4_answers_from_the_docs_and_lists_its_sources(parts):
    text = parts[TITLES[3]]
    files = ["README.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))]
    (extracted,) = lines_starting(text, "extracted by Kimi: ")
    size = sum(len((ROOT / f).read_text(encoding="utf-8")) for f in files)
    assert extracted == (
        f"{len(files)} files, {size} characters ({3 * len(files)} requests: upload, read, "
        "delete each)"
    )
    (index,) = lines_starting(text, "index: ")
    m = re.match(r"(\d+) files, (\d+) chunks \(VectorStoreIndex, a local hashing embedding", index)
    assert m and int(m[1]) == len(files)
    (answer,) = lines_starting(text, "answer: ")
    # The emulator quotes the prompt: the retrieved docs went to the LLM.
    assert answer.startswith('You said: "Context information is below.')
    (sources,) = lines_starting(text, "sources: ")
    listed = dict(re.findall(r"([\w./-]+\.md) \((\d+) chunks?\)", sources))
    assert set(listed) <= set(files)
    assert sum(int(n) for n in listed.values()) == 3  # the query engine's similarity_top_k


def test_part5_the_function_agent_uses_its_tool(parts):
    text = parts[TITLES[4]]
    (call,) = lines_starting(text, "tool: ")
    assert call.startswith(
        'provider_info({"provider": "AceData"}) -> AceData Cloud: base URL '
        "https://api.acedata.cloud, key in ACEDATACLOUD_API_TOKEN"
    )
    (answer,) = lines_starting(text, "answer: ")
    assert answer == (
        f"AceData: {call.split(' -> ')[1]}. (Kimi emulator: a deterministic answer from the "
        "tool results, not a model.)"
    )
    (kept,) = lines_starting(text, "reasoning kept: ")
    assert kept.startswith("request 2 of this part sent 1 assistant tool-call turn back")


def test_part6_labels_fifty_texts_in_one_batch_and_shows_its_statuses(parts):
    text = parts[TITLES[5]]
    assert lines_starting(text, "> ") == ["Label the sentiment of 50 short texts, in one batch job"]
    (statuses,) = lines_starting(text, "statuses: ")
    assert statuses.startswith("validating -> in_progress -> finalizing -> completed  (batch ")
    assert statuses.endswith(", 50 requests done)")
    rows = re.findall(r"^ ?(\d+)\. (.+?) +-> (.+)$", text, re.MULTILINE)
    assert [int(n) for n, _, _ in rows] == list(range(1, 51))
    assert rows[0][1] == "The hotel breakfast was wonderful."
    assert rows[49][1] == "The concert sound keeps failing."
    for _, sent, label in rows:  # the emulator labels each text with its own words
        assert label == f"label for: {sent}"


def test_the_summary_adds_up(parts):
    summary = parse_summary(parts["Summary"])
    assert [r.name for r in summary.rows] == PART_NAMES
    assert all(r.status == "" for r in summary.rows)
    # One stream; two tool-loop turns; one structured call; the RAG part's file extraction
    # (upload, read, delete per file) and one chat call; two agent turns; the batch: an
    # upload, a create, its polls, the output file.
    extraction = 3 * (1 + len(list((ROOT / "docs").glob("*.md"))))
    assert [r.requests for r in summary.rows][:5] == [1, 3, 1, 1 + extraction, 2]
    assert summary.rows[5].requests >= 4
    assert summary.requests == sum(r.requests for r in summary.rows) == summary.recorded
    assert summary.tokens_in == sum(r.tokens_in for r in summary.rows) > 0
    assert summary.tokens_out == sum(r.tokens_out for r in summary.rows) > 0
    assert 0 < summary.reasoning < summary.tokens_out
    # 50 answers came in the batch's one output file.
    batch = summary.rows[5].requests
    assert summary.with_usage == summary.responses == summary.requests - extraction - batch + 50
    assert (
        "backend   the built-in Kimi emulator (moonshot dialect) at http://127.0.0.1:"
        in (parts["Summary"])
    )
    assert "model     kimi-k2.6 (moonshot)" in parts["Summary"]
    assert re.search(r"^elapsed   [\d.]+ s", parts["Summary"], re.MULTILINE)


# --------------------------------------------------------------------------- other backends


def test_against_an_emulator_it_did_not_start_the_figures_match_the_wire(kimi_emulator):
    """Through KIMI_API_KEY + KIMI_BASE_URL (any gateway): what the emulator recorded."""
    env = clean_env(
        {"KIMI_API_KEY": kimi_emulator.api_key, "KIMI_BASE_URL": kimi_emulator.base_url}
    )
    result = run_example("demo.py", env=env)
    check_clean(result)
    parts = sections(result.stdout)
    # A loopback base URL keeps Moonshot's profile (the emulator's default dialect).
    assert (
        f"backend: Moonshot AI (Kimi Open Platform, international) at {kimi_emulator.base_url}"
        in parts[""]
    )
    summary = parse_summary(parts["Summary"])
    recorded = kimi_emulator.requests
    assert summary.recorded is None  # the demo did not start this emulator
    assert summary.requests == len(recorded) == kimi_emulator.request_count
    # Chat calls, and the RAG part's file extraction (Moonshot's profile extracts): each
    # upload read once and deleted.
    other = [r for r in recorded if r.path != "/v1/chat/completions"]
    uploads = [r for r in other if r.method == "POST" and r.path == "/v1/files"]
    reads = [r for r in other if r.method == "GET" and r.path.endswith("/content")]
    deletes = [r for r in other if r.method == "DELETE" and r.path.startswith("/v1/files/")]
    assert len(uploads) == len(reads) == len(deletes) > 0
    assert len(other) == 3 * len(uploads)

    # The tool loop's second request carried the first turn back with its reasoning.
    loop = [
        r.json
        for r in recorded
        if r.json and r.json.get("tools") and "celsius_to_fahrenheit" in str(r.json["tools"])
    ]
    assert len(loop) == 3
    turns = [m for m in loop[2]["messages"] if m["role"] == "assistant"]
    assert len(turns) == 2 and all(t["tool_calls"] for t in turns)
    (kept,) = lines_starting(sections(result.stdout)[TITLES[1]], "reasoning kept: ")
    sizes = ", ".join(str(len(t["reasoning_content"])) for t in turns)
    assert f"({sizes} characters)" in kept

    # Tokens: the emulator counts deterministically, so sending the same requests again
    # (whole, not streamed) gives the usage the demo should have added up.
    tokens_in = tokens_out = 0
    for request in recorded:
        if request.path != "/v1/chat/completions":
            continue
        body = {**request.json, "stream": False}
        body.pop("stream_options", None)
        reply = httpx.post(
            kimi_emulator.chat_url,
            json=body,
            headers={"Authorization": f"Bearer {kimi_emulator.api_key}"},
        )
        usage = reply.raise_for_status().json()["usage"]
        tokens_in += usage["prompt_tokens"]
        tokens_out += usage["completion_tokens"]
    assert (summary.tokens_in, summary.tokens_out) == (tokens_in, tokens_out)


@pytest.fixture(scope="module")
def dialect_runs() -> dict[str, subprocess.CompletedProcess[str]]:
    """The demo on an emulator of two gateways' dialects (KIMI_PROVIDER, no key), run at
    once: AceData (its own path and stream shape; a model with a thinking switch) and
    EvoLink (a model that always thinks). Colour is not turned off: stdout is a pipe, so
    there must be none either."""
    procs = {
        d: start_example("demo.py", env=clean_env({"KIMI_PROVIDER": d}, no_color=False))
        for d in ("acedata", "evolink")
    }
    return {d: finish(p) for d, p in procs.items()}


@pytest.mark.parametrize(
    ("dialect", "model", "sent_as"),
    [
        (
            "acedata",
            "kimi-k2.5",
            'one tool call, tool_choice {"type": "function", "function": {"name": "City"}}, thinking disabled',
        ),
        (
            "evolink",
            "kimi-k2-thinking",
            # always thinks, no json_schema on EvoLink: json_mode (kimi_core.structured_output_method)
            "response_format json_object, thinking on (the model always thinks)",
        ),
    ],
)
def test_each_gateway_dialect(dialect_runs, dialect, model, sent_as):
    result = dialect_runs[dialect]
    check_clean(result)
    parts = sections(result.stdout)
    assert f"the built-in Kimi emulator ({dialect} dialect)" in parts[""]
    assert f"model:   {model}  (KIMI_PROVIDER={dialect} but no " in parts[""]
    assert lines_starting(parts[TITLES[2]], "sent as: ") == [sent_as]
    assert lines_starting(parts[TITLES[2]], "parsed: ") == [
        "City(country='France', name='Paris', population_millions=2.1)"
    ]
    for title in TITLES[1], TITLES[4]:
        assert lines_starting(parts[title], "reasoning kept: "), title
    summary = parse_summary(parts["Summary"])
    assert all(r.status == "" for r in summary.rows)
    assert summary.requests == summary.recorded == summary.with_usage


# --------------------------------------------------------------------------- errors


def test_a_wrong_key_is_one_readable_error_and_the_rest_is_skipped(kimi_emulator_factory):
    emu = kimi_emulator_factory(api_key="sk-the-right-one")
    env = clean_env({"KIMI_API_KEY": "sk-wrong", "KIMI_BASE_URL": emu.base_url})
    result = run_example("demo.py", env=env)
    check_clean(result, code=1)
    parts = sections(result.stdout)
    (error,) = lines_starting(parts[TITLES[0]], "error: ")
    assert error.startswith("KimiAuthenticationError: [HTTP 401 invalid_authentication_error]")
    assert "check KIMI_API_KEY" in parts[TITLES[0]]
    for title in TITLES[1:6]:
        assert parts[title].strip() == "skipped (see the error above)"
    summary = parse_summary(parts["Summary"])
    assert [r.status for r in summary.rows] == ["failed", *["skipped"] * 5]
    assert summary.requests == emu.request_count == 1  # a 401 is not retried
    assert "sk-wrong" not in result.stdout + result.stderr


def test_a_stream_cut_midway_fails_its_part_only(kimi_emulator):
    kimi_emulator.fault("drop_after", events=6)  # part 1's stream, after some reasoning
    env = clean_env(
        {"KIMI_API_KEY": kimi_emulator.api_key, "KIMI_BASE_URL": kimi_emulator.base_url}
    )
    result = run_example("demo.py", env=env)
    check_clean(result, code=1)
    parts = sections(result.stdout)
    first = parts[TITLES[0]]
    assert "thinking: " in first  # what arrived was shown
    (error,) = lines_starting(first, "error: ")
    assert error.startswith("KimiStreamError: stream broken after 6 events")
    summary = parse_summary(parts["Summary"])
    assert [r.status for r in summary.rows] == ["failed", "", "", "", "", ""]
    assert summary.requests == kimi_emulator.request_count


def test_an_unknown_provider_is_refused_before_anything_runs(monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    demo = importlib.import_module("demo")
    monkeypatch.setenv("KIMI_PROVIDER", "moonshot-eu")
    assert demo.main([]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "error: ConfigurationError: KIMI_PROVIDER='moonshot-eu' is unknown; choose one of "
        "moonshot, moonshot-cn, acedata, evolink, gptproto, openrouter, openai-compatible, or 'emulator' "
        "for the built-in emulator\n"
    )
