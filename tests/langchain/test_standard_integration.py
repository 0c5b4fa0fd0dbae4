"""LangChain's standard integration tests (langchain-tests ``ChatModelIntegrationTests``).

- ``TestChatKimiLive`` runs against a real provider when its key is set
  (``MOONSHOT_API_KEY``, ``ACEDATACLOUD_API_TOKEN``, ``EVOLINK_API_KEY`` or
  ``GPTPROTO_API_KEY``; ``KIMI_LIVE_PROVIDER`` / ``KIMI_LIVE_MODEL`` pick another pair)
  and is skipped otherwise.
- ``TestChatKimiEmulator`` runs the same suite against the local emulator (moonshot
  dialect, kimi-k2.6) over real HTTP.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_tests.integration_tests import ChatModelIntegrationTests
from lc_helpers import KEY

from langchain_kimi import ChatKimi

_LIVE_DEFAULTS = (
    ("MOONSHOT_API_KEY", "moonshot", "kimi-k2.6"),
    ("ACEDATACLOUD_API_TOKEN", "acedata", "kimi-k2.5"),
    ("EVOLINK_API_KEY", "evolink", "kimi-k2-thinking"),
    ("GPTPROTO_API_KEY", "gptproto", "kimi-k2.5"),
)


def _live() -> tuple[str, str] | None:
    """(provider, model) to test live, from the environment; None without a key."""
    provider = os.environ.get("KIMI_LIVE_PROVIDER")
    for variable, name, model in _LIVE_DEFAULTS:
        if (provider is None or provider == name) and os.environ.get(variable):
            return name, os.environ.get("KIMI_LIVE_MODEL", model)
    if provider and os.environ.get("KIMI_API_KEY"):
        return provider, os.environ.get("KIMI_LIVE_MODEL", "kimi-k2.6")
    return None


LIVE = _live()
_LONG_SYSTEM = "You are a concise assistant. " + "Answer in one short sentence. " * 200


class _KimiSuite(ChatModelIntegrationTests):
    """What is common to the live and the emulated runs."""

    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return ChatKimi

    @property
    def standard_chat_model_params(self) -> dict[str, Any]:
        params = dict(super().standard_chat_model_params)
        # kimi-k2.5 / k2.6 fix the temperature ("only 1 is allowed"); thinking models need
        # room to think before they answer.
        params.pop("temperature", None)
        params["max_tokens"] = 4096
        return params

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_image_tool_message(self) -> bool:
        return False

    @property
    def supports_anthropic_inputs(self) -> bool:
        # Anthropic-style tools, image blocks, tool_use and thinking blocks in history.
        return True

    @property
    def supported_usage_metadata_details(self) -> dict[str, Any]:
        details = ["reasoning_output", "cache_read_input"]
        return {"invoke": details, "stream": details}

    @property
    def model_override_value(self) -> str:
        return "kimi-k3"

    def invoke_with_reasoning_output(self, *, stream: bool = False) -> AIMessage:
        model = ChatKimi(**{**self.chat_model_params, "max_tokens": 4096})
        prompt = "What is 17 * 23? Think it through."
        if stream:
            full: Any = None
            for chunk in model.stream(prompt):
                full = chunk if full is None else full + chunk
            return full  # type: ignore[no-any-return]
        return model.invoke(prompt)

    def invoke_with_cache_read_input(self, *, stream: bool = False) -> AIMessage:
        model = ChatKimi(**self.chat_model_params)
        messages = [SystemMessage(_LONG_SYSTEM), HumanMessage("Say hi.")]
        model.invoke(messages)  # the second call reads the prefix from the cache
        if stream:
            full: Any = None
            for chunk in model.stream(messages):
                full = chunk if full is None else full + chunk
            return full  # type: ignore[no-any-return]
        return model.invoke(messages)


@pytest.mark.live
@pytest.mark.skipif(
    LIVE is None,
    reason="live: set MOONSHOT_API_KEY, ACEDATACLOUD_API_TOKEN, EVOLINK_API_KEY or "
    "GPTPROTO_API_KEY to run LangChain's standard integration tests against the provider",
)
class TestChatKimiLive(_KimiSuite):
    @property
    def chat_model_params(self) -> dict[str, Any]:
        provider, model = LIVE or ("moonshot", "kimi-k2.6")
        return {"model": model, "provider": provider}


class TestChatKimiEmulator(_KimiSuite):
    _emu: Any = None

    @pytest.fixture(autouse=True)
    def _emulator(
        self, emulators: dict[str, Any], monkeypatch: pytest.MonkeyPatch
    ) -> Iterator[None]:
        emu = emulators["moonshot"]
        emu.reset()
        type(self)._emu = emu
        # test_image_inputs downloads a PNG from GitHub with httpx.get before calling the
        # model; the build machines have no internet, so that download (only: ChatKimi
        # does not use httpx.get) is served from memory. The model calls still go over
        # HTTP to the emulator, which checks the image parts.
        png = base64.b64decode(_PNG)
        monkeypatch.setattr(httpx, "get", lambda *a, **k: httpx.Response(200, content=png))
        yield
        emu.reset()

    @property
    def model_override_value(self) -> str:
        return "kimi-k2.7-code"  # served by Moonshot today (kimi-k2.5 was retired)

    @property
    def chat_model_params(self) -> dict[str, Any]:
        emu = type(self)._emu
        return {
            "model": "kimi-k2.6",
            "provider": emu.provider,
            "base_url": emu.base_url,
            "api_key": KEY,
        }

    @property
    def supports_image_urls(self) -> bool:
        # Moonshot takes images as data URLs or ms://<file_id> only.
        return False


# A 1x1 PNG.
_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
