"""LangChain's standard unit tests for ChatKimi (langchain-tests ``ChatModelUnitTests``)."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_tests.unit_tests import ChatModelUnitTests

from langchain_kimi import ChatKimi


class TestChatKimiStandard(ChatModelUnitTests):
    """kimi-k3 on Moonshot: today's flagship (always thinks, fixed sampling, 1M window)."""

    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return ChatKimi

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "kimi-k3"}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {"MOONSHOT_API_KEY": "api_key"},
            {"model": "kimi-k3"},
            {"api_key": "api_key", "model_name": "kimi-k3"},
        )

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_video_inputs(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def returns_usage_metadata(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str:
        return "kimi-k2.6"


class TestChatKimiStandardAceData(ChatModelUnitTests):
    """The same suite on AceData (another key variable, json_schema not offered)."""

    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return ChatKimi

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "kimi-k2-thinking", "provider": "acedata"}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {"ACEDATACLOUD_API_TOKEN": "token"},
            {"model": "kimi-k2-thinking", "provider": "acedata"},
            {"api_key": "token", "provider": "acedata"},
        )

    @property
    def has_structured_output(self) -> bool:
        # with_structured_output(method="json_schema") is refused on AceData before
        # anything is sent (tested in test_chat_model.py); the standard test asks for it.
        return False

    @property
    def model_override_value(self) -> str:
        return "kimi-k2.5"


@pytest.mark.parametrize("model", ["kimi-k2.6", "kimi-k2.7-code", "kimi-k3.1-pro"])
def test_standard_params_other_models(model: str) -> None:
    chat = ChatKimi(model=model, api_key="k", max_tokens=10, stop=["x"])
    ls = chat._get_ls_params()
    assert ls == {
        "ls_provider": "moonshot",
        "ls_model_name": model,
        "ls_model_type": "chat",
        "ls_max_tokens": 10,
        "ls_stop": ["x"],
    }
