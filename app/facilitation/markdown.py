"""Text that people and format files wrote, made safe to put in a Markdown download.

A downloaded summary, reflection or CPD record is opened in whatever renders Markdown:
an editor's preview, a wiki, a repository. Those render HTML written in the Markdown, and
turn brackets, stars and a ``#`` at the start of a line into links, emphasis and headings.
What a person wrote must come out as they wrote it, so every piece of it goes through
``inline`` (a title, an action, one line of a list or table) or ``block`` (a reflection's
paragraphs): HTML's three special characters become entities (read the same way by every
Markdown, old or CommonMark) and the punctuation that Markdown acts on is escaped with a
backslash, so the rendered text is the written text, character for character.
"""

from __future__ import annotations

import re

# Punctuation Markdown acts on anywhere in a line: code, emphasis, links and images, tables,
# strikethrough, and the backslash itself.
_INLINE = re.compile(r"([\\`*_\[\]|~])")
# What makes a line something else: a heading, a list item, a numbered item, a setext
# underline, a fence. (A quote starts with ``>``, which is already an entity.)
_LINE_START = re.compile(r"^([#+\-=]|\d+(?=[.)]))")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _line(text: str) -> str:
    text = "".join(_HTML.get(ch, ch) for ch in text.strip())  # leading spaces would make a code block
    text = _INLINE.sub(r"\\\1", text)
    return _LINE_START.sub(lambda m: m[1] + "\\" if m[1][0].isdigit() else "\\" + m[1], text)


def inline(text: str | None) -> str:
    """One line of Markdown that renders as ``text``: its line breaks are spaces."""
    return _line(" ".join((text or "").split()))


def block(text: str | None) -> str:
    """Paragraphs of Markdown that render as ``text``: each line escaped, the breaks kept."""
    return "\n".join(_line(line) for line in (text or "").splitlines())
