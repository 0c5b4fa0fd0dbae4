"""Every install line of the README and ``docs/`` works as written, on a machine with only
Python: each one runs, in the order the pages give them, in a throwaway virtualenv made
with ``python -m venv`` from a copy of the clone, with pip reading no configuration but
PyPI (none of this machine's indexes, wheel folders or constraints).

The lines install from PyPI, so the run needs PyPI; when PyPI cannot be reached it is
skipped, saying so (``-ra`` lists it). pip's own cache is used, as on a user's machine.
The set-up the Makefile gives ``.venv`` (``.venv/bin/python -m pip install X`` as the
documented way to add a package, every target syncing without removing) is checked here
too, by reading the Makefile: running the targets takes minutes.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from doc_blocks import HANG_GUARD

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_SHELL_FENCE = re.compile(r"^```(?:bash|sh|console)?\n(.*?)^```", flags=re.M | re.S)
#: What each extra makes importable (and the console script every install gives).
IMPORTS = {
    "langchain": ["langchain_kimi"],
    "llama-index": ["llama_index_kimi", "llama_index.llms.kimi"],
    "all": ["langchain_kimi", "llama_index_kimi"],
}


def install_lines() -> list[tuple[str, str]]:
    """``(page, line)`` for every ``pip install`` / ``pip wheel`` line of a shell block,
    comments cut off, in page order."""
    found = []
    for page in PAGES:
        for block in _SHELL_FENCE.finditer(page.read_text(encoding="utf-8")):
            for line in block.group(1).splitlines():
                line = line.split(" #", 1)[0].strip()
                if re.search(r"\bpip (install|wheel)\b", line):
                    found.append((page.relative_to(ROOT).as_posix(), line))
    return found


LINES = install_lines()


def test_the_pages_give_install_lines_and_only_ones_that_can_work() -> None:
    """No page says ``pip install kimi-integrations`` (it is not on PyPI): each line
    installs the clone (``.``) or the wheel a line before it builds."""
    pages = {page for page, _ in LINES}
    assert {"README.md", "docs/langchain.md", "docs/llama_index.md"} <= pages, LINES
    for page, line in LINES:
        words = shlex.split(line)
        assert words[:3] in (["python", "-m", "pip"], [".venv/bin/python", "-m", "pip"]), (
            f"{page}: {line!r}: write `python -m pip` (the pip of the Python that runs the app)"
        )
        if words[3] == "install":
            target = words[-1]
            assert target.startswith((".[", "dist/kimi_integrations-")), (
                f"{page}: {line!r} installs from elsewhere than the clone"
            )


def _pypi_reachable() -> bool:
    try:
        with urllib.request.urlopen("https://pypi.org/simple/httpx/", timeout=10) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def _isolated_env(tmp: Path) -> dict[str, str]:
    """This environment without pip or uv settings, pip reading no configuration file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "VIRTUAL_ENV"))}
    env.update({"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    env["PATH"] = f"{tmp / 'venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def _clone(dest: Path) -> Path:
    ignore = shutil.ignore_patterns(
        ".git", ".venv*", ".uv", "__pycache__", ".mypy_cache", ".ruff_cache", "dist", "build"
    )
    shutil.copytree(ROOT, dest, ignore=ignore)
    return dest


def test_every_install_line_works_in_a_fresh_virtualenv(tmp_path: Path) -> None:
    if not _pypi_reachable():
        pytest.skip("PyPI cannot be reached: the install lines were not run")
    clone = _clone(tmp_path / "kimi-integrations")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=HANG_GUARD)
    env = _isolated_env(tmp_path)
    ran = []
    for page, line in LINES:
        words = shlex.split(line)
        # `python` is the throwaway environment's (as an activated virtualenv makes it).
        cmd = [str(venv / "bin" / "python"), *words[1:], "--quiet"]
        proc = subprocess.run(
            cmd, cwd=clone, env=env, capture_output=True, text=True, timeout=HANG_GUARD * 2
        )
        assert proc.returncode == 0, f"{page}: {line!r} failed:\n{proc.stderr[-3000:]}"
        ran.append(line)
        extra = re.search(r"\[([a-z-]+)\]", line)
        if words[3] == "install" and extra:
            modules = IMPORTS[extra.group(1)]
            code = "import " + ", ".join(modules)
            check = subprocess.run(
                [str(venv / "bin" / "python"), "-c", code],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=HANG_GUARD,
            )
            assert check.returncode == 0, f"{page}: after {line!r}: {check.stderr[-2000:]}"
    assert ran, "no install line ran"
    assert (venv / "bin" / "kimi-emulator").exists(), "the console script was not installed"
    version = subprocess.run(
        [str(venv / "bin" / "kimi-emulator"), "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
    )
    assert version.returncode == 0 and "--port" in version.stdout, version.stderr


MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")


def test_no_make_target_removes_what_another_installed() -> None:
    """Every sync of ``.venv`` is inexact (the targets' groups and the user's own packages
    stay); each still puts what it needs at the locked versions (``--locked``)."""
    lines = MAKEFILE.splitlines()
    # make test-clients syncs its own environment exactly (its own lock), never .venv.
    clients = [line for line in lines if " pip sync " in line]
    assert all("$(CLIENTS_VENV)" in line and "$(VENV)/" not in line for line in clients)
    syncs = [line for line in lines if " sync " in line and "$(UV)" in line and line not in clients]
    assert syncs, "the Makefile has no uv sync"
    for line in syncs:
        assert "--inexact" in line and "--locked" in line, line
    assert "--exact" not in MAKEFILE.split("define resolve", 1)[0]


def test_the_documented_way_to_add_a_package_is_given() -> None:
    """The Makefile gives ``.venv`` pip (offline, from the standard library), and the
    README says how to add a package with it."""
    assert "ensurepip" in MAKEFILE
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert ".venv/bin/python -m pip install" in readme
