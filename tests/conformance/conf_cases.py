"""Each recording, the request that asks the emulator the same thing, and the differences
allowed between the two (with their reasons). ``docs/emulator.md`` shows this table."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PING = {
    "type": "function",
    "function": {
        "name": "ping",
        "description": "Return pong",
        "parameters": {"type": "object", "properties": {}},
    },
}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
WEATHER_LOCATION = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "Get the weather in a location",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
        },
    },
}
TUPLE_ITEMS = {
    "type": "object",
    "properties": {"pair": {"type": "array", "items": [{"type": "string"}, {"type": "number"}]}},
    "required": ["pair"],
    "additionalProperties": False,
}
PREFIX_ITEMS = {
    "type": "object",
    "properties": {
        "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}]}
    },
    "required": ["pair"],
    "additionalProperties": False,
}


def allows(entry: str, difference: str) -> bool:
    """An allowed difference: the exact line, or a regular expression after ``~ ``."""
    if entry.startswith("~ "):
        return re.fullmatch(entry[2:], difference) is not None
    return entry == difference


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


STREAM = {"stream": True, "stream_options": {"include_usage": True}}
#: The request of the two recordings of a K3 answer cut by the token limit.
K3_CUT = {
    "model": "kimi-k3",
    "messages": user("Reply with exactly OK."),
    "max_completion_tokens": 8,
}


@dataclass
class Case:
    """One comparison: ``request`` (None: the recording's own request) is sent to the
    emulator of ``dialect`` ``repeat`` times (twice: the prompt is cached, as it was when
    it was recorded); the last answer is compared with exchange ``index``."""

    id: str
    recording: str
    dialect: str = "moonshot"
    request: dict[str, Any] | None = None
    index: int = 0
    repeat: int = 1
    #: Error bodies are compared whole (message texts included), with this status.
    exact_status: int | None = None
    #: Models the emulator serves, when not its default list.
    models: list[str] | None = None
    #: What to do first (upload a file...); returns values for the request template.
    setup: Callable[[Any], dict[str, str]] | None = None
    #: ``KimiEmulator.script`` options for the answer (an error the recording shows).
    script: dict[str, Any] | None = None
    what: str = ""
    #: The differences allowed, each with its reason.
    allowed: dict[str, str] = field(default_factory=dict)


#: Why the emulator's answers differ from real ones in content (never in shape).
NOT_A_MODEL = "the emulator is not a model: its deterministic answers"

# --------------------------------------------------------------------------- allowances
# A difference is allowed only when it is listed here, with its reason. An entry is the
# exact line a comparison prints, or a regular expression after "~ ".

_WHERE = r"(\$|<[a-z +]+>)"
_K3_HEX_ID = {
    rf"~ {_WHERE}\.id: recorded id chatcmpl-<24 hex>, emulated id chatcmpl-<uuid>": (
        "kimi-k3 answers carry chatcmpl-<uuid> ids in every other recording and a 24-hex id "
        "(with system_fingerprint on stream chunks) in this pair of 2026-08-26; the emulator "
        "sends the uuid form"
    ),
}
_OR_MODEL = {
    rf"~ {_WHERE}\.model: recorded =moonshotai/kimi-k2\.5-0127, emulated =moonshotai/kimi-k2\.5": (
        "OpenRouter answers with the upstream's versioned slug (-0127); the emulator echoes "
        "the id asked for"
    )
}
_GROQ_OWN = {
    rf"~ {_WHERE}\.(x_groq|usage_breakdown|service_tier|usage\.(queue|prompt|completion|total)"
    r"_time|choices\[0\]\.logprobs): only in the recording": (
        "Groq's own fields (x_groq, service_tier, usage_breakdown, timings, logprobs: null): "
        "the openai-compatible dialect speaks as OpenRouter"
    ),
    rf"~ {_WHERE}\.system_fingerprint: (only in the recording|recorded fingerprint fp_<10 hex>, "
    r"emulated null)": "Groq sends fp_<10 hex>; OpenRouter null",
    rf"~ {_WHERE}\.(provider|choices\[0\]\.native_finish_reason|choices\[0\]\.message\.refusal|"
    r"usage\.(cost|is_byok|cost_details|prompt_tokens_details|completion_tokens_details)): "
    r"only in the emulator": "OpenRouter's own fields, which Groq does not send",
    rf"~ {_WHERE}\.id: recorded id chatcmpl-<uuid>, emulated id gen-<time>-<20 alnum>": (
        "Groq's ids are chatcmpl-<uuid>, OpenRouter's gen-<time>-<20 alnum>"
    ),
}
_GROQ_JSON = {
    "blank lines before the body: recorded False": (
        "OpenRouter pads its JSON bodies with blank lines; Groq does not"
    ),
}
_GROQ_STREAM = {
    r"~ <[a-z +]+>\.choices\[0\]\.delta\.(role|content|reasoning): only in the emulator": (
        "OpenRouter repeats the role (and an empty content) on every delta and sends "
        "reasoning: null on its first finish chunk"
    ),
    "<finish>.usage: only in the recording": (
        "Groq puts the usage on its finish chunk and in a trailing chunk; OpenRouter on a "
        "second finish chunk"
    ),
    "SSE comments: recorded 0, emulated 1": "OpenRouter's ': OPENROUTER PROCESSING' comment",
}


_K25_MARKER_ONLY = (
    "that answer reasoned nothing (1 reasoning token: only the empty reasoning_content marker "
    "was streamed); the emulator streams a sentence of reasoning, as K3's and the JSON "
    "captures do"
)


def _allow(*groups: dict[str, str], **more: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for group in groups:
        out.update(group)
    out.update(more)
    return out


CASES: list[Case] = [
    # ------------------------------------------------------------------ Moonshot, K3
    Case(
        "k3-plain",
        "issue-19311-kimi-k3-live-2026-08-24.json",
        request={"model": "kimi-k3", "messages": user("What is 17*19? Only the number.")},
        repeat=2,
        what="K3 plain answer (JSON), cached prompt",
    ),
    Case(
        "k3-default-sampling",
        "moonshotai-kimi-k3-default-sampling.json",
        request={
            "model": "kimi-k3",
            "messages": user("Reply with exactly OK."),
            "max_completion_tokens": 34,
        },
        repeat=2,
        what="K3 with no sampling values sent: a plain answer cut by the token limit (JSON)",
    ),
    Case(
        "k3-plain-usage",
        "moonshotai-usage-live.json",
        request={"model": "kimi-k3", "messages": user("Reply with exactly OK.")},
        repeat=2,
        what="K3 plain answer (JSON), cached prompt",
    ),
    Case(
        "k3-plain-stream",
        "moonshotai-usage-live.chunks.txt",
        request={"model": "kimi-k3", "messages": user("Reply with exactly OK."), **STREAM},
        repeat=2,
        what="K3 plain answer (stream): the empty reasoning marker, usage in the finish "
        "choice and in a trailing chunk",
    ),
    Case(
        "k3-tool",
        "moonshotai-metadata-live.json",
        request={
            "model": "kimi-k3",
            "messages": user("What's the weather in Paris? Use the tool."),
            "tools": [WEATHER],
        },
        what="K3 tool call (JSON): get_weather_0",
    ),
    Case(
        "k3-tool-stream",
        "moonshotai-metadata-live.chunks.txt",
        request={
            "model": "kimi-k3",
            "messages": user("What's the weather in Paris? Use the tool."),
            "tools": [WEATHER],
            **STREAM,
        },
        repeat=2,
        what="K3 tool call (stream)",
        allowed={
            "chunk kinds: recorded ['role', 'tool call', 'tool arguments', 'finish', 'usage "
            "trailer'], emulated ['role', 'reasoning', 'tool call', 'tool arguments', 'finish', "
            "'usage trailer']": (
                "the one recorded K3 tool-call stream carried no reasoning (its JSON captures "
                "do); the emulator streams the reasoning its JSON answer carries"
            ),
            "<finish>.choices[0].finish_reason: recorded =stop, emulated =tool_calls": (
                "that stream ended with 'stop' after its call; every recorded JSON tool answer "
                "(K3, K2.7) ends with 'tool_calls', which the emulator sends in both"
            ),
            r"~ <(finish|usage trailer)>\.(choices\[0\]\.)?usage\.completion_tokens_details\."
            r"reasoning_tokens: only in the emulator": (
                "with no reasoning that stream's details were {}; the emulator counts the "
                "reasoning it streams"
            ),
        },
    ),
    Case(
        "k3-required",
        "moonshotai-k3-required-tool-choice.json",
        request={
            "model": "kimi-k3",
            "messages": user("Call the ping tool."),
            "tools": [PING],
            "tool_choice": "required",
        },
        what="K3 takes tool_choice 'required' (JSON): ping_0",
    ),
    Case(
        "k3-json-schema",
        "moonshotai-issue-19544-accepted.json",
        request={
            "model": "kimi-k3",
            "messages": user("A pair: age and 42."),
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "tuple_response", "strict": True, "schema": PREFIX_ITEMS},
            },
        },
        what="K3 answer to a json_schema (prefixItems)",
    ),
    Case(
        "k3-length",
        "moonshotai-max-completion-tokens.json",
        request=K3_CUT,
        repeat=2,
        what="K3 answer cut by max_completion_tokens (JSON): reasoning only, finish 'length'",
        allowed=_K3_HEX_ID,
    ),
    Case(
        "k3-length-stream",
        "moonshotai-max-completion-tokens.chunks.txt",
        request={**K3_CUT, **STREAM},
        repeat=2,
        what="K3 answer cut by max_completion_tokens (stream)",
        allowed=_allow(
            _K3_HEX_ID,
            **{
                r"~ <(role|reasoning|finish)>\.system_fingerprint: only in the recording": (
                    "the chunks with a 24-hex id carry system_fingerprint fpv0_<8 hex>; K3's "
                    "uuid-id streams (k3-plain-stream, k3-tool-stream) carry none, as the "
                    "emulator's"
                ),
            },
        ),
    ),
    Case(
        "k3-json-object",
        "moonshotai-issue-19544-json-object.json",
        request={
            "model": "kimi-k3",
            "messages": user("Reply with exactly the empty JSON object."),
            "response_format": {"type": "json_object"},
        },
        repeat=2,
        what="K3 answer to response_format json_object (JSON)",
    ),
    # ------------------------------------------------------------------ Moonshot, K2.7 / K2.6
    Case(
        "k27-tool",
        "moonshotai-k2.7-tool-choice-omitted.json",
        request={
            "model": "kimi-k2.7-code",
            "messages": user("Call the ping tool."),
            "tools": [PING],
        },
        what="K2.7 tool call (JSON): ping_0, a 24-hex chat id",
    ),
    Case(
        "k26-cut-reasoning",
        "moonshotai-k2.6-tool-choice-omitted.json",
        request={
            "model": "kimi-k2.6",
            "messages": user("Call the ping tool."),
            "tools": [PING],
            "max_completion_tokens": 5,
        },
        what="K2.6 reasoning cut by the token limit (JSON): finish 'length', no tool_calls key",
    ),
    Case(
        "k26-plain",
        "moonshotai-file-reference-live.json",
        request={
            "model": "kimi-k2.6",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": "ms://{file_id}"}},
                        {"type": "text", "text": "Reply with IMAGE_OK."},
                    ],
                }
            ],
        },
        repeat=2,
        setup=lambda emu: {"file_id": _upload_image(emu)},
        what="K2.6 plain answer (JSON) about an uploaded image, cached prompt",
    ),
    # ------------------------------------------------------------------ Moonshot, errors
    Case(
        "unknown-model",
        "moonshotai-error-live-message-only.json",
        request={"model": "issue-19552-invalid-model", "messages": user("Hi")},
        exact_status=404,
        what="unknown model: 404 resource_not_found_error",
    ),
    Case(
        "unknown-model-2",
        "moonshotai-error-without-code-live.json",
        request={"model": "definitely-not-a-real-moonshot-model", "messages": user("Hi")},
        exact_status=404,
        what="unknown model: 404 resource_not_found_error",
    ),
    Case(
        "k3-temperature",
        "moonshotai-kimi-k3-temperature-rejection.json",
        request={"model": "kimi-k3", "messages": user("Hi"), "temperature": 0.3},
        exact_status=400,
        what="K3 fixes the temperature: 400",
    ),
    Case(
        "k27-thinking-disabled",
        "moonshotai-k2.7-disabled-thinking-error.json",
        request={
            "model": "kimi-k2.7-code",
            "messages": user("Reply with OK."),
            "thinking": {"type": "disabled"},
        },
        exact_status=400,
        what="K2.7 refuses thinking disabled: 400",
    ),
    Case(
        "k26-required",
        "moonshotai-required-tool-choice-error.json",
        request={
            "model": "kimi-k2.6",
            "messages": user("Call the ping tool."),
            "tools": [PING],
            "tool_choice": "required",
        },
        exact_status=400,
        what="K2.6 refuses 'required' while thinking: 400",
    ),
    Case(
        "k27-required",
        "moonshotai-required-tool-choice-error.json",
        request={
            "model": "kimi-k2.7-code",
            "messages": user("Call the ping tool."),
            "tools": [PING],
            "tool_choice": "required",
        },
        exact_status=400,
        what="K2.7 refuses 'required': 400",
    ),
    Case(
        "json-schema-rejected",
        "moonshotai-issue-19544-rejected.json",
        request={
            "model": "kimi-k3",
            "messages": user("A pair: age and 42."),
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "tuple_response", "strict": True, "schema": TUPLE_ITEMS},
            },
        },
        exact_status=400,
        what="a json_schema that is not Moonshot flavored: 400 with the path",
    ),
    # ------------------------------------------------------------------ Moonshot (.cn), K2.5
    Case(
        "k25-stream",
        "langchain-moonshot/TestChatMoonshotIntegrationStandard.test_stream_time.yaml.gz",
        models=["kimi-k2.5"],
        what="K2.5 stream, thinking disabled (api.moonshot.cn, 2026-04): usage in the finish "
        "choice only, system_fingerprint on every chunk",
    ),
    Case(
        "k25-plain-stream",
        "moonshotai-stream-choice-usage.chunks.txt",
        models=["kimi-k2.5"],
        request={"model": "kimi-k2.5", "messages": user("Reply with exactly OK."), "stream": True},
        what="K2.5 plain answer, thinking on (stream, api.moonshot.ai, 2026-08): the empty "
        "reasoning marker, usage in the finish choice only",
        allowed={
            "chunk kinds: recorded ['role', 'reasoning marker', 'content', 'finish'], emulated "
            "['role', 'reasoning', 'content', 'finish']": _K25_MARKER_ONLY
        },
    ),
    Case(
        "k25-tool-stream",
        "moonshotai-stream-explicit-tool-call-index.chunks.txt",
        models=["kimi-k2.5"],
        request={
            "model": "kimi-k2.5",
            "messages": user("What is the weather in San Francisco? Use the tool."),
            "tools": [WEATHER_LOCATION],
            **STREAM,
        },
        what="K2.5 tool call, thinking on (stream, api.moonshot.ai, 2026-08): weather_0, "
        "argument fragments, usage in the finish choice and a trailing chunk",
        allowed={
            "chunk kinds: recorded ['role', 'reasoning marker', 'tool call', 'tool arguments', "
            "'finish', 'usage trailer'], emulated ['role', 'reasoning', 'tool call', 'tool "
            "arguments', 'finish', 'usage trailer']": _K25_MARKER_ONLY
        },
    ),
    # ------------------------------------------------------------------ AceData
    Case(
        "acedata-plain",
        "acedata/chat-completion.json",
        dialect="acedata",
        request={"model": "kimi-k2.5", "messages": user("Hello")},
        what="AceData plain answer (JSON): both reasoning fields, tool_calls [], {} details",
    ),
    Case(
        "acedata-multi-turn",
        "acedata/chat-completion-multi-turn.json",
        dialect="acedata",
        request={
            "model": "kimi-k2.5",
            "messages": [
                {"role": "assistant", "content": "Hello! How can I help you today?"},
                {"role": "user", "content": "What model are you?"},
            ],
        },
        what="AceData answer to a conversation (JSON)",
    ),
    Case(
        "acedata-stream",
        "acedata/stream.sse.txt",
        dialect="acedata",
        request={"model": "kimi-k2.5", "messages": user("Hello"), "stream": True},
        what="AceData stream: both reasoning fields, the finish on the last delta, usage in a "
        "trailing chunk",
        allowed={
            "chunk kinds: recorded ['role', 'reasoning', 'reasoning + content', 'finish', "
            "'usage trailer'], emulated ['role', 'reasoning', 'reasoning + content', 'content', "
            "'finish', 'usage trailer']": (
                f"{NOT_A_MODEL} are longer than the published one: more content deltas "
                "between the shared reasoning-and-content chunk and the finish"
            ),
        },
    ),
    Case(
        "acedata-error",
        "acedata/error.json",
        dialect="acedata",
        request={"model": "kimi-k2.5", "messages": user("Hello")},
        script={"error_type": "server_error", "text": "fetch failed"},
        what="AceData error body: success false, error.code, a UUID trace_id",
    ),
    # ------------------------------------------------------------------ OpenRouter, Groq
    Case(
        "openrouter-plain",
        "fantasy/openrouter-kimi/simple.yaml",
        dialect="openai-compatible",
        what="OpenRouter plain answer (JSON): reasoning and reasoning_details, padding",
        allowed=_OR_MODEL,
    ),
    Case(
        "openrouter-tool",
        "fantasy/openrouter-kimi/tool.yaml",
        dialect="openai-compatible",
        what="OpenRouter tool call (JSON): functions.NAME:N, content null",
        allowed=_OR_MODEL,
    ),
    Case(
        "openrouter-tool-result",
        "fantasy/openrouter-kimi/tool.yaml",
        dialect="openai-compatible",
        index=1,
        what="OpenRouter answer after the tool result (the request replays reasoning_details)",
        allowed=_OR_MODEL,
    ),
    Case(
        "openrouter-plain-stream",
        "fantasy/openrouter-kimi/simple_streaming.yaml",
        dialect="openai-compatible",
        what="OpenRouter stream: a comment first, the role on every delta, two finish chunks",
        allowed=_OR_MODEL,
    ),
    Case(
        "openrouter-tool-stream",
        "fantasy/openrouter-kimi/tool_streaming.yaml",
        dialect="openai-compatible",
        what="OpenRouter tool call (stream)",
        allowed=_OR_MODEL,
    ),
    Case(
        "groq-plain",
        "fantasy/groq-kimi-k2/simple.yaml",
        dialect="openai-compatible",
        what="Groq plain answer (JSON), against the OpenRouter-shaped dialect",
        allowed=_allow(_GROQ_OWN, _GROQ_JSON),
    ),
    Case(
        "groq-tool",
        "fantasy/groq-kimi-k2/tool.yaml",
        dialect="openai-compatible",
        what="Groq tool call (JSON)",
        allowed=_allow(
            _GROQ_OWN,
            _GROQ_JSON,
            **{
                "$.choices[0].message.content: recorded str, emulated null": (
                    "Groq answers text along with a tool call; OpenRouter sends content null"
                ),
                r"~ \$\.choices\[0\]\.message\.tool_calls\[[01]\]\.index: only in the emulator": (
                    "Groq's JSON tool calls carry no index; Moonshot's and OpenRouter's do"
                ),
            },
        ),
    ),
    Case(
        "groq-tool-result",
        "fantasy/groq-kimi-k2/tool.yaml",
        dialect="openai-compatible",
        index=1,
        what="Groq answer after the tool result (JSON)",
        allowed=_allow(_GROQ_OWN, _GROQ_JSON),
    ),
    Case(
        "groq-plain-stream",
        "fantasy/groq-kimi-k2/simple_streaming.yaml",
        dialect="openai-compatible",
        what="Groq plain answer (stream)",
        allowed=_allow(
            _GROQ_OWN,
            _GROQ_STREAM,
            **{
                "chunk kinds: recorded ['role', 'content', 'finish', 'usage trailer'], emulated "
                "['content', 'finish']": (
                    "Groq sends a role chunk first and a choices: [] usage trailer; OpenRouter "
                    "puts the role on every delta and the usage on a second finish chunk"
                ),
            },
        ),
    ),
    Case(
        "groq-tool-stream",
        "fantasy/groq-kimi-k2/tool_streaming.yaml",
        dialect="openai-compatible",
        what="Groq tool call (stream)",
        allowed=_allow(
            _GROQ_OWN,
            _GROQ_STREAM,
            **{
                "chunk kinds: recorded ['role', 'content', 'tool call', 'finish', 'usage "
                "trailer'], emulated ['tool call', 'tool arguments', 'finish']": (
                    "Groq streams text before the call and each call whole in one delta (a "
                    "script with tool_call_index='zero' does that); OpenRouter and Moonshot send "
                    "the id first, then argument fragments"
                ),
            },
        ),
    ),
]


def _upload_image(emu: Any) -> str:
    import httpx

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    resp = httpx.post(
        emu.base_url + "/files",
        files={"file": ("cat.png", png, "image/png")},
        data={"purpose": "image"},
        headers={"Authorization": f"Bearer {emu.api_key}"},
    )
    resp.raise_for_status()
    return str(resp.json()["id"])


#: What the issue asked to cover and no recording in the named sources shows, with the
#: closest real recording that covers it instead.
GAPS = {
    "a K2.6 stream": (
        "no K2.6 stream is recorded in vercel/ai, fantasy, langchain-moonshot or AceData's "
        "guide; covered by the K2.5 streams of the same family and server days before K2.5 "
        "was retired (k25-plain-stream, k25-tool-stream: the same 24-hex ids, marker and "
        "usage placement) and the K3 streams (k3-plain-stream, k3-tool-stream)"
    ),
    "a K2.6 tool call": (
        "the only K2.6 capture with a tool offered was cut by the token limit before any call "
        "(k26-cut-reasoning); covered by the K2.7 tool call (k27-tool) and the K2.5 streamed "
        "call (k25-tool-stream), same K2.x ids and message shape"
    ),
}


def allowed_table() -> str:
    """The allowed differences as the Markdown table docs/emulator.md shows (one row per
    difference, with the cases it is allowed in)."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for case in CASES:
        for entry, reason in case.allowed.items():
            grouped.setdefault((entry, reason), []).append(case.id)
    rows = ["| cases | difference | reason |", "|---|---|---|"]
    for (entry, reason), ids in grouped.items():
        cell = entry.replace("|", "\\|")
        rows.append(f"| {', '.join(ids)} | `{cell}` | {reason} |")
    return "\n".join(rows) + "\n"


def recordings_table(sources: dict[str, dict[str, str]]) -> str:
    """Each case, what it compares, and its recording's source (repository, path, commit)."""
    rows = ["| case | compares | recorded in (repository, path, commit) |", "|---|---|---|"]
    for case in CASES:
        src = sources[case.recording]
        where = f"{src['repository']} `{src['path']}` @ `{src['commit'][:12]}`"
        what = case.what or src["what"]
        rows.append(f"| {case.id} | {what} | {where} |")
    return "\n".join(rows) + "\n"
