"""An opt-in, on-disk cache of extracted texts (``kimi_core.ExtractionCache``)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

from ._documents import ExtractedFile, _Upload

__all__ = ["ExtractionCache", "as_cache"]

logger = logging.getLogger("kimi_core")


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


def as_cache(cache: ExtractionCache | str | os.PathLike[str] | None) -> ExtractionCache | None:
    if cache is None or isinstance(cache, ExtractionCache):
        return cache
    return ExtractionCache(cache)
