"""RAG in LangChain over this project's docs, their text extracted by Kimi.

    python examples/langchain_rag.py

``KimiFileLoader`` uploads each file with ``purpose=file-extract``, reads the text Kimi
extracted (pdf, docx, pptx, xlsx, html, images by OCR...; here the project's Markdown docs)
and deletes the upload: one ``Document`` per file. Then the usual chain: a splitter, a
vector store with an embedding model, a retriever, ``ChatKimi``. Kimi has no embeddings
endpoint: pair it with any embedding model (here a local hashing one,
``examples/_local_embedding.py``, so that the example needs nothing to download).

For documents that fit the model's window, Moonshot's own pattern needs no retrieval: their
text in system messages, then the question (``kimi_document_messages``, which checks the
fit with the platform's token estimate).

File extraction is a Moonshot platform endpoint: on another provider the files are read
locally instead, and the rest is the same.
"""

from __future__ import annotations

from pathlib import Path

from _backend import open_backend, run
from _local_embedding import HashingEmbeddings
from langchain_core.document_loaders import BaseLoader
from langchain_core.documents import BaseDocumentTransformer, Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough
from langchain_core.vectorstores import InMemoryVectorStore

import kimi_core as kc
from langchain_kimi import ChatKimi, KimiFileLoader, kimi_document_messages

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "How do I run the test suite without a Kimi API key?"


class ParagraphSplitter(BaseDocumentTransformer):
    """Chunks of whole paragraphs, up to ``size`` characters (a stand-in for
    langchain-text-splitters' ``RecursiveCharacterTextSplitter``, to keep the example's
    dependencies to langchain-core)."""

    def __init__(self, size: int = 1200) -> None:
        self.size = size

    def transform_documents(self, documents, **kwargs):  # type: ignore[no-untyped-def]
        chunks: list[Document] = []
        for doc in documents:
            current = ""
            for paragraph in doc.page_content.split("\n\n"):
                if current and len(current) + len(paragraph) > self.size:
                    chunks.append(Document(page_content=current, metadata=dict(doc.metadata)))
                    current = ""
                current = f"{current}\n\n{paragraph}" if current else paragraph
            if current:
                chunks.append(Document(page_content=current, metadata=dict(doc.metadata)))
        return chunks


class LocalLoader(BaseLoader):
    """The files as they are, where the provider has no file extraction."""

    def __init__(self, files: list[Path]) -> None:
        self.files = files

    def lazy_load(self):  # type: ignore[no-untyped-def]
        for f in self.files:
            yield Document(page_content=f.read_text(encoding="utf-8"), metadata={"source": str(f)})


def main() -> None:
    with open_backend() as backend:
        files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
        if kc.get_provider(backend.provider).has_platform_endpoints:
            kwargs = backend.langchain_kwargs()
            loader: BaseLoader = KimiFileLoader(files, **kwargs)
        else:
            print(f"note: {backend.provider} has no file extraction; reading the files locally")
            loader = LocalLoader(files)
        docs = loader.load()
        print(f"loaded: {len(docs)} documents, {sum(len(d.page_content) for d in docs)} characters")

        chunks = ParagraphSplitter().transform_documents(docs)
        store = InMemoryVectorStore.from_documents(chunks, HashingEmbeddings())
        retriever = store.as_retriever(search_kwargs={"k": 3})
        print(f"indexed: {len(chunks)} chunks")

        prompt = ChatPromptTemplate.from_messages(
            [
                ("system", "Answer from this context only:\n\n{context}"),
                ("human", "{question}"),
            ]
        )
        model = ChatKimi(model=backend.model, **backend.langchain_kwargs())
        chain = (
            {
                "context": retriever
                | (lambda found: "\n\n---\n\n".join(d.page_content for d in found)),
                "question": RunnablePassthrough(),
            }
            | prompt
            | model
            | StrOutputParser()
        )
        print(f"question: {QUESTION}")
        print(f"answer: {chain.invoke(QUESTION).strip()}")
        sources = sorted({Path(d.metadata["source"]).name for d in retriever.invoke(QUESTION)})
        print(f"sources: {', '.join(sources)}")

        # Documents that fit the window: Moonshot's pattern, no retrieval.
        guide = [d for d in docs if Path(d.metadata["source"]).name == "documents.md"]
        messages = kimi_document_messages(guide, model=model, question="What does Kimi charge?")
        print(
            f"whole document: {len(messages) - 1} system message(s), about {messages.tokens} "
            f"tokens ({messages.estimated_by} estimate) of {messages.context_window}"
        )
        print(f"answer: {model.invoke(messages).text.strip()}")


if __name__ == "__main__":
    run(main)
