"""``KimiFileLoader``: Kimi's file extraction as a LangChain document loader, and
``kimi_document_messages``: Kimi's document Q&A pattern for documents that fit the window.

.. code-block:: python

    from langchain_kimi import ChatKimi, KimiFileLoader

    docs = KimiFileLoader("reports/", glob="**/*.pdf").load()   # one Document per file
    # then any splitter, embedding model and vector store (Kimi has no embeddings endpoint)

The extraction itself (checks before upload, upload with ``purpose=file-extract``, reading
Kimi's JSON, deleting the upload, retries, the cache) is ``kimi_core.extract_texts``; this
module only maps its results to ``Document`` objects and its errors to LangChain's.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from langchain_core.document_loaders import BaseLoader
from langchain_core.documents import Document
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import SecretStr

import kimi_core as kc
from kimi_core import _adapter as ka

from ._errors import to_langchain_error
from .chat_models import ChatKimi

__all__ = [
    "KimiDocumentMessages",
    "KimiFileLoader",
    "akimi_document_messages",
    "kimi_document_messages",
]


def _error(err: kc.KimiError) -> kc.KimiError:
    # An extraction failure keeps its own type (it names the file); the rest get the
    # LangChain-flavoured twin (KimiAuthenticationError is a ModelAuthenticationError...).
    return err if isinstance(err, kc.FileExtractionError) else to_langchain_error(err)


def _document(result: kc.ExtractedFile) -> Document:
    return Document(page_content=result.content, metadata=result.metadata())


class KimiFileLoader(BaseLoader):
    """Load files through Kimi's extraction: one ``Document`` per file.

    Kimi's platform extracts the text of pdf, doc(x), xls(x), ppt(x), epub, html, json,
    csv, md, txt, source files and images (OCR); each file is uploaded with
    ``purpose=file-extract``, its text read, and the upload deleted (``keep_files=True``
    keeps it and puts its id in the metadata). Files are checked before anything is sent
    (exists, not empty, at most 100 MB; an undocumented extension warns). Extraction is
    free; the text is billed as input tokens when sent to a model.

    Setup:
        Install ``kimi-integrations[langchain]`` and set ``MOONSHOT_API_KEY`` (file
        extraction is a Moonshot platform endpoint: ``provider="moonshot"`` or
        ``"moonshot-cn"``).

    Instantiate:
        .. code-block:: python

            from langchain_kimi import KimiFileLoader

            loader = KimiFileLoader(["report.pdf", "slides.pptx"])
            loader = KimiFileLoader("docs/", glob="**/*.md")       # a directory
            loader = KimiFileLoader([("notes.txt", b"...")])        # bytes or file objects
            loader = KimiFileLoader("docs/", cache="~/.cache/kimi-extract")  # no re-uploads

    Load:
        .. code-block:: python

            docs = loader.load()            # or lazy_load(), alazy_load(), aload()
            docs[0].metadata
            # {"source": "report.pdf", "filename": "report.pdf",
            #  "file_type": "application/pdf", "title": "", "length": 48213}

    Args:
        file_path: a path, a directory, bytes-with-name ``(filename, data)``, a binary
            file object, or a list of them.
        glob: the files of a directory to load (default ``"**/*"``: every file below it).
        api_key, base_url, provider, timeout, total_timeout, max_retries, default_headers,
            http_client, http_async_client: the connection settings of ``ChatKimi``.
        keep_files: keep the uploads (their ids in ``metadata["file_id"]``).
        cache: a ``kimi_core.ExtractionCache`` or a directory for one (opt-in).
        max_concurrency: files extracted at a time (default 4).
        on_error: ``"raise"`` (default: the first failure, after the files in flight are
            done and cleaned up) or ``"skip"`` (a failed file yields no document; its error
            is kept in ``errors``).
        on_progress: ``on_progress(done, total, source)`` after each file (the
            ``kimi_core`` logger also reports each file at INFO level).
    """

    def __init__(
        self,
        file_path: Any,
        *,
        glob: str = "**/*",
        api_key: str | SecretStr | None = None,
        base_url: str | None = None,
        provider: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        total_timeout: float | None = None,
        max_retries: int = 2,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
        http_async_client: httpx.AsyncClient | None = None,
        keep_files: bool = False,
        cache: kc.ExtractionCache | str | os.PathLike[str] | None = None,
        max_concurrency: int = 4,
        on_error: str = "raise",
        on_progress: Callable[[int, int, str], None] | None = None,
    ) -> None:
        if on_error not in ("raise", "skip"):
            raise kc.ConfigurationError(
                f"on_error={on_error!r} is not accepted: 'raise' or 'skip'", param="on_error"
            )
        if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int):
            max_concurrency = 0  # refused just below, with the value named
        if max_concurrency < 1:
            raise kc.ConfigurationError(
                f"max_concurrency={max_concurrency!r} is not accepted: a positive integer",
                param="max_concurrency",
            )
        self.files = _files(file_path, glob)
        self.glob = glob
        self.keep_files = keep_files
        self.cache = cache
        self.max_concurrency = max_concurrency
        self.on_error = on_error
        self.on_progress = on_progress
        #: The errors of the files skipped by the last load (``on_error="skip"``).
        self.errors: list[kc.KimiError] = []
        self._api_key = SecretStr(api_key) if isinstance(api_key, str) else api_key
        # Configuration errors (an unknown provider, a bad URL) now, not at load time.
        self._settings: dict[str, Any] = {
            "base_url": base_url,
            "provider": ka.extraction_provider(provider, base_url),
            "timeout": timeout,
            "total_timeout": total_timeout,
            "max_retries": max_retries,
            "default_headers": default_headers,
        }
        self._http_client = http_client
        self._http_async_client = http_async_client

    def __repr__(self) -> str:
        return (
            f"KimiFileLoader(files={len(self.files)}, provider={self._settings['provider']!r}, "
            f"base_url={self._settings['base_url']!r}, api_key=**********)"
        )

    def __getstate__(self) -> dict[str, Any]:
        """A pickle holds a reference to the key, never the key (``kimi_core._secrets``),
        and no HTTP client."""
        state = dict(self.__dict__)
        key = self._api_key.get_secret_value() if self._api_key is not None else None
        state["_api_key"] = ka.key_ref(key)
        state["_settings"] = {
            **self._settings,
            "default_headers": ka.headers_by_ref(self._settings["default_headers"]),
        }
        state["_http_client"] = state["_http_async_client"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        key = ka.key_from_ref(state.get("_api_key"))
        settings = state["_settings"]
        state = {
            **state,
            "_api_key": SecretStr(key) if key is not None else None,
            "_settings": {
                **settings,
                "default_headers": ka.headers_from_ref(settings["default_headers"]),
            },
        }
        self.__dict__.update(state)

    def _client(self) -> kc.KimiClient:
        return kc.KimiClient(api_key=self._api_key, http_client=self._http_client, **self._settings)

    def _aclient(self) -> kc.AsyncKimiClient:
        return kc.AsyncKimiClient(
            api_key=self._api_key, http_client=self._http_async_client, **self._settings
        )

    def _batches(self) -> Iterator[tuple[list[Any], Callable[[int, int, str], None] | None]]:
        # Lazy by batches: a few files in flight at a time, their documents yielded in order.
        size, total, report = self.max_concurrency, len(self.files), self.on_progress
        for start in range(0, total, size):
            progress = None
            if report is not None:

                def progress(done: int, _: int, source: str, start: int = start) -> None:
                    report(start + done, total, source)

            yield self.files[start : start + size], progress

    def _documents(self, results: Sequence[kc.ExtractedFile | kc.KimiError]) -> Iterator[Document]:
        for result in results:
            if isinstance(result, kc.ExtractedFile):
                yield _document(result)
            elif self.on_error == "skip":
                self.errors.append(result)
            else:
                raise _error(result)

    def lazy_load(self) -> Iterator[Document]:
        """One ``Document`` per file, in order, ``max_concurrency`` files at a time."""
        self.errors = []
        client = self._client()
        for batch, progress in self._batches():
            results = kc.extract_texts(
                batch,
                client=client,
                keep=self.keep_files,
                cache=self.cache,
                max_concurrency=self.max_concurrency,
                return_exceptions=True,
                on_progress=progress,
            )
            yield from self._documents(results)

    async def alazy_load(self) -> AsyncIterator[Document]:
        """The async ``lazy_load`` (native async HTTP, no thread per file)."""
        self.errors = []
        client = self._aclient()
        for batch, progress in self._batches():
            results = await kc.aextract_texts(
                batch,
                client=client,
                keep=self.keep_files,
                cache=self.cache,
                max_concurrency=self.max_concurrency,
                return_exceptions=True,
                on_progress=progress,
            )
            for document in self._documents(results):
                yield document


def _files(file_path: Any, glob: str) -> list[Any]:
    """The files to load: a directory expands to its files matching ``glob`` (sorted)."""
    items: Iterable[Any]
    if isinstance(file_path, (str, os.PathLike, bytes, tuple)) or hasattr(file_path, "read"):
        items = [file_path]
    elif isinstance(file_path, Iterable):
        items = list(file_path)
    else:
        raise kc.ConfigurationError(
            f"file_path={file_path!r:.80} is not accepted: a path, a directory, a file object, "
            "(filename, bytes), or a list of them",
            param="file_path",
        )
    files: list[Any] = []
    for item in items:
        if isinstance(item, (str, os.PathLike)) and Path(item).is_dir():
            found = sorted(p for p in Path(item).glob(glob) if p.is_file())
            if not found:
                raise kc.ConfigurationError(
                    f"file_path={str(item)!r} has no files matching glob={glob!r}",
                    param="glob",
                )
            files.extend(found)
        else:
            files.append(item)
    return files


# --------------------------------------------------------------------------- document Q&A


def _texts(documents: Sequence[Document | str]) -> list[str]:
    return [d.page_content if isinstance(d, Document) else d for d in documents]


def _ask(
    documents: Sequence[Document | str], model: ChatKimi, question: str | None, reserve: int
) -> dict[str, Any]:
    """The arguments of ``kimi_core.document_prompt`` but the client."""
    return {
        "documents": _texts(documents),
        "model": model.model_name,
        "question": question,
        "reserve_tokens": reserve,
    }


@contextmanager
def _langchain_errors() -> Iterator[None]:
    try:
        yield
    except kc.KimiError as err:
        raise _error(err) from err


class KimiDocumentMessages(list[BaseMessage]):
    """The messages of a document question, with their token estimate."""

    tokens: int
    estimated_by: str
    context_window: int


def _as_messages(prompt: kc.DocumentPrompt) -> KimiDocumentMessages:
    out = KimiDocumentMessages()
    for message in prompt.messages:
        if message["role"] == "system":
            out.append(SystemMessage(content=message["content"]))
        else:
            out.append(HumanMessage(content=message["content"]))
    out.tokens, out.estimated_by = prompt.tokens, prompt.estimated_by
    out.context_window = prompt.context_window
    return out


def kimi_document_messages(
    documents: Sequence[Document | str],
    *,
    model: ChatKimi,
    question: str | None = None,
    reserve_tokens: int = 8192,
) -> KimiDocumentMessages:
    """Moonshot's document Q&A pattern: one ``SystemMessage`` per document's **text** (not
    a file id), then the ``question`` as a ``HumanMessage`` when given.

    ``model`` is the ``ChatKimi`` that will answer: its window (from the model catalogue)
    is checked, with the platform's token estimate on Moonshot (a local, high estimate on
    gateways) and ``reserve_tokens`` kept for the answer. Documents that do not fit raise
    ``KimiContextOverflowError`` (LangChain's ``ContextOverflowError``, with the fields of
    ``kimi_core.DocumentsTooLargeError``: ``tokens``, ``context_window``...): split them and
    use a retriever instead.

    Returns a list of messages (pass it to ``invoke``) that also carries the estimate:
    ``tokens``, ``estimated_by`` (``"platform"`` or ``"local"``) and ``context_window``.
    """
    client = model._get_client() if model._profile.has_platform_endpoints else None
    with _langchain_errors():
        prompt = kc.document_prompt(
            client=client, **_ask(documents, model, question, reserve_tokens)
        )
    return _as_messages(prompt)


async def akimi_document_messages(
    documents: Sequence[Document | str],
    *,
    model: ChatKimi,
    question: str | None = None,
    reserve_tokens: int = 8192,
) -> KimiDocumentMessages:
    """The async :func:`kimi_document_messages`."""
    client = model._get_aclient() if model._profile.has_platform_endpoints else None
    with _langchain_errors():
        prompt = await kc.adocument_prompt(
            client=client, **_ask(documents, model, question, reserve_tokens)
        )
    return _as_messages(prompt)
