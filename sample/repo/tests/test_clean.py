"""Tests for chunkwise.clean: folding, whitespace, boilerplate, code fences."""

from chunkwise.clean import clean_text, collapse_whitespace, fold_unicode, strip_boilerplate


def test_fold_unicode_turns_bold_letters_into_ascii():
    assert fold_unicode("𝗧𝗶𝗽: use 𝘄𝗮𝗿𝗺𝘂𝗽") == "Tip: use warmup"


def test_collapse_whitespace_handles_non_breaking_spaces():
    assert collapse_whitespace("a \u00a0 b\t\tc  ") == "a b c"


def test_strip_boilerplate_drops_whole_furniture_lines_only():
    lines = ["Thanks for reading Gradient Notes!", "I follow the data.", "12 min read", "Body."]
    assert strip_boilerplate(lines) == ["I follow the data.", "Body."]


def test_clean_text_keeps_code_fences_byte_for_byte():
    text = "Intro  text\n\n```\ndef f():\n    return  1\n```\n\nOutro"
    assert clean_text(text) == "Intro text\n\n```\ndef f():\n    return  1\n```\n\nOutro"


def test_clean_text_keeps_one_blank_line_between_paragraphs():
    assert clean_text("one\n\n\n\ntwo\n\n") == "one\n\ntwo"
