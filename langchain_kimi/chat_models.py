"""``ChatKimi``: the LangChain chat model for Kimi (Moonshot AI) on every provider."""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any, cast

import httpx
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput, ModelProfile
from langchain_core.language_models.base import LangSmithParams
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.output_parsers.openai_tools import (
    JsonOutputKeyToolsParser,
    PydanticToolsParser,
)
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import (
    Runnable,
    RunnableConfig,
    RunnableLambda,
    RunnableMap,
    RunnablePassthrough,
)
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_json_schema, convert_to_openai_tool
from langchain_core.utils.utils import _build_model_kwargs
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_serializer,
    model_validator,
)
from typing_extensions import Self

import kimi_core as kc
from kimi_core import _adapter as ka

from . import _batch
from ._convert import (
    apply_invalid_tool_calls,
    chunk_from_event,
    completion_to_result,
    final_chunk,
    messages_to_wire,
    with_instruction,
)
from ._errors import to_langchain_error
from ._tools import (
    convert_tools,
    is_pydantic_class,
    response_format_to_wire,
    tool_choice_to_wire,
    tool_names,
)

__all__ = ["ChatKimi"]

#: How ChatKimi's refusals name things; LangChain passes ``stream`` and ``stream_usage`` to
#: every call (they only concern streams, and ``_stream`` takes them itself).
_CALLS = ka.CallConventions(
    calls="ChatKimi calls",
    raw_field="model_kwargs",
    one_choice="LangChain streams one choice; use invoke() for several",
    passed_down=frozenset({"stream", "stream_usage"}),
)


class ChatKimi(BaseChatModel):
    r"""Kimi (Moonshot AI) chat models, on Moonshot, AceData, EvoLink, GPTProto or any
    OpenAI-compatible gateway.

    Setup:
        Install ``kimi-integrations[langchain]`` and set the key of your provider:
        ``MOONSHOT_API_KEY`` (moonshot, moonshot-cn), ``ACEDATACLOUD_API_TOKEN``
        (acedata), ``EVOLINK_API_KEY`` (evolink), ``GPTPROTO_API_KEY`` (gptproto), or
        ``KIMI_API_KEY`` for any of them.

        .. code-block:: bash

            pip install -U "kimi-integrations[langchain]"
            export MOONSHOT_API_KEY="sk-..."

    Key init args — completion params:
        model: str
            Model id, e.g. ``"kimi-k3"``, ``"kimi-k2.7-code"``, ``"kimi-k2.6"`` (Moonshot's
            line), ``"kimi-k2.5"`` or ``"kimi-k2-thinking"`` (gateways). Ids outside the
            catalogue are accepted (with a warning) and sent as given; an id the
            provider retired warns once (``kimi_core.RetiredModelWarning``).
        thinking: bool | dict | None
            ``True`` / ``False`` switches thinking on models that have a switch
            (kimi-k2.6, kimi-k2.5); Kimi's object form is sent as given once checked
            (``{"type": "enabled", "keep": "all"}``: kimi-k2.6's preserved thinking);
            ``None`` (default) keeps the model's default. kimi-k3 takes no thinking
            field: ``thinking=False`` is refused there.
        reasoning_effort: str | None
            kimi-k3's ``"low"``, ``"high"`` or ``"max"`` (Kimi's default), sent top level;
            refused on models that do not take it, passed as given for unknown ids.
        temperature, top_p, n, presence_penalty, frequency_penalty:
            Sampling. Values a model fixes (kimi-k3, kimi-k2.6 and kimi-k2.5 fix all of
            them) are left out unless given; a conflicting value is refused before
            sending.
        max_tokens / max_completion_tokens: int | None
            Output limit; sent under the name the provider documents.
        stop: list[str] | str | None
            Stop sequences (provider limits are checked).
        prompt_cache_key, safety_identifier: str | None
            Moonshot's cache session id and hashed end-user id.

    Key init args — client params:
        api_key: SecretStr | None
            The key; else the provider's environment variable, else ``KIMI_API_KEY``.
        provider: str | None
            ``"moonshot"`` (default), ``"moonshot-cn"``, ``"acedata"``, ``"evolink"``,
            ``"gptproto"`` or ``"openai-compatible"``. Inferred from ``base_url``'s host
            when not given.
        base_url: str | None
            Override the provider's base URL (an emulator, a proxy, a gateway).
        timeout: float | httpx.Timeout | None
            Per-attempt timeout (default: 10 s connect, 600 s between bytes).
        total_timeout: float | None
            Deadline of a whole call: every attempt, body read and retry wait.
        max_event_bytes, max_body_bytes, max_error_bytes: int
            Limits on what a server may send: a stream event (16 MiB), a whole answer
            (64 MiB), and how much of an error body is read (1 MiB).
        max_retries: int
            Retries of 408/409/429/5xx and connection errors (default 2). A stream is
            never retried after its first event was delivered.
        default_headers, http_client, http_async_client:
            Extra headers; your own ``httpx.Client`` / ``httpx.AsyncClient``.
        model_kwargs / extra_body: dict
            More request fields. Known parameters in ``model_kwargs`` are validated like
            the named ones; everything else (and ``extra_body``) goes into the JSON body
            as is.

    Instantiate:
        .. code-block:: python

            from langchain_kimi import ChatKimi

            model = ChatKimi(model="kimi-k3", reasoning_effort="high")  # Moonshot
            model = ChatKimi(model="kimi-k2.6")                       # Moonshot
            model = ChatKimi(model="kimi-k2.5", provider="acedata")   # AceData Cloud
            model = ChatKimi(model="kimi-k2-thinking", provider="evolink")

    Invoke:
        .. code-block:: python

            msg = model.invoke([("system", "Be brief."), ("human", "Hello")])
            msg.content                               # " Hello! How can I help you today?"
            msg.additional_kwargs["reasoning_content"]  # the model's thinking

    Stream:
        .. code-block:: python

            for chunk in model.stream("Hello"):
                print(chunk.additional_kwargs.get("reasoning_content", ""), chunk.content)

            full = None
            for chunk in model.stream("Hello"):
                full = chunk if full is None else full + chunk
            full.usage_metadata   # on the last chunk only; counted once

    Async:
        .. code-block:: python

            await model.ainvoke("Hello")
            async for chunk in model.astream("Hello"):
                ...
            await model.abatch(["Hello", "Bonjour"])

        The async path is native (``httpx.AsyncClient``) and a model object can be
        used from successive ``asyncio.run`` calls.

    Reasoning:
        Thinking models return their reasoning in
        ``additional_kwargs["reasoning_content"]`` and as a standard ``reasoning``
        block in ``msg.content_blocks`` (with ``output_version="v1"`` the content itself
        is the list of blocks). Streamed chunks carry reasoning deltas. On the next
        turn, the reasoning of earlier AI messages (from ``additional_kwargs`` or from v1
        ``reasoning`` blocks) is sent back as ``reasoning_content``, which Kimi
        requires on assistant tool-call messages while thinking (``""`` is sent when
        there was none).

    Tool calling:
        .. code-block:: python

            from pydantic import BaseModel, Field

            class GetWeather(BaseModel):
                '''Get the current weather in a given city.'''
                city: str = Field(description="City name")

            model_with_tools = model.bind_tools([GetWeather])
            ai_msg = model_with_tools.invoke("Weather in Paris?")
            ai_msg.tool_calls   # [{"name": "GetWeather", "args": {"city": "Paris"}, "id": ...}]

        ``tool_choice``: ``"auto"``, ``"none"``, ``"required"`` (also ``"any"`` or
        ``True``), or a tool name. kimi-k3 takes ``"required"`` while it thinks but refuses
        a tool name (``tool_choice 'specified' is incompatible with thinking enabled``): a
        name goes out as ``"required"`` with only that tool offered, and the answer is
        checked. Other Kimi models refuse a forced choice
        (``"required"`` or a name) while thinking, so ``ChatKimi`` sends what the API
        accepts: on a model with a thinking switch (kimi-k2.6, kimi-k2.5) and
        ``thinking`` left unset, thinking is disabled for that call; on a model that
        always thinks (kimi-k2.7-code, kimi-k2-thinking), or when you asked for
        ``thinking=True``, the choice is sent as ``"auto"`` (with only the named tool)
        and the answer is checked: no call raises ``kimi_core.ToolCallMissingError``,
        whose message gives the reason (``kimi_core.plan_thinking`` decides it once).

    Web search ($web_search):
        Kimi's built-in search needs an "echo turn": the model calls ``$web_search``;
        you send its arguments back unchanged; Kimi searches and answers.

        .. code-block:: python

            from langchain_kimi import web_search_echo

            searcher = model.bind_web_search()
            messages = [("human", "What happened in Paris today?")]
            ai_msg = searcher.invoke(messages)
            while ai_msg.tool_calls:                 # repeat while it calls $web_search
                messages += [ai_msg, *web_search_echo(ai_msg)]
                ai_msg = searcher.invoke(messages)
            print(ai_msg.content)

        In an agent, add ``KimiWebSearch()`` to the tools: the agent's tool node runs
        the echo.

    Partial mode:
        Make the model continue a prefix: end the messages with an ``AIMessage`` marked
        partial. The reply does not repeat the prefix.

        .. code-block:: python

            from langchain_core.messages import AIMessage

            prefix = AIMessage('{"name": "', additional_kwargs={"partial": True})
            reply = model.invoke([("human", "Give me a JSON user."), prefix])
            text = prefix.content + reply.content

    Structured output:
        .. code-block:: python

            class Joke(BaseModel):
                setup: str
                punchline: str

            model.with_structured_output(Joke).invoke("Tell me a joke about cats")

        Methods: ``"json_schema"`` (Moonshot only), ``"function_calling"``,
        ``"json_mode"``. The default is ``kimi_core.structured_output_method``:
        ``"json_schema"`` where the provider documents it and the model has it, else
        ``"function_calling"`` where a forced call goes out as one, else ``"json_mode"``
        (the schema added to the system message); each works on thinking models (see
        ``with_structured_output``).

    Multimodal:
        LangChain image blocks (``{"type": "image", "base64": ..., "mime_type": ...}``,
        ``"url"`` or ``"file_id"`` = a Moonshot file id, sent as ``ms://<id>``), OpenAI
        ``image_url`` parts, video blocks on models that take video, and file blocks on
        gateways that take files (GPTProto). Anything the provider or model does not
        take is refused with a clear error before sending.

    Token usage:
        .. code-block:: python

            msg.usage_metadata
            # {"input_tokens": 9, "output_tokens": 184, "total_tokens": 193,
            #  "input_token_details": {"cache_read": 0},
            #  "output_token_details": {"reasoning": 0}}

    Response metadata:
        .. code-block:: python

            msg.response_metadata
            # {"model_name": "kimi-k2.5", "model_provider": "acedata",
            #  "finish_reason": "stop", "id": "chatcmpl-...", "request_id": "..."}

    Batch API (Moonshot platform; 40 % cheaper, answered within hours; docs/batch.md):
        .. code-block:: python

            model = ChatKimi(model="kimi-k2.6", use_batch_api=True)
            answers = model.batch(["text 1", "text 2"])  # one job, answers in input order

            batch_id = model.batch_api_submit(["text 3"])  # or submit, and later (any process):
            model.batch_api_status(batch_id).status
            model.batch_api_retrieve(batch_id)

    Errors:
        Provider errors are raised as classes that inherit both the ``kimi_core``
        error and the ``langchain_core.exceptions`` class (``KimiRateLimitError`` is a
        ``kimi_core.RateLimitError`` and a ``ModelRateLimitError``); see
        ``langchain_kimi.KimiAPIError`` and friends. Bad parameters raise
        ``kimi_core.ConfigurationError`` (a ``ValueError``) before anything is sent.
    """

    model_name: str = Field(alias="model")
    """Model id, e.g. ``"kimi-k2.6"``."""
    api_key: SecretStr | None = None
    """API key; else the provider's environment variable, else ``KIMI_API_KEY``."""
    provider: str | None = None
    """Provider name (``moonshot``, ``moonshot-cn``, ``acedata``, ``evolink``,
    ``gptproto``, ``openai-compatible``); inferred from ``base_url`` when not given."""
    base_url: str | None = None
    """Base URL override (the provider's default when not given)."""
    temperature: float | None = None
    top_p: float | None = None
    n: int | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    stop: list[str] | str | None = Field(default=None, alias="stop_sequences")
    """Default stop sequences."""
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    thinking: bool | dict[str, Any] | None = None
    """Thinking: ``True`` / ``False`` on models with a switch (kimi-k2.6, kimi-k2.5), Kimi's
    object form (``{"type": "enabled", "keep": "all"}``: kimi-k2.6's preserved thinking),
    or ``None`` (default) for the model's own. kimi-k3 takes none (it always reasons; see
    ``reasoning_effort``)."""
    reasoning_effort: str | None = None
    """How hard kimi-k3 reasons: ``"low"``, ``"high"`` or ``"max"`` (Kimi's default), sent
    top level. Refused for models that do not take it (the K2 line); passed as given for
    ids outside the catalogue."""
    prompt_cache_key: str | None = None
    safety_identifier: str | None = None
    timeout: float | httpx.Timeout | None = None
    """Per-attempt timeout in seconds (or an ``httpx.Timeout``)."""
    total_timeout: float | None = None
    """Deadline of a whole call, in seconds: every attempt, body read and retry wait
    (a ``Retry-After`` longer than the time left raises at once)."""
    max_retries: int = Field(default=2, ge=0)
    """Retries of 408/409/429/5xx and connection errors (never of a started stream)."""
    max_event_bytes: int = Field(default=kc.DEFAULT_MAX_EVENT, gt=0)
    """Largest stream event accepted (16 MiB); a larger one is a ``KimiStreamError``."""
    max_body_bytes: int = Field(default=kc.DEFAULT_MAX_BODY, gt=0)
    """Largest whole (non-streamed) answer read (64 MiB)."""
    max_error_bytes: int = Field(default=kc.DEFAULT_MAX_ERROR, gt=0)
    """Most of an error body read to build the error (1 MiB)."""
    default_headers: Mapping[str, str] | None = None
    """Headers added to every request (credential-like ones are masked in reprs and
    dumps, and travel in pickles by reference only)."""
    http_client: Any | None = Field(default=None, exclude=True)
    """An ``httpx.Client`` for sync calls (default: a shared pool)."""
    http_async_client: Any | None = Field(default=None, exclude=True)
    """An ``httpx.AsyncClient`` for async calls (default: a shared pool per event loop)."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """More request parameters (validated when known, else sent as is)."""
    extra_body: dict[str, Any] | None = None
    """Fields added to the JSON body as is."""
    streaming: bool = False
    """Whether ``invoke`` streams under the hood."""
    stream_usage: bool = True
    """Whether streams report token usage (on their last chunk)."""
    use_batch_api: bool = False
    """Whether ``batch`` / ``abatch`` run the inputs as one job on Kimi's Batch API (40 %
    cheaper, answered within ``batch_completion_window``; see docs/batch.md)."""
    batch_completion_window: str = "24h"
    """How long the Batch API may take: ``"12h"`` to ``"7d"``."""
    batch_poll_interval: float = Field(default=30.0, gt=0)
    """Seconds between the first polls of a batch (then backing off, up to 10x)."""
    batch_timeout: float | None = Field(default=None, gt=0)
    """Seconds ``batch`` waits for the job (None: as long as it runs); past it a
    ``kimi_core.BatchError`` names the batch id to resume with ``batch_api_retrieve``."""
    batch_progress: bool = False
    """Whether ``batch`` prints a progress line on stderr (the callbacks always get a
    ``kimi_batch_status`` custom event)."""

    model_config = ConfigDict(
        populate_by_name=True, arbitrary_types_allowed=True, protected_namespaces=()
    )

    _profile: kc.ProviderProfile = PrivateAttr()
    _clients: ka.ClientPair = PrivateAttr(default_factory=ka.ClientPair)
    # The wire dicts of an agent's earlier messages, converted once (kimi_core._history).
    _history: ka.HistoryCache[BaseMessage] = PrivateAttr(default_factory=ka.HistoryCache)

    # ------------------------------------------------------------------ setup

    def __init__(self, **kwargs: Any) -> None:
        # The key in a SecretStr before anything runs: a configuration error raised
        # during validation shows no key in its frames (tracebacks with locals).
        if isinstance(kwargs.get("api_key"), str):
            kwargs["api_key"] = SecretStr(kwargs["api_key"])
        super().__init__(**kwargs)

    @field_serializer("default_headers")
    def _serialize_headers(self, headers: Mapping[str, str] | None) -> dict[str, str] | None:
        return ka.redact_headers(headers)

    @model_validator(mode="before")
    @classmethod
    def _build_extra(cls, values: dict[str, Any]) -> Any:
        """Move unknown constructor arguments into ``model_kwargs`` (with a warning)."""
        if not isinstance(values, dict):
            return values
        headers = values.get("default_headers")
        if headers:
            values = {**values, "default_headers": ka.unmasked_headers(headers)}
        names = set()
        for name, field in cls.model_fields.items():
            names.add(name)
            if field.alias:
                names.add(field.alias)
        return _build_model_kwargs(values, names)

    @model_validator(mode="after")
    def _setup_clients(self) -> Self:
        """Resolve the provider and the key, and build the ``kimi_core`` clients.

        A missing key is not an error here (a model can be built where no key is set,
        e.g. to serialize it); the first request raises ``kimi_core.ConfigurationError``
        naming the variables searched.
        """
        self._profile = kc.resolve_provider(self.provider, self.base_url)
        ka.warn_if_retired(self.model_name, self._profile.name)
        key = self._resolved_key()
        if key is not None:
            if self.api_key is None:
                self.api_key = key
            self._get_client(), self._get_aclient()
        self._add_version("kimi-integrations", kc.__version__)
        return self

    def _resolved_key(self) -> SecretStr | None:
        """The key (argument or environment), or None when there is none yet."""
        given = self.api_key.get_secret_value() if self.api_key is not None else None
        try:
            return SecretStr(ka.resolve_api_key(self._profile, given))
        except kc.ConfigurationError:
            return None

    def __repr_args__(self) -> Any:
        return ka.redacted_repr_args(super().__repr_args__())

    def to_json(self) -> Any:
        """LangChain's dump (what ``dumps`` and every callback's ``serialized`` get): the
        key is a secret reference, and credential-like headers are masked."""
        data = super().to_json()
        kwargs = data.get("kwargs") if isinstance(data, dict) else None
        if isinstance(kwargs, dict) and kwargs.get("default_headers"):
            kwargs["default_headers"] = ka.redact_headers(kwargs["default_headers"])
        return data

    def __getstate__(self) -> dict[Any, Any]:
        """Pickles carry a reference to the key, never the key (``kimi_core._secrets``): a
        copy in this process or a forked worker finds it again; elsewhere the key comes
        from the environment."""
        # The clients hold the key: a ClientPair pickles without them (kimi_core._clients).
        return ka.state_without_key(super().__getstate__())

    def __setstate__(self, state: dict[Any, Any]) -> None:
        super().__setstate__(ka.state_with_key(state, wrap=SecretStr))
        if self.api_key is None:
            # Not found: the first request names the variables to set.
            self.api_key = self._resolved_key()

    @property
    def _provider_profile(self) -> kc.ProviderProfile:
        """``self._profile``, read without pydantic's slow path for private attributes
        (``ka.private_attrs``): it is read several times a call."""
        profile: kc.ProviderProfile = ka.private_attrs(self)["_profile"]
        return profile

    def _settings(self) -> ka.ClientSettings:
        profile = self._provider_profile
        return ka.ClientSettings.of(
            provider=profile.name,
            api_key=self.api_key,  # a SecretStr: no frame holds the key in clear
            base_url=profile.base_url or None,
            timeout=self.timeout,
            total_timeout=self.total_timeout,
            max_retries=self.max_retries,
            default_headers=self.default_headers,
            max_event_bytes=self.max_event_bytes,
            max_body_bytes=self.max_body_bytes,
            max_error_bytes=self.max_error_bytes,
        )

    def _get_client(self) -> kc.KimiClient:
        """The sync ``kimi_core`` client (``kimi_core._clients``: built on first use, again
        when a setting changes)."""
        clients: ka.ClientPair = ka.private_attrs(self)["_clients"]
        return clients.sync(self._settings(), self.http_client)

    def _get_aclient(self) -> kc.AsyncKimiClient:
        clients: ka.ClientPair = ka.private_attrs(self)["_clients"]
        return clients.async_(self._settings(), self.http_async_client)

    # ------------------------------------------------------------------ identity

    @property
    def model(self) -> str:
        """Same as ``model_name``."""
        return self.model_name

    @property
    def _llm_type(self) -> str:
        return "kimi-chat"

    @property
    def _provider_name(self) -> str:
        return self._provider_profile.name

    @property
    def _default_params(self) -> dict[str, Any]:
        params = {
            "model": self.model_name,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "n": self.n,
            "max_tokens": self.max_tokens,
            "max_completion_tokens": self.max_completion_tokens,
            "stop": self.stop or None,
            "presence_penalty": self.presence_penalty,
            "frequency_penalty": self.frequency_penalty,
            "thinking": self.thinking,
            "reasoning_effort": self.reasoning_effort,
            "prompt_cache_key": self.prompt_cache_key,
            "safety_identifier": self.safety_identifier,
        }
        return {k: v for k, v in params.items() if v is not None}

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "provider": self._provider_name,
            "base_url": self._provider_profile.base_url,
            **self._default_params,
            **({"model_kwargs": self.model_kwargs} if self.model_kwargs else {}),
            **({"extra_body": self.extra_body} if self.extra_body else {}),
        }

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = {**self._default_params, **kwargs}
        model = params.get("model")
        ls_params = LangSmithParams(
            ls_provider=self._provider_name,
            ls_model_name=model if isinstance(model, str) else self.model_name,
            ls_model_type="chat",
        )
        temperature = params.get("temperature")
        if isinstance(temperature, (int, float)):
            ls_params["ls_temperature"] = temperature
        max_tokens = params.get("max_completion_tokens") or params.get("max_tokens")
        if isinstance(max_tokens, int):
            ls_params["ls_max_tokens"] = max_tokens
        ls_stop = stop or params.get("stop")
        if ls_stop:
            ls_params["ls_stop"] = [ls_stop] if isinstance(ls_stop, str) else list(ls_stop)
        return ls_params

    @property
    def lc_secrets(self) -> dict[str, str]:
        profile = getattr(self, "_profile", None)
        env = profile.key_env if profile is not None and profile.key_env else "KIMI_API_KEY"
        return {"api_key": env}

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        """``["langchain_kimi", "chat_models"]``."""
        return ["langchain_kimi", "chat_models"]

    def _resolve_model_profile(self) -> ModelProfile | None:
        # LangChain calls this while building the model, errors suppressed: the notice
        # about an unknown host comes from _setup_clients.
        profile = kc.resolve_provider(self.provider, self.base_url, warn=False)
        return model_profile(self.model_name, profile)

    # ------------------------------------------------------------------ requests

    def _prepare(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        kwargs: Mapping[str, Any],
        *,
        stream: bool = False,
        stream_usage: bool = True,
    ) -> kc.ChatRequest:
        """The request: the model's parameters, then ``model_kwargs``, then the call's
        (``kimi_core`` merges them and refuses unknown call keywords)."""
        return ka.shape_request(
            self._provider_profile,
            _CALLS,
            configured=self._default_params,
            raw=self.model_kwargs,
            extra_body=self.extra_body,
            call={**kwargs, "stop": stop} if stop is not None else kwargs,
            messages=messages_to_wire(messages, ka.private_attrs(self)["_history"]),
            stream=stream,
            stream_usage=stream_usage,
            wire_types=_wire_types,
        )

    def _stream_usage(self, stream_usage: bool | None) -> bool:
        return self.stream_usage if stream_usage is None else bool(stream_usage)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request = self._prepare(messages, stop, kwargs)
        try:
            result = self._get_client().chat(request)
        except kc.KimiError as exc:
            raise to_langchain_error(exc) from exc.__cause__
        return completion_to_result(
            result.body, provider=self._provider_name, request_id=result.request_id
        )

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request = self._prepare(messages, stop, kwargs)
        try:
            result = await self._get_aclient().chat(request)
        except kc.KimiError as exc:
            raise to_langchain_error(exc) from exc.__cause__
        return completion_to_result(
            result.body, provider=self._provider_name, request_id=result.request_id
        )

    def _generate_with_cache(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        """LangChain's generate path (cache, streaming under the hood), then the tool calls
        of a streamed answer checked as strictly as a whole one (``invoke`` with
        ``streaming=True`` or streaming callbacks sums the chunks, which parses arguments
        as partial JSON: a cut-off ``{"city": "Par`` would be a valid call)."""
        result = super()._generate_with_cache(messages, stop, run_manager, **kwargs)
        return _checked_result(result)

    async def _agenerate_with_cache(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        result = await super()._agenerate_with_cache(messages, stop, run_manager, **kwargs)
        return _checked_result(result)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        *,
        stream_usage: bool | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        usage_on = self._stream_usage(stream_usage)
        request = self._prepare(messages, stop, kwargs, stream=True, stream_usage=usage_on)
        provider = self._provider_name
        stream = self._get_client().stream(request)
        try:
            for event in stream:
                chunk = chunk_from_event(event, provider)
                if chunk is None:
                    continue
                if run_manager:
                    run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                yield chunk
        except kc.KimiError as exc:
            raise to_langchain_error(exc) from exc.__cause__
        last = self._last_chunk(stream, usage_on)
        if run_manager:
            run_manager.on_llm_new_token("", chunk=last)
        yield last

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        *,
        stream_usage: bool | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        usage_on = self._stream_usage(stream_usage)
        request = self._prepare(messages, stop, kwargs, stream=True, stream_usage=usage_on)
        provider = self._provider_name
        stream = self._get_aclient().stream(request)
        try:
            async for event in stream:
                chunk = chunk_from_event(event, provider)
                if chunk is None:
                    continue
                if run_manager:
                    await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                yield chunk
        except kc.KimiError as exc:
            raise to_langchain_error(exc) from exc.__cause__
        last = self._last_chunk(stream, usage_on)
        if run_manager:
            await run_manager.on_llm_new_token("", chunk=last)
        yield last

    def _last_chunk(
        self, stream: kc.ChatStream | kc.AsyncChatStream, usage_on: bool
    ) -> ChatGenerationChunk:
        """The closing chunk: finish reason, response metadata, and usage once."""
        acc = stream.accumulator
        return final_chunk(
            acc.completion(),
            acc.usage if usage_on else None,
            provider=self._provider_name,
            request_id=stream.request_id,
        )

    # ------------------------------------------------------------------ Batch API

    def batch(
        self,
        inputs: list[LanguageModelInput],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """With ``use_batch_api=True``: the inputs as one Batch API job, the answers in
        input order (see docs/batch.md); otherwise LangChain's concurrent ``invoke`` calls."""
        if not self.use_batch_api:
            return super().batch(inputs, config, return_exceptions=return_exceptions, **kwargs)
        return _batch.run_batch(
            self, inputs, config, return_exceptions=return_exceptions, kwargs=kwargs
        )

    async def abatch(
        self,
        inputs: list[LanguageModelInput],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """The async twin of :meth:`batch`."""
        if not self.use_batch_api:
            return await super().abatch(
                inputs, config, return_exceptions=return_exceptions, **kwargs
            )
        return await _batch.arun_batch(
            self, inputs, config, return_exceptions=return_exceptions, kwargs=kwargs
        )

    def batch_api_submit(
        self,
        inputs: Sequence[LanguageModelInput],
        *,
        completion_window: str | None = None,
        metadata: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> str:
        """Submit the inputs as one Batch API job without waiting; returns its batch id,
        all that ``batch_api_status`` / ``batch_api_retrieve`` need (in any process).
        ``kwargs`` are the call's keywords, as for ``invoke`` (``tools``, ``tool_choice``,
        ``response_format``...: pass a bound model's ``.kwargs``)."""
        return _batch.submit(
            self, inputs, completion_window=completion_window, metadata=metadata, kwargs=kwargs
        )

    async def abatch_api_submit(
        self,
        inputs: Sequence[LanguageModelInput],
        *,
        completion_window: str | None = None,
        metadata: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> str:
        return await _batch.asubmit(
            self, inputs, completion_window=completion_window, metadata=metadata, kwargs=kwargs
        )

    def batch_api_status(self, batch_id: str) -> kc.Batch:
        """The batch (``status``, ``request_counts``, timestamps, file ids, metadata)."""
        return _batch.status(self, batch_id)

    async def abatch_api_status(self, batch_id: str) -> kc.Batch:
        return await _batch.astatus(self, batch_id)

    def batch_api_retrieve(self, batch_id: str, *, return_exceptions: bool = False) -> list[Any]:
        """The answers of a finished batch, in input order (``AIMessage`` objects, or the
        errors with ``return_exceptions=True``); a batch still running raises
        ``kimi_core.BatchError``."""
        return _batch.retrieve(self, batch_id, return_exceptions=return_exceptions)

    async def abatch_api_retrieve(
        self, batch_id: str, *, return_exceptions: bool = False
    ) -> list[Any]:
        return await _batch.aretrieve(self, batch_id, return_exceptions=return_exceptions)

    def batch_api_cancel(self, batch_id: str) -> kc.Batch:
        """Cancel a batch (refused once it is finished)."""
        return _batch.cancel(self, batch_id)

    async def abatch_api_cancel(self, batch_id: str) -> kc.Batch:
        return await _batch.acancel(self, batch_id)

    # ------------------------------------------------------------------ tools

    def bind_tools(
        self,
        tools: Sequence[Mapping[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | bool | Mapping[str, Any] | None = None,
        strict: bool | None = None,
        parallel_tool_calls: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools to the model.

        Args:
            tools: LangChain tools, Pydantic models, TypedDicts, functions, JSON schemas
                or Kimi/OpenAI tool dicts; ``WEB_SEARCH_TOOL`` / ``KimiWebSearch()`` for
                Kimi's built-in ``$web_search``. Schemas are normalised to what Kimi
                accepts ("Moonshot flavored JSON Schema") when the request is built.
            tool_choice: ``"auto"``, ``"none"``, ``"required"`` (also ``"any"`` or
                ``True``), a tool name, or ``{"type": "function", "function": {"name":
                ...}}``. A forced choice on a thinking model is sent as the API accepts
                it (see the class docstring).
            strict: Passed on as each function's ``strict`` flag.
            parallel_tool_calls: ``False`` asks for one call at a time.
            kwargs: More call parameters (``thinking``, ``temperature``, ...).

        When ``$web_search`` is bound, ``thinking`` is unset and the model has a
        thinking switch, ``kimi_core`` disables thinking for these calls (Kimi's web
        search is documented with thinking disabled); pass ``thinking=True`` to keep it.
        """
        # A snapshot the binding owns: kimi_core checks and normalises it once.
        formatted = ka.ToolSet(convert_tools(tools, strict=strict, copy=True))
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice_to_wire(tool_choice, tool_names(formatted))
        if parallel_tool_calls is not None:
            kwargs["parallel_tool_calls"] = parallel_tool_calls
        return self.bind(tools=formatted, **kwargs)

    def bind_web_search(
        self,
        tools: Sequence[Mapping[str, Any] | type | Callable[..., Any] | BaseTool] = (),
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind Kimi's built-in ``$web_search`` (plus any other ``tools``).

        Handle the echo turn with :func:`langchain_kimi.web_search_echo` (see the class
        docstring for the loop), or use :class:`langchain_kimi.KimiWebSearch` in an
        agent.
        """
        from ._tools import WEB_SEARCH_TOOL

        return self.bind_tools([WEB_SEARCH_TOOL, *tools], **kwargs)

    # ------------------------------------------------------------------ structured output

    def with_structured_output(
        self,
        schema: Mapping[str, Any] | type | None = None,
        *,
        method: kc.StructuredMethod | None = None,
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
        """A runnable that returns output matching ``schema``.

        Args:
            schema: A Pydantic class (output: an instance), a TypedDict, a JSON Schema
                or an OpenAI-style function/tool dict (output: a dict). May be None only
                with ``method="json_mode"`` (output: the parsed JSON).
            method:
                - ``"json_schema"``: ``response_format={"type": "json_schema", ...}``
                  with the schema normalised for Kimi. Moonshot only (AceData and
                  EvoLink document json_object only; GPTProto documents none).
                - ``"function_calling"``: one tool built from the schema, forced with
                  ``tool_choice``. On a thinking model Kimi refuses a forced choice, so
                  thinking is disabled for the call where the model allows it, and
                  otherwise the choice is sent as ``"auto"`` and a missing call raises
                  ``kimi_core.ToolCallMissingError``.
                - ``"json_mode"``: ``response_format={"type": "json_object"}``; with a
                  schema, the instruction to answer with a JSON object matching it is
                  added to the system message (Kimi's JSON mode needs the format in the
                  prompt).

                Default (None): ``kimi_core.structured_output_method``, the same choice
                the LlamaIndex adapter makes: ``"json_schema"`` where the provider
                documents it and the model has it (Moonshot: the server enforces the
                schema and a thinking model keeps thinking); else ``"function_calling"``
                where the forced call goes out as such (thinking off for the call where
                the model allows it); else ``"json_mode"``, so that an always-thinking
                model on a gateway without json_schema answers (Kimi refuses a forced
                tool call while thinking); else ``"function_calling"`` checked.
            include_raw: Return ``{"raw": AIMessage, "parsed": ..., "parsing_error":
                ...}`` instead of raising on a parsing error.
            strict: Passed on as the schema's / function's ``strict`` flag.
            kwargs: More call parameters (``thinking``, ``temperature``, ...).

        Raises:
            kimi_core.ConfigurationError: the method is not available on this provider
                or model (raised here, before anything is sent).
        """
        info = kc.get_model_info(self.model_name, warn=False)
        method = method or kc.structured_output_method(
            self._profile, info, kwargs.get("thinking", self.thinking), self.temperature
        )
        kc.check_structured_method(self._profile, info, method)
        is_pydantic = is_pydantic_class(schema)
        if method != "json_mode" and schema is None:
            raise kc.ConfigurationError(
                f"schema=None is not accepted with method={method!r}: pass a Pydantic "
                "class, a TypedDict or a JSON schema (only json_mode works without one)",
                param="schema",
            )
        ls_format = {"kwargs": {"method": method, "strict": strict}, "schema": schema}
        parser: Runnable[Any, Any]
        if method == "function_calling":
            tool = convert_to_openai_tool(schema, strict=strict)  # type: ignore[arg-type]
            name = tool["function"]["name"]
            llm = self.bind_tools(
                [tool], tool_choice=name, ls_structured_output_format=ls_format, **kwargs
            )
            if is_pydantic:
                parser = PydanticToolsParser(tools=[schema], first_tool_only=True)  # type: ignore[list-item]
            else:
                parser = JsonOutputKeyToolsParser(key_name=name, first_tool_only=True)
        else:
            if method == "json_schema":
                response_format = response_format_to_wire(schema, strict=strict)  # type: ignore[arg-type]
            else:
                response_format = {"type": "json_object"}
            llm = self.bind(
                response_format=response_format,
                ls_structured_output_format=ls_format,
                **kwargs,
            )
            if method == "json_mode" and schema is not None:
                instruction = ka.json_mode_instruction(convert_to_json_schema(cast("Any", schema)))
                llm = cast(
                    "Runnable[LanguageModelInput, AIMessage]",
                    RunnableLambda(
                        lambda value: with_instruction(
                            self._convert_input(value).to_messages(), instruction
                        )
                    )
                    | llm,
                )
            parser = (
                PydanticOutputParser(pydantic_object=schema)  # type: ignore[arg-type]
                if is_pydantic
                else JsonOutputParser()
            )
        if not include_raw:
            return llm | parser
        parse_raw = RunnablePassthrough.assign(
            parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
        )
        no_parse = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableMap(raw=llm) | parse_raw.with_fallbacks(
            [no_parse], exception_key="parsing_error"
        )

    # ------------------------------------------------------------------ tokens

    def get_num_tokens_from_messages(
        self,
        messages: list[BaseMessage],
        tools: Sequence[Any] | None = None,
    ) -> int:
        """Count the tokens of ``messages`` (and ``tools``).

        On Moonshot (``moonshot``, ``moonshot-cn``) this asks the platform's
        ``/tokenizers/estimate-token-count`` endpoint, which counts with Kimi's
        tokenizer. Other providers have no such endpoint: the count is LangChain's
        ``count_tokens_approximately`` (about 4 characters per token, plus a few per
        message), an approximation. Tool schemas are always approximated the same way.
        """
        tool_tokens = 0
        if tools:
            text = json.dumps(convert_tools(list(tools)), ensure_ascii=False)
            tool_tokens = -(-len(text) // 4)
        if not self._profile.has_platform_endpoints:
            return count_tokens_approximately(messages) + tool_tokens
        try:
            count = self._get_client().estimate_token_count(
                self.model_name, messages_to_wire(messages)
            )
        except kc.KimiError as exc:
            raise to_langchain_error(exc) from exc.__cause__
        return count + tool_tokens

    def get_num_tokens(self, text: str) -> int:
        """Tokens of ``text`` as one user message (see ``get_num_tokens_from_messages``)."""
        return self.get_num_tokens_from_messages([HumanMessage(content=text)])


def _wire_types(params: dict[str, Any]) -> None:
    """LangChain's forms of tools, ``tool_choice`` and ``response_format`` as wire dicts."""
    tools = params.get("tools")
    if tools and not isinstance(tools, ka.ToolSet):  # a bound set is converted already
        params["tools"] = tools = convert_tools(tools)
    if "tool_choice" in params:
        params["tool_choice"] = tool_choice_to_wire(params["tool_choice"], tool_names(tools or []))
    response_format = params.get("response_format")
    if response_format is not None and not (
        isinstance(response_format, Mapping) and "type" in response_format
    ):
        params["response_format"] = response_format_to_wire(response_format)


def _checked_result(result: ChatResult) -> ChatResult:
    for generation in result.generations:
        message = generation.message
        if isinstance(message, AIMessage):
            generation.message = apply_invalid_tool_calls(message)
    return result


def model_profile(model: str, provider: kc.ProviderProfile) -> ModelProfile:
    """A LangChain model profile from the ``kimi_core`` capabilities of ``model`` on
    ``provider``."""
    caps = ka.capabilities(kc.get_model_info(model, warn=False), provider)
    return ModelProfile(
        max_input_tokens=caps.context_window,
        max_output_tokens=caps.max_output,
        text_inputs=True,
        text_outputs=True,
        image_inputs=caps.image_inputs,
        image_url_inputs=caps.image_url_inputs,
        video_inputs=caps.video_inputs,
        pdf_inputs=caps.pdf_inputs,
        audio_inputs=False,
        image_tool_message=False,
        pdf_tool_message=False,
        reasoning_output=caps.reasoning_output,
        tool_calling=caps.tool_calling,
        tool_choice=caps.tool_calling,
        tool_call_streaming=caps.tool_calling,
        structured_output=caps.structured_output,
        temperature=caps.temperature,
        status="deprecated" if caps.deprecated else "active",
    )


def _allow_loading() -> None:
    """Put ``ChatKimi`` on LangChain's list of trusted integrations.

    ``langchain_core.load.loads(..., allowed_objects="all")`` revives only the partner
    classes listed in ``langchain_core.load.mapping``; this adds ``ChatKimi`` (and
    nothing else) once ``langchain_kimi`` is imported. The default
    ``allowed_objects="core"`` still refuses it, and ``allowed_objects=[ChatKimi]``
    works without this.
    """
    path = ("langchain_kimi", "chat_models", "ChatKimi")
    try:
        # The module, not the function of the same name that langchain_core.load exports.
        lc_load = importlib.import_module("langchain_core.load.load")
        lc_mapping = importlib.import_module("langchain_core.load.mapping")
    except ImportError:  # pragma: no cover - layout of another langchain-core
        return
    lc_mapping.SERIALIZABLE_MAPPING.setdefault(path, path)
    merged = getattr(lc_load, "ALL_SERIALIZABLE_MAPPINGS", None)
    if isinstance(merged, dict):
        merged.setdefault(path, path)
    cache = getattr(lc_load, "_default_class_paths_cache", None)
    if isinstance(cache, dict) and isinstance(cache.get("all"), set):
        cache["all"].add(path)


_allow_loading()


def _precompute_signatures() -> None:
    """LangChain asks ``inspect.signature`` on every call whether ``_generate`` /
    ``_agenerate`` take ``run_manager``; a function's ``__signature__`` (its own,
    computed once here) answers that without parsing the function again."""
    for name in ("_generate", "_agenerate"):
        fn = getattr(ChatKimi, name)
        fn.__signature__ = inspect.signature(fn)


_precompute_signatures()
