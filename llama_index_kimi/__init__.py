"""LlamaIndex integration for Kimi (Moonshot AI): ``Kimi``, a ``FunctionCallingLLM``.

Also importable the LlamaIndex way: ``from llama_index.llms.kimi import Kimi``.
"""

from kimi_core import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ContentFilterError,
    ContextWindowExceededError,
    InsufficientQuotaError,
    InternalServerError,
    KimiError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StreamError,
    ToolCallMissingError,
)

from .base import DEFAULT_MODEL, Kimi

__all__ = [
    "DEFAULT_MODEL",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ContentFilterError",
    "ContextWindowExceededError",
    "InsufficientQuotaError",
    "InternalServerError",
    "Kimi",
    "KimiError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "StreamError",
    "ToolCallMissingError",
]
