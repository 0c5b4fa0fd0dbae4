"""How each system speaks: paths, ids, field names, documented limits, served models.

The limits are the ones each provider documents (docs/kimi-platform.md §2, from the
providers' own documents); the served lists are docs/kimi-platform.md §11 for Moonshot and
each gateway's own document for the others. Nothing here comes from ``kimi_core``.
"""

from __future__ import annotations

import secrets
import string
import time
import uuid
from dataclasses import dataclass
from typing import Literal

from ._catalogue import MOONSHOT_SERVED, ModelRules

__all__ = ["DIALECTS", "Dialect"]

ErrorStyle = Literal["moonshot", "acedata", "openai", "gptproto"]
UsageStyle = Literal["moonshot", "acedata", "openai", "openrouter"]
TrailingUsage = Literal["always", "include_usage", "never"]
ToolCallIdStyle = Literal["functions", "colon", "underscore"]
ChatIdKind = Literal["per_model", "hex", "openrouter"]

_ALNUM = string.ascii_letters + string.digits


@dataclass(frozen=True, kw_only=True)
class Dialect:
    """One system's wire dialect and documented limits.

    The wire fields default to the common OpenAI-style shape, so an entry names only
    where it differs; the documented limits are stated on every entry.
    """

    name: str
    #: The kimi_core provider name that talks to this dialect (a string, no import).
    provider: str
    #: Root path prefix of the base URL ("/v1", or "" for acedata).
    prefix: str = "/v1"
    chat_path: str = "/v1/chat/completions"
    error_style: ErrorStyle
    usage_style: UsageStyle
    #: Fields that carry reasoning in answers, in the order they are sent.
    reasoning_fields: tuple[str, ...]
    #: Fields that count as reasoning sent back in an assistant message.
    reasoning_back: tuple[str, ...]
    #: Moonshot: usage inside the finish choice of the final chunk.
    usage_in_final_choice: bool = False
    #: When a trailing ``choices: []`` chunk carries usage.
    trailing_usage: TrailingUsage = "include_usage"
    #: Moonshot sends ``x-trace-id`` on every response.
    trace_header: bool = False
    #: ``tool_calls: []`` on messages that make no call (AceData's published answers).
    empty_tool_calls: bool = False
    #: AceData pads every chunk with ``system_fingerprint``/``logprobs``/``usage`` nulls,
    #: adds ``refusal: null`` to messages, and sends the finish reason on the last delta.
    acedata_chunks: bool = False
    #: OpenRouter's shapes (``provider``, ``native_finish_reason``, ``reasoning_details``,
    #: the role on every delta, ``: OPENROUTER PROCESSING`` comments, two finish chunks).
    openrouter: bool = False
    chat_ids: ChatIdKind = "hex"
    id_prefix: str = "chatcmpl-"
    id_hex: int
    tool_call_id: ToolCallIdStyle
    #: The ids served by default.
    models: tuple[str, ...]
    #: The model the docs, the CLI banner and the examples use with this dialect.
    default_model: str
    #: Whether Moonshot's per-model rejections apply (False: a gateway in front of other
    #: inference providers, which answers for the model but does not enforce its rules).
    model_rules: bool = True
    n_range: tuple[int, int] | None
    max_stop: int | None
    max_stop_bytes: int | None
    temperature_range: tuple[float, float] | None
    top_p_range: tuple[float, float] | None
    max_tools: int | None
    response_formats: frozenset[str] | None
    #: Content part types accepted; None = any, empty = string content only.
    content_parts: frozenset[str] | None
    #: Moonshot platform endpoints (files, token estimate, balance).
    platform: bool = False
    #: Whether n > 1 with temperature close to 0 is refused.
    n_needs_temperature: bool = False
    #: Images only as base64 data URLs or ``ms://`` file ids (Moonshot).
    image_url_schemes: tuple[str, ...] | None = None

    def chat_id(self, rules: ModelRules) -> str:
        if self.chat_ids == "per_model":
            if rules.chat_id == "uuid":
                return f"chatcmpl-{uuid.uuid4()}"
            return "chatcmpl-" + secrets.token_hex(12)
        if self.chat_ids == "openrouter":
            tail = "".join(secrets.choice(_ALNUM) for _ in range(20))
            return f"gen-{int(time.time())}-{tail}"
        return self.id_prefix + secrets.token_hex(self.id_hex // 2 + 1)[: self.id_hex]

    def tool_call_id_for(self, name: str, index: int) -> str:
        if self.tool_call_id == "functions":
            return f"functions.{name}:{index}"
        if self.tool_call_id == "colon":
            return f"{name}:{index}"
        return f"{name}_{index}"


_FORMATS_ALL = frozenset({"text", "json_object", "json_schema"})
_FORMATS_JSON = frozenset({"text", "json_object"})

DIALECTS: dict[str, Dialect] = {
    d.name: d
    for d in (
        Dialect(
            name="moonshot",
            provider="moonshot",
            error_style="moonshot",
            usage_style="moonshot",
            reasoning_fields=("reasoning_content",),
            reasoning_back=("reasoning_content",),
            usage_in_final_choice=True,
            trace_header=True,
            chat_ids="per_model",
            id_hex=24,
            tool_call_id="underscore",
            models=MOONSHOT_SERVED,
            default_model="kimi-k2.6",
            n_range=(1, 5),
            max_stop=5,
            max_stop_bytes=32,
            temperature_range=(0.0, 1.0),
            top_p_range=(0.0, 1.0),
            max_tools=128,
            response_formats=_FORMATS_ALL,
            content_parts=frozenset({"text", "image_url", "video_url"}),
            platform=True,
            n_needs_temperature=True,
            image_url_schemes=("data:", "ms://"),
        ),
        Dialect(
            name="acedata",
            provider="acedata",
            prefix="",
            chat_path="/kimi/chat/completions",
            error_style="acedata",
            usage_style="acedata",
            reasoning_fields=("reasoning_content", "reasoning"),
            reasoning_back=("reasoning_content", "reasoning"),
            trailing_usage="always",
            empty_tool_calls=True,
            acedata_chunks=True,
            id_hex=16,
            tool_call_id="functions",
            models=(  # AceData's Kimi document (seed 000)
                "kimi-k2-thinking-turbo",
                "kimi-k2.5",
                "kimi-k2-thinking",
                "kimi-k2-instruct-0905",
                "kimi-k2-0905-preview",
                "kimi-k2-turbo-preview",
                "kimi-k2-0711-preview",
            ),
            default_model="kimi-k2.5",  # the model of its published examples
            n_range=(1, 128),
            max_stop=None,
            max_stop_bytes=None,
            temperature_range=(0.0, 2.0),
            top_p_range=None,
            max_tools=None,
            response_formats=_FORMATS_JSON,
            content_parts=frozenset(),
        ),
        Dialect(
            name="evolink",
            provider="evolink",
            error_style="openai",
            usage_style="openai",
            reasoning_fields=("reasoning_content",),
            reasoning_back=("reasoning_content",),
            id_prefix="cmpl-",
            id_hex=32,
            tool_call_id="colon",
            models=("kimi-k2-thinking", "kimi-k2-thinking-turbo"),  # seed 001
            default_model="kimi-k2-thinking",
            n_range=(1, 5),
            max_stop=5,
            max_stop_bytes=32,
            temperature_range=(0.0, 2.0),
            top_p_range=(0.0, 1.0),
            max_tools=128,
            response_formats=_FORMATS_JSON,
            content_parts=frozenset({"text", "image_url"}),
            n_needs_temperature=True,
        ),
        Dialect(
            name="gptproto",
            provider="gptproto",
            error_style="gptproto",
            usage_style="openai",
            reasoning_fields=("reasoning",),
            # It answers with ``reasoning`` only: a client that sends back what it got
            # must not be refused (docs/kimi-platform.md §2: "unknown: accept either").
            reasoning_back=("reasoning_content", "reasoning"),
            id_hex=29,
            tool_call_id="underscore",
            models=("kimi-k2.5",),  # seeds 002 and 004
            default_model="kimi-k2.5",
            n_range=None,
            max_stop=4,
            max_stop_bytes=None,
            temperature_range=(0.0, 1.0),
            top_p_range=(0.0, 1.0),
            max_tools=128,
            response_formats=None,
            content_parts=frozenset({"text", "image_url", "file"}),
        ),
        Dialect(
            name="openai-compatible",
            provider="openai-compatible",
            error_style="openai",
            usage_style="openrouter",
            reasoning_fields=("reasoning",),
            reasoning_back=("reasoning_content", "reasoning", "reasoning_details"),
            trailing_usage="never",
            openrouter=True,
            chat_ids="openrouter",
            id_prefix="gen-",
            id_hex=0,
            tool_call_id="functions",
            # The ids the recorded gateway traffic uses (charmbracelet/fantasy cassettes:
            # OpenRouter and Avian, Groq; Hugging Face's router adds ":groq").
            models=(
                "moonshotai/kimi-k2.5",
                "moonshotai/kimi-k2-instruct-0905",
                "moonshotai/Kimi-K2-Instruct-0905:groq",
            ),
            default_model="moonshotai/kimi-k2.5",
            model_rules=False,
            n_range=None,
            max_stop=None,
            max_stop_bytes=None,
            temperature_range=(0.0, 2.0),
            top_p_range=(0.0, 1.0),
            max_tools=None,
            response_formats=None,
            content_parts=None,
        ),
    )
}
