"""``python -m kimi_emulator``: the same as the ``kimi-emulator`` command."""

from ._cli import main

main()
