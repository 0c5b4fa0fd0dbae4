"""Kimi's document Q&A pattern: extracted texts as system messages, checked against the window.

Moonshot's guide (platform.kimi.ai/docs/guide/use-kimi-api-for-file-based-qa) puts the
extracted **text** of each file, not its file id, in a ``system`` message of its own before
the question. That works while the documents fit the model's context window; past it, split
them and use retrieval. :func:`document_prompt` builds the messages, estimates their tokens
(the platform's ``POST /v1/tokenizers/estimate-token-count`` on Moonshot; elsewhere a local,
deliberately high estimate) and raises :class:`DocumentsTooLargeError` when they do not fit
the window (from the model catalogue) with ``reserve_tokens`` left for the answer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ._documents import ExtractedFile
from ._errors import ConfigurationError, ContextWindowExceededError
from ._models import get_model_info
from ._transport import AsyncKimiClient, KimiClient

__all__ = [
    "DEFAULT_RESERVE_TOKENS",
    "DocumentPrompt",
    "DocumentsTooLargeError",
    "adocument_prompt",
    "document_prompt",
    "local_token_estimate",
]

#: Tokens kept free for the answer when checking that documents fit.
DEFAULT_RESERVE_TOKENS = 8192
#: Per message overhead of the local estimate (role and separators).
_PER_MESSAGE = 4


class DocumentsTooLargeError(ContextWindowExceededError):
    """The documents (with the question and the room kept for the answer) do not fit the
    model's context window: split them and use retrieval instead. Raised before sending;
    ``tokens``, ``context_window``, ``reserve_tokens`` and ``model`` say by how much."""

    tokens: int = 0
    context_window: int = 0
    reserve_tokens: int = 0
    model: str = ""


@dataclass(frozen=True)
class DocumentPrompt:
    """The messages of a document question, and what they cost."""

    #: One ``{"role": "system", "content": text}`` per document, then the question as a
    #: ``user`` message when one was given.
    messages: list[dict[str, Any]]
    #: Estimated input tokens of ``messages``.
    tokens: int
    #: ``"platform"`` (Moonshot's estimate endpoint) or ``"local"``.
    estimated_by: str
    model: str
    context_window: int
    reserve_tokens: int

    @property
    def tokens_left(self) -> int:
        """Tokens of the window the messages leave (the answer's room included)."""
        return self.context_window - self.tokens


def local_token_estimate(messages: Sequence[dict[str, Any]]) -> int:
    """A deliberately high token estimate when no tokenizer endpoint is at hand: one token
    per three UTF-8 bytes (English runs near four characters a token, Chinese near one and
    a half, three bytes each), plus a few per message."""
    total = 0
    for message in messages:
        content = message.get("content")
        text = content if isinstance(content, str) else str(content or "")
        total += math.ceil(len(text.encode("utf-8")) / 3) + _PER_MESSAGE
    return total


def _texts(documents: Sequence[ExtractedFile | str]) -> list[str]:
    texts: list[str] = []
    for i, doc in enumerate(documents):
        text = doc.content if isinstance(doc, ExtractedFile) else doc
        if not isinstance(text, str):
            raise ConfigurationError(
                f"documents[{i}]={doc!r:.80} is not accepted: an ExtractedFile or a text",
                param="documents",
            )
        if text.strip():  # Kimi rejects empty content; an empty document adds nothing
            texts.append(text)
    if not texts:
        raise ConfigurationError(
            "documents=[] is not accepted: give at least one document with text",
            param="documents",
        )
    return texts


def _messages(
    documents: Sequence[ExtractedFile | str], question: str | None
) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "system", "content": t} for t in _texts(documents)]
    if question:
        messages.append({"role": "user", "content": question})
    return messages


def _checked(
    messages: list[dict[str, Any]],
    tokens: int,
    estimated_by: str,
    model: str,
    reserve_tokens: int,
    provider: str | None,
) -> DocumentPrompt:
    if (
        isinstance(reserve_tokens, bool)
        or not isinstance(reserve_tokens, int)
        or reserve_tokens < 0
    ):
        raise ConfigurationError(
            f"reserve_tokens={reserve_tokens!r} is not accepted: a non-negative integer",
            param="reserve_tokens",
        )
    window = get_model_info(model).context_window
    if tokens + reserve_tokens > window:
        err = DocumentsTooLargeError(
            f"the documents take about {tokens:,} tokens (estimated by the {estimated_by}) and "
            f"model {model!r} has a context window of {window:,} tokens, {reserve_tokens:,} of "
            f"them kept for the answer: they do not fit; split them into chunks and use "
            f"retrieval (a vector index over the chunks), or fewer documents",
            provider=provider,
        )
        err.tokens, err.context_window = tokens, window
        err.reserve_tokens, err.model = reserve_tokens, model
        raise err
    return DocumentPrompt(messages, tokens, estimated_by, model, window, reserve_tokens)


def document_prompt(
    documents: Sequence[ExtractedFile | str],
    *,
    model: str,
    question: str | None = None,
    client: KimiClient | None = None,
    reserve_tokens: int = DEFAULT_RESERVE_TOKENS,
) -> DocumentPrompt:
    """The system messages of Moonshot's document Q&A pattern for ``documents`` (then the
    ``question``), with their token estimate; :class:`DocumentsTooLargeError` when they do
    not fit ``model``'s window. With a Moonshot ``client`` the platform estimates the
    tokens; without one (or on a gateway) the local estimate is used."""
    messages = _messages(documents, question)
    if client is not None and client.profile.has_platform_endpoints:
        tokens = client.estimate_token_count(model, messages)
        by = "platform"
    else:
        tokens, by = local_token_estimate(messages), "local"
    provider = client.profile.name if client is not None else None
    return _checked(messages, tokens, by, model, reserve_tokens, provider)


async def adocument_prompt(
    documents: Sequence[ExtractedFile | str],
    *,
    model: str,
    question: str | None = None,
    client: AsyncKimiClient | None = None,
    reserve_tokens: int = DEFAULT_RESERVE_TOKENS,
) -> DocumentPrompt:
    """The async :func:`document_prompt`."""
    messages = _messages(documents, question)
    if client is not None and client.profile.has_platform_endpoints:
        tokens = await client.estimate_token_count(model, messages)
        by = "platform"
    else:
        tokens, by = local_token_estimate(messages), "local"
    provider = client.profile.name if client is not None else None
    return _checked(messages, tokens, by, model, reserve_tokens, provider)
