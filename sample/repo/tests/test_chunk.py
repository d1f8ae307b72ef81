"""Tests for chunkwise.chunk: heading paths, size limits, sentence splitting, stable ids."""

import pytest

from chunkwise.chunk import chunk_markdown, split_sentences

DOC = """# Guide

Intro paragraph about the guide.

## Install

Run pip install. Then check the version.

## Use

First paragraph of use.

Second paragraph of use.
"""


def test_chunks_carry_their_heading_path():
    chunks = chunk_markdown(DOC, max_words=100, doc_id="guide")
    assert [c.heading_path for c in chunks] == [["Guide"], ["Guide", "Install"], ["Guide", "Use"]]
    assert chunks[2].text == "First paragraph of use.\n\nSecond paragraph of use."


def test_small_limit_splits_paragraphs_then_sentences():
    chunks = chunk_markdown(DOC, max_words=4, doc_id="guide")
    texts = [c.text for c in chunks]
    assert "Run pip install." in texts
    assert "Then check the version." in texts


def test_ids_are_stable_across_runs():
    first = [c.chunk_id for c in chunk_markdown(DOC, doc_id="guide")]
    second = [c.chunk_id for c in chunk_markdown(DOC, doc_id="guide")]
    assert first == second and len(set(first)) == len(first)


def test_split_sentences_keeps_decimals():
    assert split_sentences("Recall rose to 0.86 today. It was 0.71 before.") == [
        "Recall rose to 0.86 today.",
        "It was 0.71 before.",
    ]


def test_rejects_non_positive_limit():
    with pytest.raises(ValueError):
        chunk_markdown(DOC, max_words=0)
