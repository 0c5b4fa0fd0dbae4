"""``Kimi`` on today's Kimi (the 2026 line), over real HTTP: what goes on the wire for each
family, what is refused before sending (with the message), the warning and error texts,
and no silent drops of constructor keywords.

The answers are recorded api.moonshot.ai bodies (``tests/recordings``, via
``_recordings.py``) served by the loopback server.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from _loopback import LoopbackServer
from _recordings import replay, replay_stream, retired_404, sent_body
from llama_index.core.base.llms.types import ChatMessage, ThinkingBlock
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel

import kimi_core as kc
from kimi_core import _models
from llama_index_kimi import Kimi

PROMPT = "Call the ping tool."


def ping() -> str:
    """Return pong."""
    return "pong"


PING = FunctionTool.from_defaults(ping)


def llm(server: LoopbackServer, model: str, **kwargs: Any) -> Kimi:
    return Kimi(
        model=model,
        provider=kwargs.pop("provider", "moonshot"),
        api_base=server.base_url,
        api_key="sk-test",
        max_retries=0,
        **kwargs,
    )


def user(text: str = PROMPT) -> list[ChatMessage]:
    return [ChatMessage(role="user", content=text)]


# --------------------------------------------------------------------------- kimi-k3


def test_k3_reasoning_effort_is_sent_top_level(loopback: LoopbackServer) -> None:
    replay(loopback, "issue-19311-kimi-k3-live-2026-08-24.json")
    model = llm(loopback, "kimi-k3", reasoning_effort="low")
    response = model.chat(user("17*19?"))
    assert response.message.content == "323"
    assert isinstance(response.message.blocks[0], ThinkingBlock)
    assert sent_body(loopback) == {
        "model": "kimi-k3",
        "messages": [{"role": "user", "content": "17*19?"}],
        "reasoning_effort": "low",
    }
    model.chat(user(), reasoning_effort="max")
    assert loopback.received[-1].json["reasoning_effort"] == "max"
    assert model.to_payload()["reasoning_effort"] == "low"
    assert Kimi.from_dict(model.to_dict(), api_key="k").reasoning_effort == "low"


def test_k3_tool_required_is_sent_as_is(loopback: LoopbackServer) -> None:
    replay(loopback, "moonshotai-k3-required-tool-choice.json")
    model = llm(loopback, "kimi-k3")
    response = model.chat_with_tools([PING], user_msg=PROMPT, tool_required=True)
    body = sent_body(loopback)
    assert body["tool_choice"] == "required" and "thinking" not in body
    calls = model.get_tool_calls_from_response(response)
    assert [(c.tool_name, c.tool_id) for c in calls] == [("ping", "ping_0")]


def pong() -> str:
    """Return ping."""
    return "ping"


def test_k3_named_tool_choice_goes_out_as_required(loopback: LoopbackServer) -> None:
    """kimi-k3 answers a named tool_choice with 400 "tool_choice 'specified' is incompatible
    with thinking enabled" (big-AGI#1161, page-agent PR #625; docs/kimi-platform.md §12): the
    name goes out as "required" with only that tool offered."""
    replay(loopback, "moonshotai-k3-required-tool-choice.json")
    model = llm(loopback, "kimi-k3")
    tools = [PING, FunctionTool.from_defaults(pong)]
    response = model.chat_with_tools(tools, user_msg=PROMPT, tool_choice="ping")
    body = sent_body(loopback)
    assert body["tool_choice"] == "required" and "thinking" not in body
    assert [t["function"]["name"] for t in body["tools"]] == ["ping"]
    calls = model.get_tool_calls_from_response(response)
    assert [c.tool_name for c in calls] == ["ping"]


class Ping(BaseModel):
    """Return pong"""


class ping(BaseModel):  # noqa: N801 - the tool name the recorded answer calls
    """Return pong"""


def test_k3_structured_predict_in_every_method(loopback: LoopbackServer) -> None:
    """The default is json_schema (recorded accepted on kimi-k3); json_mode sends
    json_object; function_calling sends "required" with only the schema's tool (never a
    named choice), and the recorded call reads back."""
    replay(loopback, "moonshotai-issue-19544-json-object.json")
    llm(loopback, "kimi-k3").structured_predict(Ping, PromptTemplate("Answer as JSON."))
    assert loopback.received[-1].json["response_format"]["type"] == "json_schema"
    llm(loopback, "kimi-k3", structured_output_method="json_mode").structured_predict(
        Ping, PromptTemplate("Answer as JSON.")
    )
    assert loopback.received[-1].json["response_format"] == {"type": "json_object"}
    replay(loopback, "moonshotai-k3-required-tool-choice.json")
    model = llm(loopback, "kimi-k3", structured_output_method="function_calling")
    assert isinstance(model.structured_predict(ping, PromptTemplate("Call it.")), ping)
    body = loopback.received[-1].json
    assert body["tool_choice"] == "required"
    assert [t["function"]["name"] for t in body["tools"]] == ["ping"]
    assert "thinking" not in body


def test_k3_stream_recorded(loopback: LoopbackServer) -> None:
    replay_stream(loopback, "moonshotai-usage-live.chunks.txt")
    responses = list(llm(loopback, "kimi-k3").stream_chat(user("Say OK.")))
    assert responses[-1].message.content == "OK"
    thinking = "".join(r.additional_kwargs.get("thinking_delta") or "" for r in responses)
    assert thinking.startswith("The user is asking")
    assert "thinking" not in sent_body(loopback)


def test_k3_metadata_has_the_1m_window() -> None:
    md = Kimi(model="kimi-k3", api_key="k").metadata
    assert md.context_window == 1_048_576
    assert md.is_function_calling_model


def test_k3_refusals_before_sending(loopback: LoopbackServer) -> None:
    with pytest.raises(kc.ConfigurationError) as info:
        llm(loopback, "kimi-k3", thinking=False).chat(user())
    assert str(info.value).startswith(
        "thinking=False is not accepted by model 'kimi-k3': kimi-k3 always thinks and takes "
        "no thinking field; leave thinking unset (to make it think less, set "
        "reasoning_effort='low'"
    )
    with pytest.raises(kc.ConfigurationError, match=r"temperature=0.3 .*only 1 is allowed"):
        llm(loopback, "kimi-k3", temperature=0.3).chat(user())
    with pytest.raises(kc.ConfigurationError, match=r"reasoning_effort='medium'"):
        llm(loopback, "kimi-k3").chat(user(), reasoning_effort="medium")
    assert loopback.received == []


# --------------------------------------------------------------------------- kimi-k2.7-code


@pytest.mark.parametrize("model", ["kimi-k2.7-code", "kimi-k2.7-code-highspeed"])
def test_k27_tool_required_goes_as_auto_and_is_checked(
    loopback: LoopbackServer, model: str
) -> None:
    replay(loopback, "moonshotai-k2.7-tool-choice-omitted.json")
    response = llm(loopback, model).chat_with_tools([PING], user_msg=PROMPT, tool_required=True)
    body = sent_body(loopback)
    assert body["tool_choice"] == "auto" and "thinking" not in body
    assert response.message.additional_kwargs["tool_calls"][0]["id"] == "ping_0"


@pytest.mark.parametrize("model", ["kimi-k2.7-code", "kimi-k2.7-code-highspeed"])
def test_k27_refuses_thinking_false_and_reasoning_effort(
    loopback: LoopbackServer, model: str
) -> None:
    with pytest.raises(kc.ConfigurationError, match=rf"thinking=False .*{model!r}.*only type="):
        llm(loopback, model, thinking=False).chat(user())
    with pytest.raises(kc.ConfigurationError, match=r"only the kimi-k3 family"):
        llm(loopback, model, reasoning_effort="high").chat(user())
    assert loopback.received == []


def test_k27_replays_every_earlier_reasoning(loopback: LoopbackServer) -> None:
    replay(loopback, "moonshotai-k2.7-tool-choice-omitted.json")
    history = [
        *user("hi"),
        ChatMessage(role="assistant", content="Hi."),
        *user(),
    ]
    llm(loopback, "kimi-k2.7-code").chat(history)
    assert sent_body(loopback)["messages"][1] == {
        "role": "assistant",
        "content": "Hi.",
        "reasoning_content": "",
    }


# --------------------------------------------------------------------------- kimi-k2.6


def test_k26_thinking_object_form(loopback: LoopbackServer) -> None:
    replay(loopback, "moonshotai-k2.6-tool-choice-omitted.json")
    keep = {"type": "enabled", "keep": "all"}
    model = llm(loopback, "kimi-k2.6", thinking=keep)
    with pytest.warns(kc.ReasoningCutWarning):  # the recorded answer is reasoning only
        model.chat(user())
    assert sent_body(loopback)["thinking"] == keep
    for bad, match in (
        ({"type": "enabled", "keep": "last"}, r"thinking.keep='last'"),
        ({"type": "disabled", "keep": "all"}, r"keep needs thinking enabled"),
    ):
        with pytest.raises(kc.ConfigurationError, match=match):
            model.chat(user(), thinking=bad)
    with pytest.raises(kc.ConfigurationError, match=r"only kimi-k2.6 \(and kimi-k2.7-code"):
        Kimi(model="kimi-k2.5", provider="acedata", api_key="k", thinking=keep).chat(user())
    assert len(loopback.received) == 1


def test_k26_forced_tool_with_thinking_on_says_why(loopback: LoopbackServer) -> None:
    replay(loopback, "moonshotai-k2.6-tool-choice-omitted.json")  # thinks, no call
    model = llm(loopback, "kimi-k2.6", thinking=True)
    with pytest.raises(kc.ToolCallMissingError) as info:
        model.chat_with_tools([PING], user_msg=PROMPT, tool_required=True)
    assert "always thinks" not in str(info.value)
    assert "thinking=True was asked for kimi-k2.6" in str(info.value)


def test_k26_reasoning_effort_is_warned_and_never_sent_with_thinking(
    loopback: LoopbackServer,
) -> None:
    """nanobot#3939 (a live probe): reasoning_effort alone is taken by kimi-k2.6, with a
    thinking field it is a 400 ("cannot specify both"): refused before sending then."""
    with pytest.raises(kc.ConfigurationError, match=r"'kimi-k2.6': Kimi refuses it together"):
        llm(loopback, "kimi-k2.6", reasoning_effort="low", thinking=True).chat(user())
    with pytest.raises(kc.ConfigurationError, match=r"'kimi-k2.6': only the kimi-k3 family"):
        llm(loopback, "kimi-k2.6", reasoning_effort="max").chat(user())
    assert loopback.received == []


def weather(location: str) -> str:
    """Get the weather in a location."""
    return "sunny"


# The K2.x streams recorded on api.moonshot.ai (kimi-k2.5, 2026-08-25, days before it was
# retired): no K2.6 stream is published; these are the nearest, same family and server.


def test_k2x_streamed_tool_call_recorded(loopback: LoopbackServer) -> None:
    replay_stream(loopback, "moonshotai-stream-explicit-tool-call-index.chunks.txt")
    model = llm(loopback, "kimi-k2.6")
    tool = FunctionTool.from_defaults(weather)
    responses = list(
        model.stream_chat_with_tools([tool], user_msg="What is the weather in San Francisco?")
    )
    calls = model.get_tool_calls_from_response(responses[-1])
    assert [(c.tool_id, c.tool_name, c.tool_kwargs) for c in calls] == [
        ("weather_0", "weather", {"location": "San Francisco"})
    ]
    # the empty reasoning marker is no reasoning: no ThinkingBlock
    assert not any(isinstance(b, ThinkingBlock) for b in responses[-1].message.blocks)
    # usage came in the finish choice and in a trailing chunk: counted once
    assert sum("total_tokens" in r.additional_kwargs for r in responses) == 1
    extra = responses[-1].additional_kwargs
    assert (extra["total_tokens"], extra["reasoning_tokens"], extra["cached_tokens"]) == (80, 1, 0)


def test_k2x_stream_without_a_usage_trailer_recorded(loopback: LoopbackServer) -> None:
    replay_stream(loopback, "moonshotai-stream-choice-usage.chunks.txt")
    responses = list(llm(loopback, "kimi-k2.6").stream_chat(user("Reply with exactly OK.")))
    assert responses[-1].message.content == "OK."
    assert responses[-1].additional_kwargs["total_tokens"] == 17  # from the finish choice


def test_k3_answer_cut_by_the_limit_recorded(loopback: LoopbackServer) -> None:
    replay(loopback, "moonshotai-max-completion-tokens.json")
    with pytest.warns(kc.ReasoningCutWarning, match=r"max_completion_tokens=8"):
        response = llm(loopback, "kimi-k3", max_tokens=8).chat(user("Reply with exactly OK."))
    assert response.message.content == ""
    thinking = response.message.blocks[0]
    assert isinstance(thinking, ThinkingBlock)
    assert (thinking.content, thinking.num_tokens) == ("The user is asking me", 5)
    assert response.raw["choices"][0]["finish_reason"] == "length"
    assert sent_body(loopback)["max_completion_tokens"] == 8


# --------------------------------------------------------------------------- K2 on AceData


def test_k25_on_acedata_warns_nothing(loopback: LoopbackServer) -> None:
    replay(loopback, "moonshotai-k2.6-tool-choice-omitted.json")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = Kimi(model="kimi-k2.5", provider="acedata", api_base=loopback.url, api_key="k")
        with pytest.warns(kc.ReasoningCutWarning):  # the recorded answer: reasoning only
            model.chat(user())
    assert loopback.received[-1].path == "/kimi/chat/completions"


# --------------------------------------------------------------------------- retired ids


def test_a_retired_id_warns_once_and_its_404_says_why(loopback: LoopbackServer) -> None:
    with pytest.warns(kc.RetiredModelWarning, match=r"'kimi-k2-thinking' .*2026-05-25"):
        model = llm(loopback, "kimi-k2-thinking")
    retired_404(loopback, "kimi-k2-thinking")
    with pytest.raises(kc.NotFoundError) as info:
        model.chat(user())
    assert info.value.message.endswith(
        "('kimi-k2-thinking' was retired on 2026-05-25; use kimi-k2.6)"
    )


# --------------------------------------------------------------------------- no silent drops


def test_unknown_constructor_keywords_are_refused() -> None:
    with pytest.raises(kc.ConfigurationError) as info:
        Kimi(model="kimi-k2.6", api_key="k", temprature=0.2)
    assert str(info.value) == (
        "temprature=0.2 is not a parameter of Kimi (did you mean 'temperature'?): for a raw "
        "API field use additional_kwargs={'temprature': ...} (or extra_body={...} on a call)"
    )
    assert info.value.param == "temprature"
    with pytest.raises(kc.ConfigurationError, match=r"did you mean 'reasoning_effort'\?"):
        Kimi(model="kimi-k3", api_key="k", reasoning_efort="low")
    with pytest.raises(kc.ConfigurationError, match=r"did you mean 'http_client'\?"):
        Kimi(model="kimi-k3", api_key="k", http_clent=None)
    with pytest.raises(
        kc.ConfigurationError,
        match=r"^vendor_flag=1 is not a parameter of Kimi: "
        r"for a raw API field use additional_kwargs",
    ):
        Kimi(model="kimi-k3", api_key="k", vendor_flag=1)
    # every field, and LlamaIndex's own, still go through
    Kimi(model="kimi-k3", api_key="k", system_prompt="Be brief.", context_window=1000)


def test_a_misspelled_call_keyword_names_the_closest_parameter(loopback: LoopbackServer) -> None:
    with pytest.raises(kc.ConfigurationError, match=r"did you mean 'reasoning_effort'\?"):
        llm(loopback, "kimi-k3").chat(user(), reasoning_efort="low")
    assert loopback.received == []


# --------------------------------------------------------------------------- unknown ids


def test_unknown_ids_pass_reasoning_effort_as_given(loopback: LoopbackServer) -> None:
    replay(loopback, "issue-19311-kimi-k3-live-2026-08-24.json")
    _models._warned.discard("kimi-k9-li")
    model = llm(loopback, "kimi-k9-li", reasoning_effort="medium")
    with pytest.warns(kc.UnknownModelWarning, match="kimi-k9-li"):
        model.chat(user())
    assert sent_body(loopback)["reasoning_effort"] == "medium"
