"""A bag-of-words embedder based on feature hashing.

Real RAG systems use a neural sentence encoder, but tests and notebooks should not download one.
HashingEmbedder maps each word and word bigram to one of `dim` buckets with a stable hash, weights
it by sublinear term frequency and normalises the vector, so cosine similarity behaves like a
crude TF-IDF without a fitted vocabulary. Vectors are plain lists of floats to avoid a numpy
dependency.
"""

import hashlib
import math
import re
from collections import Counter

_TOKEN = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
STOPWORDS = frozenset(
    "a an and are as at be by for from has have how i in is it its of on or that the this to "
    "was we were what when which who will with you your".split()
)


def tokenize(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]


def _bucket(feature: str, dim: int) -> tuple[int, float]:
    """Stable bucket and sign for a feature (Python's hash() is salted per process)."""
    digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
    value = int.from_bytes(digest, "little")
    return value % dim, 1.0 if (value >> 63) & 1 else -1.0


class HashingEmbedder:
    def __init__(self, dim: int = 512, bigrams: bool = True):
        if dim < 8:
            raise ValueError("dim must be at least 8")
        self.dim = dim
        self.bigrams = bigrams

    def features(self, text: str) -> Counter:
        tokens = tokenize(text)
        features = Counter(tokens)
        if self.bigrams:
            features.update(f"{a} {b}" for a, b in zip(tokens, tokens[1:]))
        return features

    def embed(self, text: str) -> list[float]:
        vector = [0.0] * self.dim
        for feature, count in self.features(text).items():
            bucket, sign = _bucket(feature, self.dim)
            vector[bucket] += sign * (1.0 + math.log(count))
        norm = math.sqrt(sum(x * x for x in vector))
        return [x / norm for x in vector] if norm else vector

    def embed_many(self, texts: list[str]) -> list[list[float]]:
        return [self.embed(t) for t in texts]


def cosine(a: list[float], b: list[float]) -> float:
    """Cosine similarity of two vectors (the embedder's are already unit length)."""
    dot = sum(x * y for x, y in zip(a, b))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0
