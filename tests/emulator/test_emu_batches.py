"""The emulator's Batch API, driven by the openai SDK as an independent client (and by
plain HTTP where the SDK checks arguments itself): statuses, validation, per-line answers by
the live rules, cancel, expiry, list pages."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kimi_emulator import KimiEmulator

openai = pytest.importorskip("openai")

MODEL = "kimi-k2.6"
TERMINAL = ("completed", "failed", "expired", "cancelled")


@pytest.fixture
def emu(moonshot: KimiEmulator) -> KimiEmulator:
    moonshot.batch_options(time_scale=0.005)
    return moonshot


_OPEN: list[Any] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def sdk(emu: KimiEmulator) -> Any:
    client = openai.OpenAI(base_url=emu.base_url, api_key=emu.api_key, max_retries=0)
    _OPEN.append(client)
    return client


def _line(custom_id: str, body: dict[str, Any], **over: Any) -> dict[str, Any]:
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": body,
        **over,
    }


def _ask(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": text}], **extra}


def _upload(client: Any, lines: list[dict[str, Any]]) -> str:
    raw = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    return str(client.files.create(file=("in.jsonl", raw), purpose="batch").id)


def _wait(client: Any, batch_id: str) -> tuple[Any, list[str]]:
    seen: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        batch = client.batches.retrieve(batch_id)
        if not seen or seen[-1] != batch.status:
            seen.append(batch.status)
        if batch.status in TERMINAL:
            return batch, seen
        time.sleep(0.01)
    raise AssertionError(f"batch {batch_id} did not end: {seen}")


def _lines(client: Any, file_id: str | None) -> list[dict[str, Any]]:
    if file_id is None:
        return []
    text = client.files.content(file_id).text
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_a_batch_passes_every_status_and_answers_each_line_by_the_live_rules(
    emu: KimiEmulator,
) -> None:
    emu.batch_options(time_scale=0.05)  # phases of 0.5 s: every status is seen
    client = sdk(emu)
    lines = [
        _line("q-weather", _ask("Is a heron a wading bird?")),
        _line("q-bad-temp", _ask("x", temperature=0.2)),  # kimi-k2.6 fixes it: 400
        _line("q-tools", _ask("Call the ledger tool.", tools=[_tool("audit_ledger_77")])),
    ]
    file_id = _upload(client, lines)
    batch = client.batches.create(
        input_file_id=file_id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"who": "emu-test"},
    )
    assert batch.status == "validating" and batch.metadata == {"who": "emu-test"}
    done, seen = _wait(client, batch.id)
    assert seen == ["validating", "in_progress", "finalizing", "completed"]
    assert done.request_counts.total == 3
    assert (done.request_counts.completed, done.request_counts.failed) == (2, 1)
    assert done.completed_at is not None and done.in_progress_at is not None
    out = {line["custom_id"]: line for line in _lines(client, done.output_file_id)}
    err = {line["custom_id"]: line for line in _lines(client, done.error_file_id)}
    assert set(out) == {"q-weather", "q-tools"} and set(err) == {"q-bad-temp"}
    answer = out["q-weather"]["response"]
    assert answer["status_code"] == 200 and answer["request_id"]
    assert answer["body"]["object"] == "chat.completion"
    assert answer["body"]["model"] == MODEL
    assert "usage" in answer["body"]
    rejected = err["q-bad-temp"]["response"]
    assert rejected["status_code"] == 400
    assert "only 1 is allowed" in rejected["body"]["error"]["message"]
    assert err["q-bad-temp"]["error"]["code"] == "invalid_request_error"


def _tool(name: str) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": "Audit one ledger page.",
            "parameters": {
                "type": "object",
                "properties": {"page": {"type": "integer"}},
                "required": ["page"],
            },
        },
    }


def test_the_bare_result_shape(emu: KimiEmulator) -> None:
    emu.batch_options(result_shape="bare")
    client = sdk(emu)
    batch = client.batches.create(
        input_file_id=_upload(client, [_line("only", _ask("hi"))]),
        endpoint="/v1/chat/completions",
        completion_window="12h",
    )
    done, _ = _wait(client, batch.id)
    (line,) = _lines(client, done.output_file_id)
    assert set(line) == {"custom_id", "body"} and line["body"]["choices"]


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        ([_line("a", _ask("x")), _line("a", _ask("y"))], "duplicate_custom_id"),
        ([_line("a", _ask("x")), _line("b", {**_ask("y"), "model": "kimi-k3"})], "mixed_models"),
        ([_line("a", _ask("x"), method="GET")], "invalid_method"),
        ([_line("a", _ask("x"), url="/v1/embeddings")], "invalid_url"),
        ([{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions"}], None),
        ([_line("a", {**_ask("x"), "model": "kimi-k2-0905-preview"})], "model_not_found"),
    ],
)
def test_an_invalid_file_fails_with_the_reason_in_errors(
    emu: KimiEmulator, lines: list[dict[str, Any]], code: str | None
) -> None:
    client = sdk(emu)
    batch = client.batches.create(
        input_file_id=_upload(client, lines),
        endpoint="/v1/chat/completions",
        completion_window="24h",
    )
    done, seen = _wait(client, batch.id)
    assert seen[-1] == "failed" and "in_progress" not in seen
    assert done.failed_at is not None and done.output_file_id is None
    codes = [e.code for e in done.errors.data]
    assert codes[0] == (code or "missing_required_parameter")
    assert done.errors.data[0].line is not None


def test_a_file_that_is_not_jsonl_fails(emu: KimiEmulator) -> None:
    client = sdk(emu)
    fid = client.files.create(file=("x.jsonl", b"{not json}\n"), purpose="batch").id
    batch = client.batches.create(
        input_file_id=fid, endpoint="/v1/chat/completions", completion_window="24h"
    )
    done, _ = _wait(client, batch.id)
    assert done.status == "failed" and done.errors.data[0].code == "invalid_json_line"


def test_create_refuses_what_the_pages_refuse(emu: KimiEmulator) -> None:
    http = httpx.Client(base_url=emu.base_url, headers={"Authorization": f"Bearer {emu.api_key}"})
    _OPEN.append(http)
    client = sdk(emu)
    good = _upload(client, [_line("a", _ask("x"))])
    extract = client.files.create(file=("a.txt", b"text"), purpose="file-extract").id
    cases = [
        ({"input_file_id": good, "completion_window": "6h"}, 400, "completion_window"),
        ({"input_file_id": good, "completion_window": "8d"}, 400, "completion_window"),
        (
            {"input_file_id": good, "completion_window": "24h", "endpoint": "/v1/embeddings"},
            400,
            "endpoint",
        ),
        ({"input_file_id": "file-none", "completion_window": "24h"}, 404, "file-none"),
        ({"input_file_id": extract, "completion_window": "24h"}, 400, "purpose"),
        (
            {
                "input_file_id": good,
                "completion_window": "24h",
                "metadata": {str(i): "v" for i in range(17)},
            },
            400,
            "16",
        ),
    ]
    for body, status, word in cases:
        response = http.post("/batches", json=body)
        assert response.status_code == status, body
        assert word in response.json()["error"]["message"]
    assert http.get("/batches/batch_missing").status_code == 404
    assert http.post("/batches/batch_missing/cancel").status_code == 404
    assert http.get("/batches", params={"limit": 0}).status_code == 400


def test_cancel_leaves_the_answered_lines_and_refuses_a_finished_batch(emu: KimiEmulator) -> None:
    emu.batch_options(line_delay=0.03)
    client = sdk(emu)
    lines = [_line(f"n{i}", _ask(f"item {i}")) for i in range(30)]
    batch = client.batches.create(
        input_file_id=_upload(client, lines),
        endpoint="/v1/chat/completions",
        completion_window="24h",
    )
    time.sleep(0.2)
    assert client.batches.cancel(batch.id).status == "cancelling"
    done, seen = _wait(client, batch.id)
    assert seen[-1] == "cancelled" and done.cancelling_at is not None
    assert set(seen) <= {"validating", "in_progress", "cancelling", "cancelled"}
    answered = _lines(client, done.output_file_id)
    assert len(answered) < 30
    assert done.request_counts.completed == len(answered)
    with pytest.raises(openai.BadRequestError, match="cannot be cancelled"):
        client.batches.cancel(batch.id)


def test_expiry_at_the_end_of_the_scaled_window(emu: KimiEmulator) -> None:
    emu.batch_options(time_scale=1e-5, line_delay=0.05)  # 12h -> 0.43 s
    client = sdk(emu)
    lines = [_line(f"n{i}", _ask(f"item {i}")) for i in range(20)]
    batch = client.batches.create(
        input_file_id=_upload(client, lines),
        endpoint="/v1/chat/completions",
        completion_window="12h",
    )
    done, seen = _wait(client, batch.id)
    assert seen[-1] == "expired" and done.expired_at is not None
    assert done.request_counts.completed < 20


def test_list_pages_newest_first(emu: KimiEmulator) -> None:
    client = sdk(emu)
    fid = _upload(client, [_line("a", _ask("x"))])
    made = [
        client.batches.create(
            input_file_id=fid, endpoint="/v1/chat/completions", completion_window="24h"
        ).id
        for _ in range(5)
    ]
    first = client.batches.list(limit=2)
    assert [b.id for b in first.data] == made[::-1][:2] and first.has_more
    every = [b.id for b in client.batches.list(limit=2)]  # the SDK follows has_more
    assert every == made[::-1]
