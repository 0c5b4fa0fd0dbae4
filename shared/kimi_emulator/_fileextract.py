"""What ``GET /v1/files/{id}/content`` answers for a ``file-extract`` upload.

Kimi answers a JSON text ``{"content", "file_type", "filename", "title", "type": "file"}``
(the keys in that order, as in a response printed by a public 2024 script; see
tests/recordings). The emulator reads what the standard library can: text-like files
(txt, md, csv, json, log, yaml, source files) as they are, HTML with its tags, scripts and
styles removed. For the formats it cannot read (pdf, Office files, epub, images) the
content is a text that says plainly it comes from the emulator, not from Kimi.

A file Kimi could not read answers ``500 {"error": {"message": "extract task failed:
failed", "type": ""}}`` (the same script). The emulator answers that for a file whose bytes
are not of its type (a ``.pdf`` that does not start with ``%PDF-``, an Office file or epub
that is not a zip, a png or jpeg without its signature) and for the file names matching
one of the patterns in ``KimiEmulator.extract_failures``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import PurePath

__all__ = ["EXTRACT_FAILED", "extract_content"]

#: The message of a failed extraction (as printed in the public script).
EXTRACT_FAILED = "extract task failed: failed"

_TEXT_TYPES = {
    ".txt": "text/plain",
    ".log": "text/plain",
    ".md": "text/markdown",
    ".csv": "text/csv",
    ".json": "application/json",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".ini": "text/plain",
    ".conf": "text/plain",
    ".py": "text/x-python",
    ".py3": "text/x-python",
    ".js": "text/javascript",
    ".ts": "text/plain",
    ".tsx": "text/plain",
    ".css": "text/css",
    ".go": "text/plain",
    ".c": "text/x-c",
    ".h": "text/x-c",
    ".cc": "text/x-c++",
    ".cpp": "text/x-c++",
    ".cxx": "text/x-c++",
    ".cs": "text/plain",
    ".java": "text/x-java",
    ".php": "text/x-php",
    ".jsp": "text/plain",
    ".asp": "text/plain",
    ".svg": "image/svg+xml",
}
_HTML_TYPES = {".html": "text/html", ".htm": "text/html"}
_OOXML = "application/vnd.openxmlformats-officedocument."
#: Formats the emulator cannot read: their MIME type and the signature their bytes start with
#: (None: not checked).
_BINARY_TYPES: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".docx": (_OOXML + "wordprocessingml.document", (b"PK\x03\x04",)),
    ".xlsx": (_OOXML + "spreadsheetml.sheet", (b"PK\x03\x04",)),
    ".pptx": (_OOXML + "presentationml.presentation", (b"PK\x03\x04",)),
    ".epub": ("application/epub+zip", (b"PK\x03\x04",)),
    ".doc": ("application/msword", None),
    ".dot": ("application/msword", None),
    ".xls": ("application/vnd.ms-excel", None),
    ".ppt": ("application/vnd.ms-powerpoint", None),
    ".mobi": ("application/x-mobipocket-ebook", None),
    ".png": ("image/png", (b"\x89PNG",)),
    ".apng": ("image/apng", (b"\x89PNG",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8",)),
    ".jfif": ("image/jpeg", (b"\xff\xd8",)),
    ".pjpeg": ("image/jpeg", (b"\xff\xd8",)),
    ".pjp": ("image/jpeg", (b"\xff\xd8",)),
    ".gif": ("image/gif", (b"GIF8",)),
    ".webp": ("image/webp", (b"RIFF",)),
    ".bmp": ("image/bmp", (b"BM",)),
    ".dib": ("image/bmp", None),
    ".tif": ("image/tiff", (b"II*\x00", b"MM\x00*")),
    ".tiff": ("image/tiff", (b"II*\x00", b"MM\x00*")),
    ".avif": ("image/avif", None),
    ".ico": ("image/x-icon", None),
    ".xbm": ("image/x-xbitmap", None),
    ".svgz": ("image/svg+xml", None),
}
_SPACES = re.compile(r"[ \t\r\f\v]+")


class _HTMLText(HTMLParser):
    """The text of an HTML page: tags removed, scripts and styles dropped, block elements
    on lines of their own."""

    _SKIP = frozenset({"script", "style", "noscript", "template", "head"})
    _BLOCK = frozenset(
        {
            "p",
            "div",
            "br",
            "li",
            "ul",
            "ol",
            "tr",
            "table",
            "section",
            "article",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "pre",
            "blockquote",
            "title",
            "header",
            "footer",
            "td",
            "th",
        }
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_text(markup: str) -> str:
    parser = _HTMLText()
    parser.feed(markup)
    parser.close()
    lines = (_SPACES.sub(" ", line).strip() for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _decode(data: bytes) -> str | None:
    """The text of ``data`` (UTF-8, else GB18030 for Chinese text), or None for binary data."""
    if b"\x00" in data:
        return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _stand_in(filename: str, ext: str, data: bytes) -> str:
    kind = ext[1:].upper() if ext else "this kind of"
    return (
        f"[kimi-emulator] This text comes from the Kimi emulator, not from Kimi: the emulator "
        f"cannot read {kind} files, so it extracted nothing from {filename!r} "
        f"({len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()[:16]}). Kimi's platform "
        f"extracts the real text (with OCR for images and scanned PDFs)."
    )


def extract_content(
    filename: str, data: bytes, failures: Iterable[str] = ()
) -> tuple[str, str] | None:
    """``(content, file_type)`` for a file-extract upload, or None when the extraction
    fails (``500 extract task failed``)."""
    if any(fnmatch.fnmatch(filename, pattern) for pattern in failures):
        return None
    ext = PurePath(filename).suffix.lower()
    if ext in _HTML_TYPES:
        text = _decode(data)
        return (html_text(text), _HTML_TYPES[ext]) if text is not None else None
    if ext in _BINARY_TYPES:
        mime, signatures = _BINARY_TYPES[ext]
        if signatures is not None and not data.startswith(signatures):
            return None
        return _stand_in(filename, ext, data), mime
    text = _decode(data)
    if ext in _TEXT_TYPES:
        return (text, _TEXT_TYPES[ext]) if text is not None else None
    if text is not None:
        return text, "text/plain"
    return _stand_in(filename, ext, data), "application/octet-stream"
