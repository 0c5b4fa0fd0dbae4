"""Fixtures every test folder can use: a loopback server whose answers a test writes.
And one hook: skips of tests inherited from a library are reported as the test module's."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from _loopback import LoopbackServer


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    """A running :class:`LoopbackServer` (no handler yet), stopped after the test."""
    with LoopbackServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _retired_ids_warn_in_every_test() -> None:
    """A retired id warns once per process (``kimi_core._models.warn_if_retired``); forget who was
    warned, so that each test sees the warning its own models cause, whatever the order."""
    from kimi_core import _models

    _models._warned_retired.clear()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A skip raised outside the test's own module (a test LangChain's standard suites
    define, skipped by our class's mark or by the suite) is reported at the module, without
    a line: ``-ra`` then folds the same reason into one summary line
    (``SKIPPED [47] tests/langchain/test_standard_integration.py: live: set ...``) instead
    of one line per line of the library. Skips in our own code keep their line."""
    report = yield
    longrepr = report.longrepr
    if report.skipped and not hasattr(report, "wasxfail") and isinstance(longrepr, tuple):
        where, _line, reason = longrepr
        if Path(where).resolve() != item.path.resolve():
            report.longrepr = (str(item.path), None, reason)
    return report
