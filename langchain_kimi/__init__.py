"""LangChain integration for Kimi (Moonshot AI): ``ChatKimi``.

.. code-block:: python

    from langchain_kimi import ChatKimi

    model = ChatKimi(model="kimi-k2.6")  # MOONSHOT_API_KEY from the environment
    model.invoke("Hello")
"""

from ._errors import (
    KimiAPIError,
    KimiAuthenticationError,
    KimiConnectionError,
    KimiContentFilterError,
    KimiContextOverflowError,
    KimiInsufficientQuotaError,
    KimiInvalidRequestError,
    KimiNotFoundError,
    KimiPermissionDeniedError,
    KimiRateLimitError,
    KimiStatusError,
    KimiStreamError,
    KimiTimeoutError,
)
from ._tools import WEB_SEARCH_TOOL, KimiWebSearch, web_search_echo
from .chat_models import ChatKimi
from .document_loaders import (
    KimiDocumentMessages,
    KimiFileLoader,
    akimi_document_messages,
    kimi_document_messages,
)

__all__ = [
    "WEB_SEARCH_TOOL",
    "ChatKimi",
    "KimiAPIError",
    "KimiAuthenticationError",
    "KimiConnectionError",
    "KimiContentFilterError",
    "KimiContextOverflowError",
    "KimiDocumentMessages",
    "KimiFileLoader",
    "KimiInsufficientQuotaError",
    "KimiInvalidRequestError",
    "KimiNotFoundError",
    "KimiPermissionDeniedError",
    "KimiRateLimitError",
    "KimiStatusError",
    "KimiStreamError",
    "KimiTimeoutError",
    "KimiWebSearch",
    "akimi_document_messages",
    "kimi_document_messages",
    "web_search_echo",
]
