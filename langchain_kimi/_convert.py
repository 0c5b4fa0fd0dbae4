"""Pure conversion functions: LangChain types to Kimi wire dicts, and back.

Nothing here does IO or validation that ``kimi_core`` already does (provider and
model rules, schema normalisation, empty-content rules, ``reasoning_content`` while
thinking). These functions translate, and raise :class:`kimi_core.ConfigurationError`
only for LangChain inputs that have no Kimi equivalent (an audio block, a
``FunctionMessage``, an image block without data).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    InvalidToolCall,
    SystemMessage,
    ToolCall,
    ToolCallChunk,
    ToolMessage,
)
from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata
from langchain_core.messages.tool import invalid_tool_call
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

import kimi_core as kc
from kimi_core import _adapter as ka

__all__ = [
    "INVALID_TOOL_CALLS",
    "WEB_SEARCH",
    "apply_invalid_tool_calls",
    "chunk_from_event",
    "completion_to_result",
    "content_to_wire",
    "final_chunk",
    "message_from_wire",
    "message_to_wire",
    "messages_to_wire",
    "parse_tool_calls",
    "usage_to_metadata",
]

#: The name of Kimi's built-in web search tool.
WEB_SEARCH = ka.WEB_SEARCH

#: ``response_metadata`` key of a stream's last chunk: the tool calls whose whole
#: arguments are not a JSON object. LangChain's chunk aggregation parses arguments as
#: *partial* JSON (``{"city": "Par`` becomes ``{"city": "Par"}``, ``{`` becomes ``{}``),
#: so the summed message alone would show them as valid calls.
INVALID_TOOL_CALLS = "invalid_tool_calls"

# Content blocks that only describe model output (LangChain v1, Anthropic and OpenAI
# styles); never sent back as content. Tool calls go back through ``tool_calls``.
_OUTPUT_ONLY = frozenset(
    {
        "reasoning",
        "thinking",
        "redacted_thinking",
        "reasoning_content",
        "tool_call",
        "tool_call_chunk",
        "invalid_tool_call",
        "server_tool_call",
        "server_tool_call_chunk",
        "server_tool_result",
        "tool_use",
        "server_tool_use",
        "function_call",
        "refusal",
    }
)
_MEDIA_WIRE = {"image": "image_url", "video": "video_url"}


def _error(param: str, value: Any, allowed: str) -> kc.ConfigurationError:
    shown = repr(value)
    if len(shown) > 120:
        shown = shown[:117] + "..."
    return kc.ConfigurationError(f"{param}={shown} is not accepted: {allowed}", param=param)


# --------------------------------------------------------------------------- input


def _media_url(block: Mapping[str, Any], kind: str, where: str) -> str:
    """The wire URL of a LangChain image or video block (v1, v0 or Anthropic style)."""
    source_type = block.get("source_type")
    if source_type is not None:  # v0: {"source_type": "url"|"base64"|"id", ...}
        if source_type == "url" and block.get("url"):
            return str(block["url"])
        if source_type == "base64" and block.get("data"):
            mime = block.get("mime_type") or _sniffed(block["data"], kind, f"{where}.mime_type")
            return f"data:{mime};base64,{block['data']}"
        if source_type == "id" and block.get("id"):
            return ka.file_url(str(block["id"]))
    else:
        source = block.get("source")
        if isinstance(source, Mapping):  # Anthropic style
            if source.get("type") == "base64" and source.get("data"):
                mime = source.get("media_type") or _sniffed(
                    source["data"], kind, f"{where}.source.media_type"
                )
                return f"data:{mime};base64,{source['data']}"
            if source.get("type") == "url" and source.get("url"):
                return str(source["url"])
        if block.get("url"):
            return str(block["url"])
        if block.get("base64"):
            mime = block.get("mime_type") or _sniffed(block["base64"], kind, f"{where}.mime_type")
            return f"data:{mime};base64,{block['base64']}"
        if block.get("file_id"):
            return ka.file_url(str(block["file_id"]))
    raise _error(
        where,
        {k: v for k, v in block.items() if k not in ("base64", "data")},
        f"a {kind} block needs url, base64 (+ mime_type) or file_id "
        "(a Moonshot file id, sent as ms://<file_id>)",
    )


def _sniffed(data: str, kind: str, where: str) -> str:
    """The media type of base64 ``data`` given without one (from its magic number)."""
    mime = ka.sniff_media_type(data)
    if mime is None or not mime.startswith(kind):
        raise _error(
            where,
            None,
            f"the {kind} has no mime_type and its format was not recognised; set it "
            f"(e.g. '{'image/png' if kind == 'image' else 'video/mp4'}')",
        )
    return mime


def _file_part(block: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A LangChain file block as the gateway ``file`` part (GPTProto)."""
    extras = block.get("extras")
    meta = block.get("metadata")
    filename = (
        block.get("filename")
        or (extras.get("filename") if isinstance(extras, Mapping) else None)
        or (meta.get("filename") if isinstance(meta, Mapping) else None)
    )
    source_type = block.get("source_type")
    data = block.get("data") if source_type == "base64" else block.get("base64")
    if data:
        mime = block.get("mime_type") or "application/pdf"
        file_data = f"data:{mime};base64,{data}"
    elif block.get("url"):
        file_data = str(block["url"])
    else:
        raise _error(
            where,
            {k: v for k, v in block.items() if k not in ("base64", "data")},
            "a file block needs base64 (+ mime_type) or url; Moonshot file ids are not "
            "content parts (upload with purpose='file-extract' and put the extracted text "
            "in a message)",
        )
    file: dict[str, Any] = {"file_data": file_data}
    if filename:
        file["filename"] = str(filename)
    return {"type": "file", "file": file}


def _part_to_wire(part: Any, where: str) -> dict[str, Any] | None:
    """One content part to its wire form; None for output-only blocks."""
    if isinstance(part, str):
        return {"type": "text", "text": part}
    if not isinstance(part, Mapping):
        raise _error(where, part, "a string or a content block dict")
    kind = part.get("type")
    if kind == "text" or kind == "text-plain":
        text = part.get("text")
        if not isinstance(text, str):
            raise _error(f"{where}.text", text, "a string")
        return {"type": "text", "text": text}
    if kind in ("image_url", "video_url"):  # OpenAI style, passed on
        value = part.get(kind)
        url = value.get("url") if isinstance(value, Mapping) else value
        if not isinstance(url, str) or not url:
            raise _error(f"{where}.{kind}", value, "{'url': 'data:...;base64,...' or 'ms://<id>'}")
        return {
            "type": kind,
            kind: {**value, "url": url} if isinstance(value, Mapping) else {"url": url},
        }
    if kind in _MEDIA_WIRE:
        wire = _MEDIA_WIRE[kind]
        return {"type": wire, wire: {"url": _media_url(part, kind, where)}}
    if kind == "file":
        if isinstance(part.get("file"), Mapping):  # already the wire shape
            return {"type": "file", "file": dict(part["file"])}
        return _file_part(part, where)
    if kind in ("audio", "input_audio"):
        raise _error(f"{where}.type", kind, "Kimi models take no audio input")
    if kind == "non_standard" and isinstance(part.get("value"), Mapping):
        return dict(part["value"])
    if kind in _OUTPUT_ONLY:
        return None
    if not isinstance(kind, str):
        raise _error(where, part, "a content block dict with a 'type'")
    # Anything else is passed on; kimi_core checks it against the provider's part types.
    return dict(part)


def content_to_wire(content: str | list[Any], where: str = "content") -> str | list[Any]:
    """Message content to wire content.

    Strings stay strings. Lists become wire parts: LangChain standard image and video
    blocks (url, base64 + mime_type, file_id -> ``ms://<id>``), v0 data blocks,
    Anthropic-style image blocks and OpenAI ``image_url`` / ``video_url`` parts become
    ``image_url`` / ``video_url``; file blocks become the gateway ``file`` part. A list
    of text parts only is joined into a string (every provider takes that).
    """
    if isinstance(content, str):
        return content
    parts = []
    for i, part in enumerate(content):
        wire = _part_to_wire(part, f"{where}[{i}]")
        if wire is not None:
            parts.append(wire)
    if all(p.get("type") == "text" for p in parts):
        return "".join(p["text"] for p in parts)
    return parts


def _assistant_content(message: AIMessage, index: int) -> tuple[str, str | None]:
    """Text and reasoning of an assistant message (v0 string or v1 block content)."""
    content = message.content
    reasoning = message.additional_kwargs.get("reasoning_content")
    if not isinstance(reasoning, str):
        reasoning = None
    if isinstance(content, str):
        return content, reasoning
    where = f"messages[{index}]"
    texts: list[str] = []
    thoughts: list[str] = []
    for i, block in enumerate(content):
        if isinstance(block, str):
            texts.append(block)
            continue
        if not isinstance(block, Mapping):
            raise _error(f"{where}.content[{i}]", block, "a string or a content block dict")
        kind = block.get("type")
        if kind == "text":
            texts.append(str(block.get("text") or ""))
        elif kind == "reasoning":
            thoughts.append(str(block.get("reasoning") or ""))
        elif kind == "thinking":  # Anthropic-style
            thoughts.append(str(block.get("thinking") or ""))
        elif kind in _OUTPUT_ONLY:
            continue
        else:
            raise _error(
                f"{where}.content[{i}].type",
                kind,
                "assistant messages carry text, reasoning and tool calls only",
            )
    if reasoning is None and thoughts:
        reasoning = "".join(thoughts)
    return "".join(texts), reasoning


def _tool_call_to_wire(call: ToolCall) -> dict[str, Any]:
    return ka.tool_call(call.get("id") or "", call["name"], ka.arguments_json(call["args"]))


def _invalid_tool_call_to_wire(call: InvalidToolCall) -> dict[str, Any]:
    return ka.tool_call(call.get("id") or "", call.get("name") or "", call.get("args") or "")


def message_to_wire(message: BaseMessage, *, index: int = 0) -> dict[str, Any]:
    """One LangChain message as a Kimi wire message.

    - ``AIMessage``: text content (v1 blocks joined), ``reasoning_content`` from
      ``additional_kwargs["reasoning_content"]`` or the v1 ``reasoning`` blocks,
      ``tool_calls`` with their ids unchanged (``$`` names as ``builtin_function``),
      ``partial: True`` when ``additional_kwargs["partial"]`` is set (``kimi_core``
      refuses it anywhere but on the last message, before sending);
    - ``ToolMessage``: role ``tool`` with ``tool_call_id`` and ``name`` when known;
    - ``HumanMessage`` / ``SystemMessage`` / ``ChatMessage``: role and content parts.
    """
    out: dict[str, Any]
    if isinstance(message, AIMessage):
        text, reasoning = _assistant_content(message, index)
        out = {"role": "assistant", "content": text}
        calls = [_tool_call_to_wire(tc) for tc in message.tool_calls]
        calls += [_invalid_tool_call_to_wire(tc) for tc in message.invalid_tool_calls]
        if calls:
            out["tool_calls"] = calls
        if reasoning is not None:
            out["reasoning_content"] = reasoning
        if message.additional_kwargs.get("partial"):
            out["partial"] = True
    elif isinstance(message, HumanMessage):
        out = {"role": "user", "content": _content(message, index)}
    elif isinstance(message, SystemMessage):
        out = {"role": "system", "content": _content(message, index)}
    elif isinstance(message, ToolMessage):
        content = _content(message, index)
        out = {"role": "tool", "tool_call_id": message.tool_call_id, "content": content}
    elif isinstance(message, ChatMessage):
        role = {"human": "user", "ai": "assistant"}.get(message.role, message.role)
        out = {"role": role, "content": _content(message, index)}
    elif isinstance(message, FunctionMessage):
        raise _error(
            f"messages[{index}]",
            "FunctionMessage",
            "Kimi uses tool calls; answer a tool call with a ToolMessage",
        )
    else:
        raise _error(f"messages[{index}]", type(message).__name__, "a LangChain chat message")
    name = message.name
    if name is None and isinstance(message, ToolMessage):
        name = message.additional_kwargs.get("name")
    if name:
        out["name"] = name
    return out


def _content(message: BaseMessage, index: int) -> str | list[Any]:
    content = message.content
    return (
        content if type(content) is str else content_to_wire(content, f"messages[{index}].content")
    )


def messages_to_wire(
    messages: Sequence[BaseMessage], cache: ka.HistoryCache[BaseMessage] | None = None
) -> list[dict[str, Any]]:
    """LangChain messages as Kimi wire messages (see :func:`message_to_wire`); with a
    ``cache``, earlier messages unchanged since a previous call are not converted again."""
    if cache is not None:
        return cache.convert(messages, _one_to_wire)
    return [message_to_wire(m, index=i) for i, m in enumerate(messages)]


def _one_to_wire(message: BaseMessage, index: int, last: bool) -> dict[str, Any]:
    return message_to_wire(message, index=index)


# --------------------------------------------------------------------------- output


def usage_to_metadata(usage: kc.Usage) -> UsageMetadata:
    """``kimi_core`` usage as LangChain ``UsageMetadata`` (cache reads, reasoning).

    A count the provider did not report is left out of the details, as langchain-openai
    does, rather than shown as 0.
    """
    cached, reasoning = usage["cached_tokens"], usage["reasoning_tokens"]
    return UsageMetadata(
        input_tokens=usage["prompt_tokens"],
        output_tokens=usage["completion_tokens"],
        total_tokens=usage["total_tokens"],
        input_token_details=(
            InputTokenDetails() if cached is None else InputTokenDetails(cache_read=cached)
        ),
        output_token_details=(
            OutputTokenDetails() if reasoning is None else OutputTokenDetails(reasoning=reasoning)
        ),
    )


def parse_tool_calls(
    raw_calls: Sequence[Mapping[str, Any]],
) -> tuple[list[ToolCall], list[InvalidToolCall]]:
    """Wire tool calls as LangChain tool calls; malformed arguments are kept as invalid."""
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    for raw in raw_calls:
        fn = raw.get("function") or {}
        name = fn.get("name") or ""
        args_text = fn.get("arguments")
        call_id = raw.get("id") or None
        args: dict[str, Any] | None = {}
        why = ""
        if isinstance(args_text, Mapping):
            args = dict(args_text)
        elif isinstance(args_text, str):
            args, why = ka.tool_arguments(args_text)
        if args is not None:
            calls.append(ToolCall(name=name, args=args, id=call_id, type="tool_call"))
        else:
            # The factory, not the TypedDict: langchain-core 1.8 declares the optional keys
            # with typing.NotRequired, which mypy at Python 3.10 reads as required.
            invalid.append(
                invalid_tool_call(
                    name=name,
                    args=args_text if isinstance(args_text, str) else None,
                    id=call_id,
                    error=f"arguments are {why}",
                )
            )
    return calls, invalid


def message_from_wire(
    msg: Mapping[str, Any], response_metadata: dict[str, Any], usage: kc.Usage | None
) -> AIMessage:
    """A (normalised) wire assistant message as an ``AIMessage``."""
    additional: dict[str, Any] = {}
    reasoning = msg.get("reasoning_content")
    if isinstance(reasoning, str) and reasoning:
        additional["reasoning_content"] = reasoning
    details = msg.get("reasoning_details")  # OpenRouter: the reasoning as structured parts
    if isinstance(details, list) and details:
        additional["reasoning_details"] = details
    calls, invalid = parse_tool_calls(msg.get("tool_calls") or ())
    return AIMessage(
        content=msg.get("content") or "",
        additional_kwargs=additional,
        tool_calls=calls,
        invalid_tool_calls=invalid,
        usage_metadata=usage_to_metadata(usage) if usage is not None else None,
        response_metadata=response_metadata,
        name=msg.get("name") or None,
    )


def _metadata(
    body: Mapping[str, Any], provider: str, request_id: str | None, finish_reason: Any
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "model_name": body.get("model"),
        "model_provider": provider,
        "finish_reason": finish_reason,
    }
    if body.get("id"):
        meta["id"] = body["id"]
    if body.get("system_fingerprint"):
        meta["system_fingerprint"] = body["system_fingerprint"]
    if request_id:
        meta["request_id"] = request_id
    meta.update(kc.gateway_metadata(body))  # OpenRouter: cost, upstream provider
    return meta


def completion_to_result(
    body: Mapping[str, Any], *, provider: str, request_id: str | None
) -> ChatResult:
    """A normalised completion body as a LangChain ``ChatResult`` (one generation per choice).

    Usage goes on every generation's ``usage_metadata`` when there is one choice, and on
    the first one otherwise (it counts the whole request).
    """
    usage = ka.usage_of(body.get("usage"))
    generations = []
    for i, choice in enumerate(body.get("choices") or ()):
        meta = _metadata(body, provider, request_id, choice.get("finish_reason"))
        if choice.get("logprobs"):
            meta["logprobs"] = choice["logprobs"]
        message = message_from_wire(choice.get("message") or {}, meta, usage if i == 0 else None)
        generations.append(ChatGeneration(message=message))
    # As langchain-openai: the raw token counts and the model for LLMResult.llm_output.
    llm_output: dict[str, Any] = {"model_name": body.get("model"), "model_provider": provider}
    if body.get("usage"):
        llm_output["token_usage"] = dict(body["usage"])
    if body.get("system_fingerprint"):
        llm_output["system_fingerprint"] = body["system_fingerprint"]
    return ChatResult(generations=generations, llm_output=llm_output)


# Streamed text and reasoning deltas are by far the most frequent chunks. They are built
# without running pydantic validation (which for them only copies what is given and
# sets empty tool-call lists): the instance dict is filled from a template taken from a
# validated instance, so the objects are equal to validated ones (tested). Deltas with
# tool calls go through the validating constructor (its validator parses the calls).
_new = object.__new__
_setattr = object.__setattr__
_CHUNK_TEMPLATE = dict(AIMessageChunk(content="").__dict__)
_GEN_TEMPLATE = dict(ChatGenerationChunk(message=AIMessageChunk(content="")).__dict__)
# A model with extra="allow" (messages) holds its extra fields in a dict, {} when there are
# none; pydantic compares it, so a built chunk gets a new {} where a validated one has one.
_CHUNK_EXTRA = AIMessageChunk(content="").__pydantic_extra__ is not None
_GEN_EXTRA = ChatGenerationChunk(message=AIMessageChunk(content="")).__pydantic_extra__ is not None
_CHUNK_RESET = ("additional_kwargs", "response_metadata", "tool_calls", "invalid_tool_calls",
                "tool_call_chunks")  # fmt: skip
_CHUNK_FIELDS_SET = frozenset({"content", "additional_kwargs", "response_metadata"})
_GEN_FIELDS_SET = frozenset({"message", "text"})
# Only when every mutable field of the template is one we renew per chunk (a future
# langchain-core could add one); otherwise chunks are built by the constructors.
_FAST_CHUNKS = all(
    key in _CHUNK_RESET
    for key, value in _CHUNK_TEMPLATE.items()
    if isinstance(value, (list, dict, set))
) and set(_GEN_TEMPLATE) == {"text", "generation_info", "type", "message"}


def text_chunk(content: str, reasoning: str | None, provider: str) -> ChatGenerationChunk:
    """A chunk of text and/or reasoning, equal to the one the constructors build."""
    additional = {"reasoning_content": reasoning} if reasoning else {}
    metadata = {"model_provider": provider}
    if not _FAST_CHUNKS:
        return ChatGenerationChunk(
            message=AIMessageChunk(
                content=content, additional_kwargs=additional, response_metadata=metadata
            )
        )
    state = _CHUNK_TEMPLATE.copy()
    state["content"] = content
    state["additional_kwargs"] = additional
    state["response_metadata"] = metadata
    state["tool_calls"] = []
    state["invalid_tool_calls"] = []
    state["tool_call_chunks"] = []
    message = _new(AIMessageChunk)
    _setattr(message, "__dict__", state)
    _setattr(message, "__pydantic_fields_set__", set(_CHUNK_FIELDS_SET))
    _setattr(message, "__pydantic_extra__", {} if _CHUNK_EXTRA else None)
    _setattr(message, "__pydantic_private__", None)
    gen_state = _GEN_TEMPLATE.copy()
    gen_state["text"] = content
    gen_state["message"] = message
    gen = _new(ChatGenerationChunk)
    _setattr(gen, "__dict__", gen_state)
    _setattr(gen, "__pydantic_fields_set__", set(_GEN_FIELDS_SET))
    _setattr(gen, "__pydantic_extra__", {} if _GEN_EXTRA else None)
    _setattr(gen, "__pydantic_private__", None)
    return gen


def chunk_from_event(event: Mapping[str, Any], provider: str) -> ChatGenerationChunk | None:
    """One normalised stream event as a chunk; None when it carries no delta content.

    The event was normalised by ``kimi_core``'s accumulator: reasoning is in
    ``delta["reasoning_content"]`` and every tool-call delta has its ``index``. Usage,
    the finish reason and the response ids go on the final chunk (:func:`final_chunk`).
    """
    choices = event.get("choices")
    if not choices:
        return None
    delta = choices[0].get("delta")
    if not delta:
        return None
    content = delta.get("content") or ""
    reasoning = delta.get("reasoning_content")
    calls = delta.get("tool_calls")
    if not calls:
        if content or reasoning:
            return text_chunk(content, reasoning, provider)
        return None
    message = AIMessageChunk(
        content=content,
        additional_kwargs={"reasoning_content": reasoning} if reasoning else {},
        tool_call_chunks=[
            ToolCallChunk(
                name=(tc.get("function") or {}).get("name"),
                args=(tc.get("function") or {}).get("arguments"),
                id=tc.get("id"),
                index=tc["index"],
                type="tool_call_chunk",
            )
            for tc in calls
        ],
        response_metadata={"model_provider": provider},
    )
    return ChatGenerationChunk(message=message)


def final_chunk(
    completion: Mapping[str, Any],
    usage: kc.Usage | None,
    *,
    provider: str,
    request_id: str | None,
) -> ChatGenerationChunk:
    """The last chunk of a stream: usage (once), finish reason, model and ids; and,
    under :data:`INVALID_TOOL_CALLS`, the calls whose arguments are not a JSON object
    (checked strictly, as for a whole answer)."""
    choices = completion.get("choices") or ()
    finish = choices[0].get("finish_reason") if choices else None
    metadata = _metadata(completion, provider, request_id, finish)
    if choices:
        calls = (choices[0].get("message") or {}).get("tool_calls")
        if calls:
            _, invalid = parse_tool_calls(calls)
            if invalid:
                metadata[INVALID_TOOL_CALLS] = [dict(tc) for tc in invalid]
    message = AIMessageChunk(
        content="",
        usage_metadata=usage_to_metadata(usage) if usage is not None else None,
        response_metadata=metadata,
        chunk_position="last",
    )
    return ChatGenerationChunk(message=message)


def apply_invalid_tool_calls(message: AIMessage) -> AIMessage:
    """``message`` (summed from a stream) with the calls its last chunk reported under
    :data:`INVALID_TOOL_CALLS` moved from ``tool_calls`` to ``invalid_tool_calls``,
    where a whole answer has them; unchanged when there are none."""
    reported = message.response_metadata.get(INVALID_TOOL_CALLS)
    if not reported:
        return message
    metadata = {k: v for k, v in message.response_metadata.items() if k != INVALID_TOOL_CALLS}
    calls = list(message.tool_calls)
    invalid = list(message.invalid_tool_calls)
    for bad in reported:
        for i, tc in enumerate(calls):
            if _same_call(tc, bad):
                del calls[i]
                break
        checked = invalid_tool_call(
            name=bad.get("name"), args=bad.get("args"), id=bad.get("id"), error=bad.get("error")
        )
        for i, itc in enumerate(invalid):
            if itc.get("id") == bad.get("id") and itc.get("args") == bad.get("args"):
                invalid[i] = checked
                break
        else:
            invalid.append(checked)
    return message.model_copy(
        update={"tool_calls": calls, "invalid_tool_calls": invalid, "response_metadata": metadata}
    )


def _same_call(call: ToolCall, bad: Mapping[str, Any]) -> bool:
    if bad.get("id"):
        return bool(call.get("id") == bad["id"])
    return call.get("name") == (bad.get("name") or "") and not call.get("id")


def with_instruction(messages: Sequence[BaseMessage], instruction: str) -> list[BaseMessage]:
    """``messages`` with ``instruction`` added to the first system message (or in a new
    one at the start), where ``kimi_core`` places it."""
    at, content = ka.instruction_placement([(m.type, m.content) for m in messages], instruction)
    if at is None:
        return [SystemMessage(content=content), *messages]
    out = list(messages)
    out[at] = out[at].model_copy(update={"content": content})
    return out
