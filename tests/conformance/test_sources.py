"""The recordings are real and say where they come from; the allowed differences are the
ones docs/emulator.md shows."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from conf_cases import CASES, GAPS, allowed_table, recordings_table
from conf_recordings import HERE, SOURCES, load

DOCS = Path(__file__).resolve().parents[2] / "docs" / "emulator.md"
#: Ids the vercel/ai fixtures use in their hand-written (not recorded) files.
HAND_WRITTEN = ("chatcmpl-123", "chatcmpl-456", "chatcmpl-tools", "chatcmpl-indexless")


def _text(name: str) -> str:
    raw = (HERE / name).read_bytes()
    return gzip.decompress(raw).decode() if name.endswith(".gz") else raw.decode()


def test_every_recording_names_its_source() -> None:
    on_disk = {
        str(p.relative_to(HERE))
        for p in HERE.rglob("*")
        if p.is_file() and p.name not in ("SOURCES.json", "README.md")
    }
    assert on_disk == set(SOURCES)
    for name, source in SOURCES.items():
        assert re.fullmatch(r"[\w.-]+/[\w.-]+", source["repository"]), name
        assert source["path"] and source["what"], name
        assert re.fullmatch(r"[0-9a-f]{40}", source["commit"]), name


def test_nothing_hand_written_or_secret_is_presented_as_recorded() -> None:
    for name in SOURCES:
        text = _text(name)
        for fake in HAND_WRITTEN:
            assert fake not in text, (name, fake)
        assert not re.search(r"sk-[A-Za-z0-9]{20,}", text), name
        assert not re.search(r"(?i)bearer [A-Za-z0-9]", text), name
        assert load(name), name  # every recording can be read


def test_every_recording_is_compared() -> None:
    assert {c.recording for c in CASES} == set(SOURCES)


def test_the_docs_show_the_allowed_differences_and_the_gaps() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for table in (recordings_table(SOURCES), allowed_table()):
        assert table in docs, "docs/emulator.md must contain this table:\n" + table
    for gap in GAPS:
        assert gap in docs, gap
