"""A small local embedding for the RAG examples: nothing to download, no key, deterministic.

Kimi has no embeddings endpoint: a RAG pipeline pairs Kimi's chat (and its file extraction)
with any embedding model. In production use a real one (OpenAI, Voyage, a local
sentence-transformers model, ...). The examples use this one so that they run anywhere:
each word (lower-cased) and each pair of adjacent words is hashed into one of ``dim``
buckets with a sign, and the vector is normalised. Texts that share words end up close,
which is enough to retrieve this project's docs by the words of a question; it knows
nothing of meaning.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re

from langchain_core.embeddings import Embeddings
from llama_index.core.embeddings import BaseEmbedding

__all__ = ["HashingEmbedding", "HashingEmbeddings", "hash_vector"]

_WORD = re.compile(r"\w+")
DIM = 256


def hash_vector(text: str, dim: int = DIM) -> list[float]:
    """The text's words and word pairs, hashed into ``dim`` signed buckets, normalised."""
    words = _WORD.findall(text.lower())
    vector = [0.0] * dim
    for feature in [*words, *(f"{a} {b}" for a, b in itertools.pairwise(words))]:
        digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        vector[value % dim] += 1.0 if value >> 63 else -1.0
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


class HashingEmbedding(BaseEmbedding):
    """:func:`hash_vector` as a LlamaIndex embedding model."""

    dim: int = DIM

    @classmethod
    def class_name(cls) -> str:
        return "HashingEmbedding"

    def _get_text_embedding(self, text: str) -> list[float]:
        return hash_vector(text, self.dim)

    def _get_query_embedding(self, query: str) -> list[float]:
        return hash_vector(query, self.dim)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return hash_vector(query, self.dim)


class HashingEmbeddings(Embeddings):
    """:func:`hash_vector` as LangChain embeddings."""

    def __init__(self, dim: int = DIM) -> None:
        self.dim = dim

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [hash_vector(t, self.dim) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return hash_vector(text, self.dim)
