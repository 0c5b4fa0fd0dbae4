"""kimi_core: the framework-free core of kimi-integrations.

Transport (httpx, retries, SSE), provider profiles, the model catalogue, request
rules, schema normalisation, stream assembly and the typed errors, shared by
``langchain_kimi`` and ``llama_index_kimi``. It imports no framework.
"""

from ._errors import (
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
from ._models import MODELS, ModelInfo, UnconfirmedRuleWarning, UnknownModelWarning, get_model_info
from ._providers import PROVIDERS, ProviderProfile, get_provider, resolve_api_key, resolve_provider
from ._rules import ChatRequest, build_chat_request, is_forced_tool_choice
from ._schema import normalize_schema
from ._secrets import key_from_ref, key_ref
from ._sse import SSEDecoder
from ._stream import StreamAccumulator, Usage, normalize_completion, usage_of
from ._transport import (
    DEFAULT_TIMEOUT,
    AsyncChatStream,
    AsyncKimiClient,
    ChatResult,
    ChatStream,
    KimiClient,
    RetryPolicy,
)
from ._version import __version__

__all__ = [
    "DEFAULT_TIMEOUT",
    "MODELS",
    "PROVIDERS",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncChatStream",
    "AsyncKimiClient",
    "AuthenticationError",
    "BadRequestError",
    "ChatRequest",
    "ChatResult",
    "ChatStream",
    "ConfigurationError",
    "ContentFilterError",
    "ContextWindowExceededError",
    "InsufficientQuotaError",
    "InternalServerError",
    "KimiClient",
    "KimiError",
    "ModelInfo",
    "NotFoundError",
    "PermissionDeniedError",
    "ProviderProfile",
    "RateLimitError",
    "RetryPolicy",
    "SSEDecoder",
    "StreamAccumulator",
    "StreamError",
    "ToolCallMissingError",
    "UnconfirmedRuleWarning",
    "UnknownModelWarning",
    "Usage",
    "__version__",
    "build_chat_request",
    "get_model_info",
    "get_provider",
    "is_forced_tool_choice",
    "key_from_ref",
    "key_ref",
    "normalize_completion",
    "normalize_schema",
    "resolve_api_key",
    "resolve_provider",
    "usage_of",
]
