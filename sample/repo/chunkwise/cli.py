"""The `chunkwise` command: clean and chunk a Markdown file, or search a chunk file.

    chunkwise chunk post.md --max-words 250 > chunks.jsonl
    chunkwise search chunks.jsonl "query words" -k 5

Chunks go to standard output as JSON Lines so they can be piped into other tools; search results
are printed one per line with their score and heading path.
"""

import argparse
import json
import sys
from pathlib import Path

from chunkwise.chunk import chunk_markdown
from chunkwise.clean import clean_text
from chunkwise.embed import HashingEmbedder
from chunkwise.index import ChunkIndex
from chunkwise.io import chunk_to_dict, read_chunks


def _chunk(args) -> int:
    text = clean_text(Path(args.file).read_text(encoding="utf-8"))
    for chunk in chunk_markdown(text, max_words=args.max_words, doc_id=Path(args.file).stem):
        print(json.dumps(chunk_to_dict(chunk), ensure_ascii=False))
    return 0


def _search(args) -> int:
    index = ChunkIndex(HashingEmbedder(dim=args.dim))
    index.add_many(list(read_chunks(args.chunks)))
    if not len(index):
        print(f"chunkwise: {args.chunks} holds no chunks", file=sys.stderr)
        return 1
    for hit in index.search(args.query, k=args.k):
        heading = " > ".join(hit.chunk.heading_path) or "(no heading)"
        preview = hit.chunk.text.replace("\n", " ")[:70]
        print(f"{hit.score:.3f}  {hit.chunk.doc_id}#{hit.chunk.index}  {heading}  {preview}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chunkwise", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    chunk = commands.add_parser("chunk", help="clean and chunk a Markdown file")
    chunk.add_argument("file")
    chunk.add_argument("--max-words", type=int, default=250)
    chunk.set_defaults(run=_chunk)

    search = commands.add_parser("search", help="search a JSON Lines chunk file")
    search.add_argument("chunks")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=5)
    search.add_argument("--dim", type=int, default=512)
    search.set_defaults(run=_search)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (OSError, ValueError) as error:
        print(f"chunkwise: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
