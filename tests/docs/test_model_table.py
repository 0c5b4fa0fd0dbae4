"""The README's model table and retired list say what the catalogue says."""

from __future__ import annotations

import re
from pathlib import Path

import kimi_core as kc

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
SECTION = README.split("\n## Models\n", 1)[1].split("\n## ", 1)[0]
ROWS = {
    m.group(1): m.group(0) for m in re.finditer(r"^\| (kimi-[\w.-]+)[^\n]*", SECTION, flags=re.M)
}


def row(model: str) -> str:
    """The table row whose first model is ``model``."""
    return ROWS[model]


def test_every_served_model_has_a_row_with_its_window() -> None:
    for model in ("kimi-k3", "kimi-k3.1-pro", "kimi-k2.7-code", "kimi-k2.6", "kimi-k2.5"):
        window = kc.get_model_info(model).context_window
        assert f"| {window:,} |" in row(model), model
    assert "kimi-k2.7-code-highspeed" in row("kimi-k2.7-code")
    assert "kimi-k3.1-pro-highspeed" in row("kimi-k3.1-pro")


def test_the_effort_column_is_the_catalogues() -> None:
    k3 = kc.get_model_info("kimi-k3")
    assert all(f'"{effort}"' in row("kimi-k3") for effort in k3.reasoning_efforts)
    for model in ("kimi-k2.7-code", "kimi-k2.6", "kimi-k2.5"):
        info = kc.get_model_info(model)
        assert info.reasoning_efforts == ()
        if info.reported_reasoning_efforts:  # kimi-k2.6: a live probe (nanobot#3939)
            assert all(f'"{e}"' in row(model) for e in info.reported_reasoning_efforts)
            assert "with a warning" in row(model)
        else:
            assert "| refused |" in row(model)


def test_every_id_moonshot_retired_is_listed_with_its_date() -> None:
    retired = SECTION.split("Retired on Moonshot", 1)[1].split("\n- ", 1)[0]
    for model, info in kc.MODELS.items():
        retirement = info.retirement("moonshot")
        if retirement is None:
            continue
        if model.startswith("moonshot-v1-"):
            assert "every moonshot-v1-* (2026-08-31)" in " ".join(retired.split())
            continue
        assert model in retired, model
        after = " ".join(retired.split(model, 1)[1].split())
        assert re.search(r"\((\d{4}-\d\d-\d\d)\)", after).group(1) == retirement.date, model  # type: ignore[union-attr]
        assert f"use {retirement.successor}" in " ".join(retired.split())
