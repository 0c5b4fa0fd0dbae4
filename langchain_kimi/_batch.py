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
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
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


def _run_starts(
    model: ChatKimi,
    inputs: Sequence[LanguageModelInput],
    configs: list[RunnableConfig],
    kwargs: Mapping[str, Any],
    managers: type[CallbackManager] | type[AsyncCallbackManager],
) -> Iterator[tuple[Any, dict[str, Any] | None]]:
    """Each input's callback manager (of the class ``managers``) and the arguments of its
    ``on_chat_model_start`` (None for an input that is not messages): the one flow of
    :func:`_start_runs` and :func:`_astart_runs`."""
    kwargs = {k: v for k, v in kwargs.items() if k != "ls_structured_output_format"}
    stop = kwargs.get("stop")
    params = model._get_invocation_params(stop=stop, **kwargs)
    ls = model._get_ls_params(stop=stop, **kwargs)
    for item, config in zip(inputs, configs, strict=True):
        manager = managers.configure(
            config.get("callbacks"),
            model.callbacks,
            model.verbose,
            config.get("tags"),
            model.tags,
            {**(config.get("metadata") or {}), **ls},
            model.metadata,
        )
        try:
            messages = model._convert_input(item).to_messages()
        except (ValueError, TypeError):
            yield manager, None
            continue
        yield (
            manager,
            {
                "serialized": model._serialized,
                "messages": [messages],
                "invocation_params": params,
                "options": {"stop": stop},
                "name": config.get("run_name"),
                "run_id": config.pop("run_id", None),
                "batch_size": len(inputs),
            },
        )


def _start_runs(
    model: ChatKimi,
    inputs: Sequence[LanguageModelInput],
    configs: list[RunnableConfig],
    kwargs: Mapping[str, Any],
) -> tuple[list[CallbackManagerForLLMRun | None], CallbackManager | None]:
    runs: list[CallbackManagerForLLMRun | None] = []
    first: CallbackManager | None = None
    for manager, start in _run_starts(model, inputs, configs, kwargs, CallbackManager):
        first = first or manager
        started = manager.on_chat_model_start(**start) if start is not None else None
        runs.append(started[0] if started else None)
    return runs, first


_Inputs = list[LanguageModelInput]
_Many = Sequence[LanguageModelInput]
_Config = RunnableConfig | list[RunnableConfig] | None
_Kw = dict[str, Any]
_Meta = Mapping[str, str] | None


def _begin(
    model: ChatKimi, inputs: _Inputs, config: _Config, kwargs: _Kw, return_exceptions: bool
) -> tuple[list[RunnableConfig], Prepared]:
    configs = get_config_list(config, len(inputs))
    return configs, prepare(model, inputs, kwargs, return_exceptions=return_exceptions)


def run_batch(
    model: ChatKimi, inputs: _Inputs, config: _Config, *, return_exceptions: bool, kwargs: _Kw
) -> list[Any]:
    """``model.batch(inputs)`` as one batch job (see the module docstring)."""
    if not inputs:
        return []
    configs, prepared = _begin(model, inputs, config, kwargs, return_exceptions)
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
    out = _answers(model, prepared, results)
    for run, value in zip(runs, out, strict=True):
        if run is not None:
            _end(run, value)
    return _checked(out, return_exceptions)


def _submit_and_wait(
    model: ChatKimi, prepared: Prepared, progress: BatchProgress
) -> dict[str, kc.BatchResult]:
    job = prepared.job
    if not len(job):
        return {}
    batches = model._get_client().batches
    with _langchain_errors():
        batch = batches.submit(job, completion_window=model.batch_completion_window)
        progress(batch)
        done = batches.wait(
            batch.id,
            poll_interval=model.batch_poll_interval,
            timeout=model.batch_timeout,
            on_update=progress,
        )
        results = batches.results(done, job.custom_ids, requests=job.requests)
    return {r.custom_id: r for r in results}


def _answers(
    model: ChatKimi, prepared: Prepared, results: Mapping[str, kc.BatchResult]
) -> list[Any]:
    """One message or one error per input, in input order."""
    provider = model._provider_name
    return [
        slot if isinstance(slot, BaseException) else to_message(results[slot], provider)
        for slot in prepared.slots
    ]


def _end(run: CallbackManagerForLLMRun | AsyncCallbackManagerForLLMRun, value: Any) -> Any:
    """The end callback of ``run`` for ``value`` (awaitable for an async run)."""
    if isinstance(value, BaseException):
        return run.on_llm_error(value)
    return run.on_llm_end(_llm_result(value))


def _checked(out: list[Any], return_exceptions: bool) -> list[Any]:
    """``out``, or its first error raised unless ``return_exceptions``."""
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
    for manager, start in _run_starts(model, inputs, configs, kwargs, AsyncCallbackManager):
        first = first or manager
        started = await manager.on_chat_model_start(**start) if start is not None else None
        runs.append(started[0] if started else None)
    return runs, first


async def arun_batch(
    model: ChatKimi, inputs: _Inputs, config: _Config, *, return_exceptions: bool, kwargs: _Kw
) -> list[Any]:
    """The async twin of :func:`run_batch`."""
    if not inputs:
        return []
    configs, prepared = _begin(model, inputs, config, kwargs, return_exceptions)
    runs, manager = await _astart_runs(model, inputs, configs, kwargs)
    first_run = next((r for r in runs if r is not None), None)
    progress = BatchProgress(model.batch_progress)

    async def on_update(batch: kc.Batch) -> None:
        data = progress.data(batch)
        if data is not None and manager is not None and first_run is not None:
            await manager.on_custom_event(EVENT, data, run_id=first_run.run_id)

    try:
        results = await _asubmit_and_wait(model, prepared, on_update)
    except BaseException as exc:
        for run in runs:
            if run is not None:
                await run.on_llm_error(exc)
        raise
    out = _answers(model, prepared, results)
    for run, value in zip(runs, out, strict=True):
        if run is not None:
            await _end(run, value)
    return _checked(out, return_exceptions)


async def _asubmit_and_wait(
    model: ChatKimi, prepared: Prepared, on_update: Callable[[kc.Batch], Awaitable[None]]
) -> dict[str, kc.BatchResult]:
    job = prepared.job
    if not len(job):
        return {}
    batches = model._get_aclient().batches
    with _langchain_errors():
        batch = await batches.submit(job, completion_window=model.batch_completion_window)
        await on_update(batch)
        done = await batches.wait(
            batch.id,
            poll_interval=model.batch_poll_interval,
            timeout=model.batch_timeout,
            on_update=on_update,
        )
        results = await batches.results(done, job.custom_ids, requests=job.requests)
    return {r.custom_id: r for r in results}


# --------------------------------------------------------------------------- by id


def _window(model: ChatKimi, completion_window: str | None) -> str:
    return completion_window or model.batch_completion_window


@contextmanager
def _langchain_errors() -> Iterator[None]:
    """``kimi_core`` errors raised as the LangChain-flavoured classes (``_errors``)."""
    try:
        yield
    except kc.KimiError as exc:
        raise to_langchain_error(exc) from exc.__cause__


def submit(
    model: ChatKimi, inputs: _Many, *, completion_window: str | None, metadata: _Meta, kwargs: _Kw
) -> str:
    """Submit ``inputs`` as one job; its batch id (all that is needed to resume it)."""
    job, options = _submission(model, inputs, completion_window, metadata, kwargs)
    with _langchain_errors():
        batch = model._get_client().batches.submit(job, **options)
    return batch.id


async def asubmit(
    model: ChatKimi, inputs: _Many, *, completion_window: str | None, metadata: _Meta, kwargs: _Kw
) -> str:
    job, options = _submission(model, inputs, completion_window, metadata, kwargs)
    with _langchain_errors():
        batch = await model._get_aclient().batches.submit(job, **options)
    return batch.id


def _submission(
    model: ChatKimi, inputs: _Many, completion_window: str | None, metadata: _Meta, kwargs: _Kw
) -> tuple[kc.BatchJob, dict[str, Any]]:
    """The job of ``inputs`` and the options it is submitted with."""
    _require_inputs(inputs)
    options = {"completion_window": _window(model, completion_window), "metadata": metadata}
    return prepare(model, inputs, kwargs).job, options


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
    return _checked([to_message(r, provider) for r in results], return_exceptions)


def status(model: ChatKimi, batch_id: str) -> kc.Batch:
    with _langchain_errors():
        return model._get_client().batches.retrieve(batch_id)


async def astatus(model: ChatKimi, batch_id: str) -> kc.Batch:
    with _langchain_errors():
        return await model._get_aclient().batches.retrieve(batch_id)


def retrieve(model: ChatKimi, batch_id: str, *, return_exceptions: bool) -> list[Any]:
    with _langchain_errors():
        results = model._get_client().batches.results(batch_id)
    return _outputs(results, model._provider_name, return_exceptions)


async def aretrieve(model: ChatKimi, batch_id: str, *, return_exceptions: bool) -> list[Any]:
    with _langchain_errors():
        results = await model._get_aclient().batches.results(batch_id)
    return _outputs(results, model._provider_name, return_exceptions)


def cancel(model: ChatKimi, batch_id: str) -> kc.Batch:
    with _langchain_errors():
        return model._get_client().batches.cancel(batch_id)


async def acancel(model: ChatKimi, batch_id: str) -> kc.Batch:
    with _langchain_errors():
        return await model._get_aclient().batches.cancel(batch_id)
