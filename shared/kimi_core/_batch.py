"""Kimi's Batch API: jobs of chat requests run by the provider, at 40 % of the price.

Sources (docs/batch.md has the whole story): platform.kimi.ai/docs/guide/use-batch-api and
/docs/api/batch-create, batch-list, batch-retrieve, batch-cancel (the same pages on
platform.moonshot.cn / platform.kimi.com).

The flow (the job, the batch object and the result lines are in ``_batch_job``, which does
no I/O; this module moves them):

- :class:`BatchJob` turns prepared :class:`~kimi_core.ChatRequest` objects (built by the
  same ``shape_request`` / model rules / schema normalisation / reasoning replay as a live
  call) into JSONL lines ``{"custom_id", "method": "POST", "url": "/v1/chat/completions",
  "body"}``, checking before anything is uploaded: one model per file, unique non-empty
  ``custom_id`` values, no streamed request, a non-empty file of at most 100 MB. Values a
  fixed-sampling model does not let be modified (``temperature``, ``top_p``, ``n``, the
  penalties) are left out of the body, as the guide asks. A model the guide does not list
  for batches is warned about (:class:`~kimi_core.UnconfirmedRuleWarning`), never refused.
- A job larger than 100 MB is **refused**, not split: one job is one batch id, which is
  what makes a job resumable by its id alone (a split job would be several ids, several
  partial failures, and counts against the organisation's 1,000 batch files). The error
  says how many jobs the inputs need.
- :class:`Batches` / :class:`AsyncBatches` (``client.batches``) upload the file
  (``purpose=batch``), create, retrieve, list (every page, ``after`` / ``limit``) and cancel
  batches, wait for one (polling with backoff), and read its output and error files as a
  stream of lines (never one bytes object).
- :func:`read_results` matches result lines to inputs by ``custom_id`` (never by position):
  each input gets exactly one :class:`BatchResult`, a completion body or the typed error
  its line maps to (the same mapping as a live call's error, saying the line was in the
  error file); an input missing from both files (an expired or cancelled batch) is a
  :class:`BatchError` that says so. Both result shapes are read: OpenAI's
  ``{"custom_id", "response": {"status_code", "request_id", "body"}, "error"}`` and a bare
  ``{"custom_id", "body"}`` or completion with a ``custom_id`` (the platform documents the
  line only as "the response body": **unconfirmed**).
- Resuming in another process: the default ``custom_id`` values are ``<job>-<index>`` and
  the batch's metadata carries ``kimi_job`` and ``kimi_inputs``; :meth:`Batches.custom_ids`
  gives the input order from them, or, for a batch made elsewhere, from the input file.
"""

from __future__ import annotations

import builtins
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._batch_job import (
    BATCH_ENDPOINT,
    BATCH_MODELS,
    CANCELLABLE,
    MAX_BATCH_FILE_BYTES,
    BatchError,
    BatchJob,
    check_batch_id,
    check_completion_window,
    check_metadata,
)
from ._batch_results import (
    Batch,
    BatchRequestCounts,
    BatchResult,
    ResultCollector,
    _str,
    ids_from_metadata,
    input_ids,
    not_ready,
    parse_result_line,
    read_results,
)
from ._drivers import Flow, ItemFlow, aiterate, iterate
from ._endpoints import answer_list, require_platform, upload_flow
from ._error_map import short_json
from ._errors import (
    ConfigurationError,
    KimiError,
    NotFoundError,
    StreamError,
    hide_secret,
    with_note,
)
from ._retry import NEXT_CHUNK, Close
from ._rules import ChatRequest

if TYPE_CHECKING:
    from ._base_client import ClientLogic
    from ._transport import AsyncKimiClient, KimiClient

__all__ = [
    "BATCH_ENDPOINT",
    "BATCH_MODELS",
    "MAX_BATCH_FILE_BYTES",
    "AsyncBatches",
    "Batch",
    "BatchError",
    "BatchJob",
    "BatchRequestCounts",
    "BatchResult",
    "Batches",
    "check_completion_window",
    "check_metadata",
    "parse_result_line",
    "read_results",
]

#: The longest result line read (a whole completion); a longer one is an error for its
#: input, the others are still read.
MAX_LINE_BYTES = 64 * 1024 * 1024


# --------------------------------------------------------------------------- flows


class _LineSplitter:
    """Bytes in, complete lines out (bytes-level, bounded per line)."""

    __slots__ = ("buffer", "limit", "too_long")

    def __init__(self, limit: int) -> None:
        self.buffer = bytearray()
        self.limit = limit
        self.too_long = False

    def feed(self, chunk: bytes) -> list[bytes]:
        buffer = self.buffer
        start = 0
        out: list[bytes] = []
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                break
            if self.too_long:
                self.too_long = False
            else:
                buffer += chunk[start:end]
                out.append(bytes(buffer))
            buffer.clear()
            start = end + 1
        rest = chunk[start:]
        if not self.too_long:
            if len(buffer) + len(rest) > self.limit:
                self.too_long = True
                buffer.clear()
                out.append(b'{"kimi_line_too_long": true}')
            else:
                buffer += rest
        return out

    def flush(self) -> list[bytes]:
        line = bytes(self.buffer)
        self.buffer.clear()
        return [line] if line.strip() else []


def _lines_flow(logic: ClientLogic[Any], file_id: str) -> ItemFlow[bytes]:
    """The lines of a file's content, as they arrive (retried only before the first)."""
    require_platform(logic, "batch files")
    response, _, _ = yield from logic._attempts(
        "GET", f"/files/{file_id}/content", stream=True, raw_stream=True
    )
    splitter = _LineSplitter(MAX_LINE_BYTES)
    try:
        while True:
            chunk = yield NEXT_CHUNK
            if chunk is None:
                break
            if chunk.__class__ is not bytes:
                raise logic._connection_error(chunk)
            lines = splitter.feed(chunk)
            if lines:
                yield lines
        rest = splitter.flush()
        if rest:
            yield rest
    finally:
        yield Close(response)


def _each_line(lines: ItemFlow[bytes], sink: Callable[[list[bytes]], object]) -> Flow[None]:
    """``lines`` run inside another flow: its steps passed on, its lines given to ``sink``
    as they come (never the whole file in memory)."""
    outcome = None
    while True:
        try:
            step = lines.send(outcome)
        except StopIteration:
            return
        if isinstance(step, list):
            sink(step)
            outcome = None
        else:
            outcome = yield step


def _upload_job_flow(
    logic: ClientLogic[Any], content: bytes, filename: str
) -> Flow[dict[str, Any]]:
    require_platform(logic, "the Batch API")
    result: dict[str, Any] = yield from upload_flow(logic, content, filename, "batch")
    return result


def _batch_flow(
    logic: ClientLogic[Any], method: str, path: str, json_body: Any = None
) -> Flow[Batch]:
    require_platform(logic, "the Batch API")
    body = yield from logic._json_flow(method, path, json_body=json_body)
    return Batch.from_body(body, logic.profile.name)


def _create_flow(
    logic: ClientLogic[Any],
    input_file_id: str,
    completion_window: str,
    metadata: Mapping[str, Any] | None,
) -> Flow[Batch]:
    body: dict[str, Any] = {
        "input_file_id": input_file_id,
        "endpoint": BATCH_ENDPOINT,
        "completion_window": check_completion_window(completion_window),
    }
    checked = check_metadata(metadata)
    if checked:
        body["metadata"] = checked
    return (yield from _batch_flow(logic, "POST", "/batches", body))


def _submit_flow(
    logic: ClientLogic[Any],
    job: BatchJob,
    completion_window: str,
    metadata: Mapping[str, Any] | None,
) -> Flow[Batch]:
    """Check, upload and create: the job's batch. Nothing is sent for a bad job."""
    check_completion_window(completion_window)
    meta = job.metadata(metadata)
    content = job.content()
    uploaded = yield from _upload_job_flow(logic, content, f"{job.job_id}.jsonl")
    file_id = _str(uploaded.get("id"))
    if file_id is None:
        raise StreamError(
            f"the file upload answer has no id: {short_json(uploaded)}",
            provider=logic.profile.name,
        )
    return (yield from _create_flow(logic, file_id, completion_window, meta))


def _retrieve_flow(logic: ClientLogic[Any], batch_id: str) -> Flow[Batch]:
    path = f"/batches/{check_batch_id(batch_id)}"
    try:
        return (yield from _batch_flow(logic, "GET", path))
    except NotFoundError as err:
        raise _unknown(err, batch_id) from err.__cause__


def _cancel_flow(logic: ClientLogic[Any], batch_id: str) -> Flow[Batch]:
    """Cancel a batch; a batch already done is refused before the call."""
    batch = yield from _retrieve_flow(logic, batch_id)
    if batch.status not in CANCELLABLE:
        raise _cancel_refusal(batch)
    return (yield from _batch_flow(logic, "POST", f"/batches/{batch.id}/cancel"))


def _page_flow(
    logic: ClientLogic[Any], after: str | None, limit: int
) -> Flow[tuple[list[Batch], bool]]:
    require_platform(logic, "the Batch API")
    query = f"?limit={limit}" + (f"&after={after}" if after else "")
    body = yield from logic._json_flow("GET", "/batches" + query)
    data = answer_list(logic, body, "batch list")
    has_more = bool(body.get("has_more")) if isinstance(body, dict) else False
    return [Batch.from_body(item, logic.profile.name) for item in data], has_more


def _custom_ids_flow(logic: ClientLogic[Any], batch: Batch) -> Flow[list[str]]:
    """The batch's custom_ids in input order: from its metadata (a job this client
    built), else from its input file."""
    ids = ids_from_metadata(batch)
    if ids is not None:
        return ids
    if batch.input_file_id is None:
        raise BatchError(
            f"batch {batch.id} has no input file id and no job metadata: its inputs' "
            "order is unknown",
            batch_id=batch.id,
            status=batch.status,
        )
    found: list[str] = []
    lines = _lines_flow(logic, batch.input_file_id)
    yield from _each_line(lines, lambda some: found.extend(input_ids(some)))
    return found


def _results_flow(
    logic: ClientLogic[Any],
    batch: Batch | str,
    custom_ids: Sequence[str] | None,
    requests: Mapping[str, ChatRequest] | None,
) -> Flow[list[BatchResult]]:
    """One result per input, in input order (or in ``custom_ids``' order); a batch that
    is not finished or failed raises :class:`BatchError`."""
    if isinstance(batch, str):
        batch = yield from _retrieve_flow(logic, batch)
    refusal = not_ready(batch)
    if refusal is not None:
        raise refusal
    if custom_ids is not None:
        ids = list(custom_ids)
    else:
        ids = yield from _custom_ids_flow(logic, batch)
    collector = ResultCollector(batch, ids, logic.profile.name, requests)
    for file_id, in_error_file in ((batch.output_file_id, False), (batch.error_file_id, True)):
        if file_id:
            feed = functools.partial(collector.feed_lines, in_error_file=in_error_file)
            yield from _each_line(_lines_flow(logic, file_id), feed)
    return _hidden(collector.results(), logic._maskable_key)


def _check_limit(limit: Any) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100:
        raise ConfigurationError(
            f"limit={limit!r} is not accepted: batches per page, from 1 to 100 (default 20)",
            param="limit",
        )
    return limit


def _unknown(err: NotFoundError, batch_id: str) -> KimiError:
    return with_note(err, f"batch_id={batch_id!r}: no batch with this id for this key")


def _cancel_refusal(batch: Batch) -> ConfigurationError:
    return ConfigurationError(
        f"batch {batch.id} cannot be cancelled: it is {batch.status!r}; a batch can be "
        f"cancelled only while {', '.join(sorted(CANCELLABLE))}",
        param="batch_id",
    )


def _hidden(results: builtins.list[BatchResult], key: str) -> builtins.list[BatchResult]:
    """``results`` with the key masked in every error, as a live call's error is (a
    server that echoes the ``Authorization`` header into a line's body)."""
    for result in results:
        if result.error is not None and key:
            hide_secret(result.error, key)
    return results


@dataclass
class _Poller:
    """Polling with backoff: from ``interval``, times 1.5 per poll, up to ten times the
    interval (at most a minute, never less than the interval), until ``timeout``."""

    interval: float
    timeout: float | None
    start: float = field(default_factory=time.monotonic)
    polls: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.interval, bool) or not self.interval > 0:
            raise ConfigurationError(
                f"poll_interval={self.interval!r} is not accepted: a positive number of seconds",
                param="poll_interval",
            )
        if self.timeout is not None and (isinstance(self.timeout, bool) or not self.timeout > 0):
            raise ConfigurationError(
                f"timeout={self.timeout!r} is not accepted: a positive number of seconds, or "
                "None to wait as long as the batch runs",
                param="timeout",
            )

    def next_wait(self, batch: Batch) -> float:
        """Seconds to wait before the next poll; a BatchError when the timeout is reached."""
        cap = min(self.interval * 10, max(self.interval, 60.0))
        wait = min(self.interval * 1.5**self.polls, cap)
        self.polls += 1
        if self.timeout is not None:
            left = self.timeout - (time.monotonic() - self.start)
            if left <= 0:
                counts = batch.request_counts
                raise BatchError(
                    f"batch {batch.id} is still {batch.status!r} after {self.timeout:g}s "
                    f"({counts.done}/{counts.total} requests done); it keeps running: read "
                    "its results later by its id (batch_api_retrieve) or cancel it",
                    batch_id=batch.id,
                    status=batch.status,
                )
            wait = min(wait, left)
        return wait


OnUpdate = Callable[[Batch], Any]


class _BatchesBase:
    def __init__(self, client: KimiClient | AsyncKimiClient) -> None:
        self._client = client

    @property
    def provider(self) -> str:
        return self._client.profile.name

    def job(self, *, job_id: str | None = None) -> BatchJob:
        """A new, empty job for this client's provider."""
        return BatchJob(job_id=job_id, provider=self.provider)


class Batches(_BatchesBase):
    """The Batch API of a :class:`~kimi_core.KimiClient` (``client.batches``)."""

    _client: KimiClient

    def upload(self, job: BatchJob | bytes, *, filename: str = "batch.jsonl") -> dict[str, Any]:
        """Upload a job's JSONL file (``purpose=batch``); the file object."""
        content = job.content() if isinstance(job, BatchJob) else job
        return self._client._run(_upload_job_flow(self._client, content, filename))

    def create(
        self,
        input_file_id: str,
        *,
        completion_window: str = "24h",
        metadata: Mapping[str, Any] | None = None,
    ) -> Batch:
        """Create a batch over an uploaded ``purpose=batch`` file."""
        flow = _create_flow(self._client, input_file_id, completion_window, metadata)
        return self._client._run(flow)

    def submit(
        self,
        job: BatchJob,
        *,
        completion_window: str = "24h",
        metadata: Mapping[str, Any] | None = None,
    ) -> Batch:
        """Check, upload and create: the job's batch. Nothing is sent for a bad job."""
        return self._client._run(_submit_flow(self._client, job, completion_window, metadata))

    def retrieve(self, batch_id: str) -> Batch:
        return self._client._run(_retrieve_flow(self._client, batch_id))

    def list(self, *, after: str | None = None, limit: int = 20) -> Iterator[Batch]:
        """Every batch, page after page (``limit`` per page), from after ``after``."""
        _check_limit(limit)
        while True:
            page, has_more = self._client._run(_page_flow(self._client, after, limit))
            yield from page
            if not has_more or not page:
                return
            after = page[-1].id

    def cancel(self, batch_id: str) -> Batch:
        """Cancel a batch (``cancelling``, then ``cancelled``); a batch already done is
        refused before the call."""
        return self._client._run(_cancel_flow(self._client, batch_id))

    def wait(
        self,
        batch_id: str,
        *,
        poll_interval: float = 30.0,
        timeout: float | None = None,
        on_update: OnUpdate | None = None,
    ) -> Batch:
        """Poll until the batch is done (see :class:`_Poller`); ``on_update`` gets each
        batch object polled."""
        poller = _Poller(poll_interval, timeout)
        while True:
            batch = self.retrieve(batch_id)
            if on_update is not None:
                on_update(batch)
            if batch.done:
                return batch
            time.sleep(poller.next_wait(batch))

    def iter_lines(self, file_id: str) -> Iterator[bytes]:
        """The lines of a file's content, streamed (never the whole file in memory)."""
        return iterate(self._client._client, _lines_flow(self._client, file_id))

    def custom_ids(self, batch: Batch) -> builtins.list[str]:
        """The batch's custom_ids in input order: from its metadata (a job this client
        built), else from its input file."""
        return self._client._run(_custom_ids_flow(self._client, batch))

    def results(
        self,
        batch: Batch | str,
        custom_ids: Sequence[str] | None = None,
        *,
        requests: Mapping[str, ChatRequest] | None = None,
    ) -> builtins.list[BatchResult]:
        """One result per input, in input order (or in ``custom_ids``' order); a batch that
        is not finished or failed raises :class:`BatchError`."""
        return self._client._run(_results_flow(self._client, batch, custom_ids, requests))


class AsyncBatches(_BatchesBase):
    """The async twin of :class:`Batches` (``async_client.batches``)."""

    _client: AsyncKimiClient

    async def upload(
        self, job: BatchJob | bytes, *, filename: str = "batch.jsonl"
    ) -> dict[str, Any]:
        content = job.content() if isinstance(job, BatchJob) else job
        return await self._client._run(_upload_job_flow(self._client, content, filename))

    async def create(
        self,
        input_file_id: str,
        *,
        completion_window: str = "24h",
        metadata: Mapping[str, Any] | None = None,
    ) -> Batch:
        """Create a batch over an uploaded ``purpose=batch`` file."""
        flow = _create_flow(self._client, input_file_id, completion_window, metadata)
        return await self._client._run(flow)

    async def submit(
        self,
        job: BatchJob,
        *,
        completion_window: str = "24h",
        metadata: Mapping[str, Any] | None = None,
    ) -> Batch:
        """Check, upload and create: the job's batch. Nothing is sent for a bad job."""
        return await self._client._run(_submit_flow(self._client, job, completion_window, metadata))

    async def retrieve(self, batch_id: str) -> Batch:
        return await self._client._run(_retrieve_flow(self._client, batch_id))

    async def list(self, *, after: str | None = None, limit: int = 20) -> AsyncIterator[Batch]:
        _check_limit(limit)
        while True:
            page, has_more = await self._client._run(_page_flow(self._client, after, limit))
            for batch in page:
                yield batch
            if not has_more or not page:
                return
            after = page[-1].id

    async def cancel(self, batch_id: str) -> Batch:
        return await self._client._run(_cancel_flow(self._client, batch_id))

    async def wait(
        self,
        batch_id: str,
        *,
        poll_interval: float = 30.0,
        timeout: float | None = None,
        on_update: Callable[[Batch], Awaitable[Any] | Any] | None = None,
    ) -> Batch:
        import asyncio
        import inspect

        poller = _Poller(poll_interval, timeout)
        while True:
            batch = await self.retrieve(batch_id)
            if on_update is not None:
                outcome = on_update(batch)
                if inspect.isawaitable(outcome):
                    await outcome
            if batch.done:
                return batch
            await asyncio.sleep(poller.next_wait(batch))

    def iter_lines(self, file_id: str) -> AsyncIterator[bytes]:
        return aiterate(self._client._client, _lines_flow(self._client, file_id))

    async def custom_ids(self, batch: Batch) -> builtins.list[str]:
        return await self._client._run(_custom_ids_flow(self._client, batch))

    async def results(
        self,
        batch: Batch | str,
        custom_ids: Sequence[str] | None = None,
        *,
        requests: Mapping[str, ChatRequest] | None = None,
    ) -> builtins.list[BatchResult]:
        return await self._client._run(_results_flow(self._client, batch, custom_ids, requests))
