"""Provider profiles: where each system serves Kimi, and the limits it documents.

A profile is data only. ``None`` for a limit means the provider documents none, so
nothing is checked on our side (the server still decides).
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal
from urllib.parse import urlsplit

from ._errors import ConfigurationError

__all__ = [
    "PROVIDERS",
    "ProviderAssumedWarning",
    "ProviderProfile",
    "get_provider",
    "resolve_api_key",
    "resolve_provider",
]

ErrorDialect = Literal["moonshot", "acedata", "openai", "gptproto"]
UsagePlace = Literal["final_choice", "trailing_chunk"]

FALLBACK_KEY_ENV = "KIMI_API_KEY"


@dataclass(frozen=True)
class ProviderProfile:
    """Everything the core needs to know about one system that serves Kimi."""

    name: str
    label: str
    base_url: str
    chat_path: str = "/chat/completions"
    key_env: str | None = None
    #: Documented ranges and limits; None = not documented, not checked.
    n_range: tuple[int, int] | None = None
    max_stop: int | None = None
    max_stop_bytes: int | None = None
    temperature_range: tuple[float, float] | None = None
    top_p_range: tuple[float, float] | None = None
    max_tools: int | None = 128
    response_formats: frozenset[str] | None = None
    #: Content part types accepted in messages; None = any.
    content_parts: frozenset[str] | None = None
    #: URL prefixes accepted in image_url / video_url parts; None = any.
    media_url_prefixes: tuple[str, ...] | None = None
    #: Field(s) carrying reasoning in responses, in the order the provider sends them.
    reasoning_fields: tuple[str, ...] = ("reasoning_content",)
    #: Where usage arrives in a stream.
    stream_usage: tuple[UsagePlace, ...] = ("trailing_chunk",)
    error_dialect: ErrorDialect = "openai"
    #: Whether to ask for streamed usage with ``stream_options.include_usage``.
    send_stream_options: bool = True
    #: The output-length parameter the provider documents.
    max_tokens_param: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    #: The output budget the provider applies when none is sent, in words with its source
    #: (docs/troubleshooting.md, "Output budget"); quoted when an answer is cut.
    default_output_budget: str = "not documented"
    #: Models the provider documents (others may work; they are not refused).
    models: tuple[str, ...] = ()
    #: Platform endpoints beyond chat (Moonshot's files, token estimate, balance).
    has_models_endpoint: bool = True
    has_platform_endpoints: bool = False
    #: Whether a base URL must be given (the generic profile).
    requires_base_url: bool = False
    hosts: tuple[str, ...] = field(default=(), repr=False)

    @property
    def key_variables(self) -> tuple[str, ...]:
        """Environment variables searched for the key, in order."""
        if self.key_env and self.key_env != FALLBACK_KEY_ENV:
            return (self.key_env, FALLBACK_KEY_ENV)
        return (FALLBACK_KEY_ENV,)

    def with_base_url(self, base_url: str | None) -> ProviderProfile:
        """This profile with its host (and path prefix) replaced by ``base_url``."""
        if not base_url:
            return self
        return replace(self, base_url=normalize_base_url(base_url, self.chat_path))


def normalize_base_url(base_url: str, chat_path: str = "/chat/completions") -> str:
    """Strip a trailing slash and a pasted chat path from a base URL."""
    url = base_url.strip().rstrip("/")
    for suffix in (chat_path, "/chat/completions"):
        if url.endswith(suffix):
            url = url[: -len(suffix)]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            f"base_url={base_url!r} is not an http(s) URL; "
            "expected something like 'https://api.moonshot.ai/v1'",
            param="base_url",
        )
    return url


#: What Moonshot serves (``GET /v1/models`` on 2026-09-02, docs/kimi-platform.md, "The 2026
#: line"); the 2025 line is retired there (see the catalogue's ``retired`` entries).
_KIMI_DOCUMENTED = (
    "kimi-k3",
    "kimi-k2.7-code",
    "kimi-k2.7-code-highspeed",
    "kimi-k2.6",
)

#: The sampling limits Moonshot documents (n 1..5, at most 5 stop sequences of 32 bytes,
#: top_p 0..1); EvoLink documents the same ones. Not a provider: the profiles below start
#: from it.
_MOONSHOT_LIMITS = ProviderProfile(
    name="",
    label="",
    base_url="",
    n_range=(1, 5),
    max_stop=5,
    max_stop_bytes=32,
    top_p_range=(0.0, 1.0),
)

_MOONSHOT = replace(
    _MOONSHOT_LIMITS,
    name="moonshot",
    label="Moonshot AI (Kimi Open Platform, international)",
    base_url="https://api.moonshot.ai/v1",
    key_env="MOONSHOT_API_KEY",
    temperature_range=(0.0, 1.0),
    response_formats=frozenset({"text", "json_object", "json_schema"}),
    content_parts=frozenset({"text", "image_url", "video_url"}),
    media_url_prefixes=("data:", "ms://"),
    reasoning_fields=("reasoning_content",),
    stream_usage=("final_choice", "trailing_chunk"),
    error_dialect="moonshot",
    max_tokens_param="max_completion_tokens",
    default_output_budget=(
        "'a reasonable integer such as 1024' per its API reference; 32k for kimi-k2.6 per "
        "a later quickstart, unconfirmed"
    ),
    models=_KIMI_DOCUMENTED,
    has_platform_endpoints=True,
    hosts=("api.moonshot.ai",),
)

PROVIDERS: Mapping[str, ProviderProfile] = {
    p.name: p
    for p in (
        _MOONSHOT,
        replace(
            _MOONSHOT,
            name="moonshot-cn",
            label="Moonshot AI (Kimi Open Platform, China)",
            base_url="https://api.moonshot.cn/v1",
            hosts=("api.moonshot.cn",),
        ),
        ProviderProfile(
            name="acedata",
            label="AceData Cloud",
            base_url="https://api.acedata.cloud",
            chat_path="/kimi/chat/completions",
            key_env="ACEDATACLOUD_API_TOKEN",
            n_range=(1, 128),
            temperature_range=(0.0, 2.0),
            max_tools=None,
            response_formats=frozenset({"text", "json_object"}),
            content_parts=frozenset({"text"}),
            reasoning_fields=("reasoning_content", "reasoning"),
            stream_usage=("trailing_chunk",),
            error_dialect="acedata",
            send_stream_options=False,
            models=(
                "kimi-k2-thinking-turbo",
                "kimi-k2.5",
                "kimi-k2-thinking",
                "kimi-k2-instruct-0905",
                "kimi-k2-0905-preview",
                "kimi-k2-turbo-preview",
                "kimi-k2-0711-preview",
            ),
            has_models_endpoint=False,
            hosts=("api.acedata.cloud",),
        ),
        replace(
            _MOONSHOT_LIMITS,
            name="evolink",
            label="EvoLink",
            base_url="https://direct.evolink.ai/v1",
            key_env="EVOLINK_API_KEY",
            temperature_range=(0.0, 2.0),
            response_formats=frozenset({"text", "json_object"}),
            content_parts=frozenset({"text", "image_url"}),
            reasoning_fields=("reasoning_content",),
            error_dialect="openai",
            models=("kimi-k2-thinking", "kimi-k2-thinking-turbo"),
            hosts=("direct.evolink.ai", "api.evolink.ai"),
        ),
        ProviderProfile(
            name="gptproto",
            label="GPTProto",
            base_url="https://gptproto.com/v1",
            key_env="GPTPROTO_API_KEY",
            max_stop=4,
            temperature_range=(0.0, 1.0),
            top_p_range=(0.0, 1.0),
            content_parts=frozenset({"text", "image_url", "file"}),
            reasoning_fields=("reasoning_content", "reasoning"),
            error_dialect="gptproto",
            models=("kimi-k2.5",),
            hosts=("gptproto.com",),
        ),
        ProviderProfile(
            name="openrouter",
            label="OpenRouter",
            base_url="https://openrouter.ai/api/v1",
            key_env="OPENROUTER_API_KEY",
            max_tools=None,
            # OpenRouter sends "reasoning" (and "reasoning_details"); recorded:
            # tests/recordings/fantasy/openrouter-kimi/*.yaml.
            reasoning_fields=("reasoning", "reasoning_content"),
            stream_usage=("final_choice", "trailing_chunk"),
            default_output_budget="not documented; OpenRouter relays the upstream provider's",
            hosts=("openrouter.ai",),
        ),
        ProviderProfile(
            name="openai-compatible",
            label="Any OpenAI-compatible gateway",
            base_url="",
            max_tools=None,
            reasoning_fields=("reasoning_content", "reasoning"),
            stream_usage=("final_choice", "trailing_chunk"),
            requires_base_url=True,
        ),
    )
}


def get_provider(name: str) -> ProviderProfile:
    """The profile of a provider by name (``moonshot``, ``acedata``, ...)."""
    try:
        return PROVIDERS[name.lower()]
    except KeyError:
        raise ConfigurationError(
            f"provider={name!r} is unknown; choose one of {', '.join(PROVIDERS)} "
            "(use 'openai-compatible' with base_url for any other gateway)",
            param="provider",
        ) from None


BASE_URL_ENV = "KIMI_BASE_URL"


def resolve_provider(
    provider: str | None,
    base_url: str | None,
    environ: Mapping[str, str] | None = None,
    *,
    warn: bool = True,
) -> ProviderProfile:
    """The profile for a provider name and/or base URL.

    With no provider name, a known host in ``base_url`` selects its profile; a loopback
    host (``localhost``, ``127.0.0.1``, ``::1``: the emulator, whose default dialect is
    Moonshot's, or a local proxy) selects ``moonshot``; any other host selects
    ``openai-compatible`` and says so once (:class:`ProviderAssumedWarning`); no base URL
    selects ``moonshot``. The
    ``KIMI_BASE_URL`` environment variable, when ``base_url`` is not given, replaces the
    host of that profile (it points an unchanged app at a gateway or the emulator; the
    app's provider, its key variable and its rules stay).
    """
    if provider is None:
        if not base_url:
            profile = PROVIDERS["moonshot"]
        else:
            normalize_base_url(base_url)  # a URL that cannot work is refused first
            profile = _profile_for_host(urlsplit(base_url.strip()).hostname or "", warn)
    else:
        profile = get_provider(provider)
    if not base_url:
        base_url = (os.environ if environ is None else environ).get(BASE_URL_ENV, "").strip()
    if profile.requires_base_url and not base_url:
        raise ConfigurationError(
            f"provider={profile.name!r} needs base_url (the gateway's OpenAI-compatible "
            "root, e.g. 'https://gateway.example.com/v1')",
            param="base_url",
            provider=profile.name,
        )
    return profile.with_base_url(base_url)


class ProviderAssumedWarning(UserWarning):
    """A ``base_url`` on a host no profile knows, without ``provider``: the profile assumed
    is named, once per host."""


_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_assumed_hosts: set[str] = set()
_assumed_lock = threading.Lock()


def _profile_for_host(host: str, warn: bool) -> ProviderProfile:
    """The profile a base URL's host selects when no provider is named (``warn``: say
    once per host which profile an unknown one got)."""
    host = host.lower()
    known = next((p for p in PROVIDERS.values() if host in p.hosts), None)
    if known is not None:
        return known
    if host in _LOOPBACK_HOSTS:
        return PROVIDERS["moonshot"]
    if not warn:
        return PROVIDERS["openai-compatible"]
    with _assumed_lock:
        first = host not in _assumed_hosts
        _assumed_hosts.add(host)
    if first:
        warnings.warn(
            f"base_url host {host!r} is not a provider kimi_core knows: assuming "
            "provider='openai-compatible' (generic rules, key from KIMI_API_KEY). If it "
            "relays one (a proxy in front of api.moonshot.ai, a gateway), pass provider= "
            f"with its name ({', '.join(n for n in PROVIDERS if n != 'openai-compatible')}) "
            "to keep that provider's rules and hints; provider='openai-compatible' silences this",
            ProviderAssumedWarning,
            stacklevel=3,
        )
    return PROVIDERS["openai-compatible"]


def resolve_api_key(
    profile: ProviderProfile,
    api_key: str | None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """The key from the argument, else the provider's variable, else ``KIMI_API_KEY``.

    Surrounding whitespace is dropped (a key read from a file ends in a newline); a key
    that cannot go in an HTTP header is refused without being shown, and the error is
    raised where no local holds a key (tracebacks with locals show none).
    """
    key, bad_source = _find_key(profile, api_key, os.environ if environ is None else environ)
    if key is not None:
        return key
    del api_key, environ
    if bad_source is not None:
        raise ConfigurationError(
            f"the key from {bad_source} is not a valid API key: it contains spaces, "
            "control or non-ASCII characters (it is not shown here)",
            param="api_key",
            provider=profile.name,
        )
    names = " or ".join(profile.key_variables)
    raise ConfigurationError(
        f"no API key for provider {profile.name!r}: pass api_key=... or set {names} "
        "(to try things without a key, run the built-in emulator: `kimi-emulator`)",
        param="api_key",
        provider=profile.name,
    )


def _find_key(
    profile: ProviderProfile, api_key: str | None, env: Mapping[str, str]
) -> tuple[str | None, str | None]:
    """``(key, None)``, or ``(None, source)`` for a key that is not valid, or
    ``(None, None)`` when there is none."""
    found = [("api_key", api_key.strip())] if api_key and api_key.strip() else []
    found += [(var, env.get(var, "").strip()) for var in profile.key_variables]
    for source, value in found:
        if value:
            if not (value.isascii() and value.isprintable()) or " " in value:
                return None, source
            return value, None
    return None, None
