"""kimi_core: the framework-free core of kimi-integrations.

Transport (httpx, retries, SSE), provider profiles, the model catalogue, request
rules, schema normalisation, stream assembly and the typed errors, shared by
``langchain_kimi`` and ``llama_index_kimi``. It imports no framework.
"""

from ._context import unknown_parameter
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
    ToolArgumentsError,
    ToolCallMissingError,
)
from ._media import sniff_media_type
from ._models import (
    MODELS,
    ModelInfo,
    RetiredModelWarning,
    Retirement,
    UnconfirmedRuleWarning,
    UnknownModelWarning,
    get_model_info,
    warn_if_retired,
)
from ._providers import PROVIDERS, ProviderProfile, get_provider, resolve_api_key, resolve_provider
from ._rules import REQUEST_PARAMS, ChatRequest, build_chat_request, is_forced_tool_choice
from ._schema import normalize_schema
from ._secrets import (
    MASK,
    headers_by_ref,
    headers_from_ref,
    key_from_ref,
    key_ref,
    redact_headers,
    state_with_key,
    state_without_key,
)
from ._sse import SSEDecoder
from ._stream import (
    StreamAccumulator,
    Usage,
    first_usable_choice,
    normalize_completion,
    usage_of,
)
from ._structured import (
    StructuredMethod,
    check_structured_method,
    json_mode_instruction,
    structured_output_method,
)
from ._thinking import ThinkingPlan, plan_thinking
from ._transport import (
    DEFAULT_MAX_BODY,
    DEFAULT_MAX_ERROR,
    DEFAULT_MAX_EVENT,
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
    "DEFAULT_MAX_BODY",
    "DEFAULT_MAX_ERROR",
    "DEFAULT_MAX_EVENT",
    "DEFAULT_TIMEOUT",
    "MASK",
    "MODELS",
    "PROVIDERS",
    "REQUEST_PARAMS",
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
    "RetiredModelWarning",
    "Retirement",
    "RetryPolicy",
    "SSEDecoder",
    "StreamAccumulator",
    "StreamError",
    "StructuredMethod",
    "ThinkingPlan",
    "ToolArgumentsError",
    "ToolCallMissingError",
    "UnconfirmedRuleWarning",
    "UnknownModelWarning",
    "Usage",
    "__version__",
    "build_chat_request",
    "check_structured_method",
    "first_usable_choice",
    "get_model_info",
    "get_provider",
    "headers_by_ref",
    "headers_from_ref",
    "is_forced_tool_choice",
    "json_mode_instruction",
    "key_from_ref",
    "key_ref",
    "normalize_completion",
    "normalize_schema",
    "plan_thinking",
    "redact_headers",
    "resolve_api_key",
    "resolve_provider",
    "sniff_media_type",
    "state_with_key",
    "state_without_key",
    "structured_output_method",
    "unknown_parameter",
    "usage_of",
    "warn_if_retired",
]
