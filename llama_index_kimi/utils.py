"""Conversion between LlamaIndex types and Kimi wire dicts.

Pure module-level functions: LlamaIndex messages, blocks and tools in, the plain dicts
``kimi_core`` validates and sends out; response and stream-event dicts in, LlamaIndex
``ChatResponse`` / ``CompletionResponse`` out. Nothing here does IO (except reading a
local file an ``ImageBlock``/``VideoBlock``/``DocumentBlock`` points at).

Streamed responses are built straight from the event dicts: one ``TextBlock`` (and a
``ThinkingBlock`` / ``ToolCallBlock`` when they change), ``ChatMessage.model_construct``
(its validated ``__init__`` costs twice as much and the values are built here with the
right types) and a ``ChatResponse``. Blocks that did not change are reused.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from io import IOBase
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import (
    AudioBlock,
    CachePoint,
    ChatMessage,
    ChatResponse,
    CitableBlock,
    CitationBlock,
    CompletionResponse,
    DocumentBlock,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
    VideoBlock,
)
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.llms.utils import parse_partial_json
from pydantic import BaseModel

import kimi_core as kc
from kimi_core import _adapter as ka

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool

__all__ = [
    "ChatStreamState",
    "chat_response_from_completion",
    "completion_response_from_chat",
    "is_partial",
    "message_from_wire",
    "parse_json_output",
    "resolve_tool_choice",
    "to_wire_message",
    "to_wire_messages",
    "to_wire_tool",
    "to_wire_tools",
    "tool_selections",
    "usage_kwargs",
]

_ROLES: dict[str, str] = {
    MessageRole.SYSTEM.value: "system",
    MessageRole.DEVELOPER.value: "system",
    MessageRole.USER.value: "user",
    MessageRole.ASSISTANT.value: "assistant",
    MessageRole.TOOL.value: "tool",
    MessageRole.FUNCTION.value: "tool",
    MessageRole.CHATBOT.value: "assistant",
    MessageRole.MODEL.value: "assistant",
}

# --------------------------------------------------------------------------- requests


def to_wire_messages(
    messages: Sequence[ChatMessage], cache: ka.HistoryCache[ChatMessage] | None = None
) -> list[dict[str, Any]]:
    """LlamaIndex chat messages as Kimi message dicts (see :func:`to_wire_message`); with
    a ``cache``, earlier messages unchanged since a previous call are not converted again."""
    if cache is not None:
        return cache.convert(messages, _one_to_wire, _keepable)
    return [to_wire_message(m, index=i) for i, m in enumerate(messages)]


def _one_to_wire(message: ChatMessage, index: int, last: bool) -> dict[str, Any]:
    return to_wire_message(message, index=index)


def _keepable(message: ChatMessage) -> bool:
    """Whether the message's wire dict depends on its state alone: a media block read from
    a ``path`` is read again on every call (the file may have changed)."""
    return all(getattr(b, "path", None) is None for b in message.blocks)


def to_wire_message(message: ChatMessage, *, index: int = 0) -> dict[str, Any]:
    """One LlamaIndex ``ChatMessage`` as a Kimi message dict.

    - text blocks become the ``content`` string (joined with newlines, as
      ``ChatMessage.content`` does); with media blocks, ``content`` is a list of parts:
      ``ImageBlock`` -> ``image_url``, ``VideoBlock`` -> ``video_url`` (URLs as given,
      bytes and paths as base64 data URIs), ``DocumentBlock`` -> ``file``
      (``{filename, file_data}``), ``AudioBlock`` -> ``input_audio``. Which part types a
      provider and a model take is checked by ``kimi_core`` before sending;
    - ``ThinkingBlock`` on an assistant message -> ``reasoning_content`` (what Kimi needs
      back on tool-call turns while thinking);
    - ``ToolCallBlock`` -> ``tool_calls`` with the ids unchanged (else the message's
      ``additional_kwargs["tool_calls"]``);
    - a tool message takes ``tool_call_id`` (and ``name``) from ``additional_kwargs``;
      an assistant message with ``additional_kwargs["partial"] = True`` is Kimi's partial
      mode prefix.
    """
    # MessageRole is a str enum: its members find their values' keys.
    role = _ROLES.get(message.role)
    if role is None and not isinstance(message.role, MessageRole):
        role = _ROLES.get(str(message.role))
    if role is None:
        raise kc.ConfigurationError(
            f"messages[{index}].role={_role_value(message.role)!r} is not accepted by Kimi: "
            "system, developer, user, assistant, tool",
            param=f"messages[{index}].role",
        )
    texts: list[str] = []
    parts: list[dict[str, Any]] = []
    media = False
    reasoning: list[str] | None = None
    calls: list[dict[str, Any]] = []
    blocks: Sequence[Any] = message.blocks
    if len(blocks) == 1 and type(blocks[0]) is TextBlock:
        texts.append(blocks[0].text)  # the common case, one text: nothing else to look at
        blocks = ()
    for j, block in enumerate(blocks):
        if isinstance(block, TextBlock):
            texts.append(block.text)
            parts.append({"type": "text", "text": block.text})
        elif isinstance(block, ThinkingBlock):
            if role == "assistant":
                reasoning = reasoning if reasoning is not None else []
                if block.content:
                    reasoning.append(block.content)
        elif isinstance(block, ToolCallBlock):
            calls.append(_tool_call_from_block(block))
        elif isinstance(block, CachePoint):
            continue  # Kimi caches by itself (prompt_cache_key), nothing to send
        else:
            for part in _media_parts(block, f"messages[{index}].blocks[{j}]"):
                media = media or part["type"] != "text"
                if part["type"] == "text":
                    texts.append(part["text"])
                parts.append(part)

    extra = message.additional_kwargs
    out: dict[str, Any] = {"role": role}
    if media:
        out["content"] = [p for p in parts if p["type"] != "text" or p["text"]]
    else:
        out["content"] = "\n".join(texts)

    if role == "assistant":
        if not calls and extra.get("tool_calls"):
            calls = [_tool_call_from_any(tc) for tc in extra["tool_calls"]]
        if calls:
            out["tool_calls"] = calls
            out = dict(ka.without_empty_content(out))
        if reasoning is None and isinstance(extra.get("reasoning_content"), str):
            reasoning = [extra["reasoning_content"]]
        if reasoning is not None:
            out["reasoning_content"] = "".join(reasoning)
        if extra.get("partial") is True:
            out["partial"] = True
            if isinstance(extra.get("name"), str):
                out["name"] = extra["name"]
    elif role == "tool":
        call_id = extra.get("tool_call_id")
        if call_id is not None:
            out["tool_call_id"] = call_id
        if isinstance(extra.get("name"), str):
            out["name"] = extra["name"]
    return out


def _role_value(role: Any) -> str:
    return role.value if isinstance(role, MessageRole) else str(role)


def _tool_call_from_block(block: ToolCallBlock) -> dict[str, Any]:
    args = block.tool_kwargs
    return ka.tool_call(
        block.tool_call_id or "",
        block.tool_name,
        args if isinstance(args, str) else ka.arguments_json(args),
    )


def _tool_call_from_any(tc: Any) -> dict[str, Any]:
    """A tool call from ``additional_kwargs["tool_calls"]``: a dict, or an SDK object."""
    if not isinstance(tc, Mapping):
        dump = getattr(tc, "model_dump", None)
        tc = dump() if callable(dump) else {}
    fn = tc.get("function") or {}
    args = fn.get("arguments")
    if not isinstance(args, str):
        args = ka.arguments_json(args if args is not None else {})
    return {
        "id": tc.get("id") or "",
        "type": tc.get("type") or "function",
        "function": {"name": fn.get("name") or "", "arguments": args},
    }


def _media_parts(block: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(block, ImageBlock):
        return [image_part(block, where)]
    if isinstance(block, VideoBlock):
        return [video_part(block, where)]
    if isinstance(block, DocumentBlock):
        return [document_part(block, where)]
    if isinstance(block, AudioBlock):
        data = _base64_of(block.audio, block.path, block.url)
        return [{"type": "input_audio", "input_audio": {"data": data, "format": block.format}}]
    if isinstance(block, CitableBlock):
        out: list[dict[str, Any]] = []
        for k, inner in enumerate(block.content):
            if isinstance(inner, TextBlock):
                out.append({"type": "text", "text": inner.text})
            else:
                out.extend(_media_parts(inner, f"{where}.content[{k}]"))
        return out
    if isinstance(block, CitationBlock):
        return []  # a citation marker of an earlier answer; its text is in the text blocks
    raise kc.ConfigurationError(
        f"{where} is a {type(block).__name__}, which Kimi does not take: use TextBlock, "
        "ImageBlock, VideoBlock, DocumentBlock, ThinkingBlock or ToolCallBlock",
        param=where,
    )


def image_part(block: ImageBlock, where: str = "image") -> dict[str, Any]:
    """An ``ImageBlock`` as an ``image_url`` part.

    A URL is sent as given (``https://...``, a ``data:`` URI, or Moonshot's
    ``ms://<file_id>``); bytes, base64 and paths become a base64 data URI.
    """
    if block.url is not None and not block.image and block.path is None:
        return {"type": "image_url", "image_url": {"url": str(block.url)}}
    b64 = _base64_of(block.image, block.path, block.url)
    mime = block.image_mimetype or _sniff(b64, where, "ImageBlock", "image_mimetype")
    return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{b64}"}}


def video_part(block: VideoBlock, where: str = "video") -> dict[str, Any]:
    """A ``VideoBlock`` as a ``video_url`` part (URL as given, else a base64 data URI)."""
    if block.url is not None and not block.video and block.path is None:
        return {"type": "video_url", "video_url": {"url": str(block.url)}}
    b64 = _base64_of(block.video, block.path, block.url)
    mime = block.video_mimetype or _sniff(b64, where, "VideoBlock", "video_mimetype")
    return {"type": "video_url", "video_url": {"url": f"data:{mime};base64,{b64}"}}


def document_part(block: DocumentBlock, where: str = "document") -> dict[str, Any]:
    """A ``DocumentBlock`` as a ``file`` part ``{filename, file_data}`` (GPTProto's form)."""
    if block.url and not block.data and not block.path:
        data = str(block.url)
    else:
        b64 = _base64_of(block.data, block.path, block.url)
        mime = block.document_mimetype or _sniff(b64, where, "DocumentBlock", "document_mimetype")
        data = f"data:{mime};base64,{b64}"
    return {"type": "file", "file": {"filename": block.title or "document", "file_data": data}}


def _base64_of(data: Any, path: Any, url: Any) -> str:
    """Base64 text of a block's bytes (LlamaIndex stores bytes as base64 already)."""
    if isinstance(data, IOBase):
        data.seek(0)
        data = data.read()
    if isinstance(data, bytes) and data:
        try:
            base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return base64.b64encode(data).decode("ascii")
        return data.decode("ascii")
    if path is not None:
        from pathlib import Path

        return base64.b64encode(Path(path).read_bytes()).decode("ascii")
    if url is not None:
        raise kc.ConfigurationError(
            f"cannot inline {url!r}: pass the URL alone, or the bytes", param="url"
        )
    raise kc.ConfigurationError("a media block has no data, path or url", param="blocks")


def _sniff(b64: str, where: str, kind: str, field: str) -> str:
    mime = ka.sniff_media_type(b64)
    if mime is not None:
        return mime
    raise kc.ConfigurationError(
        f"{where}: the {kind} has no {field} and its format was not recognised; "
        f"set {field} (e.g. {field}='{'video/mp4' if 'Video' in kind else 'image/png'}')",
        param=where,
    )


def to_wire_tool(tool: BaseTool | Mapping[str, Any], *, strict: bool = False) -> dict[str, Any]:
    """A LlamaIndex tool as a Kimi tool dict; a dict (e.g. the ``$web_search`` builtin,
    ``{"type": "builtin_function", "function": {"name": "$web_search"}}``) passes as is.

    Schemas are normalised to Moonshot flavored JSON Schema by ``kimi_core``.
    """
    if isinstance(tool, Mapping):
        return dict(tool)
    spec: dict[str, Any] = tool.metadata.to_openai_tool(skip_length_check=True)
    if strict and spec.get("type") == "function":
        spec["function"]["strict"] = True
    return spec


#: Tool sets already converted, by the identity of their tools (held here, so that an id
#: is not reused while its entry lives) and what the conversion reads of each.
_TOOL_SETS: OrderedDict[tuple[Any, ...], tuple[Sequence[Any], ka.ToolSet]] = OrderedDict()
_TOOL_SETS_LOCK = threading.Lock()
_TOOL_SETS_SIZE = 64


def _converted_by(tool: BaseTool | Mapping[str, Any]) -> Any:
    """What :func:`to_wire_tool` reads of ``tool``: a change of any of it is a new set."""
    if isinstance(tool, Mapping):
        return json.dumps(tool, sort_keys=True, default=repr)
    meta = tool.metadata
    return (id(tool), id(meta), meta.name, meta.description, meta.fn_schema)


def to_wire_tools(tools: Sequence[BaseTool | Mapping[str, Any]], *, strict: bool) -> ka.ToolSet:
    """The tools of an agent turn as a ``kimi_core`` tool set: converted (LlamaIndex builds
    each schema anew, hundreds of microseconds a tool) and checked once for the same tools,
    however many turns send them."""
    key = (strict, tuple(_converted_by(t) for t in tools))
    with _TOOL_SETS_LOCK:
        hit = _TOOL_SETS.get(key)
        if hit is not None:
            _TOOL_SETS.move_to_end(key)
            return hit[1]
    converted = ka.ToolSet(to_wire_tool(t, strict=strict) for t in tools)
    with _TOOL_SETS_LOCK:
        _TOOL_SETS[key] = (tuple(tools), converted)
        if len(_TOOL_SETS) > _TOOL_SETS_SIZE:
            _TOOL_SETS.popitem(last=False)
    return converted


def resolve_tool_choice(
    tool_choice: str | Mapping[str, Any] | None, tool_required: bool = False
) -> str | dict[str, Any] | None:
    """LlamaIndex's ``tool_choice`` / ``tool_required`` as the wire ``tool_choice`` (the
    mapping both adapters share, ``ka.tool_choice_to_wire``)."""
    return ka.tool_choice_to_wire(tool_choice, required=tool_required)


# --------------------------------------------------------------------------- responses


def usage_kwargs(usage: kc.Usage | None) -> dict[str, Any]:
    """Token counts for ``additional_kwargs`` (prompt, completion, total, cached, reasoning).

    A count the provider did not report (``None`` in :class:`kimi_core.Usage`) is left
    out rather than shown as 0.
    """
    if not usage:
        return {}
    return {k: v for k, v in usage.items() if v is not None}


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(p.get("text") or "")
            for p in content
            if isinstance(p, Mapping) and p.get("type") == "text"
        )
    return ""


def message_from_wire(
    msg: Mapping[str, Any], *, reasoning_tokens: int | None = None
) -> ChatMessage:
    """A Kimi assistant message dict as a ``ChatMessage``.

    Blocks: a ``ThinkingBlock`` (when the model reasoned), a ``TextBlock``, and one
    ``ToolCallBlock`` per tool call (``tool_kwargs`` is the arguments string as sent, so
    it goes back unchanged). ``additional_kwargs["tool_calls"]`` holds the calls as dicts.
    """
    blocks: list[Any] = []
    reasoning = msg.get("reasoning_content")
    if isinstance(reasoning, str) and reasoning:
        blocks.append(ThinkingBlock(content=reasoning, num_tokens=reasoning_tokens or None))
    blocks.append(TextBlock(text=_text_of(msg.get("content"))))
    extra: dict[str, Any] = {}
    calls = msg.get("tool_calls")
    if calls:
        wire = [_tool_call_from_any(tc) for tc in calls]
        blocks.extend(_call_block(tc) for tc in wire)
        extra["tool_calls"] = wire
    return ChatMessage.model_construct(
        role=MessageRole.ASSISTANT, blocks=blocks, additional_kwargs=extra
    )


def _call_block(tc: Mapping[str, Any]) -> ToolCallBlock:
    fn = tc["function"]
    return ToolCallBlock(tool_call_id=tc["id"], tool_name=fn["name"], tool_kwargs=fn["arguments"])


def chat_response_from_completion(
    body: Mapping[str, Any], request_id: str | None = None
) -> ChatResponse:
    """A whole (normalised) chat completion as a ``ChatResponse``.

    ``raw`` is the response body; ``additional_kwargs`` holds the token counts (and the
    provider's request id when it sent one).
    """
    choice = ka.first_usable_choice(body)
    if choice is None:
        raise kc.StreamError(f"the answer (HTTP 200) has no usable choice: {str(body)[:200]}")
    usage = ka.usage_of(body.get("usage"))
    message = message_from_wire(
        choice["message"], reasoning_tokens=usage["reasoning_tokens"] if usage else None
    )
    extra = usage_kwargs(usage)
    if request_id:
        extra["request_id"] = request_id
    extra.update(kc.gateway_metadata(body))  # OpenRouter: cost, upstream provider
    return ChatResponse(
        message=message, raw=body, delta=None, logprobs=None, additional_kwargs=extra
    )


def completion_response_from_chat(response: ChatResponse) -> CompletionResponse:
    """A ``ChatResponse`` (whole or streamed) as a ``CompletionResponse``.

    The reasoning goes to ``additional_kwargs["thinking"]`` (whole) or stays in
    ``additional_kwargs["thinking_delta"]`` (streamed).
    """
    extra = response.additional_kwargs
    text = ""
    for block in response.message.blocks:
        if isinstance(block, TextBlock):
            text = block.text if not text else text + "\n" + block.text
        elif isinstance(block, ThinkingBlock) and response.delta is None and block.content:
            extra = {**extra, "thinking": block.content}
    return CompletionResponse(
        text=text,
        additional_kwargs=extra,
        raw=response.raw,
        logprobs=None,
        delta=response.delta,
    )


# A stream builds a ChatResponse, its ChatMessage and a TextBlock for every event. Their
# validation only checks what is built here from checked values, so they are made without
# it: the instance dict filled as validation fills it, so the objects are equal to
# validated ones (tested). Only while the models are what this expects (plain fields, no
# extra, no private attributes); otherwise the constructors are used.
_new = object.__new__
_setattr = object.__setattr__


def _plain(cls: type[Any], fields: frozenset[str]) -> bool:
    return (
        set(cls.model_fields) == fields
        and not cls.__private_attributes__
        and cls.model_config.get("extra") in (None, "ignore")
    )


_RESPONSE_FIELDS = frozenset({"message", "raw", "delta", "logprobs", "additional_kwargs"})
_MESSAGE_FIELDS = frozenset({"role", "additional_kwargs", "blocks"})
_TEXT_FIELDS = frozenset({"text"})  # the fields set; block_type is a default
_FAST_RESPONSES = (
    _plain(ChatResponse, _RESPONSE_FIELDS)
    and _plain(ChatMessage, _MESSAGE_FIELDS)
    and _plain(TextBlock, _TEXT_FIELDS | {"block_type"})
)


# BaseModel's own slots, set through their descriptors (no attribute lookup per call).
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def _unchecked(cls: type[Any], state: dict[str, Any], fields_set: frozenset[str]) -> Any:
    obj = _new(cls)
    _setattr(obj, "__dict__", state)
    _set_fields_set(obj, set(fields_set))
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj


def _text_block(text: str) -> TextBlock:
    if not _FAST_RESPONSES:
        return TextBlock(text=text)
    block: TextBlock = _unchecked(TextBlock, {"block_type": "text", "text": text}, _TEXT_FIELDS)
    return block


def _stream_response(
    blocks: list[Any], extra: dict[str, Any], event: Any, text: str, thought: str
) -> ChatResponse:
    kwargs = {"thinking_delta": thought} if thought else {}
    if not _FAST_RESPONSES:
        message = ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks, additional_kwargs=extra)
        return ChatResponse(
            message=message, raw=event, delta=text, logprobs=None, additional_kwargs=kwargs
        )
    message = _unchecked(
        ChatMessage,
        {"role": MessageRole.ASSISTANT, "additional_kwargs": extra, "blocks": blocks},
        _MESSAGE_FIELDS,
    )
    state = {
        "message": message,
        "raw": event,
        "delta": text,
        "logprobs": None,
        "additional_kwargs": kwargs,
    }
    response: ChatResponse = _unchecked(ChatResponse, state, _RESPONSE_FIELDS)
    return response


class ChatStreamState:
    """Builds one ``ChatResponse`` per streamed event, straight from the event dict.

    Each response carries the cumulative message (``ThinkingBlock``, ``TextBlock``,
    ``ToolCallBlock`` s), the content ``delta``, the reasoning delta in
    ``additional_kwargs["thinking_delta"]``, and the event as ``raw``. Feed it each event
    ``kimi_core`` yields (already normalised: reasoning in ``reasoning_content``, every
    tool-call delta with its index) with the stream's accumulator, which already holds
    the merged tool calls; after the stream, :meth:`final` gives the closing response
    with the token counts, counted once.
    """

    __slots__ = (
        "_call_blocks",
        "_content",
        "_reasoning",
        "_text_block",
        "_thinking_block",
        "_wire",
    )

    def __init__(self) -> None:
        self._content = ""
        self._reasoning = ""
        self._thinking_block: ThinkingBlock | None = None
        self._text_block: TextBlock = _text_block("")
        self._wire: list[dict[str, Any]] = []
        self._call_blocks: list[ToolCallBlock] = []

    def response(self, event: Mapping[str, Any], acc: kc.StreamAccumulator) -> ChatResponse | None:
        """The response for one event (already added to ``acc``), or None for an event
        without a choice 0 (a usage-only chunk: its counts come with :meth:`final`)."""
        choices = event.get("choices")
        if not choices:
            return None
        choice = choices[0]
        if choice.get("index", 0) not in (0, None):
            return None
        delta = choice.get("delta") or {}
        text = delta.get("content") or ""
        thought = delta.get("reasoning_content") or ""
        if thought:
            self._reasoning += thought
            self._thinking_block = None
        if text:
            self._content += text
            self._text_block = _text_block(self._content)
        if delta.get("tool_calls"):
            self._wire = acc.tool_calls(0)
            self._call_blocks = [
                ToolCallBlock(
                    tool_call_id=c["id"],
                    tool_name=c["function"]["name"],
                    tool_kwargs=c["function"]["arguments"],
                )
                for c in self._wire
            ]
        blocks: list[Any] = []
        if self._reasoning:
            if self._thinking_block is None:
                self._thinking_block = ThinkingBlock(content=self._reasoning)
            blocks.append(self._thinking_block)
        blocks.append(self._text_block)
        extra: dict[str, Any] = {}
        if self._wire:
            blocks.extend(self._call_blocks)
            # A fresh list per response: a consumer may keep or change an earlier one.
            extra["tool_calls"] = [{**tc, "function": dict(tc["function"])} for tc in self._wire]
        return _stream_response(blocks, extra, event, text, thought)

    def final(
        self, acc: kc.StreamAccumulator, request_id: str | None = None
    ) -> ChatResponse | None:
        """The closing response: the whole message again, ``delta=""``, the token counts
        in ``additional_kwargs`` and the whole completion (usage included) as ``raw``.
        None when the provider reported no usage."""
        usage = acc.usage
        if usage is None:
            return None
        completion = acc.completion()
        choices = completion.get("choices") or [{}]
        message = message_from_wire(
            choices[0].get("message") or {}, reasoning_tokens=usage["reasoning_tokens"]
        )
        extra = usage_kwargs(usage)
        if request_id:
            extra["request_id"] = request_id
        extra.update(kc.gateway_metadata(completion))  # OpenRouter: cost
        return ChatResponse(
            message=message, raw=completion, delta="", logprobs=None, additional_kwargs=extra
        )


# --------------------------------------------------------------------------- tool calls


def tool_selections(
    message: ChatMessage, *, error_on_no_tool_call: bool = True, partial: bool = False
) -> list[ToolSelection]:
    """The tool calls of an assistant message.

    Read from ``ToolCallBlock`` s, else from ``additional_kwargs["tool_calls"]``. The
    arguments of a finished message must be a JSON object (empty means none): anything
    else (invalid or cut-off JSON) raises :class:`kimi_core.ToolArgumentsError` rather
    than calling the tool with no or partial arguments. With ``partial`` (a response
    in the middle of a stream) they are parsed as far as they go.
    """
    found: list[tuple[str, str, Any]] = []
    blocks = [b for b in message.blocks if isinstance(b, ToolCallBlock)]
    if blocks:
        found = [(b.tool_call_id or "", b.tool_name, b.tool_kwargs) for b in blocks]
    else:
        for tc in message.additional_kwargs.get("tool_calls") or ():
            wire = _tool_call_from_any(tc)
            fn = wire["function"]
            found.append((wire["id"], fn["name"], fn["arguments"]))
    selections = [
        ToolSelection(
            tool_id=tid, tool_name=name, tool_kwargs=_parse_args(args, name, tid, partial)
        )
        for tid, name, args in found
    ]
    if not selections and error_on_no_tool_call:
        raise ValueError("Expected at least one tool call, but the response has none.")
    return selections


def is_partial(response: ChatResponse) -> bool:
    """Whether ``response`` is one in the middle of a stream (its tool calls may still
    grow): a streamed delta whose event finished no choice."""
    if response.delta is None:
        return False
    raw = response.raw
    if not isinstance(raw, Mapping) or raw.get("object") == "chat.completion":
        return False
    choices = raw.get("choices")
    return not (
        isinstance(choices, list)
        and any(isinstance(c, Mapping) and c.get("finish_reason") for c in choices)
    )


def _parse_args(
    args: dict[str, Any] | str, name: str, call_id: str, partial: bool
) -> dict[str, Any]:
    """Arguments as a dict: strictly (a JSON object, or nothing) unless ``partial``."""
    if isinstance(args, dict):
        return args
    value, why = ka.tool_arguments(args)
    if value is not None:
        return value
    if not partial:
        raise ka.tool_arguments_error(name, call_id, args, why)
    try:
        value = parse_partial_json(args)
    except (ValueError, TypeError):
        return {}
    return value if isinstance(value, dict) else {}


# --------------------------------------------------------------------------- JSON output

_FENCE = re.compile(r"^```[a-zA-Z]*\s*\n?(.*?)\n?```\s*$", re.DOTALL)


def parse_json_output(text: str) -> str:
    """The JSON object in a model's answer: the text itself, inside a Markdown code fence,
    or from the first ``{`` to the last ``}``. Raises ``ValueError`` when there is none."""
    s = text.strip()
    fenced = _FENCE.match(s)
    if fenced:
        s = fenced.group(1).strip()
    if s.startswith(("{", "[")):
        return s
    start, end = s.find("{"), s.rfind("}")
    if start != -1 and end > start:
        return s[start : end + 1]
    shown = text if len(text) < 200 else text[:197] + "..."
    raise ValueError(f"the model's answer holds no JSON object: {shown!r}")
