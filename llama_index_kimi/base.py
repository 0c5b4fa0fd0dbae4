"""``Kimi``: the LlamaIndex ``FunctionCallingLLM`` for Kimi (Moonshot AI), over ``kimi_core``."""

from __future__ import annotations

import copy
import functools
from collections.abc import AsyncGenerator, Callable, Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import httpx
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
    TextBlock,
    ToolCallBlock,
)
from llama_index.core.bridge.pydantic import Field, PrivateAttr, SecretStr, field_serializer
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.events.llm import (
    LLMStructuredPredictEndEvent,
    LLMStructuredPredictStartEvent,
)
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.types import Model, PydanticProgramMode

import kimi_core as kc
from kimi_core import _adapter as ka

from ._batch import BatchAPIMixin
from .utils import (
    ChatStreamState,
    chat_response_from_completion,
    completion_response_from_chat,
    is_partial,
    parse_json_output,
    resolve_tool_choice,
    to_wire_messages,
    to_wire_tools,
    tool_selections,
)

if TYPE_CHECKING:
    from llama_index.core.program.utils import FlexibleModel
    from llama_index.core.prompts import PromptTemplate
    from llama_index.core.tools.types import BaseTool

__all__ = ["DEFAULT_MODEL", "Kimi"]

dispatcher = get_dispatcher(__name__)

#: The model used when none is given (or the provider's closest documented one).
DEFAULT_MODEL = ka.DEFAULT_MODEL

#: How Kimi's refusals name things; the keywords LlamaIndex (or an OpenAI habit) passes to
#: calls that are not request parameters are dropped.
_CALLS = ka.CallConventions(
    calls="Kimi.chat",
    raw_field="additional_kwargs",
    one_choice="a LlamaIndex stream carries one choice; use chat() for several",
    passed_down=frozenset({"stream", "stream_options", "formatted", "use_chat_completions"}),
)

StructuredOutputMethod = kc.StructuredMethod

#: Keywords of ``Kimi.__init__`` that are not fields.
_INIT_KEYWORDS = frozenset({"http_client", "async_http_client", "retry_policy"})


@functools.cache
def _field_names(cls: type[Kimi]) -> frozenset[str]:
    """The constructor keywords a (sub)class takes as fields, with their aliases."""
    names = set(cls.model_fields)
    names.update(f.alias for f in cls.model_fields.values() if f.alias)
    return frozenset(names)


class Kimi(BatchAPIMixin, FunctionCallingLLM):
    """Kimi (Moonshot AI) chat models for LlamaIndex, on every provider that serves them.

    Talks to the official Moonshot platform (``moonshot``, ``moonshot-cn``), AceData Cloud
    (``acedata``), EvoLink (``evolink``), GPTProto (``gptproto``) or any OpenAI-compatible
    gateway (``openai-compatible`` with ``api_base``) through ``kimi_core``: requests are
    checked against the provider's and the model's rules before anything is sent,
    reasoning comes back as ``ThinkingBlock`` and goes back to Kimi on the next turn,
    and errors are ``kimi_core``'s typed errors.

    Setup:
        ``pip install "kimi-integrations[llama-index]"`` and set ``MOONSHOT_API_KEY``
        (or the provider's variable: ``ACEDATACLOUD_API_TOKEN``, ``EVOLINK_API_KEY``,
        ``GPTPROTO_API_KEY``; ``KIMI_API_KEY`` works for all).

    Args (besides the fields below, and LlamaIndex's ``callback_manager``,
    ``system_prompt``, ``pydantic_program_mode`` ...):
        http_client: an ``httpx.Client`` to send with (default: a pool shared per
            configuration).
        async_http_client: an ``httpx.AsyncClient`` for the async methods (default: a
            pool per configuration and event loop).
        retry_policy: a ``kimi_core.RetryPolicy`` (backoff base and caps).

    Examples:
        ```python
        from llama_index.core.llms import ChatMessage
        from llama_index.llms.kimi import Kimi

        llm = Kimi(model="kimi-k2.6")  # or Kimi(model="kimi-k3", reasoning_effort="low")
        print(llm.complete("Say hello in French."))

        for r in llm.stream_chat([ChatMessage(role="user", content="Why is the sky blue?")]):
            print(r.additional_kwargs.get("thinking_delta") or r.delta, end="")
        ```

    Thinking models (kimi-k2.6, kimi-k2.5 by default; kimi-k3, kimi-k2.7-code and
    kimi-k2-thinking always) work in ``FunctionAgent`` and ``ReActAgent``: the reasoning of
    each tool-call turn is sent back as Kimi requires. ``structured_predict`` works on them
    too (see ``structured_output_method``). A keyword that is not a parameter is refused
    (naming the closest one), never dropped: raw API fields go in ``additional_kwargs``.
    """

    model: str = Field(
        default=DEFAULT_MODEL,
        description=(
            "The Kimi model id (kimi-k3, kimi-k2.7-code, kimi-k2.6 on Moonshot; kimi-k2.5, "
            "kimi-k2-thinking on gateways; or any id the provider serves). Default: "
            "kimi-k2.6, or the provider's closest documented model."
        ),
    )
    provider: str | None = Field(
        default=None,
        description=(
            "Who serves the model: moonshot, moonshot-cn, acedata, evolink, gptproto or "
            "openai-compatible. Default: chosen from api_base, else moonshot."
        ),
    )
    api_base: str | None = Field(
        default=None,
        description="Base URL of the provider's API; default: the provider's own.",
    )
    api_key: SecretStr | None = Field(
        default=None,
        exclude=True,
        repr=False,
        description=(
            "API key. Default: the provider's environment variable, else KIMI_API_KEY. "
            "Never serialized or shown."
        ),
    )
    temperature: float | None = Field(
        default=None,
        ge=0.0,
        le=2.0,
        description=(
            "Sampling temperature. Default: unset (the model's own; kimi-k2.5/k2.6 fix it "
            "and refuse other values)."
        ),
    )
    top_p: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Nucleus sampling. Default: unset."
    )
    max_tokens: int | None = Field(
        default=None,
        gt=0,
        description="Maximum number of tokens to generate (sent as the provider names it).",
    )
    thinking: bool | dict[str, Any] | None = Field(
        default=None,
        description=(
            "Whether the model thinks: True, False, None for the model's default "
            "(kimi-k2.6/k2.5 think unless disabled; kimi-k3, kimi-k2.7-code and "
            "kimi-k2-thinking always think), or Kimi's object form, e.g. "
            "{'type': 'enabled', 'keep': 'all'} (kimi-k2.6's preserved thinking)."
        ),
    )
    reasoning_effort: str | None = Field(
        default=None,
        description=(
            "How hard kimi-k3 reasons: 'low', 'high' or 'max' (Kimi's default), sent top "
            "level. Refused for models that do not take it (the K2 line); passed as given "
            "for ids outside the catalogue."
        ),
    )
    context_window: int | None = Field(
        default=None,
        gt=0,
        description="Context window in tokens. Default: from the model catalogue.",
    )
    num_output: int | None = Field(
        default=None,
        gt=0,
        description=(
            "Tokens reserved for the output when LlamaIndex packs prompts. Default: "
            "max_tokens, else the model's maximum output from the catalogue, at most a "
            "quarter of the context window."
        ),
    )
    timeout: float | None = Field(
        default=None,
        gt=0,
        description=(
            "Timeout in seconds for each attempt (read timeout between bytes). Default: "
            "10 s to connect, 600 s between bytes (thinking models pause)."
        ),
    )
    total_timeout: float | None = Field(
        default=None,
        gt=0,
        description=(
            "Deadline in seconds of a whole call: every attempt, body read and retry wait "
            "(a Retry-After longer than the time left raises at once)."
        ),
    )
    max_event_bytes: int = Field(
        default=kc.DEFAULT_MAX_EVENT,
        gt=0,
        description="Largest stream event accepted (16 MiB); a larger one is a StreamError.",
    )
    max_body_bytes: int = Field(
        default=kc.DEFAULT_MAX_BODY,
        gt=0,
        description="Largest whole (non-streamed) answer read (64 MiB).",
    )
    max_error_bytes: int = Field(
        default=kc.DEFAULT_MAX_ERROR,
        gt=0,
        description="Most of an error body read to build the error (1 MiB).",
    )
    max_retries: int = Field(
        default=2,
        ge=0,
        description=(
            "Retries of 408/409/429/5xx and connection errors, with backoff (never "
            "after a stream delivered its first event; never on exhausted quota)."
        ),
    )
    additional_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "Extra request parameters for every call (e.g. stop, prompt_cache_key, "
            "safety_identifier, presence_penalty); others go into the body as given."
        ),
    )
    default_headers: dict[str, str] | None = Field(
        default=None, description="Headers added to every request."
    )
    strict: bool = Field(
        default=False, description="Mark tool schemas strict (function.strict = true)."
    )
    structured_output_method: StructuredOutputMethod | None = Field(
        default=None,
        description=(
            "How structured_predict and as_structured_llm get a structured answer: "
            "'function_calling' (a forced tool call through FunctionCallingProgram), "
            "'json_schema' (response_format json_schema, where the provider has it) or "
            "'json_mode' (response_format json_object and the schema in the prompt). "
            "Default: kimi_core.structured_output_method, as in ChatKimi: json_schema "
            "where the provider documents it, else function_calling where a forced call "
            "goes out as one (thinking off for that call), else json_mode."
        ),
    )

    _http_client: httpx.Client | None = PrivateAttr(default=None)
    _async_http_client: httpx.AsyncClient | None = PrivateAttr(default=None)
    _retry_policy: kc.RetryPolicy | None = PrivateAttr(default=None)
    _clients: ka.ClientPair = PrivateAttr(default_factory=ka.ClientPair)
    # The wire dicts of an agent's earlier messages, converted once (kimi_core._history).
    _history: ka.HistoryCache[ChatMessage] = PrivateAttr(default_factory=ka.HistoryCache)
    # to_payload() for the settings it was made of (every chat call emits it).
    _payload: tuple[tuple[Any, ...], dict[str, Any]] | None = PrivateAttr(default=None)

    def __init__(
        self,
        model: str | None = None,
        *,
        api_key: str | SecretStr | None = None,
        api_base: str | None = None,
        provider: str | None = None,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
        retry_policy: kc.RetryPolicy | None = None,
        **kwargs: Any,
    ) -> None:
        # The key in a SecretStr before anything runs: a configuration error raised
        # below shows no key in its frames (tracebacks with locals).
        if isinstance(api_key, str):
            api_key = SecretStr(api_key)
        known = _field_names(type(self))
        unknown = kwargs.keys() - known
        if unknown:
            # Pydantic would drop them silently: a typo must not build a model that ignores it.
            name = sorted(unknown)[0]
            raise ka.unknown_parameter(
                name,
                kwargs[name],
                known | _INIT_KEYWORDS,
                where="Kimi",
                raw=f"additional_kwargs={{{name!r}: ...}} (or extra_body={{...}} on a call)",
                listed=False,
                provider=provider,
                model=model,
            )
        profile = kc.resolve_provider(provider, api_base)
        headers = kwargs.get("default_headers")
        if headers:
            kwargs["default_headers"] = ka.unmasked_headers(headers)
        super().__init__(
            model=model or ka.default_model(profile),
            api_key=api_key,
            api_base=api_base,
            provider=profile.name,
            **kwargs,
        )
        self._http_client = http_client
        self._async_http_client = async_http_client
        self._retry_policy = retry_policy
        # Resolve the key and check the configuration now: a clear error at construction.
        self._get_client()
        ka.warn_if_retired(self.model, profile.name)

    def __getstate__(self) -> dict[Any, Any]:
        """Pickles carry a reference to the key, never the key (``kimi_core._secrets``): a
        copy in this process or a forked worker (``num_workers``) finds it again;
        elsewhere the key comes from the environment."""
        # The clients hold the key: a ClientPair pickles without them (kimi_core._clients).
        return ka.state_without_key(super().__getstate__())

    def __setstate__(self, state: dict[Any, Any]) -> None:
        super().__setstate__(ka.state_with_key(state, wrap=SecretStr))

    @classmethod
    def class_name(cls) -> str:
        return "Kimi_LLM"

    @field_serializer("default_headers")
    def _serialize_headers(self, headers: dict[str, str] | None) -> dict[str, str] | None:
        return ka.redact_headers(headers)

    def __repr_args__(self) -> Any:
        return ka.redacted_repr_args(super().__repr_args__())

    # ------------------------------------------------------------------ configuration

    @property
    def model_info(self) -> kc.ModelInfo:
        """The catalogue entry of ``model`` (context window, modalities, thinking, ...)."""
        return kc.get_model_info(self.model)

    @property
    def metadata(self) -> LLMMetadata:
        caps = ka.capabilities(self.model_info, self._get_client().profile)
        window = self.context_window or caps.context_window
        return LLMMetadata(
            context_window=window,
            # What LlamaIndex reserves for the answer when it packs prompts: max_tokens if
            # set, else the core's reserve for the model's output.
            num_output=self.num_output or self.max_tokens or caps.output_reserve(window),
            is_chat_model=True,
            is_function_calling_model=caps.tool_calling,
            model_name=self.model,
            system_role=MessageRole.SYSTEM,
        )

    def to_payload(self) -> dict[str, Any]:
        """What instrumentation events and callbacks get: metadata and settings, no key
        (a copy of the one made for the same settings: every call emits it)."""
        made_of = (
            self.model,
            self.provider,
            self.api_base,
            self.context_window,
            self.num_output,
            self.thinking,
            self.reasoning_effort,
            self.temperature,
            self.max_tokens,
        )
        kept = ka.private_attrs(self)["_payload"]
        if kept is None or kept[0] != made_of:
            payload = {
                **super().to_payload(),
                "provider": self.provider,
                "api_base": self._get_client().base_url,
                "thinking": self.thinking,
                "reasoning_effort": self.reasoning_effort,
                "temperature": self.temperature,
                "max_tokens": self.max_tokens,
            }
            kept = self._payload = (copy.deepcopy(made_of), payload)
        return copy.deepcopy(kept[1]) if isinstance(self.thinking, dict) else dict(kept[1])

    def _settings(self) -> ka.ClientSettings:
        return ka.ClientSettings.of(
            provider=self.provider,
            api_key=self.api_key,  # a SecretStr: no frame holds the key in clear
            base_url=self.api_base,
            timeout=self.timeout,
            total_timeout=self.total_timeout,
            max_retries=self.max_retries,
            default_headers=self.default_headers,
            retry_policy=ka.private_attrs(self)["_retry_policy"],
            max_event_bytes=self.max_event_bytes,
            max_body_bytes=self.max_body_bytes,
            max_error_bytes=self.max_error_bytes,
        )

    def _get_client(self) -> kc.KimiClient:
        """The sync ``kimi_core`` client (``kimi_core._clients``: rebuilt when a setting
        changes)."""
        private = ka.private_attrs(self)
        clients: ka.ClientPair = private["_clients"]
        return clients.sync(self._settings(), private["_http_client"])

    def _get_aclient(self) -> kc.AsyncKimiClient:
        private = ka.private_attrs(self)
        clients: ka.ClientPair = private["_clients"]
        return clients.async_(self._settings(), private["_async_http_client"])

    def _prepare(
        self,
        messages: Sequence[ChatMessage],
        stream: bool,
        kwargs: Mapping[str, Any],
        client: kc.KimiClient | kc.AsyncKimiClient | None = None,
    ) -> kc.ChatRequest:
        """Validate and build the request body (raises ``kc.ConfigurationError``): the
        fields, then ``additional_kwargs``, then the call's keywords (``kimi_core`` merges
        them and refuses unknown call keywords). ``client`` is the one that sends it
        (default: the sync client)."""
        return ka.shape_request(
            (client or self._get_client()).profile,
            _CALLS,
            configured={
                "model": self.model,
                "temperature": self.temperature,
                "top_p": self.top_p,
                "max_tokens": self.max_tokens,
                "thinking": self.thinking,
                "reasoning_effort": self.reasoning_effort,
            },
            raw=self.additional_kwargs,
            call=kwargs,
            messages=to_wire_messages(messages, ka.private_attrs(self)["_history"]),
            stream=stream,
            wire_types=self._wire_types,
        )

    def _wire_types(self, params: dict[str, Any]) -> None:
        """LlamaIndex tools (passed straight to ``chat(tools=...)`` too) and tool choices as
        wire dicts."""
        tools = params.get("tools")
        if tools and not isinstance(tools, ka.ToolSet):  # a tool set is converted already
            params["tools"] = to_wire_tools(tools, strict=self.strict)
        if params.get("tool_choice") is not None:
            params["tool_choice"] = resolve_tool_choice(params["tool_choice"])

    # ------------------------------------------------------------------ chat

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """A whole answer: ``ThinkingBlock`` (if the model reasoned), text, tool calls;
        token counts in ``additional_kwargs`` and the response body in ``raw``."""
        return self._chat(messages, **kwargs)

    def _chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        client = self._get_client()
        result = client.chat(self._prepare(messages, False, kwargs, client))
        return chat_response_from_completion(result.body, result.request_id)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        """Stream the answer: each response has the cumulative message, the text
        ``delta`` and ``additional_kwargs["thinking_delta"]``; a last response with
        ``delta=""`` carries the token counts and the whole completion as ``raw``."""
        return self._stream_chat(messages, **kwargs)

    def _stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        client = self._get_client()
        stream = client.stream(self._prepare(messages, True, kwargs, client))

        def gen() -> ChatResponseGen:
            state = ChatStreamState()
            respond = state.response
            acc = None  # the accumulator of the attempt that delivers (read once)
            for event in stream:
                if acc is None:
                    acc = stream.accumulator
                response = respond(event, acc)
                if response is not None:
                    yield response
            final = state.final(stream.accumulator, stream.request_id)
            if final is not None:
                yield final

        return gen()

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Async :meth:`chat`, native on ``httpx.AsyncClient``."""
        return await self._achat(messages, **kwargs)

    async def _achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        client = self._get_aclient()
        result = await client.chat(self._prepare(messages, False, kwargs, client))
        return chat_response_from_completion(result.body, result.request_id)

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        """Async :meth:`stream_chat`, native on ``httpx.AsyncClient`` (no thread hop)."""
        return await self._astream_chat(messages, **kwargs)

    async def _astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        client = self._get_aclient()
        stream = client.stream(self._prepare(messages, True, kwargs, client))

        async def gen() -> ChatResponseAsyncGen:
            state = ChatStreamState()
            respond = state.response
            acc = None  # the accumulator of the attempt that delivers (read once)
            async for event in stream:
                if acc is None:
                    acc = stream.accumulator
                response = respond(event, acc)
                if response is not None:
                    yield response
            final = state.final(stream.accumulator, stream.request_id)
            if final is not None:
                yield final

        return gen()

    # ------------------------------------------------------------------ completion

    def _prompt_messages(self, prompt: str, formatted: bool) -> list[ChatMessage]:
        if not formatted:
            to_prompt = cast("Callable[[str], str] | None", self.completion_to_prompt)
            if to_prompt is not None:
                prompt = to_prompt(prompt)
        return [
            ChatMessage.model_construct(
                role=MessageRole.USER,
                blocks=[TextBlock(text=prompt)],
                additional_kwargs={},
            )
        ]

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """Complete a prompt (sent as one user message: Kimi has no completions endpoint).
        The reasoning, if any, is in ``additional_kwargs["thinking"]``."""
        response = self._chat(self._prompt_messages(prompt, formatted), **kwargs)
        return completion_response_from_chat(response)

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        """Stream a completion (through chat); reasoning in
        ``additional_kwargs["thinking_delta"]``."""
        responses = self._stream_chat(self._prompt_messages(prompt, formatted), **kwargs)

        def gen() -> CompletionResponseGen:
            for response in responses:
                yield completion_response_from_chat(response)

        return gen()

    @llm_completion_callback()
    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        """Async :meth:`complete`."""
        response = await self._achat(self._prompt_messages(prompt, formatted), **kwargs)
        return completion_response_from_chat(response)

    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        """Async :meth:`stream_complete`."""
        responses = await self._astream_chat(self._prompt_messages(prompt, formatted), **kwargs)

        async def gen() -> CompletionResponseAsyncGen:
            async for response in responses:
                yield completion_response_from_chat(response)

        return gen()

    # ------------------------------------------------------------------ tools

    def _prepare_chat_with_tools(
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        tool_choice: str | dict[str, Any] | None = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """The ``chat`` arguments for a turn with tools.

        ``tool_required`` (or ``tool_choice="required"`` / a tool name) forces a call; on a
        thinking model ``kimi_core`` switches thinking off for that call where the model
        allows it, and otherwise sends ``auto`` and raises ``ToolCallMissingError`` if no
        call comes back. Tool schemas are normalised by ``kimi_core``.
        """
        specs = to_wire_tools(tools, strict=self.strict if strict is None else strict)
        messages = list(chat_history or [])
        if user_msg is not None:
            if isinstance(user_msg, str):
                user_msg = ChatMessage(role=MessageRole.USER, content=user_msg)
            messages.append(user_msg)
        out: dict[str, Any] = {"messages": messages, **kwargs}
        if specs:
            out["tools"] = specs
            choice = resolve_tool_choice(tool_choice, tool_required)
            if choice is not None:
                out["tool_choice"] = choice
            out["parallel_tool_calls"] = allow_parallel_tool_calls
        return out

    def _prepare_chat_with_tools_compat(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """LlamaIndex asks (``inspect.signature``, on every call) whether an integration's
        ``_prepare_chat_with_tools`` takes ``tool_required``; this one does."""
        return self._prepare_chat_with_tools(*args, **kwargs)

    def _validate_chat_with_tools_response(
        self,
        response: ChatResponse,
        tools: Sequence[BaseTool],
        allow_parallel_tool_calls: bool = False,
        **kwargs: Any,
    ) -> ChatResponse:
        """Keep only the first tool call when parallel calls were not allowed."""
        if not allow_parallel_tool_calls:
            calls = [b for b in response.message.blocks if isinstance(b, ToolCallBlock)]
            if len(calls) > 1:
                first = calls[0]
                response.message.blocks = [
                    b
                    for b in response.message.blocks
                    if not isinstance(b, ToolCallBlock) or b is first
                ]
                wire = response.message.additional_kwargs.get("tool_calls")
                if wire:
                    response.message.additional_kwargs["tool_calls"] = wire[:1]
        return response

    def get_tool_calls_from_response(
        self,
        response: ChatResponse,
        error_on_no_tool_call: bool = True,
        **kwargs: Any,
    ) -> list[ToolSelection]:
        """The tool calls of a response, whole or streamed. In the middle of a stream
        partial arguments are parsed as far as they go; once the answer is finished,
        arguments that are not a JSON object raise ``kimi_core.ToolArgumentsError`` (the
        tool is never called with cut-off or no arguments)."""
        return tool_selections(
            response.message,
            error_on_no_tool_call=error_on_no_tool_call,
            partial=is_partial(response),
        )

    # ------------------------------------------------------------------ structured output

    def _json_method(self) -> StructuredOutputMethod | None:
        """The JSON method structured output uses, or None for LlamaIndex's programs
        (function calling). The default is ``kimi_core.structured_output_method``."""
        if self.pydantic_program_mode != PydanticProgramMode.DEFAULT:
            return None
        profile, info = self._get_client().profile, self.model_info
        method = self.structured_output_method or kc.structured_output_method(
            profile, info, self.thinking, self.temperature
        )
        kc.check_structured_method(profile, info, method)
        return None if method == "function_calling" else method

    def _json_request(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None,
        prompt_args: dict[str, Any],
        method: StructuredOutputMethod,
    ) -> tuple[list[ChatMessage], dict[str, Any]]:
        messages = self._extend_messages(prompt.format_messages(**prompt_args))
        kwargs = {
            k: v
            for k, v in (llm_kwargs or {}).items()
            if k not in ("tool_choice", "tool_required", "allow_parallel_tool_calls")
        }
        schema = output_cls.model_json_schema()
        if method == "json_schema":
            name = str(schema.get("title") or output_cls.__name__)
            kwargs["response_format"] = ka.json_schema_format(schema, name=name)
            return messages, kwargs
        # json_object: Kimi wants the format spelled out in the prompt.
        kwargs["response_format"] = {"type": "json_object"}
        return _with_system_instruction(messages, ka.json_mode_instruction(schema)), kwargs

    @dispatcher.span
    def structured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        """A Pydantic object from the model (see ``structured_output_method``)."""
        method = self._json_method()
        if method is None:
            return cast(
                "Model", super().structured_predict(output_cls, prompt, llm_kwargs, **prompt_args)
            )
        dispatcher.event(
            LLMStructuredPredictStartEvent(
                output_cls=output_cls, template=prompt, template_args=prompt_args
            )
        )
        messages, kwargs = self._json_request(output_cls, prompt, llm_kwargs, prompt_args, method)
        response = self.chat(messages, **kwargs)
        output = _validate_json(output_cls, response.message.content or "")
        dispatcher.event(LLMStructuredPredictEndEvent(output=output))
        return output

    @dispatcher.span
    async def astructured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        """Async :meth:`structured_predict`."""
        method = self._json_method()
        if method is None:
            result = await super().astructured_predict(
                output_cls, prompt, llm_kwargs, **prompt_args
            )
            return cast("Model", result)
        dispatcher.event(
            LLMStructuredPredictStartEvent(
                output_cls=output_cls, template=prompt, template_args=prompt_args
            )
        )
        messages, kwargs = self._json_request(output_cls, prompt, llm_kwargs, prompt_args, method)
        response = await self.achat(messages, **kwargs)
        output = _validate_json(output_cls, response.message.content or "")
        dispatcher.event(LLMStructuredPredictEndEvent(output=output))
        return output

    def _structured_stream_call(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Generator[Model | list[Model] | FlexibleModel | list[FlexibleModel], None, None]:
        from llama_index.core.program.function_program import FunctionCallingProgram
        from llama_index.core.program.streaming_utils import (
            process_streaming_content_incremental,
        )

        method = self._json_method()
        if method is None:
            if self.pydantic_program_mode not in (
                PydanticProgramMode.DEFAULT,
                PydanticProgramMode.FUNCTION,
            ):
                return super()._structured_stream_call(
                    output_cls, prompt, llm_kwargs, **prompt_args
                )
            # FunctionCallingProgram streams with tool_choice only: force the call.
            program = FunctionCallingProgram.from_defaults(
                output_cls=output_cls, llm=self, prompt=prompt, tool_choice="required"
            )
            return program.stream_call(llm_kwargs=llm_kwargs, **prompt_args)
        messages, kwargs = self._json_request(output_cls, prompt, llm_kwargs, prompt_args, method)

        def gen() -> Generator[Model | FlexibleModel, None, None]:
            current: Model | FlexibleModel | None = None
            for response in self.stream_chat(messages, **kwargs):
                if response.delta or current is None:
                    current = process_streaming_content_incremental(response, output_cls, current)
                    yield current

        return gen()

    async def _structured_astream_call(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> AsyncGenerator[Model | list[Model] | FlexibleModel | list[FlexibleModel], None]:
        from llama_index.core.program.function_program import FunctionCallingProgram
        from llama_index.core.program.streaming_utils import (
            process_streaming_content_incremental,
        )

        method = self._json_method()
        if method is None:
            if self.pydantic_program_mode not in (
                PydanticProgramMode.DEFAULT,
                PydanticProgramMode.FUNCTION,
            ):
                return await super()._structured_astream_call(
                    output_cls, prompt, llm_kwargs, **prompt_args
                )
            program = FunctionCallingProgram.from_defaults(
                output_cls=output_cls, llm=self, prompt=prompt, tool_choice="required"
            )
            return await program.astream_call(llm_kwargs=llm_kwargs, **prompt_args)
        messages, kwargs = self._json_request(output_cls, prompt, llm_kwargs, prompt_args, method)
        responses = await self.astream_chat(messages, **kwargs)

        async def gen() -> AsyncGenerator[Model | FlexibleModel, None]:
            current: Model | FlexibleModel | None = None
            async for response in responses:
                if response.delta or current is None:
                    current = process_streaming_content_incremental(response, output_cls, current)
                    yield current

        return gen()


def _with_system_instruction(messages: list[ChatMessage], instruction: str) -> list[ChatMessage]:
    """``messages`` with ``instruction`` added to the first system message (or a new one),
    where ``kimi_core`` places it."""
    at, blocks = ka.instruction_placement(
        [("system" if m.role in _SYSTEM_ROLES else "other", m.blocks) for m in messages],
        instruction,
        text_part=lambda text: TextBlock(text=text),
    )
    if at is None:
        return [ChatMessage(role=MessageRole.SYSTEM, content=instruction), *messages]
    out = list(messages)
    out[at] = out[at].model_copy(update={"blocks": blocks})
    return out


_SYSTEM_ROLES = (MessageRole.SYSTEM, MessageRole.DEVELOPER)


def _validate_json(output_cls: type[Model], text: str) -> Model:
    try:
        return output_cls.model_validate_json(parse_json_output(text))
    except ValueError as exc:
        raise ValueError(
            f"Structured output: the model's answer is not a valid {output_cls.__name__}: {exc}"
        ) from exc
