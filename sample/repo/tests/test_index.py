"""Tests for chunkwise.index and chunkwise.embed: ranking, duplicates, determinism."""

from chunkwise.chunk import Chunk
from chunkwise.embed import HashingEmbedder
from chunkwise.index import ChunkIndex


def make_index():
    index = ChunkIndex(HashingEmbedder(dim=256))
    index.add_many(
        [
            Chunk("a", 0, "HNSW recall depends on efSearch and the graph degree M."),
            Chunk("b", 0, "LoRA adapters train low-rank matrices next to frozen weights."),
            Chunk("c", 0, "Cron schedules decide when a backfill run starts."),
        ]
    )
    return index


def test_search_ranks_the_matching_chunk_first():
    hits = make_index().search("efSearch recall in HNSW", k=2)
    assert hits[0].chunk.doc_id == "a"
    assert hits[0].score > hits[1].score if len(hits) > 1 else True


def test_duplicate_chunk_ids_are_not_added_twice():
    index = make_index()
    assert not index.add(Chunk("a", 0, "different text, same id"))
    assert len(index) == 3


def test_embeddings_are_deterministic_and_unit_length():
    embedder = HashingEmbedder(dim=64)
    v = embedder.embed("vector search with cosine similarity")
    assert v == embedder.embed("vector search with cosine similarity")
    assert abs(sum(x * x for x in v) - 1.0) < 1e-9
