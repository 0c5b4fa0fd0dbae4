"""``kimi_core`` errors as LangChain model errors.

Every error raised by a ``kimi_core`` call inside :class:`~langchain_kimi.ChatKimi` is
re-raised as a class that inherits both the ``kimi_core`` error and the matching
``langchain_core.exceptions`` class, so ``except kimi_core.RateLimitError`` and
``except ModelRateLimitError`` (and LangChain's retry and fallback machinery) both work.
The fields are kept: ``message``, ``status_code``, ``code``, ``request_id``,
``provider``, ``body``, ``retryable`` and, for errors raised mid-stream, ``partial``.

::

    kimi_core error              LangChain class                     raised as
    ContextWindowExceededError   ContextOverflowError,
                                 ModelInvalidRequestError            KimiContextOverflowError
    ContentFilterError           ModelInvalidRequestError            KimiContentFilterError
    BadRequestError              ModelInvalidRequestError            KimiInvalidRequestError
    AuthenticationError          ModelAuthenticationError            KimiAuthenticationError
    PermissionDeniedError        ModelPermissionDeniedError          KimiPermissionDeniedError
    InsufficientQuotaError       ModelPermissionDeniedError          KimiInsufficientQuotaError
    NotFoundError                ModelNotFoundError                  KimiNotFoundError
    RateLimitError               ModelRateLimitError                 KimiRateLimitError
    InternalServerError          ModelAPIError                       KimiAPIError
    APIStatusError (other)       ModelAPIError                       KimiStatusError
    APITimeoutError              ModelTimeoutError                   KimiTimeoutError
    APIConnectionError           ModelConnectionError                KimiConnectionError
    StreamError                  ModelAPIError                       KimiStreamError

``InsufficientQuotaError`` (balance or quota exhausted) is not a rate limit: waiting does
not help, so it is a permission error for LangChain (``is_retryable`` is False).
``ConfigurationError`` (bad input, nothing sent) and ``ToolCallMissingError`` are raised
unchanged.
"""

from __future__ import annotations

from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelTimeoutError,
)

import kimi_core as kc

__all__ = [
    "KimiAPIError",
    "KimiAuthenticationError",
    "KimiConnectionError",
    "KimiContentFilterError",
    "KimiContextOverflowError",
    "KimiInsufficientQuotaError",
    "KimiInvalidRequestError",
    "KimiNotFoundError",
    "KimiPermissionDeniedError",
    "KimiRateLimitError",
    "KimiStatusError",
    "KimiStreamError",
    "KimiTimeoutError",
    "to_langchain_error",
]


class KimiContextOverflowError(
    kc.ContextWindowExceededError, ContextOverflowError, ModelInvalidRequestError
):
    """The prompt plus the requested output does not fit the model's context window."""


class KimiContentFilterError(kc.ContentFilterError, ModelInvalidRequestError):
    """The provider's content filter refused the input or the output."""


class KimiInvalidRequestError(kc.BadRequestError, ModelInvalidRequestError):
    """HTTP 400: the provider rejected the request."""


class KimiAuthenticationError(kc.AuthenticationError, ModelAuthenticationError):
    """HTTP 401: the key is missing, wrong, expired, or for another region."""


class KimiPermissionDeniedError(kc.PermissionDeniedError, ModelPermissionDeniedError):
    """HTTP 403: the key may not use this resource."""


class KimiInsufficientQuotaError(kc.InsufficientQuotaError, ModelPermissionDeniedError):
    """The account's balance or quota is exhausted; retrying cannot help."""


class KimiNotFoundError(kc.NotFoundError, ModelNotFoundError):
    """HTTP 404: unknown model or endpoint."""


class KimiRateLimitError(kc.RateLimitError, ModelRateLimitError):
    """HTTP 429: a rate limit was hit or the engine is overloaded."""


class KimiAPIError(kc.InternalServerError, ModelAPIError):
    """HTTP >= 500 from the provider or a proxy in front of it."""


class KimiStatusError(kc.APIStatusError, ModelAPIError):
    """Any other error status."""


class KimiTimeoutError(kc.APITimeoutError, ModelTimeoutError):
    """Connecting, reading or the whole request took longer than allowed."""


class KimiConnectionError(kc.APIConnectionError, ModelConnectionError):
    """The provider could not be reached, or the connection broke."""


class KimiStreamError(kc.StreamError, ModelAPIError):
    """A stream was malformed, ended early, or carried an error event (``.partial``)."""


# Most specific first: the first class the error is an instance of wins.
_MAPPING: tuple[tuple[type[kc.KimiError], type[kc.KimiError]], ...] = (
    (kc.ContextWindowExceededError, KimiContextOverflowError),
    (kc.ContentFilterError, KimiContentFilterError),
    (kc.BadRequestError, KimiInvalidRequestError),
    (kc.AuthenticationError, KimiAuthenticationError),
    (kc.InsufficientQuotaError, KimiInsufficientQuotaError),
    (kc.PermissionDeniedError, KimiPermissionDeniedError),
    (kc.NotFoundError, KimiNotFoundError),
    (kc.RateLimitError, KimiRateLimitError),
    (kc.InternalServerError, KimiAPIError),
    (kc.APIStatusError, KimiStatusError),
    (kc.APITimeoutError, KimiTimeoutError),
    (kc.APIConnectionError, KimiConnectionError),
    (kc.StreamError, KimiStreamError),
)
_LANGCHAIN = tuple(cls for _, cls in _MAPPING)


def to_langchain_error(err: kc.KimiError) -> kc.KimiError:
    """The LangChain-flavoured twin of ``err`` (``err`` itself when there is none).

    The twin has the same message and fields (``status_code``, ``code``,
    ``request_id``, ``provider``, ``body``, ``retryable``, ``partial``) and the same
    cause.
    """
    if isinstance(err, _LANGCHAIN):
        return err
    for core_cls, lc_cls in _MAPPING:
        if isinstance(err, core_cls):
            twin = lc_cls.__new__(lc_cls)
            twin.__dict__.update(err.__dict__)
            twin.args = err.args
            twin.__cause__ = err.__cause__
            twin.__traceback__ = err.__traceback__
            # LangChain's retry machinery reads is_retryable: agree with kimi_core.
            twin.is_retryable = err.retryable  # type: ignore[attr-defined]
            return twin
    return err
