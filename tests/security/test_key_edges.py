"""The key never shows, at the edges: a ``KimiClient`` pickle, credential
``default_headers`` in dumps and pickles of both adapters, a server body that echoes the
``Authorization`` header, and the frames of configuration errors (tracebacks with
locals, as Sentry's ``capture_locals`` and rich show them).

On main a ``KimiClient`` pickle held the key, a credential header appeared in
``ChatKimi.model_dump_json()`` and in both adapters' pickles, a 401 page quoting the
header put the key into ``str(error)``, and configuration errors had the key in frames.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import traceback
from typing import Any

import pytest
from _loopback import LoopbackServer, http_response

import kimi_core as kc
from kimi_core import _adapter as ka

KEY = "sk-edge-secret-0123456789abcdefXYZ"
TOKEN = "tok-header-secret-9876543210fedcba"
HEADERS = {"X-Api-Key": TOKEN, "Authorization-Proxy": TOKEN, "X-App": "demo"}


def kimi_client(base_url: str = "http://127.0.0.1:9/v1", **kw: Any) -> kc.KimiClient:
    return kc.KimiClient(provider="openai-compatible", base_url=base_url, api_key=KEY, **kw)


# -- pickles --------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [kc.KimiClient, kc.AsyncKimiClient])
def test_a_client_pickle_holds_neither_key_nor_credential_header(cls: Any) -> None:
    c = cls(
        provider="openai-compatible",
        base_url="http://127.0.0.1:9/v1",
        api_key=KEY,
        default_headers=HEADERS,
    )
    data = pickle.dumps(c)
    assert KEY.encode() not in data and TOKEN.encode() not in data
    again = pickle.loads(data)
    assert again._api_key == KEY and again._headers["X-Api-Key"] == TOKEN
    assert again._headers["X-App"] == "demo"


def test_a_client_pickle_elsewhere_reads_the_environment() -> None:
    data = pickle.dumps(kimi_client(default_headers=HEADERS))
    child = (
        "import pickle, sys\n"
        "c = pickle.loads(sys.stdin.buffer.read())\n"
        "print(c._api_key, sorted(c._headers))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", child],
        input=data,
        capture_output=True,
        env={"PATH": "", "KIMI_API_KEY": "env-key"},
        check=True,
        timeout=120,
    ).stdout.decode()
    # The credential header is not guessed: it is left out.
    assert out.split()[0] == "env-key" and "X-Api-Key" not in out and "X-App" in out


def adapters() -> list[Any]:
    from langchain_kimi import ChatKimi
    from llama_index_kimi import Kimi

    return [
        ChatKimi(model="kimi-k2.6", api_key=KEY, default_headers=HEADERS),
        Kimi(model="kimi-k2.6", api_key=KEY, default_headers=HEADERS),
    ]


@pytest.mark.parametrize("index", [0, 1], ids=["ChatKimi", "Kimi"])
def test_adapter_dumps_and_pickles_hold_no_credential(index: int) -> None:
    model = adapters()[index]
    shown = [
        repr(model),
        str(model),
        str(model.model_dump()),
        model.model_dump_json(),
        json.dumps(model.to_json() if index == 0 else model.to_dict(), default=str),
    ]
    for text in shown:
        assert KEY not in text and TOKEN not in text, text[:300]
    data = pickle.dumps(model)
    assert KEY.encode() not in data and TOKEN.encode() not in data
    again = pickle.loads(data)
    assert again.default_headers["X-Api-Key"] == TOKEN  # found again in this process
    client = again._get_client()
    assert client._api_key == KEY and client._headers["X-Api-Key"] == TOKEN


# -- server bodies that echo the key -------------------------------------------------


ECHOES = {
    "401 JSON": (
        401,
        json.dumps(
            {
                "error": {
                    "message": f"Invalid key: Bearer {KEY}",
                    "type": "invalid_authentication_error",
                }
            }
        ),
        "application/json",
    ),
    "401 HTML": (
        401,
        f"<html><body><pre>Authorization: Bearer {KEY}</pre></body></html>",
        "text/html",
    ),
    "200 error body": (
        200,
        json.dumps({"success": False, "error": {"code": "invalid_token", "message": KEY}}),
        "application/json",
    ),
    "500 body with the key in a nested field": (
        500,
        json.dumps({"error": {"message": "oops", "debug": {"headers": {"authorization": KEY}}}}),
        "application/json",
    ),
}


def shown_of(err: BaseException) -> str:
    body = getattr(err, "body", None)
    return " ".join(
        [
            str(err),
            repr(err),
            json.dumps(body, default=str),
            "".join(traceback.format_exception(err)),
        ]
    )


@pytest.mark.parametrize("name", list(ECHOES))
def test_a_body_that_echoes_the_key_is_masked(loopback: LoopbackServer, name: str) -> None:
    status, body, ctype = ECHOES[name]
    loopback.reply(http_response(status, body, content_type=ctype))
    with pytest.raises(kc.KimiError) as info:
        kimi_client(loopback.base_url, max_retries=0).chat(
            model="kimi-k2.6", messages=[{"role": "user", "content": "x"}]
        )
    assert KEY not in shown_of(info.value) and ka.MASK in shown_of(info.value)


@pytest.mark.parametrize(
    "events",
    [
        [{"error": {"message": f"bad key {KEY}", "type": "auth"}}],
        [f"not json {KEY}"],
        [{"choices": [{"index": 0, "delta": {"content": 1}}], "echo": KEY}],
    ],
    ids=["error event", "malformed event", "bad chunk"],
)
def test_a_stream_that_echoes_the_key_is_masked(loopback: LoopbackServer, events: Any) -> None:
    loopback.reply_sse(events)
    with pytest.raises(kc.KimiError) as info:
        list(
            kimi_client(loopback.base_url).stream(
                model="kimi-k2.6", messages=[{"role": "user", "content": "x"}]
            )
        )
    assert KEY not in shown_of(info.value)


def test_a_langchain_error_from_an_echoing_body(loopback: LoopbackServer) -> None:
    from langchain_kimi import ChatKimi

    loopback.reply(http_response(401, f"Authorization: Bearer {KEY}", content_type="text/plain"))
    model = ChatKimi(
        model="kimi-k2.6", provider="openai-compatible", base_url=loopback.base_url, api_key=KEY
    )
    with pytest.raises(kc.AuthenticationError) as info:
        model.invoke("x")
    assert KEY not in shown_of(info.value)


# -- configuration errors: no frame local holds the key ------------------------------


def frame_locals(err: BaseException) -> str:
    """Every local of every frame of the traceback, as a capture_locals reporter shows
    them (a repr per value; dicts and lists item by item)."""
    parts: list[str] = []
    seen: set[int] = set()
    for exc in (err, err.__cause__, err.__context__):
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        tb = exc.__traceback__
        while tb is not None:
            for name, value in tb.tb_frame.f_locals.items():
                items = value.items() if isinstance(value, dict) else [(name, value)]
                for key, item in items:
                    try:
                        parts.append(f"{key}={item!r}")
                    except Exception:  # a half-built object may not repr
                        parts.append(f"{key}=<unrepresentable>")
            tb = tb.tb_next
    return "\n".join(parts)


CONFIG_ERRORS = {
    "KimiClient timeout": lambda: kimi_client(timeout=-1),
    "KimiClient max_retries": lambda: kimi_client(max_retries=-1),
    "KimiClient max_event_bytes": lambda: kimi_client(max_event_bytes=0),
    "KimiClient total_timeout": lambda: kimi_client(total_timeout="soon"),
    "KimiClient provider": lambda: kc.KimiClient(provider="nope", api_key=KEY),
    "KimiClient key with a newline inside": lambda: kc.KimiClient(
        provider="moonshot", api_key=KEY[:10] + "\n" + KEY[10:]
    ),
}


def chatkimi_error(**kw: Any) -> Any:
    from langchain_kimi import ChatKimi

    return ChatKimi(model="kimi-k2.6", api_key=KEY, **kw)


def kimi_error(**kw: Any) -> Any:
    from llama_index_kimi import Kimi

    return Kimi(model="kimi-k2.6", api_key=KEY, **kw)


CONFIG_ERRORS.update(
    {
        "ChatKimi provider": lambda: chatkimi_error(provider="nope"),
        "ChatKimi timeout": lambda: chatkimi_error(timeout=-3),
        "ChatKimi max_retries": lambda: chatkimi_error(max_retries=-1),
        "ChatKimi max_body_bytes": lambda: chatkimi_error(max_body_bytes=0),
        "Kimi provider": lambda: kimi_error(provider="nope"),
        "Kimi timeout": lambda: kimi_error(timeout=-3),
        "Kimi max_error_bytes": lambda: kimi_error(max_error_bytes=0),
    }
)


@pytest.mark.parametrize("name", list(CONFIG_ERRORS))
def test_configuration_errors_hold_no_key_in_their_frames(name: str) -> None:
    with pytest.raises(ValueError, match=r"\S") as info:  # ConfigurationError, or pydantic's
        CONFIG_ERRORS[name]()
    shown = frame_locals(info.value)
    # The key's tail: a key split by a bad character still shows it.
    assert KEY[12:] not in str(info.value) and KEY[12:] not in shown, name
