"""Request shaping for the adapters: one merge of settings, raw fields and call keywords.

Both adapters build a request from three sources, in this order (a later one wins):

1. the model's configured parameters (its fields; ``None`` = unset);
2. its raw channel, ``model_kwargs`` (ChatKimi) or ``additional_kwargs`` (Kimi): a known
   parameter is validated like a field, any other key is a raw API field sent as given;
   a ``extra_body`` field (ChatKimi) holds raw fields only;
3. the call's keywords: a known parameter overrides (``None`` = not given), ``extra_body``
   adds raw fields, and an unknown keyword is refused, naming the closest parameter (a
   typo must not reach the API silently, nor be dropped).

Keywords the framework itself passes to every call (LangChain's ``stream_usage``,
LlamaIndex's ``formatted``) are not parameters and are dropped from both the raw channel
and the call. :func:`shape_request` does the merge, refuses ``n > 1`` on a stream (a
framework stream carries one choice), lets the adapter map its framework's types (tools,
``tool_choice``, ``response_format``) and builds the :class:`~kimi_core.ChatRequest`.
:func:`json_schema_format` builds the ``json_schema`` response format both adapters send
(one name pattern), and :func:`instruction_placement` says where a system instruction
goes (structured output's JSON mode).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._context import unknown_parameter
from ._errors import ConfigurationError
from ._providers import ProviderProfile
from ._rules import REQUEST_PARAMS, ChatRequest, build_chat_request

__all__ = [
    "CALL_PARAMS",
    "CallConventions",
    "instruction_placement",
    "json_schema_format",
    "shape_request",
]

#: The parameters a model's raw channel and a call may set (besides ``extra_body``).
CALL_PARAMS = REQUEST_PARAMS | {"model"}

_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_-]")


@dataclass(frozen=True)
class CallConventions:
    """What differs between the adapters: the names in refusals, and the keywords their
    framework passes to every call that are not request parameters (dropped)."""

    #: Who takes the call keywords, as a refusal names it ("ChatKimi calls", "Kimi.chat").
    calls: str
    #: The model's raw channel ("model_kwargs", "additional_kwargs").
    raw_field: str
    #: Why a stream takes one choice, and what to call instead.
    one_choice: str
    #: Keywords the framework passes down that are not request parameters.
    passed_down: frozenset[str] = frozenset()


def shape_request(
    profile: ProviderProfile,
    conventions: CallConventions,
    *,
    configured: Mapping[str, Any],
    raw: Mapping[str, Any],
    call: Mapping[str, Any],
    messages: Sequence[Mapping[str, Any]],
    extra_body: Mapping[str, Any] | None = None,
    stream: bool = False,
    stream_usage: bool = True,
    wire_types: Callable[[dict[str, Any]], None] | None = None,
) -> ChatRequest:
    """The validated request for one call (see the module docstring for the order).

    ``configured`` holds the model's parameters (``model`` among them), ``raw`` its raw
    channel, ``extra_body`` raw fields configured on the model, ``call`` the call's
    keywords, ``messages`` the wire messages. ``wire_types`` maps the adapter's framework
    types in the merged parameters to wire dicts, in place, before they are validated.
    Raises :class:`~kimi_core.ConfigurationError` before anything is sent.
    """
    params = {k: v for k, v in configured.items() if v is not None}
    body_fields: dict[str, Any] = dict(extra_body or {})
    dropped = conventions.passed_down
    for key, value in raw.items():
        if key in dropped:
            continue
        if key in CALL_PARAMS:
            params[key] = value
        elif key == "extra_body":
            body_fields.update(value or {})
        else:
            body_fields[key] = value  # the raw channel's other keys are API fields
    for key, value in call.items():
        if key in dropped or value is None:
            continue
        if key in CALL_PARAMS:
            params[key] = value
        elif key == "extra_body":
            body_fields.update(value)
        else:
            raise unknown_parameter(
                key,
                value,
                CALL_PARAMS,
                where=conventions.calls,
                raw=f"extra_body={{{key!r}: ...}} (or the {conventions.raw_field} field) "
                "for a raw API field",
                provider=profile.name,
                model=_model(params),
            )
    n = params.get("n")
    if stream and isinstance(n, int) and not isinstance(n, bool) and n > 1:
        raise ConfigurationError(
            f"n={n} is not accepted when streaming: {conventions.one_choice}",
            param="n",
            provider=profile.name,
            model=_model(params),
        )
    if wire_types is not None:
        wire_types(params)
    return build_chat_request(
        profile,
        messages=messages,
        stream=stream,
        stream_usage=stream_usage,
        extra_body=body_fields or None,
        **{k: v for k, v in params.items() if v is not None},
    )


def _model(params: Mapping[str, Any]) -> str | None:
    """The model id among the merged parameters, for a refusal's text."""
    model = params.get("model")
    return model if isinstance(model, str) else None


def json_schema_format(
    schema: Mapping[str, Any],
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool | None = None,
) -> dict[str, Any]:
    """The ``json_schema`` response format for ``schema``.

    Its name is ``name``, else the schema's ``title``, else ``"response"``, with every
    character outside ``[a-zA-Z0-9_-]`` replaced by ``_`` and cut at 64 characters (what
    OpenAI-style servers take as a format name). ``kimi_core`` normalises the schema when
    the request is built.
    """
    raw_name = name or schema.get("title") or "response"
    spec: dict[str, Any] = {
        "name": _NAME_CHARS.sub("_", str(raw_name))[:64],
        "schema": dict(schema),
    }
    if description:
        spec["description"] = description
    if strict is not None:
        spec["strict"] = strict
    return {"type": "json_schema", "json_schema": spec}


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def instruction_placement(
    messages: Sequence[tuple[str, Any]],
    instruction: str,
    *,
    text_part: Callable[[str], Any] = _text_part,
) -> tuple[int | None, Any]:
    """Where a system instruction goes, given each message's ``(role, content)``.

    Returns the index of the first ``"system"`` message and its content with the
    instruction added (after a blank line for a string; as one more part, made by
    ``text_part``, for a list), or ``(None, instruction)``: a new system message at the
    start then carries it.
    """
    for i, (role, content) in enumerate(messages):
        if role == "system":
            if isinstance(content, list):
                return i, [*content, text_part(instruction)]
            return i, instruction if content is None else f"{content}\n\n{instruction}"
    return None, instruction
