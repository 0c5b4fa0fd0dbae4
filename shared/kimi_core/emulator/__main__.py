"""``python -m kimi_core.emulator``: the same as the ``kimi-emulator`` command."""

from ._cli import main

main()
