"""Pseudo-locales made from messages.pot, to see that nothing visible was left unwrapped.

``en-XA``: every letter accented, each message lengthened by about a third and bracketed,
``[Šéñţ. Ñöƀöðý ċåñ šéé ŵĥö ŵŕöţé îţ ~~~~ ~~~~]``: English text on a page in en-XA was missed.
``ar-XB``: the same words marked right to left, on a page with ``dir="rtl"``.
Placeholders (``%(name)s``, ``%%``) and markup (``<a href="…">``, ``&amp;``) are kept as they are.
"""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

ACCENTED = dict(zip(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "åƀċðéƒĝĥîĵķļɱñöþǫŕšţûṽŵẋýžÅƁĊÐÉƑĜĤÎĴĶĻṀÑÖÞǪŔŠŢÛṼŴẊÝŽ", strict=True))
KEEP = re.compile(r"%\([a-z_]+\)[sd]|%%|<[^>]*>|&[#a-z0-9]+;|\{[a-z_]+\}")
RLM = "\u200f"
OPEN, CLOSE = "[", "]"


def accent(text: str) -> str:
    """The accented, lengthened form of one message (placeholders and markup untouched)."""
    if not text:
        return text
    out, last = [], 0
    for kept in KEEP.finditer(text):
        out.append("".join(ACCENTED.get(c, c) for c in text[last:kept.start()]))
        out.append(kept.group())
        last = kept.end()
    out.append("".join(ACCENTED.get(c, c) for c in text[last:]))
    letters = sum(c.isalpha() for c in text)
    pad = max(1, letters // 3)  # a third longer, in short runs a line can break between
    return f"{OPEN}{''.join(out)} {' '.join('~' * min(4, pad - i) for i in range(0, pad, 4))}{CLOSE}"


def pseudo_text(code: str, text: str) -> str:
    accented = accent(text)
    return f"{RLM}{accented}{RLM}" if code == "ar-XB" else accented


def pseudo_catalog(code: str, pot: Path, locale: str) -> Catalog:
    """``code``'s catalog from the template ``pot``, with ``locale``'s plural rules."""
    with pot.open("rb") as f:
        template = read_po(f)
    catalog = Catalog(locale=locale)
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, (list, tuple)):
            one, many = message.id[0], message.id[1]
            forms = [pseudo_text(code, one)] + [pseudo_text(code, many)] * (catalog.num_plurals - 1)
            catalog.add(message.id, tuple(forms), context=message.context)
        else:
            catalog.add(message.id, pseudo_text(code, message.id), context=message.context)
    return catalog
