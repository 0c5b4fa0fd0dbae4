"""Run the examples as a user would: a subprocess of this venv's Python, no provider key."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
#: Variables that would select a real provider (or change the backend) in the examples.
PROVIDER_VARIABLES = (
    "MOONSHOT_API_KEY",
    "ACEDATACLOUD_API_TOKEN",
    "EVOLINK_API_KEY",
    "GPTPROTO_API_KEY",
)
ANSI = re.compile(r"\x1b[\[\]]")
#: A guard against a hung subprocess, not a timed assertion.
HANG_GUARD = 300


def clean_env(
    extra: Mapping[str, str | None] | None = None, *, no_color: bool = True
) -> dict[str, str]:
    """This environment without any provider key or KIMI_* setting; ``NO_COLOR=1``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("KIMI_") and k not in PROVIDER_VARIABLES and k != "NO_COLOR"
    }
    if no_color:
        env["NO_COLOR"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    for key, value in (extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_example(
    script: str,
    *args: str,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python examples/<script> <args>`` from the repository root."""
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        cwd=ROOT,
        env=dict(env) if env is not None else clean_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=HANG_GUARD,
        check=False,
    )


def start_example(
    script: str, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.Popen[str]:
    """Like :func:`run_example`, without waiting (to run several at once)."""
    return subprocess.Popen(
        [sys.executable, str(EXAMPLES / script), *args],
        cwd=ROOT,
        env=dict(env) if env is not None else clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )


def finish(proc: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    out, err = proc.communicate(timeout=HANG_GUARD)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def lines_starting(text: str, prefix: str) -> list[str]:
    """The lines of ``text`` that start with ``prefix``, without it."""
    return [line[len(prefix) :] for line in text.splitlines() if line.startswith(prefix)]
