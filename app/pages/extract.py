"""Babel extractors for the words that live outside templates and ``_()`` calls.

``extract_format``: a reflective practice format's TOML (app/facilitation/formats/*.toml):
its title, summary, evaluation statements, and each phase's title and prompt. The pages show
them with ``_(…)``, so the format files stay in English and the catalogs carry their words.

``extract_constants``: the core's tables of words (app/facilitation is pure: it has no
gettext). The top-level assignments named in ``names`` (babel.cfg) give their string values:
a dict's values, or each tuple's last elements (``(key, title, question)`` gives title and question).
"""

from __future__ import annotations

import ast
import io
import tomllib
from collections.abc import Iterator
from typing import IO, Any

from babel.messages.extract import extract_python

Extracted = Iterator[tuple[int, str, str, list[str]]]


def extract_format(fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, str]) -> Extracted:
    spec = tomllib.loads(fileobj.read().decode("utf-8"))
    where = f"format {spec.get('id', '?')}"
    for key in ("title", "summary"):
        if spec.get(key):
            yield 1, "", spec[key], [where]
    for statement in spec.get("evaluation", []):
        yield 1, "", statement, [f"{where}: evaluation statement"]
    for phase in spec.get("phases", []):
        for key in ("title", "prompt"):
            if phase.get(key):
                yield 1, "", phase[key], [f"{where}, phase {phase.get('id', '?')}: {key}"]


def _strings(node: ast.AST, skip_first: bool) -> Iterator[tuple[int, str]]:
    if isinstance(node, ast.Dict):
        for value in node.values:
            yield from _strings(value, skip_first=False)
    elif isinstance(node, (ast.Tuple, ast.List)):
        elements = node.elts
        if skip_first and elements and all(isinstance(e, ast.Constant) for e in elements):
            elements = elements[1:]  # (key, words, …): the key is not shown
        for element in elements:
            yield from _strings(element, skip_first=True)
    elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value:
        yield node.lineno, node.value


def refusal_sentence(message: str) -> str:
    """A core refusal as the pages show it when no rewording fits (``app.pages.words.plain``)."""
    return message[:1].upper() + message[1:] + ("" if message.endswith((".", "!", "?")) else ".")


def _refusals(tree: ast.AST) -> Extracted:
    """``raise Conflict("you have answered the evaluation already")``: the sentence a page shows."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
            first = node.exc.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value:
                yield node.lineno, "", refusal_sentence(first.value), ["A refusal, shown to the person who tried it."]


def extract_constants(fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, str]) -> Extracted:
    """The named tables' words, and the file's own ``_("…")`` and ``ngettext("…", "…", n)``
    calls (a function given its gettext as a parameter, such as ``to_markdown(record, _)``)."""
    names = set(options.get("names", "").replace(",", " ").split())
    source = fileobj.read()
    yield from extract_python(io.BytesIO(source), {"_": None, "ngettext": (1, 2)}, comment_tags, {})
    tree = ast.parse(source)
    yield from _refusals(tree)
    for statement in tree.body:
        targets: list[ast.expr] = []
        value = None
        if isinstance(statement, ast.Assign):
            targets, value = statement.targets, statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            targets, value = [statement.target], statement.value
        if value is None or not any(isinstance(t, ast.Name) and t.id in names for t in targets):
            continue
        for line, text in _strings(value, skip_first=True):
            yield line, "", text, []
