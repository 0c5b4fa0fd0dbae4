"""The Batch API's calls as flows (``_drivers``), which ``Batches`` and ``AsyncBatches``
(``_batch``) run: upload, create, submit, retrieve, cancel, a page of the list, and the
result and input files read line by line as they arrive (never the whole file in memory).
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._batch_job import (
    BATCH_ENDPOINT,
    CANCELLABLE,
    BatchError,
    BatchJob,
    check_batch_id,
    check_completion_window,
    check_metadata,
)
from ._batch_results import (
    Batch,
    BatchResult,
    ResultCollector,
    _str,
    ids_from_metadata,
    input_ids,
    not_ready,
)
from ._drivers import Flow, ItemFlow
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

#: The longest result line read (a whole completion); a longer one is an error for its
#: input, the others are still read.
MAX_LINE_BYTES = 64 * 1024 * 1024


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


def lines_flow(logic: ClientLogic[Any], file_id: str) -> ItemFlow[bytes]:
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


def upload_job_flow(logic: ClientLogic[Any], content: bytes, filename: str) -> Flow[dict[str, Any]]:
    require_platform(logic, "the Batch API")
    result: dict[str, Any] = yield from upload_flow(logic, content, filename, "batch")
    return result


def _batch_flow(
    logic: ClientLogic[Any], method: str, path: str, json_body: Any = None
) -> Flow[Batch]:
    require_platform(logic, "the Batch API")
    body = yield from logic._json_flow(method, path, json_body=json_body)
    return Batch.from_body(body, logic.profile.name)


def create_flow(
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


def submit_flow(
    logic: ClientLogic[Any],
    job: BatchJob,
    completion_window: str,
    metadata: Mapping[str, Any] | None,
) -> Flow[Batch]:
    """Check, upload and create: the job's batch. Nothing is sent for a bad job."""
    check_completion_window(completion_window)
    meta = job.metadata(metadata)
    content = job.content()
    uploaded = yield from upload_job_flow(logic, content, f"{job.job_id}.jsonl")
    file_id = _str(uploaded.get("id"))
    if file_id is None:
        raise StreamError(
            f"the file upload answer has no id: {short_json(uploaded)}",
            provider=logic.profile.name,
        )
    return (yield from create_flow(logic, file_id, completion_window, meta))


def retrieve_flow(logic: ClientLogic[Any], batch_id: str) -> Flow[Batch]:
    path = f"/batches/{check_batch_id(batch_id)}"
    try:
        return (yield from _batch_flow(logic, "GET", path))
    except NotFoundError as err:
        raise _unknown(err, batch_id) from err.__cause__


def cancel_flow(logic: ClientLogic[Any], batch_id: str) -> Flow[Batch]:
    """Cancel a batch; a batch already done is refused before the call."""
    batch = yield from retrieve_flow(logic, batch_id)
    if batch.status not in CANCELLABLE:
        raise _cancel_refusal(batch)
    return (yield from _batch_flow(logic, "POST", f"/batches/{batch.id}/cancel"))


def page_flow(
    logic: ClientLogic[Any], after: str | None, limit: int
) -> Flow[tuple[list[Batch], bool]]:
    require_platform(logic, "the Batch API")
    query = f"?limit={limit}" + (f"&after={after}" if after else "")
    body = yield from logic._json_flow("GET", "/batches" + query)
    data = answer_list(logic, body, "batch list")
    has_more = bool(body.get("has_more")) if isinstance(body, dict) else False
    return [Batch.from_body(item, logic.profile.name) for item in data], has_more


def custom_ids_flow(logic: ClientLogic[Any], batch: Batch) -> Flow[list[str]]:
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
    lines = lines_flow(logic, batch.input_file_id)
    yield from _each_line(lines, lambda some: found.extend(input_ids(some)))
    return found


def results_flow(
    logic: ClientLogic[Any],
    batch: Batch | str,
    custom_ids: Sequence[str] | None,
    requests: Mapping[str, ChatRequest] | None,
) -> Flow[list[BatchResult]]:
    """One result per input, in input order (or in ``custom_ids``' order); a batch that
    is not finished or failed raises :class:`BatchError`."""
    if isinstance(batch, str):
        batch = yield from retrieve_flow(logic, batch)
    refusal = not_ready(batch)
    if refusal is not None:
        raise refusal
    if custom_ids is not None:
        ids = list(custom_ids)
    else:
        ids = yield from custom_ids_flow(logic, batch)
    collector = ResultCollector(batch, ids, logic.profile.name, requests)
    for file_id, in_error_file in ((batch.output_file_id, False), (batch.error_file_id, True)):
        if file_id:
            feed = functools.partial(collector.feed_lines, in_error_file=in_error_file)
            yield from _each_line(lines_flow(logic, file_id), feed)
    return _hidden(collector.results(), logic._maskable_key)


def check_limit(limit: Any) -> int:
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
