"""``ChatKimi`` on Kimi's Batch API, over real HTTP against the emulator: drop-in
``batch`` / ``abatch``, the lifecycle by id (from a second process too), typed per-input
errors, callbacks and progress, and the refusals before anything is uploaded."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, HumanMessage
from lc_helpers import KEY, chat_for
from pydantic import BaseModel

import kimi_core as kc
from kimi_emulator import KimiEmulator
from langchain_kimi import ChatKimi, KimiInvalidRequestError, KimiNotFoundError

SCALE = 0.002


@pytest.fixture
def emu(moonshot: KimiEmulator) -> KimiEmulator:
    moonshot.batch_options(time_scale=SCALE)
    return moonshot


def batch_model(emu: KimiEmulator, **kwargs: Any) -> ChatKimi:
    return chat_for(emu, use_batch_api=True, batch_poll_interval=0.01, **kwargs)


BAD_IMAGE = [
    HumanMessage(
        content=[
            {"type": "text", "text": "what is drawn here?"},
            {"type": "image_url", "image_url": {"url": "ms://missing-file-42"}},
        ]
    )
]


class Recorder(BaseCallbackHandler):
    def __init__(self) -> None:
        self.starts = 0
        self.ends: list[AIMessage] = []
        self.errors: list[BaseException] = []
        self.events: list[dict[str, Any]] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.starts += 1

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self.ends.append(response.generations[0][0].message)

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
        self.errors.append(error)

    def on_custom_event(self, name: str, data: Any, *, run_id: UUID, **kwargs: Any) -> None:
        if name == "kimi_batch_status":
            self.events.append(data)


def test_a_thousand_inputs_come_back_once_each_in_order(emu: KimiEmulator) -> None:
    texts: list[Any] = [
        f"Label the sentiment of review {i}: 'the lamp {i} flickers'" for i in range(1000)
    ]
    recorder = Recorder()
    out = batch_model(emu).batch(texts, config={"callbacks": [recorder]})
    assert len(out) == 1000
    for i, message in enumerate(out):
        assert isinstance(message, AIMessage)
        assert f"review {i}:" in str(message.content)
    assert recorder.starts == 1000 and len(recorder.ends) == 1000
    statuses = [e["status"] for e in recorder.events]
    assert statuses[0] == "validating" and statuses[-1] == "completed"
    assert recorder.events[-1]["completed"] == 1000
    # One job: one upload, one batch; no chat call went out on its own.
    assert not emu.chat_requests
    assert sum(1 for r in emu.requests if r.path == "/v1/batches" and r.method == "POST") == 1


def test_a_batched_answer_is_what_invoke_gives(emu: KimiEmulator) -> None:
    prompt = "Summarise: the bridge closed for repairs on Tuesday."
    live = chat_for(emu).invoke(prompt)
    emu.reset()
    emu.batch_options(time_scale=SCALE)
    (batched,) = batch_model(emu).batch([prompt])
    assert batched.content == live.content
    assert batched.additional_kwargs.get("reasoning_content") == live.additional_kwargs.get(
        "reasoning_content"
    )
    assert batched.usage_metadata and live.usage_metadata
    assert batched.usage_metadata["output_tokens"] == live.usage_metadata["output_tokens"]
    assert batched.response_metadata["model_name"] == live.response_metadata["model_name"]
    assert batched.response_metadata["finish_reason"] == "stop"


def test_tools_and_structured_output_apply_to_batched_inputs(emu: KimiEmulator) -> None:
    def lookup_tide(harbour: str) -> str:
        """Tide times for a harbour."""
        return harbour

    model = batch_model(emu)
    calls = model.bind_tools([lookup_tide]).batch(
        ["When is high tide in Brest?", "Tide table for Cherbourg please"]
    )
    for message in calls:
        assert isinstance(message, AIMessage)
        assert [c["name"] for c in message.tool_calls] == ["lookup_tide"]

    class Verdict(BaseModel):
        category: str
        urgent: bool

    verdicts = model.with_structured_output(Verdict).batch(["pipe burst", "new sofa"])
    assert all(isinstance(v, Verdict) for v in verdicts)
    sent = [r for r in emu.requests if r.path == "/v1/files" and r.method == "POST"]
    assert b'"tools"' in sent[0].body and b"lookup_tide" in sent[0].body
    assert b'"response_format"' in sent[1].body or b'"tools"' in sent[1].body


def test_per_input_errors_are_typed(emu: KimiEmulator) -> None:
    model = batch_model(emu)
    recorder = Recorder()
    out = model.batch(
        ["first", BAD_IMAGE, "third"], config={"callbacks": [recorder]}, return_exceptions=True
    )
    assert isinstance(out[0], AIMessage) and isinstance(out[2], AIMessage)
    assert isinstance(out[1], KimiInvalidRequestError)
    assert isinstance(out[1], kc.BadRequestError)
    assert "missing-file-42" in str(out[1]) and "error file" in str(out[1])
    assert len(recorder.ends) == 2 and len(recorder.errors) == 1
    with pytest.raises(KimiInvalidRequestError, match="missing-file-42"):
        model.batch(["first", BAD_IMAGE])


def test_a_bad_input_is_refused_before_upload(emu: KimiEmulator) -> None:
    model = batch_model(emu)
    before = emu.request_count
    with pytest.raises(kc.ConfigurationError, match=r"batch input 0: temperature=0\.3"):
        model.batch(["ok", "also ok"], temperature=0.3)
    with pytest.raises(ValueError, match="batch input 1: "):
        model.batch(["ok", 42])  # type: ignore[list-item]
    with pytest.raises(kc.ConfigurationError, match="inputs=\\[\\] is not accepted"):
        model.batch_api_submit([])
    with pytest.raises(kc.ConfigurationError, match="completion_window='2h'"):
        model.batch_api_submit(["x"], completion_window="2h")
    with pytest.raises(kc.ConfigurationError, match="not a parameter of ChatKimi calls"):
        model.batch(["x"], temprature=1)
    assert emu.request_count == before
    assert model.batch([]) == []


def test_the_lifecycle_by_id(emu: KimiEmulator) -> None:
    model = batch_model(emu)
    batch_id = model.batch_api_submit(["alpha", "beta", BAD_IMAGE], metadata={"run": "lc"})
    first = model.batch_api_status(batch_id)
    assert first.id == batch_id and first.metadata["run"] == "lc"
    with pytest.raises(kc.BatchError, match="can be read once it is completed"):
        model.batch_api_retrieve(batch_id)
    while not model.batch_api_status(batch_id).done:
        time.sleep(0.01)
    with pytest.raises(KimiInvalidRequestError):
        model.batch_api_retrieve(batch_id)
    out = model.batch_api_retrieve(batch_id, return_exceptions=True)
    assert "alpha" in str(out[0].content) and "beta" in str(out[1].content)
    assert isinstance(out[2], KimiInvalidRequestError)
    with pytest.raises(kc.ConfigurationError, match="cannot be cancelled: it is 'completed'"):
        model.batch_api_cancel(batch_id)
    with pytest.raises(KimiNotFoundError, match="batch_unknown not found"):
        model.batch_api_status("batch_unknown")


def test_cancel_by_id_leaves_typed_errors_for_the_unanswered(emu: KimiEmulator) -> None:
    emu.batch_options(line_delay=0.02)
    model = batch_model(emu)
    batch_id = model.batch_api_submit([f"n{i}" for i in range(50)])
    assert model.batch_api_cancel(batch_id).status == "cancelling"
    while not model.batch_api_status(batch_id).done:
        time.sleep(0.01)
    out = model.batch_api_retrieve(batch_id, return_exceptions=True)
    assert len(out) == 50
    errors = [o for o in out if isinstance(o, BaseException)]
    assert errors and all(isinstance(e, kc.BatchError) for e in errors)
    assert all("cancelled" in str(e) for e in errors)


def test_a_timeout_names_the_batch_to_resume(emu: KimiEmulator, capsys: Any) -> None:
    emu.batch_options(time_scale=1.0)
    model = batch_model(emu, batch_timeout=0.1, batch_progress=True)
    with pytest.raises(kc.BatchError, match=r"still 'validating' after 0.1s") as info:
        model.batch(["slow"])
    assert info.value.batch_id
    assert f"[kimi batch {info.value.batch_id}] validating" in capsys.readouterr().err
    model.batch_api_cancel(info.value.batch_id)


SECOND_PROCESS = """
import json, sys, time
from langchain_kimi import ChatKimi
model = ChatKimi(model="kimi-k2.6", provider="moonshot", base_url=sys.argv[1])
batch_id = sys.argv[2]
while not model.batch_api_status(batch_id).done:
    time.sleep(0.02)
out = model.batch_api_retrieve(batch_id, return_exceptions=True)
print(json.dumps([
    {"error": type(m).__name__} if isinstance(m, BaseException) else {"content": m.content}
    for m in out
]))
"""


def test_a_thousand_inputs_resumed_by_id_in_a_second_process(emu: KimiEmulator) -> None:
    texts = [f"Classify ticket {i}: printer jammed on floor {i % 7}" for i in range(1000)]
    texts[500] = BAD_IMAGE  # type: ignore[call-overload]
    batch_id = batch_model(emu).batch_api_submit(texts)
    env = {**os.environ, "MOONSHOT_API_KEY": KEY}
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
    assert out[500] == {"error": "KimiInvalidRequestError"}
    for i, item in enumerate(out):
        if i != 500:
            assert f"ticket {i}:" in item["content"]
    assert KEY not in done.stdout + done.stderr


async def test_abatch_and_the_async_lifecycle(emu: KimiEmulator) -> None:
    model = batch_model(emu)
    recorder = Recorder()
    out = await model.abatch(
        ["one", BAD_IMAGE, "three"], config={"callbacks": [recorder]}, return_exceptions=True
    )
    assert "one" in str(out[0].content) and "three" in str(out[2].content)
    assert isinstance(out[1], KimiInvalidRequestError)
    assert recorder.starts == 3 and len(recorder.ends) == 2 and len(recorder.errors) == 1
    assert recorder.events[-1]["status"] == "completed"
    batch_id = await model.abatch_api_submit(["four", "five"])
    for _ in range(3000):
        if (await model.abatch_api_status(batch_id)).done:
            break
        await asyncio.sleep(0.01)
    again = await model.abatch_api_retrieve(batch_id)
    assert ["four" in str(again[0].content), "five" in str(again[1].content)] == [True, True]
    with pytest.raises(kc.ConfigurationError, match="cannot be cancelled"):
        await model.abatch_api_cancel(batch_id)


def test_without_use_batch_api_batch_is_langchains(emu: KimiEmulator) -> None:
    out = chat_for(emu).batch(["a", "b"])
    assert len(out) == 2 and len(emu.chat_requests) == 2
    assert not [r for r in emu.requests if r.path.startswith("/v1/batches")]


def test_tools_by_id_are_the_call_keywords(emu: KimiEmulator) -> None:
    def find_berth(ship: str) -> str:
        """The berth a ship is moored at."""
        return ship

    model = batch_model(emu)
    batch_id = model.batch_api_submit(["Where is the Aurora moored?"], tools=[find_berth])
    again = chat_for(emu)  # a model that knows only the id
    while not again.batch_api_status(batch_id).done:
        time.sleep(0.01)
    (message,) = again.batch_api_retrieve(batch_id)
    assert [c["name"] for c in message.tool_calls] == ["find_berth"]
