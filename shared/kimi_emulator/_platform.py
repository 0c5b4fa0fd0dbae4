"""Platform endpoints: ``/v1/models`` on every dialect, and Moonshot's files, token
estimate and balance (docs/kimi-platform.md §10)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from ._catalogue import rules_for
from ._dialects import Dialect
from ._fileextract import EXTRACT_FAILED, extract_content
from ._http import RecordedRequest
from ._rules import check_model, message_tokens
from ._wire import ApiError, as_json_bytes, random_file_id

__all__ = ["Platform"]

_FILE_PURPOSES = ("file-extract", "image", "video", "batch")
#: The account limits of docs/api/files: 1,000 files, 100 MB each, 10 GB in all.
FILE_LIMITS = {"count": 1000, "bytes": 100 * 1024 * 1024, "total": 10 * 1024**3}
_JSON = "application/json"
#: A fixed ``created`` for listed models (2026-07-01T00:00:00Z).
_CREATED = 1_782_864_000

Answer = tuple[int, bytes, str]


def _bad(message: str) -> ApiError:
    return ApiError(400, "invalid_request_error", message)


class Platform:
    """The non-chat endpoints and their state (uploaded files, the balance)."""

    def __init__(self, dialect: Dialect, lock: threading.Lock) -> None:
        self.dialect = dialect
        self._lock = lock
        self.files: dict[str, dict[str, Any]] = {}
        self.balance: dict[str, float] = {}
        self.file_limits: dict[str, int] = dict(FILE_LIMITS)
        #: File-name patterns (fnmatch) whose extraction fails (500 extract task failed).
        self.extract_failures: set[str] = set()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.files = {}
        self.file_limits = dict(FILE_LIMITS)
        self.extract_failures = set()
        self.balance = {
            "available_balance": 49.58894,
            "voucher_balance": 46.58893,
            "cash_balance": 3.00001,
        }

    def handler(self, endpoint: str) -> Callable[[RecordedRequest, frozenset[str], bool], Answer]:
        return {
            "models": self.models,
            "estimate": self.estimate,
            "balance": self.balance_endpoint,
            "files": self.files_endpoint,
            "file": self.file_endpoint,
            "file_content": self.file_content,
        }[endpoint]

    def file_exists(self, file_id: str) -> bool:
        with self._lock:
            return file_id in self.files

    # ------------------------------------------------------------------ endpoints

    def models(self, req: RecordedRequest, served: frozenset[str], accept_any: bool) -> Answer:
        """The served ids only (docs/kimi-platform.md §10 shape; the ``context_length`` and
        ``supports_*`` fields are the newer, unconfirmed ones)."""
        data = []
        for model_id in sorted(served):
            rules = rules_for(model_id)
            data.append(
                {
                    "id": model_id,
                    "object": "model",
                    "created": _CREATED,
                    "owned_by": "moonshot",
                    "context_length": rules.context_window,
                    "supports_image_in": rules.image_input,
                    "supports_video_in": rules.video_input,
                    "supports_reasoning": rules.thinking != "none",
                }
            )
        return 200, as_json_bytes({"object": "list", "data": data}), _JSON

    def estimate(self, req: RecordedRequest, served: frozenset[str], accept_any: bool) -> Answer:
        body = req.json
        if not isinstance(body, Mapping):
            raise _bad("Invalid request: the body is not valid JSON")
        check_model(self.dialect, body.get("model"), served=served, accept_any=accept_any)
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise _bad("Invalid request: messages must not be empty")
        total = 3 + sum(message_tokens(m) for m in messages if isinstance(m, Mapping))
        payload = {"code": 0, "data": {"total_tokens": total}, "scode": "0x0", "status": True}
        return 200, as_json_bytes(payload), _JSON

    def balance_endpoint(
        self, req: RecordedRequest, served: frozenset[str], accept_any: bool
    ) -> Answer:
        payload = {"code": 0, "data": dict(self.balance), "scode": "0x0", "status": True}
        return 200, as_json_bytes(payload), _JSON

    def files_endpoint(
        self, req: RecordedRequest, served: frozenset[str], accept_any: bool
    ) -> Answer:
        if req.method == "GET":
            with self._lock:
                data = [dict(f["object"]) for f in self.files.values()]
            return 200, as_json_bytes({"object": "list", "data": data}), _JSON
        fields = parse_multipart(req)
        purpose = fields.get("purpose", (None, b""))[1].decode("utf-8", "replace")
        upload = fields.get("file")
        if upload is None or upload[0] is None:
            raise _bad("Invalid request: a file field is required")
        if purpose not in _FILE_PURPOSES:
            raise _bad(
                f"Invalid request: invalid purpose {purpose!r}, must be one of "
                f"{', '.join(_FILE_PURPOSES)}"
            )
        filename, content = upload
        limits = self.file_limits
        if len(content) > limits["bytes"]:
            raise _bad(f"Invalid request: file size exceeds {_size(limits['bytes'])}")
        with self._lock:
            if len(self.files) >= limits["count"]:
                raise _bad(f"Invalid request: too many files, at most {limits['count']}")
            stored = sum(len(f["data"]) for f in self.files.values())
            if stored + len(content) > limits["total"]:
                raise _bad(
                    f"Invalid request: the total size of your files would exceed "
                    f"{_size(limits['total'])}; delete files you no longer need"
                )
            fid = random_file_id()
            obj = {
                "id": fid,
                "object": "file",
                "bytes": len(content),
                "created_at": int(time.time()),
                "filename": filename,
                "purpose": purpose,
                "status": "ok",
                "status_details": "",
            }
            self.files[fid] = {"object": obj, "data": content}
        return 200, as_json_bytes(obj), _JSON

    def _get_file(self, req: RecordedRequest) -> tuple[str, dict[str, Any]]:
        fid = req.path[len("/v1/files/") :].split("/", 1)[0]
        with self._lock:
            found = self.files.get(fid)
        if found is None:
            raise ApiError(404, "resource_not_found_error", f"file {fid} not found")
        return fid, found

    def file_endpoint(
        self, req: RecordedRequest, served: frozenset[str], accept_any: bool
    ) -> Answer:
        fid, found = self._get_file(req)
        if req.method == "DELETE":
            with self._lock:
                self.files.pop(fid, None)
            return 200, as_json_bytes({"id": fid, "object": "file", "deleted": True}), _JSON
        return 200, as_json_bytes(found["object"]), _JSON

    def file_content(
        self, req: RecordedRequest, served: frozenset[str], accept_any: bool
    ) -> Answer:
        _, found = self._get_file(req)
        obj = found["object"]
        data: bytes = found["data"]
        if obj["purpose"] != "file-extract":
            return 200, data, "application/octet-stream"
        extracted = extract_content(obj["filename"], data, sorted(self.extract_failures))
        if extracted is None:
            raise ApiError(500, "", EXTRACT_FAILED)
        text, file_type = extracted
        payload = {
            "content": text,
            "file_type": file_type,
            "filename": obj["filename"],
            "title": "",
            "type": "file",
        }
        return 200, as_json_bytes(payload), _JSON


def _size(n: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= scale and n % scale == 0:
            return f"{n // scale}{unit}"
    return f"{n} bytes"


def parse_multipart(req: RecordedRequest) -> dict[str, tuple[str | None, bytes]]:
    """``{field: (filename, data)}`` of a multipart/form-data body."""
    ctype = req.headers.get("content-type", "")
    boundary = None
    for part in ctype.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip('"')
    if "multipart/form-data" not in ctype or not boundary:
        raise _bad("Invalid request: expected multipart/form-data with a file")
    out: dict[str, tuple[str | None, bytes]] = {}
    delimiter = b"--" + boundary.encode()
    for chunk in req.body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        head, _, data = chunk.partition(b"\r\n\r\n")
        if data.endswith(b"\r\n"):
            data = data[:-2]
        name = filename = None
        for line in head.decode("utf-8", "replace").split("\r\n"):
            if line.lower().startswith("content-disposition"):
                for item in line.split(";")[1:]:
                    key, _, value = item.strip().partition("=")
                    value = value.strip().strip('"')
                    if key == "name":
                        name = value
                    elif key == "filename":
                        filename = value
        if name is not None:
            out[name] = (filename, data)
    return out
