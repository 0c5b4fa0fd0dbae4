"""One client-settings object and one client lifecycle for both adapters.

A framework model object (``ChatKimi``, ``Kimi``) states its connection settings as a
:class:`ClientSettings` and holds a :class:`ClientPair`: the sync and async
``kimi_core`` clients, built on first use and built again when the settings change
(a new key, timeout or base URL), never per call. Secrets stay out of reprs and
pickles.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, NamedTuple

import httpx

from ._providers import resolve_provider
from ._retry import RetryPolicy
from ._transport import (
    DEFAULT_MAX_BODY,
    DEFAULT_MAX_ERROR,
    DEFAULT_MAX_EVENT,
    AsyncKimiClient,
    KimiClient,
)

__all__ = ["ClientPair", "ClientSettings", "extraction_provider"]


def extraction_provider(provider: str | None, base_url: str | None) -> str:
    """The provider file extraction talks to (a Moonshot platform endpoint): the one named
    or found from ``base_url``; a base URL of no known host is a Moonshot-compatible
    server (an emulator, a proxy), not a generic OpenAI-compatible one. Configuration
    errors (an unknown provider, a bad URL) are raised now."""
    name = resolve_provider(provider, base_url).name
    return "moonshot" if name == "openai-compatible" and not provider else name


class ClientSettings(NamedTuple):
    """The connection settings of an adapter's model object, as the clients take them.

    A tuple: built for every call and compared with the last one (tuple equality, no
    secret ever turned into text), which costs less than a microsecond."""

    provider: str | None = None
    #: A ``SecretStr`` (or str, or None: the provider's environment variable).
    api_key: Any = None
    base_url: str | None = None
    timeout: Any = None
    total_timeout: float | None = None
    max_retries: int = 2
    default_headers: Mapping[str, str] | None = None
    retry_policy: RetryPolicy | None = None
    max_event_bytes: int = DEFAULT_MAX_EVENT
    max_body_bytes: int = DEFAULT_MAX_BODY
    max_error_bytes: int = DEFAULT_MAX_ERROR

    def __repr__(self) -> str:
        # No key and no header values in a repr (kimi_core._secrets).
        return f"ClientSettings(provider={self.provider!r}, base_url={self.base_url!r}, ...)"

    @classmethod
    def of(
        cls, *, default_headers: Mapping[str, str] | None = None, **kwargs: Any
    ) -> ClientSettings:
        """Settings with a copy of ``default_headers``: headers changed in place later are
        a change of settings (new clients), not a change of the clients' past."""
        headers = dict(default_headers) if default_headers is not None else None
        return cls(default_headers=headers, **kwargs)

    def client_kwargs(self) -> dict[str, Any]:
        """The keywords of :class:`KimiClient` / :class:`AsyncKimiClient`."""
        return self._asdict()


class ClientPair:
    """The sync and async clients of one model object (see the module docstring)."""

    __slots__ = ("_async", "_async_settings", "_lock", "_sync", "_sync_settings")

    def __init__(self) -> None:
        self._sync: KimiClient | None = None
        self._async: AsyncKimiClient | None = None
        self._sync_settings: ClientSettings | None = None
        self._async_settings: ClientSettings | None = None
        self._lock = threading.Lock()

    def sync(self, settings: ClientSettings, http_client: httpx.Client | None = None) -> KimiClient:
        """The sync client for ``settings`` (built now if they changed)."""
        client = self._sync
        if client is None or self._sync_settings != settings:
            with self._lock:
                client = KimiClient(http_client=http_client, **settings.client_kwargs())
                self._sync, self._sync_settings = client, settings
        return client

    def async_(
        self, settings: ClientSettings, http_client: httpx.AsyncClient | None = None
    ) -> AsyncKimiClient:
        """The async client for ``settings`` (built now if they changed)."""
        client = self._async
        if client is None or self._async_settings != settings:
            with self._lock:
                client = AsyncKimiClient(http_client=http_client, **settings.client_kwargs())
                self._async, self._async_settings = client, settings
        return client

    def __getstate__(self) -> dict[str, Any]:
        # Clients hold the key and pools: a copy builds its own.
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]

    def __deepcopy__(self, memo: dict[int, Any]) -> ClientPair:
        return ClientPair()
