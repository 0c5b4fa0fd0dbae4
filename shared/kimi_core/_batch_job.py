"""The Batch API's input, without I/O: the job file and its checks (``kimi_core._batch`` has
the resource that moves it, and its docstring the sources and the decisions; the batch
object and the result lines are in ``_batch_results``).
"""

from __future__ import annotations

import json
import math
import re
import secrets
import warnings
from collections.abc import Mapping
from typing import Any

from ._errors import ConfigurationError, KimiError
from ._models import UnconfirmedRuleWarning
from ._rules import ChatRequest

__all__ = [
    "BATCH_ENDPOINT",
    "BATCH_MODELS",
    "CANCELLABLE",
    "INPUTS_KEY",
    "JOB_KEY",
    "MAX_BATCH_FILE_BYTES",
    "TERMINAL",
    "BatchError",
    "BatchJob",
    "batch_body",
    "check_batch_id",
    "check_completion_window",
    "check_metadata",
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
        self.batch_id, self.status, self.custom_id = batch_id, status, custom_id
        super().__init__(message, **kwargs)

    def __reduce__(self) -> tuple[Any, ...]:
        fields = self._fields()
        fields.update(batch_id=self.batch_id, status=self.status, custom_id=self.custom_id)
        return (_rebuild_batch_error, (type(self), self.message, fields))


def _rebuild_batch_error(cls: type[BatchError], message: str, fields: dict[str, Any]) -> BatchError:
    return cls(message, **fields)


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
