"""Cleaning crawled text before it is chunked or used for fine-tuning.

Crawled articles and social posts carry three kinds of noise that hurt both retrieval and
training: compatibility characters (the "bold" mathematical letters people use on social
platforms, ligatures, full-width digits), irregular whitespace copied from HTML, and page
furniture that survived extraction ("Follow me for more", "Thanks for reading"). Code fences are
left byte for byte, because whitespace is meaning there.
"""

import re
import unicodedata

# Lines that are furniture wherever they appear; matched case-insensitively as whole lines.
BOILERPLATE_PATTERNS = [
    r"thanks for reading.*",
    r"subscribe( now| for free)?.*",
    r"follow (me|us)( for more)?.*",
    r"share this (post|article)\.?",
    r"sign (up|in)( to .*)?",
    r"\d+(\.\d+)?k? (claps|likes|comments|reactions)",
    r"\d+ min read",
]
_BOILERPLATE = re.compile(r"^\s*(?:" + "|".join(BOILERPLATE_PATTERNS) + r")\s*$", re.IGNORECASE)
_FENCE = re.compile(r"^(```|~~~)")


def fold_unicode(text: str) -> str:
    """NFKC-normalise: folds decorative letters such as 𝗧𝗶𝗽 to plain 'Tip'."""
    return unicodedata.normalize("NFKC", text)


def collapse_whitespace(line: str) -> str:
    """Collapses runs of spaces, tabs and non-breaking spaces into one space."""
    return " ".join(line.split())


def strip_boilerplate(lines: list[str]) -> list[str]:
    """Drops whole lines that are page furniture."""
    return [line for line in lines if not _BOILERPLATE.match(line)]


def _segments(text: str):
    """Yields (is_code, lines) for alternating prose and fenced-code segments."""
    lines, in_code = [], False
    for line in text.splitlines():
        if _FENCE.match(line.strip()):
            if in_code:
                lines.append(line)
                yield True, lines
                lines, in_code = [], False
                continue
            if lines:
                yield False, lines
            lines, in_code = [line], True
            continue
        lines.append(line)
    if lines:
        yield in_code, lines


def clean_text(text: str) -> str:
    """Returns the text folded, collapsed and without furniture; paragraphs stay separated.

    Blank lines are kept (at most one in a row) because the chunker splits paragraphs there.
    """
    out: list[str] = []
    for is_code, lines in _segments(text):
        if is_code:
            out.extend(lines)
            continue
        for line in strip_boilerplate([collapse_whitespace(fold_unicode(l)) for l in lines]):
            if line or (out and out[-1]):
                out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)
