"""Batch results from a server that sends broken, foreign, duplicated or key-echoing lines,
or cuts the file midway: every input still ends as exactly one result or one typed error,
in bounded time, and the key is never shown."""

from __future__ import annotations

import json
from typing import Any

import pytest
from _loopback import Conn, LoopbackServer, Received, chunked, http_head, http_response

import kimi_core as kc

KEY = "sk-hostile-batch-0123456789abcdef"

_COMPLETION = {
    "id": "chatcmpl-x",
    "object": "chat.completion",
    "model": "kimi-k2.6",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
    ],
}


def _batch(**over: Any) -> dict[str, Any]:
    return {
        "id": "batch_h1",
        "object": "batch",
        "status": "completed",
        "input_file_id": "file_in",
        "output_file_id": "file_out",
        "error_file_id": "file_err",
        "request_counts": {"total": 4, "completed": 2, "failed": 1},
        "metadata": {"kimi_job": "job", "kimi_inputs": "4"},
        **over,
    }


def _line(custom_id: str, body: Any, status: int = 200) -> bytes:
    return json.dumps(
        {"custom_id": custom_id, "response": {"status_code": status, "body": body}}
    ).encode()


OUTPUT = b"\n".join(
    [
        _line("job-0", _COMPLETION),
        b"{not json at all",
        _line("someone-else-7", _COMPLETION),  # not an input of this job
        _line("job-2", {**_COMPLETION, "choices": "broken"}),
        _line("job-0", _COMPLETION),  # the same input twice: one result
        b"",
    ]
)
ERRORS = _line(
    "job-1",
    {"error": {"type": "invalid_authentication_error", "message": f"bad key Bearer {KEY}"}},
    status=401,
)


def serve(output: bytes, errors: bytes, *, cut: bool = False) -> Any:
    def handler(request: Received, conn: Conn) -> None:
        if request.path == "/v1/batches/batch_h1":
            body = json.dumps(_batch()).encode()
            conn.send(http_response(200, body))
        elif request.path == "/v1/files/file_out/content":
            assert "event-stream" not in request.headers.get("accept", "")
            if cut:
                conn.send(http_head(200, content_type="application/octet-stream"))
                conn.send(chunked(output[: len(output) // 2]))
                conn.close()
                return
            conn.send(http_response(200, output, content_type="application/octet-stream"))
        elif request.path == "/v1/files/file_err/content":
            conn.send(http_response(200, errors, content_type="application/octet-stream"))
        else:
            conn.send(http_response(404, b'{"error": {"message": "no", "type": "x"}}'))

    return handler


def _client(server: LoopbackServer) -> kc.KimiClient:
    return kc.KimiClient(provider="moonshot", base_url=server.base_url, api_key=KEY, max_retries=0)


def test_every_input_gets_one_result_whatever_the_lines(loopback: LoopbackServer) -> None:
    loopback.handler = serve(OUTPUT, ERRORS)
    results = _client(loopback).batches.results("batch_h1")
    assert [r.custom_id for r in results] == ["job-0", "job-1", "job-2", "job-3"]
    assert results[0].ok and results[0].unwrap()["choices"][0]["message"]["content"] == "ok"
    assert isinstance(results[1].error, kc.AuthenticationError)
    assert KEY not in str(results[1].error) and KEY not in json.dumps(results[1].error.body)
    assert isinstance(results[2].error, kc.StreamError)
    assert isinstance(results[3].error, kc.BatchError)
    assert "neither the output nor the error file" in str(results[3].error)


def test_a_file_cut_midway_is_a_typed_error(loopback: LoopbackServer) -> None:
    loopback.handler = serve(OUTPUT, ERRORS, cut=True)
    with pytest.raises((kc.APIConnectionError, kc.StreamError)) as info:
        _client(loopback).batches.results("batch_h1")
    assert KEY not in str(info.value)
