"""docs/kimi-platform.md: the platform facts the code cites live in the repository.

Every ``docs/kimi-platform.md §N`` in the code names a section that exists; no comment cites
a document that is not in the repository; every recording the page names is in
``tests/recordings/`` and listed in its SOURCES.json; every copied document it names is in
``tests/fixtures/seeds/``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "kimi-platform.md").read_text()
CODE_DIRS = ("shared", "langchain_kimi", "llama_index_kimi", "tests", "benchmarks", "examples")
SECTIONS = {int(n) for n in re.findall(r"^## §(\d+)\. ", DOC, flags=re.M)}


def code_files() -> list[Path]:
    return [p for d in CODE_DIRS for p in sorted((ROOT / d).rglob("*.py"))]


def test_the_page_has_its_sections_in_order() -> None:
    assert sorted(SECTIONS) == list(range(1, 13))


def test_every_citation_in_the_code_names_a_section_of_the_page() -> None:
    cited: set[int] = set()
    for path in code_files():
        text = path.read_text()
        for first, last in re.findall(r"kimi-platform\.md §(\d+)(?:-§(\d+))?", text):
            for n in (first, last):
                if n:
                    assert int(n) in SECTIONS, f"{path.relative_to(ROOT)} cites §{n}"
                    cited.add(int(n))
        assert not re.search(r"\bfacts §\d", text), (
            f"{path.relative_to(ROOT)} cites the facts of a document outside the repository"
        )
    assert {4, 7, 8, 11} <= cited  # the schema, error, retry and model rules cite it


def test_the_recordings_the_page_names_are_in_the_repository() -> None:
    listed = json.loads((ROOT / "tests" / "recordings" / "SOURCES.json").read_text())["files"]
    named = set(re.findall(r"`((?:moonshotai|issue)-[\w.-]+\.(?:json|txt))`", DOC))
    assert len(named) >= 8
    for name in named:
        assert (ROOT / "tests" / "recordings" / name).is_file(), name
        assert name in listed, name


def test_the_copied_documents_the_page_names_are_in_the_repository() -> None:
    named = set(re.findall(r"`(\d{3}_[0-9a-f]{16}\.txt)`", DOC))
    assert len(named) == 5
    for name in named:
        assert (ROOT / "tests" / "fixtures" / "seeds" / name).is_file(), name


def test_the_page_names_no_path_outside_the_repository() -> None:
    assert "/work/" not in DOC and "kimi-api-facts" not in DOC and "../" not in DOC
