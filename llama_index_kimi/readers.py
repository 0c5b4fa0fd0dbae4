"""``KimiFileReader``: Kimi's file extraction as a LlamaIndex reader, and
``kimi_document_messages``: Kimi's document Q&A pattern for documents that fit the window.

.. code-block:: python

    from llama_index.core import SimpleDirectoryReader
    from llama_index.readers.kimi import KimiFileReader   # or llama_index_kimi

    reader = KimiFileReader()                            # MOONSHOT_API_KEY
    docs = reader.load_data("report.pdf")
    docs = SimpleDirectoryReader(
        "reports/", file_extractor={".pdf": reader, ".docx": reader, ".pptx": reader}
    ).load_data()

The extraction (checks before upload, ``purpose=file-extract``, Kimi's JSON, deleting the
upload, retries, the cache) is ``kimi_core.extract_texts``; this module maps its results to
LlamaIndex ``Document`` objects.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import PurePath
from typing import Any

import httpx
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.readers.base import BasePydanticReader
from llama_index.core.schema import Document
from pydantic import Field, PrivateAttr, SecretStr, field_serializer

import kimi_core as kc
from kimi_core import _adapter as ka

__all__ = [
    "KimiDocumentMessages",
    "KimiFileReader",
    "akimi_document_messages",
    "kimi_document_messages",
]


#: Metadata that says where a text came from, not what it says.
_BOOKKEEPING = ("source", "file_id", "length", "file_type", "file_path", "file_size")


class KimiFileReader(BasePydanticReader):
    """Read files through Kimi's extraction: one ``Document`` per file.

    Kimi's platform extracts the text of pdf, doc(x), xls(x), ppt(x), epub, html, json,
    csv, md, txt, source files and images (OCR). Each file is uploaded with
    ``purpose=file-extract``, its text read and the upload deleted (``keep_files=True``
    keeps it and puts its id in ``metadata["file_id"]``). Files are checked before
    anything is sent (exists, not empty, at most 100 MB; an undocumented extension warns).
    Extraction is free; the text is billed as input tokens when sent to a model. Kimi has
    no embeddings endpoint: index the documents with any embedding model.

    ``load_data(file, extra_info=None)`` takes a path, ``(filename, bytes)``, a binary file
    object, or a list of them; ``extra_info`` is merged into every document's metadata
    (its keys win), which is how ``SimpleDirectoryReader(file_extractor={".pdf":
    KimiFileReader()})`` passes ``file_path``, ``file_name`` and the rest. ``aload_data``
    is native async.

    Metadata: ``source``, ``filename``, ``file_type`` (Kimi's MIME type), ``title``,
    ``length`` (characters extracted), ``file_id`` (when kept).
    """

    is_remote: bool = Field(default=True, description="Files are read by Kimi's platform.")
    api_key: SecretStr | None = Field(
        default=None,
        description="API key. Default: MOONSHOT_API_KEY (the provider's), else KIMI_API_KEY.",
    )
    api_base: str | None = Field(default=None, description="Base URL of the platform's API.")
    provider: str | None = Field(
        default=None,
        description="moonshot or moonshot-cn (file extraction is a Moonshot platform endpoint).",
    )
    timeout: float | None = Field(default=None, gt=0, description="Timeout of each attempt (s).")
    total_timeout: float | None = Field(
        default=None, gt=0, description="Deadline of each call, retries included (s)."
    )
    max_retries: int = Field(default=2, ge=0, description="Retries of 408/409/429/5xx.")
    default_headers: dict[str, str] | None = Field(
        default=None, description="Headers added to every request."
    )
    keep_files: bool = Field(
        default=False, description="Keep the uploads (ids in metadata['file_id'])."
    )
    cache_dir: str | None = Field(
        default=None,
        description="A directory for an on-disk cache of extracted texts (opt-in).",
    )
    max_concurrency: int = Field(default=4, ge=1, description="Files extracted at a time.")

    _http_client: httpx.Client | None = PrivateAttr(default=None)
    _async_http_client: httpx.AsyncClient | None = PrivateAttr(default=None)

    def __init__(
        self,
        *,
        api_key: str | SecretStr | None = None,
        api_base: str | None = None,
        provider: str | None = None,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
        **kwargs: Any,
    ) -> None:
        if isinstance(api_key, str):
            api_key = SecretStr(api_key)
        # Configuration errors (an unknown provider, a bad URL) now, not at load time.
        provider = ka.extraction_provider(provider, api_base)
        headers = kwargs.get("default_headers")
        if headers:
            kwargs["default_headers"] = ka.unmasked_headers(headers)
        kwargs.update(api_key=api_key, api_base=api_base, provider=provider)
        super().__init__(**kwargs)
        self._http_client = http_client
        self._async_http_client = async_http_client

    @classmethod
    def class_name(cls) -> str:
        return "KimiFileReader"

    @field_serializer("default_headers")
    def _serialize_headers(self, headers: dict[str, str] | None) -> dict[str, str] | None:
        return ka.redact_headers(headers)

    @field_serializer("api_key")
    def _serialize_key(self, key: SecretStr | None) -> None:
        # Never in a dump (to_dict, to_json): a reader rebuilt from one reads the key from
        # the environment.
        return None

    def __repr_args__(self) -> Any:
        return ka.redacted_repr_args(super().__repr_args__())

    def __getstate__(self) -> dict[Any, Any]:
        """A pickle holds a reference to the key, never the key (``kimi_core._secrets``)."""
        return ka.state_without_key(
            super().__getstate__(), private=("_http_client", "_async_http_client")
        )

    def __setstate__(self, state: dict[Any, Any]) -> None:
        super().__setstate__(ka.state_with_key(state, wrap=SecretStr))

    def _client_kwargs(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "api_key": self.api_key,
            "base_url": self.api_base,
            "timeout": self.timeout,
            "total_timeout": self.total_timeout,
            "max_retries": self.max_retries,
            "default_headers": self.default_headers,
        }

    def _extraction(self) -> dict[str, Any]:
        """The options of ``kimi_core.extract_texts`` (and async) but the files and client:
        every file gets its result or its error (the first error is raised once all are
        done)."""
        return {
            "keep": self.keep_files,
            "cache": self.cache_dir,
            "max_concurrency": self.max_concurrency,
            "return_exceptions": True,
        }

    def _files(self, file: Any, fs: Any) -> list[Any]:
        items = (
            list(file)
            if isinstance(file, Iterable)
            and not isinstance(file, (str, bytes, tuple, os.PathLike))
            and not hasattr(file, "read")
            else [file]
        )
        if fs is None:
            return items
        # An fsspec file system (SimpleDirectoryReader's fs=): read the bytes through it.
        out: list[Any] = []
        for item in items:
            if isinstance(item, (str, os.PathLike)):
                with fs.open(str(item), "rb") as handle:
                    out.append((PurePath(str(item)).name, handle.read()))
            else:
                out.append(item)
        return out

    def _documents(
        self, results: Sequence[kc.ExtractedFile | kc.KimiError], extra_info: dict[str, Any] | None
    ) -> list[Document]:
        docs: list[Document] = []
        for result in results:
            if isinstance(result, kc.KimiError):
                raise result
            metadata = {**result.metadata(), **(extra_info or {})}
            docs.append(
                Document(
                    text=result.content,
                    metadata=metadata,
                    # Bookkeeping stays out of what is embedded and what the LLM reads.
                    excluded_embed_metadata_keys=[k for k in _BOOKKEEPING if k in metadata],
                    excluded_llm_metadata_keys=[k for k in _BOOKKEEPING if k in metadata],
                )
            )
        return docs

    def load_data(
        self, file: Any, extra_info: dict[str, Any] | None = None, fs: Any = None
    ) -> list[Document]:
        """One ``Document`` per file (``file``: a path, ``(filename, bytes)``, a binary
        file object, or a list of them); the first failure is raised once all are done."""
        client = kc.KimiClient(**self._client_kwargs(), http_client=self._http_client)
        results = kc.extract_texts(self._files(file, fs), client=client, **self._extraction())
        return self._documents(results, extra_info)

    async def aload_data(
        self, file: Any, extra_info: dict[str, Any] | None = None, fs: Any = None
    ) -> list[Document]:
        """The async ``load_data`` (native async HTTP)."""
        client = kc.AsyncKimiClient(**self._client_kwargs(), http_client=self._async_http_client)
        results = await kc.aextract_texts(
            self._files(file, fs), client=client, **self._extraction()
        )
        return self._documents(results, extra_info)


# --------------------------------------------------------------------------- document Q&A


class KimiDocumentMessages(list[ChatMessage]):
    """The messages of a document question, with their token estimate."""

    tokens: int
    estimated_by: str
    context_window: int


def _texts(documents: Sequence[Any]) -> list[str]:
    return [d if isinstance(d, str) else d.get_content() for d in documents]


def _as_messages(prompt: kc.DocumentPrompt) -> KimiDocumentMessages:
    out = KimiDocumentMessages()
    for message in prompt.messages:
        role = MessageRole.SYSTEM if message["role"] == "system" else MessageRole.USER
        out.append(ChatMessage(role=role, content=message["content"]))
    out.tokens, out.estimated_by = prompt.tokens, prompt.estimated_by
    out.context_window = prompt.context_window
    return out


def kimi_document_messages(
    documents: Sequence[Any],
    *,
    llm: Any,
    question: str | None = None,
    reserve_tokens: int = 8192,
) -> KimiDocumentMessages:
    """Moonshot's document Q&A pattern: one system ``ChatMessage`` per document's **text**
    (not a file id), then the ``question`` as a user message when given, for ``llm`` (a
    ``Kimi``) to answer with ``llm.chat(messages)``.

    The model's window (from the catalogue) is checked with the platform's token estimate
    on Moonshot (a local, high estimate on gateways) and ``reserve_tokens`` kept for the
    answer: documents that do not fit raise ``kimi_core.DocumentsTooLargeError``; split
    them and use a ``VectorStoreIndex`` instead. The list carries the estimate:
    ``tokens``, ``estimated_by``, ``context_window``.
    """
    client = llm._get_client()
    prompt = kc.document_prompt(
        _texts(documents),
        model=llm.model,
        question=question,
        client=client if client.profile.has_platform_endpoints else None,
        reserve_tokens=reserve_tokens,
    )
    return _as_messages(prompt)


async def akimi_document_messages(
    documents: Sequence[Any],
    *,
    llm: Any,
    question: str | None = None,
    reserve_tokens: int = 8192,
) -> KimiDocumentMessages:
    """The async :func:`kimi_document_messages`."""
    client = llm._get_aclient()
    prompt = await kc.adocument_prompt(
        _texts(documents),
        model=llm.model,
        question=question,
        client=client if client.profile.has_platform_endpoints else None,
        reserve_tokens=reserve_tokens,
    )
    return _as_messages(prompt)
