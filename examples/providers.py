"""Each provider's setup: the key variable and the constructor lines, in both frameworks.

    python examples/providers.py

=============  ==========================  ================================  ===================
provider       key variable                base URL                          documented models
=============  ==========================  ================================  ===================
moonshot       MOONSHOT_API_KEY            https://api.moonshot.ai/v1        kimi-k3, k2.7-code, k2.6
moonshot-cn    MOONSHOT_API_KEY (.cn key)  https://api.moonshot.cn/v1        as moonshot
acedata        ACEDATACLOUD_API_TOKEN      https://api.acedata.cloud         kimi-k2.5, k2-thinking...
evolink        EVOLINK_API_KEY             https://direct.evolink.ai/v1      kimi-k2-thinking(-turbo)
gptproto       GPTPROTO_API_KEY            https://gptproto.com/v1           kimi-k2.5
any gateway    KIMI_API_KEY                KIMI_BASE_URL                     the gateway's ids
=============  ==========================  ================================  ===================

``KIMI_API_KEY`` is also the fallback key of every provider, and ``KIMI_BASE_URL`` the
default base URL of every constructor (point an unchanged app at a proxy, a gateway or a
local ``kimi-emulator`` with it).

Running this file sends one short request per provider and framework: to the provider
itself when its key is set, else to an emulator of that provider's dialect, reached
through those two variables so that the lines below run unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from _backend import run

from kimi_emulator import KimiEmulator
from langchain_kimi import ChatKimi
from llama_index_kimi import Kimi


def moonshot() -> tuple[ChatKimi, Kimi]:
    # export MOONSHOT_API_KEY=sk-...          (a key of platform.moonshot.ai)
    # China: a key of platform.moonshot.cn and provider="moonshot-cn"
    # (provider="moonshot" is the default, unless KIMI_BASE_URL points elsewhere)
    # Today's line: kimi-k3 (reasoning_effort="low" | "high" | "max"), kimi-k2.7-code,
    # kimi-k2.6; kimi-k2.5 and moonshot-v1-* were retired there on 2026-08-31.
    return (
        ChatKimi(model="kimi-k3", provider="moonshot"),
        Kimi(model="kimi-k2.6", provider="moonshot"),
    )


def acedata() -> tuple[ChatKimi, Kimi]:
    # export ACEDATACLOUD_API_TOKEN=...
    return (
        ChatKimi(model="kimi-k2.5", provider="acedata"),
        Kimi(model="kimi-k2.5", provider="acedata"),
    )


def evolink() -> tuple[ChatKimi, Kimi]:
    # export EVOLINK_API_KEY=...
    return (
        ChatKimi(model="kimi-k2-thinking", provider="evolink"),
        Kimi(model="kimi-k2-thinking", provider="evolink"),
    )


def gptproto() -> tuple[ChatKimi, Kimi]:
    # export GPTPROTO_API_KEY=...
    return (
        ChatKimi(model="kimi-k2.5", provider="gptproto"),
        Kimi(model="kimi-k2.5", provider="gptproto"),
    )


def gateway() -> tuple[ChatKimi, Kimi]:
    # export KIMI_API_KEY=... KIMI_BASE_URL=https://gateway.example.com/v1
    # (model: the id the gateway uses; ids outside kimi_core's catalogue get a warning)
    return (
        ChatKimi(model="kimi-k2.6", provider="openai-compatible"),
        Kimi(model="kimi-k2.6", provider="openai-compatible"),
    )


#: (name, key variable, emulator dialect standing in when the key is not set, setup)
SETUPS: list[tuple[str, str, str, Callable[[], tuple[ChatKimi, Kimi]]]] = [
    ("moonshot", "MOONSHOT_API_KEY", "moonshot", moonshot),
    ("acedata", "ACEDATACLOUD_API_TOKEN", "acedata", acedata),
    ("evolink", "EVOLINK_API_KEY", "evolink", evolink),
    ("gptproto", "GPTPROTO_API_KEY", "gptproto", gptproto),
    ("gateway", "KIMI_API_KEY", "moonshot", gateway),
]


@contextmanager
def environment(**values: str | None) -> Iterator[None]:
    """Set (or, with None, unset) environment variables for the duration."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def backend_for(
    name: str, key_variable: str, dialect: str
) -> Iterator[tuple[str, KimiEmulator | None]]:
    """The provider itself when its key is set, else an emulator of its dialect."""
    if name == "gateway":
        real = bool(os.environ.get("KIMI_API_KEY") and os.environ.get("KIMI_BASE_URL"))
    else:
        real = bool(os.environ.get(key_variable))
    if real:
        # KIMI_BASE_URL is the gateway's; the named providers use their own URL here.
        with environment(KIMI_BASE_URL=None if name != "gateway" else os.environ["KIMI_BASE_URL"]):
            yield f"{key_variable} is set: the real {name}", None
        return
    with (
        KimiEmulator(dialect=dialect) as emu,
        environment(**{key_variable: emu.api_key, "KIMI_BASE_URL": emu.base_url}),
    ):
        yield f"{key_variable} not set: an emulator ({dialect} dialect)", emu


def snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:59] + "…"


def main() -> None:
    for name, key_variable, dialect, setup in SETUPS:
        with backend_for(name, key_variable, dialect) as (where, emu):
            chat_model, llm = setup()
            print(f"{name}: {where}")
            print(f"  ChatKimi: {snippet(chat_model.invoke('Say hello.').text)}")
            print(f"  Kimi:     {snippet(llm.complete('Say hello.').text)}")
            if emu is not None:
                paths = sorted({f"{r.method} {r.path}" for r in emu.requests})
                print(f"  requests: {emu.request_count} ({', '.join(paths)})")


if __name__ == "__main__":
    run(main)
