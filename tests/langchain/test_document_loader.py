"""``KimiFileLoader`` and ``kimi_document_messages`` over real HTTP against the emulator."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import pytest
from langchain_core.documents import Document
from langchain_core.exceptions import ContextOverflowError
from langchain_core.messages import HumanMessage, SystemMessage

import kimi_core as kc
from kimi_emulator import KimiEmulator
from langchain_kimi import (
    ChatKimi,
    KimiAuthenticationError,
    KimiFileLoader,
    akimi_document_messages,
    kimi_document_messages,
)

KEY = "sk-loader-0123456789abcdef-SECRET"


@pytest.fixture
def emu() -> KimiEmulator:
    with KimiEmulator(api_key=KEY) as emulator:
        yield emulator  # type: ignore[misc]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "guide.md").write_text("# Guide\n\nKimi extracts files.", encoding="utf-8")
    (tmp_path / "page.html").write_bytes(b"<html><body><p>Hello <b>page</b></p></body></html>")
    (tmp_path / "paper.pdf").write_bytes(b"%PDF-1.7 binary")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "table.csv").write_bytes(b"a,b\n1,2\n")
    return tmp_path


def loader(emu: KimiEmulator, files: object, **kw: object) -> KimiFileLoader:
    return KimiFileLoader(
        files, api_key=KEY, base_url=emu.base_url, provider="moonshot", max_retries=0, **kw
    )


def test_a_directory_loads_one_document_per_file(emu: KimiEmulator, folder: Path) -> None:
    docs = loader(emu, folder).load()
    assert [Path(d.metadata["source"]).name for d in docs] == [
        "guide.md",
        "page.html",
        "paper.pdf",
        "table.csv",
    ]
    guide = docs[0]
    assert guide.page_content == "# Guide\n\nKimi extracts files."
    assert guide.metadata == {
        "source": str(folder / "guide.md"),
        "filename": "guide.md",
        "file_type": "text/markdown",
        "title": "",
        "length": len(guide.page_content),
    }
    assert docs[1].page_content == "Hello page"
    assert docs[2].metadata["file_type"] == "application/pdf"
    assert "comes from the Kimi emulator" in docs[2].page_content
    assert emu.files == {}


def test_glob_paths_file_objects_and_kept_files(emu: KimiEmulator, folder: Path) -> None:
    docs = loader(emu, folder, glob="*.md").load()
    assert [d.metadata["filename"] for d in docs] == ["guide.md"]
    mixed = loader(
        emu,
        [folder / "sub" / "table.csv", ("notes.txt", b"from bytes"), io.BytesIO(b"x")],
    )
    with pytest.raises(kc.ConfigurationError, match="filename=None"):
        list(mixed.lazy_load())
    kept = loader(emu, [("notes.txt", b"from bytes")], keep_files=True).load()
    assert kept[0].metadata["file_id"] in emu.files
    with pytest.raises(kc.ConfigurationError, match="no files matching"):
        KimiFileLoader(folder, glob="*.docx", api_key=KEY, base_url=emu.base_url)


async def test_alazy_load(emu: KimiEmulator, folder: Path) -> None:
    seen: list[tuple[int, int]] = []
    ld = loader(emu, folder, max_concurrency=3, on_progress=lambda d, t, _: seen.append((d, t)))
    docs = [d async for d in ld.alazy_load()]
    assert len(docs) == 4 and all(isinstance(d, Document) for d in docs)
    assert sorted(seen) == [(1, 4), (2, 4), (3, 4), (4, 4)]  # counted across batches
    assert [d.metadata["filename"] for d in await loader(emu, folder).aload()] == [
        d.metadata["filename"] for d in docs
    ]
    assert emu.files == {}


def test_failures_raise_or_are_skipped(emu: KimiEmulator, folder: Path) -> None:
    emu.extract_failures = {"paper.pdf"}
    with pytest.raises(kc.FileExtractionError, match=r"paper\.pdf"):
        loader(emu, folder).load()
    skipping = loader(emu, folder, on_error="skip")
    docs = skipping.load()
    assert [d.metadata["filename"] for d in docs] == ["guide.md", "page.html", "table.csv"]
    assert [type(e) for e in skipping.errors] == [kc.FileExtractionError]
    assert emu.files == {}
    wrong_key = KimiFileLoader(folder, api_key="sk-wrong-key-000000", base_url=emu.base_url)
    with pytest.raises(KimiAuthenticationError):
        wrong_key.load()


def test_the_key_never_shows(emu: KimiEmulator, folder: Path) -> None:
    ld = loader(emu, folder, default_headers={"X-Api-Key": KEY})
    assert KEY not in repr(ld)
    data = pickle.dumps(ld)
    assert KEY.encode() not in data
    again = pickle.loads(data)  # this process holds the key: the copy loads
    assert [d.metadata["filename"] for d in again.load()] == [
        "guide.md",
        "page.html",
        "paper.pdf",
        "table.csv",
    ]


def test_a_splitter_and_a_vector_store_take_the_documents(emu: KimiEmulator, folder: Path) -> None:
    from langchain_core.embeddings import DeterministicFakeEmbedding
    from langchain_core.vectorstores import InMemoryVectorStore

    docs = loader(emu, folder).load()
    store = InMemoryVectorStore.from_documents(docs, DeterministicFakeEmbedding(size=16))
    found = store.as_retriever(search_kwargs={"k": 2}).invoke("Kimi")
    assert len(found) == 2 and all("source" in d.metadata for d in found)


def test_document_messages_follow_moonshots_pattern(emu: KimiEmulator, folder: Path) -> None:
    chat = ChatKimi(model="kimi-k2.6", api_key=KEY, base_url=emu.base_url, provider="moonshot")
    docs = loader(emu, folder, glob="*.md").load()
    messages = kimi_document_messages(docs, model=chat, question="What does Kimi do?")
    assert messages == [
        SystemMessage(content="# Guide\n\nKimi extracts files."),
        HumanMessage(content="What does Kimi do?"),
    ]
    assert messages.estimated_by == "platform" and messages.tokens > 0
    assert emu.requests[-1].path == "/v1/tokenizers/estimate-token-count"
    answer = chat.invoke(messages)
    assert answer.content
    sent = emu.chat_requests[-1].json["messages"]
    assert sent[0] == {"role": "system", "content": "# Guide\n\nKimi extracts files."}
    with pytest.raises(ContextOverflowError, match="use retrieval") as caught:
        kimi_document_messages(docs, model=chat, reserve_tokens=262_144)
    assert isinstance(caught.value, kc.ContextWindowExceededError)
    assert caught.value.context_window == 262_144  # type: ignore[attr-defined]


async def test_document_messages_async(emu: KimiEmulator) -> None:
    chat = ChatKimi(model="kimi-k3", api_key=KEY, base_url=emu.base_url, provider="moonshot")
    messages = await akimi_document_messages(["A text."], model=chat)
    assert messages == [SystemMessage(content="A text.")]
    assert messages.context_window == kc.get_model_info("kimi-k3").context_window
