"""Where `make demo` and the examples send their requests: your provider, or the emulator.

A provider key in the environment selects that provider (the first one set, in this
order), with a default model that provider documents:

=========================================  =====================  ==================
environment                                provider               default model
=========================================  =====================  ==================
``MOONSHOT_API_KEY``                       moonshot               kimi-k2.6
``ACEDATACLOUD_API_TOKEN``                 acedata                kimi-k2.5
``EVOLINK_API_KEY``                        evolink                kimi-k2-thinking
``GPTPROTO_API_KEY``                       gptproto               kimi-k2.5
``OPENROUTER_API_KEY``                     openrouter             moonshotai/kimi-k2.5
``KIMI_API_KEY`` (+ ``KIMI_BASE_URL``)     the gateway at that    kimi-k2.6
                                           URL (moonshot without
                                           one)
=========================================  =====================  ==================

``KIMI_PROVIDER`` names the provider instead (e.g. ``moonshot-cn`` for a China key, or
one of several keys you have set; ``emulator`` forces the emulator) and ``KIMI_MODEL``
the model. With no key, the built-in emulator is started in this process (in the dialect
of ``KIMI_PROVIDER`` when it names one): a stand-in for the Kimi protocol, not a model.

In an example::

    with open_backend() as backend:
        model = ChatKimi(model=backend.model, **backend.langchain_kwargs())
        llm = Kimi(model=backend.model, **backend.llama_index_kwargs())

With a key set, those kwargs are just ``provider=...``: the key (and ``KIMI_BASE_URL``)
come from the environment, as they would in your app.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import kimi_core as kc

if TYPE_CHECKING:
    from kimi_emulator import KimiEmulator

__all__ = [
    "DEFAULT_MODELS",
    "PROVIDER_KEYS",
    "Backend",
    "choose_backend",
    "describe_error",
    "open_backend",
    "run",
]

#: Provider key variables, in the order they are looked at.
PROVIDER_KEYS: tuple[tuple[str, str], ...] = (
    ("MOONSHOT_API_KEY", "moonshot"),
    ("ACEDATACLOUD_API_TOKEN", "acedata"),
    ("EVOLINK_API_KEY", "evolink"),
    ("GPTPROTO_API_KEY", "gptproto"),
    ("OPENROUTER_API_KEY", "openrouter"),
)
#: The model each provider runs by default: one it documents, thinking by default.
DEFAULT_MODELS: Mapping[str, str] = {
    "moonshot": "kimi-k2.6",
    "moonshot-cn": "kimi-k2.6",
    "acedata": "kimi-k2.5",
    "evolink": "kimi-k2-thinking",
    "gptproto": "kimi-k2.5",
    # the id OpenRouter's recorded answers served (tests/recordings/fantasy/openrouter-kimi)
    "openrouter": "moonshotai/kimi-k2.5",
    "openai-compatible": "kimi-k2.6",
}
#: The emulator dialect that stands in for each provider.
EMULATOR_DIALECTS: Mapping[str, str] = {
    "moonshot": "moonshot",
    "moonshot-cn": "moonshot",
    "acedata": "acedata",
    "evolink": "evolink",
    "gptproto": "gptproto",
    "openrouter": "openai-compatible",  # the emulator's gateway dialect: OpenRouter's shapes
}
EMULATOR = "emulator"


@dataclass(frozen=True)
class Backend:
    """The provider and model the examples talk to (the key itself is never kept here,
    except the emulator's test key)."""

    provider: str
    """kimi_core provider name (``moonshot``, ``acedata``, ..., ``openai-compatible``)."""
    model: str
    base_url: str
    """Where requests go (the emulator's address, or the provider's / KIMI_BASE_URL)."""
    label: str
    """Who serves it, for people."""
    reason: str
    """Why this backend was chosen."""
    key_variable: str | None = None
    """The environment variable the key comes from (None on the emulator)."""
    dialect: str | None = None
    """The emulator dialect, when the emulator stands in."""
    emulator: KimiEmulator | None = None
    """The running emulator (set by :func:`open_backend`)."""

    @property
    def is_emulator(self) -> bool:
        return self.dialect is not None

    def langchain_kwargs(self) -> dict[str, Any]:
        """``ChatKimi(model=..., **these)``."""
        kwargs: dict[str, Any] = {"provider": self.provider}
        if self.emulator is not None:
            kwargs.update(base_url=self.emulator.base_url, api_key=self.emulator.api_key)
        return kwargs

    def llama_index_kwargs(self) -> dict[str, Any]:
        """``Kimi(model=..., **these)``."""
        kwargs: dict[str, Any] = {"provider": self.provider}
        if self.emulator is not None:
            kwargs.update(api_base=self.emulator.base_url, api_key=self.emulator.api_key)
        return kwargs

    def banner(self) -> str:
        """One line saying where the requests go."""
        if self.is_emulator:
            return (
                f"backend: the built-in Kimi emulator ({self.dialect} dialect), model "
                f"{self.model}. It stands in for the Kimi protocol; it is not a model. "
                "Set MOONSHOT_API_KEY or another provider's key to use Kimi."
            )
        return (
            f"backend: {self.label} at {self.base_url}, model {self.model} "
            f"(key from {self.key_variable})"
        )


def _get(env: Mapping[str, str], name: str) -> str:
    return env.get(name, "").strip()


def _real(env: Mapping[str, str], provider: str | None, key_variable: str, reason: str) -> Backend:
    # KIMI_API_KEY alone: the gateway KIMI_BASE_URL names (its host picks the profile).
    base_url = None if provider else _get(env, "KIMI_BASE_URL") or None
    with warnings.catch_warnings():
        # The banner names the profile a gateway's unknown host selects.
        warnings.simplefilter("ignore", kc.ProviderAssumedWarning)
        profile = kc.resolve_provider(provider, base_url, env)
    model = _get(env, "KIMI_MODEL") or DEFAULT_MODELS[profile.name]
    return Backend(
        provider=profile.name,
        model=model,
        base_url=profile.base_url,
        label=profile.label,
        reason=reason,
        key_variable=key_variable,
    )


def _emulated(env: Mapping[str, str], provider: str, reason: str) -> Backend:
    dialect = EMULATOR_DIALECTS[provider]
    model = _get(env, "KIMI_MODEL") or DEFAULT_MODELS[provider]
    return Backend(
        provider=provider,
        model=model,
        base_url="(not started)",
        label=f"the built-in Kimi emulator ({dialect} dialect)",
        reason=reason,
        dialect=dialect,
    )


def choose_backend(environ: Mapping[str, str] | None = None) -> Backend:
    """The backend the environment asks for (see the module docstring). Pure: starts
    nothing; raises ``kimi_core.ConfigurationError`` for a ``KIMI_PROVIDER`` or
    ``KIMI_BASE_URL`` that cannot work."""
    env = os.environ if environ is None else environ
    asked = _get(env, "KIMI_PROVIDER").lower()
    if asked == EMULATOR:
        return _emulated(env, "moonshot", "KIMI_PROVIDER=emulator")
    if asked:
        if asked not in kc.PROVIDERS:
            raise kc.ConfigurationError(
                f"KIMI_PROVIDER={asked!r} is unknown; choose one of "
                f"{', '.join(kc.PROVIDERS)}, or {EMULATOR!r} for the built-in emulator",
                param="KIMI_PROVIDER",
            )
        profile = kc.get_provider(asked)
        found = next((v for v in profile.key_variables if _get(env, v)), None)
        if found is not None:
            return _real(env, profile.name, found, f"KIMI_PROVIDER={asked}, key in {found}")
        if profile.requires_base_url:
            raise kc.ConfigurationError(
                f"KIMI_PROVIDER={asked!r} needs KIMI_BASE_URL and KIMI_API_KEY (your "
                "gateway's OpenAI-compatible root and key)",
                param="KIMI_PROVIDER",
                provider=profile.name,
            )
        names = " or ".join(profile.key_variables)
        return _emulated(env, profile.name, f"KIMI_PROVIDER={asked} but no {names} set")
    for variable, provider in PROVIDER_KEYS:
        if _get(env, variable):
            return _real(env, provider, variable, f"{variable} is set")
    if _get(env, "KIMI_API_KEY"):
        base_url = _get(env, "KIMI_BASE_URL")
        reason = f"KIMI_API_KEY{' and KIMI_BASE_URL' if base_url else ''} set"
        return _real(env, None, "KIMI_API_KEY", reason)
    if _get(env, "KIMI_BASE_URL"):
        raise kc.ConfigurationError(
            "KIMI_BASE_URL is set but no key: set KIMI_API_KEY too (any non-empty value "
            "for a local kimi-emulator), or unset KIMI_BASE_URL to use the built-in emulator",
            param="KIMI_API_KEY",
        )
    return _emulated(env, "moonshot", "no provider key set")


@contextmanager
def open_backend(
    environ: Mapping[str, str] | None = None,
    *,
    announce: bool = True,
    stream_delay: float = 0.0,
) -> Iterator[Backend]:
    """Choose the backend and, when it is the emulator, run one in this process.

    ``announce`` prints :meth:`Backend.banner`. ``stream_delay`` paces the emulator's
    streams (seconds between events) so that streaming is visible.
    """
    backend = choose_backend(environ)
    if backend.model not in kc.MODELS:
        # kimi_core warns once per unknown id; say it once, in a line, instead.
        warnings.filterwarnings("ignore", category=kc.UnknownModelWarning)
        print(
            f"note: {backend.model!r} is not in kimi_core's model catalogue: it is sent as "
            "given, without the client-side checks of a known model"
        )
    if not backend.is_emulator:
        if announce:
            print(backend.banner())
        yield backend
        return
    from kimi_emulator import KimiEmulator

    with KimiEmulator(dialect=backend.dialect or "moonshot", stream_delay=stream_delay) as emu:
        backend = replace(backend, emulator=emu, base_url=emu.base_url)
        if announce:
            print(backend.banner())
        yield backend


def describe_error(err: BaseException, key_variable: str | None = None) -> str:
    """A Kimi error in a few readable lines: its type, the provider's message, code and
    request id, and what to check (``key_variable``: where the key came from)."""
    text = f"{type(err).__name__}: {err}"
    if isinstance(err, kc.AuthenticationError):
        where = key_variable or "the provider's key variable"
        text += f"\n  check {where}: is it a valid key of this provider (and region)?"
    elif isinstance(err, kc.InsufficientQuotaError):
        text += "\n  the account's balance or quota is used up: retrying cannot help"
    elif isinstance(err, kc.NotFoundError):
        text += "\n  check the model id (KIMI_MODEL) and that this provider serves it"
    elif isinstance(err, kc.APIConnectionError):
        text += "\n  check the network and the base URL (KIMI_BASE_URL)"
    return text


def run(main: Callable[[], Any]) -> None:
    """Run an example's ``main`` (a function or a coroutine function) and exit; a Kimi
    error is reported in a few lines instead of a traceback (exit status 1)."""
    try:
        result = main()
        if inspect.iscoroutine(result):
            asyncio.run(result)
    except kc.KimiError as err:
        sys.stdout.flush()
        print(f"error: {describe_error(err)}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
