"""The Batch API's data, without I/O: the job file and its checks, the batch object, and the
result lines matched to inputs by ``custom_id`` (``kimi_core._batch`` has the resource that
moves them; its docstring has the sources and the decisions).
"""

from __future__ import annotations

import builtins
import contextlib
import json
import math
import re
import secrets
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._errors import ConfigurationError, KimiError, StreamError, make_status_error, short_json
from ._models import UnconfirmedRuleWarning
from ._rules import ChatRequest
from ._stream import MalformedChunkError, first_usable_choice, normalize_completion
from ._thinking import check_answer

__all__ = [
    "BATCH_ENDPOINT",
    "BATCH_MODELS",
    "CANCELLABLE",
    "INPUTS_KEY",
    "JOB_KEY",
    "MAX_BATCH_FILE_BYTES",
    "TERMINAL",
    "Batch",
    "BatchError",
    "BatchJob",
    "BatchRequestCounts",
    "BatchResult",
    "ResultCollector",
    "batch_body",
    "check_batch_id",
    "check_completion_window",
    "check_metadata",
    "ids_from_metadata",
    "input_ids",
    "not_ready",
    "parse_result_line",
    "read_results",
]

#: The only endpoint a batch runs (batch-create: "only /v1/chat/completions").
BATCH_ENDPOINT = "/v1/chat/completions"
#: The largest input file (batch-create: "non-empty, max 100MB").
MAX_BATCH_FILE_BYTES = 100 * 1024 * 1024
#: The models the guide names for batches: first "only kimi-k2.5", later "kimi-k2.6 and
#: kimi-k2.5". Others (kimi-k3, kimi-k2.7-code) are not confirmed: warned, never refused.
BATCH_MODELS = frozenset({"kimi-k2.6", "kimi-k2.5"})
#: batch-create: completion_window "12h" ... "7d" (pages show 24h, 1d, 3d).
_MIN_WINDOW_HOURS, _MAX_WINDOW_HOURS = 12, 7 * 24
_WINDOW = re.compile(r"([0-9]{1,4})([hd])")
#: batch-create: metadata at most 16 pairs, key <= 64 characters, value <= 512.
_MAX_METADATA, _MAX_KEY, _MAX_VALUE = 16, 64, 512
#: The metadata keys this module writes (so a job resumes from its id alone).
JOB_KEY, INPUTS_KEY = "kimi_job", "kimi_inputs"
#: The statuses after which a batch changes no more.
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
#: The statuses a batch can be cancelled in (batch-cancel).
CANCELLABLE = frozenset({"validating", "in_progress", "finalizing"})
#: The body fields a fixed-sampling model does not let be modified, by the catalogue
#: attribute that says it is fixed.
_FIXED_FIELDS = (
    ("fixed_temperature", ("temperature",)),
    ("fixed_top_p", ("top_p",)),
    ("fixed_n", ("n",)),
    ("fixed_penalties", ("presence_penalty", "frequency_penalty")),
)


class BatchError(KimiError):
    """A batch input without an answer, or a batch that cannot give its results (yet).

    ``batch_id``, ``status`` (the batch's) and ``custom_id`` (the input's, when the error
    is about one input) say which; ``status_code`` is None. Raised for a batch that is not
    finished, one that failed, expired or was cancelled, a wait that ran out of time, and
    given as the result of an input in the error file or missing from both files.
    """

    def __init__(
        self,
        message: str,
        *,
        batch_id: str | None = None,
        status: str | None = None,
        custom_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.batch_id = batch_id
        self.status = status
        self.custom_id = custom_id
        super().__init__(message, **kwargs)

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_batch_error,
            (
                type(self),
                self.message,
                {
                    "batch_id": self.batch_id,
                    "status": self.status,
                    "custom_id": self.custom_id,
                    "code": self.code,
                    "provider": self.provider,
                    "request_id": self.request_id,
                    "body": self.body,
                },
            ),
        )


def _rebuild_batch_error(cls: type[BatchError], message: str, fields: dict[str, Any]) -> BatchError:
    return cls(message, **fields)


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


# --------------------------------------------------------------------------- checks


def check_completion_window(window: Any) -> str:
    """``window`` if the platform takes it: ``"<N>h"`` or ``"<N>d"`` from 12 hours to 7
    days (``"12h"``, ``"24h"``, ``"1d"``, ``"3d"``, ``"7d"``); else a ConfigurationError."""
    match = _WINDOW.fullmatch(window) if isinstance(window, str) else None
    if match is not None:
        hours = int(match.group(1)) * (24 if match.group(2) == "d" else 1)
        if _MIN_WINDOW_HOURS <= hours <= _MAX_WINDOW_HOURS:
            return str(window)
    raise ConfigurationError(
        f"completion_window={window!r} is not accepted by the Batch API: hours or days "
        "from 12h to 7d, e.g. '12h', '24h', '1d', '3d', '7d'",
        param="completion_window",
    )


def check_metadata(metadata: Mapping[str, Any] | None) -> dict[str, str]:
    """``metadata`` as the platform takes it (at most 16 pairs of strings, keys of at most
    64 characters, values of at most 512), or a ConfigurationError naming what is wrong."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise ConfigurationError(
            f"metadata={metadata!r:.100} is not accepted: a mapping of strings to strings",
            param="metadata",
        )
    if len(metadata) > _MAX_METADATA:
        raise ConfigurationError(
            f"metadata has {len(metadata)} pairs: the Batch API takes at most {_MAX_METADATA} "
            f"(this client uses {JOB_KEY!r} and {INPUTS_KEY!r} of them to resume a job by id)",
            param="metadata",
        )
    out: dict[str, str] = {}
    for key, value in metadata.items():
        if not isinstance(key, str) or not key or len(key) > _MAX_KEY:
            raise ConfigurationError(
                f"metadata key {key!r:.100} is not accepted: a non-empty string of at most "
                f"{_MAX_KEY} characters",
                param="metadata",
            )
        if not isinstance(value, str) or len(value) > _MAX_VALUE:
            shown = (
                f"a string of {len(value)} characters" if isinstance(value, str) else repr(value)
            )
            raise ConfigurationError(
                f"metadata[{key!r}] = {shown:.100} is not accepted: a string of at most "
                f"{_MAX_VALUE} characters",
                param="metadata",
            )
        out[key] = value
    return out


def check_batch_id(batch_id: Any) -> str:
    if not isinstance(batch_id, str) or not batch_id.strip() or "/" in batch_id:
        raise ConfigurationError(
            f"batch_id={batch_id!r:.100} is not accepted: the id of a batch (a non-empty "
            "string without '/', as batch_api_submit or client.batches.create returned it)",
            param="batch_id",
        )
    return batch_id


# --------------------------------------------------------------------------- the job builder

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class BatchJob:
    """The JSONL input file of one batch, built from prepared chat requests.

    ``add`` checks each request as it comes (not streamed, the job's one model, a unique
    ``custom_id``) and encodes its line at once; :meth:`content` checks the whole (not
    empty, at most 100 MB) and returns the file. ``custom_id`` defaults to
    ``<job id>-<index>`` (``job_id`` defaults to ``kimi-`` and 12 random hex digits).
    """

    def __init__(self, *, job_id: str | None = None, provider: str | None = None) -> None:
        if job_id is not None and (not isinstance(job_id, str) or not job_id or len(job_id) > 64):
            raise ConfigurationError(
                f"job_id={job_id!r:.100} is not accepted: a non-empty string of at most 64 "
                "characters",
                param="job_id",
            )
        self.job_id = job_id or f"kimi-{secrets.token_hex(6)}"
        self.provider = provider
        self.model: str | None = None
        self.custom_ids: list[str] = []
        #: The requests by custom_id (their thinking plans check the answers).
        self.requests: dict[str, ChatRequest] = {}
        self._lines: list[bytes] = []
        self._size = 0
        self._warned = False

    def __len__(self) -> int:
        return len(self._lines)

    @property
    def size(self) -> int:
        """The bytes of the file so far."""
        return self._size

    def add(self, request: ChatRequest, custom_id: str | None = None) -> str:
        """Add one request; returns its ``custom_id``."""
        index = len(self._lines)
        if custom_id is None:
            custom_id = f"{self.job_id}-{index}"
        elif not isinstance(custom_id, str) or not custom_id:
            raise ConfigurationError(
                f"custom_id={custom_id!r:.100} (input {index}) is not accepted: a non-empty "
                "string, unique within the batch",
                param="custom_id",
                provider=self.provider,
            )
        if custom_id in self.requests:
            raise ConfigurationError(
                f"custom_id={custom_id!r} is used twice (inputs "
                f"{self.custom_ids.index(custom_id)} and {index}): the Batch API requires "
                "each custom_id to be unique within the file",
                param="custom_id",
                provider=self.provider,
            )
        if request.stream:
            raise ConfigurationError(
                f"input {index} is a streamed request: a batch answers whole completions "
                "(stream=False)",
                param="stream",
                provider=self.provider,
                model=request.model.id,
            )
        model = request.model.id
        if self.model is None:
            self.model = model
            self._warn_model(model)
        elif model != self.model:
            raise ConfigurationError(
                f"input {index} uses model {model!r}, but the job uses {self.model!r}: the "
                "Batch API takes one model per file (submit one job per model)",
                param="model",
                provider=self.provider,
                model=model,
            )
        line = _encode(
            {
                "custom_id": custom_id,
                "method": "POST",
                "url": BATCH_ENDPOINT,
                "body": batch_body(request),
            }
        ).encode()
        self._lines.append(line)
        self._size += len(line) + 1
        self.custom_ids.append(custom_id)
        self.requests[custom_id] = request
        return custom_id

    def _warn_model(self, model: str) -> None:
        if model not in BATCH_MODELS and not self._warned:
            self._warned = True
            warnings.warn(
                f"model {model!r} is not among the models the Batch API guide names "
                f"({', '.join(sorted(BATCH_MODELS))}); the job is submitted anyway (the "
                "model list is unconfirmed): the platform may refuse it at validation",
                UnconfirmedRuleWarning,
                stacklevel=3,
            )

    def check(self) -> None:
        """Refuse an empty job and one over 100 MB (see the module docstring: not split)."""
        if not self._lines:
            raise ConfigurationError(
                "the batch has no inputs: give at least one (the Batch API refuses an empty file)",
                param="inputs",
                provider=self.provider,
            )
        if self._size > MAX_BATCH_FILE_BYTES:
            parts = math.ceil(self._size / MAX_BATCH_FILE_BYTES)
            raise ConfigurationError(
                f"the batch file would be {self._size:,} bytes ({len(self._lines)} inputs): "
                f"the Batch API takes at most {MAX_BATCH_FILE_BYTES:,} bytes (100 MB) per "
                f"file. Submit the inputs as at least {parts} jobs; this client does not "
                "split a job, so that one job stays one batch id you can resume",
                param="inputs",
                provider=self.provider,
            )

    def content(self) -> bytes:
        """The JSONL file (checked: see :meth:`check`)."""
        self.check()
        return b"\n".join(self._lines) + b"\n"

    def metadata(self, extra: Mapping[str, Any] | None = None) -> dict[str, str]:
        """The batch metadata: ``extra`` (checked) and what resumes the job by id alone."""
        given = dict(extra or {})
        for key in (JOB_KEY, INPUTS_KEY):
            if key in given:
                raise ConfigurationError(
                    f"metadata key {key!r} is reserved: this client stores the job's "
                    "custom_id scheme in it",
                    param="metadata",
                )
        given[JOB_KEY] = self.job_id
        given[INPUTS_KEY] = str(len(self._lines))
        return check_metadata(given)

    @property
    def default_ids(self) -> bool:
        """Whether every custom_id is ``<job id>-<index>`` (then metadata resumes it)."""
        prefix = self.job_id + "-"
        return all(cid == f"{prefix}{i}" for i, cid in enumerate(self.custom_ids))


def batch_body(request: ChatRequest) -> dict[str, Any]:
    """The body of a request as a batch line carries it: without ``stream`` fields, and
    without the sampling values the model does not let be modified (the guide: "do not
    include them in the request body")."""
    body = {k: v for k, v in request.body.items() if k not in ("stream", "stream_options")}
    info = request.model
    for attr, names in _FIXED_FIELDS:
        if getattr(info, attr, None) is not None:
            for name in names:
                body.pop(name, None)
    return body


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
    for raw in output_lines:
        collector.feed(raw, False)
    for raw in error_lines:
        collector.feed(raw, True)
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
