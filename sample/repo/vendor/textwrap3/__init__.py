"""A vendored copy of a small text-wrapping helper, pinned here so the CLI has no dependencies.

Vendored code belongs to its upstream project: crawlers building a corpus of the repository
owner's own writing must skip it.
"""


def wrap(text, width=70):
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return lines
