"""``kimi-emulator`` / ``python -m kimi_emulator``: run the emulator in the foreground."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any

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
    parser.add_argument(
        "--responder",
        default=None,
        help=(
            "who answers what no script answers: planner (the default), echo, scripted "
            "(with --script), recorded (with --recordings), or module:function (a "
            "callable taking the validated request)"
        ),
    )
    parser.add_argument(
        "--script",
        default=None,
        metavar="FILE",
        help="a JSON list of replies for --responder scripted, served in order: "
        '{"content", "reasoning", "tool_calls", "finish_reason"} or {"status", "message"}',
    )
    parser.add_argument(
        "--recordings",
        action="append",
        default=None,
        metavar="PATH",
        help="vcrpy cassettes (YAML or JSON), *.json bodies or *.chunks.txt / *.sse "
        "streams, or a folder of them, to answer from (implies --responder recorded; "
        "repeatable)",
    )
    parser.add_argument(
        "--match-on",
        default=None,
        help="comma-separated fields a recording must share with the request (default "
        "last_user,tools; also model, step, messages)",
    )
    parser.add_argument(
        "--upstream",
        default=None,
        metavar="URL",
        help="record-through: forward chat requests to this provider base URL with the "
        "caller's key, after reporting the Kimi rules they break (--strict refuses them)",
    )
    parser.add_argument(
        "--record",
        default=None,
        metavar="DIR",
        help="with --upstream: write the exchanges as vcrpy JSON cassettes in DIR, "
        "credentials stripped",
    )
    return parser


def _responder(args: argparse.Namespace) -> Any:
    """The --responder option as KimiEmulator takes it."""
    spec = args.responder
    if spec is None or spec in ("planner", "echo", "recorded"):
        if args.script:
            raise SystemExit("kimi-emulator: --script goes with --responder scripted")
        return spec
    from ._responders import Rejection, Reply, ScriptedResponder

    if spec == "scripted":
        if not args.script:
            return spec
        try:
            with open(args.script, encoding="utf-8") as f:
                items = json.load(f)
            if not isinstance(items, list):
                raise ValueError("the file must hold a JSON list of replies")
            replies: list[Reply | Rejection] = [
                Rejection(**item) if "status" in item else Reply(**item) for item in items
            ]
        except (OSError, ValueError, TypeError) as exc:
            raise SystemExit(f"kimi-emulator: --script {args.script}: {exc}") from None
        return ScriptedResponder(replies)
    module, _, name = spec.partition(":")
    if not module or not name:
        raise SystemExit(
            f"kimi-emulator: --responder {spec!r}: use planner, echo, scripted, recorded "
            "or module:function"
        )
    try:
        fn = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise SystemExit(f"kimi-emulator: --responder {spec}: {exc}") from None
    return fn


def main(argv: Sequence[str] | None = None) -> None:
    """Run until interrupted (Ctrl-C or SIGTERM)."""
    args = _parser().parse_args(argv)
    from ._emulator import KimiEmulator

    if args.max_requests < 0:
        raise SystemExit("kimi-emulator: --max-requests must be 0 or more")
    if args.record and not args.upstream:
        raise SystemExit("kimi-emulator: --record needs --upstream URL (the provider to record)")
    sys.path.insert(0, ".")  # --responder module:function from the working directory
    match_on = args.match_on.split(",") if args.match_on else None
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    try:
        emu = KimiEmulator(
            dialect=args.dialect,
            host=args.host,
            port=args.port,
            api_key=args.api_key,
            accept_any_model=args.accept_any_model,
            stream_delay=args.stream_delay,
            strict=args.strict,
            max_requests=args.max_requests,
            responder=_responder(args),
            recordings=args.recordings,
            match_on=match_on,
            upstream=args.upstream,
            record=args.record,
            batch_time_scale=args.batch_time_scale,
        )
    except (ValueError, TypeError) as exc:
        raise SystemExit(f"kimi-emulator: {exc}") from None
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
    if args.upstream:
        where = f", recording to {args.record}" if args.record else ""
        mode = "refusing" if args.strict else "reporting"
        print(
            f"Record-through: chat requests go to {args.upstream}{where}, {mode} the "
            "Kimi rules they break.",
            flush=True,
        )
    else:
        name = args.responder or ("recorded" if args.recordings else "planner")
        print(f"Responder: {name}", flush=True)
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
