"""The Batch API in kimi_core, over real HTTP against the emulator: jobs, statuses,
results by custom_id, typed per-line errors, and the refusals before anything is sent."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest

import kimi_core as kc
from kimi_core import _batch, _batch_job
from kimi_emulator import KimiEmulator

MODEL = "kimi-k2.6"
#: Emulated phases of 10 s last 50 ms.
SCALE = 0.005


@pytest.fixture
def emu(kimi_emulator: KimiEmulator) -> KimiEmulator:
    kimi_emulator.batch_options(time_scale=SCALE)
    return kimi_emulator


@pytest.fixture
def client(emu: KimiEmulator) -> kc.KimiClient:
    return kc.KimiClient(provider=emu.provider, base_url=emu.base_url, api_key=emu.api_key)


@pytest.fixture
def aclient(emu: KimiEmulator) -> kc.AsyncKimiClient:
    return kc.AsyncKimiClient(provider=emu.provider, base_url=emu.base_url, api_key=emu.api_key)


def _ask(client: kc.KimiClient, text: str, **params: Any) -> kc.ChatRequest:
    return client.prepare(model=MODEL, messages=[{"role": "user", "content": text}], **params)


def _bad_image(client: kc.KimiClient) -> kc.ChatRequest:
    """A request kimi_core passes and Kimi rejects: an image file id that does not exist."""
    content = [
        {"type": "text", "text": "what is in the picture?"},
        {"type": "image_url", "image_url": {"url": "ms://no-such-file-0x7"}},
    ]
    return client.prepare(model=MODEL, messages=[{"role": "user", "content": content}])


def _job(client: kc.KimiClient, texts: list[str]) -> kc.BatchJob:
    job = client.batches.job()
    for text in texts:
        job.add(_ask(client, text))
    return job


def _content(result: kc.BatchResult) -> str:
    body = result.unwrap()
    return str(body["choices"][0]["message"]["content"])


# --------------------------------------------------------------------------- the flow


def test_a_job_runs_through_every_status_and_comes_back_in_order(
    client: kc.KimiClient, emu: KimiEmulator
) -> None:
    emu.batch_options(time_scale=0.05)  # phases of 0.5 s: every status is seen
    texts = [f"label this text, number {i}: the river floods" for i in range(12)]
    job = _job(client, texts)
    batch = client.batches.submit(job, completion_window="12h", metadata={"run": "t1"})
    assert batch.status == "validating"
    assert batch.metadata["run"] == "t1"
    assert batch.metadata["kimi_inputs"] == "12"
    seen: list[str] = []
    done = client.batches.wait(
        batch.id, poll_interval=0.01, on_update=lambda b: seen.append(b.status)
    )
    assert done.status == "completed"
    assert done.request_counts == kc.BatchRequestCounts(total=12, completed=12, failed=0)
    assert done.output_file_id and done.error_file_id is None
    assert list(dict.fromkeys(seen)) == ["validating", "in_progress", "finalizing", "completed"]
    results = client.batches.results(done, requests=job.requests)
    assert [r.custom_id for r in results] == job.custom_ids
    for text, result in zip(texts, results, strict=True):
        assert text in _content(result)
        assert result.request_id
    # What went up: one JSONL file of purpose batch, lines shaped as invoke sends them.
    upload = next(r for r in emu.requests if r.path == "/v1/files" and r.method == "POST")
    assert b'name="purpose"\r\n\r\nbatch' in upload.body
    create = next(r for r in emu.requests if r.path == "/v1/batches" and r.method == "POST")
    assert create.json["endpoint"] == "/v1/chat/completions"
    assert create.json["completion_window"] == "12h"


def test_lines_carry_the_body_invoke_sends_less_the_fixed_sampling_values(
    client: kc.KimiClient,
) -> None:
    request = _ask(client, "hi", temperature=1.0, top_p=0.95, n=1, max_tokens=50)
    job = client.batches.job(job_id="j")
    job.add(request, custom_id="only")
    line = json.loads(job.content())
    assert line["custom_id"] == "only"
    assert (line["method"], line["url"]) == ("POST", "/v1/chat/completions")
    expected = {k: v for k, v in request.body.items() if k not in ("temperature", "top_p", "n")}
    assert line["body"] == expected
    assert 50 in (line["body"].get("max_tokens"), line["body"].get("max_completion_tokens"))


def test_a_rejected_line_is_a_typed_error_and_the_others_are_answered(
    client: kc.KimiClient,
) -> None:
    job = client.batches.job()
    job.add(_ask(client, "first"))
    job.add(_bad_image(client))
    job.add(_ask(client, "third"))
    batch = client.batches.submit(job)
    done = client.batches.wait(batch.id, poll_interval=0.01)
    assert done.request_counts.failed == 1 and done.error_file_id
    first, bad, third = client.batches.results(done)
    assert "first" in _content(first) and "third" in _content(third)
    assert isinstance(bad.error, kc.BadRequestError)
    assert bad.error.status_code == 400
    assert bad.error.code == "invalid_request_error"
    assert "no-such-file-0x7" in bad.error.message and "error file" in bad.error.message
    assert bad.error.request_id
    with pytest.raises(kc.BadRequestError):
        bad.unwrap()


@pytest.mark.parametrize("shape", ["openai", "bare"])
def test_both_result_shapes_are_read(client: kc.KimiClient, emu: KimiEmulator, shape: str) -> None:
    emu.batch_options(result_shape=shape)
    job = client.batches.job()
    job.add(_ask(client, "alpha"))
    job.add(_bad_image(client))
    done = client.batches.wait(client.batches.submit(job).id, poll_interval=0.01)
    ok, bad = client.batches.results(done)
    assert "alpha" in _content(ok)
    assert isinstance(bad.error, kc.BadRequestError)


def test_a_new_client_reads_the_results_by_the_id_alone(
    client: kc.KimiClient, emu: KimiEmulator
) -> None:
    job = _job(client, ["one", "two", "three"])
    batch_id = client.batches.submit(job).id
    other = kc.KimiClient(provider=emu.provider, base_url=emu.base_url, api_key=emu.api_key)
    other.batches.wait(batch_id, poll_interval=0.01)
    results = other.batches.results(batch_id)
    assert [r.custom_id for r in results] == job.custom_ids
    assert [t in _content(r) for t, r in zip(["one", "two", "three"], results)] == [True] * 3


def test_a_batch_made_elsewhere_is_ordered_by_its_input_file(client: kc.KimiClient) -> None:
    """Own custom_ids and no job metadata: the input file gives the order."""
    lines = [
        {
            "custom_id": cid,
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": MODEL, "messages": [{"role": "user", "content": cid}]},
        }
        for cid in ("zeta", "alpha", "mid")
    ]
    raw = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    file_id = client.batches.upload(raw)["id"]
    batch = client.batches.create(file_id, completion_window="1d")
    client.batches.wait(batch.id, poll_interval=0.01)
    results = client.batches.results(batch.id)
    assert [r.custom_id for r in results] == ["zeta", "alpha", "mid"]
    assert all(r.custom_id in _content(r) for r in results)


def test_list_walks_every_page(client: kc.KimiClient) -> None:
    made = [client.batches.submit(_job(client, [f"x{i}"])).id for i in range(5)]
    listed = [b.id for b in client.batches.list(limit=2)]
    assert listed == list(reversed(made))
    assert [b.id for b in client.batches.list(after=made[3], limit=2)] == made[:3][::-1]


def test_cancel_then_missing_inputs_are_typed_errors(
    client: kc.KimiClient, emu: KimiEmulator
) -> None:
    emu.batch_options(line_delay=0.05)
    job = _job(client, [f"item {i}" for i in range(40)])
    batch = client.batches.submit(job)
    cancelling = client.batches.cancel(batch.id)
    assert cancelling.status == "cancelling"
    done = client.batches.wait(batch.id, poll_interval=0.01)
    assert done.status == "cancelled" and done.cancelled_at is not None
    results = client.batches.results(done)
    assert len(results) == 40
    missing = [r for r in results if not r.ok]
    assert missing, "a cancelled batch leaves inputs unanswered"
    for result in missing:
        assert isinstance(result.error, kc.BatchError)
        assert result.error.status == "cancelled"
        assert result.error.custom_id == result.custom_id
        assert "cancelled" in result.error.message
    with pytest.raises(kc.ConfigurationError, match="cannot be cancelled: it is 'cancelled'"):
        client.batches.cancel(batch.id)


def test_a_batch_past_its_window_expires_and_says_so(
    client: kc.KimiClient, emu: KimiEmulator
) -> None:
    # 12 h at a scale of 1e-5 is 0.43 s; 30 lines of 0.05 s do not fit.
    emu.batch_options(time_scale=1e-5, line_delay=0.05)
    job = _job(client, [f"item {i}" for i in range(30)])
    done = client.batches.wait(
        client.batches.submit(job, completion_window="12h").id, poll_interval=0.01
    )
    assert done.status == "expired"
    results = client.batches.results(done)
    assert len(results) == 30
    expired = [r.error for r in results if r.error is not None]
    assert expired and all(isinstance(e, kc.BatchError) for e in expired)
    assert "expired" in str(expired[0])


def test_an_invalid_file_fails_with_the_reason(client: kc.KimiClient) -> None:
    lines = [
        {
            "custom_id": "a",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": MODEL},
        },
        {
            "custom_id": "a",
            "method": "GET",
            "url": "/v1/chat/completions",
            "body": {"model": MODEL},
        },
    ]
    raw = b"".join(json.dumps(line).encode() + b"\n" for line in lines) + b"not json\n"
    batch = client.batches.create(client.batches.upload(raw)["id"])
    done = client.batches.wait(batch.id, poll_interval=0.01)
    assert done.status == "failed"
    codes = {e["code"] for e in done.errors}
    assert {"duplicate_custom_id", "invalid_json_line"} <= codes
    with pytest.raises(kc.BatchError, match=r"failed validation: .*duplicate_custom_id") as info:
        client.batches.results(done)
    assert info.value.status == "failed"


def test_mixed_models_in_a_foreign_file_fail_at_validation(client: kc.KimiClient) -> None:
    lines = [
        {
            "custom_id": str(i),
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": model, "messages": [{"role": "user", "content": "x"}]},
        }
        for i, model in enumerate([MODEL, "kimi-k3"])
    ]
    raw = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    batch = client.batches.create(client.batches.upload(raw)["id"])
    done = client.batches.wait(batch.id, poll_interval=0.01)
    assert done.status == "failed"
    assert any(e["code"] == "mixed_models" for e in done.errors)


async def test_the_async_twin(aclient: kc.AsyncKimiClient) -> None:
    job = aclient.batches.job()
    for text in ("a1", "a2"):
        job.add(aclient.prepare(model=MODEL, messages=[{"role": "user", "content": text}]))
    batch = await aclient.batches.submit(job)
    seen: list[str] = []

    async def record(b: kc.Batch) -> None:
        seen.append(b.status)

    done = await aclient.batches.wait(batch.id, poll_interval=0.01, on_update=record)
    assert done.status == "completed" and seen[-1] == "completed"
    results = await aclient.batches.results(done.id)
    assert ["a1" in _content(results[0]), "a2" in _content(results[1])] == [True, True]
    listed = [b.id async for b in aclient.batches.list(limit=1)]
    assert batch.id in listed
    lines = [line async for line in aclient.batches.iter_lines(done.output_file_id or "")]
    assert len(lines) == 2


# --------------------------------------------------------------------------- refusals


def test_unfinished_unknown_and_bad_ids_are_clear_errors(
    client: kc.KimiClient, emu: KimiEmulator
) -> None:
    emu.batch_options(time_scale=1.0)  # stays validating for 10 s
    batch = client.batches.submit(_job(client, ["slow"]))
    with pytest.raises(kc.BatchError, match=r"is 'validating' \(0/0 requests done\)") as info:
        client.batches.results(batch.id)
    assert info.value.batch_id == batch.id
    with pytest.raises(kc.BatchError, match="still 'validating' after"):
        client.batches.wait(batch.id, poll_interval=0.01, timeout=0.05)
    client.batches.cancel(batch.id)
    with pytest.raises(kc.NotFoundError, match="batch_nope not found"):
        client.batches.retrieve("batch_nope")
    with pytest.raises(kc.ConfigurationError, match="batch_id='' is not accepted"):
        client.batches.retrieve("")
    with pytest.raises(kc.ConfigurationError, match="batch_id='a/b'"):
        client.batches.retrieve("a/b")


def test_bad_jobs_are_refused_before_anything_is_sent(
    client: kc.KimiClient, emu: KimiEmulator
) -> None:
    before = emu.request_count
    job = client.batches.job()
    with pytest.raises(kc.ConfigurationError, match="the batch has no inputs"):
        client.batches.submit(job)
    job.add(_ask(client, "x"), custom_id="same")
    with pytest.raises(kc.ConfigurationError, match="custom_id='same' is used twice"):
        job.add(_ask(client, "y"), custom_id="same")
    with pytest.raises(kc.ConfigurationError, match="uses model 'kimi-k3', but the job uses"):
        job.add(client.prepare(model="kimi-k3", messages=[{"role": "user", "content": "z"}]))
    with pytest.raises(kc.ConfigurationError, match=r"custom_id='' .* is not accepted"):
        job.add(_ask(client, "y"), custom_id="")
    with pytest.raises(kc.ConfigurationError, match="streamed request"):
        job.add(_ask(client, "y", stream=True))
    for window in ("6h", "8d", "24", "1w", 24):
        with pytest.raises(kc.ConfigurationError, match=r"completion_window=.* from 12h to 7d"):
            client.batches.submit(job, completion_window=window)  # type: ignore[arg-type]
    with pytest.raises(kc.ConfigurationError, match="at most 16"):
        client.batches.submit(job, metadata={f"k{i}": "v" for i in range(15)})
    with pytest.raises(kc.ConfigurationError, match="key 'kkkk"):
        client.batches.submit(job, metadata={"k" * 65: "v"})
    with pytest.raises(kc.ConfigurationError, match="a string of 513 characters"):
        client.batches.submit(job, metadata={"k": "v" * 513})
    with pytest.raises(kc.ConfigurationError, match="'kimi_job' is reserved"):
        client.batches.submit(job, metadata={"kimi_job": "mine"})
    assert emu.request_count == before


def test_a_job_over_100_mb_is_refused_with_how_many_jobs_it_needs(
    client: kc.KimiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_batch_job, "MAX_BATCH_FILE_BYTES", 1000)
    job = _job(client, ["x" * 300 for _ in range(5)])
    with pytest.raises(kc.ConfigurationError, match=r"Submit the inputs as at least 3 jobs"):
        job.content()


def test_a_model_the_guide_does_not_name_warns_and_is_sent(client: kc.KimiClient) -> None:
    job = client.batches.job()
    with pytest.warns(kc.UnconfirmedRuleWarning, match="'kimi-k3' is not among the models"):
        job.add(client.prepare(model="kimi-k3", messages=[{"role": "user", "content": "x"}]))
    assert job.model == "kimi-k3"
    assert b'"model":"kimi-k3"' in job.content()


def test_platform_only(emu: KimiEmulator) -> None:
    other = kc.KimiClient(provider="acedata", api_key="k" * 20)
    with pytest.raises(kc.ConfigurationError, match="the Batch API is not supported by acedata"):
        other.batches.retrieve("batch_x")


# --------------------------------------------------------------------------- parsing


def _parse(line: dict[str, Any], **kw: Any) -> kc.BatchResult | None:
    return _batch.parse_result_line(json.dumps(line).encode(), provider="moonshot", **kw)


_COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": MODEL,
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}


def test_result_lines_of_every_shape_map_as_live_answers() -> None:
    nested = _parse({"custom_id": "a", "response": {"status_code": 200, "body": _COMPLETION}})
    bare = _parse({"custom_id": "b", "body": _COMPLETION})
    flat = _parse({**_COMPLETION, "custom_id": "c"})
    for result in (nested, bare, flat):
        assert result is not None and result.ok
        assert result.unwrap()["choices"][0]["message"]["content"] == "ok"
    limited = _parse(
        {
            "custom_id": "d",
            "response": {
                "status_code": 429,
                "request_id": "r-9",
                "body": {"error": {"type": "rate_limit_reached_error", "message": "max RPM: 3"}},
            },
        }
    )
    assert limited is not None and isinstance(limited.error, kc.RateLimitError)
    assert limited.error.request_id == "r-9"
    quota = _parse(
        {
            "custom_id": "e",
            "error": {"code": "exceeded_current_quota_error", "message": "insufficient balance"},
        },
        in_error_file=True,
    )
    assert quota is not None and isinstance(quota.error, kc.InsufficientQuotaError)
    assert _parse({"no": "id"}) is None
    assert _batch.parse_result_line(b"not json") is None
    broken = _parse({"custom_id": "f", "body": {"choices": "nope"}})
    assert broken is not None and isinstance(broken.error, kc.StreamError)
    silent = _parse({"custom_id": "g"}, in_error_file=True)
    assert silent is not None and isinstance(silent.error, kc.BatchError)


def test_every_input_gets_exactly_one_result_whatever_the_files_hold() -> None:
    batch = kc.Batch(id="batch_1", status="expired")
    ok = json.dumps({"custom_id": "b", "body": _COMPLETION}).encode()
    dup_err = json.dumps(
        {"custom_id": "b", "error": {"code": "server_error", "message": "x"}}
    ).encode()
    foreign = json.dumps({"custom_id": "zzz", "body": _COMPLETION}).encode()
    results = _batch.read_results(
        batch, ["a", "b", "c"], [ok, foreign, b"", b"garbage"], [dup_err], provider="moonshot"
    )
    assert [r.custom_id for r in results] == ["a", "b", "c"]
    assert results[1].ok  # the output line wins over an error-file line for the same id
    assert isinstance(results[0].error, kc.BatchError)
    assert "expired" in results[0].error.message


def test_batch_errors_pickle_with_their_fields() -> None:
    err = kc.BatchError("m", batch_id="b1", status="expired", custom_id="c1", provider="moonshot")
    back = pickle.loads(pickle.dumps(err))
    assert (back.batch_id, back.status, back.custom_id, back.provider) == (
        "b1",
        "expired",
        "c1",
        "moonshot",
    )


def test_the_line_splitter_is_bounded_and_keeps_later_lines() -> None:
    splitter = _batch._LineSplitter(10)
    out = splitter.feed(b'{"a":1}\n{"b":') + splitter.feed(b"2}\n" + b"x" * 30)
    out += splitter.feed(b"yyy\n{}\n") + splitter.flush()
    assert out[0] == b'{"a":1}' and out[1] == b'{"b":2}'
    assert b"kimi_line_too_long" in out[2] and out[3] == b"{}"
