"""Message rules: roles, content, tool calls sent back, media parts, partial mode.

Every check runs before anything is sent (:func:`checked_messages`, called by
``build_chat_request``). The adapters map their messages and leave these rules here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._context import RuleContext
from ._errors import ConfigurationError
from ._history import Wire
from ._thinking import ReasoningReplay
from ._tool_rules import builtin_typed, is_builtin

__all__ = ["FILE_URL_SCHEME", "checked_messages", "file_url", "is_empty", "without_empty_content"]

#: How a media part names a file uploaded to Moonshot's platform: ``ms://<file_id>``.
FILE_URL_SCHEME = "ms://"


def file_url(file_id: str) -> str:
    """The media-part URL of an uploaded file (``ms://<file_id>``; given as is when it
    already is one)."""
    return file_id if file_id.startswith(FILE_URL_SCHEME) else FILE_URL_SCHEME + file_id


_ROLES = frozenset({"system", "user", "assistant", "tool"})
_MEDIA_PARTS = {"image_url": "image_input", "video_url": "video_input"}


def is_empty(content: Any) -> bool:
    if content is None:
        return True
    if isinstance(content, str):
        return not content.strip()
    if isinstance(content, list):
        return not content or all(
            isinstance(p, Mapping)
            and p.get("type") == "text"
            and not str(p.get("text") or "").strip()
            for p in content
        )
    return False


def without_empty_content(msg: Mapping[str, Any]) -> Mapping[str, Any]:
    """An assistant message that makes tool calls goes without its content when that is
    empty (Kimi refuses empty content; the calls are the message)."""
    if "content" in msg and is_empty(msg.get("content")):
        return {k: v for k, v in msg.items() if k != "content"}
    return msg


def checked_messages(
    ctx: RuleContext,
    body: dict[str, Any],
    messages: Sequence[Mapping[str, Any]],
    replay: ReasoningReplay,
) -> bool:
    """Check and adapt the messages; return whether the last one is a partial prefix.

    ``replay`` (the thinking plan's) says which earlier assistant messages carry their
    reasoning back: ``""`` is sent where none was produced."""
    if isinstance(messages, (str, bytes)) or not messages:
        raise ConfigurationError(
            "messages is empty: send at least one message",
            param="messages",
            provider=ctx.profile.name,
        )
    parts_ok = ctx.profile.content_parts
    out: list[dict[str, Any]] = []
    last = len(messages) - 1
    key = (ctx.profile, ctx.model, replay)
    for i, msg in enumerate(messages):
        # An earlier message a HistoryCache keeps: checked once per profile, model, replay.
        kept = msg if type(msg) is Wire and i != last else None
        if kept is not None:
            checked = kept.checked_for(*key)
            if checked is not None:
                out.append(checked)
                continue
        if type(msg) is not dict and not isinstance(msg, Mapping):
            raise ctx.error(f"messages[{i}]", msg, "a dict with 'role' and 'content'")
        role = msg.get("role")
        content = msg.get("content")
        if (
            type(content) is str
            and content
            and not content.isspace()
            and msg.get("tool_calls") is None
            and not msg.get("partial")
            and (
                role == "user"
                or role == "system"
                or (role == "tool" and msg.get("tool_call_id"))
                or (
                    role == "assistant"
                    and (replay != "all" or type(msg.get("reasoning_content")) is str)
                )
            )
        ):
            # the common case: text, nothing to check or adapt
            out.append(dict(msg) if kept is None else kept.remember(*key, msg))
            continue
        if type(role) is not str or role not in _ROLES:
            raise ctx.error(f"messages[{i}].role", role, "'system', 'user', 'assistant' or 'tool'")
        m = msg
        if content is not None and not isinstance(content, (str, list)):
            raise ctx.error(
                f"messages[{i}].content", content, "a string or a list of content parts"
            )
        calls = msg.get("tool_calls")
        if calls is not None:
            _check_calls(ctx, i, role, calls)
            if any(
                is_builtin((c.get("function") or {}).get("name"))
                and c.get("type") != "builtin_function"
                for c in calls
            ):
                # A builtin's call ($web_search) goes back the way Kimi sent it.
                m = {**m, "tool_calls": [builtin_typed(c) for c in calls]}
        prefix = role == "assistant" and i == last and bool(msg.get("partial"))
        if (
            role == "assistant"
            and ((replay == "all" and not prefix) or (replay == "tool_calls" and calls))
            and not isinstance(msg.get("reasoning_content"), str)
        ):
            # Kimi: "thinking is enabled but reasoning_content is missing in assistant
            # tool call message at index N". Nothing produced -> send "".
            m = {**m, "reasoning_content": ""}
        if role == "assistant" and calls:
            m = without_empty_content(m)
        elif is_empty(content) and not prefix:
            raise ctx.error(
                f"messages[{i}].content",
                content,
                f"content must not be empty (a {role} message needs text or parts)",
            )
        if role == "tool" and not msg.get("tool_call_id"):
            raise ctx.error(
                f"messages[{i}].tool_call_id",
                msg.get("tool_call_id"),
                "the id of the tool call answered",
            )
        if msg.get("partial") and (role != "assistant" or i != last):
            raise ctx.error(
                f"messages[{i}].partial",
                True,
                "only the last message, an assistant one, can be partial",
            )
        if isinstance(content, list):
            m = _parts(ctx, i, m, content, parts_ok)
        out.append(dict(m) if kept is None else kept.remember(*key, m))
    body["messages"] = out
    return bool(messages[last].get("partial"))


def _check_calls(ctx: RuleContext, i: int, role: Any, calls: Any) -> None:
    where = f"messages[{i}].tool_calls"
    if role != "assistant":
        raise ctx.error(where, calls, "only assistant messages carry tool_calls")
    if not isinstance(calls, list):
        raise ctx.error(where, calls, "a list of {'id', 'type': 'function', 'function': {...}}")
    for j, call in enumerate(calls):
        fn = call.get("function") if isinstance(call, Mapping) else None
        if (
            not isinstance(fn, Mapping)
            or not isinstance(call.get("id"), str)
            or not isinstance(fn.get("name"), str)
            or not isinstance(fn.get("arguments", ""), str)
        ):
            raise ctx.error(
                f"{where}[{j}]",
                call,
                "{'id': str, 'type': 'function', 'function': {'name': str, 'arguments': str}}",
            )


def _parts(
    ctx: RuleContext,
    i: int,
    msg: Mapping[str, Any],
    parts: list[Any],
    allowed: frozenset[str] | None,
) -> Mapping[str, Any]:
    for j, part in enumerate(parts):
        kind = part.get("type") if isinstance(part, Mapping) else None
        if not isinstance(kind, str):
            raise ctx.error(
                f"messages[{i}].content[{j}]", part, "a content part dict with a 'type'"
            )
        if allowed is not None and kind not in allowed:
            raise ctx.error(
                f"messages[{i}].content[{j}].type",
                kind,
                f"content parts of type {', '.join(sorted(allowed))}",
            )
        capability = _MEDIA_PARTS.get(kind)
        if capability is not None:
            if not getattr(ctx.model, capability):
                raise ctx.error(
                    f"messages[{i}].content[{j}].type",
                    kind,
                    f"this model takes no {kind.split('_')[0]} input",
                    by="model",
                )
            prefixes = ctx.profile.media_url_prefixes
            url = (part.get(kind) or {}).get("url") if isinstance(part.get(kind), Mapping) else None
            if not isinstance(url, str) or not url:
                raise ctx.error(f"messages[{i}].content[{j}].{kind}.url", url, "a URL string")
            if prefixes is not None and not url.startswith(prefixes):
                raise ctx.error(
                    f"messages[{i}].content[{j}].{kind}.url",
                    url,
                    "a base64 data URI ('data:image/png;base64,...') or an uploaded file "
                    "id ('ms://<file_id>', see KimiClient.upload_file); download the "
                    "file and send its bytes",
                )
    if allowed == frozenset({"text"}):
        # The provider takes string content only: join text parts (same meaning).
        return {**msg, "content": "".join(str(p.get("text") or "") for p in parts)}
    return msg
