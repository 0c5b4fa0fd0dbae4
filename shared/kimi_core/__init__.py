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
- documents (Kimi's file extraction, ``kimi_core._extraction``): ``extract_text``,
  ``aextract_text``, ``extract_texts``, ``aextract_texts``, ``ExtractedFile``,
  ``ExtractionCache``, ``FileExtractionError``, ``UnknownFileTypeWarning``; the document Q&A
  pattern (``kimi_core._docprompt``): ``document_prompt``, ``adocument_prompt``,
  ``DocumentPrompt``, ``DocumentsTooLargeError``;
- the Batch API (``client.batches``): ``Batch``, ``BatchJob``, ``BatchResult``,
  ``BatchRequestCounts``, ``BatchError``, ``Batches``, ``AsyncBatches``;
- ``__version__``.

What only the two adapters need (request shaping, key and header masking, conversion
helpers) is in the private module ``kimi_core._adapter``.
"""

from ._batch import (
    AsyncBatches,
    Batch,
    BatchError,
    Batches,
    BatchJob,
    BatchRequestCounts,
    BatchResult,
)
from ._cut import ReasoningCutError, ReasoningCutWarning
from ._docprompt import DocumentPrompt, DocumentsTooLargeError, adocument_prompt, document_prompt
from ._documents import ExtractedFile, FileExtractionError, UnknownFileTypeWarning
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
from ._extraction import aextract_text, aextract_texts, extract_text, extract_texts
from ._extraction_cache import ExtractionCache
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
    "AsyncBatches",
    "AsyncChatStream",
    "AsyncKimiClient",
    "AuthenticationError",
    "BadRequestError",
    "Batch",
    "BatchError",
    "BatchJob",
    "BatchRequestCounts",
    "BatchResult",
    "Batches",
    "ChatRequest",
    "ChatResult",
    "ChatStream",
    "ConfigurationError",
    "ContentFilterError",
    "ContextWindowExceededError",
    "DocumentPrompt",
    "DocumentsTooLargeError",
    "ExtractedFile",
    "ExtractionCache",
    "FileExtractionError",
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
    "UnknownFileTypeWarning",
    "UnknownModelWarning",
    "Usage",
    "__version__",
    "adocument_prompt",
    "aextract_text",
    "aextract_texts",
    "check_structured_method",
    "document_prompt",
    "extract_text",
    "extract_texts",
    "gateway_metadata",
    "get_model_info",
    "get_provider",
    "normalize_schema",
    "plan_thinking",
    "resolve_provider",
    "structured_output_method",
]
