"""`make demo`: what kimi-integrations does, in one run.

Runs against your provider when its key is set, else against the built-in Kimi emulator
started in this process (a stand-in for the protocol, not a model); see
``examples/_backend.py`` for how the backend is chosen (``KIMI_PROVIDER`` and
``KIMI_MODEL`` override it). Six parts, then a summary:

1. LangChain: a streamed answer, the reasoning shown apart from (before) the answer.
2. LangChain: a tool-calling loop over two tools with a thinking model; the reasoning of
   each tool-call turn goes back to Kimi with it (Kimi refuses the next request otherwise).
3. LangChain: structured output into a Pydantic model.
4. LlamaIndex: RAG over this project's own docs: their text extracted by Kimi
   (``KimiFileReader``), indexed in a ``VectorStoreIndex`` with a local hashing embedding
   (Kimi has no embeddings endpoint), queried with ``Kimi``.
5. LlamaIndex: a ``FunctionAgent`` that uses a tool.
6. The Batch API: 50 short texts labelled in one batch job (``ChatKimi(use_batch_api=True)``),
   the statuses it passed through, then the labels in input order. On the emulator only
   (its time scale shows every status in a second); a real batch takes up to its
   completion window (12h to 7d), so with a provider key the part only says how to run it.

Requests are counted on the wire (an httpx event hook on the clients given to ``ChatKimi``
and ``Kimi``); tokens as each framework reports them (a LangChain callback reading
``usage_metadata``, a LlamaIndex instrumentation handler reading the responses' token
counts). Colour only on a terminal and never with ``NO_COLOR`` set.

    python examples/demo.py [--traceback]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx
from _backend import Backend, describe_error, open_backend
from _local_embedding import HashingEmbedding
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import LLMResult
from langchain_core.tools import tool
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.agent.workflow import (
    AgentOutput,
    FunctionAgent,
    ToolCallResult,
)
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.instrumentation.events.llm import (
    LLMChatEndEvent,
    LLMCompletionEndEvent,
)
from pydantic import BaseModel, Field

import kimi_core as kc
from langchain_kimi import ChatKimi
from llama_index_kimi import Kimi, KimiFileReader

ROOT = Path(__file__).resolve().parent.parent
#: Errors after which the other parts cannot work either.
FATAL = (
    kc.AuthenticationError,
    kc.PermissionDeniedError,
    kc.InsufficientQuotaError,
    kc.NotFoundError,
    kc.APIConnectionError,
)
#: Seconds between the emulator's streamed events, so that streaming can be seen.
EMULATOR_STREAM_DELAY = 0.01
MAX_TURNS = 6


# --------------------------------------------------------------------------- output


class Style:
    """ANSI styles, or none at all: off when ``NO_COLOR`` is set (to anything but ""),
    when ``TERM=dumb``, or when the stream is not a terminal."""

    def __init__(self, colour: bool) -> None:
        self.colour = colour

    @classmethod
    def for_stream(cls, stream: TextIO, environ: Mapping[str, str] | None = None) -> Style:
        env = os.environ if environ is None else environ
        isatty = getattr(stream, "isatty", None)
        colour = (
            not env.get("NO_COLOR")
            and env.get("TERM") != "dumb"
            and callable(isatty)
            and bool(isatty())
        )
        return cls(bool(colour))

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour and text else text

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def heading(self, text: str) -> str:
        return self._wrap("1;36", text)

    def tool(self, text: str) -> str:
        return self._wrap("33", text)

    def good(self, text: str) -> str:
        return self._wrap("32", text)

    def bad(self, text: str) -> str:
        return self._wrap("1;31", text)


def one_line(text: str, limit: int = 160) -> str:
    """``text`` on one line, cut at ``limit`` characters (with the full length said)."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return f"{flat[: limit - 1].rstrip()}… ({len(flat)} characters)"


# --------------------------------------------------------------------------- counting


@dataclass
class Tally:
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    responses: int = 0
    """LLM responses the frameworks reported."""
    responses_with_usage: int = 0

    def minus(self, other: Tally) -> Tally:
        return Tally(**{k: getattr(self, k) - getattr(other, k) for k in vars(self)})


@dataclass
class Meter:
    """Counts what really happened: HTTP requests on the wire, and the token usage the
    frameworks reported for each LLM response."""

    tally: Tally = field(default_factory=Tally)
    #: The JSON bodies of the chat requests, in order (to show what was sent).
    chat_bodies: list[dict[str, Any]] = field(default_factory=list)

    def on_request(self, request: httpx.Request) -> None:
        self.tally.requests += 1
        if request.url.path.endswith("/chat/completions"):
            self.chat_bodies.append(json.loads(request.content))

    async def aon_request(self, request: httpx.Request) -> None:
        self.on_request(request)

    def http_client(self) -> httpx.Client:
        return httpx.Client(event_hooks={"request": [self.on_request]})

    def async_http_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(event_hooks={"request": [self.aon_request]})

    def add_usage(self, usage: Mapping[str, Any] | None, *, langchain: bool) -> None:
        self.tally.responses += 1
        if not usage:
            return
        self.tally.responses_with_usage += 1
        if langchain:  # UsageMetadata
            self.tally.input_tokens += usage.get("input_tokens", 0)
            self.tally.output_tokens += usage.get("output_tokens", 0)
            self.tally.cached_tokens += (usage.get("input_token_details") or {}).get(
                "cache_read", 0
            )
            self.tally.reasoning_tokens += (usage.get("output_token_details") or {}).get(
                "reasoning", 0
            )
        else:  # kimi_core.Usage in a LlamaIndex response's additional_kwargs
            self.tally.input_tokens += usage.get("prompt_tokens", 0)
            self.tally.output_tokens += usage.get("completion_tokens", 0)
            self.tally.cached_tokens += usage.get("cached_tokens", 0)
            self.tally.reasoning_tokens += usage.get("reasoning_tokens", 0)

    def snapshot(self) -> Tally:
        return Tally(**vars(self.tally))


class LangChainUsage(BaseCallbackHandler):
    """Adds the ``usage_metadata`` of every LangChain chat result to the meter."""

    def __init__(self, meter: Meter) -> None:
        self.meter = meter

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        for generations in response.generations:
            message = getattr(generations[0], "message", None) if generations else None
            self.meter.add_usage(getattr(message, "usage_metadata", None), langchain=True)


class LlamaIndexUsage(BaseEventHandler):
    """Adds the token counts of every LlamaIndex LLM response to the meter."""

    meter: Any = None

    @classmethod
    def class_name(cls) -> str:
        return "DemoUsage"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        if isinstance(event, (LLMChatEndEvent, LLMCompletionEndEvent)):
            response = event.response
            if response is None:  # a stream left before its end: nothing to count
                return
            usage = {
                k: v
                for k, v in response.additional_kwargs.items()
                if k.endswith("_tokens") and isinstance(v, int)
            }
            self.meter.add_usage(usage, langchain=False)


# --------------------------------------------------------------------------- tools

#: Made-up weather: the demo's tools are local functions, not web services.
WEATHER = {"paris": (18, "cloudy"), "tokyo": (24, "sunny"), "london": (14, "rain")}


@tool
def get_weather(city: str) -> str:
    """Get the current weather in a city: the sky and the temperature in Celsius."""
    celsius, sky = WEATHER.get(city.strip().lower(), (20, "clear"))
    return f"{celsius} C and {sky} in {city}"


@tool
def celsius_to_fahrenheit(celsius: float) -> str:
    """Convert a temperature from degrees Celsius to degrees Fahrenheit."""
    return f"{celsius * 9 / 5 + 32:g} F"


def provider_info(provider: str) -> str:
    """Look up a provider that serves Kimi (moonshot, moonshot-cn, acedata, evolink,
    gptproto): its base URL, the environment variable of its key and its models."""
    wanted = provider.lower().replace(" ", "").replace("-", "")
    for name in ("moonshot-cn", "moonshot", "acedata", "evolink", "gptproto"):
        if name.replace("-", "") in wanted:
            p = kc.get_provider(name)
            return (
                f"{p.label}: base URL {p.base_url}, key in {p.key_env}, "
                f"models {', '.join(p.models[:4])}"
            )
    return (
        f"unknown provider {provider!r}; known: moonshot, moonshot-cn, acedata, evolink, gptproto"
    )


class City(BaseModel):
    """A city, the country it is in and its population."""

    country: str = Field(description="The country the city is in")
    name: str = Field(description="The city's name")
    population_millions: float = Field(description="Inhabitants, in millions")


class Sentiment(BaseModel):
    """The sentiment of a short text."""

    label: str = Field(description="positive, negative or neutral")


#: The 50 short texts part 6 labels (made up for the demo).
BATCH_TEXTS = [
    (subject, verdict)
    for subject in (
        "The hotel breakfast",
        "The train to Lyon",
        "This phone's battery",
        "The museum audio guide",
        "Our new coffee machine",
        "The city library",
        "The delivery driver",
        "The hiking trail",
        "The spreadsheet update",
        "The concert sound",
    )
    for verdict in (
        "was wonderful.",
        "was a disaster.",
        "was fine, nothing special.",
        "made my day.",
        "keeps failing.",
    )
]
#: The emulator's batch phases (10 emulated seconds each) last 0.3 s in the demo: longer
#: than the longest wait between two polls (10 x 0.02 s), so every status is seen.
BATCH_TIME_SCALE = 0.03


class BatchStatuses(BaseCallbackHandler):
    """The statuses a batch passed through (ChatKimi's ``kimi_batch_status`` events)."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.batch_id = ""
        self.done = 0

    def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
        if name == "kimi_batch_status":
            self.batch_id = data["batch_id"]
            self.done = data["completed"] + data["failed"]
            if not self.seen or self.seen[-1] != data["status"]:
                self.seen.append(data["status"])


# --------------------------------------------------------------------------- the demo


class PartError(Exception):
    """A part ran but did not get what it needed (said in the message)."""


@dataclass
class PartResult:
    name: str
    tally: Tally
    seconds: float
    error: str | None = None


class Demo:
    def __init__(
        self,
        backend: Backend,
        style: Style,
        *,
        started: float | None = None,
        show_traceback: bool = False,
    ) -> None:
        self.backend = backend
        self.style = style
        self.show_traceback = show_traceback
        self.meter = Meter()
        self.http_client = self.meter.http_client()
        self.results: list[PartResult] = []
        self.stopped = False
        self.at_line_start = True
        self.started = time.perf_counter() if started is None else started
        handler = LlamaIndexUsage(meter=self.meter)
        get_dispatcher().add_event_handler(handler)  # the root dispatcher: every LLM event

    # ------------------------------------------------------------------ helpers

    def say(self, text: str = "", end: str = "\n") -> None:
        out = text + end
        if out:
            sys.stdout.write(out)
            sys.stdout.flush()
            self.at_line_start = out.endswith("\n")

    def ask(self, question: str) -> None:
        self.say(self.style.bold(f"> {question}"))

    def chat_kimi(self, **kwargs: Any) -> ChatKimi:
        return ChatKimi(
            model=self.backend.model,
            **self.backend.langchain_kwargs(),
            http_client=self.http_client,
            callbacks=[LangChainUsage(self.meter)],
            **kwargs,
        )

    def kimi(self, **kwargs: Any) -> Kimi:
        return Kimi(
            model=self.backend.model,
            **self.backend.llama_index_kwargs(),
            http_client=self.http_client,
            **kwargs,
        )

    def part(self, name: str, title: str, body: Callable[[], None]) -> None:
        """Run one part under a heading; count what it did; report its error, if any."""
        number = len(self.results) + 1
        self.say()
        self.say(self.style.heading(f"== {number}. {title} =="))
        if self.stopped:
            self.say(self.style.dim("skipped (see the error above)"))
            self.results.append(PartResult(name, Tally(), 0.0, "skipped"))
            return
        before, start = self.meter.snapshot(), time.perf_counter()
        error = None
        try:
            body()
        except kc.KimiError as err:
            error = describe_error(err, self.backend.key_variable)
            self.stopped = isinstance(err, FATAL)
        except PartError as err:
            error = f"{err}"
        except Exception as err:
            error = f"{type(err).__name__}: {err}"
            if self.show_traceback:
                traceback.print_exc()
            else:
                error += "\n  (unexpected: run `python examples/demo.py --traceback` for details)"
        if error is not None:
            if not self.at_line_start:  # a stream broke mid-line
                self.say()
            self.say(self.style.bad("error: ") + error)
        self.results.append(
            PartResult(
                name,
                self.meter.snapshot().minus(before),
                time.perf_counter() - start,
                error,
            )
        )

    def chat_bodies_since(self, count: int) -> list[dict[str, Any]]:
        return self.meter.chat_bodies[count:]

    def report_reasoning_kept(self, bodies: list[dict[str, Any]], received: list[str]) -> None:
        """Say whether the assistant tool-call turns went back to Kimi with their
        reasoning, from the last request body really sent (it carries the whole
        conversation); ``received``: the reasoning that came with each tool-call turn."""
        if not bodies:
            raise PartError("no chat request was recorded")
        turns = [
            m
            for m in bodies[-1].get("messages", [])
            if m.get("role") == "assistant" and m.get("tool_calls")
        ]
        if not turns:
            self.say(self.style.dim("reasoning kept: no tool-call turn went back (no tool called)"))
            return
        sent = [m.get("reasoning_content") for m in turns]
        where = (
            f"request {len(bodies)} of this part sent {len(turns)} assistant tool-call "
            f"turn{'s' if len(turns) > 1 else ''} back"
        )
        # The request succeeded: this part got its answer from it.
        if sent == received:
            sizes = ", ".join(str(len(r)) for r in sent)
            note = "" if any(sent) else ' (the model gave none: "" goes back, as Kimi requires)'
            self.say(
                self.style.good("reasoning kept: ")
                + f"{where} with the reasoning_content received ({sizes} characters){note}, "
                "and the request was accepted."
            )
        elif None in sent and not any(received):
            self.say(
                self.style.dim("reasoning: ")
                + f"{where} without reasoning_content: {self.backend.model} did not think here."
            )
        else:
            raise PartError(
                f"{where} with reasoning_content of {[len(x or '') for x in sent]} characters; "
                f"received {[len(x) for x in received]}"
            )

    # ------------------------------------------------------------------ parts

    def langchain_stream(self) -> None:
        question = "Why is the sky blue? Answer in one sentence."
        self.ask(question)
        model = self.chat_kimi()
        where: str | None = None  # "thinking" or "answer": what is being printed
        reasoning_chunks = answer_chunks = 0
        full: Any = None
        for chunk in model.stream(question):
            full = chunk if full is None else full + chunk
            reasoning = chunk.additional_kwargs.get("reasoning_content")
            if reasoning:
                if where is None:
                    self.say(self.style.dim("thinking: "), end="")
                    where = "thinking"
                if where == "thinking":
                    self.say(self.style.dim(reasoning), end="")
                reasoning_chunks += 1
            text = chunk.text
            if text:
                if where != "answer":
                    self.say("\n" if where else "", end="")
                    self.say(self.style.bold("answer: "), end="")
                    where = "answer"
                self.say(text, end="")
                answer_chunks += 1
        self.say()
        if full is None or not answer_chunks:
            raise PartError("the stream ended without an answer")
        usage = full.usage_metadata or {}
        reasoning_tokens = (usage.get("output_token_details") or {}).get("reasoning", 0)
        self.say(
            self.style.dim(
                f"streamed: {reasoning_chunks} reasoning chunks, then {answer_chunks} answer "
                f"chunks; usage on the last chunk: {usage.get('input_tokens', 0)} in, "
                f"{usage.get('output_tokens', 0)} out ({reasoning_tokens} reasoning)"
            )
        )
        if not reasoning_chunks:
            self.say(self.style.dim(f"({self.backend.model} gave no reasoning here)"))

    def langchain_tool_loop(self) -> None:
        question = (
            "What is the weather in Paris and in Tokyo right now? "
            "Give both temperatures in fahrenheit too."
        )
        self.ask(question)
        self.say(self.style.dim("tools: get_weather, celsius_to_fahrenheit (local, made-up data)"))
        tools = {t.name: t for t in (get_weather, celsius_to_fahrenheit)}
        model = self.chat_kimi().bind_tools(list(tools.values()))
        first = len(self.meter.chat_bodies)
        messages: list[BaseMessage] = [HumanMessage(question)]
        received: list[str] = []
        for turn in range(1, MAX_TURNS + 1):
            ai = model.invoke(messages)
            if not isinstance(ai, AIMessage):
                raise PartError(f"expected an AIMessage, got {type(ai).__name__}")
            messages.append(ai)
            reasoning = ai.additional_kwargs.get("reasoning_content") or ""
            if reasoning:
                self.say(self.style.dim(f"turn {turn} thinking: {one_line(reasoning, 120)}"))
            if not ai.tool_calls:
                self.say(self.style.bold("answer: ") + ai.text)
                break
            received.append(reasoning)
            for call in ai.tool_calls:
                if call["name"] in tools:
                    result = tools[call["name"]].invoke(call)
                else:  # a model may name a tool that does not exist: say so, as agents do
                    result = ToolMessage(
                        f"error: no tool named {call['name']!r}; use {', '.join(tools)}",
                        tool_call_id=call["id"] or "",
                        name=call["name"],
                    )
                args = json.dumps(call["args"], ensure_ascii=False)
                self.say(
                    self.style.tool(f"turn {turn} tool: {call['name']}({args}) -> {result.content}")
                )
                messages.append(result)
        else:
            raise PartError(f"no final answer after {MAX_TURNS} turns")
        self.report_reasoning_kept(self.chat_bodies_since(first), received)

    def langchain_structured(self) -> None:
        text = "Paris, the capital city of France, has about 2.1 million inhabitants."
        self.ask(f"Extract a City from: {text}")
        first = len(self.meter.chat_bodies)
        city = self.chat_kimi().with_structured_output(City).invoke(text)
        if not isinstance(city, City):
            raise PartError(f"expected a City, got {city!r}")
        self.say(self.style.bold("parsed: ") + repr(city))
        body = self.chat_bodies_since(first)[-1]
        fmt = body.get("response_format") or {}
        switch = (body.get("thinking") or {}).get("type")
        info = kc.get_model_info(self.backend.model, warn=False)
        thinks = kc.plan_thinking(kc.get_provider(self.backend.provider), info).thinks
        thinking = (
            f"thinking {switch}"
            if switch
            else "thinking on (the model always thinks)"
            if info.thinking == "always"
            else f"thinking {'on' if thinks else 'off'} (the model's default)"
        )
        if fmt.get("type") == "json_schema":
            how = f"response_format json_schema, {thinking}"
        elif body.get("tools"):
            how = f"one tool call, tool_choice {json.dumps(body.get('tool_choice'))}, {thinking}"
        else:
            how = f"response_format {fmt.get('type')}, {thinking}"
        self.say(self.style.dim(f"sent as: {how}"))

    def llama_index_rag(self) -> None:
        files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
        files = [f for f in files if f.is_file()]
        if not files:
            raise PartError(f"no README.md or docs/*.md under {ROOT}")
        llm = self.kimi()
        # Nothing may reach for OpenAI: the LLM is Kimi; the embedding is a local one (Kimi
        # has no embeddings endpoint; examples/_local_embedding.py).
        Settings.llm = llm
        Settings.embed_model = HashingEmbedding()
        names = {str(f): f.relative_to(ROOT).as_posix() for f in files}
        if kc.get_provider(self.backend.provider).has_platform_endpoints:
            reader = KimiFileReader(
                **self.backend.llama_index_kwargs(), http_client=self.http_client
            )
            documents = reader.load_data(files)
            extracted = sum(d.metadata["length"] for d in documents)
            self.say(
                self.style.dim(
                    f"extracted by Kimi: {len(documents)} files, {extracted} characters "
                    f"({3 * len(documents)} requests: upload, read, delete each)"
                )
            )
        else:  # file extraction is a Moonshot platform endpoint
            documents = [
                Document(text=f.read_text(encoding="utf-8"), metadata={"source": str(f)})
                for f in files
            ]
            self.say(
                self.style.dim(
                    f"{self.backend.provider} has no file extraction (a Moonshot endpoint): "
                    "the files were read locally"
                )
            )
        for document in documents:
            document.metadata["file"] = names.get(document.metadata["source"], "?")
        index = VectorStoreIndex.from_documents(documents)
        question = "How can I try kimi-integrations without a Kimi API key?"
        chunks = len(index.index_struct.nodes_dict)
        self.say(
            self.style.dim(
                f"index: {len(documents)} files, {chunks} chunks (VectorStoreIndex, a local "
                "hashing embedding: Kimi has no embeddings endpoint)"
            )
        )
        self.ask(question)
        response = index.as_query_engine(llm=llm, similarity_top_k=3).query(question)
        self.say(self.style.bold("answer: ") + str(response).strip())
        counts: dict[str, int] = {}
        for source in response.source_nodes:
            name = str(source.node.metadata.get("file", "?"))
            counts[name] = counts.get(name, 0) + 1
        if not counts:
            raise PartError("the answer came with no sources")
        listed = ", ".join(
            f"{name} ({n} chunk{'s' if n > 1 else ''})" for name, n in counts.items()
        )
        self.say(self.style.good("sources: ") + listed)

    def llama_index_agent(self) -> None:
        question = (
            "Which environment variable holds the API key for AceData, and what is its base URL?"
        )
        self.ask(question)
        first = len(self.meter.chat_bodies)
        answer, received = asyncio.run(self._run_agent(question))
        self.say(self.style.bold("answer: ") + answer)
        self.report_reasoning_kept(self.chat_bodies_since(first), received)

    async def _run_agent(self, question: str) -> tuple[str, list[str]]:
        async with self.meter.async_http_client() as client:
            llm = Kimi(
                model=self.backend.model,
                **self.backend.llama_index_kwargs(),
                async_http_client=client,
            )
            agent = FunctionAgent(tools=[provider_info], llm=llm)
            handler = agent.run(user_msg=question)
            calls = 0
            received: list[str] = []  # the reasoning of each tool-call turn
            async for event in handler.stream_events():
                if isinstance(event, AgentOutput) and event.tool_calls:
                    thinking = [
                        b.content or "" for b in event.response.blocks if b.block_type == "thinking"
                    ]
                    received.append("".join(thinking))
                elif isinstance(event, ToolCallResult):
                    calls += 1
                    args = json.dumps(event.tool_kwargs, ensure_ascii=False)
                    self.say(
                        self.style.tool(f"tool: {event.tool_name}({args}) -> {event.tool_output}")
                    )
            output = await handler
        if not calls:
            raise PartError(f"the agent answered without using its tool: {output}")
        return str(output.response.content or "").strip(), received

    def batch_api(self) -> None:
        emulator = self.backend.emulator
        if emulator is None or not kc.get_provider(self.backend.provider).has_platform_endpoints:
            self.say(
                self.style.dim(
                    "not run here: the Batch API is a Moonshot platform endpoint and a real "
                    "batch takes up to its completion window (12h to 7d); see docs/batch.md "
                    "(ChatKimi(use_batch_api=True).batch(...), or batch_api_submit and "
                    "batch_api_retrieve by id)"
                )
            )
            return
        emulator.batch_options(time_scale=BATCH_TIME_SCALE)
        texts = [f"{subject} {verdict}" for subject, verdict in BATCH_TEXTS]
        self.ask(f"Label the sentiment of {len(texts)} short texts, in one batch job")
        statuses = BatchStatuses()
        model = self.chat_kimi(use_batch_api=True, batch_poll_interval=0.02, batch_timeout=60)
        labeller = model.with_structured_output(Sentiment)
        labels = labeller.batch(texts, config={"callbacks": [statuses]})
        self.say(
            self.style.dim("statuses: ")
            + " -> ".join(statuses.seen)
            + self.style.dim(f"  (batch {statuses.batch_id}, {statuses.done} requests done)")
        )
        if len(labels) != len(texts):
            raise PartError(f"{len(texts)} texts, {len(labels)} labels")
        for number, (text, label) in enumerate(zip(texts, labels, strict=True), 1):
            self.say(f"{number:>2}. {one_line(text, 50):<50} -> {one_line(label.label, 60)}")
        if statuses.seen[-1:] != ["completed"]:
            raise PartError(f"the batch ended {statuses.seen[-1:]}, not completed")

    # ------------------------------------------------------------------ run

    def run(self) -> int:
        self.part(
            "LangChain stream",
            "LangChain: a streamed answer, the reasoning first",
            self.langchain_stream,
        )
        self.part(
            "LangChain tool loop",
            "LangChain: a tool-calling loop (two tools, a thinking model, reasoning kept)",
            self.langchain_tool_loop,
        )
        self.part(
            "LangChain structured output",
            "LangChain: structured output into a Pydantic model",
            self.langchain_structured,
        )
        self.part(
            "LlamaIndex RAG",
            "LlamaIndex: RAG over this project's docs (KimiFileReader, VectorStoreIndex)",
            self.llama_index_rag,
        )
        self.part(
            "LlamaIndex FunctionAgent",
            "LlamaIndex: a FunctionAgent that uses a tool",
            self.llama_index_agent,
        )
        self.part(
            "Batch API",
            "Batch API: 50 short texts labelled in one job (ChatKimi use_batch_api)",
            self.batch_api,
        )
        self.http_client.close()
        self.summary()
        return 1 if any(r.error for r in self.results) else 0

    def summary(self) -> None:
        b, s = self.backend, self.style
        total = self.meter.tally
        self.say()
        self.say(s.heading("== Summary =="))
        self.say(f"backend   {b.label} at {b.base_url}")
        self.say(f"model     {b.model} ({b.provider})")
        self.say(f"{'part':<40}{'requests':>9}{'tokens in':>11}{'tokens out':>12}{'seconds':>9}")
        for number, r in enumerate(self.results, 1):
            name = f"{number}. {r.name}"
            status = (
                "" if r.error is None else ("  (skipped)" if r.error == "skipped" else "  (failed)")
            )
            self.say(
                f"{name[:39]:<40}{r.tally.requests:>9}{r.tally.input_tokens:>11}"
                f"{r.tally.output_tokens:>12}{r.seconds:>9.2f}{status}"
            )
        requests = f"requests  {total.requests} made (counted on the wire)"
        if b.emulator is not None:
            requests += f"; the emulator recorded {b.emulator.request_count}"
        self.say(requests)
        self.say(
            f"tokens    {total.input_tokens} in ({total.cached_tokens} cached), "
            f"{total.output_tokens} out ({total.reasoning_tokens} reasoning); reported with "
            f"{total.responses_with_usage} of {total.responses} responses"
        )
        self.say(
            f"elapsed   {time.perf_counter() - self.started:.1f} s "
            "(Python's start-up and the imports not included)"
        )
        failed = sum(1 for r in self.results if r.error and r.error != "skipped")
        skipped = sum(1 for r in self.results if r.error == "skipped")
        if failed or skipped:
            self.say(s.bad(f"{failed} part(s) failed, {skipped} skipped"))
        elif b.is_emulator:
            self.say(
                s.dim(
                    "The answers above came from the emulator: deterministic, not a model. "
                    "Set MOONSHOT_API_KEY (or another provider's key) and run `make demo` "
                    "again to see Kimi."
                )
            )


def header(backend: Backend, style: Style) -> None:
    print(style.heading("kimi-integrations demo: Kimi in LangChain and LlamaIndex"))
    if backend.is_emulator:
        print(f"backend: {backend.label}, started in this process at {backend.base_url}")
        print(
            "  "
            + style.bold("It is a stand-in for the Kimi protocol, not a model:")
            + " the answers below are deterministic"
        )
        print(
            "  and only show that requests, streams, tool calls and reasoning are handled "
            "the way Kimi wants."
        )
        print(
            "  Set MOONSHOT_API_KEY (or ACEDATACLOUD_API_TOKEN, EVOLINK_API_KEY, "
            "GPTPROTO_API_KEY) to use Kimi."
        )
    else:
        print(f"backend: {backend.label} at {backend.base_url} (key from {backend.key_variable})")
    print(f"model:   {backend.model}  ({backend.reason})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--traceback", action="store_true", help="print tracebacks of unexpected errors"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    style = Style.for_stream(sys.stdout)
    try:
        with open_backend(announce=False, stream_delay=EMULATOR_STREAM_DELAY) as backend:
            header(backend, style)
            return Demo(backend, style, started=started, show_traceback=args.traceback).run()
    except kc.KimiError as err:  # a configuration that cannot work (KIMI_PROVIDER, ...)
        sys.stdout.flush()
        print(style.bad("error: ") + describe_error(err), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
