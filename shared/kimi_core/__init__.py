"""kimi_core: the framework-free core of kimi-integrations.

Transport (httpx, retries, SSE), provider profiles, the model catalogue, request
rules, schema normalisation, stream assembly and the typed errors, shared by
``langchain_kimi`` and ``llama_index_kimi``. It imports no framework.

The public names, what a user calls:

- clients: ``KimiClient``, ``AsyncKimiClient`` (``prepare``, ``chat``, ``stream``, the
  platform endpoints); what they return: ``ChatRequest``, ``ChatResult``, ``ChatStream``,
  ``AsyncChatStream``, ``StreamAccumulator``, ``Usage``; their settings: ``RetryPolicy``,
  ``DEFAULT_TIMEOUT``, ``DEFAULT_MAX_BODY``, ``DEFAULT_MAX_ERROR``, ``DEFAULT_MAX_EVENT``;
- errors (the tree is drawn in ``kimi_core._errors``): ``KimiError``,
  ``ConfigurationError``, ``ToolCallMissingError``, ``ToolArgumentsError``,
  ``APIConnectionError``, ``APITimeoutError``, ``StreamError``, ``APIStatusError``,
  ``BadRequestError``, ``ContextWindowExceededError``, ``ContentFilterError``,
  ``AuthenticationError``, ``PermissionDeniedError``, ``InsufficientQuotaError``,
  ``NotFoundError``, ``RateLimitError``, ``InternalServerError``; an answer cut while the
  model was still reasoning: ``ReasoningCutError``, ``ReasoningCutWarning``;
- providers: ``PROVIDERS``, ``ProviderProfile``, ``get_provider``, ``resolve_provider``,
  ``ProviderAssumedWarning``; gateways: ``gateway_metadata``;
- models: ``MODELS``, ``ModelInfo``, ``FixedTemperature``, ``Retirement``,
  ``get_model_info``, ``RetiredModelWarning``, ``UnknownModelWarning``,
  ``UnconfirmedRuleWarning``;
- the thinking plan: ``ThinkingPlan``, ``plan_thinking``;
- structured output: ``StructuredMethod``, ``structured_output_method``,
  ``check_structured_method``;
- schemas: ``normalize_schema``;
- ``__version__``.

What only the two adapters need (request shaping, key and header masking, conversion
helpers) is in the private module ``kimi_core._adapter``.
"""

from ._cut import ReasoningCutError, ReasoningCutWarning
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
from ._gateway import gateway_metadata
from ._models import (
    MODELS,
    FixedTemperature,
    ModelInfo,
    RetiredModelWarning,
    Retirement,
    UnconfirmedRuleWarning,
    UnknownModelWarning,
    get_model_info,
)
from ._providers import (
    PROVIDERS,
    ProviderAssumedWarning,
    ProviderProfile,
    get_provider,
    resolve_provider,
)
from ._rules import ChatRequest
from ._schema import normalize_schema
from ._stream import StreamAccumulator, Usage
from ._structured import StructuredMethod, check_structured_method, structured_output_method
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
    "FixedTemperature",
    "InsufficientQuotaError",
    "InternalServerError",
    "KimiClient",
    "KimiError",
    "ModelInfo",
    "NotFoundError",
    "PermissionDeniedError",
    "ProviderAssumedWarning",
    "ProviderProfile",
    "RateLimitError",
    "ReasoningCutError",
    "ReasoningCutWarning",
    "RetiredModelWarning",
    "Retirement",
    "RetryPolicy",
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
    "check_structured_method",
    "gateway_metadata",
    "get_model_info",
    "get_provider",
    "normalize_schema",
    "plan_thinking",
    "resolve_provider",
    "structured_output_method",
]
