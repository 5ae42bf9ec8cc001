"""CSV that a spreadsheet opens as text: the one guard against formulas in a download.

Excel, LibreOffice and Google Sheets run a cell that begins with ``=``, ``+``, ``-`` or
``@`` (and some a tab or carriage return) as a formula, which can fetch a URL or run a
command on the machine of whoever opens the file. A cell in a download holds what people
wrote (a group's statements, a format's title), so every cell of every CSV the service
writes goes through ``cell``: one that would start a formula is prefixed with an apostrophe,
the spreadsheets' own mark for "this is text".

"Would start a formula" looks past what a person does not see: a byte order mark, a
zero-width space or joiner, any other invisible format character and leading spaces; and it
folds the full-width and small forms (``＝``, ``＋``, ``－``, ``＠``, ``﹦``) to the characters
some spreadsheets take them for.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable
from typing import Any

TRIGGERS = frozenset("=+-@\t\r\n")


def _first_seen(text: str) -> str:
    """The first character a spreadsheet acts on: invisible format characters (BOM,
    zero-width, direction marks), other controls and spaces skipped; tab, CR and LF count."""
    for ch in text:
        if ch in "\t\r\n":
            return ch
        if ch.isspace() or unicodedata.category(ch) in ("Cf", "Cc", "Zs"):
            continue
        return unicodedata.normalize("NFKC", ch)[:1]
    return ""


def cell(value: Any) -> str:
    """``value`` as a cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if _first_seen(text) in TRIGGERS else text


def document(rows: Iterable[Iterable[Any]]) -> str:
    """Rows as a CSV file (CRLF, as RFC 4180), every cell guarded."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([cell(v) for v in row] for row in rows)
    return out.getvalue()
