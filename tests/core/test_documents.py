"""Kimi's file extraction (``kimi_core.extract_text`` and friends) over real HTTP against the
emulator: upload with purpose=file-extract, read, unwrap, delete; the checks made before
anything is sent; failures, retries, many files, the cache; the document Q&A prompt."""

from __future__ import annotations

import io
import itertools
import json
import os
import threading
import time
from pathlib import Path

import pytest
from _loopback import Conn, LoopbackServer, Received, http_response

import kimi_core as kc
from kimi_core import _documents
from kimi_emulator import KimiEmulator

HTML = b"<html><head><title>T</title><style>p{}</style></head><body><h1>Kimi</h1><p>reads &amp; extracts</p></body></html>"


def client(emu: KimiEmulator, **kw: object) -> kc.KimiClient:
    return kc.KimiClient(provider=emu.provider, base_url=emu.base_url, api_key=emu.api_key, **kw)  # type: ignore[arg-type]


def aclient(emu: KimiEmulator, **kw: object) -> kc.AsyncKimiClient:
    return kc.AsyncKimiClient(
        provider=emu.provider,
        base_url=emu.base_url,
        api_key=emu.api_key,
        **kw,  # type: ignore[arg-type]
    )


def uploads(emu: KimiEmulator) -> list[str]:
    return [r.path for r in emu.requests if r.method == "POST" and r.path == "/v1/files"]


# --------------------------------------------------------------------------- one file


def test_a_path_is_uploaded_read_unwrapped_and_deleted(
    kimi_emulator: KimiEmulator, tmp_path: Path
) -> None:
    path = tmp_path / "notes.md"
    path.write_text("# Notes\n\nKimi extracts 文本.", encoding="utf-8")
    result = kc.extract_text(path, client=client(kimi_emulator))
    assert result.content == "# Notes\n\nKimi extracts 文本."
    assert (result.filename, result.file_type, result.title) == ("notes.md", "text/markdown", "")
    assert result.source == str(path)
    assert result.file_id is None and not result.cached
    assert result.length == len(result.content)
    assert "Kimi extracts" not in repr(result) and "notes.md" in repr(result)
    assert result.bytes == path.stat().st_size
    upload = kimi_emulator.requests[0]
    assert upload.method == "POST" and upload.path == "/v1/files"
    assert b'name="purpose"\r\n\r\nfile-extract' in upload.body
    assert [(r.method, r.path.rsplit("/", 1)[-1]) for r in kimi_emulator.requests[1:]] == [
        ("GET", "content"),
        ("DELETE", upload_id(kimi_emulator)),
    ]
    assert kimi_emulator.files == {}  # the quota is left as it was


def upload_id(emu: KimiEmulator) -> str:
    return emu.requests[1].path.split("/")[3]


def test_html_tags_are_removed_and_binary_formats_say_they_come_from_the_emulator(
    kimi_emulator: KimiEmulator,
) -> None:
    c = client(kimi_emulator)
    page = kc.extract_text(HTML, filename="page.html", client=c)
    assert page.content == "Kimi\nreads & extracts"
    assert page.file_type == "text/html"
    pdf = kc.extract_text(io.BytesIO(b"%PDF-1.7\n%binary"), filename="paper.pdf", client=c)
    assert pdf.file_type == "application/pdf"
    assert pdf.content.startswith("[kimi-emulator] This text comes from the Kimi emulator")
    assert "'paper.pdf'" in pdf.content


def test_file_objects_and_tuples_take_their_names(
    kimi_emulator: KimiEmulator, tmp_path: Path
) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"a,b\n1,2\n")
    c = client(kimi_emulator)
    with path.open("rb") as handle:
        from_handle = kc.extract_text(handle, client=c)
    assert (from_handle.filename, from_handle.source) == ("data.csv", str(path))
    assert from_handle.content == "a,b\n1,2\n"
    from_tuple = kc.extract_text(("table.csv", b"x,y\n"), client=c)
    assert (from_tuple.filename, from_tuple.file_type) == ("table.csv", "text/csv")


def test_keep_returns_the_file_id_and_leaves_the_upload(kimi_emulator: KimiEmulator) -> None:
    result = kc.extract_text(b"kept", filename="kept.txt", client=client(kimi_emulator), keep=True)
    assert result.file_id is not None
    assert list(kimi_emulator.files) == [result.file_id]
    assert result.metadata()["file_id"] == result.file_id


async def test_async_extraction(kimi_emulator: KimiEmulator) -> None:
    result = await kc.aextract_text(b"async text", filename="a.txt", client=aclient(kimi_emulator))
    assert result.content == "async text"
    assert kimi_emulator.files == {}


# --------------------------------------------------------------------------- checks


def test_bad_files_fail_before_anything_is_sent(
    kimi_emulator: KimiEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = client(kimi_emulator)
    with pytest.raises(kc.ConfigurationError, match=r"file='.*missing.pdf' does not exist"):
        kc.extract_text(tmp_path / "missing.pdf", client=c)
    with pytest.raises(kc.ConfigurationError, match="is not a file"):
        kc.extract_text(tmp_path, client=c)
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(kc.ConfigurationError, match="is empty") as empty:
        kc.extract_text(tmp_path / "empty.txt", client=c)
    assert empty.value.param == "file"
    with pytest.raises(kc.ConfigurationError, match="filename=None"):
        kc.extract_text(b"bytes without a name", client=c)
    monkeypatch.setattr(_documents, "MAX_FILE_BYTES", 10)
    (tmp_path / "big.txt").write_bytes(b"x" * 11)
    with pytest.raises(kc.ConfigurationError, match="11 bytes, files of at most 10 bytes"):
        kc.extract_text(tmp_path / "big.txt", client=c)
    with pytest.raises(kc.ConfigurationError, match="at most 10 bytes"):
        kc.extract_text(io.BytesIO(b"y" * 11), filename="big.txt", client=c)
    assert kimi_emulator.request_count == 0


def test_an_unknown_extension_warns_and_is_uploaded(kimi_emulator: KimiEmulator) -> None:
    with pytest.warns(kc.UnknownFileTypeWarning, match=r"'notes.rst' has \.rst"):
        result = kc.extract_text(
            b"Title\n=====", filename="notes.rst", client=client(kimi_emulator)
        )
    assert result.content == "Title\n====="
    with pytest.warns(kc.UnknownFileTypeWarning, match="no extension"):
        kc.extract_text(b"README text", filename="README", client=client(kimi_emulator))


def test_gateways_have_no_extraction(kimi_emulator: KimiEmulator) -> None:
    gateway = kc.KimiClient(
        provider="openai-compatible", base_url=kimi_emulator.base_url, api_key="k"
    )
    with pytest.raises(
        kc.ConfigurationError, match="file extraction is not supported by openai-compatible"
    ):
        kc.extract_text(b"x", filename="x.txt", client=gateway)
    assert kimi_emulator.request_count == 0


# --------------------------------------------------------------------------- failures


def test_a_failed_extraction_names_the_file_and_the_upload_is_deleted(
    kimi_emulator: KimiEmulator,
) -> None:
    kimi_emulator.extract_failures = {"scan-*.pdf"}
    c = client(kimi_emulator, max_retries=0)
    with pytest.raises(kc.FileExtractionError) as caught:
        kc.extract_text(b"%PDF-1.4 scanned", filename="scan-01.pdf", client=c)
    err = caught.value
    assert isinstance(err, kc.InternalServerError)
    assert err.status_code == 500 and err.source == "scan-01.pdf" and err.file_id is None
    assert "extracting the text of 'scan-01.pdf' failed: extract task failed: failed" in str(err)
    assert err.body == {"error": {"message": "extract task failed: failed", "type": ""}}
    assert err.request_id
    assert kimi_emulator.files == {}
    # A pdf whose bytes are no pdf fails too; with keep, the error names the kept upload.
    with pytest.raises(kc.FileExtractionError) as kept:
        kc.extract_text(b"not a pdf", filename="broken.pdf", client=c, keep=True)
    assert kept.value.file_id in kimi_emulator.files


def test_the_content_call_is_retried_and_counts_as_one(kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.fault("500", path="/content", times=1)
    kimi_emulator.fault("429", path="/v1/files", times=1, retry_after=0)
    result = kc.extract_text(b"retried", filename="r.txt", client=client(kimi_emulator))
    assert result.content == "retried"
    attempts = [r.headers.get("x-kimi-attempt") for r in kimi_emulator.requests]
    assert attempts[:4] == ["1", "2", "1", "2"]
    assert kimi_emulator.files == {}


def test_an_answer_that_is_not_kimis_json_is_an_extraction_error(
    loopback: LoopbackServer,
) -> None:
    def handler(req: Received, conn: Conn) -> None:
        if req.method == "POST":
            body = {"id": "f1", "object": "file", "status": "ok", "filename": "a.txt"}
            conn.send(http_response(200, json.dumps(body).encode()))
        elif req.path.endswith("/content"):
            conn.send(http_response(200, b"plain text, not JSON", content_type="text/plain"))
        else:
            conn.send(http_response(200, b'{"id": "f1", "deleted": true}'))

    loopback.handler = handler
    c = kc.KimiClient(provider="moonshot", base_url=loopback.base_url, api_key="k", max_retries=0)
    with pytest.raises(kc.FileExtractionError, match="is not Kimi's JSON"):
        kc.extract_text(b"x", filename="a.txt", client=c)
    assert [r.method for r in loopback.received] == ["POST", "GET", "DELETE"]


def test_upload_limits_of_the_account_are_errors(kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.file_limits = {"count": 1, "total": 20}
    c = client(kimi_emulator, max_retries=0)
    kc.extract_text(b"first", filename="1.txt", client=c, keep=True)
    with pytest.raises(kc.BadRequestError, match="too many files, at most 1"):
        kc.extract_text(b"second", filename="2.txt", client=c)
    kimi_emulator.file_limits = {"count": 10}
    with pytest.raises(kc.BadRequestError, match="total size"):
        kc.extract_text(b"x" * 16, filename="3.txt", client=c)
    kimi_emulator.file_limits = {"bytes": 4}
    with pytest.raises(kc.BadRequestError, match="file size exceeds 4 bytes"):
        kc.extract_text(b"x" * 5, filename="4.txt", client=c)


# --------------------------------------------------------------------------- many files


def test_many_files_one_result_each_in_order(kimi_emulator: KimiEmulator, tmp_path: Path) -> None:
    kimi_emulator.extract_failures = {"bad.txt"}
    (tmp_path / "empty.md").write_bytes(b"")
    files = [("a.txt", b"A"), ("bad.txt", b"B"), tmp_path / "empty.md", ("c.json", b'{"c": 1}')]
    seen: list[tuple[int, int, str]] = []
    results = kc.extract_texts(
        files,
        client=client(kimi_emulator, max_retries=0),
        max_concurrency=2,
        return_exceptions=True,
        on_progress=lambda done, total, label: seen.append((done, total, label)),
    )
    assert isinstance(results[0], kc.ExtractedFile) and results[0].content == "A"
    assert isinstance(results[1], kc.FileExtractionError) and results[1].filename == "bad.txt"
    assert isinstance(results[2], kc.ConfigurationError)
    assert isinstance(results[3], kc.ExtractedFile) and results[3].content == '{"c": 1}'
    assert sorted(d for d, _, _ in seen) == [1, 2, 3, 4] and {t for _, t, _ in seen} == {4}
    assert len(uploads(kimi_emulator)) == 3  # the empty file never left
    assert kimi_emulator.files == {}


def test_many_files_raise_the_first_error_once_all_are_done(kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.extract_failures = {"*.pdf"}
    files = [("a.txt", b"A"), ("b.pdf", b"%PDF-x"), ("c.txt", b"C")]
    with pytest.raises(kc.FileExtractionError, match=r"'b\.pdf'"):
        kc.extract_texts(files, client=client(kimi_emulator, max_retries=0))
    assert len(uploads(kimi_emulator)) == 3
    assert kimi_emulator.files == {}
    with pytest.raises(kc.ConfigurationError, match="max_concurrency=0"):
        kc.extract_texts(files, client=client(kimi_emulator), max_concurrency=0)


async def test_many_files_async(kimi_emulator: KimiEmulator) -> None:
    files = [(f"{i}.txt", f"text {i}".encode()) for i in range(7)]
    results = await kc.aextract_texts(files, client=aclient(kimi_emulator), max_concurrency=3)
    assert [r.content for r in results if isinstance(r, kc.ExtractedFile)] == [
        f"text {i}" for i in range(7)
    ]
    assert kimi_emulator.files == {}


# --------------------------------------------------------------------------- cache


def test_the_cache_skips_the_upload_on_a_second_run(
    kimi_emulator: KimiEmulator, tmp_path: Path
) -> None:
    cache = kc.ExtractionCache(tmp_path / "cache")
    c = client(kimi_emulator)
    first = kc.extract_text(b"cached text", filename="a.txt", client=c, cache=cache)
    count = kimi_emulator.request_count
    again = kc.extract_text(b"cached text", filename="b.txt", client=c, cache=tmp_path / "cache")
    assert kimi_emulator.request_count == count
    assert again.cached and not first.cached
    assert (again.content, again.filename) == ("cached text", "b.txt")
    # Other content, another extension or another server: a miss.
    kc.extract_text(b"cached text", filename="a.md", client=c, cache=cache)
    assert kimi_emulator.request_count == count + 3
    with KimiEmulator() as other:
        kc.extract_text(b"cached text", filename="a.txt", client=client(other), cache=cache)
        assert other.request_count == 3
    # A broken entry is a miss, never an error.
    for entry in (tmp_path / "cache").iterdir():
        entry.write_text("{broken", encoding="utf-8")
    assert not kc.extract_text(b"cached text", filename="a.txt", client=c, cache=cache).cached


# --------------------------------------------------------------------------- document Q&A


def test_the_document_prompt_puts_each_text_in_a_system_message(
    kimi_emulator: KimiEmulator,
) -> None:
    doc = kc.extract_text(
        b"The launch is on Tuesday.", filename="plan.txt", client=client(kimi_emulator)
    )
    prompt = kc.document_prompt(
        [doc, "Second text.", "  "],
        model="kimi-k2.6",
        question="When?",
        client=client(kimi_emulator),
    )
    assert prompt.messages == [
        {"role": "system", "content": "The launch is on Tuesday."},
        {"role": "system", "content": "Second text."},
        {"role": "user", "content": "When?"},
    ]
    assert prompt.estimated_by == "platform" and prompt.tokens > 0
    estimate = kimi_emulator.requests[-1]
    assert estimate.path == "/v1/tokenizers/estimate-token-count"
    assert estimate.json == {"model": "kimi-k2.6", "messages": prompt.messages}
    assert prompt.context_window == kc.get_model_info("kimi-k2.6").context_window


def test_documents_that_do_not_fit_the_window_are_refused(kimi_emulator: KimiEmulator) -> None:
    window = kc.get_model_info("kimi-k2.6").context_window
    with pytest.raises(kc.DocumentsTooLargeError, match="use retrieval") as caught:
        kc.document_prompt(
            ["a short text"], model="kimi-k2.6", client=client(kimi_emulator), reserve_tokens=window
        )
    assert isinstance(caught.value, kc.ContextWindowExceededError)
    assert caught.value.context_window == window and caught.value.tokens > 0
    local = kc.document_prompt(["x" * 300], model="kimi-k2.6")
    assert (local.estimated_by, local.tokens) == ("local", 104)
    with pytest.raises(
        kc.DocumentsTooLargeError, match=r"about 340,004 tokens \(estimated by the local\)"
    ):
        kc.document_prompt(["x" * 1_020_000], model="kimi-k2.6")
    with pytest.raises(kc.ConfigurationError, match="at least one document"):
        kc.document_prompt([""], model="kimi-k2.6")


async def test_the_async_document_prompt(kimi_emulator: KimiEmulator) -> None:
    prompt = await kc.adocument_prompt(["Text."], model="kimi-k3", client=aclient(kimi_emulator))
    assert prompt.estimated_by == "platform" and prompt.messages[0]["role"] == "system"


# --------------------------------------------------------------------------- concurrency


class _InFlight:
    """A loopback platform that counts the uploads in flight at once (each one waits a
    little, so that uploads sent together overlap)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = self.most = 0
        self.ids = itertools.count()

    def __call__(self, req: Received, conn: Conn) -> None:
        if req.method == "POST":
            with self.lock:
                self.now += 1
                self.most = max(self.most, self.now)
                fid = f"f{next(self.ids)}"
            time.sleep(0.05)
            with self.lock:
                self.now -= 1
            body = {"id": fid, "object": "file", "status": "ok", "status_details": ""}
            conn.send(http_response(200, json.dumps(body).encode()))
        elif req.path.endswith("/content"):
            body = {"content": req.path, "file_type": "text/plain", "filename": "x", "title": ""}
            conn.send(http_response(200, json.dumps(body).encode()))
        else:
            conn.send(http_response(200, b'{"deleted": true}'))


FILES = [(f"{i}.txt", b"x") for i in range(8)]


def test_many_files_never_exceed_max_concurrency(loopback: LoopbackServer) -> None:
    loopback.handler = counter = _InFlight()
    c = kc.KimiClient(provider="moonshot", base_url=loopback.base_url, api_key="k")
    results = kc.extract_texts(FILES, client=c, max_concurrency=3)
    assert len(results) == 8 and 1 <= counter.most <= 3
    one_at_a_time = _InFlight()
    loopback.handler = one_at_a_time
    kc.extract_texts(FILES[:4], client=c, max_concurrency=1)
    assert one_at_a_time.most == 1


async def test_many_files_async_never_exceed_max_concurrency(loopback: LoopbackServer) -> None:
    loopback.handler = counter = _InFlight()
    c = kc.AsyncKimiClient(provider="moonshot", base_url=loopback.base_url, api_key="k")
    results = await kc.aextract_texts(FILES, client=c, max_concurrency=2)
    assert len(results) == 8 and 1 <= counter.most <= 2


# --------------------------------------------------------------------------- live


@pytest.mark.live
@pytest.mark.skipif(
    not os.environ.get("MOONSHOT_API_KEY"),
    reason="live: set MOONSHOT_API_KEY to extract a file on Moonshot's platform",
)
def test_live_extraction_on_moonshot() -> None:  # pragma: no cover - needs a key
    c = kc.KimiClient(provider="moonshot")
    before = {f["id"] for f in c.list_files()}
    result = kc.extract_text(
        b"kimi-integrations live check: the launch is on Tuesday.", filename="live.txt", client=c
    )
    assert "Tuesday" in result.content and result.filename == "live.txt"
    assert {f["id"] for f in c.list_files()} <= before  # the upload is gone
