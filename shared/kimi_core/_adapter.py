"""What the two adapters need from ``kimi_core`` and users do not: one private module.

``langchain_kimi`` and ``llama_index_kimi`` import this module (``from kimi_core import
_adapter as ka``) for request shaping (:func:`shape_request`), the structured-output
helpers, the provider and key resolution of their constructors, keys and credential
headers out of reprs, dumps and pickles, and the conversion helpers of answers. None of
it is public API: names may change with the adapters.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from ._capabilities import DEFAULT_MODEL, Capabilities, capabilities, default_model
from ._clients import ClientPair, ClientSettings, extraction_provider
from ._context import unknown_parameter
from ._errors import ToolArgumentsError
from ._history import HistoryCache
from ._media import sniff_media_type
from ._message_rules import file_url, without_empty_content
from ._models import warn_if_retired
from ._providers import resolve_api_key
from ._secrets import (
    MASK,
    headers_by_ref,
    headers_from_ref,
    key_from_ref,
    key_ref,
    redact_headers,
    state_with_key,
    state_without_key,
)
from ._shaping import (
    CallConventions,
    instruction_placement,
    json_schema_format,
    shape_request,
)
from ._stream import first_usable_choice, usage_of
from ._structured import json_mode_instruction
from ._tool_rules import (
    WEB_SEARCH,
    WEB_SEARCH_TOOL,
    ToolSet,
    is_builtin,
    tool_call,
    tool_choice_to_wire,
)

__all__ = [
    "DEFAULT_MODEL",
    "MASK",
    "WEB_SEARCH",
    "WEB_SEARCH_TOOL",
    "CallConventions",
    "Capabilities",
    "ClientPair",
    "ClientSettings",
    "HistoryCache",
    "ToolSet",
    "arguments_json",
    "capabilities",
    "default_model",
    "extraction_provider",
    "file_url",
    "first_usable_choice",
    "headers_by_ref",
    "headers_from_ref",
    "instruction_placement",
    "is_builtin",
    "json_mode_instruction",
    "json_schema_format",
    "key_from_ref",
    "key_ref",
    "private_attrs",
    "redact_headers",
    "redacted_repr_args",
    "resolve_api_key",
    "shape_request",
    "sniff_media_type",
    "state_with_key",
    "state_without_key",
    "tool_arguments",
    "tool_arguments_error",
    "tool_call",
    "tool_choice_to_wire",
    "unknown_parameter",
    "unmasked_headers",
    "usage_of",
    "warn_if_retired",
    "without_empty_content",
]


#: Tool-call arguments as JSON text, as Kimi takes them back (non-ASCII kept). One encoder
#: for every call: ``json.dumps`` with options builds a new one each time.
arguments_json = json.JSONEncoder(ensure_ascii=False).encode


def private_attrs(model: Any) -> dict[str, Any]:
    """A pydantic model's private attributes by name: what ``model._name`` reads, without
    the failed ordinary lookup such a read goes through first (~2 µs each, several per
    call in an adapter's hot path)."""
    private: dict[str, Any] = model.__pydantic_private__
    return private


def tool_arguments(text: str) -> tuple[dict[str, Any] | None, str]:
    """A finished tool call's arguments, strictly: ``(arguments, "")`` for a JSON object
    (blank text is no arguments, ``{}``), else ``(None, why)``, never a guess at what an
    invalid or cut-off text meant. Both adapters judge calls by this one rule."""
    if not text.strip():
        return {}, ""
    try:
        value = json.loads(text)
    except ValueError as exc:
        return None, f"not valid JSON ({exc})"
    if isinstance(value, dict):
        return value, ""
    return None, f"JSON but not an object ({type(value).__name__})"


def tool_arguments_error(name: str, call_id: str, text: str, why: str) -> ToolArgumentsError:
    """The error for a call :func:`tool_arguments` refused: which tool, which call, why,
    and (up to 200 characters of) the text as received."""
    shown = text if len(text) <= 200 else text[:197] + "..."
    return ToolArgumentsError(
        f"the call to tool {name!r} (id {call_id!r}) has arguments that are {why}: "
        f"{shown!r}; the tool is not called with partial or no arguments",
        tool_name=name,
        tool_call_id=call_id,
        arguments=text,
    )


def unmasked_headers(headers: Mapping[str, str] | None) -> dict[str, str] | None:
    """``headers`` without the values a dump masked (:data:`MASK`): a model rebuilt from
    its dump must not send the mask as a credential."""
    if headers is None:
        return None
    return {k: v for k, v in headers.items() if v != MASK}


def redacted_repr_args(args: Iterable[tuple[str | None, Any]]) -> Iterable[tuple[str | None, Any]]:
    """A pydantic model's ``__repr_args__`` with credential-like ``default_headers``
    masked."""
    for name, value in args:
        yield name, redact_headers(value) if name == "default_headers" else value
