"""An answer cut by the output budget while the model was still reasoning, as recorded
(api.moonshot.ai, kimi-k3, ``max_completion_tokens: 8``: reasoning only, finish
``length``), replayed over loopback through kimi_core and both adapters: a plain call
warns, a call that needs an answer (structured output, a forced tool call) raises
``ReasoningCutError`` naming the budget and what to change, with what arrived kept."""

from __future__ import annotations

import json
import re
import warnings
from typing import Any

import pytest
from _loopback import LoopbackServer, http_response
from _recordings import recorded_json, replay, replay_stream
from llama_index.core.prompts import PromptTemplate
from pydantic import BaseModel

import kimi_core as kc
from langchain_kimi import ChatKimi
from llama_index_kimi import Kimi

CUT = "moonshotai-max-completion-tokens.json"
CUT_STREAM = "moonshotai-max-completion-tokens.chunks.txt"
USER = [{"role": "user", "content": "Name a colour."}]


class Colour(BaseModel):
    name: str


def client(server: LoopbackServer) -> kc.KimiClient:
    return kc.KimiClient(provider="moonshot", base_url=server.base_url, api_key="k", max_retries=0)


def test_a_plain_call_warns_and_says_what_to_change(loopback: LoopbackServer) -> None:
    replay(loopback, CUT)
    with pytest.warns(kc.ReasoningCutWarning) as caught:
        out = client(loopback).chat(model="kimi-k3", messages=USER, max_tokens=8)
    said = str(caught[0].message)
    assert out.message["content"] == ""  # returned as it came
    assert "finish_reason='length' with no content" in said
    assert "the request set max_completion_tokens=8" in said
    assert "raise max_tokens" in said
    assert "lower reasoning_effort (now the model's default; 'low' thinks least)" in said
    assert "thinking cannot be switched off on 'kimi-k3'" in said


def test_without_a_budget_the_providers_default_is_named(loopback: LoopbackServer) -> None:
    replay(loopback, CUT)
    with pytest.warns(kc.ReasoningCutWarning, match="no output limit, so moonshot's default"):
        client(loopback).chat(model="kimi-k3", messages=USER, reasoning_effort="high")


def test_a_json_schema_call_raises_with_the_partial_answer(loopback: LoopbackServer) -> None:
    replay(loopback, CUT)
    fmt = {"type": "json_schema", "json_schema": {"name": "c", "schema": {"type": "object"}}}
    with pytest.raises(kc.ReasoningCutError) as info:
        client(loopback).chat(model="kimi-k3", messages=USER, max_tokens=8, response_format=fmt)
    err = info.value
    assert "structured output (response_format json_schema)" in str(err)
    assert err.partial["id"] == recorded_json(CUT)["id"]
    assert err.provider == "moonshot"


def test_a_stream_warns_at_its_end(loopback: LoopbackServer) -> None:
    replay_stream(loopback, CUT_STREAM)
    with pytest.warns(kc.ReasoningCutWarning, match="max_completion_tokens=8"):
        events = list(client(loopback).stream(model="kimi-k3", messages=USER, max_tokens=8))
    assert events


def test_langchain_structured_output_names_the_budget_not_the_json(
    loopback: LoopbackServer,
) -> None:
    replay(loopback, CUT)
    model = ChatKimi(
        model="kimi-k3",
        provider="moonshot",
        base_url=loopback.base_url,
        api_key="k",
        max_retries=0,
        max_tokens=8,
    )
    with pytest.raises(kc.ReasoningCutError, match=r"max_completion_tokens=8"):
        model.with_structured_output(Colour).invoke("Name a colour.")


def test_llama_index_structured_predict_names_the_budget(loopback: LoopbackServer) -> None:
    replay(loopback, CUT)
    llm = Kimi(
        model="kimi-k3",
        provider="moonshot",
        api_base=loopback.base_url,
        api_key="k",
        max_retries=0,
        max_tokens=8,
    )
    with pytest.raises(kc.ReasoningCutError, match=r"reasoning_effort"):
        llm.structured_predict(Colour, PromptTemplate("Name a colour."))


def test_an_answer_with_content_is_not_cut(loopback: LoopbackServer) -> None:
    body: Any = recorded_json(CUT)
    body["choices"][0]["message"]["content"] = "red"
    loopback.reply(http_response(200, json.dumps(body).encode()))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = client(loopback).chat(model="kimi-k3", messages=USER, max_tokens=8)
    assert out.message["content"] == "red"


def test_the_docs_state_each_providers_budget_when_none_is_sent() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "troubleshooting.md").read_text()
    table = doc.split("## Output budget when none is sent", 1)[1]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    named = {name for row in rows for name in re.findall(r"`([a-z-]+)`", row.split("|")[1])}
    assert named == set(kc.PROVIDERS)
    moonshot = next(row for row in rows if row.startswith("| `moonshot`"))
    assert "such as 1024" in moonshot and "[unconfirmed]" in moonshot
