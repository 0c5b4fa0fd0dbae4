"""A local Kimi-compatible server: a stand-in for the protocol, not a model.

It speaks the chat-completions protocol the way the real systems do, per dialect, and
rejects what they reject, with their status codes and error bodies, so that Kimi's
rejections show up in tests instead of in production. Standard library only (asyncio);
it carries hundreds of concurrent streams. It imports nothing from ``kimi_core``: its
tables of what each system serves and rejects (``_catalogue.py``, ``_dialects.py``) are
its own, written from the providers' documents and from recorded traffic, so that the
client and its judge can disagree; ``tests/conformance/`` compares its answers with
real recordings.

Start it
--------
::

    from kimi_emulator import KimiEmulator

    with KimiEmulator(dialect="moonshot") as emu:       # background thread, free port
        client = kimi_core.KimiClient(provider=emu.provider, base_url=emu.base_url,
                                      api_key=emu.api_key)

``KimiEmulator(dialect="moonshot", host="127.0.0.1", port=0, api_key=None, *,
models=None, accept_any_model=False, stream_delay=0.0, strict=False,
max_requests=1000, max_body=32 MiB, header_timeout=10.0, body_timeout=30.0,
idle_timeout=120.0, batch_time_scale=1.0, responder=None, recordings=None, match_on=None,
upstream=None, record=None)``; also ``.start()`` (returns the emulator) and ``.stop()``.
From a shell: ``kimi-emulator --port 8000 [--host H] [--dialect D] [--api-key KEY]
[--accept-any-model] [--strict] [--max-requests N] [--stream-delay S]
[--batch-time-scale F] [--responder R] [--script FILE] [--recordings PATH]
[--match-on FIELDS] [--upstream URL --record DIR]`` or
``python -m kimi_emulator`` with the same options. In pytest (opt-in:
``pytest_plugins = ["kimi_emulator.pytest_plugin"]`` or ``-p
kimi_emulator.pytest_plugin``): the fixtures ``kimi_emulator`` (a moonshot emulator,
reset for each test) and ``kimi_emulator_factory(dialect=..., **options)``.

- ``api_key``: the only key accepted; without it any non-empty Bearer token is accepted.
  A missing or wrong key gets the dialect's 401, and the request is counted but not kept.
- ``models``: the model ids served (default: what the dialect's provider serves; for
  moonshot the 2026 line, kimi-k3, kimi-k2.7-code(-highspeed), kimi-k2.6). Others,
  retired ids included, get 404 ``Not found the model X or Permission denied`` (AceData:
  400 ``bad_request``). ``accept_any_model=True`` serves any id (an unknown id does not
  think unless asked and has 256k context).
- ``strict``: also apply the rules only one unconfirmed source reports (settable).
- ``max_requests``: how many recent requests ``requests`` keeps; ``max_body``: the body
  limit (413 over it); the timeouts: a request head must arrive within
  ``header_timeout`` of its first byte and its body within ``body_timeout`` (408
  otherwise); an idle kept-alive connection is closed after ``idle_timeout``.
- ``stream_delay``: seconds to sleep between streamed events (0: each response is written
  in one buffer).

Attributes: ``base_url`` (acedata: ``http://host:port``, its chat path is
``/kimi/chat/completions``; others: ``http://host:port/v1``), ``url`` (the root),
``chat_url``, ``port``, ``provider`` (the matching kimi_core provider name),
``default_model`` (the model to start with: moonshot ``kimi-k2.6``), ``api_key``,
``dialect``, ``requests`` (a copy of the kept requests: ``.method .path .query
.headers`` (lower-case names) ``.body .json .time`` (``time.monotonic()``)),
``request_count`` (all since the last reset, the unauthorized ones too),
``last_request``, ``chat_requests``, ``files`` (uploaded file objects), ``running``, and
the settable ``models``, ``accept_any_model``, ``strict``, ``stream_delay``, ``balance``
(what ``/v1/users/me/balance`` returns), ``file_limits`` (``count``, ``bytes``, ``total``)
and ``extract_failures`` (file-name patterns whose extraction answers ``500 extract task
failed: failed``; see ``_fileextract.py``). The package also exports ``RecordedRequest``,
``DIALECT_NAMES`` and ``FAULT_KINDS``. ``reset()`` clears scripts, faults, recorded
requests, the prompt cache and files, and restores the constructor's options.

Dialects
--------
=================  ==========================  =========================================
dialect            chat path                   wire shape
=================  ==========================  =========================================
moonshot           ``/v1/chat/completions``    ``reasoning_content``; no ``tool_calls``
                                               key on plain answers; ``cached_tokens``
                                               and ``prompt_tokens_details`` only when
                                               cached, ``completion_tokens_details``
                                               only when thinking; tool-call ids
                                               ``NAME_N``; chat ids ``chatcmpl-<uuid>``
                                               (K3) or ``chatcmpl-<24 hex>``; K3 streams
                                               mark the end of reasoning with
                                               ``{"reasoning_content": ""}``; usage in
                                               the finish choice (and a trailing
                                               ``choices: []`` chunk with
                                               ``include_usage``); ``x-trace-id``;
                                               errors ``{"error": {"message",
                                               "type"}}``; ``/v1/models``,
                                               ``/v1/files``, ``/v1/tokenizers/estimate-
                                               token-count``, ``/v1/users/me/balance``,
                                               ``/v1/batches`` (``_batches.py``)
acedata            ``/kimi/chat/completions``  both ``reasoning_content`` and
                                               ``reasoning``; ``tool_calls: []``; usage
                                               in a trailing chunk always, with ``{}``
                                               details; null padding fields; the finish
                                               reason on the last delta; string content
                                               only; errors ``{"success": false,
                                               "error": {"code", "message"},
                                               "trace_id": "<uuid>"}``
evolink            ``/v1/chat/completions``    OpenAI style: usage chunk only with
                                               ``include_usage``; ids ``cmpl-<32 hex>``;
                                               tool-call ids ``NAME:N``; OpenAI errors
gptproto           ``/v1/chat/completions``    reasoning in ``reasoning`` only (taken
                                               back as ``reasoning`` or
                                               ``reasoning_content``); tool-call ids
                                               ``NAME_N``; errors ``{"error":
                                               {"message", "type": "<status>"}}``
openai-compatible  ``/v1/chat/completions``    OpenRouter: ``gen-<time>-<20>`` ids,
                                               ``provider``, ``native_finish_reason``,
                                               ``reasoning`` + ``reasoning_details``,
                                               ``content: null`` on tool calls, padded
                                               JSON bodies, a ``: OPENROUTER
                                               PROCESSING`` comment, the role on every
                                               delta, two finish chunks (the second with
                                               usage); gateway ids; Kimi's per-model
                                               rejections do not apply
=================  ==========================  =========================================

Streams start with ``delta: {"role": "assistant", "content": ""}`` (OpenRouter: the
role on every delta), then reasoning, then content, then tool calls (first delta with
id and name, then argument fragments), then the finish, usage and ``data: [DONE]``.

Rules
-----
Sampling values fixed per model (``invalid temperature: only 1 is allowed for this
model`` on kimi-k3 and thinking kimi-k2.6; 0.6 with thinking disabled; top_p 0.95, n 1,
penalties 0 on kimi-k2.6/k2.5), documented ranges and limits per dialect (n,
temperature, top_p, stop count and bytes, at most 128 tools), tool names and
duplicates, Moonshot flavored JSON Schema for tool parameters and ``json_schema``
(``Invalid request: response_format.json_schema is not a valid moonshot flavored json
schema, details: <At path '...': ...>``), thinking per model (kimi-k2.7-code:
``invalid thinking: only type=enabled is allowed for this model``; kimi-k3: no
``thinking`` with ``reasoning_effort``, efforts ``low``/``high``/``max``; kimi-k2.6:
``thinking.keep``), ``tool_choice`` ``required``/named while thinking (refused except on
kimi-k3), the reasoning missing in an assistant tool-call message while thinking, empty
messages, content parts per dialect and model (images only as data URLs or ``ms://`` ids
of uploaded files on moonshot), unknown ``tool_call_id``, context window overflow
(``Your request exceeded model token limit: 262144 (requested: N)``; kimi-k3: 1M),
partial mode with ``json_object``, response formats per dialect, and the
``$web_search`` flow. With ``strict``: the rules from one unconfirmed source
(``ModelRules.unconfirmed`` in ``_catalogue.py``). Details in ``_rules.py``.

Hardening
---------
Requests that cannot be read (a negative, signed, conflicting or oversized
``Content-Length``, bad chunked encoding, both framings at once, a head over 64 KiB or
100 lines, invalid JSON or JSON nested too deeply) get a 400, 413, 431 or 501 in the
dialect's error body and the connection closes; heads and bodies that miss their
deadline get a 408; a failure inside the emulator is a 500 in the same shape. Each
connection is one coroutine with one watchdog, so slow peers never hold up the others.

Responders
----------
Who writes each answer is pluggable (``_responders.py``): ``KimiEmulator(responder=...)``
takes ``"planner"`` (the default: the deterministic rule-based planner of the
``kimi_emulator.planner`` subpackage, imported on first use), ``"echo"`` (the last user
message quoted back, no tool calls), ``"scripted"`` (only ``emu.script(...)`` answers, or
``ScriptedResponder([...])``), ``"recorded"`` (``recordings=``: vcrpy cassettes, JSON
bodies and SSE streams matched to each request by ``match_on``; ``_recorded.py``), a
``Responder`` (``respond(ChatRequest) -> Reply | Rejection``) or a plain callable.
Queued scripts answer first. Whatever the responder, the server applies the rules, the
dialect's wire shape, usage, ``stop`` and ``max_tokens``, streaming and faults.
Record-through (``upstream=``, ``record=``; ``_proxy.py``) forwards chat requests to a
real provider after reporting the rules they break (``strict`` refuses them) and writes
vcrpy JSON cassettes without credentials.

Modules: ``_emulator.py`` (this object and its routing), ``_server.py`` (the server, its
lifecycle and connections), ``_http.py`` (parsing), ``_faults.py``, ``_chat.py`` (chat
rendering), ``_wire.py`` (bodies and SSE per dialect), ``_platform.py`` (models, files,
token estimate, balance), ``_batches.py`` (the Batch API: ``batch_time_scale`` and
``batch_options(time_scale=, line_delay=, result_shape=)``), ``_rules.py``, ``_mfjs.py``,
``_catalogue.py``, ``_dialects.py``, ``_responders.py``, ``_recorded.py``, ``_proxy.py``;
the planner in ``planner/``.

Scripts
-------
``emu.script(text=None, *, reasoning=None, tool_calls=None, usage=None,
finish_reason=None, model=None, tool_call_index="normal", status=None, body=None,
headers=None, error_type=None, chunk_size=None, chunks=None, delay=None, times=1)``
queues one exact response for the next chat request (FIFO):

- ``tool_calls``: ``[{"name", "arguments": dict | str, "id": optional}]``;
- ``tool_call_index="omit"``: the recorded Kimi quirk, all calls in one delta, the first
  without ``index``; ``"zero"``: every call whole in its own delta, all under index 0;
- ``usage``: the raw usage object to send (default: counted);
- ``status`` (+ ``body`` dict or str, ``headers``): an error response; it answers any
  request, valid or not. A success script still goes through the rules;
- ``error_type``: one of Moonshot's error types (``content_filter``,
  ``exceeded_current_quota_error``, ``engine_overloaded_error``, ``rate_limit_reached_error``,
  ``permission_denied_error``, ``invalid_authentication_error``, ``server_error``, ...)
  rendered in the dialect's own shape and status (AceData: ``forbidden``/``used_up``
  403s; GPTProto: a 403 for balance); ``text`` overrides the message;
- long streams: ``chunk_size=1`` (one character per delta) or ``chunks=N`` (N content
  deltas; with no text, N deltas of ``"tok "``); ``delay``: per-event sleep;
- ``model``: the model the response names; a known model's script is refused when it is
  queued (``ValueError``) if that model could not produce it (a tool-call turn without
  reasoning on a model that always thinks, reasoning on one that never thinks);
- ``times``: how many requests it answers (``None``: every request until reset). A
  repeating script renders its stream once (its usage is the first request's) and only
  swaps in a fresh id: use it for benchmarks.

Faults
------
``emu.fault(kind, *, events=None, seconds=None, retry_after=1, body=None, headers=None,
times=1, rate=None, seed=None, path=None)`` applies to the next chat request (``times``
requests; or, with ``rate``, to each request with that probability, seeded by ``seed``;
``path`` targets another endpoint by path suffix, e.g. ``"/models"``):

- ``"429"`` (``Retry-After: retry_after``; ``None`` sends none), ``"500"`` (JSON error
  body), ``"502_html"`` (an nginx HTML page), ``"503"`` (a plain-text proxy error);
  ``body``/``headers`` override. These are answered before the rules run;
- ``"slow_first_byte"``: wait ``seconds`` (default 1) before answering;
- stream faults, after ``events`` SSE events (default 3, the role chunk counts):
  ``"drop_after"`` (the connection is cut; ``events=0``: no response at all),
  ``"stall"`` (``seconds``, default 10, then the rest), ``"malformed"`` (a bad event,
  then the rest), ``"error_event"`` (``data: {"error": ...}`` in the dialect's shape or
  ``body``, then the body ends), ``"truncated"`` (the body ends cleanly with no finish
  reason and no ``[DONE]``; ``events`` defaults to every content event). On a
  non-streamed request they cut, stall, corrupt or replace the JSON body.

``emu.clear_faults()`` removes pending faults.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "DIALECT_NAMES",
    "FAULT_KINDS",
    "ChatRequest",
    "EchoResponder",
    "FunctionResponder",
    "KimiEmulator",
    "RecordedRequest",
    "RecordedResponder",
    "Recording",
    "Rejection",
    "Reply",
    "Responder",
    "ScriptedResponder",
]

_RESPONDERS = (
    "ChatRequest",
    "EchoResponder",
    "FunctionResponder",
    "Rejection",
    "Reply",
    "Responder",
    "ScriptedResponder",
)

DIALECT_NAMES = ("moonshot", "acedata", "evolink", "gptproto", "openai-compatible")

if TYPE_CHECKING:
    from ._emulator import FAULT_KINDS, KimiEmulator
    from ._http import RecordedRequest
    from ._recorded import RecordedResponder, Recording
    from ._responders import (
        ChatRequest,
        EchoResponder,
        FunctionResponder,
        Rejection,
        Reply,
        Responder,
        ScriptedResponder,
    )


def __getattr__(name: str) -> Any:
    # Lazy: the pytest plugin imports this package in every pytest run.
    if name in ("KimiEmulator", "FAULT_KINDS"):
        from . import _emulator

        return getattr(_emulator, name)
    if name in _RESPONDERS:
        from . import _responders

        return getattr(_responders, name)
    if name in ("RecordedResponder", "Recording"):
        from . import _recorded

        return getattr(_recorded, name)
    if name == "RecordedRequest":
        from ._http import RecordedRequest

        return RecordedRequest
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
