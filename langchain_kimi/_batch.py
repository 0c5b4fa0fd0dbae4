"""``ChatKimi`` on Kimi's Batch API: ``batch`` / ``abatch`` with ``use_batch_api=True`` and
the explicit lifecycle ``batch_api_submit`` / ``status`` / ``retrieve`` / ``cancel``.

Everything about batches is in kimi_core (``client.batches``: the job file, its checks,
the result lines matched by ``custom_id``); this module only maps LangChain's inputs to prepared
requests (``ChatKimi._prepare``: the very request ``invoke`` would send, with the bound
tools, ``tool_choice`` and ``response_format``) and the results to ``AIMessage`` objects
(``completion_to_result``, as ``invoke`` builds them), with the callbacks of a LangChain run
per input and the batch's progress as a custom event (``kimi_batch_status``) and, when
``batch_progress=True``, as a line on stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import (
    AsyncCallbackManager,
    AsyncCallbackManagerForLLMRun,
    CallbackManager,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import get_config_list

import kimi_core as kc

from ._convert import apply_invalid_tool_calls, completion_to_result
from ._errors import to_langchain_error

if TYPE_CHECKING:
    from .chat_models import ChatKimi

__all__ = ["EVENT", "BatchProgress", "Prepared"]

#: The custom event each status change of a batch is dispatched as.
EVENT = "kimi_batch_status"


class Prepared:
    """The inputs of one job: the job (requests shaped as ``invoke`` shapes them) and, per
    input, its custom_id or the error that kept it out (``return_exceptions=True``)."""

    def __init__(self, job: kc.BatchJob, slots: list[str | BaseException]) -> None:
        self.job = job
        self.slots = slots


def prepare(
    model: ChatKimi,
    inputs: Sequence[LanguageModelInput],
    kwargs: Mapping[str, Any],
    *,
    return_exceptions: bool = False,
) -> Prepared:
    """The job for ``inputs``: each request validated and shaped before anything is sent.
    A request that cannot be built raises (or, with ``return_exceptions``, is that input's
    error); a job-level refusal (mixed models, an oversized file) always raises."""
    call = dict(kwargs)
    # What with_structured_output passes for tracing (BaseChatModel.generate drops it too).
    call.pop("ls_structured_output_format", None)
    stop = call.pop("stop", None)
    job = model._get_client().batches.job()
    slots: list[str | BaseException] = []
    for i, item in enumerate(inputs):
        try:
            messages = model._convert_input(item).to_messages()
            request = model._prepare(messages, stop, call)
        except (kc.KimiError, ValueError, TypeError) as exc:
            if not return_exceptions:
                raise _named(exc, i) from exc
            slots.append(exc)
            continue
        slots.append(job.add(request))
    return Prepared(job, slots)


def _named(exc: BaseException, index: int) -> BaseException:
    if isinstance(exc, kc.KimiError):
        exc.message = f"batch input {index}: {exc.message}"
        exc.args = (exc._render(),)
        return exc
    return type(exc)(f"batch input {index}: {exc}")


def to_message(result: kc.BatchResult, provider: str) -> AIMessage | BaseException:
    """A result as ``invoke`` would give it: the AIMessage, or the LangChain-flavoured
    error."""
    if result.error is not None:
        return to_langchain_error(result.error)
    chat = completion_to_result(result.body or {}, provider=provider, request_id=result.request_id)
    message = chat.generations[0].message
    if not isinstance(message, AIMessage):  # pragma: no cover - completion_to_result makes one
        message = AIMessage(content=message.content)
    return apply_invalid_tool_calls(message)


def _llm_result(message: AIMessage) -> LLMResult:
    return LLMResult(generations=[[ChatGeneration(message=message)]])


class BatchProgress:
    """Reports a batch's statuses: on the callbacks (custom event ``kimi_batch_status``)
    and, when asked, as one updating line on stderr. Remembers the statuses passed."""

    def __init__(self, show: bool, dispatch: Any = None) -> None:
        self.show = show
        self.dispatch = dispatch
        self.statuses: list[str] = []
        self._last: tuple[str, int, int] | None = None

    def data(self, batch: kc.Batch) -> dict[str, Any] | None:
        counts = batch.request_counts
        key = (batch.status, counts.done, counts.total)
        if key == self._last:
            return None
        self._last = key
        if not self.statuses or self.statuses[-1] != batch.status:
            self.statuses.append(batch.status)
        if self.show:
            end = "\n" if batch.done else ""
            print(
                f"\r[kimi batch {batch.id}] {batch.status} {counts.done}/{counts.total}"
                f" (failed {counts.failed})",
                end=end,
                file=sys.stderr,
                flush=True,
            )
        return {
            "batch_id": batch.id,
            "status": batch.status,
            "completed": counts.completed,
            "failed": counts.failed,
            "total": counts.total,
        }

    def __call__(self, batch: kc.Batch) -> None:
        data = self.data(batch)
        if data is not None and self.dispatch is not None:
            self.dispatch(data)


# --------------------------------------------------------------------------- drop-in batch


def _start_runs(
    model: ChatKimi,
    inputs: Sequence[LanguageModelInput],
    configs: list[RunnableConfig],
    kwargs: Mapping[str, Any],
) -> tuple[list[CallbackManagerForLLMRun | None], CallbackManager | None]:
    runs: list[CallbackManagerForLLMRun | None] = []
    first: CallbackManager | None = None
    kwargs = {k: v for k, v in kwargs.items() if k != "ls_structured_output_format"}
    stop = kwargs.get("stop")
    params = model._get_invocation_params(stop=stop, **kwargs)
    options = {"stop": stop}
    ls = model._get_ls_params(stop=stop, **kwargs)
    for item, config in zip(inputs, configs, strict=True):
        manager = CallbackManager.configure(
            config.get("callbacks"),
            model.callbacks,
            model.verbose,
            config.get("tags"),
            model.tags,
            {**(config.get("metadata") or {}), **ls},
            model.metadata,
        )
        first = first or manager
        try:
            messages = model._convert_input(item).to_messages()
        except (ValueError, TypeError):
            runs.append(None)
            continue
        started = manager.on_chat_model_start(
            model._serialized,
            [messages],
            invocation_params=params,
            options=options,
            name=config.get("run_name"),
            run_id=config.pop("run_id", None),
            batch_size=len(inputs),
        )
        runs.append(started[0] if started else None)
    return runs, first


def run_batch(
    model: ChatKimi,
    inputs: list[LanguageModelInput],
    config: RunnableConfig | list[RunnableConfig] | None,
    *,
    return_exceptions: bool,
    kwargs: dict[str, Any],
) -> list[Any]:
    """``model.batch(inputs)`` as one batch job (see the module docstring)."""
    if not inputs:
        return []
    configs = get_config_list(config, len(inputs))
    prepared = prepare(model, inputs, kwargs, return_exceptions=return_exceptions)
    runs, manager = _start_runs(model, inputs, configs, kwargs)
    first_run = next((r for r in runs if r is not None), None)

    def dispatch(data: dict[str, Any]) -> None:
        if manager is not None and first_run is not None:
            manager.on_custom_event(EVENT, data, run_id=first_run.run_id)

    progress = BatchProgress(model.batch_progress, dispatch)
    try:
        results = _submit_and_wait(model, prepared, progress)
    except BaseException as exc:
        for run in runs:
            if run is not None:
                run.on_llm_error(exc)
        raise
    return _finish(model, prepared, results, runs, return_exceptions)


def _submit_and_wait(
    model: ChatKimi, prepared: Prepared, progress: BatchProgress
) -> dict[str, kc.BatchResult]:
    job = prepared.job
    if not len(job):
        return {}
    batches = model._get_client().batches
    try:
        batch = batches.submit(job, completion_window=model.batch_completion_window)
        progress(batch)
        done = batches.wait(
            batch.id,
            poll_interval=model.batch_poll_interval,
            timeout=model.batch_timeout,
            on_update=progress,
        )
        results = batches.results(done, job.custom_ids, requests=job.requests)
    except kc.KimiError as exc:
        raise to_langchain_error(exc) from exc.__cause__
    return {r.custom_id: r for r in results}


def _finish(
    model: ChatKimi,
    prepared: Prepared,
    results: Mapping[str, kc.BatchResult],
    runs: Sequence[CallbackManagerForLLMRun | AsyncCallbackManagerForLLMRun | None],
    return_exceptions: bool,
) -> list[Any]:
    provider = model._provider_name
    out: list[Any] = []
    for slot in prepared.slots:
        if isinstance(slot, BaseException):
            out.append(slot)
        else:
            out.append(to_message(results[slot], provider))
    for run, value in zip(runs, out, strict=True):
        if run is None or isinstance(run, AsyncCallbackManagerForLLMRun):
            continue
        if isinstance(value, BaseException):
            run.on_llm_error(value)
        else:
            run.on_llm_end(_llm_result(value))
    if not return_exceptions:
        for value in out:
            if isinstance(value, BaseException):
                raise value
    return out


async def _astart_runs(
    model: ChatKimi,
    inputs: Sequence[LanguageModelInput],
    configs: list[RunnableConfig],
    kwargs: Mapping[str, Any],
) -> tuple[list[AsyncCallbackManagerForLLMRun | None], AsyncCallbackManager | None]:
    runs: list[AsyncCallbackManagerForLLMRun | None] = []
    first: AsyncCallbackManager | None = None
    kwargs = {k: v for k, v in kwargs.items() if k != "ls_structured_output_format"}
    stop = kwargs.get("stop")
    params = model._get_invocation_params(stop=stop, **kwargs)
    ls = model._get_ls_params(stop=stop, **kwargs)
    for item, config in zip(inputs, configs, strict=True):
        manager = AsyncCallbackManager.configure(
            config.get("callbacks"),
            model.callbacks,
            model.verbose,
            config.get("tags"),
            model.tags,
            {**(config.get("metadata") or {}), **ls},
            model.metadata,
        )
        first = first or manager
        try:
            messages = model._convert_input(item).to_messages()
        except (ValueError, TypeError):
            runs.append(None)
            continue
        started = await manager.on_chat_model_start(
            model._serialized,
            [messages],
            invocation_params=params,
            options={"stop": stop},
            name=config.get("run_name"),
            run_id=config.pop("run_id", None),
            batch_size=len(inputs),
        )
        runs.append(started[0] if started else None)
    return runs, first


async def arun_batch(
    model: ChatKimi,
    inputs: list[LanguageModelInput],
    config: RunnableConfig | list[RunnableConfig] | None,
    *,
    return_exceptions: bool,
    kwargs: dict[str, Any],
) -> list[Any]:
    """The async twin of :func:`run_batch`."""
    if not inputs:
        return []
    configs = get_config_list(config, len(inputs))
    prepared = prepare(model, inputs, kwargs, return_exceptions=return_exceptions)
    runs, manager = await _astart_runs(model, inputs, configs, kwargs)
    first_run = next((r for r in runs if r is not None), None)
    progress = BatchProgress(model.batch_progress)

    async def on_update(batch: kc.Batch) -> None:
        data = progress.data(batch)
        if data is not None and manager is not None and first_run is not None:
            await manager.on_custom_event(EVENT, data, run_id=first_run.run_id)

    job = prepared.job
    try:
        results: dict[str, kc.BatchResult] = {}
        if len(job):
            batches = model._get_aclient().batches
            try:
                batch = await batches.submit(job, completion_window=model.batch_completion_window)
                await on_update(batch)
                done = await batches.wait(
                    batch.id,
                    poll_interval=model.batch_poll_interval,
                    timeout=model.batch_timeout,
                    on_update=on_update,
                )
                found = await batches.results(done, job.custom_ids, requests=job.requests)
            except kc.KimiError as exc:
                raise to_langchain_error(exc) from exc.__cause__
            results = {r.custom_id: r for r in found}
    except BaseException as exc:
        for run in runs:
            if run is not None:
                await run.on_llm_error(exc)
        raise
    out = _finish(model, prepared, results, runs, True)
    for run, value in zip(runs, out, strict=True):
        if run is None:
            continue
        if isinstance(value, BaseException):
            await run.on_llm_error(value)
        else:
            await run.on_llm_end(_llm_result(value))
    if not return_exceptions:
        for value in out:
            if isinstance(value, BaseException):
                raise value
    return out


# --------------------------------------------------------------------------- by id


def _window(model: ChatKimi, completion_window: str | None) -> str:
    return completion_window or model.batch_completion_window


def submit(
    model: ChatKimi,
    inputs: Sequence[LanguageModelInput],
    *,
    completion_window: str | None,
    metadata: Mapping[str, str] | None,
    kwargs: dict[str, Any],
) -> str:
    """Submit ``inputs`` as one job; its batch id (all that is needed to resume it)."""
    _require_inputs(inputs)
    prepared = prepare(model, inputs, kwargs)
    try:
        batch = model._get_client().batches.submit(
            prepared.job, completion_window=_window(model, completion_window), metadata=metadata
        )
    except kc.KimiError as exc:
        raise to_langchain_error(exc) from exc.__cause__
    return batch.id


async def asubmit(
    model: ChatKimi,
    inputs: Sequence[LanguageModelInput],
    *,
    completion_window: str | None,
    metadata: Mapping[str, str] | None,
    kwargs: dict[str, Any],
) -> str:
    _require_inputs(inputs)
    prepared = prepare(model, inputs, kwargs)
    try:
        batch = await model._get_aclient().batches.submit(
            prepared.job, completion_window=_window(model, completion_window), metadata=metadata
        )
    except kc.KimiError as exc:
        raise to_langchain_error(exc) from exc.__cause__
    return batch.id


def _require_inputs(inputs: Sequence[LanguageModelInput]) -> None:
    if not isinstance(inputs, Sequence) or isinstance(inputs, (str, bytes)) or not inputs:
        raise kc.ConfigurationError(
            f"inputs={inputs!r:.100} is not accepted by batch_api_submit: a non-empty list "
            "of inputs (each what invoke takes: a string, a list of messages, a prompt value)",
            param="inputs",
        )


def _outputs(
    results: Sequence[kc.BatchResult], provider: str, return_exceptions: bool
) -> list[Any]:
    out = [to_message(r, provider) for r in results]
    if not return_exceptions:
        for value in out:
            if isinstance(value, BaseException):
                raise value
    return out


def status(model: ChatKimi, batch_id: str) -> kc.Batch:
    try:
        return model._get_client().batches.retrieve(batch_id)
    except kc.KimiError as exc:
        raise to_langchain_error(exc) from exc.__cause__


async def astatus(model: ChatKimi, batch_id: str) -> kc.Batch:
    try:
        return await model._get_aclient().batches.retrieve(batch_id)
    except kc.KimiError as exc:
        raise to_langchain_error(exc) from exc.__cause__


def retrieve(model: ChatKimi, batch_id: str, *, return_exceptions: bool) -> list[Any]:
    try:
        results = model._get_client().batches.results(batch_id)
    except kc.KimiError as exc:
        raise to_langchain_error(exc) from exc.__cause__
    return _outputs(results, model._provider_name, return_exceptions)


async def aretrieve(model: ChatKimi, batch_id: str, *, return_exceptions: bool) -> list[Any]:
    try:
        results = await model._get_aclient().batches.results(batch_id)
    except kc.KimiError as exc:
        raise to_langchain_error(exc) from exc.__cause__
    return _outputs(results, model._provider_name, return_exceptions)


def cancel(model: ChatKimi, batch_id: str) -> kc.Batch:
    try:
        return model._get_client().batches.cancel(batch_id)
    except kc.KimiError as exc:
        raise to_langchain_error(exc) from exc.__cause__


async def acancel(model: ChatKimi, batch_id: str) -> kc.Batch:
    try:
        return await model._get_aclient().batches.cancel(batch_id)
    except kc.KimiError as exc:
        raise to_langchain_error(exc) from exc.__cause__
