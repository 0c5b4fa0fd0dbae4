"""``KimiFileReader`` and ``kimi_document_messages`` over real HTTP against the emulator:
standalone, inside ``SimpleDirectoryReader``, async, into a ``VectorStoreIndex``."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import pytest
from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
from llama_index.core.base.llms.types import MessageRole
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.schema import Document

import kimi_core as kc
from kimi_emulator import KimiEmulator
from llama_index.readers.kimi import KimiFileReader as ShimReader
from llama_index_kimi import (
    Kimi,
    KimiFileReader,
    akimi_document_messages,
    kimi_document_messages,
)

KEY = "sk-reader-0123456789abcdef-SECRET"


def reader(emu: KimiEmulator, **kw: object) -> KimiFileReader:
    return KimiFileReader(api_key=KEY, api_base=emu.base_url, max_retries=0, **kw)


@pytest.fixture
def keyed() -> KimiEmulator:
    with KimiEmulator(api_key=KEY) as emulator:
        yield emulator  # type: ignore[misc]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "guide.md").write_text("# Guide\n\nKimi extracts files.", encoding="utf-8")
    (tmp_path / "paper.pdf").write_bytes(b"%PDF-1.7 binary")
    (tmp_path / "page.html").write_bytes(b"<p>Hello <i>page</i></p>")
    (tmp_path / "plain.txt").write_text("read by LlamaIndex itself", encoding="utf-8")
    return tmp_path


def test_the_llama_index_import_path_is_the_same_class() -> None:
    assert ShimReader is KimiFileReader


def test_load_data_standalone(keyed: KimiEmulator, folder: Path) -> None:
    docs = reader(keyed).load_data(folder / "guide.md", extra_info={"team": "docs", "title": "T"})
    assert len(docs) == 1 and isinstance(docs[0], Document)
    assert docs[0].text == "# Guide\n\nKimi extracts files."
    assert docs[0].metadata == {
        "source": str(folder / "guide.md"),
        "filename": "guide.md",
        "file_type": "text/markdown",
        "title": "T",  # extra_info wins
        "length": len(docs[0].text),
        "team": "docs",
    }
    pdf = io.BytesIO(b"%PDF-1 x")
    pdf.name = "scan.pdf"
    many = reader(keyed).load_data([("a.txt", b"A"), pdf], extra_info=None)
    assert [d.metadata["filename"] for d in many] == ["a.txt", "scan.pdf"]
    assert many[0].text == "A"
    assert keyed.files == {}


def test_bytes_file_objects_need_a_name(keyed: KimiEmulator) -> None:
    with pytest.raises(kc.ConfigurationError, match="filename=None"):
        reader(keyed).load_data(io.BytesIO(b"x"))


def test_as_a_file_extractor_of_simple_directory_reader(keyed: KimiEmulator, folder: Path) -> None:
    kimi = reader(keyed)
    docs = SimpleDirectoryReader(
        str(folder), file_extractor={".pdf": kimi, ".html": kimi, ".md": kimi}
    ).load_data()
    by_name = {d.metadata["file_name"]: d for d in docs}
    assert set(by_name) == {"guide.md", "paper.pdf", "page.html", "plain.txt"}
    pdf = by_name["paper.pdf"]
    assert pdf.metadata["filename"] == "paper.pdf"  # Kimi's metadata ...
    assert pdf.metadata["file_path"] == str(folder / "paper.pdf")  # ... and the reader's
    assert pdf.metadata["file_type"] == "application/pdf"
    assert "comes from the Kimi emulator" in pdf.text
    assert by_name["page.html"].text == "Hello page"
    assert "length" not in by_name["plain.txt"].metadata  # read by LlamaIndex, not Kimi
    assert len([r for r in keyed.requests if r.method == "POST"]) == 3
    assert keyed.files == {}


async def test_aload_data_and_the_async_directory_reader(keyed: KimiEmulator, folder: Path) -> None:
    kimi = reader(keyed)
    docs = await kimi.aload_data([folder / "guide.md", folder / "page.html"])
    assert [d.metadata["filename"] for d in docs] == ["guide.md", "page.html"]
    directory = await SimpleDirectoryReader(str(folder), file_extractor={".md": kimi}).aload_data()
    assert any(d.metadata.get("filename") == "guide.md" for d in directory)


def test_a_failed_extraction_names_the_file(keyed: KimiEmulator, folder: Path) -> None:
    keyed.extract_failures = {"paper.pdf"}
    with pytest.raises(kc.FileExtractionError, match=r"paper\.pdf"):
        reader(keyed).load_data(folder / "paper.pdf")
    # SimpleDirectoryReader skips (and prints) a failed file unless raise_on_error.
    docs = SimpleDirectoryReader(
        str(folder), file_extractor={".pdf": reader(keyed)}, required_exts=[".pdf", ".md"]
    ).load_data()
    assert [d.metadata["file_name"] for d in docs] == ["guide.md"]
    assert keyed.files == {}


def test_the_key_stays_out_of_dumps_and_pickles(keyed: KimiEmulator, folder: Path) -> None:
    kimi = reader(keyed, keep_files=True, default_headers={"X-Api-Key": KEY})
    assert KEY not in repr(kimi)
    assert KEY not in str(kimi.to_dict())
    assert KEY not in kimi.to_json()
    data = pickle.dumps(kimi)
    assert KEY.encode() not in data
    again = pickle.loads(data)
    kept = again.load_data(folder / "guide.md")
    assert kept[0].metadata["file_id"] in keyed.files


def test_an_index_and_a_query_engine_over_the_documents(keyed: KimiEmulator, folder: Path) -> None:
    docs = reader(keyed).load_data([folder / "guide.md", folder / "page.html"])
    llm = Kimi(api_key=KEY, api_base=keyed.base_url, provider="moonshot", model="kimi-k2.6")
    index = VectorStoreIndex.from_documents(docs, embed_model=MockEmbedding(embed_dim=8))
    answer = index.as_query_engine(llm=llm, similarity_top_k=1).query("What does Kimi do?")
    assert str(answer)
    assert answer.source_nodes and "filename" in answer.source_nodes[0].metadata


def test_document_messages(keyed: KimiEmulator, folder: Path) -> None:
    llm = Kimi(api_key=KEY, api_base=keyed.base_url, provider="moonshot", model="kimi-k2.6")
    docs = reader(keyed).load_data(folder / "guide.md")
    messages = kimi_document_messages(docs, llm=llm, question="What does Kimi do?")
    assert [(m.role, m.content) for m in messages] == [
        (MessageRole.SYSTEM, "# Guide\n\nKimi extracts files."),
        (MessageRole.USER, "What does Kimi do?"),
    ]
    assert messages.estimated_by == "platform" and messages.tokens > 0
    assert llm.chat(messages).message.content
    sent = keyed.chat_requests[-1].json["messages"]
    assert sent[0] == {"role": "system", "content": "# Guide\n\nKimi extracts files."}
    with pytest.raises(kc.DocumentsTooLargeError, match="use retrieval"):
        kimi_document_messages(docs, llm=llm, reserve_tokens=262_144)


async def test_document_messages_async(keyed: KimiEmulator) -> None:
    llm = Kimi(api_key=KEY, api_base=keyed.base_url, provider="moonshot", model="kimi-k3")
    messages = await akimi_document_messages(["A text."], llm=llm)
    assert [m.content for m in messages] == ["A text."]
    assert messages.context_window == kc.get_model_info("kimi-k3").context_window
