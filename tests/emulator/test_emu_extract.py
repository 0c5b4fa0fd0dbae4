"""The emulator extracts files (raw HTTP, no kimi_core): purpose=file-extract uploads and
``/content`` in the shapes a public script printed from api.moonshot.cn (tests/fixtures/
published), text-like files as they are, HTML without tags, a plain stand-in for binary
formats, the account limits and ``500 extract task failed``."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from emu_helpers import HTTP, headers

from kimi_emulator import KimiEmulator

PRINTED = (
    Path(__file__).resolve().parents[1]
    / "fixtures"
    / "published"
    / "moonshot-file-extract-2024.txt"
)


def printed() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The file object, the content body and the failure body the public script printed."""
    file_line, content_line, error_line = PRINTED.read_text(encoding="utf-8").splitlines()
    fields = dict(re.findall(r"(\w+)=('[^']*'|\d+)", file_line))
    file_object = {k: ast.literal_eval(v) for k, v in fields.items()}
    error = ast.literal_eval(error_line.split(" - ", 1)[1])
    return file_object, json.loads(content_line), error


def upload(
    emu: KimiEmulator, name: str, data: bytes, purpose: str = "file-extract"
) -> httpx.Response:
    return HTTP.post(
        emu.base_url + "/files",
        files={"file": (name, data)},
        data={"purpose": purpose},
        headers=headers(emu),
    )


def content(emu: KimiEmulator, file_id: str) -> httpx.Response:
    return HTTP.get(f"{emu.base_url}/files/{file_id}/content", headers=headers(emu))


def extracted(emu: KimiEmulator, name: str, data: bytes) -> dict[str, Any]:
    resp = upload(emu, name, data)
    assert resp.status_code == 200, resp.text
    answer = content(emu, resp.json()["id"])
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_the_printed_shapes_are_answered(moonshot: KimiEmulator) -> None:
    file_object, body, error = printed()
    resp = upload(moonshot, "福州商场.pdf", b"%PDF-1.4 a pdf")
    obj = resp.json()
    assert set(obj) == set(file_object)  # (the SDK's repr does not show the wire's key order)
    for key, value in file_object.items():
        assert type(obj[key]) is type(value), key
    assert (obj["object"], obj["purpose"], obj["status"], obj["status_details"]) == (
        "file",
        "file-extract",
        "ok",
        "",
    )
    assert obj["filename"] == "福州商场.pdf"
    assert re.fullmatch(r"[0-9a-z]{20}", obj["id"]) and re.fullmatch(
        r"[0-9a-z]{20}", file_object["id"]
    )
    answer = content(moonshot, obj["id"])
    assert answer.headers["content-type"].startswith("application/json")
    mine = answer.json()
    assert list(mine) == list(body)  # the same keys, in the same order
    assert {k: type(v) for k, v in mine.items()} == {k: type(v) for k, v in body.items()}
    assert (mine["file_type"], mine["filename"], mine["title"], mine["type"]) == (
        body["file_type"],
        body["filename"],
        body["title"],
        body["type"],
    )
    moonshot.extract_failures = {"*.pdf"}
    failed = content(moonshot, obj["id"])
    assert failed.status_code == 500
    assert failed.json() == error


@pytest.mark.parametrize(
    ("name", "data", "text", "file_type"),
    [
        ("notes.txt", "plain 文本\nline 2".encode(), "plain 文本\nline 2", "text/plain"),
        ("readme.md", b"# Title\n\n- item", "# Title\n\n- item", "text/markdown"),
        ("table.csv", b"city,temp\nOslo,4\n", "city,temp\nOslo,4\n", "text/csv"),
        ("data.json", b'{"k": [1, 2]}', '{"k": [1, 2]}', "application/json"),
        ("main.py", b"def f():\n    return 1\n", "def f():\n    return 1\n", "text/x-python"),
        ("server.log", b"INFO up", "INFO up", "text/plain"),
        ("gbk.txt", "中文编码".encode("gb18030"), "中文编码", "text/plain"),
        ("no-extension", b"just text", "just text", "text/plain"),
    ],
)
def test_text_like_files_are_extracted_as_they_are(
    moonshot: KimiEmulator, name: str, data: bytes, text: str, file_type: str
) -> None:
    body = extracted(moonshot, name, data)
    assert (body["content"], body["file_type"], body["filename"]) == (text, file_type, name)


def test_html_loses_its_tags_scripts_and_styles(moonshot: KimiEmulator) -> None:
    page = (
        b"<!doctype html><html><head><title>Quarterly</title><style>.x{color:red}</style>"
        b"<script>var secret = 1;</script></head><body><h2>Revenue &gt; plan</h2>"
        b"<ul><li>Q1: 12</li><li>Q2:   15</li></ul><p>Signed,<br>the board</p></body></html>"
    )
    body = extracted(moonshot, "report.htm", page)
    assert body["content"] == "Revenue > plan\nQ1: 12\nQ2: 15\nSigned,\nthe board"
    assert body["file_type"] == "text/html"


@pytest.mark.parametrize(
    ("name", "data", "file_type"),
    [
        ("paper.pdf", b"%PDF-1.7\n\x00\x01binary", "application/pdf"),
        (
            "memo.docx",
            b"PK\x03\x04zipped",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("scan.png", b"\x89PNG\r\n\x1a\n\x00", "image/png"),
        ("photo.jpg", b"\xff\xd8\xff\xe0", "image/jpeg"),
        ("blob.bin", b"\x00\x01\x02", "application/octet-stream"),
    ],
)
def test_binary_formats_say_plainly_the_text_comes_from_the_emulator(
    moonshot: KimiEmulator, name: str, data: bytes, file_type: str
) -> None:
    body = extracted(moonshot, name, data)
    assert body["file_type"] == file_type
    assert body["content"].startswith(
        "[kimi-emulator] This text comes from the Kimi emulator, not from Kimi"
    )
    assert repr(name) in body["content"] and f"{len(data)} bytes" in body["content"]


@pytest.mark.parametrize(
    ("name", "data"),
    [("fake.pdf", b"not a pdf"), ("fake.xlsx", b"not a zip"), ("fake.png", b"GIF89a")],
)
def test_a_file_that_is_not_its_type_fails_to_extract(
    moonshot: KimiEmulator, name: str, data: bytes
) -> None:
    resp = upload(moonshot, name, data)
    assert resp.status_code == 200  # the upload is taken; the extraction fails
    failed = content(moonshot, resp.json()["id"])
    assert failed.status_code == 500
    assert failed.json() == {"error": {"message": "extract task failed: failed", "type": ""}}


def test_extract_failures_match_file_name_patterns_until_reset(moonshot: KimiEmulator) -> None:
    moonshot.extract_failures = {"scan-??.txt"}
    bad = upload(moonshot, "scan-01.txt", b"text").json()["id"]
    good = upload(moonshot, "scan-001.txt", b"text").json()["id"]
    assert content(moonshot, bad).status_code == 500
    assert content(moonshot, good).status_code == 200
    moonshot.reset()
    assert moonshot.extract_failures == set()


def test_the_account_limits_can_be_lowered_and_are_restored(moonshot: KimiEmulator) -> None:
    assert moonshot.file_limits == {"count": 1000, "bytes": 100 * 1024**2, "total": 10 * 1024**3}
    moonshot.file_limits = {"count": 2, "bytes": 10, "total": 15}
    assert upload(moonshot, "a.txt", b"0123456789").status_code == 200
    too_big = upload(moonshot, "b.txt", b"0123456789X")
    assert too_big.status_code == 400
    assert too_big.json()["error"] == {
        "message": "Invalid request: file size exceeds 10 bytes",
        "type": "invalid_request_error",
    }
    over_total = upload(moonshot, "c.txt", b"012345")
    assert over_total.status_code == 400 and "total size" in over_total.json()["error"]["message"]
    assert upload(moonshot, "d.txt", b"01234").status_code == 200
    too_many = upload(moonshot, "e.txt", b"x")
    assert too_many.status_code == 400
    assert too_many.json()["error"]["message"] == "Invalid request: too many files, at most 2"
    # Deleting frees the quota, as the platform's docs say.
    fid = next(iter(moonshot.files))
    assert (
        HTTP.delete(f"{moonshot.base_url}/files/{fid}", headers=headers(moonshot)).status_code
        == 200
    )
    assert upload(moonshot, "e.txt", b"x").status_code == 200
    with pytest.raises(ValueError, match="unknown file limits"):
        moonshot.file_limits = {"files": 3}
    moonshot.reset()
    assert moonshot.file_limits["count"] == 1000


def test_other_purposes_keep_their_raw_content(moonshot: KimiEmulator) -> None:
    resp = upload(moonshot, "a.png", b"\x89PNG raw", purpose="image")
    raw = content(moonshot, resp.json()["id"])
    assert raw.content == b"\x89PNG raw"
