"""What file extraction takes and gives: the file inputs and their checks, the extracted
file, and the error of a file that could not be extracted.

Before anything is sent a file is checked: it exists, it is not empty, it is at most
100 MB, and its extension is one the platform documents (an unknown one warns with
:class:`UnknownFileTypeWarning`, it is never refused: the server decides). The calls are in
``_extraction`` (its docstring has the sources), the on-disk cache in ``_extraction_cache``.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath
from typing import IO, Any, Union

from ._errors import ConfigurationError, InternalServerError, KimiError

__all__ = [
    "DOCUMENTED_EXTENSIONS",
    "MAX_FILE_BYTES",
    "ExtractedFile",
    "FileExtractionError",
    "FileInput",
    "UnknownFileTypeWarning",
    "with_source",
]

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


def label(file: Any) -> str:
    """How an input is named in progress reports and logs."""
    if isinstance(file, tuple) and file and isinstance(file[0], str):
        return file[0]
    if isinstance(file, (str, os.PathLike)):
        return str(file)
    name = getattr(file, "name", None)
    return name if isinstance(name, str) else f"<{type(file).__name__}>"


def prepare(file: FileInput) -> _Upload | KimiError:
    """The checked upload of an input, or the error that refuses it."""
    try:
        return _read_upload(file, None)
    except KimiError as err:
        return err


def with_source(result: ExtractedFile, source: str) -> ExtractedFile:
    """``result`` with another ``source`` (a loader's own path spelling)."""
    return replace(result, source=source)
