"""What the LangChain adapter tests share besides fixtures: the dialects' models, the key
the emulators accept, and a ChatKimi factory (imported as ``lc_helpers``: this folder is
not a package, so that ``tests/langchain`` never shadows the ``langchain`` library)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_kimi import ChatKimi

#: The model each dialect is exercised with (a thinking model on every one).
DIALECT_MODELS = {
    "moonshot": "kimi-k2.6",
    "acedata": "kimi-k2.5",
    "evolink": "kimi-k2-thinking",
    "gptproto": "kimi-k2.5",
}
#: The only key the emulators accept; tests check it never leaks.
KEY = "sk-lc-e2e-7f3a9c1b0d2e-SECRET"

ChatFactory = Callable[..., ChatKimi]


def chat_for(emu: Any, model: str | None = None, **kwargs: Any) -> ChatKimi:
    """A ChatKimi talking to ``emu`` (its dialect's model unless ``model`` is given)."""
    params: dict[str, Any] = {
        "model": model or DIALECT_MODELS[emu.dialect],
        "provider": emu.provider,
        "base_url": emu.base_url,
        "api_key": KEY,
        "max_retries": 0,
    }
    params.update(kwargs)
    return ChatKimi(**params)
