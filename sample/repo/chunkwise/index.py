"""An in-memory vector index over chunks, searched by exact cosine similarity.

Exact search is the ground truth an approximate index (HNSW, IVF) is measured against, and for
the few thousand chunks of one author's writing it is fast enough on its own. The index keeps the
chunks next to their vectors so results can be shown without a second lookup.
"""

import heapq
from dataclasses import dataclass

from chunkwise.chunk import Chunk
from chunkwise.embed import HashingEmbedder, cosine


@dataclass
class SearchHit:
    chunk: Chunk
    score: float


class ChunkIndex:
    def __init__(self, embedder: HashingEmbedder):
        self.embedder = embedder
        self._chunks: list[Chunk] = []
        self._vectors: list[list[float]] = []
        self._ids: set[str] = set()

    def __len__(self) -> int:
        return len(self._chunks)

    def add(self, chunk: Chunk) -> bool:
        """Adds a chunk; returns False (and keeps the old one) when its id is already there."""
        if chunk.chunk_id in self._ids:
            return False
        self._ids.add(chunk.chunk_id)
        self._chunks.append(chunk)
        self._vectors.append(self.embedder.embed(chunk.text_for_embedding()))
        return True

    def add_many(self, chunks: list[Chunk]) -> int:
        return sum(self.add(c) for c in chunks)

    def search(self, query: str, k: int = 5, min_score: float = 0.0) -> list[SearchHit]:
        """The k most similar chunks, best first; ties keep insertion order."""
        if k < 1:
            raise ValueError("k must be at least 1")
        q = self.embedder.embed(query)
        scored = (
            (cosine(q, v), -i) for i, v in enumerate(self._vectors)
        )
        best = heapq.nlargest(k, scored)
        return [
            SearchHit(self._chunks[-neg_i], score)
            for score, neg_i in best
            if score > min_score
        ]

    def documents(self) -> list[str]:
        """Ids of the documents that have at least one chunk, in insertion order."""
        seen: dict[str, None] = {}
        for c in self._chunks:
            seen.setdefault(c.doc_id, None)
        return list(seen)
