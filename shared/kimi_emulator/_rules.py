"""The server-side rules: what each dialect rejects, with its status and message.

This is the emulator's own judge: it reads the emulator's own tables (``_catalogue.py``
for the models, ``_dialects.py`` for each system's limits) and imports nothing from
``kimi_core``, so a client-side rule is tested against an independent implementation of
the server's.

Rules that only one unconfirmed source reports (``ModelRules.unconfirmed``) apply only
when the emulator runs with ``strict=True``.

Messages follow the real ones where they are known (docs/kimi-platform.md §3-§5, the rule
matrix of §12, and public reports):
``invalid temperature: only 1 is allowed for this model``, ``Not found the model X or
Permission denied``, ``tool_choice 'required' is incompatible with thinking enabled``,
``tool_choice 'specified' is incompatible with thinking enabled``,
``thinking is enabled but reasoning_content is missing in assistant tool call message at
index N``, ``invalid thinking: only type=enabled is allowed for this model``,
``cannot specify both 'thinking' and 'reasoning_effort'``, ``Invalid request: the
message at position N with role 'R' must not be empty``, ``Your request exceeded model
token limit: 262144 (requested: N)``,
``Invalid request: tools.function.parameters.type is required and must be "object"``,
``tools.function.parameters is not a valid moonshot flavored json schema, details:
<At path '...': ...>``, ``function name is invalid, must start with a letter ...``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._catalogue import ModelRules, rules_for
from ._dialects import Dialect
from ._mfjs import SchemaRejectedError, check_schema
from ._wire import ApiError

__all__ = [
    "TOKEN_RE",
    "ChatCall",
    "check_chat",
    "check_model",
    "count_text_tokens",
    "message_tokens",
]

_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9\-_]{2,63}$")
_BUILTIN_RE = re.compile(r"^\$[a-z_]{2,63}$")
_ROLES = frozenset({"system", "user", "assistant", "tool"})
#: What counts as one token: a word, a digit or a symbol.
TOKEN_RE = re.compile(r"[A-Za-z]+|\d|[^\sA-Za-z\d]")


def count_text_tokens(text: str) -> int:
    """A deterministic token estimate: a word, a digit or a symbol is one token."""
    return len(TOKEN_RE.findall(text)) if text else 0


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        out = []
        for part in content:
            if isinstance(part, Mapping):
                if part.get("type") == "text":
                    out.append(str(part.get("text") or ""))
                else:
                    out.append("[media]")
        return " ".join(out)
    return "" if content is None else json.dumps(content)


def message_tokens(msg: Mapping[str, Any]) -> int:
    """Tokens of one message, including its overhead, tool calls and reasoning."""
    n = 4 + count_text_tokens(_content_text(msg.get("content")))
    reasoning = msg.get("reasoning_content")
    if isinstance(reasoning, str):
        n += count_text_tokens(reasoning)
    calls = msg.get("tool_calls")
    if calls:
        n += count_text_tokens(json.dumps(calls, ensure_ascii=False))
    name = msg.get("name")
    if isinstance(name, str):
        n += 1
    return n


@dataclass
class ChatCall:
    """A chat request that passed the rules, with what the responder needs."""

    model: str
    #: The emulator's rules of the model (``_catalogue.ModelRules``).
    info: ModelRules
    thinking: bool
    messages: list[dict[str, Any]]
    stream: bool
    include_usage: bool
    functions: list[dict[str, Any]] = field(default_factory=list)
    builtins: list[str] = field(default_factory=list)
    tool_choice: Any = None
    parallel_tool_calls: bool = True
    response_format: str = "text"
    json_schema: dict[str, Any] | None = None
    partial: str | None = None
    max_tokens: int | None = None
    stop: list[str] = field(default_factory=list)
    n: int = 1
    prompt_tokens: int = 0
    message_tokens: list[int] = field(default_factory=list)
    tools_tokens: int = 0
    reasoning_effort: str | None = None


def _bad(message: str) -> ApiError:
    return ApiError(400, "invalid_request_error", message)


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def check_model(
    dialect: Dialect,
    model: Any,
    *,
    served: frozenset[str],
    accept_any: bool,
) -> tuple[str, ModelRules]:
    """The model id and its rules, or the dialect's rejection (a retired id is not
    served: the same 404 as an unknown one, as Moonshot answers)."""
    if not isinstance(model, str) or not model:
        raise _bad("Invalid request: model is required")
    if model not in served and not accept_any:
        raise ApiError(404, "model_not_found", f"Not found the model {model} or Permission denied")
    return model, rules_for(model)


def check_chat(
    dialect: Dialect,
    body: Any,
    *,
    served: frozenset[str],
    accept_any: bool,
    file_exists: Callable[[str], bool],
    strict: bool = False,
) -> ChatCall:
    """Apply the dialect's rules to a chat body; raise :class:`ApiError` on a rejection.

    ``strict``: also apply the rules only one unconfirmed source reports.
    """
    if not isinstance(body, Mapping):
        raise _bad("Invalid request: the request body must be a JSON object")
    model, info = check_model(dialect, body.get("model"), served=served, accept_any=accept_any)
    enforce = dialect.model_rules
    rules = _Strict(info, strict and enforce)
    thinking, effort = _thinking(info, body, enforce, rules)
    _sampling(dialect, info, body, thinking, enforce)
    max_tokens = _max_tokens(body)
    stop = _stop(dialect, body.get("stop"))
    functions, builtins, tools_tokens = _tools(dialect, body.get("tools"))
    forced_ok = info.forced_choice_while_thinking or not enforce
    named_ok = info.named_choice_while_thinking or not enforce
    choice = _tool_choice(
        body.get("tool_choice"),
        functions,
        required_refused=thinking and not forced_ok,
        named_refused=thinking and not named_ok,
    )
    messages, partial = _messages(
        dialect, info, body.get("messages"), thinking and enforce, file_exists, rules
    )
    fmt, schema = _response_format(dialect, info, body.get("response_format"), partial)
    for key in ("prompt_cache_key", "safety_identifier"):
        if key in body and body[key] is not None and not isinstance(body[key], str):
            raise _bad(f"invalid {key}: must be a string")
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise _bad("invalid stream: must be a boolean")
    options = body.get("stream_options")
    include_usage = isinstance(options, Mapping) and options.get("include_usage") is True

    per_message = [message_tokens(m) for m in messages]
    prompt = 3 + sum(per_message) + tools_tokens
    requested = prompt + (max_tokens or 0)
    if requested > info.context_window:
        raise _bad(
            f"Your request exceeded model token limit: {info.context_window} "
            f"(requested: {requested})"
        )
    n = body.get("n")
    parallel = body.get("parallel_tool_calls")
    return ChatCall(
        model=model,
        info=info,
        thinking=thinking,
        messages=messages,
        stream=bool(stream),
        include_usage=include_usage,
        functions=functions,
        builtins=builtins,
        tool_choice=choice,
        parallel_tool_calls=parallel is not False,
        response_format=fmt,
        json_schema=schema,
        partial=partial,
        max_tokens=max_tokens,
        stop=stop,
        n=n if isinstance(n, int) else 1,
        prompt_tokens=prompt,
        message_tokens=per_message,
        tools_tokens=tools_tokens,
        reasoning_effort=effort,
    )


@dataclass(frozen=True)
class _Strict:
    """Which unconfirmed rules of a model apply to this request."""

    info: ModelRules
    strict: bool

    def __call__(self, rule: str) -> bool:
        return self.strict and rule in self.info.unconfirmed


# --------------------------------------------------------------------------- thinking


def _thinking(
    info: ModelRules, body: Mapping[str, Any], enforce: bool, strict: _Strict
) -> tuple[bool, str | None]:
    """Whether the request thinks, and its ``reasoning_effort``."""
    value = body.get("thinking")
    effort = body.get("reasoning_effort")
    if effort is not None:
        if not isinstance(effort, str):
            raise _bad("invalid reasoning_effort: must be a string")
        if info.efforts is not None and effort not in info.efforts:
            raise _bad(f"invalid reasoning_effort: must be one of {', '.join(info.efforts)}")
        if info.efforts is None and strict("no_effort"):
            raise _bad("invalid reasoning_effort: this model does not support reasoning_effort")
    if value is None:
        return info.thinks_by_default, effort
    if enforce and effort is not None:
        # nanobot#3939 (kimi-k2.5 / kimi-k2.6, a live probe); K3 the same.
        raise _bad("cannot specify both 'thinking' and 'reasoning_effort'")
    kind = value.get("type") if isinstance(value, Mapping) else None
    if kind not in ("enabled", "disabled"):
        raise _bad("invalid thinking: type must be one of enabled, disabled")
    if isinstance(value, Mapping) and value.get("keep") is not None:
        keep = value["keep"]
        if info.keep and keep != "all":
            raise _bad(f"invalid thinking.keep: {keep!r}, must be 'all' or null")
        if not info.keep and strict("keep_elsewhere"):
            raise _bad("invalid thinking.keep: keep is not supported by this model")
    if not info.thinking_field:
        # K3 thinks always and takes no thinking object (docs/kimi-platform.md §11, nanobot#3939).
        if kind == "disabled" and strict("thinking_disabled"):
            raise _bad("invalid thinking: only type=enabled is allowed for this model")
        return True, effort
    if enforce and info.thinking == "always" and kind == "disabled":
        raise _bad("invalid thinking: only type=enabled is allowed for this model")
    if enforce and info.thinking == "none" and kind == "enabled":
        raise _bad("invalid thinking: only type=disabled is allowed for this model")
    if info.thinking == "always":
        return True, effort
    return info.thinking != "none" and kind == "enabled", effort


# --------------------------------------------------------------------------- sampling


def _sampling(
    dialect: Dialect, info: ModelRules, body: Mapping[str, Any], thinking: bool, enforce: bool
) -> None:
    fixed_t = fixed_top_p = fixed_penalties = None
    if enforce:
        if info.fixed_temperature is not None:
            fixed_t = info.fixed_temperature[0 if thinking else 1]
        fixed_top_p, fixed_penalties = info.fixed_top_p, info.fixed_penalties
    checks: list[tuple[str, float | None, tuple[float, float] | None]] = [
        ("temperature", fixed_t, dialect.temperature_range),
        ("top_p", fixed_top_p, dialect.top_p_range),
        ("presence_penalty", fixed_penalties, (-2.0, 2.0)),
        ("frequency_penalty", fixed_penalties, (-2.0, 2.0)),
    ]
    for name, fixed, rng in checks:
        value = body.get(name)
        if value is None:
            continue
        if not _is_number(value):
            raise _bad(f"invalid {name}: must be a number")
        if fixed is not None:
            if not math.isclose(float(value), fixed, abs_tol=1e-6):
                raise _bad(f"invalid {name}: only {_num(fixed)} is allowed for this model")
        elif rng is not None and not rng[0] <= value <= rng[1]:
            raise _bad(f"invalid {name}: must be in [{_num(rng[0])}, {_num(rng[1])}]")
    n = body.get("n")
    if n is None:
        return
    if isinstance(n, bool) or not isinstance(n, int):
        raise _bad("invalid n: must be an integer")
    if enforce and info.fixed_n is not None and n != info.fixed_n:
        raise _bad(f"invalid n: only {info.fixed_n} is allowed for this model")
    lo, hi = dialect.n_range or (1, 128)
    if not lo <= n <= hi:
        raise _bad(f"invalid n: must be in [{lo}, {hi}]")
    temperature = body.get("temperature")
    cold = _is_number(temperature) and float(temperature or 0) < 0.01
    if dialect.n_needs_temperature and n > 1 and cold:
        raise _bad("invalid n: only 1 is allowed when temperature is close to 0")


def _max_tokens(body: Mapping[str, Any]) -> int | None:
    value = None
    for name in ("max_completion_tokens", "max_tokens"):
        v = body.get(name)
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise _bad(f"invalid {name}: must be a positive integer")
        value = v if value is None else value
    return value


def _stop(dialect: Dialect, stop: Any) -> list[str]:
    if stop is None:
        return []
    stops = [stop] if isinstance(stop, str) else stop
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
        raise _bad("invalid stop: must be a string or an array of strings")
    if dialect.max_stop is not None and len(stops) > dialect.max_stop:
        raise _bad(f"invalid stop: at most {dialect.max_stop} stop sequences are allowed")
    if dialect.max_stop_bytes is not None:
        for s in stops:
            if len(s.encode("utf-8")) > dialect.max_stop_bytes:
                raise _bad(
                    f"invalid stop: each stop sequence must be at most "
                    f"{dialect.max_stop_bytes} bytes"
                )
    return [s for s in stops if s]


# --------------------------------------------------------------------------- tools


def _tools(dialect: Dialect, tools: Any) -> tuple[list[dict[str, Any]], list[str], int]:
    if tools is None:
        return [], [], 0
    if not isinstance(tools, list):
        raise _bad("invalid tools: must be an array")
    if dialect.max_tools is not None and len(tools) > dialect.max_tools:
        raise _bad(
            f"invalid tools: at most {dialect.max_tools} tools are allowed (got {len(tools)})"
        )
    functions: list[dict[str, Any]] = []
    builtins: list[str] = []
    seen: set[str] = set()
    for i, tool in enumerate(tools):
        if not isinstance(tool, Mapping) or not isinstance(tool.get("function"), Mapping):
            raise _bad(f"invalid tools[{i}]: each tool needs a type and a function object")
        kind = tool.get("type")
        fn = tool["function"]
        name = fn.get("name")
        if kind == "builtin_function":
            if not isinstance(name, str) or not _BUILTIN_RE.match(name):
                raise _bad(f"invalid builtin function name: {name}")
            builtins.append(name)
        elif kind == "function":
            if not isinstance(name, str) or not _NAME_RE.match(name):
                raise _bad(
                    "function name is invalid, must start with a letter and can contain "
                    "letters, numbers, underscores, and dashes"
                )
            params = fn.get("parameters")
            if params is not None and (
                not isinstance(params, Mapping) or params.get("type") != "object"
            ):
                # Hmbown/Codewhale#3265, synthetic-sciences/openscience#295.
                raise _bad(
                    "Invalid request: tools.function.parameters.type is required and must be "
                    '"object"'
                )
            if params is not None:
                try:
                    check_schema(params)
                except SchemaRejectedError as exc:
                    raise _bad(
                        "tools.function.parameters is not a valid moonshot flavored json "
                        f"schema, details: <{exc}>"
                    ) from None
            desc = fn.get("description")
            if desc is not None and not isinstance(desc, str):
                raise _bad("invalid tools.function.description: must be a string")
            functions.append(dict(fn))
        else:
            raise _bad(f"invalid tools[{i}].type: {kind!r}, must be function or builtin_function")
        if name in seen:
            raise _bad(f"function name {name} is duplicated")
        seen.add(name)
    tokens = count_text_tokens(json.dumps(tools, ensure_ascii=False)) if tools else 0
    return functions, builtins, tokens


def _tool_choice(
    choice: Any, functions: list[dict[str, Any]], *, required_refused: bool, named_refused: bool
) -> Any:
    if choice is None or choice in ("auto", "none"):
        return choice
    if choice == "required":
        if not functions:
            raise _bad("invalid tool_choice: 'required' needs at least one function in tools")
        if required_refused:
            raise _bad("tool_choice 'required' is incompatible with thinking enabled")
        return choice
    if isinstance(choice, Mapping):
        fn = choice.get("function")
        name = fn.get("name") if isinstance(fn, Mapping) else None
        if choice.get("type") != "function" or not isinstance(name, str):
            raise _bad(
                "invalid tool_choice: expected {'type': 'function', 'function': {'name': ...}}"
            )
        if name not in {f.get("name") for f in functions}:
            raise _bad(f"invalid tool_choice: function {name} is not found in tools")
        if named_refused:
            raise _bad("tool_choice 'specified' is incompatible with thinking enabled")
        return dict(choice)
    raise _bad(f"invalid tool_choice: {choice!r}, must be none, auto, required or a function")


# --------------------------------------------------------------------------- messages


def _is_blank(content: Any) -> bool:
    if content is None:
        return True
    if isinstance(content, str):
        return not content.strip()
    return False


def _messages(
    dialect: Dialect,
    info: ModelRules,
    messages: Any,
    thinking: bool,
    file_exists: Callable[[str], bool],
    strict: _Strict,
) -> tuple[list[dict[str, Any]], str | None]:
    if not isinstance(messages, list) or not messages:
        raise _bad("Invalid request: messages must not be empty")
    out: list[dict[str, Any]] = []
    call_ids: dict[str, tuple[str, str]] = {}
    last = len(messages) - 1
    partial: str | None = None
    for i, msg in enumerate(messages):
        if not isinstance(msg, Mapping):
            raise _bad(f"Invalid request: the message at position {i} must be an object")
        role = msg.get("role")
        if role not in _ROLES:
            raise _bad(f"Invalid request: the message at position {i} has an invalid role {role!r}")
        content = msg.get("content")
        calls = msg.get("tool_calls") if role == "assistant" else None
        if msg.get("partial"):
            if role != "assistant" or i != last:
                raise _bad(
                    "Invalid request: only the last message, with role 'assistant', can be partial"
                )
            partial = content if isinstance(content, str) else ""
        if isinstance(content, list):
            _parts(dialect, info, i, role, content, file_exists)
        elif content is not None and not isinstance(content, str):
            raise _bad(f"Invalid request: the message at position {i} has invalid content")
        if calls:
            _assistant_calls(dialect, i, msg, calls, thinking, call_ids, strict)
        else:
            if (partial is None or i != last) and _is_blank(content):
                raise _bad(
                    f"Invalid request: the message at position {i} with role '{role}' "
                    "must not be empty"
                )
            if (
                thinking
                and role == "assistant"
                and i != last
                and strict("every_assistant_reasoning")
                and _reasoning_back(dialect, msg) is None
            ):
                raise _bad(
                    "thinking is enabled but reasoning_content is missing in assistant "
                    f"message at index {i}"
                )
        if role == "tool":
            tid = msg.get("tool_call_id")
            if not isinstance(tid, str) or not tid:
                raise _bad(
                    f"Invalid request: the message at position {i} with role 'tool' "
                    "needs a tool_call_id"
                )
            if tid not in call_ids:
                raise _bad(f"Invalid request: tool_call_id {tid} is not found")
            name, args = call_ids[tid]
            if name == "$web_search" and not _same_json(content, args):
                raise _bad(
                    f"Invalid request: the tool message at position {i} answers $web_search: "
                    "its content must be the call's arguments, unchanged"
                )
        out.append(dict(msg))
    return out, partial


def _same_json(content: Any, args: str) -> bool:
    if content == args:
        return True
    try:
        return bool(json.loads(content) == json.loads(args))
    except (TypeError, ValueError):
        return False


def _reasoning_back(dialect: Dialect, msg: Mapping[str, Any]) -> str | None:
    """The reasoning an assistant message carries back, in any field the dialect takes
    (a list of ``reasoning_details`` counts as its text), or None."""
    for name in dialect.reasoning_back:
        value = msg.get(name)
        if isinstance(value, str):
            return value
        if name == "reasoning_details" and isinstance(value, list):
            return "".join(str(d.get("text") or "") for d in value if isinstance(d, Mapping))
    return None


def _assistant_calls(
    dialect: Dialect,
    i: int,
    msg: Mapping[str, Any],
    calls: Any,
    thinking: bool,
    call_ids: dict[str, tuple[str, str]],
    strict: _Strict,
) -> None:
    if not isinstance(calls, list):
        raise _bad(f"Invalid request: tool_calls of the message at position {i} must be an array")
    if thinking:
        back = _reasoning_back(dialect, msg)
        if back is None or (back == "" and strict("empty_reasoning")):
            raise _bad(
                "thinking is enabled but reasoning_content is missing in assistant tool call "
                f"message at index {i}"
            )
    for call in calls:
        fn = call.get("function") if isinstance(call, Mapping) else None
        cid = call.get("id") if isinstance(call, Mapping) else None
        if not isinstance(fn, Mapping) or not isinstance(cid, str) or not cid:
            raise _bad(
                f"Invalid request: tool call in the message at position {i} needs an id and "
                "a function"
            )
        args = fn.get("arguments")
        if not isinstance(args, str):
            raise _bad(f"Invalid request: tool call {cid} arguments must be a JSON string")
        call_ids[cid] = (str(fn.get("name")), args)


def _parts(
    dialect: Dialect,
    info: ModelRules,
    i: int,
    role: str,
    parts: list[Any],
    file_exists: Callable[[str], bool],
) -> None:
    allowed = dialect.content_parts
    if allowed is not None and not allowed:
        raise _bad(
            f"Invalid request: the message at position {i} has array content; "
            f"{dialect.name} takes string content only"
        )
    if not parts:
        # litellm PR #42199: "Moonshot rejects [] with 'must not be empty' but accepts ''".
        raise _bad(
            f"Invalid request: the message at position {i} with role '{role}' must not be empty"
        )
    if all(
        isinstance(p, Mapping) and p.get("type") == "text" and not str(p.get("text") or "").strip()
        for p in parts
    ):
        raise _bad("Invalid request: text content is empty")
    for part in parts:
        kind = part.get("type") if isinstance(part, Mapping) else None
        if not isinstance(kind, str) or (allowed is not None and kind not in allowed):
            shown = ", ".join(sorted(allowed)) if allowed else "text"
            raise _bad(
                f"Invalid request: unsupported content type {kind!r} in the message at "
                f"position {i}; supported: {shown}"
            )
        if kind in ("image_url", "video_url"):
            media = kind.split("_")[0]
            if not (info.image_input if media == "image" else info.video_input):
                raise _bad(f"Invalid request: {media} input is not supported by model {info.id}")
            holder = part.get(kind)
            url = holder.get("url") if isinstance(holder, Mapping) else None
            if not isinstance(url, str) or not url:
                raise _bad(f"Invalid request: {kind}.url is required")
            schemes = dialect.image_url_schemes
            if schemes is not None and not url.startswith(schemes):
                raise _bad(
                    f"Invalid request: unsupported {kind} url: only base64 data URLs and "
                    "ms://<file_id> are supported"
                )
            if url.startswith("ms://") and not file_exists(url[5:]):
                raise _bad(f"Invalid request: file {url[5:]} is not found")


# --------------------------------------------------------------------------- formats


def _response_format(
    dialect: Dialect, info: ModelRules, fmt: Any, partial: str | None
) -> tuple[str, dict[str, Any] | None]:
    if fmt is None:
        return "text", None
    kind = fmt.get("type") if isinstance(fmt, Mapping) else None
    allowed = dialect.response_formats or frozenset({"text", "json_object", "json_schema"})
    if kind not in allowed:
        raise _bad(
            f"invalid response_format: type {kind!r} is not supported, "
            f"must be one of {', '.join(sorted(allowed))}"
        )
    if partial is not None and kind == "json_object":
        raise _bad(
            "Invalid request: partial mode is not compatible with response_format json_object"
        )
    if kind != "json_schema":
        return str(kind), None
    if not info.json_schema:
        raise _bad(f"invalid response_format: json_schema is not supported by model {info.id}")
    spec = fmt.get("json_schema")
    schema = spec.get("schema") if isinstance(spec, Mapping) else None
    if not isinstance(schema, Mapping):
        raise _bad("invalid response_format: json_schema.schema is required")
    try:
        check_schema(schema)
    except SchemaRejectedError as exc:
        raise _bad(
            "Invalid request: response_format.json_schema is not a valid moonshot flavored "
            f"json schema, details: <{exc}>"
        ) from None
    return "json_schema", dict(schema)
