"""The client reads the file-extraction answers a public script printed from api.moonshot.cn
(tests/fixtures/published/moonshot-file-extract-2024.txt), served by a loopback server.

What the printed lines do not carry, and this test adds: the HTTP status lines and headers;
the upload's JSON (the script printed the openai SDK's repr of the file object, its fields
are sent as a JSON object here); the failure's JSON (printed as a Python dict by the SDK)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from _loopback import Conn, LoopbackServer, Received, http_response

import kimi_core as kc

PRINTED = (
    Path(__file__).resolve().parents[1]
    / "fixtures"
    / "published"
    / "moonshot-file-extract-2024.txt"
)
FILE_LINE, CONTENT_LINE, ERROR_LINE = PRINTED.read_text(encoding="utf-8").splitlines()
FILE_OBJECT = {k: ast.literal_eval(v) for k, v in re.findall(r"(\w+)=('[^']*'|\d+)", FILE_LINE)}
ERROR_BODY = ast.literal_eval(ERROR_LINE.split(" - ", 1)[1])


def serve(loopback: LoopbackServer, *, fail: bool = False) -> None:
    def handler(req: Received, conn: Conn) -> None:
        if req.method == "POST" and req.path == "/v1/files":
            conn.send(http_response(200, json.dumps(FILE_OBJECT, ensure_ascii=False).encode()))
        elif req.path == f"/v1/files/{FILE_OBJECT['id']}/content":
            if fail:
                conn.send(http_response(500, json.dumps(ERROR_BODY).encode()))
            else:  # the printed body, byte for byte
                conn.send(http_response(200, CONTENT_LINE.encode()))
        elif req.method == "DELETE":
            conn.send(
                http_response(200, json.dumps({"id": FILE_OBJECT["id"], "deleted": True}).encode())
            )
        else:
            conn.send(http_response(404, b'{"error": {"message": "not found", "type": ""}}'))

    loopback.handler = handler


def client(loopback: LoopbackServer) -> kc.KimiClient:
    return kc.KimiClient(
        provider="moonshot", base_url=loopback.base_url, api_key="k", max_retries=0
    )


def test_the_printed_content_body_is_unwrapped(loopback: LoopbackServer) -> None:
    serve(loopback)
    result = kc.extract_text(b"%PDF-1.4", filename="福州商场.pdf", client=client(loopback))
    printed = json.loads(CONTENT_LINE)
    assert result.content == printed["content"]
    assert result.content.startswith("品牌情况\n一、阿迪达斯三叶草")
    assert (result.file_type, result.filename, result.title) == (
        "application/pdf",
        "福州商场.pdf",
        "",
    )
    assert result.extra == {}  # "type": "file" is known, not extra
    assert [r.method for r in loopback.received] == ["POST", "GET", "DELETE"]
    assert loopback.received[2].path == f"/v1/files/{FILE_OBJECT['id']}"


def test_the_printed_failure_is_a_file_extraction_error(loopback: LoopbackServer) -> None:
    serve(loopback, fail=True)
    with pytest.raises(kc.FileExtractionError) as caught:
        kc.extract_text(b"%PDF-1.4", filename="福州商场.pdf", client=client(loopback))
    assert caught.value.status_code == 500
    assert caught.value.message.endswith("extract task failed: failed")
    assert caught.value.filename == "福州商场.pdf"
    assert [r.method for r in loopback.received] == ["POST", "GET", "DELETE"]
