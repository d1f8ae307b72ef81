"""Reading and writing chunks as JSON Lines, one chunk per line.

JSON Lines keeps chunk files appendable and streamable, and every language in a data pipeline can
read them. Unknown keys are ignored on reading so that files written by newer versions, with
extra metadata, still load.
"""

import json
from pathlib import Path
from typing import Iterable, Iterator

from chunkwise.chunk import Chunk


def chunk_to_dict(chunk: Chunk) -> dict:
    return {
        "id": chunk.chunk_id,
        "doc_id": chunk.doc_id,
        "index": chunk.index,
        "heading_path": chunk.heading_path,
        "text": chunk.text,
    }


def chunk_from_dict(record: dict) -> Chunk:
    try:
        return Chunk(
            doc_id=record["doc_id"],
            index=int(record["index"]),
            text=record["text"],
            heading_path=list(record.get("heading_path", [])),
        )
    except KeyError as missing:
        raise ValueError(f"chunk record without {missing}") from None


def write_chunks(chunks: Iterable[Chunk], path: Path | str) -> int:
    """Writes the chunks to `path`, replacing it; returns how many were written."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    count = 0
    with tmp.open("w", encoding="utf-8") as out:
        for chunk in chunks:
            out.write(json.dumps(chunk_to_dict(chunk), ensure_ascii=False) + "\n")
            count += 1
    tmp.replace(path)  # atomic: readers never see half a file
    return count


def read_chunks(path: Path | str) -> Iterator[Chunk]:
    with Path(path).open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                yield chunk_from_dict(json.loads(line))
            except (json.JSONDecodeError, ValueError) as error:
                raise ValueError(f"{path}:{number}: {error}") from None
