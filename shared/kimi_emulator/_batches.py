"""The Batch API: ``/v1/batches`` create, retrieve, list, cancel, and the batch files.

Written from Moonshot's pages (platform.kimi.ai/docs/guide/use-batch-api, /docs/api/
batch-create, batch-list, batch-retrieve, batch-cancel), not from any client:

- create takes ``input_file_id`` (a ``purpose=batch`` file), ``endpoint`` (only
  ``/v1/chat/completions``), ``completion_window`` (12h to 7d) and ``metadata`` (at most
  16 pairs, keys of at most 64 characters, values of at most 512); the batch starts
  ``validating``;
- the input file is validated as the guide says: non-empty JSONL, each line an object
  with ``custom_id`` (unique in the file), ``method`` ``POST``, ``url``
  ``/v1/chat/completions`` and ``body``, one model for the whole file, a model that is
  served; a file that breaks a rule makes the batch ``failed`` with the reasons in
  ``errors`` (``{"object": "list", "data": [{"code", "message", "line", "param"}]}``);
- then ``in_progress``: each line is answered by the same rules (``check_chat``) and chat
  engine as a live call; a line Kimi would reject goes to the error file with its 400
  body; then ``finalizing`` and ``completed`` with ``output_file_id`` / ``error_file_id``;
- cancel (only while ``validating``, ``in_progress``, ``finalizing``): ``cancelling``, then
  ``cancelled``, with the lines answered so far in the files; a batch still running when
  its completion window ends is ``expired``, likewise;
- list: newest first, ``after`` (the last id of the previous page) and ``limit`` (default
  20), ``has_more``.

The result line shape is documented only as "the response body": the emulator writes
OpenAI's convention (``{"id", "custom_id", "response": {"status_code", "request_id",
"body"}, "error"}``), or with ``batch_result_shape="bare"`` ``{"custom_id", "body"}``
(a client must read both). Time: each phase lasts ``PHASE_SECONDS`` emulated seconds and a
completion window its length, all multiplied by ``time_scale`` (``0.01``: a phase in 0.1 s,
a 24h window in 14.4 min); ``line_delay`` real seconds are spent on each line.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from ._dialects import Dialect
from ._http import RecordedRequest
from ._rules import check_chat
from ._wire import ApiError, as_json_bytes, error_response, new_trace_id, random_file_id

__all__ = ["PHASE_SECONDS", "RESULT_SHAPES", "BatchBook", "batch_route", "chat_answer"]

#: Emulated seconds of validating, of in_progress at the least, of finalizing and of
#: cancelling (times the time scale).
PHASE_SECONDS = 10.0
_ENDPOINT = "/v1/chat/completions"
_WINDOW_UNITS = {"h": 3600, "d": 86400}
_MIN_WINDOW, _MAX_WINDOW = 12 * 3600, 7 * 86400
_JSON = "application/json"
_CANCELLABLE = ("validating", "in_progress", "finalizing")
_TERMINAL = ("completed", "failed", "expired", "cancelled")
RESULT_SHAPES = ("openai", "bare")

Answer = tuple[int, bytes, str]
#: ``(served models, accept any model)`` at the time a batch runs.
Serving = Callable[[], tuple[frozenset[str], bool]]


def _bad(message: str, status: int = 400, kind: str = "invalid_request_error") -> ApiError:
    return ApiError(status, kind, message)


def batch_route(method: str, path: str) -> tuple[str | None, bool]:
    """``(endpoint, method_ok)`` for a ``/v1/batches`` path; ``(None, False)`` otherwise."""
    if path == "/v1/batches":
        return "batches", method in ("GET", "POST")
    if path.startswith("/v1/batches/"):
        rest = path[len("/v1/batches/") :]
        if rest.endswith("/cancel") and rest.count("/") == 1:
            return "batch_cancel", method == "POST"
        if rest and "/" not in rest:
            return "batch", method == "GET"
    return None, False


def _window_seconds(window: Any) -> int | None:
    if not isinstance(window, str) or len(window) < 2 or window[-1] not in _WINDOW_UNITS:
        return None
    number = window[:-1]
    if not number.isdigit() or len(number) > 4:
        return None
    seconds = int(number) * _WINDOW_UNITS[window[-1]]
    return seconds if _MIN_WINDOW <= seconds <= _MAX_WINDOW else None


class _Run:
    """One batch: its object, its cancel signal, and what its lines produced."""

    def __init__(self, obj: dict[str, Any], window: float) -> None:
        self.obj = obj
        self.cancel = threading.Event()
        self.window = window
        self.started = time.monotonic()
        self.output: list[bytes] = []
        self.errors: list[bytes] = []


class BatchBook:
    """The batches of one emulator and the threads that run them."""

    def __init__(
        self,
        dialect: Dialect,
        lock: threading.Lock,
        files: Callable[[], dict[str, dict[str, Any]]],
        answer: Callable[[Any, str], bytes],
        serving: Serving,
    ) -> None:
        self.dialect = dialect
        self._lock = lock
        self._files = files
        self._answer = answer
        self._serving = serving
        self.time_scale = 1.0
        self.line_delay = 0.0
        self.result_shape = "openai"
        self._runs: dict[str, _Run] = {}
        self._order: list[str] = []

    def reset(self) -> None:
        with self._lock:
            runs = list(self._runs.values())
            self._runs = {}
            self._order = []
        for run in runs:
            run.cancel.set()
        self.time_scale = 1.0
        self.line_delay = 0.0
        self.result_shape = "openai"

    def handler(self, endpoint: str) -> Callable[[RecordedRequest, frozenset[str], bool], Answer]:
        return {
            "batches": self.batches,
            "batch": self.retrieve,
            "batch_cancel": self.cancel,
        }[endpoint]

    # ------------------------------------------------------------------ endpoints

    def batches(self, req: RecordedRequest, served: frozenset[str], accept_any: bool) -> Answer:
        if req.method == "GET":
            return self._list(req)
        body = req.json
        if not isinstance(body, Mapping):
            raise _bad("Invalid request: the body is not a JSON object")
        file_id = body.get("input_file_id")
        if not isinstance(file_id, str) or not file_id:
            raise _bad("Invalid request: input_file_id is required")
        endpoint = body.get("endpoint", _ENDPOINT)
        if endpoint != _ENDPOINT:
            raise _bad(f"Invalid request: endpoint {endpoint!r} is not supported, only {_ENDPOINT}")
        window = body.get("completion_window")
        seconds = _window_seconds(window)
        if seconds is None:
            raise _bad(
                f"Invalid request: completion_window {window!r} is invalid, "
                "it must be between 12h and 7d"
            )
        metadata = _metadata(body.get("metadata"))
        with self._lock:
            found = self._files().get(file_id)
        if found is None:
            raise _bad(f"file {file_id} not found", 404, "resource_not_found_error")
        if found["object"].get("purpose") != "batch":
            raise _bad(
                f"Invalid request: file {file_id} has purpose "
                f"{found['object'].get('purpose')!r}, a batch needs purpose 'batch'"
            )
        now = int(time.time())
        batch_id = "batch_" + secrets.token_hex(12)
        obj: dict[str, Any] = {
            "id": batch_id,
            "object": "batch",
            "endpoint": _ENDPOINT,
            "errors": None,
            "input_file_id": file_id,
            "completion_window": window,
            "status": "validating",
            "output_file_id": None,
            "error_file_id": None,
            "created_at": now,
            "in_progress_at": None,
            "expires_at": now + seconds,
            "finalizing_at": None,
            "completed_at": None,
            "failed_at": None,
            "expired_at": None,
            "cancelling_at": None,
            "cancelled_at": None,
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
            "metadata": metadata,
        }
        run = _Run(obj, seconds * self.time_scale)
        with self._lock:
            self._runs[batch_id] = run
            self._order.append(batch_id)
            shown = json.loads(json.dumps(obj))
        data: bytes = found["data"]
        worker = threading.Thread(
            target=self._work, args=(run, data), name=f"kimi-emulator-{batch_id}", daemon=True
        )
        worker.start()
        return 200, as_json_bytes(shown), _JSON

    def _get(self, req: RecordedRequest) -> _Run:
        batch_id = req.path[len("/v1/batches/") :].split("/", 1)[0]
        with self._lock:
            run = self._runs.get(batch_id)
        if run is None:
            raise _bad(f"batch {batch_id} not found", 404, "resource_not_found_error")
        return run

    def retrieve(self, req: RecordedRequest, served: frozenset[str], accept_any: bool) -> Answer:
        run = self._get(req)
        with self._lock:
            raw = as_json_bytes(run.obj)
        return 200, raw, _JSON

    def cancel(self, req: RecordedRequest, served: frozenset[str], accept_any: bool) -> Answer:
        run = self._get(req)
        with self._lock:
            status = run.obj["status"]
            if status not in _CANCELLABLE:
                raise _bad(
                    f"Invalid request: batch {run.obj['id']} cannot be cancelled, its status "
                    f"is {status}"
                )
            run.obj["status"] = "cancelling"
            run.obj["cancelling_at"] = int(time.time())
            run.cancel.set()
            raw = as_json_bytes(run.obj)
        return 200, raw, _JSON

    def _list(self, req: RecordedRequest) -> Answer:
        limit_text = req.query.get("limit", "20")
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= 100:
            raise _bad(f"Invalid request: limit {limit_text!r} must be between 1 and 100")
        limit = int(limit_text)
        after = req.query.get("after")
        with self._lock:
            newest_first = list(reversed(self._order))
            if after:
                if after not in self._runs:
                    raise _bad(f"batch {after} not found", 404, "resource_not_found_error")
                newest_first = newest_first[newest_first.index(after) + 1 :]
            page = [json.loads(as_json_bytes(self._runs[i].obj)) for i in newest_first[:limit]]
            has_more = len(newest_first) > limit
        body = {"object": "list", "data": page, "has_more": has_more}
        return 200, as_json_bytes(body), _JSON

    # ------------------------------------------------------------------ the run

    def _phase(self, run: _Run, seconds: float) -> bool:
        """Wait a phase (emulated seconds); True when the batch was cancelled meanwhile."""
        return run.cancel.wait(seconds * self.time_scale)

    def _set(self, run: _Run, **fields: Any) -> None:
        with self._lock:
            run.obj.update(fields)

    def _work(self, run: _Run, data: bytes) -> None:
        try:
            self._run(run, data)
        except Exception as exc:  # a batch must end, whatever happened
            self._set(
                run,
                status="failed",
                failed_at=int(time.time()),
                errors={"object": "list", "data": [_error("server_error", str(exc))]},
            )

    def _run(self, run: _Run, data: bytes) -> None:
        if self._phase(run, PHASE_SECONDS):
            self._end_cancelled(run)
            return
        served, accept_any = self._serving()
        lines, problems = self._validate(data, served, accept_any)
        if problems:
            self._set(
                run,
                status="failed",
                failed_at=int(time.time()),
                errors={"object": "list", "data": problems[:100]},
            )
            return
        total = len(lines)
        with self._lock:
            if run.obj["status"] == "validating":  # else cancelling: the loop ends it
                run.obj["status"] = "in_progress"
                run.obj["in_progress_at"] = int(time.time())
            run.obj["request_counts"] = {"total": total, "completed": 0, "failed": 0}
        begun = time.monotonic()
        for custom_id, body in lines:
            if run.cancel.is_set():
                self._end_cancelled(run)
                return
            if time.monotonic() - run.started > run.window:
                self._end(run, "expired", "expired_at")
                return
            self._answer_line(run, custom_id, body)
            if self.line_delay > 0 and run.cancel.wait(self.line_delay):
                self._end_cancelled(run)
                return
        least = PHASE_SECONDS * self.time_scale - (time.monotonic() - begun)
        if least > 0 and run.cancel.wait(least):
            self._end_cancelled(run)
            return
        with self._lock:
            if run.obj["status"] == "in_progress":
                run.obj["status"] = "finalizing"
                run.obj["finalizing_at"] = int(time.time())
        if self._phase(run, PHASE_SECONDS):
            self._end_cancelled(run)
            return
        self._end(run, "completed", "completed_at")

    def _answer_line(self, run: _Run, custom_id: str, body: Any) -> None:
        trace_id = new_trace_id()
        try:
            raw = self._answer(body, trace_id)
        except ApiError as err:
            status, payload = error_response(self.dialect, err, trace_id)
            line = self._line(custom_id, status, trace_id, payload, err)
            with self._lock:
                run.errors.append(line)
                run.obj["request_counts"]["failed"] += 1
            return
        answer = json.loads(raw)
        line = self._line(custom_id, 200, trace_id, answer, None)
        with self._lock:
            run.output.append(line)
            run.obj["request_counts"]["completed"] += 1

    def _line(
        self,
        custom_id: str,
        status: int,
        trace_id: str,
        body: dict[str, Any],
        err: ApiError | None,
    ) -> bytes:
        if self.result_shape == "bare":
            line: dict[str, Any] = {"custom_id": custom_id, "body": body}
            if err is not None:
                line["status_code"] = status
        else:
            line = {
                "id": "batch_req_" + secrets.token_hex(12),
                "custom_id": custom_id,
                "response": {"status_code": status, "request_id": trace_id, "body": body},
                "error": None if err is None else {"code": err.kind, "message": err.message},
            }
        return as_json_bytes(line)

    def _end_cancelled(self, run: _Run) -> None:
        with self._lock:
            if run.obj["status"] != "cancelling":
                run.obj["status"] = "cancelling"
                run.obj["cancelling_at"] = int(time.time())
        time.sleep(PHASE_SECONDS * self.time_scale)
        self._end(run, "cancelled", "cancelled_at")

    def _end(self, run: _Run, status: str, stamp: str) -> None:
        with self._lock:
            output = b"".join(line + b"\n" for line in run.output)
            errors = b"".join(line + b"\n" for line in run.errors)
            fields: dict[str, Any] = {"status": status, stamp: int(time.time())}
            if output:
                fields["output_file_id"] = self._store(run, output, "output")
            if errors:
                fields["error_file_id"] = self._store(run, errors, "error")
            run.obj.update(fields)
            run.output, run.errors = [], []

    def _store(self, run: _Run, data: bytes, kind: str) -> str:
        """A result file among the platform's files (the lock is held)."""
        fid = random_file_id()
        self._files()[fid] = {
            "object": {
                "id": fid,
                "object": "file",
                "bytes": len(data),
                "created_at": int(time.time()),
                "filename": f"{run.obj['id']}_{kind}.jsonl",
                "purpose": "batch_output",
                "status": "ok",
                "status_details": "",
            },
            "data": data,
        }
        return fid

    # ------------------------------------------------------------------ validation

    def _validate(
        self, data: bytes, served: frozenset[str], accept_any: bool
    ) -> tuple[list[tuple[str, Any]], list[dict[str, Any]]]:
        """The lines ``(custom_id, body)``, or the problems that fail the batch."""
        problems: list[dict[str, Any]] = []
        lines: list[tuple[str, Any]] = []
        seen: set[str] = set()
        models: dict[str, int] = {}
        for number, raw in enumerate(data.split(b"\n"), start=1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except (ValueError, RecursionError):
                problems.append(_error("invalid_json_line", "the line is not valid JSON", number))
                continue
            if not isinstance(line, dict):
                problems.append(_error("invalid_json_line", "the line is not an object", number))
                continue
            missing = [k for k in ("custom_id", "method", "url", "body") if k not in line]
            if missing:
                problems.append(
                    _error(
                        "missing_required_parameter",
                        f"the line has no {', '.join(missing)}",
                        number,
                        missing[0],
                    )
                )
                continue
            custom_id = line["custom_id"]
            if not isinstance(custom_id, str) or not custom_id:
                problems.append(
                    _error("invalid_custom_id", "custom_id must be a string", number, "custom_id")
                )
                continue
            if custom_id in seen:
                problems.append(
                    _error(
                        "duplicate_custom_id",
                        f"custom_id {custom_id!r} is not unique in the file",
                        number,
                        "custom_id",
                    )
                )
                continue
            seen.add(custom_id)
            if line["method"] != "POST":
                problems.append(_error("invalid_method", "method must be POST", number, "method"))
            if line["url"] != _ENDPOINT:
                problems.append(_error("invalid_url", f"url must be {_ENDPOINT}", number, "url"))
            body = line["body"]
            model = body.get("model") if isinstance(body, dict) else None
            if not isinstance(model, str):
                problems.append(
                    _error("missing_model", "the body has no model", number, "body.model")
                )
            else:
                models.setdefault(model, number)
            lines.append((custom_id, body))
        if not lines and not problems:
            problems.append(_error("empty_file", "the input file has no requests"))
        if len(models) > 1:
            names = ", ".join(sorted(models))
            second = sorted(models.values())[1]
            problems.append(
                _error(
                    "mixed_models",
                    f"all requests in a batch must use the same model, found: {names}",
                    second,
                    "body.model",
                )
            )
        elif models:
            model = next(iter(models))
            if not accept_any and model not in served:
                problems.append(
                    _error(
                        "model_not_found",
                        f"Not found the model {model} or Permission denied",
                        models[model],
                        "body.model",
                    )
                )
        return lines, problems


def _error(
    code: str, message: str, line: int | None = None, param: str | None = None
) -> dict[str, Any]:
    return {"code": code, "message": message, "line": line, "param": param}


def _metadata(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _bad("Invalid request: metadata must be an object of strings")
    if len(value) > 16:
        raise _bad("Invalid request: metadata can have at most 16 pairs")
    for key, item in value.items():
        if not isinstance(key, str) or len(key) > 64:
            raise _bad("Invalid request: a metadata key can have at most 64 characters")
        if not isinstance(item, str) or len(item) > 512:
            raise _bad(
                f"Invalid request: metadata[{key!r}] must be a string of at most 512 characters"
            )
    return dict(value)


def chat_answer(
    dialect: Dialect,
    engine: Any,
    serving: Serving,
    file_exists: Callable[[str], bool],
    strict: Callable[[], bool],
) -> Callable[[Any, str], bytes]:
    """The answer to one batch line's body: the live call's rules and chat engine (an
    :class:`ApiError` for a body Kimi would reject)."""
    from ._wire import completion_bytes

    def answer(body: Any, trace_id: str) -> bytes:
        served, accept_any = serving()
        if isinstance(body, dict) and body.get("stream"):
            raise _bad("Invalid request: stream is not supported in a batch")
        try:
            call = check_chat(
                dialect,
                body,
                served=served,
                accept_any=accept_any,
                file_exists=file_exists,
                strict=strict(),
            )
        except RecursionError:
            raise _bad("Invalid request: the JSON is nested too deeply") from None
        plan = engine.plan(call, None)
        raw: bytes = completion_bytes(dialect, plan, dialect.chat_id(call.info))
        return raw.lstrip()

    return answer
