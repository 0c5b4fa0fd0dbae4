"""Every Python example in the README runs as written, against the emulator.

The examples name no base URL or key: they get them from the environment, as a user's
app would (``KIMI_BASE_URL`` pointing at the emulator, ``MOONSHOT_API_KEY`` set). An
example that defines ``test_`` functions is run with pytest (it uses the plugin's
``kimi_emulator`` fixture).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from doc_blocks import HANG_GUARD, docs_env, python_blocks
from expected_output import README as EXPECTED
from expected_output import check_output, expectation_for

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
BLOCKS = [block.code for block in python_blocks(README)]
LINES = [block.line for block in python_blocks(README)]


def test_the_readme_has_examples() -> None:
    assert len(BLOCKS) >= 3
    assert README.startswith("# kimi-integrations\n\n```\nmake demo")
    assert "make test" in README.split("\n\n")[1]


@pytest.mark.parametrize("index", range(len(BLOCKS)), ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_example_runs_as_written(index: int, kimi_emulator_factory: Any, tmp_path: Path) -> None:
    emu = kimi_emulator_factory(dialect="moonshot")
    code = BLOCKS[index]
    env = docs_env(emu.base_url, MOONSHOT_API_KEY="sk-readme-test", PYTHONWARNINGS="ignore")
    if re.search(r"^def test_", code, flags=re.M):
        (tmp_path / "test_example.py").write_text(code)
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-W",
            "ignore",
            str(tmp_path / "test_example.py"),
        ]
    else:
        cmd = [sys.executable, "-c", code]
    proc = subprocess.run(
        cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=HANG_GUARD, check=False
    )
    assert proc.returncode == 0, (
        f"README example {index} failed:\n{code}\n--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"
    )
    assert emu.requests or "def make_llm" in code or "ConfigurationError" in code, (
        "the example talked to the emulator"
    )
    where = f"README.md, python block {index} (line {LINES[index]})"
    tests = re.findall(r"^def (test_\w+)", code, flags=re.M)
    if tests:
        assert re.search(rf"^{len(tests)} passed\b", proc.stdout, flags=re.M), proc.stdout[-3000:]
    else:
        check_output(proc.stdout, expectation_for(code, EXPECTED, where), where)
    assert proc.stderr == "", f"{where} wrote to stderr:\n{proc.stderr[-3000:]}"


def test_the_readme_is_a_front_door() -> None:
    """Short (the rest is in docs/ and CONTRIBUTING.md), and every page it links to exists.
    250 lines at most; it is kept near 210, for sections yet to come."""
    assert len(README.splitlines()) <= 250
    for target in re.findall(r"\]\((?!https?://)([^)#]+)(?:#[^)]*)?\)", README):
        assert (ROOT / target).exists(), f"README.md links to {target}"
    for section in ("## Install", "## LangChain quickstart", "## LlamaIndex quickstart"):
        assert f"\n{section}\n" in README, section


def test_every_expected_output_names_one_example() -> None:
    """No entry of expected_output.py is left without its example (renamed or removed)."""
    for key in EXPECTED:
        assert sum(key in code for code in BLOCKS) == 1, f"README.md: {key!r} names no example"


def test_the_provider_table_matches_the_profiles() -> None:
    import kimi_core as kc

    table = README.split("## Providers", 1)[1].split("\n\n- ", 1)[0]
    rows = {
        m.group(1): m.group(0) for m in re.finditer(r"^\| `([a-z-]+)`[^\n]*", table, flags=re.M)
    }
    assert set(rows) == set(kc.PROVIDERS)
    for name, profile in kc.PROVIDERS.items():
        row = rows[name]
        if profile.base_url:
            assert profile.base_url + profile.chat_path in row
        assert f"`{profile.key_env or 'KIMI_API_KEY'}`" in row
        for model in profile.models if name in ("acedata", "evolink", "gptproto") else ():
            assert model in row
