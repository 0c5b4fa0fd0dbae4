"""``kimi-emulator`` / ``python -m kimi_emulator``: run the emulator in the foreground."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from . import DIALECT_NAMES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kimi-emulator",
        description=(
            "A local Kimi-compatible server for tests and demos: a stand-in for the "
            "protocol, not a model (answers are deterministic)."
        ),
    )
    parser.add_argument("--port", type=int, default=8000, help="port (0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind")
    parser.add_argument(
        "--dialect", choices=DIALECT_NAMES, default="moonshot", help="which system to speak as"
    )
    parser.add_argument(
        "--api-key",
        default=None,
        help="the only key accepted (default: any non-empty Bearer token)",
    )
    parser.add_argument(
        "--accept-any-model",
        action="store_true",
        help="serve any model id instead of answering 404 for unknown ones",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="also apply the rules only one unconfirmed source reports",
    )
    parser.add_argument(
        "--max-requests",
        type=int,
        default=1000,
        help="how many recent requests to keep for inspection (default 1000)",
    )
    parser.add_argument(
        "--stream-delay",
        type=float,
        default=0.0,
        help="seconds between streamed events (default 0)",
    )
    parser.add_argument(
        "--batch-time-scale",
        type=float,
        default=1.0,
        help="multiplies the Batch API's emulated durations (0.01: each status in 0.1 s)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Run until interrupted (Ctrl-C or SIGTERM)."""
    args = _parser().parse_args(argv)
    from ._emulator import KimiEmulator

    if args.max_requests < 0:
        raise SystemExit("kimi-emulator: --max-requests must be 0 or more")
    emu = KimiEmulator(
        dialect=args.dialect,
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        accept_any_model=args.accept_any_model,
        stream_delay=args.stream_delay,
        strict=args.strict,
        max_requests=args.max_requests,
        batch_time_scale=args.batch_time_scale,
    )
    try:
        emu.start()
    except OSError as exc:
        raise SystemExit(
            f"kimi-emulator: cannot listen on {args.host}:{args.port}: {exc}"
        ) from None
    done = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _stop)
    key = "the key given with --api-key" if args.api_key else "any non-empty key"
    print(f"Kimi emulator ({emu.dialect} dialect) listening on {emu.base_url}", flush=True)
    print(
        "A local stand-in for the Kimi protocol, not a model: answers are deterministic.\n"
        f"Use base_url={emu.base_url} provider={emu.provider} api_key=<{key}> "
        f"model={emu.default_model}; chat at {emu.chat_url}. Ctrl-C stops it.",
        flush=True,
    )
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()
    print("kimi-emulator stopped", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
