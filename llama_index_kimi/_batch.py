"""``Kimi`` on Kimi's Batch API: ``batch_chat`` / ``batch_complete`` (and async twins) and
the lifecycle by id, ``batch_api_submit`` / ``status`` / ``retrieve`` / ``cancel``.

Everything about batches is in kimi_core (``client.batches``); this module maps
LlamaIndex messages to the requests ``Kimi.chat`` would send (``Kimi._prepare``) and the
results to the ``ChatResponse`` / ``CompletionResponse`` objects ``chat`` / ``complete`` return.
``show_progress=True`` draws LlamaIndex's usual progress bar (tqdm through
``llama_index.core.utils.get_tqdm_iterable``), advanced as the batch's requests complete.
A job whose inputs were all prompts (strings) is marked in its metadata
(``kimi_output: completion``), so ``batch_api_retrieve`` gives ``CompletionResponse``
objects for it, in any process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import ChatMessage, ChatResponse, CompletionResponse
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.events.exception import ExceptionEvent
from llama_index.core.instrumentation.events.llm import (
    LLMChatEndEvent,
    LLMChatStartEvent,
    LLMCompletionEndEvent,
    LLMCompletionStartEvent,
)
from llama_index.core.utils import get_tqdm_iterable

import kimi_core as kc

from .utils import chat_response_from_completion, completion_response_from_chat

if TYPE_CHECKING:
    from .base import Kimi

__all__ = ["OUTPUT_KEY", "BatchAPIMixin"]

#: Metadata marking a job of prompts (its answers are CompletionResponse objects).
OUTPUT_KEY, COMPLETION = "kimi_output", "completion"

BatchInput = Sequence[ChatMessage] | str

dispatcher = get_dispatcher(__name__)


class _Bar:
    """LlamaIndex's progress bar for one batch (nothing when not shown)."""

    def __init__(self, show: bool, total: int) -> None:
        bar: Any = get_tqdm_iterable(range(total), show, "Kimi batch", total=total)
        self.bar: Any = bar if hasattr(bar, "update") else None
        self.done = 0
        self.statuses: list[str] = []

    def __call__(self, batch: kc.Batch) -> None:
        if not self.statuses or self.statuses[-1] != batch.status:
            self.statuses.append(batch.status)
        if self.bar is None:
            return
        done = batch.request_counts.done
        if done > self.done:
            self.bar.update(done - self.done)
            self.done = done
        self.bar.set_postfix_str(f"{batch.status} ({batch.id})")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _messages(llm: Kimi, item: BatchInput) -> tuple[Sequence[ChatMessage], bool]:
    if isinstance(item, str):
        return llm._prompt_messages(item, False), True
    if isinstance(item, ChatMessage):
        raise kc.ConfigurationError(
            "a batch input is one ChatMessage: give each input as a list of messages "
            "(batch_chat([[message], ...])) or as a prompt string",
            param="messages",
        )
    return list(item), False


def _job(
    llm: Kimi,
    inputs: Sequence[BatchInput],
    kwargs: Mapping[str, Any],
    client: kc.KimiClient | kc.AsyncKimiClient,
    return_exceptions: bool,
) -> tuple[kc.BatchJob, list[str | BaseException], bool]:
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Sequence) or not inputs:
        raise kc.ConfigurationError(
            f"inputs={inputs!r:.100} is not accepted: a non-empty list of inputs (each a "
            "list of ChatMessage, or a prompt string)",
            param="inputs",
        )
    job = client.batches.job()
    slots: list[str | BaseException] = []
    prompts = True
    for i, item in enumerate(inputs):
        try:
            messages, prompt = _messages(llm, item)
            prompts = prompts and prompt
            request = llm._prepare(messages, False, kwargs, client)
        except kc.KimiError as exc:
            exc.message = f"batch input {i}: {exc.message}"
            exc.args = (exc._render(),)
            if not return_exceptions:
                raise
            slots.append(exc)
            continue
        slots.append(job.add(request))
    return job, slots, prompts


class _Events:
    """LlamaIndex's instrumentation events for each batched input, as ``chat`` / ``complete``
    dispatch them: a start event per input before the job is submitted, then an end event
    per answer (an exception event per error), so token counters and tracers see every
    input."""

    def __init__(
        self, llm: Kimi, inputs: Sequence[BatchInput], completion: bool, kwargs: Mapping[str, Any]
    ) -> None:
        self.llm = llm
        self.inputs = inputs
        self.completion = completion
        self.kwargs = dict(kwargs)

    def start(self) -> None:
        payload = self.llm.to_payload()
        for item in self.inputs:
            if self.completion and isinstance(item, str):
                dispatcher.event(
                    LLMCompletionStartEvent(
                        prompt=item, additional_kwargs=self.kwargs, model_dict=payload
                    )
                )
            elif not isinstance(item, str):
                dispatcher.event(
                    LLMChatStartEvent(
                        messages=list(item), additional_kwargs=self.kwargs, model_dict=payload
                    )
                )

    def end(self, outputs: Sequence[Any]) -> None:
        for item, output in zip(self.inputs, outputs, strict=True):
            if isinstance(output, BaseException):
                if isinstance(output, Exception):
                    dispatcher.event(ExceptionEvent(exception=output))
            elif isinstance(output, CompletionResponse) and isinstance(item, str):
                dispatcher.event(LLMCompletionEndEvent(prompt=item, response=output))
            elif isinstance(output, ChatResponse) and not isinstance(item, str):
                dispatcher.event(LLMChatEndEvent(messages=list(item), response=output))


def _response(result: kc.BatchResult, completion: bool) -> Any:
    if result.error is not None:
        return result.error
    response = chat_response_from_completion(result.body or {}, result.request_id)
    return completion_response_from_chat(response) if completion else response


def _outputs(
    slots: Sequence[str | BaseException],
    results: Mapping[str, kc.BatchResult],
    completion: bool,
    return_exceptions: bool,
) -> list[Any]:
    out = [
        slot if isinstance(slot, BaseException) else _response(results[slot], completion)
        for slot in slots
    ]
    if not return_exceptions:
        for value in out:
            if isinstance(value, BaseException):
                raise value
    return out


def _raise_first(outputs: list[Any]) -> list[Any]:
    for value in outputs:
        if isinstance(value, BaseException):
            raise value
    return outputs


def _meta(metadata: Mapping[str, str] | None, prompts: bool) -> dict[str, str]:
    meta = dict(metadata or {})
    if prompts:
        meta[OUTPUT_KEY] = COMPLETION
    return meta


@dataclass(frozen=True)
class _Wait:
    """How ``batch_chat`` / ``batch_complete`` (and async) run and wait for their job."""

    completion: bool
    completion_window: str = "24h"
    poll_interval: float = 30.0
    timeout: float | None = None
    show_progress: bool = False
    return_exceptions: bool = False

    @classmethod
    def of(cls, kwargs: dict[str, Any], *, completion: bool) -> _Wait:
        """The options taken out of ``kwargs`` (the rest are the calls' parameters)."""
        names = [f.name for f in fields(cls) if f.name != "completion"]
        return cls(completion, **{n: kwargs.pop(n) for n in names if n in kwargs})


class _Run:
    """One ``batch_chat`` / ``batch_complete`` run, but its I/O: the job, the events, the
    progress bar (None when nothing is sent) and the outputs. The sync and async methods
    drive it the same way."""

    def __init__(
        self,
        llm: Kimi,
        inputs: Sequence[BatchInput],
        wait: _Wait,
        kwargs: Mapping[str, Any],
        client: kc.KimiClient | kc.AsyncKimiClient,
    ) -> None:
        self.job, self.slots, prompts = _job(llm, inputs, kwargs, client, wait.return_exceptions)
        self.requests = self.job.requests
        self.wait = wait
        self.submit_options: dict[str, Any] = {
            "completion_window": wait.completion_window,
            "metadata": _meta(None, wait.completion and prompts),
        }
        self.wait_options: dict[str, Any] = {
            "poll_interval": wait.poll_interval,
            "timeout": wait.timeout,
        }
        self.events = _Events(llm, inputs, wait.completion, kwargs)
        self.events.start()
        self.results: dict[str, kc.BatchResult] = {}
        self.bar = _Bar(wait.show_progress, len(self.job)) if len(self.job) else None

    def found(self, results: Sequence[kc.BatchResult]) -> None:
        self.results = {r.custom_id: r for r in results}

    def finish(self) -> list[Any]:
        outputs = _outputs(self.slots, self.results, self.wait.completion, True)
        self.events.end(outputs)
        return outputs if self.wait.return_exceptions else _raise_first(outputs)


class BatchAPIMixin:
    """The Batch API methods of :class:`~llama_index_kimi.Kimi`."""

    # ------------------------------------------------------------------ wait for it

    def batch_chat(
        self, messages_list: Sequence[Sequence[ChatMessage]], **kwargs: Any
    ) -> list[ChatResponse]:
        """Answer each message list as ``chat`` would, as one Batch API job (40 % cheaper;
        within ``completion_window``): the responses in input order.

        Keywords: ``completion_window`` (``"24h"``), ``poll_interval`` (30.0 s, then
        backing off), ``timeout`` (None: as long as the job runs), ``show_progress``
        (False), ``return_exceptions`` (False: with True an input's error takes its place
        instead of raising); the others are ``chat``'s (``tools``, ``tool_choice``,
        ``response_format``...)."""
        return self._run_batch(messages_list, _Wait.of(kwargs, completion=False), kwargs)

    def batch_complete(self, prompts: Sequence[str], **kwargs: Any) -> list[CompletionResponse]:
        """Complete each prompt as ``complete`` would, as one Batch API job (the keywords
        of :meth:`batch_chat`)."""
        return self._run_batch(prompts, _Wait.of(kwargs, completion=True), kwargs)

    def _run_batch(
        self, inputs: Sequence[BatchInput], wait: _Wait, kwargs: Mapping[str, Any]
    ) -> list[Any]:
        llm: Kimi = self  # type: ignore[assignment]
        client = llm._get_client()
        run = _Run(llm, inputs, wait, kwargs, client)
        if run.bar is not None:
            try:
                batch = client.batches.submit(run.job, **run.submit_options)
                run.bar(batch)
                done = client.batches.wait(batch.id, on_update=run.bar, **run.wait_options)
                run.found(client.batches.results(done, run.job.custom_ids, requests=run.requests))
            finally:
                run.bar.close()
        return run.finish()

    async def abatch_chat(
        self, messages_list: Sequence[Sequence[ChatMessage]], **kwargs: Any
    ) -> list[ChatResponse]:
        """Async :meth:`batch_chat`."""
        return await self._arun_batch(messages_list, _Wait.of(kwargs, completion=False), kwargs)

    async def abatch_complete(
        self, prompts: Sequence[str], **kwargs: Any
    ) -> list[CompletionResponse]:
        """Async :meth:`batch_complete`."""
        return await self._arun_batch(prompts, _Wait.of(kwargs, completion=True), kwargs)

    async def _arun_batch(
        self, inputs: Sequence[BatchInput], wait: _Wait, kwargs: Mapping[str, Any]
    ) -> list[Any]:
        llm: Kimi = self  # type: ignore[assignment]
        client = llm._get_aclient()
        run = _Run(llm, inputs, wait, kwargs, client)
        if run.bar is not None:
            try:
                batch = await client.batches.submit(run.job, **run.submit_options)
                run.bar(batch)
                done = await client.batches.wait(batch.id, on_update=run.bar, **run.wait_options)
                found = client.batches.results(done, run.job.custom_ids, requests=run.requests)
                run.found(await found)
            finally:
                run.bar.close()
        return run.finish()

    # ------------------------------------------------------------------ by id

    def batch_api_submit(
        self,
        inputs: Sequence[BatchInput],
        *,
        completion_window: str = "24h",
        metadata: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> str:
        """Submit the inputs (message lists, or prompt strings) as one job without
        waiting; returns the batch id, all ``batch_api_retrieve`` needs (in any process)."""
        llm: Kimi = self  # type: ignore[assignment]
        client = llm._get_client()
        job, _, prompts = _job(llm, inputs, kwargs, client, False)
        batch = client.batches.submit(
            job, completion_window=completion_window, metadata=_meta(metadata, prompts)
        )
        return batch.id

    async def abatch_api_submit(
        self,
        inputs: Sequence[BatchInput],
        *,
        completion_window: str = "24h",
        metadata: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> str:
        llm: Kimi = self  # type: ignore[assignment]
        client = llm._get_aclient()
        job, _, prompts = _job(llm, inputs, kwargs, client, False)
        batch = await client.batches.submit(
            job, completion_window=completion_window, metadata=_meta(metadata, prompts)
        )
        return batch.id

    def batch_api_status(self, batch_id: str) -> kc.Batch:
        """The batch: ``status``, ``request_counts``, timestamps, file ids, metadata."""
        llm: Kimi = self  # type: ignore[assignment]
        return llm._get_client().batches.retrieve(batch_id)

    async def abatch_api_status(self, batch_id: str) -> kc.Batch:
        llm: Kimi = self  # type: ignore[assignment]
        return await llm._get_aclient().batches.retrieve(batch_id)

    def batch_api_retrieve(self, batch_id: str, *, return_exceptions: bool = False) -> list[Any]:
        """The answers of a finished batch in input order: ``ChatResponse`` objects
        (``CompletionResponse`` for a job of prompts); a running batch raises
        ``kimi_core.BatchError``."""
        llm: Kimi = self  # type: ignore[assignment]
        batches = llm._get_client().batches
        batch = batches.retrieve(batch_id)
        results = batches.results(batch)
        completion = batch.metadata.get(OUTPUT_KEY) == COMPLETION
        return _outputs(
            [r.custom_id for r in results], _by_id(results), completion, return_exceptions
        )

    async def abatch_api_retrieve(
        self, batch_id: str, *, return_exceptions: bool = False
    ) -> list[Any]:
        llm: Kimi = self  # type: ignore[assignment]
        batches = llm._get_aclient().batches
        batch = await batches.retrieve(batch_id)
        results = await batches.results(batch)
        completion = batch.metadata.get(OUTPUT_KEY) == COMPLETION
        return _outputs(
            [r.custom_id for r in results], _by_id(results), completion, return_exceptions
        )

    def batch_api_cancel(self, batch_id: str) -> kc.Batch:
        """Cancel a batch (refused once it is finished)."""
        llm: Kimi = self  # type: ignore[assignment]
        return llm._get_client().batches.cancel(batch_id)

    async def abatch_api_cancel(self, batch_id: str) -> kc.Batch:
        llm: Kimi = self  # type: ignore[assignment]
        return await llm._get_aclient().batches.cancel(batch_id)


def _by_id(results: Sequence[kc.BatchResult]) -> dict[str, kc.BatchResult]:
    return {r.custom_id: r for r in results}
