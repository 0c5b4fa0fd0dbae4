"""ChatKimi without a server: construction, identity, serialization, profile, binding."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from typing import Any

import pytest
from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelTimeoutError,
)
from langchain_core.load import dumpd, load
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.runnables import RunnableBinding
from pydantic import BaseModel

import kimi_core as kc
import langchain_kimi as lk
from kimi_core import _providers
from langchain_kimi import WEB_SEARCH_TOOL, ChatKimi
from langchain_kimi._errors import to_langchain_error


def test_import_pulls_in_neither_openai_nor_llama_index() -> None:
    code = (
        "import sys, langchain_kimi; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('openai', 'llama_index', 'langchain_openai', 'tiktoken')); "
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == ""


def test_defaults_and_aliases() -> None:
    model = ChatKimi(model="kimi-k2.6", api_key="k", stop_sequences=["x"], timeout=5)
    assert model.model_name == model.model == "kimi-k2.6"
    assert model.stop == ["x"]
    assert model.max_retries == 2
    assert model.stream_usage is True
    assert model._llm_type == "kimi-chat"
    assert ChatKimi(model_name="kimi-k3", api_key="k").model == "kimi-k3"


@pytest.mark.parametrize(
    ("kwargs", "provider", "variable"),
    [
        ({}, "moonshot", "MOONSHOT_API_KEY"),
        ({"provider": "moonshot-cn"}, "moonshot-cn", "MOONSHOT_API_KEY"),
        ({"provider": "acedata"}, "acedata", "ACEDATACLOUD_API_TOKEN"),
        ({"base_url": "https://direct.evolink.ai/v1"}, "evolink", "EVOLINK_API_KEY"),
        ({"provider": "gptproto"}, "gptproto", "GPTPROTO_API_KEY"),
        ({"base_url": "https://gw.example.com/v1"}, "openai-compatible", "KIMI_API_KEY"),
    ],
)
def test_provider_resolution_and_key_variables(
    kwargs: dict[str, Any], provider: str, variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, "from-env")
    monkeypatch.setattr(_providers, "_assumed_hosts", set())
    if provider == "openai-compatible":  # an unknown host: the profile assumed is said once
        with pytest.warns(kc.ProviderAssumedWarning, match="'gw.example.com'"):
            model = ChatKimi(model="kimi-k2.6", **kwargs)
    else:
        model = ChatKimi(model="kimi-k2.6", **kwargs)
    assert model._get_ls_params()["ls_provider"] == provider
    assert model.api_key is not None and model.api_key.get_secret_value() == "from-env"
    assert model.lc_secrets == {"api_key": variable}


def test_kimi_api_key_is_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOONSHOT_API_KEY", raising=False)
    monkeypatch.setenv("KIMI_API_KEY", "fallback")
    assert ChatKimi(model="kimi-k2.6").api_key.get_secret_value() == "fallback"  # type: ignore[union-attr]


def test_bad_configuration_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="provider='nope' is unknown"):
        ChatKimi(model="kimi-k2.6", provider="nope", api_key="k")
    with pytest.raises(ValueError, match="needs base_url"):
        ChatKimi(model="kimi-k2.6", provider="openai-compatible", api_key="k")
    with pytest.raises(ValueError, match="base_url='ftp://x' is not an http"):
        ChatKimi(model="kimi-k2.6", base_url="ftp://x", api_key="k")
    with pytest.raises(ValueError, match="max_retries"):
        ChatKimi(model="kimi-k2.6", max_retries=-1)


def test_unknown_constructor_arguments_go_to_model_kwargs() -> None:
    with pytest.warns(UserWarning, match="top_k"):
        model = ChatKimi(model="kimi-k2.7-code", api_key="k", top_k=5)
    assert model.model_kwargs == {"top_k": 5}


def test_ls_params_follow_call_overrides() -> None:
    model = ChatKimi(model="kimi-k2.7-code", api_key="k", temperature=0.3, max_tokens=50)
    assert model._get_ls_params(model="kimi-k2.6", temperature=0.7, stop=["s"]) == {
        "ls_provider": "moonshot",
        "ls_model_name": "kimi-k2.6",
        "ls_model_type": "chat",
        "ls_temperature": 0.7,
        "ls_max_tokens": 50,
        "ls_stop": ["s"],
    }


def test_identifying_params_have_no_key() -> None:
    model = ChatKimi(model="kimi-k2.6", api_key="sk-very-secret", thinking=False)
    params = model._identifying_params
    assert params["model_name"] == "kimi-k2.6"
    assert params["provider"] == "moonshot"
    assert params["base_url"] == "https://api.moonshot.ai/v1"
    assert params["thinking"] is False
    assert "sk-very-secret" not in repr(params) + repr(model.asdict()) + repr(model)


@pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")
def test_serialization_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    model = ChatKimi(model="kimi-k2.5", provider="acedata", api_key="sk-very-secret", n=2)
    data = dumpd(model)
    assert data["id"] == ["langchain_kimi", "chat_models", "ChatKimi"]
    assert "sk-very-secret" not in repr(data)
    monkeypatch.setenv("ACEDATACLOUD_API_TOKEN", "sk-from-env")
    for allowed in ("all", [ChatKimi]):
        revived = load(
            data,
            valid_namespaces=["langchain_kimi"],
            allowed_objects=allowed,  # type: ignore[arg-type]
            secrets_from_env=True,
        )
        assert isinstance(revived, ChatKimi)
        assert revived.asdict() == model.asdict()
        assert revived.api_key.get_secret_value() == "sk-from-env"  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="not allowed"):
        load(data, valid_namespaces=["langchain_kimi"], allowed_objects="core")


@pytest.mark.parametrize(
    ("model", "provider", "expected"),
    [
        (
            "kimi-k2.6",
            "moonshot",
            {"image_inputs": True, "video_inputs": True, "reasoning_output": True,
             "structured_output": True, "temperature": False, "max_input_tokens": 262_144,
             "pdf_inputs": False, "image_url_inputs": False},
        ),
        (
            "kimi-k2.5",
            "acedata",
            {"image_inputs": False, "video_inputs": False, "structured_output": False},
        ),
        (
            "kimi-k2.5",
            "gptproto",
            {"image_inputs": True, "pdf_inputs": True, "image_url_inputs": True},
        ),
        (
            "kimi-k3",
            "moonshot",
            {"image_inputs": True, "reasoning_output": True, "max_input_tokens": 1_048_576,
             "temperature": False, "tool_choice": True, "status": "active"},
        ),
        (
            "kimi-k2.7-code",
            "moonshot",
            # temperature fixed: simstudioai/sim PR #5716 (docs/kimi-platform.md §12).
            {"max_input_tokens": 262_144, "temperature": False, "reasoning_output": True},
        ),
        (
            "moonshot-v1-8k",
            "openai-compatible",
            {"image_inputs": False, "reasoning_output": False, "max_input_tokens": 8_192,
             "temperature": True, "status": "active"},
        ),
        ("kimi-k2.5", "acedata", {"status": "active"}),
        ("kimi-k2-thinking", "evolink", {"reasoning_output": True, "max_output_tokens": 65_536}),
    ],
)  # fmt: skip
def test_profile_from_the_catalogue(model: str, provider: str, expected: dict[str, Any]) -> None:
    base = "https://gw.example.com/v1" if provider == "openai-compatible" else None
    profile = ChatKimi(model=model, provider=provider, base_url=base, api_key="k").profile
    assert profile is not None
    for key, value in expected.items():
        assert profile[key] == value, key  # type: ignore[literal-required]


def test_a_retired_id_warns_once_at_construction_and_its_profile_says_deprecated() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = ChatKimi(model="moonshot-v1-8k", api_key="k")
        ChatKimi(model="moonshot-v1-8k", api_key="k")  # once per id and provider
    assert [str(w.message) for w in caught if w.category is kc.RetiredModelWarning] == [
        "model 'moonshot-v1-8k' was retired by provider 'moonshot' on 2026-08-31 (it "
        "answers 404 there); use 'kimi-k2.6'"
    ]
    assert model.profile is not None and model.profile["status"] == "deprecated"
    with pytest.warns(kc.RetiredModelWarning, match=r"'kimi-k2.5' .*'moonshot-cn'"):
        ChatKimi(model="kimi-k2.5", provider="moonshot-cn", api_key="k")


def test_profile_of_an_unknown_model_does_not_warn() -> None:
    # The catalogue warning comes once, when a request is prepared.
    ChatKimi(model="kimi-k9-future", api_key="k")


class Answer(BaseModel):
    """An answer."""

    text: str


@pytest.mark.parametrize(
    ("provider", "model", "expected"),
    [
        ("moonshot", "kimi-k2.6", "json_schema"),
        ("moonshot", "kimi-k3", "json_schema"),
        ("moonshot", "kimi-k2.7-code", "json_schema"),
        ("gptproto", "kimi-k3", "function_calling"),  # K3 takes a forced call while thinking
        ("gptproto", "kimi-k2.7-code", "json_mode"),  # K2.7 does not
        ("acedata", "kimi-k2.5", "function_calling"),
        ("acedata", "kimi-k2-thinking", "json_mode"),
        ("evolink", "kimi-k2-thinking", "json_mode"),
        ("gptproto", "kimi-k2.5", "function_calling"),
    ],
)
def test_default_structured_method(provider: str, model: str, expected: str) -> None:
    """The default is kimi_core.structured_output_method (shared with LlamaIndex)."""
    chat = ChatKimi(model=model, provider=provider, api_key="k")
    info = kc.get_model_info(model)
    assert kc.structured_output_method(chat._profile, info) == expected
    steps = chat.with_structured_output(Answer).steps  # type: ignore[attr-defined]
    bound = next(s for s in steps if isinstance(s, RunnableBinding))
    if expected == "function_calling":
        assert bound.kwargs["tool_choice"]["function"]["name"] == "Answer"
        return
    kind = {"json_schema": "json_schema", "json_mode": "json_object"}[expected]
    assert bound.kwargs["response_format"]["type"] == kind
    if expected == "json_mode":
        # the schema goes into the system message: Kimi's JSON mode needs it spelled out
        prompt = steps[0].invoke([SystemMessage("Be brief."), HumanMessage("Paris?")])
        assert prompt[0].content.startswith("Be brief.\n\nAnswer with one JSON object")
        assert '"properties":{"text"' in prompt[0].content and prompt[1].content == "Paris?"


def test_structured_methods_checked_before_sending() -> None:
    with pytest.raises(kc.ConfigurationError, match="json_object"):
        ChatKimi(model="kimi-k2.5", provider="acedata", api_key="k").with_structured_output(
            Answer, method="json_schema"
        )
    with pytest.raises(kc.ConfigurationError, match="schema=None"):
        ChatKimi(model="kimi-k2.6", api_key="k").with_structured_output(None)
    with pytest.raises(kc.ConfigurationError, match="method='xml'"):
        ChatKimi(model="kimi-k2.6", api_key="k").with_structured_output(Answer, method="xml")  # type: ignore[arg-type]


def test_bind_web_search_sends_thinking_disabled_only_when_unset() -> None:
    """The rule lives in kimi_core (both adapters get it); check the request body."""

    def sent(model: ChatKimi, **kwargs: Any) -> dict[str, Any]:
        bound = model.bind_web_search(**kwargs)
        assert bound.kwargs["tools"] == [WEB_SEARCH_TOOL]  # type: ignore[attr-defined]
        call = dict(bound.kwargs)  # type: ignore[attr-defined]
        return model._prepare([HumanMessage("news?")], None, call).body

    assert sent(ChatKimi(model="kimi-k2.6", api_key="k"))["thinking"] == {"type": "disabled"}
    thinking_on = ChatKimi(model="kimi-k2.6", api_key="k", thinking=True)
    assert sent(thinking_on)["thinking"] == {"type": "enabled"}
    assert sent(ChatKimi(model="kimi-k2.6", api_key="k"), thinking=True)["thinking"] == {
        "type": "enabled"
    }
    assert "thinking" not in sent(ChatKimi(model="kimi-k2.7-code", api_key="k"))
    assert "thinking" not in sent(ChatKimi(model="kimi-k3", api_key="k"))


@pytest.mark.parametrize(
    ("core", "lc", "twin"),
    [
        (kc.ContextWindowExceededError, ContextOverflowError, lk.KimiContextOverflowError),
        (kc.ContentFilterError, ModelInvalidRequestError, lk.KimiContentFilterError),
        (kc.BadRequestError, ModelInvalidRequestError, lk.KimiInvalidRequestError),
        (kc.AuthenticationError, ModelAuthenticationError, lk.KimiAuthenticationError),
        (kc.PermissionDeniedError, ModelPermissionDeniedError, lk.KimiPermissionDeniedError),
        (kc.InsufficientQuotaError, ModelPermissionDeniedError, lk.KimiInsufficientQuotaError),
        (kc.NotFoundError, ModelNotFoundError, lk.KimiNotFoundError),
        (kc.RateLimitError, ModelRateLimitError, lk.KimiRateLimitError),
        (kc.InternalServerError, ModelAPIError, lk.KimiAPIError),
        (kc.APIStatusError, ModelAPIError, lk.KimiStatusError),
        (kc.APITimeoutError, ModelTimeoutError, lk.KimiTimeoutError),
        (kc.APIConnectionError, ModelConnectionError, lk.KimiConnectionError),
        (kc.StreamError, ModelAPIError, lk.KimiStreamError),
    ],
)
def test_error_twins_keep_every_field(core: type, lc: type, twin: type) -> None:
    err = core("boom", status_code=418, code="c", request_id="r", provider="acedata", body={"x": 1})
    err.partial = {"choices": []}
    err.retryable = True
    cause = OSError("socket")
    err.__cause__ = cause
    out = to_langchain_error(err)
    assert type(out) is twin
    assert isinstance(out, core)
    assert isinstance(out, lc)
    assert str(out) == str(err)
    for field in (
        "message",
        "status_code",
        "code",
        "request_id",
        "provider",
        "body",
        "partial",
        "retryable",
    ):
        assert getattr(out, field) == getattr(err, field), field
    assert out.__cause__ is cause
    assert to_langchain_error(out) is out


def test_configuration_errors_stay_as_they_are() -> None:
    err = kc.ConfigurationError("bad", param="x")
    assert to_langchain_error(err) is err
    missing = kc.ToolCallMissingError("no call")
    assert to_langchain_error(missing) is missing


@pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")
def test_credential_headers_are_masked_in_repr_dumps_and_callbacks(kimi_emulator: Any) -> None:
    import warnings

    from langchain_core.callbacks import BaseCallbackHandler
    from langchain_core.load import dumps, loads

    seen: list[Any] = []

    class Spy(BaseCallbackHandler):
        def on_chat_model_start(self, serialized: Any, messages: Any, **kw: Any) -> None:
            seen.append(serialized)

    headers = {
        "X-Gateway-Key": "gw-SECRET-1",
        "Authorization-Extra": "gw-SECRET-2",
        "X-App": "demo",
    }
    chat = ChatKimi(
        model="kimi-k2.6",
        provider=kimi_emulator.provider,
        base_url=kimi_emulator.base_url,
        api_key="sk-x",
        default_headers=headers,
    )
    assert "gw-SECRET" not in repr(chat) and "gw-SECRET" not in str(chat)
    dumped = dumps(chat)
    assert "gw-SECRET" not in dumped and '"X-App": "demo"' in dumped
    chat.invoke("hi", config={"callbacks": [Spy()]})
    assert seen and "gw-SECRET" not in json.dumps(seen)
    sent = kimi_emulator.requests[-1].headers
    assert sent["x-gateway-key"] == "gw-SECRET-1"  # the real value still goes to the server
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = loads(
            dumped,
            secrets_map={"MOONSHOT_API_KEY": "sk-x"},
            allowed_objects=[ChatKimi],
            valid_namespaces=["langchain_kimi"],
        )
    assert again.default_headers == {"X-App": "demo"}  # the mask is not sent back


@pytest.mark.parametrize("name", ["_generate", "_agenerate"])
def test_the_precomputed_signature_is_the_methods_own(name: str) -> None:
    """LangChain reads ``inspect.signature(model._generate)`` on every call to decide
    whether to pass ``run_manager``; the ``__signature__`` set once must say what the
    code itself takes."""
    import inspect

    fn = getattr(ChatKimi, name)
    code = fn.__code__
    own = list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount + 1])
    assert list(inspect.signature(fn).parameters) == own
    bound = getattr(ChatKimi(model="kimi-k2.6", api_key="k"), name)
    assert list(inspect.signature(bound).parameters) == own[1:]
    assert "run_manager" in inspect.signature(bound).parameters
