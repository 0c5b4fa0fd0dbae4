"""The rule matrix of docs/kimi-platform.md §12, walked cell by cell.

The page is the reference; the client (``kimi_core`` through both adapters) and the emulator
(``kimi_emulator``) each implement it on their own. For every request form and every model
family:

- the emulator answers the raw form as the cell says (200, or the 400 and its exact text);
- each adapter either refuses it before sending (``ConfigurationError``, nothing on the
  wire) or sends a body, captured over loopback, that is the form as given (``send``,
  ``warn``), without the field (``drop``) or another form (``fix``) as the cell says; and the
  emulator accepts that body: nothing the matrix marks as a 400 goes out.

A form or a family added to the page without an answer from both sides fails here, and so
does a cell whose evidence names no source.
"""

from __future__ import annotations

import copy
import json
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from _loopback import Conn, LoopbackServer, Received, send_json
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from llama_index.core.base.llms.types import ChatMessage, MessageRole, TextBlock

import kimi_core as kc
from kimi_emulator import KimiEmulator
from kimi_emulator._catalogue import rules_for
from langchain_kimi import ChatKimi
from llama_index_kimi import Kimi
from llama_index_kimi.utils import message_from_wire

DOC = (Path(__file__).resolve().parents[2] / "docs" / "kimi-platform.md").read_text()
KIMI_CODES = re.compile(r"^(ok|\?|\?400:[\w-]+|400(?::[\w-]+)?)$")
CLIENT_CODES = ("send", "drop", "fix", "refuse", "warn")
USER = {"role": "user", "content": "Call the ping tool."}


def _tool(name: str) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": "Return pong",
            "parameters": {"type": "object", "properties": {}},
        },
    }


PLACEHOLDERS: dict[str, dict[str, Any]] = {
    "@ping": _tool("ping"),
    "@pong": _tool("pong"),
    "@call": {"id": "ping_0", "type": "function", "function": {"name": "ping", "arguments": "{}"}},
}


# --------------------------------------------------------------------------- the page


def _rows(name: str) -> list[list[str]]:
    """The rows of the Markdown table between ``<!-- rule-matrix:NAME -->`` markers
    (the header first, the separator left out), cells stripped."""
    found = re.search(
        rf"<!-- rule-matrix:{name} -->\n(.*?)<!-- /rule-matrix:{name} -->", DOC, flags=re.S
    )
    assert found, f"docs/kimi-platform.md has no rule-matrix:{name} table"
    lines = [line for line in found.group(1).splitlines() if line.startswith("|")]
    rows = [[c.strip() for c in line.strip()[1:-1].split(" | ")] for line in lines]
    return [rows[0], *rows[2:]]


def _unquote(cell: str) -> str:
    return cell[1:-1] if cell.startswith("`") and cell.endswith("`") else cell


@dataclass(frozen=True)
class Cell:
    form: str
    family: str
    model: str
    kimi: str
    client: str
    refs: tuple[str, ...]

    @property
    def refused_by_kimi(self) -> bool:
        """Kimi answers 400 (or is reported to, for an unconfirmed cell)."""
        return self.kimi.startswith(("400", "?400"))

    @property
    def error_key(self) -> str | None:
        return self.kimi.split(":", 1)[1] if ":" in self.kimi else None

    def __str__(self) -> str:
        return f"{self.form}/{self.family}"


def _families() -> dict[str, str]:
    out = {}
    for family, ids, _served in _rows("families")[1:]:
        first = re.findall(r"`([^`]+)`", ids)
        assert first, f"family {family} names no model id"
        out[family] = first[0]
    return out


FAMILIES = _families()
ERRORS = {key: _unquote(text) for key, text, _source in _rows("errors")[1:]}
FORMS = {_unquote(form): json.loads(_unquote(req)) for form, req in _rows("forms")[1:]}
SOURCES = {name for name, _where, _what in _rows("sources")[1:]}


def _cells() -> list[Cell]:
    header, *rows = _rows("cells")
    assert header[1:] == list(FAMILIES), "the matrix's columns are the families, in order"
    cells = []
    for row in rows:
        form = _unquote(row[0])
        assert len(row) == len(header), f"row {form} has {len(row)} cells"
        for family, text in zip(header[1:], row[1:]):
            kimi, client, refs = (part.strip() for part in text.split(" · "))
            cells.append(
                Cell(form, family, FAMILIES[family], kimi, client, tuple(refs.split(", ")))
            )
    return cells


CELLS = _cells()


def _family_ids() -> dict[str, list[str]]:
    return {f: re.findall(r"`([^`]+)`", ids) for f, ids, _served in _rows("families")[1:]}


def test_the_ids_of_a_family_follow_its_rules_on_both_sides() -> None:
    """The matrix walks a family's first id; the others share its rules, in the client's
    catalogue and in the emulator's table alike."""
    fields = (
        "thinking",
        "fixed_temperature",
        "fixed_top_p",
        "fixed_n",
        "fixed_penalties",
        "forced_choice_while_thinking",
        "named_choice_while_thinking",
        "thinking_field",
        "efforts",
        "keep",
        "json_schema",
    )
    for family, ids in _family_ids().items():
        first = kc.get_model_info(ids[0])
        emu_first = rules_for(ids[0])
        for model in ids[1:]:
            info = kc.get_model_info(model)
            assert (info.family, info.thinking, info.fixed_temperature) == (
                first.family,
                first.thinking,
                first.fixed_temperature,
            ), model
            assert info.forced_tool_choice_while_thinking == first.forced_tool_choice_while_thinking
            assert info.named_tool_choice_while_thinking == first.named_tool_choice_while_thinking
            emu = rules_for(model)
            for name in fields:
                assert getattr(emu, name) == getattr(emu_first, name), (family, model, name)


def test_the_matrix_is_complete_and_every_cell_reads_right() -> None:
    assert {c.form for c in CELLS} == set(FORMS), "every form has a row, every row a form"
    assert len(CELLS) == len(FORMS) * len(FAMILIES)
    for cell in CELLS:
        assert KIMI_CODES.match(cell.kimi), f"{cell}: {cell.kimi!r}"
        assert cell.client in CLIENT_CODES, f"{cell}: {cell.client!r}"
        key = cell.error_key
        assert key is None or key in ERRORS, f"{cell}: no error text {key!r}"
        for ref in cell.refs:
            assert ref in SOURCES or ref == "none", f"{cell}: unknown source {ref!r}"
        if cell.refs == ("none",):
            assert cell.kimi.startswith("?"), f"{cell}: no evidence, so unconfirmed"
        # Nothing Kimi refuses is sent as given; nothing it accepts is refused.
        if cell.refused_by_kimi:
            assert cell.client not in ("send", "warn"), f"{cell} sends a 400"
        if cell.kimi == "ok":
            assert cell.client != "refuse", f"{cell} refuses what Kimi accepts"
    for name, text in ERRORS.items():
        assert text and "`" not in text, name


# --------------------------------------------------------------------------- requests


def _expand(value: Any) -> Any:
    if isinstance(value, str) and value in PLACEHOLDERS:
        return copy.deepcopy(PLACEHOLDERS[value])
    if isinstance(value, list):
        return [_expand(v) for v in value]
    if isinstance(value, dict):
        return {k: _expand(v) for k, v in value.items()}
    return value


def raw_request(cell: Cell) -> dict[str, Any]:
    """The cell's form as a chat body for the family's model."""
    form = _expand(FORMS[cell.form])
    return {"model": cell.model, "messages": [dict(USER)], **form}


def _ids(cells: list[Cell]) -> list[str]:
    return [str(c) for c in cells]


# --------------------------------------------------------------------------- emulator


@pytest.fixture(scope="module")
def emulator() -> Iterator[KimiEmulator]:
    """Moonshot's dialect, serving every id (the K2 line is served by gateways now, with
    Moonshot's rules)."""
    with KimiEmulator(dialect="moonshot", accept_any_model=True) as emu:
        yield emu


def post(emu: KimiEmulator, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        emu.chat_url, json=body, headers={"Authorization": f"Bearer {emu.api_key}"}, timeout=30
    )


@pytest.mark.parametrize("cell", CELLS, ids=_ids(CELLS))
def test_the_emulator_answers_each_cell(emulator: KimiEmulator, cell: Cell) -> None:
    resp = post(emulator, raw_request(cell))
    if cell.refused_by_kimi:
        assert resp.status_code == 400, f"{cell}: {resp.status_code} {resp.text[:300]}"
        message = resp.json()["error"]["message"]
        key = cell.error_key
        if key is not None:
            assert message == ERRORS[key], cell
    else:
        assert resp.status_code == 200, f"{cell}: {resp.text[:300]}"


# --------------------------------------------------------------------------- adapters


def _answer(request: Received, conn: Conn) -> None:
    """A plain answer: a call to a function tool the request offers, else a JSON text."""
    wire = request.json
    names = [
        (t.get("function") or {}).get("name")
        for t in wire.get("tools") or ()
        if t.get("type") == "function"
    ]
    message: dict[str, Any] = {"role": "assistant", "content": '{"a": "x"}'}
    finish = "stop"
    if names:
        choice = wire.get("tool_choice")
        name = choice["function"]["name"] if isinstance(choice, dict) else names[0]
        message = {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": f"{name}_0",
                    "type": "function",
                    "function": {"name": name, "arguments": "{}"},
                }
            ],
        }
        finish = "tool_calls"
    body = {
        "id": "chatcmpl-matrix",
        "object": "chat.completion",
        "created": 1,
        "model": wire.get("model"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
    }
    send_json(body)(request, conn)


def _lc_messages(messages: list[dict[str, Any]]) -> list[BaseMessage]:
    out: list[BaseMessage] = []
    for m in messages:
        content = m.get("content")
        if m["role"] == "user":
            out.append(HumanMessage(content=content))
        elif m["role"] == "tool":
            out.append(ToolMessage(content=content, tool_call_id=m["tool_call_id"]))
        else:
            extra: dict[str, Any] = {}
            if isinstance(m.get("reasoning_content"), str):
                extra["reasoning_content"] = m["reasoning_content"]
            if m.get("partial"):
                extra["partial"] = True
            calls = [
                {
                    "name": c["function"]["name"],
                    "args": json.loads(c["function"]["arguments"]),
                    "id": c["id"],
                    "type": "tool_call",
                }
                for c in m.get("tool_calls") or ()
            ]
            out.append(
                AIMessage(
                    content=content if content is not None else "",
                    additional_kwargs=extra,
                    tool_calls=calls,
                )
            )
    return out


def _li_messages(messages: list[dict[str, Any]]) -> list[ChatMessage]:
    out: list[ChatMessage] = []
    for m in messages:
        content = m.get("content")
        if m["role"] == "assistant":
            msg = message_from_wire(m)
            if m.get("partial"):
                msg.additional_kwargs["partial"] = True
            out.append(msg)
            continue
        blocks = (
            [TextBlock(text=str(p.get("text") or "")) for p in content]
            if isinstance(content, list)
            else [TextBlock(text=content or "")]
        )
        extra = {"tool_call_id": m["tool_call_id"]} if m["role"] == "tool" else {}
        out.append(ChatMessage(role=MessageRole(m["role"]), blocks=blocks, additional_kwargs=extra))
    return out


def _call_langchain(server: LoopbackServer, model: str, request: dict[str, Any]) -> None:
    params = {k: v for k, v in request.items() if k not in ("model", "messages")}
    chat = ChatKimi(
        model=model, provider="moonshot", base_url=server.base_url, api_key="sk-test", max_retries=0
    )
    chat.invoke(_lc_messages(request["messages"]), **params)


def _call_llama_index(server: LoopbackServer, model: str, request: dict[str, Any]) -> None:
    params = {k: v for k, v in request.items() if k not in ("model", "messages")}
    llm = Kimi(
        model=model, provider="moonshot", api_base=server.base_url, api_key="sk-test", max_retries=0
    )
    llm.chat(_li_messages(request["messages"]), **params)


ADAPTERS: dict[str, Callable[[LoopbackServer, str, dict[str, Any]], None]] = {
    "langchain": _call_langchain,
    "llama_index": _call_llama_index,
}


def _same(key: str, sent: Any, given: Any) -> bool:
    """Whether the wire carries a form's field as given (schemas are normalised on the
    way, so tools compare by name and root type, formats by type and strictness)."""
    if key == "tools":

        def shape(tools: Any) -> list[Any]:
            return [
                (
                    (t.get("function") or {}).get("name"),
                    ((t.get("function") or {}).get("parameters") or {}).get("type"),
                )
                for t in tools
            ]

        return shape(sent) == shape(given)
    if key == "response_format":

        def kind(fmt: Any) -> Any:
            return (fmt.get("type"), (fmt.get("json_schema") or {}).get("strict"))

        return kind(sent) == kind(given)
    if key == "messages":

        def contents(msgs: Any) -> list[Any]:
            return [(m["role"], m.get("content", "<missing>"), m.get("partial")) for m in msgs]

        return contents(sent) == contents(given)
    return bool(sent == given)


def _differs(wire: dict[str, Any], given: dict[str, Any]) -> list[str]:
    """The fields of the given form that did not go out as given (or a thinking field the
    plan added)."""
    keys = [k for k in given if k != "model" and (k not in wire or not _same(k, wire[k], given[k]))]
    if "thinking" in wire and "thinking" not in given:
        keys.append("thinking")
    return keys


ADAPTER_CELLS = [(name, cell) for cell in CELLS for name in ADAPTERS]


@pytest.mark.parametrize(
    ("adapter", "cell"), ADAPTER_CELLS, ids=[f"{a}-{c}" for a, c in ADAPTER_CELLS]
)
def test_each_adapter_follows_each_cell(
    loopback: LoopbackServer, emulator: KimiEmulator, adapter: str, cell: Cell
) -> None:
    loopback.handler = _answer
    request = raw_request(cell)
    call = ADAPTERS[adapter]
    with warnings.catch_warnings():
        # The K2 line is retired on Moonshot (its gateways keep it): beside the point here.
        warnings.simplefilter("ignore", kc.RetiredModelWarning)
        if cell.client == "refuse":
            with pytest.raises(kc.ConfigurationError):
                call(loopback, cell.model, request)
            assert loopback.received == [], f"{cell}: refused, yet something was sent"
            return
        if cell.client == "warn":
            with pytest.warns(kc.UnconfirmedRuleWarning):
                call(loopback, cell.model, request)
        else:
            call(loopback, cell.model, request)
    assert len(loopback.received) == 1, cell
    wire = loopback.received[0].json
    changed = _differs(wire, request)
    if cell.client in ("send", "warn"):
        assert changed == [], f"{cell}: sent differently: {changed}"
    elif cell.client == "drop":
        assert changed and all(k not in wire for k in changed), f"{cell}: {changed}"
    else:
        assert changed, f"{cell}: 'fix', yet the form went out as given"
    # What went out is what Kimi takes: the emulator accepts it.
    resp = post(emulator, wire)
    assert resp.status_code == 200, f"{cell}: the wire body is refused: {resp.text[:300]}"
