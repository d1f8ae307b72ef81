"""Structure-aware chunking of Markdown text.

Fixed token windows cut answers in half. chunk_markdown splits on the strongest boundary
available: headings first, so a chunk never mixes two sections; then paragraphs; then sentences
for paragraphs that are too long on their own. Each chunk remembers its heading path, which is
embedded with it, because a paragraph rarely names the subject its heading gives it.

Chunking is a pure function of the text and the settings, and chunk ids derive from the
document and the chunk's position, so re-embedding a corpus keeps every id stable.
"""

import hashlib
import re
from dataclasses import dataclass, field

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
# A sentence ends at . ! or ? followed by a space and a capital letter or a digit; decimals
# such as 3.5 and abbreviations followed by lower case stay inside the sentence.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


@dataclass
class Chunk:
    doc_id: str
    index: int
    text: str
    heading_path: list[str] = field(default_factory=list)

    @property
    def chunk_id(self) -> str:
        return hashlib.sha1(f"{self.doc_id}:{self.index}".encode()).hexdigest()[:16]

    def text_for_embedding(self) -> str:
        prefix = " > ".join(self.heading_path)
        return f"{prefix}\n\n{self.text}" if prefix else self.text


def split_sentences(paragraph: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(paragraph.strip()) if s]


def _word_count(text: str) -> int:
    return len(text.split())


def _sections(text: str):
    """Yields (heading_path, paragraphs) for each run of text under one heading."""
    path: list[str] = []
    paragraphs: list[str] = []
    current: list[str] = []

    def end_paragraph():
        if current:
            paragraphs.append(" ".join(current))
            current.clear()

    for line in text.splitlines():
        heading = _HEADING.match(line)
        if heading:
            end_paragraph()
            if paragraphs:
                yield list(path), list(paragraphs)
                paragraphs.clear()
            level = len(heading.group(1))
            path = path[: level - 1] + [heading.group(2).strip()]
        elif not line.strip():
            end_paragraph()
        else:
            current.append(line.strip())
    end_paragraph()
    if paragraphs:
        yield list(path), list(paragraphs)


def _pieces(paragraph: str, max_words: int) -> list[str]:
    """A paragraph, or its sentences when it is longer than max_words on its own."""
    if _word_count(paragraph) <= max_words:
        return [paragraph]
    return split_sentences(paragraph)


def chunk_markdown(text: str, max_words: int = 250, doc_id: str = "") -> list[Chunk]:
    """Splits Markdown into chunks of at most max_words words (a longer sentence stays whole)."""
    if max_words < 1:
        raise ValueError("max_words must be at least 1")
    doc_id = doc_id or hashlib.sha1(text.encode()).hexdigest()[:12]
    chunks: list[Chunk] = []
    for path, paragraphs in _sections(text):
        buffer: list[str] = []
        for paragraph in paragraphs:
            for piece in _pieces(paragraph, max_words):
                if buffer and _word_count(" ".join(buffer + [piece])) > max_words:
                    chunks.append(Chunk(doc_id, len(chunks), "\n\n".join(buffer), path))
                    buffer = []
                buffer.append(piece)
        if buffer:
            chunks.append(Chunk(doc_id, len(chunks), "\n\n".join(buffer), path))
    return chunks
