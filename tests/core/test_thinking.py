"""The thinking plan: what each family of the 2026 line is sent for thinking,
reasoning_effort and tool_choice, what is refused before sending (with the message), and
why. Pure: ``build_chat_request`` bodies; the wire is in test_wire_recordings.py."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

import kimi_core as kc
from kimi_core import _adapter as ka
from kimi_core import _models
from kimi_core._rules import build_chat_request

MOON = kc.get_provider("moonshot")
ACE = kc.get_provider("acedata")
GATEWAY = kc.resolve_provider("openai-compatible", "https://gw.example.com/v1")
USER = [{"role": "user", "content": "hi"}]
PING = {
    "type": "function",
    "function": {"name": "ping", "description": "Return pong", "parameters": {"type": "object"}},
}
PONG = {**PING, "function": {**PING["function"], "name": "pong"}}
NAMED = {"type": "function", "function": {"name": "ping"}}


def build(model: str, profile: kc.ProviderProfile = MOON, **kw: Any) -> kc.ChatRequest:
    kw.setdefault("messages", USER)
    return build_chat_request(profile, model=model, **kw)


def refused(match: str, model: str, **kw: Any) -> kc.ConfigurationError:
    with pytest.raises(kc.ConfigurationError, match=match) as info:
        build(model, **kw)
    return info.value


# --------------------------------------------------------------------------- kimi-k3


def test_k3_never_gets_a_thinking_field() -> None:
    for thinking in (None, True, {"type": "enabled"}):
        req = build("kimi-k3", thinking=thinking)
        assert "thinking" not in req.body and req.thinking and req.plan.thinking is None
    assert "kimi-k3 always thinks (no thinking field)" in build("kimi-k3").plan.reason


def test_k3_refuses_thinking_false_naming_the_model_and_reasoning_effort() -> None:
    err = refused(
        r"^thinking=False is not accepted by model 'kimi-k3': ", "kimi-k3", thinking=False
    )
    assert str(err) == (
        "thinking=False is not accepted by model 'kimi-k3': kimi-k3 always thinks and takes "
        "no thinking field; leave thinking unset (to make it think less, set "
        "reasoning_effort='low'; it takes 'low', 'high', 'max')"
    )
    assert (err.param, err.model, err.provider) == ("thinking", "kimi-k3", "moonshot")
    refused(
        r"thinking=\{'type': 'disabled'\} .*'kimi-k3'.*reasoning_effort",
        "kimi-k3",
        thinking={"type": "disabled"},
    )
    refused(
        r"thinking.keep='all' .*'kimi-k3': kimi-k3 always keeps earlier reasoning",
        "kimi-k3",
        thinking={"type": "enabled", "keep": "all"},
    )


@pytest.mark.parametrize("effort", ["low", "high", "max"])
def test_k3_reasoning_effort_is_sent_top_level(effort: str) -> None:
    req = build("kimi-k3", reasoning_effort=effort)
    assert req.body["reasoning_effort"] == effort and "thinking" not in req.body
    assert f"reasoning_effort={effort!r} is sent top level" in req.plan.reason


def test_k3_refuses_an_effort_it_does_not_take() -> None:
    refused(
        r"reasoning_effort='medium' .*'kimi-k3': one of 'low', 'high', 'max'",
        "kimi-k3",
        reasoning_effort="medium",
    )
    refused(
        r"reasoning_effort=3 .*a string: 'low' \| 'high' \| 'max'", "kimi-k3", reasoning_effort=3
    )


def test_k3_required_tool_choice_is_sent_as_it_is_and_checked() -> None:
    req = build("kimi-k3", tools=[PING, PONG], tool_choice="required")
    assert req.body["tool_choice"] == "required" and "thinking" not in req.body
    assert [t["function"]["name"] for t in req.body["tools"]] == ["ping", "pong"]
    assert req.required_tool is True
    assert "it takes a forced tool_choice while thinking, so it was sent as it is" in (
        req.plan.reason
    )


def test_k3_named_tool_choice_goes_out_as_required_with_only_that_tool() -> None:
    """Kimi answers a named choice on kimi-k3 with 400 "tool_choice 'specified' is
    incompatible with thinking enabled" (big-AGI#1161, page-agent PR #625, oh-my-pi PR #5994)
    and takes "required" (recorded): the named tool alone is offered, as "required"."""
    req = build("kimi-k3", tools=[PING, PONG], tool_choice=NAMED)
    assert req.body["tool_choice"] == "required" and "thinking" not in req.body
    assert [t["function"]["name"] for t in req.body["tools"]] == ["ping"]
    assert req.required_tool == "ping" and req.plan.only_tool == "ping"
    assert "sent as 'required' with only the tool 'ping'" in req.plan.reason
    assert "'specified' is incompatible with thinking enabled" in req.plan.reason
    with warnings.catch_warnings():  # UnknownModelWarning, once per id per process
        warnings.simplefilter("ignore", _models.UnknownModelWarning)
        unknown_k3 = build("kimi-k3.2", tools=[PING, PONG], tool_choice=NAMED)
    assert unknown_k3.body["tool_choice"] == "required"


def test_k3_fixed_sampling_is_enforced() -> None:
    refused(
        r"temperature=0.3 .*'kimi-k3'.*fixed with thinking enabled: only 1 is allowed",
        "kimi-k3",
        temperature=0.3,
    )
    refused(r"top_p=0.5 .*'kimi-k3'.*only 0.95", "kimi-k3", top_p=0.5)
    refused(r"n=2 .*'kimi-k3'.*only 1", "kimi-k3", n=2)
    refused(r"presence_penalty=0.5 .*'kimi-k3'", "kimi-k3", presence_penalty=0.5)
    body = build("kimi-k3", temperature=1.0, top_p=0.95).body
    assert (body["temperature"], body["top_p"]) == (1.0, 0.95)
    assert not {"temperature", "top_p", "n"} & set(build("kimi-k3").body)


def test_k3_window_is_1m() -> None:
    assert build("kimi-k3", max_tokens=500_000).body["max_completion_tokens"] == 500_000
    refused(r"at most the context window, 1048576 tokens", "kimi-k3", max_tokens=2_000_000)


def test_k3_every_earlier_assistant_message_carries_its_reasoning_back() -> None:
    call = {"id": "ping_0", "type": "function", "function": {"name": "ping", "arguments": "{}"}}
    history = [
        *USER,
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "ping it"},
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "ping_0", "content": "pong"},
        {"role": "assistant", "content": "done", "reasoning_content": "It answered."},
        {"role": "user", "content": "thanks"},
    ]
    sent = build("kimi-k3", messages=history).body["messages"]
    assert [m.get("reasoning_content") for m in sent if m["role"] == "assistant"] == [
        "",
        "",
        "It answered.",
    ]
    # K2.6 (thinking, no keep): only the tool-call turn needs it.
    k26 = build("kimi-k2.6", messages=history).body["messages"]
    assert [m.get("reasoning_content") for m in k26 if m["role"] == "assistant"] == [
        None,
        "",
        "It answered.",
    ]
    # A partial prefix is not an earlier answer: it gets none.
    prefix = build(
        "kimi-k3", messages=[*USER, {"role": "assistant", "content": "{", "partial": True}]
    )
    assert "reasoning_content" not in prefix.body["messages"][-1]


def test_k3_with_web_search_keeps_thinking_and_sends_no_field() -> None:
    ws = {"type": "builtin_function", "function": {"name": "$web_search"}}
    req = build("kimi-k3", tools=[ws])
    assert "thinking" not in req.body and req.thinking


# --------------------------------------------------------------------------- kimi-k3.1-pro


def test_k31_pro_follows_k3_and_warns_instead_of_refusing() -> None:
    req = build("kimi-k3.1-pro", reasoning_effort="high", tools=[PING], tool_choice="required")
    assert req.body["reasoning_effort"] == "high" and req.body["tool_choice"] == "required"
    assert "thinking" not in req.body and req.required_tool is True
    assert kc.get_model_info("kimi-k3.1-pro").context_window == 1_048_576
    with pytest.warns(kc.UnconfirmedRuleWarning, match=r"temperature=0.3 .*'kimi-k3.1-pro'"):
        assert build("kimi-k3.1-pro", temperature=0.3).body["temperature"] == 0.3


# --------------------------------------------------------------------------- kimi-k2.7-code


@pytest.mark.parametrize("model", ["kimi-k2.7-code", "kimi-k2.7-code-highspeed"])
def test_k27_refuses_thinking_false(model: str) -> None:
    err = refused(rf"^thinking=False is not accepted by model '{model}': ", model, thinking=False)
    assert (
        "this model always thinks and cannot disable it (Kimi: 'only type=enabled is "
        "allowed for this model')" in str(err)
    )
    assert "thinking" not in build(model, thinking=True).body
    assert "thinking" not in build(model).body


@pytest.mark.parametrize("model", ["kimi-k2.7-code", "kimi-k2.7-code-highspeed"])
def test_k27_forced_tool_choice_goes_as_auto_and_is_checked(model: str) -> None:
    req = build(model, tools=[PING, PONG], tool_choice="required")
    assert req.body["tool_choice"] == "auto" and len(req.body["tools"]) == 2
    assert req.required_tool is True and "thinking" not in req.body
    assert req.plan.reason == (
        f"{model} always thinks and Kimi refuses a forced tool_choice while thinking, so it "
        "was sent as 'auto' and the answer is checked"
    )
    named = build(model, tools=[PING, PONG], tool_choice=NAMED)
    assert named.body["tool_choice"] == "auto" and named.required_tool == "ping"
    assert [t["function"]["name"] for t in named.body["tools"]] == ["ping"]
    assert "with only the tool 'ping'" in named.plan.reason


@pytest.mark.parametrize("model", ["kimi-k2.7-code", "kimi-k2.7-code-highspeed"])
def test_k27_refuses_reasoning_effort(model: str) -> None:
    err = refused(
        rf"reasoning_effort='low' is not accepted by model '{model}'", model, reasoning_effort="low"
    )
    assert str(err).endswith(
        "only the kimi-k3 family takes reasoning_effort; it always thinks; leave "
        "reasoning_effort unset"
    )


def test_k27_every_earlier_assistant_message_carries_its_reasoning_back() -> None:
    history = [*USER, {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "?"}]
    sent = build("kimi-k2.7-code", messages=history).body["messages"]
    assert sent[1] == {"role": "assistant", "content": "Hello.", "reasoning_content": ""}


# --------------------------------------------------------------------------- kimi-k2.6


def test_k26_takes_kimis_object_form_as_given() -> None:
    keep = {"type": "enabled", "keep": "all"}
    req = build("kimi-k2.6", thinking=keep)
    assert req.body["thinking"] == keep and req.thinking
    assert build("kimi-k2.6", thinking={"type": "disabled"}).body["thinking"] == {
        "type": "disabled"
    }
    assert build("kimi-k2.6", thinking={"type": "enabled", "keep": None}).body["thinking"] == {
        "type": "enabled",
        "keep": None,
    }
    # preserved thinking: every earlier assistant message carries its reasoning back
    history = [*USER, {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "?"}]
    assert (
        build("kimi-k2.6", thinking=keep, messages=history).body["messages"][1]["reasoning_content"]
        == ""
    )
    assert "reasoning_content" not in build("kimi-k2.6", messages=history).body["messages"][1]


def test_k26_object_form_is_validated_before_sending() -> None:
    refused(
        r"thinking.keep='some' .*'all' \(preserved thinking",
        "kimi-k2.6",
        thinking={"type": "enabled", "keep": "some"},
    )
    refused(
        r"thinking.keep='all' .*keep needs thinking enabled",
        "kimi-k2.6",
        thinking={"type": "disabled", "keep": "all"},
    )
    refused(r"thinking.type=None .*'enabled' or 'disabled'", "kimi-k2.6", thinking={"keep": "all"})
    refused(
        r"thinking=\{'type': 'enabled', 'budget_tokens': 1024\} .*takes 'type' and 'keep' "
        r"\(not budget_tokens\)",
        "kimi-k2.6",
        thinking={"type": "enabled", "budget_tokens": 1024},
    )
    refused(
        r"thinking.keep='all' .*'kimi-k2.5': only kimi-k2.6 \(and kimi-k2.7-code, which "
        r"always keeps\) take keep",
        "kimi-k2.5",
        profile=ACE,
        thinking={"type": "enabled", "keep": "all"},
    )
    # kimi-k2.7-code takes keep "all" (Moonshot's thinking guide: "omitting it or passing
    # the valid value 'all' is treated as 'all'"): accepted, and nothing needs sending.
    req = build("kimi-k2.7-code", thinking={"type": "enabled", "keep": "all"})
    assert "thinking" not in req.body and req.plan.replay == "all"
    refused(
        r"thinking.keep='some' .*'kimi-k2.7-code'",
        "kimi-k2.7-code",
        thinking={"type": "enabled", "keep": "some"},
    )
    refused(
        r"thinking.keep='all' .*'kimi-k3': kimi-k3 always keeps earlier reasoning",
        "kimi-k3",
        thinking={"type": "enabled", "keep": "all"},
    )


def test_k26_reasoning_effort_is_sent_with_a_warning_never_with_thinking() -> None:
    """nanobot#3939 (a live probe): kimi-k2.6 takes ``reasoning_effort`` alone and answers
    it with a ``thinking`` field by 400 "cannot specify both 'thinking' and
    'reasoning_effort'". Moonshot documents the field only for kimi-k3, so it is warned."""
    with pytest.warns(_models.UnconfirmedRuleWarning, match=r"nanobot#3939"):
        req = build("kimi-k2.6", reasoning_effort="medium")
    assert req.body["reasoning_effort"] == "medium" and "thinking" not in req.body
    refused(
        r"reasoning_effort='high' .*'kimi-k2.6': Kimi refuses it together with "
        r"thinking=\{'type': 'enabled'\} \('cannot specify both",
        "kimi-k2.6",
        reasoning_effort="high",
        thinking=True,
    )
    refused(
        r"reasoning_effort='max' .*'kimi-k2.6': only the kimi-k3 family takes "
        r"reasoning_effort; set thinking=True or False instead \(a live probe reports 'low'",
        "kimi-k2.6",
        reasoning_effort="max",
    )
    # A forced tool_choice does not switch thinking off then (both fields would be a 400).
    with pytest.warns(_models.UnconfirmedRuleWarning):
        forced = build("kimi-k2.6", tools=[PING], tool_choice="required", reasoning_effort="low")
    assert "thinking" not in forced.body and forced.body["tool_choice"] == "auto"
    assert forced.plan.reason.startswith(
        "reasoning_effort='low' was asked for kimi-k2.6 (Kimi refuses it together with a "
        "thinking field, so thinking cannot be switched off) and Kimi refuses a forced "
        "tool_choice while thinking, so it was sent as 'auto'"
    )


def test_k26_forced_tool_choice_switches_thinking_off_unless_asked() -> None:
    req = build("kimi-k2.6", tools=[PING], tool_choice="required")
    assert req.body["thinking"] == {"type": "disabled"} and req.body["tool_choice"] == "required"
    assert req.required_tool is None and not req.thinking
    assert "thinking is disabled for this call (thinking was left unset)" in req.plan.reason
    kept = build("kimi-k2.6", tools=[PING], tool_choice="required", thinking=True)
    assert kept.body["tool_choice"] == "auto" and kept.required_tool is True
    assert kept.plan.reason.startswith("thinking=True was asked for kimi-k2.6 and Kimi refuses")
    obj = build(
        "kimi-k2.6", tools=[PING], tool_choice=NAMED, thinking={"type": "enabled", "keep": "all"}
    )
    assert obj.body["thinking"] == {"type": "enabled", "keep": "all"}
    assert obj.body["tool_choice"] == "auto" and obj.required_tool == "ping"
    hot = build("kimi-k2.6", tools=[PING], tool_choice="required", temperature=1.0)
    assert hot.body["tool_choice"] == "auto"
    assert hot.plan.reason.startswith(
        "temperature=1 is the value kimi-k2.6 takes only while thinking"
    )


# --------------------------------------------------------------------------- K2 on AceData


def test_k25_on_acedata_is_served_and_keeps_its_switch() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # served there: no RetiredModelWarning, nothing else
        ka.warn_if_retired("kimi-k2.5", "acedata")
        req = build("kimi-k2.5", ACE, tools=[PING], tool_choice="required")
        assert req.body["thinking"] == {"type": "disabled"}
        assert req.body["tool_choice"] == "required"
        assert build("kimi-k2.5", ACE, thinking=True).body["thinking"] == {"type": "enabled"}
    refused(
        r"reasoning_effort='low' .*'kimi-k2.5'", "kimi-k2.5", profile=ACE, reasoning_effort="low"
    )
    always = build("kimi-k2-thinking", ACE, tools=[PING], tool_choice="required")
    assert always.body["tool_choice"] == "auto" and always.required_tool is True


# --------------------------------------------------------------------------- unknown ids


def test_unknown_ids_get_what_was_asked_as_given() -> None:
    _models._warned.discard("vendor/kimi-next")
    with pytest.warns(kc.UnknownModelWarning):
        kc.get_model_info("vendor/kimi-next")
    req = build("vendor/kimi-next", GATEWAY, reasoning_effort="medium", thinking=True)
    assert req.body["reasoning_effort"] == "medium"
    assert req.body["thinking"] == {"type": "enabled"}
    odd = {"type": "adaptive", "budget": 9}
    assert build("vendor/kimi-next", GATEWAY, thinking=odd).body["thinking"] == odd
    forced = build("vendor/kimi-next", GATEWAY, tools=[PING], tool_choice="required")
    assert forced.body["tool_choice"] == "required" and forced.required_tool is None


# --------------------------------------------------------------------------- the plan


def test_the_plan_is_stored_on_the_request_and_public() -> None:
    req = build("kimi-k2.7-code", tools=[PING], tool_choice=NAMED)
    plan = req.plan
    assert isinstance(plan, kc.ThinkingPlan)
    assert (plan.thinks, plan.tool_choice, plan.only_tool, plan.required_tool, plan.replay) == (
        True,
        "auto",
        "ping",
        "ping",
        "all",
    )
    direct = kc.plan_thinking(
        MOON, kc.get_model_info("kimi-k2.7-code"), tool_choice=NAMED, thinking=None
    )
    assert direct == plan
    assert (
        not plan.forced_sent and build("kimi-k3", tools=[PING], tool_choice=NAMED).plan.forced_sent
    )


def test_structured_output_method_reads_the_plan() -> None:
    gpt = kc.get_provider("gptproto")  # documents no response formats
    method = kc.structured_output_method
    assert method(gpt, kc.get_model_info("kimi-k3")) == "function_calling"  # sent as is
    assert method(gpt, kc.get_model_info("kimi-k2.7-code")) == "json_mode"  # would be auto
    assert method(gpt, kc.get_model_info("kimi-k2.6")) == "function_calling"  # thinking off
    assert method(gpt, kc.get_model_info("kimi-k2.6"), thinking=True) == "json_mode"
    assert method(MOON, kc.get_model_info("kimi-k3")) == "json_schema"
    with pytest.raises(kc.ConfigurationError, match=r"'kimi-k3'.*reasoning_effort"):
        method(gpt, kc.get_model_info("kimi-k3"), thinking=False)
