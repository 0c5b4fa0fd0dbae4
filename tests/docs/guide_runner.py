"""Run one guide's Python blocks as a reader would, in this interpreter (a subprocess of
``test_guides.py``).

``python guide_runner.py GUIDE.md``: the blocks without ``test_`` functions run in
order in one ``__main__`` namespace, like the cells of a notebook (a later block may use
what an earlier one defined); then the blocks with ``test_`` functions are written, in
order, to one test file and run with pytest (the ``kimi_emulator`` fixture comes from
the package's plugin). Code keeps the guide's line numbers in tracebacks (the file name
is the guide's) and in the test file, so a failure points at the guide's line.

The output shows ``=== block N (line L) ===`` before each block's output and
``=== FAILED block N ===`` (or ``=== FAILED pytest ===``) at a failure.
"""

from __future__ import annotations

import linecache
import sys
import traceback
import types
from pathlib import Path

from doc_blocks import python_blocks


def run(guide: Path) -> int:
    text = guide.read_text(encoding="utf-8")
    name = f"docs/{guide.name}"
    blocks = python_blocks(text)
    linecache.cache[name] = (len(text), None, text.splitlines(keepends=True), name)
    main = types.ModuleType("__main__")  # a fresh namespace: classes pickle as __main__.X
    sys.modules["__main__"] = main
    for block in blocks:
        if block.tests:
            continue
        print(f"\n=== block {block.index} (line {block.line}) ===", flush=True)
        code = compile("\n" * (block.line - 1) + block.code, name, "exec")
        try:
            exec(code, main.__dict__)
        except BaseException:
            traceback.print_exc()
            sys.stderr.flush()
            print(f"\n=== FAILED block {block.index} ===", flush=True)
            return 1
    tests = [b for b in blocks if b.tests]
    if not tests:
        return 0
    import pytest

    lines: list[str] = []
    for block in tests:  # padded: line L of the test file is line L of the guide
        lines += [""] * (block.line - 1 - len(lines))
        lines += block.code.splitlines()
    test_file = Path(f"test_{guide.stem}_md.py")
    test_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"\n=== pytest {test_file} (line numbers are the guide's) ===", flush=True)
    # The notebook blocks imported the plugins' modules already: say nothing about that.
    options = ["-o", "asyncio_default_fixture_loop_scope=function"]
    options += ["-W", "ignore::pytest.PytestAssertRewriteWarning"]
    code = pytest.main(["-q", "-p", "no:cacheprovider", "-rfE", *options, str(test_file)])
    if code != 0:
        print("\n=== FAILED pytest ===", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(run(Path(sys.argv[1])))
