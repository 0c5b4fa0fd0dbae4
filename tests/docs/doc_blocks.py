"""What the documentation tests share: a Markdown file's Python blocks, and the
environment they run in (the emulator's URL in ``KIMI_BASE_URL``, test keys, nothing
from the developer's own environment that would pick a real provider)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

#: Variables that would select a provider, a key or a model in a user's app.
PROVIDER_VARIABLES = (
    "MOONSHOT_API_KEY",
    "ACEDATACLOUD_API_TOKEN",
    "EVOLINK_API_KEY",
    "GPTPROTO_API_KEY",
)
#: A guard against a hung subprocess, not a timed assertion.
HANG_GUARD = 300

_FENCE = re.compile(r"^```python\n(.*?)^```", flags=re.M | re.S)
_TEST_FUNCTION = re.compile(r"^(?:async )?def (test_\w+)\(", flags=re.M)


@dataclass(frozen=True)
class Block:
    """One ```python block: its position among the file's Python blocks, the line of its
    first line of code in the file, and its code."""

    index: int
    line: int
    code: str

    @property
    def tests(self) -> list[str]:
        """The pytest test functions it defines (a block with some is run by pytest)."""
        return _TEST_FUNCTION.findall(self.code)

    def describe(self, name: str) -> str:
        return f"{name}, python block {self.index} (line {self.line})"


def python_blocks(text: str) -> list[Block]:
    """The ```python blocks of a Markdown text, in order."""
    return [
        Block(index=i, line=text.count("\n", 0, m.start(1)) + 1, code=m.group(1))
        for i, m in enumerate(_FENCE.finditer(text))
    ]


def docs_env(base_url: str, **variables: str) -> dict[str, str]:
    """This process's environment without provider keys or ``KIMI_*`` settings, plus
    ``KIMI_BASE_URL=base_url`` and ``variables`` (the keys the examples find)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("KIMI_") and k not in PROVIDER_VARIABLES
    }
    env.update({"KIMI_BASE_URL": base_url, "PYTHONIOENCODING": "utf-8", "PYTHONUNBUFFERED": "1"})
    env.update(variables)
    return env
