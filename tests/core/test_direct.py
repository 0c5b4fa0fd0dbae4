"""Requests on our own pools go straight to the pool's transport (kimi_core._direct):
over loopback, the same request reaches the server as through ``httpx.Client.send``, a
proxy from the environment is still used, a refused connection is still a typed error
with its request, and an injected client still gets its hooks."""

from __future__ import annotations

import asyncio
import itertools
import socket
from typing import Any

import httpx
import pytest
from _loopback import LoopbackServer

import kimi_core as kc

ANSWER = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1767225600,
    "model": "kimi-k2.6",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
    ],
}
ASK: dict[str, Any] = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "Hi"}]}
#: A timeout no other test uses: a pool of its own, made under this test's environment.
_fresh = itertools.count(1)


def _timeout() -> float:
    return 600.0 + next(_fresh) / 1000


def test_a_request_on_our_pool_reaches_the_server_as_through_client_send(
    loopback: LoopbackServer,
) -> None:
    loopback.reply_json(ANSWER, headers={"set-cookie": "session=abc; Path=/"})
    ours = kc.KimiClient(provider="moonshot", base_url=loopback.base_url, api_key="k")
    with httpx.Client() as http:
        theirs = kc.KimiClient(
            provider="moonshot", base_url=loopback.base_url, api_key="k", http_client=http
        )
        assert ours.chat(**ASK).body["choices"][0]["message"]["content"] == "ok"
        assert theirs.chat(**ASK).body["choices"][0]["message"]["content"] == "ok"
        direct, sent = loopback.received[-2:]
        assert (direct.method, direct.path, direct.body) == (sent.method, sent.path, sent.body)
        assert direct.headers == sent.headers
        assert direct.headers["user-agent"].startswith("kimi-integrations/")
        assert direct.headers["content-type"] == "application/json"
        # a cookie the server set is kept by the injected client, not by our pool
        ours.chat(**ASK)
        theirs.chat(**ASK)
        direct, sent = loopback.received[-2:]
        assert "cookie" not in direct.headers
        assert sent.headers["cookie"] == "session=abc"


def test_a_proxy_from_the_environment_is_used(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    loopback.reply_json(ANSWER)
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", loopback.base_url.rsplit("/", 1)[0])
    behind_proxy: dict[str, Any] = {"provider": "moonshot", "base_url": "http://kimi.invalid/v1"}
    client = kc.KimiClient(**behind_proxy, api_key="k", timeout=_timeout(), max_retries=0)
    client.chat(**ASK)
    # the proxy was asked for the absolute URL: the request went through it
    assert loopback.received[-1].path == "http://kimi.invalid/v1/chat/completions"

    async def go() -> None:
        aclient = kc.AsyncKimiClient(**behind_proxy, api_key="k", timeout=_timeout(), max_retries=0)
        await aclient.chat(**ASK)

    asyncio.run(go())
    assert loopback.received[-1].path == "http://kimi.invalid/v1/chat/completions"


def test_a_refused_connection_is_a_typed_error_with_its_request() -> None:
    port = closed_port()
    client = kc.KimiClient(
        provider="moonshot",
        base_url=f"http://127.0.0.1:{port}/v1",
        api_key="sk-secret-key",
        max_retries=0,
    )
    with pytest.raises(kc.APIConnectionError) as caught:
        client.chat(**ASK)
    cause = caught.value.__cause__
    assert isinstance(cause, httpx.ConnectError)
    assert cause.request.url == f"http://127.0.0.1:{port}/v1/chat/completions"
    assert "sk-secret-key" not in str(caught.value)


def test_an_injected_client_still_runs_its_hooks(loopback: LoopbackServer) -> None:
    loopback.reply_json(ANSWER)
    seen: list[str] = []

    async def main() -> None:
        async def hook(request: httpx.Request) -> None:
            seen.append(str(request.url))

        async with httpx.AsyncClient(event_hooks={"request": [hook]}) as http:
            client = kc.AsyncKimiClient(
                provider="moonshot", base_url=loopback.base_url, api_key="k", http_client=http
            )
            await client.chat(**ASK)
        # and our own pool, async, sends the same request
        own = kc.AsyncKimiClient(provider="moonshot", base_url=loopback.base_url, api_key="k")
        await own.chat(**ASK)

    asyncio.run(main())
    assert seen == [loopback.base_url + "/chat/completions"]
    hooked, direct = loopback.received[-2:]
    assert (direct.path, direct.body, direct.headers) == (hooked.path, hooked.body, hooked.headers)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port
