"""The Batch API's output, without I/O: the batch object as the platform describes it, and
the result lines matched to inputs by ``custom_id`` (``kimi_core._batch`` reads the files).
"""

from __future__ import annotations

import builtins
import contextlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._batch_job import INPUTS_KEY, JOB_KEY, TERMINAL, BatchError, _encode
from ._error_map import make_status_error, short_json
from ._errors import KimiError, StreamError
from ._rules import ChatRequest
from ._stream import MalformedChunkError, first_usable_choice, normalize_completion
from ._thinking import check_answer

__all__ = [
    "Batch",
    "BatchRequestCounts",
    "BatchResult",
    "ResultCollector",
    "ids_from_metadata",
    "input_ids",
    "not_ready",
    "parse_result_line",
    "read_results",
]


# --------------------------------------------------------------------------- the batch object


@dataclass(frozen=True)
class BatchRequestCounts:
    """How many requests of a batch are done: ``completed``, ``failed``, ``total``."""

    total: int = 0
    completed: int = 0
    failed: int = 0

    @property
    def done(self) -> int:
        return self.completed + self.failed


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class Batch:
    """A batch as the platform describes it (batch-retrieve), typed; ``raw`` is the body."""

    id: str
    status: str
    endpoint: str | None = None
    input_file_id: str | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    completion_window: str | None = None
    request_counts: BatchRequestCounts = field(default_factory=BatchRequestCounts)
    metadata: dict[str, str] = field(default_factory=dict)
    #: Why a batch failed (``errors.data``: ``{"code", "message", "line", "param"}``).
    errors: list[dict[str, Any]] = field(default_factory=list)
    created_at: int | None = None
    in_progress_at: int | None = None
    expires_at: int | None = None
    finalizing_at: int | None = None
    completed_at: int | None = None
    failed_at: int | None = None
    expired_at: int | None = None
    cancelling_at: int | None = None
    cancelled_at: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def done(self) -> bool:
        """Whether the batch changes no more (completed, failed, expired, cancelled)."""
        return self.status in TERMINAL

    @classmethod
    def from_body(cls, body: Any, provider: str | None = None) -> Batch:
        """The batch of a platform answer; a StreamError when it is not one."""
        if not isinstance(body, dict) or not _str(body.get("id")) or not _str(body.get("status")):
            raise StreamError(
                f"the batch answer is not a batch object (no id or status): {short_json(body)}",
                provider=provider,
                body=body,
            )
        found = body.get("request_counts")
        counts: dict[str, Any] = found if isinstance(found, dict) else {}
        errors = body.get("errors")
        if isinstance(errors, dict):
            errors = errors.get("data")
        metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
        return cls(
            id=body["id"],
            status=body["status"],
            endpoint=_str(body.get("endpoint")),
            input_file_id=_str(body.get("input_file_id")),
            output_file_id=_str(body.get("output_file_id")),
            error_file_id=_str(body.get("error_file_id")),
            completion_window=_str(body.get("completion_window")),
            request_counts=BatchRequestCounts(
                total=_int(counts.get("total")) or 0,
                completed=_int(counts.get("completed")) or 0,
                failed=_int(counts.get("failed")) or 0,
            ),
            metadata={str(k): str(v) for k, v in (metadata or {}).items()},
            errors=[e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else [],
            created_at=_int(body.get("created_at")),
            in_progress_at=_int(body.get("in_progress_at")),
            expires_at=_int(body.get("expires_at")),
            finalizing_at=_int(body.get("finalizing_at")),
            completed_at=_int(body.get("completed_at")),
            failed_at=_int(body.get("failed_at")),
            expired_at=_int(body.get("expired_at")),
            cancelling_at=_int(body.get("cancelling_at")),
            cancelled_at=_int(body.get("cancelled_at")),
            raw=body,
        )


def ids_from_metadata(batch: Batch) -> list[str] | None:
    """The custom_ids of a job this client built, in input order, from the batch's
    metadata alone; None for a batch made otherwise."""
    job = batch.metadata.get(JOB_KEY)
    count = batch.metadata.get(INPUTS_KEY)
    if not job or not count or not count.isdigit():
        return None
    return [f"{job}-{i}" for i in range(int(count))]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class BatchResult:
    """One input's outcome: a completion ``body`` (normalised as a live answer) or an
    ``error`` (a typed kimi_core error), never both."""

    custom_id: str
    body: dict[str, Any] | None = None
    error: KimiError | None = None
    request_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def unwrap(self) -> dict[str, Any]:
        """The completion body, or raise the error."""
        if self.error is not None:
            raise self.error
        return self.body or {}


def _line_error(
    status: int | None,
    body: Any,
    error: Any,
    *,
    provider: str | None,
    request_id: str | None,
    custom_id: str,
    batch_id: str | None,
    in_error_file: bool,
) -> KimiError:
    """The typed error of a failed line: its status and body (or error object) mapped as a
    live call's error is, with where it was found."""
    payload = body if isinstance(body, dict) and "error" in body else None
    if payload is None and isinstance(error, dict) and error:
        payload = {"error": error}
    where = "in the batch's error file" if in_error_file else "in the batch's output file"
    if status is None and payload is None:
        return BatchError(
            f"input {custom_id!r} failed {where} without a status or an error: "
            f"{short_json(body if body is not None else error)}",
            batch_id=batch_id,
            custom_id=custom_id,
            provider=provider,
            request_id=request_id,
        )
    raw = _encode(payload if payload is not None else body)
    err: KimiError = make_status_error(status or 200, raw, provider=provider)
    if request_id and not err.request_id:
        err.request_id = request_id
    err.message = f"{err.message} (batch input {custom_id!r}, {where})"
    err.args = (err._render(),)
    return err


def parse_result_line(
    raw: bytes,
    *,
    provider: str | None = None,
    batch_id: str | None = None,
    in_error_file: bool = False,
    requests: Mapping[str, ChatRequest] | None = None,
) -> BatchResult | None:
    """One line of an output or error file as a result; None for a line with no
    ``custom_id`` (it cannot be matched to an input; :func:`read_results` reports it)."""
    try:
        line = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(line, dict):
        return None
    custom_id = line.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        return None
    response = line.get("response") if isinstance(line.get("response"), dict) else None
    if response is not None:
        status = _int(response.get("status_code"))
        body = response.get("body")
        request_id = _str(response.get("request_id"))
    elif isinstance(line.get("body"), dict):
        status, body, request_id = _int(line.get("status_code")), line["body"], None
    elif "choices" in line:
        status, body, request_id = None, line, None
    else:
        status, body, request_id = _int(line.get("status_code")), None, None
    if isinstance(body, str):  # a body sent as JSON text
        with contextlib.suppress(ValueError, RecursionError):
            body = json.loads(body)
    request_id = request_id or _str(line.get("request_id")) or _str(line.get("id"))
    error = line.get("error")
    failed = (
        (status is not None and status >= 300)
        or (isinstance(error, dict) and bool(error))
        or not isinstance(body, dict)
        or "error" in body
        or in_error_file
    )
    if failed and not (isinstance(body, dict) and body.get("choices")):
        err = _line_error(
            status,
            body,
            error,
            provider=provider,
            request_id=request_id,
            custom_id=custom_id,
            batch_id=batch_id,
            in_error_file=in_error_file,
        )
        return BatchResult(custom_id, error=err, request_id=request_id)
    if not isinstance(body, dict):  # pragma: no cover - ``failed`` covers it
        body = {}
    try:
        normalize_completion(body)
        if first_usable_choice(body) is None:
            raise MalformedChunkError("no choice with a message")
        request = (requests or {}).get(custom_id)
        if request is not None:
            check_answer(request.plan, body, provider=provider, request_id=request_id)
    except MalformedChunkError as exc:
        err = StreamError(
            f"the answer to batch input {custom_id!r} is malformed: {exc}",
            provider=provider,
            request_id=request_id,
            body=body,
        )
        return BatchResult(custom_id, error=err, request_id=request_id)
    except KimiError as exc:
        return BatchResult(custom_id, error=exc, request_id=request_id)
    return BatchResult(custom_id, body=body, request_id=request_id)


class ResultCollector:
    """Results by custom_id for the inputs wanted, in one pass over each file's lines."""

    def __init__(
        self,
        batch: Batch,
        custom_ids: Sequence[str],
        provider: str | None,
        requests: Mapping[str, ChatRequest] | None,
    ) -> None:
        self.batch = batch
        self.wanted = set(custom_ids)
        self.custom_ids = custom_ids
        self.provider = provider
        self.requests = requests
        self.found: dict[str, BatchResult] = {}
        self.unmatched = 0

    def feed(self, raw: bytes, in_error_file: bool) -> None:
        if not raw.strip():
            return
        result = parse_result_line(
            raw,
            provider=self.provider,
            batch_id=self.batch.id,
            in_error_file=in_error_file,
            requests=self.requests,
        )
        if result is None or result.custom_id not in self.wanted:
            self.unmatched += 1
            return
        # An output line wins over an error-file line for the same input (never twice).
        if result.custom_id not in self.found or (
            not in_error_file and self.found[result.custom_id].error is not None
        ):
            self.found[result.custom_id] = result

    def feed_lines(self, lines: Iterable[bytes], in_error_file: bool) -> None:
        for raw in lines:
            self.feed(raw, in_error_file)

    def results(self) -> list[BatchResult]:
        batch = self.batch
        out: list[BatchResult] = []
        for custom_id in self.custom_ids:
            result = self.found.get(custom_id)
            if result is None:
                why = {
                    "expired": "the batch expired before it was answered",
                    "cancelled": "the batch was cancelled before it was answered",
                    "failed": "the batch failed",
                }.get(batch.status, "it is in neither the output nor the error file")
                result = BatchResult(
                    custom_id,
                    error=BatchError(
                        f"batch input {custom_id!r} has no result: {why} "
                        f"(batch {batch.id}, status {batch.status!r})",
                        batch_id=batch.id,
                        status=batch.status,
                        custom_id=custom_id,
                        provider=self.provider,
                    ),
                )
            out.append(result)
        return out


def read_results(
    batch: Batch,
    custom_ids: Sequence[str],
    output_lines: Iterable[bytes],
    error_lines: Iterable[bytes],
    *,
    provider: str | None = None,
    requests: Mapping[str, ChatRequest] | None = None,
) -> list[BatchResult]:
    """One result per custom_id, in the order given, from the lines of the output and
    error files (matched by custom_id; lines for other ids are ignored)."""
    collector = ResultCollector(batch, custom_ids, provider, requests)
    collector.feed_lines(output_lines, False)
    collector.feed_lines(error_lines, True)
    return collector.results()


def not_ready(batch: Batch, what: str = "its results") -> BatchError | None:
    """The error for reading ``what`` of a batch that cannot give them (yet); None when it
    can (completed, or expired / cancelled: their missing inputs become errors)."""
    if batch.status in ("completed", "expired", "cancelled"):
        return None
    if batch.status == "failed":
        reasons = "; ".join(
            f"{e.get('code') or 'error'}: {e.get('message')}"
            + (f" (line {e['line']})" if e.get("line") is not None else "")
            for e in batch.errors[:5]
        )
        return BatchError(
            f"batch {batch.id} failed validation: {reasons or 'no reason given'}; no input "
            "was run (fix the inputs and submit a new job)",
            batch_id=batch.id,
            status=batch.status,
            body=batch.raw,
        )
    counts = batch.request_counts
    return BatchError(
        f"batch {batch.id} is {batch.status!r} ({counts.done}/{counts.total} requests done): "
        f"{what} can be read once it is completed, expired or cancelled; wait for it "
        "(batch_api_status / client.batches.wait) or cancel it",
        batch_id=batch.id,
        status=batch.status,
    )


def input_ids(lines: Iterable[bytes]) -> builtins.list[str]:
    """The custom_ids of an input file's lines, in order."""
    ids: builtins.list[str] = []
    for raw in lines:
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except (ValueError, RecursionError):
            continue
        if isinstance(line, dict) and isinstance(line.get("custom_id"), str):
            ids.append(line["custom_id"])
    return ids
