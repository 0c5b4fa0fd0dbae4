"""Kimi's file extraction: the text of a document (pdf, docx, xlsx, pptx, images by OCR...).

The platform extracts the text itself (platform.kimi.ai/docs/guide/use-kimi-api-for-file-based-qa,
/docs/api/files): ``POST /v1/files`` with ``purpose=file-extract`` answers a file object
(``{"id", "object": "file", "bytes", "created_at", "filename", "purpose", "status": "ok",
"status_details"}``), and ``GET /v1/files/{id}/content`` answers a JSON text
``{"content", "file_type", "filename", "title", "type": "file"}`` (the shape of a response
printed in a public 2024 script). A file that cannot be read answers ``500 {"error":
{"message": "extract task failed: failed", "type": ""}}``.

:func:`extract_text` / :func:`aextract_text` do the three calls for one file (upload, read,
delete: the platform keeps at most 1,000 files and 10 GB per account, so the upload is deleted
afterwards unless ``keep=True``); :func:`extract_texts` / :func:`aextract_texts` do many with
bounded concurrency, each call with the client's usual retries, and give every input exactly
one result or one error. Before anything is sent a file is checked: it exists, it is not
empty, it is at most 100 MB, and its extension is one the platform documents (an unknown one
warns with :class:`UnknownFileTypeWarning`, it is never refused: the server decides;
``_documents`` has the inputs and their checks).

:class:`ExtractionCache` (opt-in, on disk) keeps the extracted text under a hash of the
content, its extension and the server's base URL, so that running a pipeline again uploads
nothing it already extracted.

Extraction is free for now; the text is billed as input tokens when it is sent to a model.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections.abc import Callable, Generator, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from ._documents import (
    ExtractedFile,
    FileExtractionError,
    FileInput,
    _read_upload,
    _Upload,
    label,
    prepare,
)
from ._errors import ConfigurationError, InternalServerError, KimiError, StreamError
from ._extraction_cache import ExtractionCache, as_cache
from ._transport import AsyncKimiClient, KimiClient

__all__ = ["aextract_text", "aextract_texts", "extract_text", "extract_texts"]

logger = logging.getLogger("kimi_core")

Progress = Callable[[int, int, str], None]

_T = TypeVar("_T")
#: A call of a client's method, made by the driver: with a :class:`KimiClient` it returns
#: the result, with an :class:`AsyncKimiClient` the awaitable of it.
_Call = Callable[[Any], Any]
#: The work on one file, without I/O: it yields the client calls it needs made and gets
#: back their results (or, thrown in, the errors they raised).
_CallFlow = Generator[_Call, Any, _T]


# --------------------------------------------------------------------------- one file


def _unwrap(client: KimiClient | AsyncKimiClient, upload: _Upload, text: str) -> dict[str, Any]:
    """Kimi's content JSON as a dict with a string ``content``."""
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("content"), str):
        shown = text if len(text) <= 200 else text[:197] + "..."
        raise StreamError(
            f"the extracted content of {upload.source!r} is not Kimi's JSON "
            f'({{"content", "file_type", "filename", "title"}}): {shown!r}',
            provider=client.profile.name,
        )
    return body


def _result(upload: _Upload, body: dict[str, Any], file_id: str | None) -> ExtractedFile:
    known = ("content", "file_type", "filename", "title", "type")
    file_type, title = body.get("file_type"), body.get("title")
    return ExtractedFile(
        content=body["content"],
        filename=upload.filename,
        file_type=file_type if isinstance(file_type, str) else "",
        title=title if isinstance(title, str) else "",
        source=upload.source,
        file_id=file_id,
        bytes=len(upload.data),
        sha256=upload.sha256,
        extra={k: v for k, v in body.items() if k not in known},
    )


def _file_id(client: KimiClient | AsyncKimiClient, upload: _Upload, obj: dict[str, Any]) -> str:
    file_id = obj.get("id")
    if not isinstance(file_id, str) or not file_id:
        raise StreamError(
            f"the upload of {upload.source!r} was answered without a file id: {obj!r:.200}",
            provider=client.profile.name,
        )
    return file_id


def _upload_failed(obj: dict[str, Any]) -> str | None:
    """Why an upload's file object says it failed (``status`` other than ``ok``), or None.
    Only ``ok`` is documented; another status with details is treated as a failure."""
    status = obj.get("status")
    if status in (None, "", "ok") or not obj.get("status_details"):
        return None
    return f"the platform marked the upload {status!r}: {obj.get('status_details')}"


def _check_client(client: KimiClient | AsyncKimiClient) -> None:
    if not client.profile.has_platform_endpoints:
        raise ConfigurationError(
            f"file extraction is not supported by {client.profile.name} "
            f"({client.profile.label}); it is a Moonshot platform endpoint "
            "(provider='moonshot' or 'moonshot-cn')",
            param="provider",
            provider=client.profile.name,
        )


def _failure(err: KimiError, upload: _Upload, file_id: str | None) -> KimiError:
    """A server error of the content call is an extraction failure naming the file;
    anything else (auth, quota, connection) stays what it is."""
    if isinstance(err, InternalServerError | StreamError):
        return FileExtractionError.of(
            err, filename=upload.filename, source=upload.source, file_id=file_id
        )
    return err


def _extraction(
    client: KimiClient | AsyncKimiClient,
    upload: _Upload,
    keep: bool,
    cache: ExtractionCache | None,
) -> _CallFlow[ExtractedFile]:
    """One file: the cache, else upload, read and (unless ``keep``) delete the upload,
    whatever happened in between (an error, a cancellation)."""
    if cache is not None:
        hit = cache.get(client.base_url, upload)
        if hit is not None:
            return hit
    obj = yield lambda c: c.upload_file(
        upload.data, filename=upload.filename, purpose="file-extract"
    )
    file_id = _file_id(client, upload, obj)
    try:
        why = _upload_failed(obj)
        if why is not None:
            raise FileExtractionError.of(
                StreamError(why, provider=client.profile.name),
                filename=upload.filename,
                source=upload.source,
                file_id=file_id if keep else None,
            )
        try:
            body = _unwrap(client, upload, (yield lambda c: c.file_content(file_id)))
        except KimiError as err:
            raise _failure(err, upload, file_id if keep else None) from err
    finally:
        if not keep:
            try:
                yield lambda c: c.delete_file(file_id)
            except KimiError as exc:
                logger.warning(
                    "could not delete the uploaded file %s (%s): %s; delete it with "
                    "delete_file(%r)",
                    file_id,
                    upload.source,
                    exc,
                    file_id,
                )
    result = _result(upload, body, file_id if keep else None)
    if cache is not None:
        cache.put(client.base_url, upload, result)
    return result


class _Driven(Generic[_T]):
    """A call flow being driven: the outcome of its last call (a result, or the exception
    it raised: any, so that the flow's cleanup runs, a cancellation too), sent back in."""

    __slots__ = ("error", "flow", "outcome", "result")

    def __init__(self, flow: _CallFlow[_T]) -> None:
        self.flow = flow
        self.outcome: Any = None
        self.error: BaseException | None = None

    def next_call(self) -> _Call | None:
        """The next call the flow asks for; None once it returned its ``result``."""
        outcome, error = self.outcome, self.error
        self.outcome = self.error = None
        try:
            return self.flow.send(outcome) if error is None else self.flow.throw(error)
        except StopIteration as done:
            self.result: _T = done.value
            return None


def _run_calls(client: KimiClient, flow: _CallFlow[_T]) -> _T:
    """Drive ``flow`` with a sync client."""
    driven = _Driven(flow)
    while (call := driven.next_call()) is not None:
        try:
            driven.outcome = call(client)
        except BaseException as exc:
            driven.error = exc
    return driven.result


async def _arun_calls(client: AsyncKimiClient, flow: _CallFlow[_T]) -> _T:
    """Drive ``flow`` with an async client."""
    driven = _Driven(flow)
    while (call := driven.next_call()) is not None:
        try:
            driven.outcome = await call(client)
        except BaseException as exc:
            driven.error = exc
    return driven.result


def extract_text(
    file: FileInput,
    *,
    client: KimiClient | None = None,
    filename: str | None = None,
    keep: bool = False,
    cache: ExtractionCache | str | os.PathLike[str] | None = None,
) -> ExtractedFile:
    """The text Kimi extracts from one file.

    ``file``: a path, bytes (with ``filename``), a binary file object, or ``(filename,
    data)``. ``client``: the :class:`KimiClient` to use (default: one for Moonshot with the
    key from the environment). ``keep``: keep the upload and return its id in
    ``file_id`` (default: deleted afterwards). ``cache``: an :class:`ExtractionCache` or a
    directory for one.

    Raises :class:`ConfigurationError` before anything is sent for a missing, empty or
    too large file, :class:`FileExtractionError` when the platform cannot extract it, and
    the client's usual errors otherwise.
    """
    upload = _read_upload(file, filename)
    client = client if client is not None else KimiClient()
    _check_client(client)
    return _run_calls(client, _extraction(client, upload, keep, as_cache(cache)))


async def aextract_text(
    file: FileInput,
    *,
    client: AsyncKimiClient | None = None,
    filename: str | None = None,
    keep: bool = False,
    cache: ExtractionCache | str | os.PathLike[str] | None = None,
) -> ExtractedFile:
    """The async :func:`extract_text` (on an :class:`AsyncKimiClient`)."""
    upload = _read_upload(file, filename)
    client = client if client is not None else AsyncKimiClient()
    _check_client(client)
    return await _arun_calls(client, _extraction(client, upload, keep, as_cache(cache)))


# --------------------------------------------------------------------------- many files


def _concurrency(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(
            f"max_concurrency={value!r} is not accepted: a positive integer",
            param="max_concurrency",
        )
    return value


def _finish(
    results: Sequence[ExtractedFile | BaseException], return_exceptions: bool
) -> list[ExtractedFile | KimiError]:
    out: list[ExtractedFile | KimiError] = []
    for item in results:
        if isinstance(item, KimiError | ExtractedFile):
            out.append(item)
        else:  # not a KimiError: a bug or an interrupt, never swallowed
            raise item
    if not return_exceptions:
        for item in out:
            if isinstance(item, KimiError):
                raise item
    return out


def extract_texts(
    files: Iterable[FileInput],
    *,
    client: KimiClient | None = None,
    keep: bool = False,
    cache: ExtractionCache | str | os.PathLike[str] | None = None,
    max_concurrency: int = 4,
    return_exceptions: bool = False,
    on_progress: Progress | None = None,
) -> list[ExtractedFile | KimiError]:
    """The texts of many files, in the order given, ``max_concurrency`` at a time.

    Every input gets exactly one result: an :class:`ExtractedFile`, or (with
    ``return_exceptions=True``) the error for that file; without it, once every file is
    done (and its upload deleted), the first error in input order is raised. Files are
    checked before any upload (a bad one is an error for that input, the others go on).
    ``on_progress(done, total, source)`` is called after each file.
    """
    items = list(files)
    limit = _concurrency(max_concurrency)
    client = client if client is not None else KimiClient()
    _check_client(client)
    store = as_cache(cache)
    prepared = [prepare(f) for f in items]
    total = len(items)
    done = 0
    lock = threading.Lock()

    def one(index: int) -> ExtractedFile | BaseException:
        nonlocal done
        upload = prepared[index]
        try:
            outcome: ExtractedFile | BaseException = (
                upload
                if isinstance(upload, KimiError)
                else _run_calls(client, _extraction(client, upload, keep, store))
            )
        except Exception as exc:  # collected: every input gets its one result
            outcome = exc
        with lock:
            done += 1
            count = done
        _report(on_progress, count, total, label(items[index]), outcome)
        return outcome

    with ThreadPoolExecutor(max_workers=min(limit, max(total, 1))) as pool:
        results = list(pool.map(one, range(total)))
    return _finish(results, return_exceptions)


async def aextract_texts(
    files: Iterable[FileInput],
    *,
    client: AsyncKimiClient | None = None,
    keep: bool = False,
    cache: ExtractionCache | str | os.PathLike[str] | None = None,
    max_concurrency: int = 4,
    return_exceptions: bool = False,
    on_progress: Progress | None = None,
) -> list[ExtractedFile | KimiError]:
    """The async :func:`extract_texts`."""
    items = list(files)
    limit = asyncio.Semaphore(_concurrency(max_concurrency))
    client = client if client is not None else AsyncKimiClient()
    _check_client(client)
    store = as_cache(cache)
    prepared = [prepare(f) for f in items]
    total = len(items)
    done = 0

    async def one(index: int) -> ExtractedFile | BaseException:
        nonlocal done
        upload = prepared[index]
        if isinstance(upload, KimiError):
            outcome: ExtractedFile | BaseException = upload
        else:
            async with limit:
                try:
                    outcome = await _arun_calls(client, _extraction(client, upload, keep, store))
                except Exception as exc:  # collected: every input gets its one result
                    outcome = exc
        done += 1
        _report(on_progress, done, total, label(items[index]), outcome)
        return outcome

    results = await asyncio.gather(*(one(i) for i in range(total)))
    return _finish(results, return_exceptions)


def _report(
    on_progress: Progress | None,
    done: int,
    total: int,
    label: str,
    outcome: ExtractedFile | BaseException,
) -> None:
    state = "extracted" if isinstance(outcome, ExtractedFile) else f"failed ({outcome!s:.200})"
    logger.info("file extraction %d/%d: %s %s", done, total, label, state)
    if on_progress is not None:
        on_progress(done, total, label)
