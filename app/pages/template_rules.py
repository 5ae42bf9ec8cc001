"""What a template may not do, checked as it is compiled: make data markup or a format string.

Every page is autoescaped. A message of the product's own, written in the template, is
trusted markup whose values are escaped as they are filled in (``templates._page_gettext``);
everything a person or a file supplies is shown with ``|translated``, escaped and never
formatted. A template that breaks one of these rules does not compile, so a page that would
show data as markup, or fail on a ``%`` in it, never reaches a viewer (SECURITY.md).
"""

from __future__ import annotations

import re

import jinja2
from jinja2 import nodes

from app.pages.i18n import stray_percent

# The callables whose first arguments are a message of the product's own (``pgettext``: its
# context too): how many leading arguments must be written in the template itself.
MESSAGE_ARGS = {"_": 1, "gettext": 1, "ngettext": 2, "pgettext": 2}
# A form's opening tag, as the template writes it (what jinja fills in between is left out),
# and whether it says where its fields go or how (a form the page's script sends: method="dialog").
FORM_TAG = re.compile(r"<form\b[^>]*>", re.IGNORECASE)
SAYS_HOW = re.compile(r"""\b(?:action|method)\s*=""", re.IGNORECASE)
# Filters that write a value out as words ("0,87", "2:10"): no count for choosing a plural.
AS_WORDS = {"number", "percent", "minutes", "clock", "spoken", "utc_time", "iso_time", "translated", "string"}


def check_template(tree: nodes.Template, name: str | None, filename: str | None) -> None:
    """Refuse, when a template is compiled, anything that could make data markup or a format
    string: a message to translate that is not written in the template (data is shown with
    ``|translated``, which escapes it and never formats it), a format string (``|format``,
    ``%``) that is not written there either, the ``safe`` filter, and turning autoescaping
    off; and ``|translated`` on a written message, which jinja would fold into
    the language the template happened to be compiled in. Every page is autoescaped; a
    message of the product's own is trusted markup whose values are escaped as they are
    filled in (``_page_gettext``)."""
    def refuse(node: nodes.Node, why: str) -> None:
        raise jinja2.TemplateSyntaxError(why, node.lineno, name, filename)

    for call in tree.find_all(nodes.Call):
        wanted = MESSAGE_ARGS.get(call.node.name) if isinstance(call.node, nodes.Name) else None
        written = all(isinstance(a, nodes.Const) and isinstance(a.value, str) for a in call.args[:wanted or 0])
        if wanted and (len(call.args) < wanted or not written):
            refuse(call, f"{call.node.name}() takes a message written in the template; show data with |translated")
        count = call.args[2] if wanted == 2 and call.node.name == "ngettext" and len(call.args) > 2 else None
        if isinstance(count, nodes.Filter) and count.name in AS_WORDS:
            refuse(call, "a plural is chosen by a count, not by its words: name it ({% pluralize count %})")
        if wanted and any(stray_percent(a.value) for a in call.args[:wanted]):
            refuse(call, "a percent sign in a message is written %%: its values are filled in with %")
    for used in tree.find_all(nodes.Filter):
        if used.name == "safe":
            refuse(used, "data is never marked safe in a template")
        if used.name == "format" and not isinstance(used.node, nodes.Const):
            refuse(used, "a format string is written in the template")
        if used.name == "translated" and isinstance(used.node, nodes.Const):  # folded at compile time
            refuse(used, "a message written in the template is translated with _()")
    for mod in tree.find_all(nodes.Mod):
        if not isinstance(mod.left, nodes.Const):
            refuse(mod, "a format string is written in the template (for a remainder: `is divisibleby`)")
    for line, tag in _form_tags(tree):
        if not SAYS_HOW.search(tag):
            raise jinja2.TemplateSyntaxError(
                "a form the page's script sends is written <form method=\"dialog\">: tapped before the "
                "script runs, the browser would put what was typed in the page's address (the server's "
                "log, the browser's history)", line, name, filename)
    for scoped in tree.find_all(nodes.ScopedEvalContextModifier):
        if any(o.key == "autoescape" and not (isinstance(o.value, nodes.Const) and o.value.value is True)
               for o in scoped.options):
            refuse(scoped, "every page is autoescaped")


def _form_tags(tree: nodes.Template) -> list[tuple[int, str]]:
    """Each ``<form ...>`` the template writes, with its line: the markup written in the
    template, joined across what jinja fills in."""
    parts = [(data.lineno, data.data) for data in tree.find_all(nodes.TemplateData)]
    text, lines = "", []
    for lineno, data in parts:
        lines.append((len(text), lineno))
        text += data + "\x00"
    found = []
    for match in FORM_TAG.finditer(text):
        line = max((ln for start, ln in lines if start <= match.start()), default=1)
        found.append((line, match.group(0)))
    return found
