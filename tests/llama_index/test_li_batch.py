"""``Kimi`` on Kimi's Batch API, over real HTTP against the emulator: ``batch_chat`` /
``batch_complete`` (and async), the progress bar, the lifecycle by id from a second process,
typed per-input errors and the refusals before upload."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import pytest
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    CompletionResponse,
    ImageBlock,
    TextBlock,
)
from llama_index.core.tools import FunctionTool
from pydantic import Field

import kimi_core as kc
from kimi_emulator import KimiEmulator
from llama_index_kimi import Kimi

POLL = 0.01


@pytest.fixture
def emu(kimi_emulator: KimiEmulator) -> KimiEmulator:
    kimi_emulator.batch_options(time_scale=0.002)
    return kimi_emulator


def _user(text: str) -> list[ChatMessage]:
    return [ChatMessage(role="user", content=text)]


BAD_IMAGE = [
    ChatMessage(
        role="user",
        blocks=[TextBlock(text="what is drawn?"), ImageBlock(url="ms://missing-li-file-9")],
    )
]


def _wait(llm: Kimi, batch_id: str) -> kc.Batch:
    for _ in range(3000):
        batch = llm.batch_api_status(batch_id)
        if batch.done:
            return batch
        time.sleep(POLL)
    raise AssertionError(f"batch {batch_id} did not end")


def test_a_thousand_chats_in_order_with_the_progress_bar(
    emu: KimiEmulator, llm: Kimi, capsys: Any
) -> None:
    inputs = [_user(f"Tag the topic of note {i}: 'the ferry {i} is late'") for i in range(1000)]
    out = llm.batch_chat(inputs, poll_interval=POLL, show_progress=True)
    assert len(out) == 1000
    for i, response in enumerate(out):
        assert isinstance(response, ChatResponse)
        assert f"note {i}:" in str(response.message.content)
    err = capsys.readouterr().err
    assert "Kimi batch" in err and "1000/1000" in err and "completed" in err
    assert not emu.chat_requests


def test_a_batched_answer_is_what_chat_gives(emu: KimiEmulator, llm: Kimi) -> None:
    question = _user("Which season follows spring?")
    live = llm.chat(question)
    (batched,) = llm.batch_chat([question], poll_interval=POLL)
    assert batched.message.content == live.message.content
    assert [type(b).__name__ for b in batched.message.blocks] == [
        type(b).__name__ for b in live.message.blocks
    ]
    for key in ("prompt_tokens", "completion_tokens", "reasoning_tokens"):
        assert batched.additional_kwargs[key] == live.additional_kwargs[key]
    (done,) = llm.batch_complete(["Which season follows spring?"], poll_interval=POLL)
    assert isinstance(done, CompletionResponse)
    assert done.text == live.message.content
    assert done.additional_kwargs["thinking"]


def test_tools_apply_to_batched_inputs(llm: Kimi) -> None:
    def count_lighthouses(coast: str) -> int:
        """How many lighthouses a coast has."""
        return len(coast)

    tool = FunctionTool.from_defaults(fn=count_lighthouses)
    out = llm.batch_chat(
        [_user("How many lighthouses on the Breton coast?")],
        poll_interval=POLL,
        tools=[tool.metadata.to_openai_tool()],
    )
    calls = llm.get_tool_calls_from_response(out[0], error_on_no_tool_call=True)
    assert [c.tool_name for c in calls] == ["count_lighthouses"]


def test_per_input_errors_are_typed(llm: Kimi) -> None:
    out = llm.batch_chat(
        [_user("one"), BAD_IMAGE, _user("three")], poll_interval=POLL, return_exceptions=True
    )
    assert isinstance(out[0], ChatResponse) and isinstance(out[2], ChatResponse)
    assert isinstance(out[1], kc.BadRequestError)
    assert "missing-li-file-9" in str(out[1])
    with pytest.raises(kc.BadRequestError, match="missing-li-file-9"):
        llm.batch_chat([_user("one"), BAD_IMAGE], poll_interval=POLL)


def test_bad_input_is_refused_before_upload(emu: KimiEmulator, llm: Kimi) -> None:
    before = emu.request_count
    with pytest.raises(kc.ConfigurationError, match=r"inputs=\[\] is not accepted"):
        llm.batch_chat([])
    with pytest.raises(kc.ConfigurationError, match="a batch input is one ChatMessage"):
        llm.batch_chat([ChatMessage(role="user", content="x")])  # type: ignore[list-item]
    with pytest.raises(kc.ConfigurationError, match=r"batch input 0: temperature=0\.2"):
        llm.batch_complete(["x"], temperature=0.2)
    with pytest.raises(kc.ConfigurationError, match="completion_window='30m'"):
        llm.batch_complete(["x"], completion_window="30m")
    assert emu.request_count == before


def test_the_lifecycle_by_id(emu: KimiEmulator, llm: Kimi) -> None:
    batch_id = llm.batch_api_submit([_user("alpha"), BAD_IMAGE], metadata={"who": "li"})
    assert llm.batch_api_status(batch_id).metadata["who"] == "li"
    with pytest.raises(kc.BatchError, match="can be read once it is completed"):
        llm.batch_api_retrieve(batch_id)
    _wait(llm, batch_id)
    out = llm.batch_api_retrieve(batch_id, return_exceptions=True)
    assert isinstance(out[0], ChatResponse) and "alpha" in str(out[0].message.content)
    assert isinstance(out[1], kc.BadRequestError)
    with pytest.raises(kc.ConfigurationError, match="cannot be cancelled"):
        llm.batch_api_cancel(batch_id)
    with pytest.raises(kc.NotFoundError, match="batch_zzz"):
        llm.batch_api_status("batch_zzz")


def test_cancel_and_expiry_leave_typed_errors(emu: KimiEmulator, llm: Kimi) -> None:
    emu.batch_options(line_delay=0.02)
    batch_id = llm.batch_api_submit([f"p{i}" for i in range(40)])
    llm.batch_api_cancel(batch_id)
    assert _wait(llm, batch_id).status == "cancelled"
    out = llm.batch_api_retrieve(batch_id, return_exceptions=True)
    assert len(out) == 40
    missing = [o for o in out if isinstance(o, BaseException)]
    assert missing and all(
        isinstance(e, kc.BatchError) and e.status == "cancelled" for e in missing
    )
    assert all(isinstance(o, CompletionResponse) for o in out if o not in missing)


SECOND_PROCESS = """
import json, sys, time
from llama_index_kimi import Kimi
llm = Kimi(model="kimi-k2.6", provider="moonshot", api_base=sys.argv[1])
batch_id = sys.argv[2]
while not llm.batch_api_status(batch_id).done:
    time.sleep(0.02)
out = llm.batch_api_retrieve(batch_id, return_exceptions=True)
print(json.dumps([
    {"error": type(r).__name__} if isinstance(r, BaseException)
    else {"type": type(r).__name__, "text": r.text}
    for r in out
]))
"""


def test_a_thousand_prompts_resumed_by_id_in_a_second_process(
    emu: KimiEmulator, make_llm: Any
) -> None:
    llm = make_llm(emu, model="kimi-k2.6")
    prompts = [f"Summarise report {i} on bridge {i % 9}" for i in range(1000)]
    batch_id = llm.batch_api_submit(prompts)
    env = {**os.environ, "MOONSHOT_API_KEY": emu.api_key}
    done = subprocess.run(
        [sys.executable, "-c", SECOND_PROCESS, emu.base_url, batch_id],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    out = json.loads(done.stdout)
    assert len(out) == 1000
    for i, item in enumerate(out):
        assert item["type"] == "CompletionResponse"
        assert f"report {i} on" in item["text"]


async def test_the_async_twins(llm: Kimi) -> None:
    out = await llm.abatch_chat([_user("a1"), _user("a2")], poll_interval=POLL)
    assert ["a1" in str(out[0].message.content), "a2" in str(out[1].message.content)] == [
        True,
        True,
    ]
    texts = await llm.abatch_complete(["c1"], poll_interval=POLL, show_progress=False)
    assert "c1" in texts[0].text
    batch_id = await llm.abatch_api_submit(["d1", "d2"])
    for _ in range(3000):
        if (await llm.abatch_api_status(batch_id)).done:
            break
        await _sleep()
    again = await llm.abatch_api_retrieve(batch_id)
    assert [isinstance(r, CompletionResponse) for r in again] == [True, True]
    with pytest.raises(kc.ConfigurationError, match="cannot be cancelled"):
        await llm.abatch_api_cancel(batch_id)


async def _sleep() -> None:
    import asyncio

    await asyncio.sleep(POLL)


def test_instrumentation_sees_every_batched_input(llm: Kimi) -> None:
    from llama_index.core.instrumentation import get_dispatcher
    from llama_index.core.instrumentation.event_handlers import BaseEventHandler
    from llama_index.core.instrumentation.events import BaseEvent
    from llama_index.core.instrumentation.events.exception import ExceptionEvent
    from llama_index.core.instrumentation.events.llm import (
        LLMChatEndEvent,
        LLMChatStartEvent,
        LLMCompletionEndEvent,
    )

    class Seen(BaseEventHandler):
        events: list[BaseEvent] = Field(default_factory=list)

        @classmethod
        def class_name(cls) -> str:
            return "Seen"

        def handle(self, event: BaseEvent, **kwargs: Any) -> None:
            self.events.append(event)

    seen = Seen()
    root = get_dispatcher()
    root.add_event_handler(seen)
    try:
        llm.batch_chat(
            [_user("one"), BAD_IMAGE, _user("three")], poll_interval=POLL, return_exceptions=True
        )
        llm.batch_complete(["four"], poll_interval=POLL)
    finally:
        root.event_handlers.remove(seen)
    kinds = [type(e) for e in seen.events]
    assert kinds.count(LLMChatStartEvent) == 3
    ends = [e for e in seen.events if isinstance(e, LLMChatEndEvent)]
    assert len(ends) == 2 and ends[0].response is not None
    assert ends[0].response.additional_kwargs["completion_tokens"] > 0
    assert kinds.count(ExceptionEvent) == 1
    (done,) = [e for e in seen.events if isinstance(e, LLMCompletionEndEvent)]
    assert "four" in done.response.text
