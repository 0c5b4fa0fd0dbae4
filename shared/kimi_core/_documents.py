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
warns with :class:`UnknownFileTypeWarning`, it is never refused: the server decides).

:class:`ExtractionCache` (opt-in, on disk) keeps the extracted text under a hash of the
content, its extension and the server's base URL, so that running a pipeline again uploads
nothing it already extracted.

Extraction is free for now; the text is billed as input tokens when it is sent to a model.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath
from typing import IO, Any, Union

from ._errors import ConfigurationError, InternalServerError, KimiError, StreamError
from ._transport import AsyncKimiClient, KimiClient

__all__ = [
    "DOCUMENTED_EXTENSIONS",
    "MAX_FILE_BYTES",
    "ExtractedFile",
    "ExtractionCache",
    "FileExtractionError",
    "FileInput",
    "UnknownFileTypeWarning",
    "aextract_text",
    "aextract_texts",
    "extract_text",
    "extract_texts",
]

logger = logging.getLogger("kimi_core")

#: Largest file the platform takes (docs/api/files: "单文件不超过 100MB").
MAX_FILE_BYTES = 100 * 1024 * 1024

#: The extensions platform.moonshot.cn/docs/api/files lists for ``file-extract`` (the list
#: ends in "等格式", "and other formats": it is not exhaustive, so an extension outside it
#: only warns).
DOCUMENTED_EXTENSIONS = frozenset(
    {
        ".pdf",
        ".txt",
        ".csv",
        ".doc",
        ".docx",
        ".xls",
        ".xlsx",
        ".ppt",
        ".pptx",
        ".md",
        ".jpeg",
        ".png",
        ".bmp",
        ".gif",
        ".svg",
        ".svgz",
        ".webp",
        ".ico",
        ".xbm",
        ".dib",
        ".pjp",
        ".tif",
        ".pjpeg",
        ".avif",
        ".dot",
        ".apng",
        ".epub",
        ".tiff",
        ".jfif",
        ".html",
        ".json",
        ".mobi",
        ".log",
        ".go",
        ".h",
        ".c",
        ".cpp",
        ".cxx",
        ".cc",
        ".cs",
        ".java",
        ".js",
        ".css",
        ".jsp",
        ".php",
        ".py",
        ".py3",
        ".asp",
        ".yaml",
        ".yml",
        ".ini",
        ".conf",
        ".ts",
        ".tsx",
        # The usual spellings of two documented types (.jpeg, .html).
        ".jpg",
        ".htm",
    }
)

#: What can be extracted: a path, the bytes (with ``filename``), a binary file object (its
#: ``name`` or ``filename``), or ``(filename, bytes or file object)``.
FileInput = Union[str, "os.PathLike[str]", bytes, IO[bytes], "tuple[str, bytes | IO[bytes]]"]

Progress = Callable[[int, int, str], None]


class UnknownFileTypeWarning(UserWarning):
    """A file's extension is not one the platform documents; it is uploaded anyway."""


class FileExtractionError(InternalServerError):
    """The platform could not extract a file's text (``500 extract task failed``), or
    answered its content in a shape that is not Kimi's. ``filename``, ``source`` (the path
    or name given) and ``file_id`` (the upload, already deleted unless kept) say which."""

    filename: str = ""
    source: str = ""
    file_id: str | None = None

    @classmethod
    def of(
        cls, err: KimiError, *, filename: str, source: str, file_id: str | None
    ) -> FileExtractionError:
        new = cls(
            f"extracting the text of {source!r} failed: {err.message}",
            status_code=err.status_code,
            code=err.code,
            request_id=err.request_id,
            provider=err.provider,
            body=err.body,
        )
        new.filename, new.source, new.file_id = filename, source, file_id
        new.retryable = False
        return new


@dataclass(frozen=True)
class ExtractedFile:
    """The text Kimi extracted from one file, with what the platform said about it."""

    #: The extracted text (left out of the repr: it can be a whole book).
    content: str = field(repr=False)
    filename: str
    #: The MIME type the platform reports (``application/pdf``); "" when it gave none.
    file_type: str = ""
    title: str = ""
    #: The path given, or the file name for bytes and file objects.
    source: str = ""
    #: The uploaded file's id when it was kept (``keep=True``), else None.
    file_id: str | None = None
    #: Size of the file in bytes, and the SHA-256 of its content.
    bytes: int = 0
    sha256: str = ""
    #: Whether the text came from an :class:`ExtractionCache` (nothing was uploaded).
    cached: bool = False
    #: The rest of the platform's answer (fields beyond the documented four).
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def length(self) -> int:
        """Characters of extracted text."""
        return len(self.content)

    def metadata(self) -> dict[str, Any]:
        """The metadata both adapters put on their documents."""
        meta: dict[str, Any] = {
            "source": self.source,
            "filename": self.filename,
            "file_type": self.file_type,
            "title": self.title,
            "length": self.length,
        }
        if self.file_id is not None:
            meta["file_id"] = self.file_id
        return meta


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class _Upload:
    filename: str
    source: str
    data: bytes
    sha256: str

    @property
    def extension(self) -> str:
        return PurePath(self.filename).suffix.lower()


def _oversize(source: str, size: int) -> ConfigurationError:
    return ConfigurationError(
        f"file={source!r} is not accepted by the Kimi platform: it is {size:,} bytes, "
        f"files of at most {MAX_FILE_BYTES:,} bytes (100 MB) are extracted",
        param="file",
    )


def _read_upload(file: FileInput, filename: str | None) -> _Upload:
    """The file's name and bytes, checked (exists, not empty, at most 100 MB); an
    undocumented extension warns."""
    if isinstance(file, tuple):
        if len(file) != 2 or not isinstance(file[0], str):
            raise ConfigurationError(
                f"file={file!r:.80} is not accepted: a tuple is (filename, bytes or file object)",
                param="file",
            )
        filename, file = filename or file[0], file[1]
    if isinstance(file, (str, os.PathLike)):
        path = Path(file)
        source = str(path)
        if not path.exists():
            raise ConfigurationError(
                f"file={source!r} does not exist: give the path of a file to extract",
                param="file",
            )
        if not path.is_file():
            raise ConfigurationError(
                f"file={source!r} is not a file: give a file (for a directory, list its files)",
                param="file",
            )
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _oversize(source, size)
        data = path.read_bytes()
        name = filename or path.name
    elif isinstance(file, (bytes, bytearray, memoryview)):
        data = bytes(file)
        if not filename:
            raise ConfigurationError(
                "filename=None is not accepted with bytes: give the file's name with its "
                "extension (Kimi reads the type from it), e.g. filename='report.pdf'",
                param="filename",
            )
        name = source = filename
    elif hasattr(file, "read"):
        given = filename or getattr(file, "filename", None) or getattr(file, "name", None)
        if not isinstance(given, str) or not given:
            raise ConfigurationError(
                "filename=None is not accepted with a file object that has no name: give "
                "filename='report.pdf'",
                param="filename",
            )
        name = PurePath(given).name
        source = given
        data = file.read(MAX_FILE_BYTES + 1)
        if not isinstance(data, bytes):
            raise ConfigurationError(
                f"file={source!r} is opened in text mode: open it in binary mode ('rb')",
                param="file",
            )
        if len(data) > MAX_FILE_BYTES:
            raise _oversize(source, len(data))
    else:
        raise ConfigurationError(
            f"file={file!r:.80} is not accepted: a path, bytes with filename=, a binary file "
            "object, or (filename, bytes)",
            param="file",
        )
    if len(data) > MAX_FILE_BYTES:
        raise _oversize(source, len(data))
    if not data:
        raise ConfigurationError(
            f"file={source!r} is empty: Kimi cannot extract text from an empty file",
            param="file",
        )
    upload = _Upload(name, source, data, hashlib.sha256(data).hexdigest())
    if upload.extension not in DOCUMENTED_EXTENSIONS:
        ext = upload.extension or "no extension"
        warnings.warn(
            f"{source!r} has {ext}, which is not among the types Kimi documents for "
            f"file-extract (pdf, docx, xlsx, pptx, txt, md, html, json, images, source "
            f"files...); it is uploaded anyway and the platform decides",
            UnknownFileTypeWarning,
            stacklevel=3,  # the caller of extract_text (extract_texts: its own line)
        )
    return upload


# --------------------------------------------------------------------------- cache


class ExtractionCache:
    """Extracted texts on disk, one JSON file per (server, extension, content hash).

    Opt-in: pass ``cache=ExtractionCache("~/.cache/kimi-extract")`` (or a path) to the
    extraction functions and the adapters' loaders. The server's base URL is part of the
    key, so the texts of an emulator and of Moonshot never mix. Entries are written
    atomically; an unreadable entry is a miss.
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory).expanduser()

    def __repr__(self) -> str:
        return f"ExtractionCache({str(self.directory)!r})"

    def _path(self, base_url: str, upload: _Upload) -> Path:
        key = hashlib.sha256(
            f"{base_url}\n{upload.extension}\n{upload.sha256}".encode()
        ).hexdigest()
        return self.directory / f"{key}.json"

    def get(self, base_url: str, upload: _Upload) -> ExtractedFile | None:
        try:
            entry = json.loads(self._path(base_url, upload).read_text(encoding="utf-8"))
            content, file_type, title = entry["content"], entry["file_type"], entry["title"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not all(isinstance(v, str) for v in (content, file_type, title)):
            return None
        file_id = entry.get("file_id")
        return ExtractedFile(
            content=content,
            filename=upload.filename,
            file_type=file_type,
            title=title,
            source=upload.source,
            file_id=file_id if isinstance(file_id, str) else None,
            bytes=len(upload.data),
            sha256=upload.sha256,
            cached=True,
        )

    def put(self, base_url: str, upload: _Upload, result: ExtractedFile) -> None:
        path = self._path(base_url, upload)
        entry = {
            "content": result.content,
            "file_type": result.file_type,
            "title": result.title,
            "file_id": result.file_id,
            "filename": result.filename,
        }
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(entry, out, ensure_ascii=False)
            os.replace(tmp, path)
        except OSError as exc:  # a cache that cannot be written is only a slower run
            logger.warning("extraction cache: could not write %s: %s", path, exc)


def _as_cache(cache: ExtractionCache | str | os.PathLike[str] | None) -> ExtractionCache | None:
    if cache is None or isinstance(cache, ExtractionCache):
        return cache
    return ExtractionCache(cache)


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


def _extract_sync(
    client: KimiClient, upload: _Upload, keep: bool, cache: ExtractionCache | None
) -> ExtractedFile:
    if cache is not None:
        hit = cache.get(client.base_url, upload)
        if hit is not None:
            return hit
    obj = client.upload_file(upload.data, filename=upload.filename, purpose="file-extract")
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
            body = _unwrap(client, upload, client.file_content(file_id))
        except KimiError as err:
            raise _failure(err, upload, file_id if keep else None) from err
    finally:
        if not keep:
            try:
                client.delete_file(file_id)
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


async def _extract_async(
    client: AsyncKimiClient, upload: _Upload, keep: bool, cache: ExtractionCache | None
) -> ExtractedFile:
    if cache is not None:
        hit = cache.get(client.base_url, upload)
        if hit is not None:
            return hit
    obj = await client.upload_file(upload.data, filename=upload.filename, purpose="file-extract")
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
            body = _unwrap(client, upload, await client.file_content(file_id))
        except KimiError as err:
            raise _failure(err, upload, file_id if keep else None) from err
    finally:
        if not keep:
            try:
                await client.delete_file(file_id)
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
    return _extract_sync(client, upload, keep, _as_cache(cache))


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
    return await _extract_async(client, upload, keep, _as_cache(cache))


# --------------------------------------------------------------------------- many files


def _label(file: Any) -> str:
    if isinstance(file, tuple) and file and isinstance(file[0], str):
        return file[0]
    if isinstance(file, (str, os.PathLike)):
        return str(file)
    name = getattr(file, "name", None)
    return name if isinstance(name, str) else f"<{type(file).__name__}>"


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


def _prepare(file: FileInput) -> _Upload | KimiError:
    try:
        return _read_upload(file, None)
    except KimiError as err:
        return err


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
    store = _as_cache(cache)
    prepared = [_prepare(f) for f in items]
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
                else _extract_sync(client, upload, keep, store)
            )
        except Exception as exc:  # collected: every input gets its one result
            outcome = exc
        with lock:
            done += 1
            count = done
        _report(on_progress, count, total, _label(items[index]), outcome)
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
    store = _as_cache(cache)
    prepared = [_prepare(f) for f in items]
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
                    outcome = await _extract_async(client, upload, keep, store)
                except Exception as exc:  # collected: every input gets its one result
                    outcome = exc
        done += 1
        _report(on_progress, done, total, _label(items[index]), outcome)
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


def with_source(result: ExtractedFile, source: str) -> ExtractedFile:
    """``result`` with another ``source`` (a loader's own path spelling)."""
    return replace(result, source=source)
