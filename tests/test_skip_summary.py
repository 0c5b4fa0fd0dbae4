"""The skip summary of ``pytest -ra``: one line per reason for the skips of inherited
tests (the hook in ``tests/conftest.py``), the line kept for our own skips."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent

SUITE = """
import pytest


class Suite:  # a library's suite: three tests on three lines
    def test_a(self):
        pass

    def test_b(self):
        pass

    def test_c(self):
        pytest.skip("the model does not take audio")
"""
MODULE = """
import pytest
from suite import Suite


@pytest.mark.skipif(True, reason="live: set A_KEY")
class TestLive(Suite):
    pass


class TestOffline(Suite):
    pass


def test_own():
    pytest.skip("not on this platform")
"""
CONFTEST = f"""
import importlib.util
import sys

sys.path.insert(0, {str(TESTS)!r})
spec = importlib.util.spec_from_file_location("tests_conftest", {str(TESTS / "conftest.py")!r})
ours = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ours)
pytest_runtest_makereport = ours.pytest_runtest_makereport  # the hook under test
"""


def test_inherited_skips_fold_into_one_line_per_reason(tmp_path: Path) -> None:
    (tmp_path / "suite.py").write_text(SUITE)
    (tmp_path / "test_module.py").write_text(MODULE)
    (tmp_path / "conftest.py").write_text(CONFTEST)
    isolated = ["-c", "/dev/null", "--rootdir", str(tmp_path)]  # not this project's settings
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-ra",
            "-p",
            "no:cacheprovider",
            *isolated,
            "test_module.py",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    skipped = re.findall(r"^SKIPPED .*$", proc.stdout, flags=re.M)
    assert skipped == [
        "SKIPPED [3] test_module.py: live: set A_KEY",
        "SKIPPED [1] test_module.py: the model does not take audio",
        "SKIPPED [1] test_module.py:16: not on this platform",
    ], proc.stdout
    assert re.search(r"\b2 passed, 5 skipped\b", proc.stdout), proc.stdout
