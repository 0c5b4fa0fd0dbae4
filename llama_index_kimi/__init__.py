"""LlamaIndex integration for Kimi (Moonshot AI): ``Kimi``, a ``FunctionCallingLLM``.

Also importable the LlamaIndex way: ``from llama_index.llms.kimi import Kimi``. Kimi's file
extraction as a reader: ``KimiFileReader`` (also ``from llama_index.readers.kimi import
KimiFileReader``), and ``kimi_document_messages`` for Kimi's document Q&A pattern.
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
from .readers import (
    KimiDocumentMessages,
    KimiFileReader,
    akimi_document_messages,
    kimi_document_messages,
)

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
    "KimiDocumentMessages",
    "KimiError",
    "KimiFileReader",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "StreamError",
    "ToolCallMissingError",
    "akimi_document_messages",
    "kimi_document_messages",
]
