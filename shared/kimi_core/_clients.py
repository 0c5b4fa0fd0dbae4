"""One client-settings object and one client lifecycle for both adapters.

A framework model object (``ChatKimi``, ``Kimi``) states its connection settings as a
:class:`ClientSettings` and holds a :class:`ClientPair`: the sync and async
``kimi_core`` clients, built on first use and built again when the settings change
(a new key, timeout or base URL), never per call. Secrets stay out of reprs and are
compared by reference (``kimi_core._secrets``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from ._providers import resolve_provider
from ._retry import RetryPolicy
from ._secrets import headers_by_ref, key_ref
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


@dataclass(frozen=True)
class ClientSettings:
    """The connection settings of an adapter's model object, as the clients take them."""

    provider: str | None = None
    #: A ``SecretStr`` (or str, or None: the provider's environment variable).
    api_key: Any = field(default=None, repr=False)
    base_url: str | None = None
    timeout: Any = None
    total_timeout: float | None = None
    max_retries: int = 2
    default_headers: Mapping[str, str] | None = field(default=None, repr=False)
    retry_policy: RetryPolicy | None = None
    max_event_bytes: int = DEFAULT_MAX_EVENT
    max_body_bytes: int = DEFAULT_MAX_BODY
    max_error_bytes: int = DEFAULT_MAX_ERROR

    def ref(self) -> tuple[Any, ...]:
        """What the clients are built from, with the key and credential headers by
        reference only: equal refs, the same clients."""
        reveal = getattr(self.api_key, "get_secret_value", None)
        key = reveal() if callable(reveal) else self.api_key
        return (
            self.provider,
            key_ref(key),
            self.base_url,
            self.timeout,
            self.total_timeout,
            self.max_retries,
            tuple(sorted((headers_by_ref(self.default_headers) or {}).items())),
            id(self.retry_policy),
            self.max_event_bytes,
            self.max_body_bytes,
            self.max_error_bytes,
        )

    def client_kwargs(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "api_key": self.api_key,  # a SecretStr: no frame holds the key in clear
            "base_url": self.base_url,
            "timeout": self.timeout,
            "total_timeout": self.total_timeout,
            "max_retries": self.max_retries,
            "default_headers": self.default_headers,
            "retry_policy": self.retry_policy,
            "max_event_bytes": self.max_event_bytes,
            "max_body_bytes": self.max_body_bytes,
            "max_error_bytes": self.max_error_bytes,
        }


class ClientPair:
    """The sync and async clients of one model object (see the module docstring)."""

    __slots__ = ("_async", "_async_ref", "_lock", "_sync", "_sync_ref")

    def __init__(self) -> None:
        self._sync: KimiClient | None = None
        self._async: AsyncKimiClient | None = None
        self._sync_ref: tuple[Any, ...] | None = None
        self._async_ref: tuple[Any, ...] | None = None
        self._lock = threading.Lock()

    def sync(self, settings: ClientSettings, http_client: httpx.Client | None = None) -> KimiClient:
        """The sync client for ``settings`` (built now if they changed)."""
        ref = settings.ref()
        client = self._sync
        if client is None or self._sync_ref != ref:
            with self._lock:
                client = KimiClient(http_client=http_client, **settings.client_kwargs())
                self._sync, self._sync_ref = client, ref
        return client

    def async_(
        self, settings: ClientSettings, http_client: httpx.AsyncClient | None = None
    ) -> AsyncKimiClient:
        """The async client for ``settings`` (built now if they changed)."""
        ref = settings.ref()
        client = self._async
        if client is None or self._async_ref != ref:
            with self._lock:
                client = AsyncKimiClient(http_client=http_client, **settings.client_kwargs())
                self._async, self._async_ref = client, ref
        return client

    def __getstate__(self) -> dict[str, Any]:
        # Clients hold the key and pools: a copy builds its own.
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]

    def __deepcopy__(self, memo: dict[int, Any]) -> ClientPair:
        return ClientPair()
