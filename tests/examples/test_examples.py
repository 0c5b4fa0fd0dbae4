"""Every example runs as written: a subprocess, no provider key, the emulator behind it.

Each is checked for its exit status, a clean stderr and its key output; a few also run
against an emulator of the test's own, to check what went over the wire.
"""

from __future__ import annotations

import ast
import base64
import json
import re
import runpy
import subprocess
import sys
from collections.abc import Iterator

import pytest

from kimi_emulator import KimiEmulator

from .runner import (
    ANSI,
    EXAMPLES,
    PROVIDER_VARIABLES,
    ROOT,
    clean_env,
    finish,
    lines_starting,
    start_example,
)

EMULATOR_BANNER = "backend: the built-in Kimi emulator (moonshot dialect), model kimi-k2.6."
CITY = "City(country='France', name='Paris', population_millions=2.1)"

#: example -> lines its output must contain (whole lines, in this order).
EXPECTED: dict[str, list[str]] = {
    "streaming.py": [
        "LangChain:",
        "--- reasoning:",
        "--- answer:",
        "LlamaIndex:",
        "--- reasoning:",
        "--- answer:",
    ],
    "langchain_tool_loop.py": [
        "  get_weather({'city': 'Paris'}) -> 18 C and cloudy",
        "  get_weather({'city': 'Tokyo'}) -> 24 C and sunny",
        "  celsius_to_fahrenheit({'celsius': 18}) -> 64.4 F",
        "  celsius_to_fahrenheit({'celsius': 24}) -> 75.2 F",
        "answer: Paris: 18 C and cloudy, which is 64.4 F. Tokyo: 24 C and sunny, which is "
        "75.2 F. (Kimi emulator: a deterministic answer from the tool results, not a model.)",
    ],
    "llama_index_agent.py": [
        "tool: get_weather({'city': 'Tokyo'}) -> 24 C and sunny",
        "tool: celsius_to_fahrenheit({'celsius': 24}) -> 75.2 F",
        "answer: Tokyo: 24 C and sunny, which is 75.2 F. (Kimi emulator: a deterministic "
        "answer from the tool results, not a model.)",
    ],
    "structured_output.py": [f"LangChain:  {CITY}", f"LlamaIndex: {CITY}"],
    "vision.py": ["image: shapes.png (image/png, 334 bytes)"],
    "partial_mode.py": [
        'LangChain:  {"city": "Paris", "country": "France"}',
        'LlamaIndex: {"city": "Paris", "country": "France"}',
    ],
    "web_search.py": [
        'answer: Here is what the web search found for "What is the latest released version '
        'of Python?" (emulated: no web access).',
        "agent: $web_search called",
        'agent answer: Here is what the web search found for "Any news about the Louvre in '
        'Paris today?" (emulated: no web access).',
    ],
    "langchain_rag.py": [
        "question: How do I run the test suite without a Kimi API key?",
        'answer: You said: "How do I run the test suite without a Kimi API key?". This is a '
        "deterministic reply from the Kimi emulator (a protocol stand-in, not a model).",
        'answer: You said: "What does Kimi charge?". This is a deterministic reply from the '
        "Kimi emulator (a protocol stand-in, not a model).",
    ],
    "providers.py": [
        "moonshot: MOONSHOT_API_KEY not set: an emulator (moonshot dialect)",
        "  requests: 2 (POST /v1/chat/completions)",
        "acedata: ACEDATACLOUD_API_TOKEN not set: an emulator (acedata dialect)",
        "  requests: 2 (POST /kimi/chat/completions)",
        "evolink: EVOLINK_API_KEY not set: an emulator (evolink dialect)",
        "  requests: 2 (POST /v1/chat/completions)",
        "gptproto: GPTPROTO_API_KEY not set: an emulator (gptproto dialect)",
        "  requests: 2 (POST /v1/chat/completions)",
        "gateway: KIMI_API_KEY not set: an emulator (moonshot dialect)",
        "  requests: 2 (POST /v1/chat/completions)",
    ],
}
#: Not recipes of their own: the shared backend module, and the demo (tests/examples/test_demo.py).
NOT_RECIPES = {"_backend.py", "_local_embedding.py", "demo.py", "test_your_app.py"}


def test_every_example_is_tested_here():
    recipes = {p.name for p in EXAMPLES.glob("*.py")} - NOT_RECIPES
    assert recipes == set(EXPECTED)


@pytest.fixture(scope="module")
def wire_emulator() -> Iterator[KimiEmulator]:
    """An emulator of the test's own, for the runs whose requests are checked."""
    with KimiEmulator(dialect="moonshot") as emu:
        yield emu


@pytest.fixture(scope="module")
def runs(wire_emulator: KimiEmulator) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every example, started at once (they are independent; each starts its emulator),
    the pytest example, and vision.py pointed at ``wire_emulator`` as at a Moonshot proxy."""
    procs = {name: start_example(name) for name in EXPECTED}
    procs["test_your_app.py"] = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "examples/test_your_app.py",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=ROOT,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    wire_env = {
        "KIMI_PROVIDER": "moonshot",
        "KIMI_API_KEY": wire_emulator.api_key,
        "KIMI_BASE_URL": wire_emulator.base_url,
    }
    procs["vision.py on the wire"] = start_example("vision.py", env=clean_env(wire_env))
    return {name: finish(proc) for name, proc in procs.items()}


def in_order(lines: list[str], expected: list[str]) -> bool:
    it = iter(lines)
    return all(any(line == want for line in it) for want in expected)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_example_runs_on_the_emulator(runs, name):
    result = runs[name]
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    assert not ANSI.search(result.stdout)
    lines = result.stdout.splitlines()
    if name != "providers.py":  # it runs one emulator per provider and says so per line
        assert lines[0 if name != "vision.py" else 1].startswith(EMULATOR_BANNER)
        assert "It stands in for the Kimi protocol; it is not a model." in result.stdout
    assert in_order(lines, EXPECTED[name]), result.stdout


def test_streaming_prints_the_usage_of_both_frameworks(runs):
    out = runs["streaming.py"].stdout
    langchain, llama_index = (ast.literal_eval(u) for u in lines_starting(out, "usage: "))
    assert langchain["input_tokens"] == llama_index["prompt_tokens"] > 0
    assert langchain["output_tokens"] == llama_index["completion_tokens"] > 0
    assert langchain["output_token_details"]["reasoning"] == llama_index["reasoning_tokens"] > 0


def test_partial_mode_continues_the_json_prefix(runs):
    out = runs["partial_mode.py"].stdout
    for label in ("LangChain:  ", "LlamaIndex: "):
        (text,) = lines_starting(out, label)
        assert text.startswith("{")
        assert isinstance(json.loads(text), dict)


def test_the_pytest_example_passes(runs):
    result = runs["test_your_app.py"]
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout


# --------------------------------------------------------------------------- on the wire


def test_vision_sends_the_image_as_a_data_uri(runs, wire_emulator):
    result = runs["vision.py on the wire"]
    assert result.returncode == 0, result.stderr
    assert "backend: Moonshot AI (Kimi Open Platform, international) at " in result.stdout
    image = (EXAMPLES / "shapes.png").read_bytes()
    requests = wire_emulator.requests
    assert len(requests) == 2  # LangChain, then LlamaIndex
    for request in requests:
        (part,) = [p for p in request.json["messages"][0]["content"] if p["type"] == "image_url"]
        prefix, data = part["image_url"]["url"].split(",", 1)
        assert prefix == "data:image/png;base64"
        assert base64.b64decode(data) == image


def test_a_refused_input_is_reported_in_a_line(monkeypatch, capsys):
    """vision.py on AceData (text only): refused before sending, said in one line."""
    for name in [*PROVIDER_VARIABLES, "KIMI_API_KEY", "KIMI_BASE_URL", "KIMI_MODEL"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KIMI_PROVIDER", "acedata")
    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.setattr(sys, "argv", ["vision.py"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(EXAMPLES / "vision.py"), run_name="__main__")
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "error: ConfigurationError: messages[0].content[1].type='image_url' is not accepted "
        "by provider 'acedata'"
    )
    assert "Traceback" not in err


def test_the_langchain_rag_example_loads_every_doc_through_kimi(runs):
    out = runs["langchain_rag.py"].stdout
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    size = sum(len(f.read_text(encoding="utf-8")) for f in files)
    assert lines_starting(out, "loaded: ") == [f"{len(files)} documents, {size} characters"]
    (sources,) = lines_starting(out, "sources: ")
    assert set(sources.split(", ")) <= {f.name for f in files}
    (whole,) = lines_starting(out, "whole document: ")
    assert re.fullmatch(
        r"1 system message\(s\), about [1-9]\d* tokens \(platform estimate\) of 262144", whole
    )
