"""End to end through the emulator: provider errors raised as classes that are both the
kimi_core error and the LangChain one, with their fields; streams that break keep what
arrived; and the key never shows up anywhere."""

from __future__ import annotations

import logging
import pickle
from typing import Any

import pytest
from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
)
from langchain_core.load import dumpd, dumps, loads
from langchain_core.messages import AIMessageChunk
from lc_helpers import DIALECT_MODELS, KEY, ChatFactory, chat_for

import kimi_core as kc
import langchain_kimi as lk
from langchain_kimi import ChatKimi


def _invoke_error(model: ChatKimi, *, stream: bool = False, asynchronous: bool = False) -> Any:
    with pytest.raises(kc.KimiError) as info:
        if stream:
            list(model.stream("Hello"))
        else:
            model.invoke("Hello")
    return info.value


def test_wrong_key(chat: ChatFactory, emu: Any) -> None:
    err = _invoke_error(chat(api_key="sk-wrong"))
    assert isinstance(err, lk.KimiAuthenticationError)
    assert isinstance(err, kc.AuthenticationError)
    assert isinstance(err, ModelAuthenticationError)
    assert err.status_code == 401
    assert err.provider == emu.provider
    assert err.message
    assert "sk-wrong" not in str(err)
    assert KEY not in str(err)


@pytest.mark.filterwarnings("ignore::kimi_core.UnknownModelWarning")
def test_unknown_model(chat: ChatFactory, emu: Any) -> None:
    err = _invoke_error(
        chat("kimi-k2-0711-preview" if emu.dialect == "gptproto" else "kimi-k9-nope")
    )
    if emu.dialect == "acedata":  # AceData answers 400 bad_request
        assert isinstance(err, lk.KimiInvalidRequestError)
        assert isinstance(err, ModelInvalidRequestError)
    else:
        assert isinstance(err, lk.KimiNotFoundError)
        assert isinstance(err, ModelNotFoundError)
        assert err.status_code == 404


def test_rate_limit_is_retried_then_raised(chat: ChatFactory, emu: Any) -> None:
    emu.fault("429", retry_after=0, times=1)
    assert chat(max_retries=1).invoke("Hello").content  # retried once, then fine
    assert len(emu.chat_requests) == 2
    emu.fault("429", retry_after=0, times=3)
    err = _invoke_error(chat(max_retries=1))
    assert isinstance(err, lk.KimiRateLimitError)
    assert isinstance(err, kc.RateLimitError)
    assert isinstance(err, ModelRateLimitError)
    assert err.is_retryable and err.retryable
    assert err.status_code == 429


def test_server_errors(chat: ChatFactory, emu: Any) -> None:
    for kind in ("500", "502_html", "503"):
        emu.fault(kind)
        err = _invoke_error(chat())
        assert isinstance(err, lk.KimiAPIError), kind
        assert isinstance(err, kc.InternalServerError)
        assert isinstance(err, ModelAPIError)
        assert err.status_code >= 500
        assert "<html" not in err.message.lower()  # an HTML page becomes a readable excerpt


def test_context_overflow(moonshot: Any) -> None:
    model = chat_for(moonshot, "kimi-k2.6", max_tokens=262_144)
    err = _invoke_error(model)
    assert isinstance(err, lk.KimiContextOverflowError)
    assert isinstance(err, kc.ContextWindowExceededError)
    assert isinstance(err, ContextOverflowError)
    assert isinstance(err, ModelInvalidRequestError)
    assert "exceeded model token limit" in err.message
    assert err.request_id  # Moonshot's x-trace-id


def test_content_filter_and_quota(moonshot: Any, acedata: Any) -> None:
    moonshot.script(status=400, body={"error": {"type": "content_filter", "message": "risk"}})
    err = _invoke_error(chat_for(moonshot))
    assert isinstance(err, lk.KimiContentFilterError)
    assert isinstance(err, ModelInvalidRequestError)
    moonshot.script(
        status=429,
        body={"error": {"type": "exceeded_current_quota_error", "message": "suspended"}},
    )
    err = _invoke_error(chat_for(moonshot, max_retries=2))
    assert isinstance(err, lk.KimiInsufficientQuotaError)
    assert isinstance(err, kc.InsufficientQuotaError)
    assert isinstance(err, ModelPermissionDeniedError)
    assert not isinstance(err, ModelRateLimitError)
    assert len(moonshot.chat_requests) == 2  # never retried
    acedata.script(
        status=403,
        body={
            "success": False,
            "error": {"code": "used_up", "message": "no balance"},
            "trace_id": "t-1",
        },
    )
    err = _invoke_error(chat_for(acedata))
    assert isinstance(err, lk.KimiInsufficientQuotaError)
    assert err.code == "used_up"
    assert err.request_id == "t-1"
    assert err.body["trace_id"] == "t-1"


def test_permission_denied(acedata: Any) -> None:
    acedata.script(
        status=403, body={"error": {"code": "disabled", "message": "off"}, "trace_id": "t"}
    )
    err = _invoke_error(chat_for(acedata))
    assert isinstance(err, lk.KimiPermissionDeniedError)
    assert isinstance(err, ModelPermissionDeniedError)


def test_errors_are_picklable(moonshot: Any) -> None:
    moonshot.fault("500")
    err = _invoke_error(chat_for(moonshot))
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is type(err)
    assert (again.message, again.status_code, again.request_id) == (
        err.message,
        err.status_code,
        err.request_id,
    )


def test_langchain_fallbacks_and_retries_see_the_errors(moonshot: Any) -> None:
    broken = chat_for(moonshot, api_key="sk-wrong")
    good = chat_for(moonshot)
    chain = broken.with_fallbacks([good], exceptions_to_handle=(ModelAuthenticationError,))
    assert chain.invoke("Hello").content
    moonshot.fault("429", retry_after=0, times=1)
    retrying = good.with_retry(
        retry_if_exception_type=(ModelRateLimitError,), wait_exponential_jitter=False
    )
    assert retrying.invoke("Hello").content


# --------------------------------------------------------------------------- broken streams


def _stream_until_error(model: ChatKimi) -> tuple[list[AIMessageChunk], Any]:
    chunks: list[AIMessageChunk] = []
    with pytest.raises(kc.KimiError) as info:
        for chunk in model.stream("Hello there, tell me something"):
            chunks.append(chunk)
    return chunks, info.value


def test_dropped_stream_keeps_what_arrived(chat: ChatFactory, emu: Any) -> None:
    emu.fault("drop_after", events=5)
    chunks, err = _stream_until_error(chat(max_retries=2))
    assert isinstance(err, lk.KimiStreamError)
    assert isinstance(err, kc.StreamError)
    assert isinstance(err, ModelAPIError)
    assert chunks, "tokens delivered before the break were yielded"
    received = "".join(c.additional_kwargs.get("reasoning_content", "") for c in chunks)
    partial = err.partial["choices"][0]["message"]
    assert partial["reasoning_content"] == received
    assert len(emu.chat_requests) == 1  # never retried after the first event


def test_error_event_inside_the_stream(chat: ChatFactory, emu: Any) -> None:
    emu.fault("error_event", events=4)
    chunks, err = _stream_until_error(chat())
    assert isinstance(err, lk.KimiStreamError)
    # GPTProto's error type is the HTTP status ("500"): no symbolic code to report.
    assert (err.code is None) if emu.dialect == "gptproto" else err.code
    assert err.body["error"]["message"] in str(err)
    received = "".join(c.additional_kwargs.get("reasoning_content", "") for c in chunks)
    assert received
    assert received == err.partial["choices"][0]["message"]["reasoning_content"]


def test_truncated_and_malformed_streams(chat: ChatFactory, emu: Any) -> None:
    emu.fault("truncated")
    _, err = _stream_until_error(chat())
    assert isinstance(err, lk.KimiStreamError)
    assert "before [DONE]" in err.message
    emu.fault("malformed", events=3)
    chunks, err = _stream_until_error(chat())
    assert isinstance(err, lk.KimiStreamError)
    assert "malformed" in err.message
    # The events before the bad one (same network read) were delivered first.
    received = "".join(c.additional_kwargs.get("reasoning_content", "") for c in chunks)
    assert received
    assert received == err.partial["choices"][0]["message"]["reasoning_content"]


async def test_async_stream_errors(chat: ChatFactory, emu: Any) -> None:
    emu.fault("drop_after", events=4)
    chunks = []
    with pytest.raises(lk.KimiStreamError) as info:
        async for chunk in chat().astream("Hello there"):
            chunks.append(chunk)
    assert chunks
    assert info.value.partial is not None
    emu.fault("500")
    with pytest.raises(lk.KimiAPIError):
        await chat().ainvoke("Hello")


def test_stream_failing_before_the_first_event_is_retried(chat: ChatFactory, emu: Any) -> None:
    emu.fault("drop_after", events=0)
    text = "".join(str(c.content) for c in chat(max_retries=1).stream("Hello"))
    assert text
    assert len(emu.chat_requests) == 2


def test_errors_reach_callbacks(moonshot: Any) -> None:
    from langchain_core.callbacks import BaseCallbackHandler

    class Errors(BaseCallbackHandler):
        def __init__(self) -> None:
            self.seen: list[BaseException] = []

        def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
            self.seen.append(error)

    moonshot.fault("500")
    handler = Errors()
    with pytest.raises(lk.KimiAPIError):
        chat_for(moonshot).invoke("Hello", config={"callbacks": [handler]})
    assert isinstance(handler.seen[0], ModelError)


# --------------------------------------------------------------------------- secrets


def test_key_never_shows(moonshot: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    model = chat_for(moonshot, max_retries=1)
    texts = [repr(model), str(model), dumps(model), str(dumpd(model)), str(model.asdict())]
    texts.append(str(model.model_dump()))
    texts.append(repr(model._get_client()))
    moonshot.fault("429", retry_after=0)
    model.invoke("Hello")  # a retry gets logged
    list(model.stream("Hello"))
    moonshot.fault("500", times=2)
    with pytest.raises(lk.KimiAPIError) as info:
        model.invoke("Hello")
    texts += [
        str(info.value),
        repr(info.value),
        str(info.value.body),
        pickle.dumps(info.value).hex(),
    ]
    texts += [r.getMessage() for r in caplog.records]
    assert any("retrying" in r.getMessage() for r in caplog.records)
    for text in texts:
        assert KEY not in text
        assert KEY.encode().hex() not in text
    assert model.api_key is not None and model.api_key.get_secret_value() == KEY


@pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")
def test_dumps_loads_round_trip_takes_the_key_from_the_environment(
    moonshot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = chat_for(moonshot, "kimi-k2.6", temperature=None, max_tokens=64, thinking=False)
    text = dumps(model)
    assert KEY not in text
    assert '"MOONSHOT_API_KEY"' in text
    monkeypatch.setenv("MOONSHOT_API_KEY", KEY)
    revived = loads(
        text, valid_namespaces=["langchain_kimi"], allowed_objects=[ChatKimi], secrets_from_env=True
    )
    assert isinstance(revived, ChatKimi)
    assert revived.asdict() == model.asdict()
    assert revived.invoke("Hello").content
    assert moonshot.chat_requests[-1].json["thinking"] == {"type": "disabled"}


@pytest.mark.parametrize("dialect", list(DIALECT_MODELS))
def test_secret_id_names_the_provider_variable(dialect: str, emulators: dict[str, Any]) -> None:
    model = chat_for(emulators[dialect])
    variable = kc.get_provider(emulators[dialect].provider).key_env
    assert dumpd(model)["kwargs"]["api_key"] == {"lc": 1, "type": "secret", "id": [variable]}
