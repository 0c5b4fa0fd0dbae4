"""Requests on the pools ``_pools`` makes go straight to the pool's transport.

Per request, ``httpx.Client.send`` merges a base URL, parameters and cookies into the
request, runs an auth flow and event hooks, decides about redirects, and stores the
cookies of every response (a urllib compatibility request is built for each, ~40 µs).
The pools this package makes have no base URL, auth, hooks or cookie jar anyone reads,
and follow no redirects, so a request of ours is built as a plain ``httpx.Request`` (the
client's default headers, then the call's) and handed to the transport the client would
pick for its URL (a proxy mounted from the environment, else its connection pool): the
same bytes on the wire, ~80 µs less per call. Cookies a server sets are not kept (Kimi's
API sets none; the key is the session).

A client a user passes in (``http_client=``) is always sent to with ``client.send``:
its hooks, auth, cookies and settings apply. Deleting this module means sending every
request with ``client.send(step.build(client), stream=True)``, as the drivers do for
those.
"""

from __future__ import annotations

import weakref
from typing import Any

import httpx

from ._retry import Send

__all__ = ["Direct"]

_senders: weakref.WeakKeyDictionary[httpx.Client | httpx.AsyncClient, Direct] = (
    weakref.WeakKeyDictionary()
)


class Direct:
    """Builds a request of ours for one of our pools and sends it to the pool's
    transport (:meth:`send` sync, :meth:`asend` async)."""

    __slots__ = ("_client", "_defaults", "_names", "_urls")

    @staticmethod
    def of(client: httpx.Client | httpx.AsyncClient) -> Direct | None:
        """The sender for ``client`` (one per pool), or None if this httpx has no
        ``_transport_for_url`` (0.18 to 0.28 have it; without it, ``client.send``)."""
        direct = _senders.get(client)
        if direct is None and hasattr(client, "_transport_for_url"):
            direct = _senders[client] = Direct(client)
        return direct

    def __init__(self, client: httpx.Client | httpx.AsyncClient) -> None:
        self._client = client
        # the client's default headers (user agent, accept, encodings), read once: a pool
        # of ours never changes them
        self._defaults = dict(client.headers.items())
        self._names = {name.lower(): name for name in self._defaults}
        #: parsed URLs by their text (a client calls a handful of endpoints)
        self._urls: dict[str, httpx.URL] = {}

    def request(self, step: Send) -> httpx.Request:
        """The request ``client.build_request`` would build for ``step``."""
        headers = dict(self._defaults)
        names = self._names
        for name, value in step.headers.items():
            headers[names.get(name.lower(), name)] = value
        url = self._urls.get(step.url)
        if url is None:
            if len(self._urls) >= 256:
                self._urls.clear()
            url = self._urls[step.url] = httpx.URL(step.url)
        return httpx.Request(
            step.method,
            url,
            content=step.content,
            json=step.json,
            files=step.files,
            data=step.data,
            headers=headers,
            extensions={"timeout": step.timeout.as_dict()},
        )

    def _transport(self, request: httpx.Request) -> Any:
        return self._client._transport_for_url(request.url)

    def send(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``; the response unread (as ``client.send(..., stream=True)``)."""
        try:
            response: httpx.Response = self._transport(request).handle_request(request)
        except httpx.RequestError as exc:
            exc.request = request
            raise
        response.request = request
        return response

    async def asend(self, request: httpx.Request) -> httpx.Response:
        """The async :meth:`send`."""
        try:
            response: httpx.Response = await self._transport(request).handle_async_request(request)
        except httpx.RequestError as exc:
            exc.request = request
            raise
        response.request = request
        return response
