"""Every Python block of the guides in ``docs/`` runs as written, against the emulator.

One subprocess per guide runs its blocks in order in one interpreter, like a notebook,
then its ``test_`` blocks with pytest (``guide_runner.py``). The blocks name no base URL
or key: they find them in the environment, as a user's app would: ``KIMI_BASE_URL``
points at the emulator, ``MOONSHOT_API_KEY`` is set, and ``KIMI_API_KEY`` for the
gateway (``openai-compatible``) examples.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from doc_blocks import HANG_GUARD, Block, docs_env, python_blocks
from expected_output import GUIDES as EXPECTED
from expected_output import check_output, expectation_for

ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("guide_runner.py")
GUIDES = ("langchain.md", "llama_index.md", "emulator.md", "documents.md", "batch.md")
#: Emulator options a guide needs (batch.md: its batches pass every status in a second).
GUIDE_EMULATOR = {"batch.md": {"batch_time_scale": 0.01}}
#: Guides whose examples start their own emulators (in Python, or the pytest fixtures).
OWN_EMULATORS = {"emulator.md"}
MARK = re.compile(r"^=== block (\d+) \(line \d+\) ===$", flags=re.M)
#: Where the notebook blocks' output ends: the next block, the test blocks, or the end.
SECTION_END = re.compile(r"^=== (?:block \d+ \(line \d+\)|pytest .*) ===$", flags=re.M)


def printed_by_block(output: str) -> dict[int, str]:
    """What each notebook block printed (the runner marks where each one starts)."""
    out = {}
    for mark in MARK.finditer(output):
        end = SECTION_END.search(output, mark.end())
        out[int(mark.group(1))] = output[mark.end() : end.start() if end else len(output)]
    return out


def read(guide: str) -> str:
    return (ROOT / "docs" / guide).read_text(encoding="utf-8")


def failure_report(guide: str, blocks: list[Block], output: str) -> str:
    """The guide, the block that failed (its code) and what it printed."""
    name = f"docs/{guide}"
    failed = re.search(r"^=== FAILED (?:block (\d+)|pytest) ===$", output, flags=re.M)
    if failed is None:
        return f"{name}: the runner stopped without a verdict:\n{output[-6000:]}"
    if failed.group(1) is None:
        start = output.find("=== pytest")
        names = set(re.findall(r"^(?:FAILED|ERROR) \S+::(test_\w+)", output, flags=re.M))
        where = [b.describe(name) for b in blocks if names & set(b.tests)] or [f"{name} tests"]
        return f"{'; '.join(where)} failed:\n{output[start:][-8000:]}"
    block = blocks[int(failed.group(1))]
    marks = list(MARK.finditer(output))
    start = next(m.start() for m in marks if int(m.group(1)) == block.index)
    return (
        f"{block.describe(name)} failed.\n--- code\n{block.code}--- output\n"
        f"{output[start : failed.start()][-6000:]}"
    )


@pytest.mark.parametrize("guide", GUIDES)
def test_guide_runs_as_written(guide: str, kimi_emulator_factory: Any, tmp_path: Path) -> None:
    emu = kimi_emulator_factory(dialect="moonshot", **GUIDE_EMULATOR.get(guide, {}))
    blocks = python_blocks(read(guide))
    assert blocks, f"docs/{guide} has no python blocks"
    proc = subprocess.run(
        [sys.executable, str(RUNNER), str(ROOT / "docs" / guide)],
        cwd=tmp_path,
        env=docs_env(emu.base_url, MOONSHOT_API_KEY="sk-docs-test", KIMI_API_KEY="sk-docs-gateway"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        timeout=HANG_GUARD,
        check=False,
    )
    assert proc.returncode == 0, failure_report(guide, blocks, proc.stdout)
    printed = printed_by_block(proc.stdout)
    assert set(printed) == {b.index for b in blocks if not b.tests}, proc.stdout[-3000:]
    for block in blocks:
        if not block.tests:
            where = block.describe(f"docs/{guide}")
            check_output(
                printed[block.index], expectation_for(block.code, EXPECTED[guide], where), where
            )
    tests = sum(len(b.tests) for b in blocks)
    if tests:
        assert re.search(rf"^{tests} passed\b", proc.stdout, flags=re.M), proc.stdout[-3000:]
    if guide not in OWN_EMULATORS:
        assert emu.request_count > 0, f"docs/{guide} never talked to the emulator"


@pytest.mark.parametrize("guide", GUIDES)
def test_guide_is_written_for_users(guide: str) -> None:
    """No draft wording, no base URL or key in the code (the environment gives them),
    and links that lead somewhere."""
    text = read(guide)
    assert not re.search(r"\bdrafts?\b", text, flags=re.I), f"docs/{guide} still says draft"
    for block in python_blocks(text):
        named = re.findall(
            r"\b(?:base_url|api_base|api_key)=[\"']|https?://127\.0\.0\.1", block.code
        )
        assert not named, f"{block.describe(f'docs/{guide}')} names a base URL or key: {named}"
    for target in re.findall(r"\]\((?!https?://)([^)#]+)(?:#[^)]*)?\)", text):
        assert (ROOT / "docs" / target).resolve().is_file(), f"docs/{guide} links to {target}"


#: Reference pages (no runnable examples; ``tests/docs/test_platform_doc.py`` checks them).
REFERENCES = ("architecture.md", "kimi-platform.md", "troubleshooting.md")


def test_the_guides_are_these() -> None:
    assert sorted(p.name for p in (ROOT / "docs").glob("*.md")) == sorted(GUIDES + REFERENCES)


@pytest.mark.parametrize("guide", GUIDES)
def test_every_expected_output_names_one_example(guide: str) -> None:
    """No entry of expected_output.py is left without its example (renamed or removed)."""
    codes = [b.code for b in python_blocks(read(guide)) if not b.tests]
    for key in EXPECTED[guide]:
        assert sum(key in code for code in codes) == 1, f"docs/{guide}: {key!r} names no example"
