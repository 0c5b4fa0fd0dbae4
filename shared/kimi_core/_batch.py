"""Kimi's Batch API: jobs of chat requests run by the provider, at 40 % of the price.

Sources (docs/batch.md has the whole story): platform.kimi.ai/docs/guide/use-batch-api and
/docs/api/batch-create, batch-list, batch-retrieve, batch-cancel (the same pages on
platform.moonshot.cn / platform.kimi.com).

The flow (the job is in ``_batch_job``, the batch object and the result lines in
``_batch_results``; both do no I/O; this module moves them):

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
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._batch_flows import (
    _LineSplitter as _LineSplitter,  # read by the tests here
)
from ._batch_flows import (
    cancel_flow,
    check_limit,
    create_flow,
    custom_ids_flow,
    lines_flow,
    page_flow,
    results_flow,
    retrieve_flow,
    submit_flow,
    upload_job_flow,
)
from ._batch_job import (
    BATCH_ENDPOINT,
    BATCH_MODELS,
    MAX_BATCH_FILE_BYTES,
    BatchError,
    BatchJob,
    check_completion_window,
    check_metadata,
)
from ._batch_results import (
    Batch,
    BatchRequestCounts,
    BatchResult,
    parse_result_line,
    read_results,
)
from ._drivers import aiterate, iterate
from ._errors import ConfigurationError
from ._rules import ChatRequest

if TYPE_CHECKING:
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
        return self._client._run(upload_job_flow(self._client, content, filename))

    def create(
        self,
        input_file_id: str,
        *,
        completion_window: str = "24h",
        metadata: Mapping[str, Any] | None = None,
    ) -> Batch:
        """Create a batch over an uploaded ``purpose=batch`` file."""
        flow = create_flow(self._client, input_file_id, completion_window, metadata)
        return self._client._run(flow)

    def submit(
        self,
        job: BatchJob,
        *,
        completion_window: str = "24h",
        metadata: Mapping[str, Any] | None = None,
    ) -> Batch:
        """Check, upload and create: the job's batch. Nothing is sent for a bad job."""
        return self._client._run(submit_flow(self._client, job, completion_window, metadata))

    def retrieve(self, batch_id: str) -> Batch:
        return self._client._run(retrieve_flow(self._client, batch_id))

    def list(self, *, after: str | None = None, limit: int = 20) -> Iterator[Batch]:
        """Every batch, page after page (``limit`` per page), from after ``after``."""
        check_limit(limit)
        while True:
            page, has_more = self._client._run(page_flow(self._client, after, limit))
            yield from page
            if not has_more or not page:
                return
            after = page[-1].id

    def cancel(self, batch_id: str) -> Batch:
        """Cancel a batch (``cancelling``, then ``cancelled``); a batch already done is
        refused before the call."""
        return self._client._run(cancel_flow(self._client, batch_id))

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
        return iterate(self._client._io, lines_flow(self._client, file_id))

    def custom_ids(self, batch: Batch) -> builtins.list[str]:
        """The batch's custom_ids in input order: from its metadata (a job this client
        built), else from its input file."""
        return self._client._run(custom_ids_flow(self._client, batch))

    def results(
        self,
        batch: Batch | str,
        custom_ids: Sequence[str] | None = None,
        *,
        requests: Mapping[str, ChatRequest] | None = None,
    ) -> builtins.list[BatchResult]:
        """One result per input, in input order (or in ``custom_ids``' order); a batch that
        is not finished or failed raises :class:`BatchError`."""
        return self._client._run(results_flow(self._client, batch, custom_ids, requests))


class AsyncBatches(_BatchesBase):
    """The async twin of :class:`Batches` (``async_client.batches``)."""

    _client: AsyncKimiClient

    async def upload(
        self, job: BatchJob | bytes, *, filename: str = "batch.jsonl"
    ) -> dict[str, Any]:
        content = job.content() if isinstance(job, BatchJob) else job
        return await self._client._run(upload_job_flow(self._client, content, filename))

    async def create(
        self,
        input_file_id: str,
        *,
        completion_window: str = "24h",
        metadata: Mapping[str, Any] | None = None,
    ) -> Batch:
        """Create a batch over an uploaded ``purpose=batch`` file."""
        flow = create_flow(self._client, input_file_id, completion_window, metadata)
        return await self._client._run(flow)

    async def submit(
        self,
        job: BatchJob,
        *,
        completion_window: str = "24h",
        metadata: Mapping[str, Any] | None = None,
    ) -> Batch:
        """Check, upload and create: the job's batch. Nothing is sent for a bad job."""
        return await self._client._run(submit_flow(self._client, job, completion_window, metadata))

    async def retrieve(self, batch_id: str) -> Batch:
        return await self._client._run(retrieve_flow(self._client, batch_id))

    async def list(self, *, after: str | None = None, limit: int = 20) -> AsyncIterator[Batch]:
        check_limit(limit)
        while True:
            page, has_more = await self._client._run(page_flow(self._client, after, limit))
            for batch in page:
                yield batch
            if not has_more or not page:
                return
            after = page[-1].id

    async def cancel(self, batch_id: str) -> Batch:
        return await self._client._run(cancel_flow(self._client, batch_id))

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
        return aiterate(self._client._io, lines_flow(self._client, file_id))

    async def custom_ids(self, batch: Batch) -> builtins.list[str]:
        return await self._client._run(custom_ids_flow(self._client, batch))

    async def results(
        self,
        batch: Batch | str,
        custom_ids: Sequence[str] | None = None,
        *,
        requests: Mapping[str, ChatRequest] | None = None,
    ) -> builtins.list[BatchResult]:
        return await self._client._run(results_flow(self._client, batch, custom_ids, requests))
