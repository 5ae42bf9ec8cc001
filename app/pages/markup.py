"""Escaping what a page writes: markupsafe's ``escape``, without what it costs for nothing.

Every value an autoescaped template writes (``{{ p.name }}``) and every value the buttons and
charts built in code write goes through ``escape``: some three hundred times for each change
of a room, for every room. markupsafe's makes a new ``Markup`` of a value that is markup
already (a copy of a rendered button, or of a whole chart, each time one is written) and
makes every ``Markup`` through ``Markup.__new__``'s Python code. Here markup is returned as it
is (a string cannot change), a plain string is escaped by markupsafe's own escaping, and a
number is written as its digits (which hold nothing to escape). Anything else (None, words
in the reader's language, an object with ``__html__``) takes markupsafe's own path, so the
result is always the one markupsafe gives (tests/test_markup_injection.py holds it to it).
"""

from __future__ import annotations

from typing import Any

import jinja2
import markupsafe
from markupsafe import Markup

try:
    from markupsafe import _escape_inner  # markupsafe 3: a str's escaping, in C where built
except ImportError:  # another markupsafe: its public escape, a little dearer
    def _escape_inner(s: str, /) -> str:
        return str(markupsafe.escape(s))

_markup = str.__new__


def escape(value: Any, /) -> Markup:
    """``value`` as HTML text, exactly as ``markupsafe.escape`` writes it."""
    kind = type(value)
    if kind is Markup:
        return value  # type: ignore[no-any-return]
    if kind is str:
        return _markup(Markup, _escape_inner(value))  # type: ignore[no-any-return]
    if kind is int or kind is float:
        return _markup(Markup, str(value))  # type: ignore[no-any-return]
    return markupsafe.escape(value)


class PageTemplate(jinja2.Template):
    """A template whose ``{{ value }}`` is escaped by ``escape`` above. A compiled template
    writes each value as ``escape(value)``, the name looked up in the template's own module;
    that module's ``escape`` is set to this one as the template is made."""

    @classmethod
    def from_code(cls, environment: jinja2.Environment, code: Any, globals: Any,  # noqa: A002 (jinja's name)
                  uptodate: Any = None) -> jinja2.Template:
        template = super().from_code(environment, code, globals, uptodate)
        module = template.root_render_func.__globals__
        assert module.get("escape") is markupsafe.escape, "a template's values are escaped by another function"
        module["escape"] = escape
        return template
