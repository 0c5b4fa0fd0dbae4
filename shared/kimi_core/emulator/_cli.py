"""``kimi-emulator`` console script."""


def main() -> None:
    raise SystemExit("the emulator is not built yet")
