"""chunkwise: text cleaning, chunking and retrieval for retrieval-augmented generation.

The package is deliberately small and has no dependencies outside the standard library, so that
it can run inside tests and notebooks without downloading a model. The public API is re-exported
here; see the README for an example.
"""

from chunkwise.chunk import Chunk, chunk_markdown, split_sentences
from chunkwise.clean import clean_text, collapse_whitespace, fold_unicode, strip_boilerplate
from chunkwise.embed import HashingEmbedder
from chunkwise.index import ChunkIndex, SearchHit
from chunkwise.io import read_chunks, write_chunks

__all__ = [
    "Chunk",
    "ChunkIndex",
    "HashingEmbedder",
    "SearchHit",
    "chunk_markdown",
    "clean_text",
    "collapse_whitespace",
    "fold_unicode",
    "read_chunks",
    "split_sentences",
    "strip_boilerplate",
    "write_chunks",
]

__version__ = "0.3.1"
