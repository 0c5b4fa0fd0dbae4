"""ChatKimi on today's Kimi (the 2026 line), over real HTTP: what goes on the wire for each
family, what is refused before sending (with the message), and the warning and error texts.

The answers are recorded api.moonshot.ai bodies (``tests/recordings``, via
``_recordings.py``) served by the loopback server; the emulator still judges the 2025 line.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from _loopback import LoopbackServer
from _recordings import replay, replay_stream, retired_404, sent_body
from langchain_core.exceptions import ModelNotFoundError
from langchain_core.messages import AIMessage, HumanMessage
from pydantic import BaseModel

import kimi_core as kc
from kimi_core import _models
from langchain_kimi import ChatKimi

PROMPT = "Call the ping tool."


def ping() -> str:
    """Return pong."""
    return "pong"


def chat(server: LoopbackServer, model: str, **kwargs: Any) -> ChatKimi:
    return ChatKimi(
        model=model,
        provider=kwargs.pop("provider", "moonshot"),
        base_url=server.base_url,
        api_key="sk-test",
        max_retries=0,
        **kwargs,
    )


# --------------------------------------------------------------------------- kimi-k3


def test_k3_bind_tools_required_is_sent_as_is_without_thinking(loopback: LoopbackServer) -> None:
    replay(loopback, "moonshotai-k3-required-tool-choice.json")
    ai = chat(loopback, "kimi-k3").bind_tools([ping], tool_choice="required").invoke(PROMPT)
    body = sent_body(loopback)
    assert body["tool_choice"] == "required"
    assert "thinking" not in body and "temperature" not in body
    assert [t["function"]["name"] for t in body["tools"]] == ["ping"]
    assert ai.tool_calls == [{"name": "ping", "args": {}, "id": "ping_0", "type": "tool_call"}]
    assert ai.additional_kwargs["reasoning_content"].startswith("The user asked me to call")


def test_k3_structured_output_by_function_calling(loopback: LoopbackServer) -> None:
    """The recorded answer calls ``ping``; a schema named ``ping`` reads it back. kimi-k3
    answers a named tool_choice with 400 "tool_choice 'specified' is incompatible with
    thinking enabled" (big-AGI#1161, page-agent PR #625): it goes out as "required" with
    only the schema's tool (this test asserted the named form before that evidence)."""
    replay(loopback, "moonshotai-k3-required-tool-choice.json")
    schema = {"title": "ping", "description": "Return pong", "type": "object", "properties": {}}
    runnable = chat(loopback, "kimi-k3").with_structured_output(schema, method="function_calling")
    assert runnable.invoke(PROMPT) == {}
    body = sent_body(loopback)
    assert body["tool_choice"] == "required"
    assert [t["function"]["name"] for t in body["tools"]] == ["ping"]
    assert "thinking" not in body


def test_k3_bind_tools_named_goes_out_as_required(loopback: LoopbackServer) -> None:
    replay(loopback, "moonshotai-k3-required-tool-choice.json")
    ai = chat(loopback, "kimi-k3").bind_tools([ping, weather], tool_choice="ping").invoke(PROMPT)
    body = sent_body(loopback)
    assert body["tool_choice"] == "required"
    assert [t["function"]["name"] for t in body["tools"]] == ["ping"]
    assert [c["name"] for c in ai.tool_calls] == ["ping"]


def test_k3_structured_output_default_is_json_schema(loopback: LoopbackServer) -> None:
    """json_schema is recorded accepted on kimi-k3 (moonshotai-issue-19544-accepted.json) and
    reported working end to end (big-AGI#1161): the default method."""
    replay(loopback, "moonshotai-issue-19544-json-object.json")
    chat(loopback, "kimi-k3").with_structured_output(Ping).invoke("Answer as JSON.")
    body = sent_body(loopback)
    assert body["response_format"]["type"] == "json_schema"
    assert "tools" not in body and "tool_choice" not in body
    chat(loopback, "kimi-k3").with_structured_output(Ping, method="json_mode").invoke("JSON.")
    body = loopback.received[-1].json
    assert body["response_format"] == {"type": "json_object"} and "tools" not in body


def test_k3_reasoning_effort_is_a_field_and_a_call_parameter(loopback: LoopbackServer) -> None:
    replay(loopback, "issue-19311-kimi-k3-live-2026-08-24.json")
    model = chat(loopback, "kimi-k3", reasoning_effort="low")
    assert model.invoke("17*19?").content == "323"
    assert sent_body(loopback) == {
        "model": "kimi-k3",
        "messages": [{"role": "user", "content": "17*19?"}],
        "reasoning_effort": "low",
    }
    model.invoke("17*19?", reasoning_effort="high")
    assert loopback.received[-1].json["reasoning_effort"] == "high"
    assert model._identifying_params["reasoning_effort"] == "low"
    assert "reasoning_effort" in ChatKimi.model_fields


def test_k3_stream_recorded(loopback: LoopbackServer) -> None:
    replay_stream(loopback, "moonshotai-usage-live.chunks.txt")
    full: Any = None
    for chunk in chat(loopback, "kimi-k3", reasoning_effort="max").stream("Say OK."):
        full = chunk if full is None else full + chunk
    assert full.content == "OK"
    assert full.additional_kwargs["reasoning_content"].startswith("The user is asking")
    assert full.usage_metadata["total_tokens"] == 140
    assert sent_body(loopback)["reasoning_effort"] == "max"


def test_k3_refusals_before_sending(loopback: LoopbackServer) -> None:
    replay(loopback, "issue-19311-kimi-k3-live-2026-08-24.json")
    with pytest.raises(kc.ConfigurationError) as info:
        chat(loopback, "kimi-k3", thinking=False).invoke("hi")
    assert str(info.value) == (
        "thinking=False is not accepted by model 'kimi-k3': kimi-k3 always thinks and takes "
        "no thinking field; leave thinking unset (to make it think less, set "
        "reasoning_effort='low'; it takes 'low', 'high', 'max')"
    )
    with pytest.raises(kc.ConfigurationError, match=r"temperature=0.3 .*'kimi-k3'.*only 1"):
        chat(loopback, "kimi-k3", temperature=0.3).invoke("hi")
    with pytest.raises(kc.ConfigurationError, match=r"reasoning_effort='medium' .*'low', 'high'"):
        chat(loopback, "kimi-k3", reasoning_effort="medium").invoke("hi")
    with pytest.raises(kc.ConfigurationError, match=r"'kimi-k3'.*reasoning_effort"):
        chat(loopback, "kimi-k3").with_structured_output(Ping, thinking=False).invoke("hi")
    assert loopback.received == []
    # thinking=True asks for what K3 does anyway: nothing is sent for it.
    chat(loopback, "kimi-k3", thinking=True).invoke("hi")
    assert "thinking" not in sent_body(loopback)


def test_k3_profile_has_the_1m_window() -> None:
    profile = ChatKimi(model="kimi-k3", api_key="k").profile
    assert profile is not None and profile["max_input_tokens"] == 1_048_576


class Ping(BaseModel):
    """Return pong."""


def test_k3_replays_every_earlier_reasoning(loopback: LoopbackServer) -> None:
    replay(loopback, "issue-19311-kimi-k3-live-2026-08-24.json")
    history = [
        HumanMessage("hi"),
        AIMessage("Hello.", additional_kwargs={"reasoning_content": "Greet back."}),
        HumanMessage("and?"),
        AIMessage("Nothing."),
        HumanMessage("17*19?"),
    ]
    chat(loopback, "kimi-k3").invoke(history)
    assistants = [m for m in sent_body(loopback)["messages"] if m["role"] == "assistant"]
    assert [m["reasoning_content"] for m in assistants] == ["Greet back.", ""]


# --------------------------------------------------------------------------- kimi-k3.1-pro


def test_k31_pro_sends_like_k3_and_warns_where_k3_refuses(loopback: LoopbackServer) -> None:
    replay(loopback, "moonshotai-k3-required-tool-choice.json")
    model = chat(loopback, "kimi-k3.1-pro", reasoning_effort="high")
    model.bind_tools([ping], tool_choice="required").invoke(PROMPT)
    body = sent_body(loopback)
    assert (body["tool_choice"], body["reasoning_effort"]) == ("required", "high")
    assert "thinking" not in body
    with pytest.warns(kc.UnconfirmedRuleWarning, match=r"temperature=0.3 .*'kimi-k3.1-pro'"):
        chat(loopback, "kimi-k3.1-pro", temperature=0.3).invoke("hi")
    assert loopback.received[-1].json["temperature"] == 0.3


# --------------------------------------------------------------------------- kimi-k2.7-code


@pytest.mark.parametrize("model", ["kimi-k2.7-code", "kimi-k2.7-code-highspeed"])
def test_k27_forced_choice_goes_as_auto_and_is_checked(
    loopback: LoopbackServer, model: str
) -> None:
    replay(loopback, "moonshotai-k2.7-tool-choice-omitted.json")
    ai = chat(loopback, model).bind_tools([ping], tool_choice="ping").invoke(PROMPT)
    body = sent_body(loopback)
    assert body["tool_choice"] == "auto" and "thinking" not in body
    assert [t["function"]["name"] for t in body["tools"]] == ["ping"]
    assert ai.tool_calls[0]["name"] == "ping"


@pytest.mark.parametrize("model", ["kimi-k2.7-code", "kimi-k2.7-code-highspeed"])
def test_k27_refusals_before_sending(loopback: LoopbackServer, model: str) -> None:
    with pytest.raises(kc.ConfigurationError) as info:
        chat(loopback, model, thinking=False).invoke("hi")
    assert str(info.value) == (
        f"thinking=False is not accepted by model {model!r}: this model always thinks and "
        "cannot disable it (Kimi: 'only type=enabled is allowed for this model'); leave "
        "thinking unset or use a model with a thinking switch (kimi-k2.6)"
    )
    with pytest.raises(kc.ConfigurationError, match=r"only the kimi-k3 family"):
        chat(loopback, model, reasoning_effort="low").invoke("hi")
    assert loopback.received == []


def test_k27_replays_every_earlier_reasoning(loopback: LoopbackServer) -> None:
    replay(loopback, "moonshotai-k2.7-tool-choice-omitted.json")
    chat(loopback, "kimi-k2.7-code").invoke(
        [HumanMessage("hi"), AIMessage("Hi."), HumanMessage(PROMPT)]
    )
    assert sent_body(loopback)["messages"][1] == {
        "role": "assistant",
        "content": "Hi.",
        "reasoning_content": "",
    }


# --------------------------------------------------------------------------- kimi-k2.6


def test_k26_thinking_object_form_is_sent_as_given(loopback: LoopbackServer) -> None:
    replay(loopback, "moonshotai-k2.6-tool-choice-omitted.json")
    keep = {"type": "enabled", "keep": "all"}
    model = chat(loopback, "kimi-k2.6", thinking=keep)
    assert model.thinking == keep
    with pytest.warns(kc.ReasoningCutWarning):  # the recorded answer is reasoning only
        model.invoke([HumanMessage("hi"), AIMessage("Hi."), HumanMessage("more")])
    body = sent_body(loopback)
    assert body["thinking"] == keep
    assert body["messages"][1]["reasoning_content"] == ""  # preserved thinking: replayed
    with pytest.warns(kc.ReasoningCutWarning):
        model.invoke("hi", thinking={"type": "disabled"})
    assert loopback.received[-1].json["thinking"] == {"type": "disabled"}


@pytest.mark.parametrize(
    ("thinking", "match"),
    [
        ({"type": "enabled", "keep": "last"}, r"thinking.keep='last' .*'all'"),
        ({"type": "disabled", "keep": "all"}, r"keep needs thinking enabled"),
        ({"keep": "all"}, r"thinking.type=None"),
        ("on", r"thinking='on' .*True, False, None"),
    ],
)
def test_k26_thinking_object_is_validated_before_sending(
    loopback: LoopbackServer, thinking: Any, match: str
) -> None:
    with pytest.raises(kc.ConfigurationError, match=match):
        chat(loopback, "kimi-k2.6").invoke("hi", thinking=thinking)
    assert loopback.received == []


def test_keep_on_a_model_without_it_is_refused(loopback: LoopbackServer) -> None:
    with pytest.raises(kc.ConfigurationError, match=r"'kimi-k2.5': only kimi-k2.6 \(and"):
        chat(loopback, "kimi-k2.5", provider="gptproto").invoke(
            "hi", thinking={"type": "enabled", "keep": "all"}
        )
    assert loopback.received == []


def test_k26_reasoning_effort_is_warned_and_sent(loopback: LoopbackServer) -> None:
    """nanobot#3939 (a live probe): kimi-k2.6 takes reasoning_effort alone; with a thinking
    field it answers 400 "cannot specify both": refused before sending then."""
    replay(loopback, "moonshotai-file-reference-live.json")
    with pytest.warns(_models.UnconfirmedRuleWarning, match=r"kimi-k2.6.*nanobot#3939"):
        chat(loopback, "kimi-k2.6", reasoning_effort="low").invoke("hi")
    body = sent_body(loopback)
    assert body["reasoning_effort"] == "low" and "thinking" not in body
    with pytest.raises(kc.ConfigurationError) as info:
        chat(loopback, "kimi-k2.6", reasoning_effort="low", thinking=False).invoke("hi")
    assert str(info.value) == (
        "reasoning_effort='low' is not accepted by model 'kimi-k2.6': Kimi refuses it together "
        "with thinking={'type': 'disabled'} ('cannot specify both 'thinking' and "
        "'reasoning_effort''); set one of them"
    )
    assert len(loopback.received) == 1


def test_k26_forced_choice_with_thinking_on_says_why_it_is_missing(
    loopback: LoopbackServer,
) -> None:
    replay(loopback, "moonshotai-k2.6-tool-choice-omitted.json")  # thinks, no call
    model = chat(loopback, "kimi-k2.6", thinking=True).bind_tools([ping], tool_choice="required")
    with pytest.raises(kc.ToolCallMissingError) as info:
        model.invoke(PROMPT)
    assert "always thinks" not in str(info.value)
    assert "thinking=True was asked for kimi-k2.6" in str(info.value)
    assert sent_body(loopback)["tool_choice"] == "auto"


def weather(location: str) -> str:
    """Get the weather in a location."""
    return "sunny"


# The K2.x streams recorded on api.moonshot.ai (kimi-k2.5, 2026-08-25, days before it was
# retired): no K2.6 stream is published; these are the nearest, same family and server.


def test_k2x_streamed_tool_call_recorded(loopback: LoopbackServer) -> None:
    replay_stream(loopback, "moonshotai-stream-explicit-tool-call-index.chunks.txt")
    model = chat(loopback, "kimi-k2.6").bind_tools([weather])
    full: Any = None
    for chunk in model.stream("What is the weather in San Francisco?"):
        full = chunk if full is None else full + chunk
    # argument fragments '{"', 'location', '":', ' "', 'San', ' Francisco', '"}' joined
    assert full.tool_calls == [
        {
            "name": "weather",
            "args": {"location": "San Francisco"},
            "id": "weather_0",
            "type": "tool_call",
        }
    ]
    assert full.invalid_tool_calls == []
    # the empty reasoning marker is no reasoning: no empty reasoning block or field
    assert full.content == "" and "reasoning_content" not in full.additional_kwargs
    # usage came in the finish choice and in a trailing chunk: counted once
    assert full.usage_metadata == {
        "input_tokens": 61,
        "output_tokens": 19,
        "total_tokens": 80,
        "input_token_details": {"cache_read": 0},
        "output_token_details": {"reasoning": 1},
    }
    assert full.response_metadata["finish_reason"] == "tool_calls"
    assert sent_body(loopback)["tools"][0]["function"]["name"] == "weather"


def test_k2x_stream_without_a_usage_trailer_recorded(loopback: LoopbackServer) -> None:
    replay_stream(loopback, "moonshotai-stream-choice-usage.chunks.txt")
    full: Any = None
    with_usage = 0
    for chunk in chat(loopback, "kimi-k2.6").stream("Reply with exactly OK."):
        full = chunk if full is None else full + chunk
        with_usage += chunk.usage_metadata is not None
    assert full.content == "OK."
    assert with_usage == 1
    assert full.usage_metadata["total_tokens"] == 17  # from the finish choice


def test_k3_answer_cut_by_the_limit_recorded(loopback: LoopbackServer) -> None:
    replay(loopback, "moonshotai-max-completion-tokens.json")
    with pytest.warns(kc.ReasoningCutWarning) as caught:
        msg = chat(loopback, "kimi-k3", max_tokens=8).invoke("Reply with exactly OK.")
    said = str(caught[0].message)
    assert "cut while the model was still reasoning" in said
    assert "max_completion_tokens=8" in said and "reasoning_effort" in said
    assert msg.content == ""
    assert msg.additional_kwargs == {"reasoning_content": "The user is asking me"}
    assert msg.response_metadata["finish_reason"] == "length"
    assert msg.usage_metadata is not None
    assert msg.usage_metadata["input_token_details"] == {"cache_read": 89}
    assert sent_body(loopback)["max_completion_tokens"] == 8


# --------------------------------------------------------------------------- K2 on AceData


def test_k25_on_acedata_warns_nothing_and_keeps_its_switch(loopback: LoopbackServer) -> None:
    replay(loopback, "moonshotai-k2.6-tool-choice-omitted.json")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = ChatKimi(model="kimi-k2.5", provider="acedata", base_url=loopback.url, api_key="k")
        # The recorded answer is reasoning cut by the budget: a forced call needs an answer.
        with pytest.raises(kc.ReasoningCutError, match="a forced tool call"):
            model.bind_tools([ping], tool_choice="required").invoke(PROMPT)
    body = loopback.received[-1].json
    assert loopback.received[-1].path == "/kimi/chat/completions"
    assert body["thinking"] == {"type": "disabled"} and body["tool_choice"] == "required"


# --------------------------------------------------------------------------- retired ids


def test_a_retired_id_warns_once_and_its_404_says_why(loopback: LoopbackServer) -> None:
    with pytest.warns(kc.RetiredModelWarning) as caught:
        model = chat(loopback, "kimi-k2.5")
    assert str(caught[0].message) == (
        "model 'kimi-k2.5' was retired by provider 'moonshot' on 2026-08-31 (it answers 404 "
        "there); use 'kimi-k2.6'"
    )
    retired_404(loopback, "kimi-k2.5")
    with pytest.raises(kc.NotFoundError) as info:
        model.invoke("hi")
    assert isinstance(info.value, ModelNotFoundError)
    assert (
        "Not found the model kimi-k2.5 or Permission denied ('kimi-k2.5' was retired on "
        "2026-08-31; use kimi-k2.6)" in str(info.value)
    )
    with pytest.raises(kc.NotFoundError, match=r"retired on 2026-08-31; use kimi-k2.6"):
        list(model.stream("hi"))


# --------------------------------------------------------------------------- unknown ids


def test_unknown_ids_pass_reasoning_effort_as_given(loopback: LoopbackServer) -> None:
    replay(loopback, "issue-19311-kimi-k3-live-2026-08-24.json")
    _models._warned.discard("kimi-k9-preview")
    model = chat(loopback, "kimi-k9-preview", reasoning_effort="medium")
    with pytest.warns(kc.UnknownModelWarning, match="kimi-k9-preview"):
        model.bind_tools([ping], tool_choice="required").invoke(PROMPT)
    body = sent_body(loopback)
    assert body["reasoning_effort"] == "medium" and body["tool_choice"] == "required"
    model.invoke("again")  # warned once
