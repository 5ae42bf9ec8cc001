"""The jinja2 environment for app/web/templates, and rendering one named block of a template.

A live region is a named block: the full page renders it in place on first load, and
``render_block`` renders the same block alone for a push over the socket.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import BuiltinMethodType, FunctionType
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, Macro
from markupsafe import Markup

from app.facilitation.durations import minutes_seconds
from app.facilitation.reflection import PROMPTS
from app.pages import i18n
from app.pages.breakouts import name_list
from app.pages.charts import round_order, voice_bars, voice_summary
from app.pages.controls import command, countdown
from app.pages.markup import PageTemplate, escape
from app.pages.page_scripts import preloads
from app.pages.template_rules import check_template
from app.pages.view import clock_region, clock_text, plural, spoken_text, viewer_region
from app.pages.words import plain, script_refusals
from app.realtime import close_codes, metrics
from app.resources import TEMPLATES, require

DICT_NAMES = frozenset(dir(dict))


class PageEnvironment(jinja2.Environment):
    """jinja's environment, with ``x.name`` on the page model's dicts taken as the item
    without first trying, and failing, the attribute: the same result (a dict's own
    attributes still win), and most of what rendering a region does. Each template is
    checked as it is compiled (``check_template``), and its values are escaped without
    markupsafe's copies (``PageTemplate``)."""

    template_class = PageTemplate

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        check_template(tree, name, filename)
        return tree

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in DICT_NAMES:
            try:
                return obj[attribute]
            except (TypeError, LookupError):
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


class PageContext(Context):
    """jinja's render context, calling what needs no context at once.

    Every call in a compiled template goes through ``Context.call``, which asks the callable,
    and its ``__call__``, whether it wants the context, the eval context or the environment.
    A template macro, a plain function that was not marked so (``pass_context``) and a
    built-in method (``p.get('phoneless')``, which can carry no mark) want none: they are
    called straight away, as jinja would call them after asking. The templates make about a
    hundred such calls a region (the words, the buttons), at every change of every room."""

    def call(__self, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (jinja's own signature)
        kind = type(__obj)
        if kind is Macro or kind is BuiltinMethodType or (kind is FunctionType and not hasattr(__obj, "jinja_pass_arg")):
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
            try:
                return __obj(*args, **kwargs)
            except StopIteration:
                return __self.environment.undefined("value was undefined because a callable raised a"
                                                    " StopIteration exception")
        return super().call(__obj, *args, **kwargs)


templates = PageEnvironment(
    loader=jinja2.FileSystemLoader(require(TEMPLATES)),
    autoescape=jinja2.select_autoescape(("html", "svg"), default_for_string=True),
    trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
    auto_reload=False,  # templates change with a deploy, not under a running server: no stat per render
    extensions=["jinja2.ext.i18n"],
)
templates.context_class = PageContext
# One environment for every language: the callables read the language of the render under
# way (app.pages.i18n.speaking). Newstyle: ``_("%(n)s joined", n=3)`` escapes its values and
# ``ngettext`` gets a real plural (``{% trans count=n %}…{% pluralize %}…{% endtrans %}``).
templates.policies["ext.i18n.trimmed"] = True  # a {% trans %} block's msgid is its text, whitespace folded
templates.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext)  # type: ignore[attr-defined]


# jinja's own newstyle callables take the render's context (``pass_context``), and jinja gives
# such a callable, called inside a loop or after a ``{% set %}``, a fresh copy of the whole
# context each time: a copy per message per person in the console's people list, on every
# change. These do what jinja's do (every page is autoescaped: the message is markup, its
# values are escaped into it) and take no context, so a message costs a catalog lookup.
def _page_gettext(message: str, **values: Any) -> str:
    if values:
        return filled(i18n.gettext(message), values)
    key = (i18n.current(), message)
    found = _WORDS.get(key)
    if found is None:  # a label without values: the same markup at every render in this language
        found = _WORDS[key] = Markup(i18n.gettext(message)) % {}
    return found


_WORDS: dict[tuple[str, str], Markup] = {}  # bounded by the templates' messages times the languages


def _page_ngettext(singular: str, plural_: str, n: int, **values: Any) -> str:
    values.setdefault("num", n)
    return filled(i18n.ngettext(singular, plural_, n), values)


def _page_pgettext(context: str, message: str, **values: Any) -> str:
    values.setdefault("context", context)
    return filled(i18n.pgettext(context, message), values)


def filled(message: str, values: dict[str, Any]) -> Markup:
    """``Markup(message) % values``: the message is the product's markup, each value escaped
    into it. Every message's placeholders are ``%(name)s`` (the catalogs' and the templates'),
    so each value is escaped once and the message filled as text, past markupsafe's wrapper
    of every value (a person's line in the console makes a few of these). A placeholder of
    another kind (``%(n)d`` wants the number itself) takes markupsafe's own way."""
    try:
        return _as_markup(Markup, message % {name: escape(value) for name, value in values.items()})  # type: ignore[no-any-return]
    except (TypeError, ValueError):
        return Markup(message) % values


_as_markup = str.__new__


def translated(text: Any) -> str:
    """Data shown in the viewer's language: a shipped format's title or prompt is one of the
    catalog's messages and comes out translated; anything else (a custom format's text, a
    group's statement) comes out as written. Either way it is plain text, escaped where it is
    shown, and never a format string: a ``%`` in it is a percent sign."""
    if text is None or text == "":
        return ""
    if isinstance(text, i18n.Words):
        return text.translated()
    return str(i18n.gettext(str(text)))


templates.globals.update(_=_page_gettext, gettext=_page_gettext, ngettext=_page_ngettext, pgettext=_page_pgettext)
templates.filters["translated"] = translated
templates.filters["clock"] = clock_text
templates.filters["spoken"] = spoken_text
templates.filters["minutes"] = minutes_seconds
templates.filters["plural"] = plural
templates.globals["plain"] = plain
templates.globals["viewer_region"] = viewer_region  # a phone's own data (phone.html's viewer block)
templates.globals["clock_region"] = clock_region  # every live page's clock: the server's time and the version
templates.globals["script_refusals"] = script_refusals  # refusals the scripts meet, by reason
templates.globals["script_codes"] = close_codes.FOR_SCRIPTS  # close codes and reasons, for the scripts
templates.globals["module_preloads"] = preloads  # every module a page's entry imports, asked for at once
templates.filters["iso_time"] = lambda t: datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")
# The server's words for a time, in the viewer's language (UTC); js/words.js rewrites it in the
# viewer's own time zone, in the page's language.
templates.filters["utc_time"] = i18n.local_datetime
templates.filters["utc_clock"] = i18n.local_clock
templates.filters["utc_day"] = i18n.local_day
templates.filters["utc_day_time"] = i18n.local_day_time
templates.globals["date_words"] = lambda: i18n.date_words(i18n.current())
templates.filters["number"] = i18n.local_number
templates.filters["shown"] = i18n.shown
templates.filters["percent"] = i18n.local_percent


def spread_summary(bars: Any) -> str:
    """A 1-to-5 spread as a screen reader hears it: "2 chose 1, 0 chose 2, …"."""
    return i18n.gettext(", ").join(
        i18n.ngettext("%(count)s chose %(score)s", "%(count)s chose %(score)s", b["count"])
        % {"count": i18n.local_number(b["count"]), "score": i18n.local_number(b["score"])} for b in bars or ())


# Parts of a region kept between its renderings (``kept``): the session's, while its regions render.
_parts: ContextVar[dict[str, Any] | None] = ContextVar("tp_parts", default=None)
PARTS_KEPT = 2048  # per session: past this, the parts are forgotten and made again as they are shown


@contextmanager
def keeping(parts: dict[str, Any]) -> Iterator[None]:
    """Render with ``parts`` as the store ``kept`` reuses (app.pages.regions: one per session)."""
    token = _parts.set(parts)
    try:
        yield
    finally:
        _parts.reset(token)


def kept(*inputs: Any, caller: Any) -> Any:
    """``{% call kept(p, m.status, …) %}…{% endcall %}``: one part of a region (a person's line in
    the console's list) made once per distinct inputs and language while its session's regions
    render, so that a turn change makes again only the lines whose inputs moved. The part reads
    nothing but the inputs named (as a region reads nothing but its declared inputs); outside a
    session's rendering (a first page load) it is simply made."""
    parts = _parts.get()
    if parts is None:
        return caller()
    key = repr((i18n.current(), inputs))
    html = parts.get(key)
    if html is None:
        if len(parts) >= PARTS_KEPT:
            parts.clear()
        html = parts[key] = caller()
    return html


templates.globals["kept"] = kept
# Where a phone's own place in the queue goes in a sentence every phone is sent alike:
# web/static/viewer.js writes the number in (regions.apply_viewer, for the tests).
QUEUE_SLOT = Markup("<span data-my-queue></span>")
templates.globals["queue_slot"] = lambda: QUEUE_SLOT
templates.globals.update(round_order=round_order, voice_bars=voice_bars, voice_summary=voice_summary,
                         spread_summary=spread_summary)


def render_page(name: str, lang: str | None = None, **context: Any) -> str:
    """A whole page, in ``lang`` (default: the language of the render under way)."""
    code = lang or i18n.current()
    with i18n.speaking(code):
        return templates.get_template(name).render(**i18n.page_context(code), **context)


@metrics.rendering
def render_block(name: str, block: str, lang: str | None = None, **context: Any) -> str:
    template = templates.get_template(name)
    if lang is None:
        return "".join(template.blocks[block](_block_context(template, context))).strip()
    with i18n.speaking(lang):
        return "".join(template.blocks[block](_block_context(template, context))).strip()


def _block_context(template: jinja2.Template, context: dict[str, Any]) -> Context:
    """What ``template.new_context(context)`` makes, without remaking its fixed parts.

    jinja copies a template's globals (a chain of its own and the environment's, some sixty
    names) into every render's context, and makes the context's map of the template's blocks
    and its eval context (asking the autoescape rule of the template's name) each time; a
    block rendered for a live region at every change of every room pays that for a handful of
    lookups. Those parts are made once per template (again should a global be added later)
    and each render's context starts from them: the render's own values (``m``) are its
    variables, which jinja reads before the globals, as it would read them in the merged
    copy. A block runs none of its template's top-level code (no ``extends``, no
    ``import``: the macros are globals, and no template sets ``autoescape``), so nothing
    writes to the parts shared; each context still gets its own eval context and exports."""
    key = (template.name, len(templates.globals))
    base = _BASES.get(key)
    if base is None:
        base = _BASES[key] = PageContext(templates, dict(template.globals), template.name, template.blocks)
    made = _bare(PageContext)
    made.parent, made.vars, made.environment, made.name = base.parent, context, templates, base.name
    made.blocks, made.globals_keys, made.exported_vars = base.blocks, base.globals_keys, set()
    made.eval_ctx = eval_ctx = _bare(EvalContext)
    eval_ctx.environment, eval_ctx.autoescape, eval_ctx.volatile = templates, base.eval_ctx.autoescape, False
    return made


_bare = object.__new__
_BASES: dict[tuple[str | None, int], PageContext] = {}  # a few templates


# A command's button and a running clock are built in code (app/pages/controls.py). The macros
# below call them too, and a macro's names are looked up as its module is made: globals first.
templates.globals.update(command=command, countdown=countdown)
# The macros are globals rather than imports: a block rendered on its own runs without the
# template's top-level code, where an ``{% import %}`` would have run.
_macros = templates.get_template("_macros.html").make_module()
templates.globals.update(overtime=_macros.overtime, erase_note=_macros.erase_note, erase_now=_macros.erase_now,
                         local_day=_macros.local_day, give_turn=_macros.give_turn,
                         item_kind=_macros.item_kind)
# The room's safety: app/web/templates/_safety.html, called as safety.listening(m) and so on.
templates.globals["gibbs_prompts"] = PROMPTS
templates.globals["safety"] = templates.get_template("_safety.html").make_module()
# Recurring groups, carried actions, consent and the summary: app/web/templates/_groups.html.
templates.globals["groups"] = templates.get_template("_groups.html").make_module()
# Breakouts (small groups inside one session): app/web/templates/_breakouts.html.
templates.filters["names"] = name_list
templates.globals["breakouts_ui"] = templates.get_template("_breakouts.html").make_module()
# Co-facilitation: who leads, inviting and handing over, a phone handed the facilitation.
templates.globals["cofacilitation"] = templates.get_template("_cofacilitation.html").make_module()
# A group between its meetings (agreement, agreed case, next date): app/web/templates/_meetings.html.
templates.filters["day"] = lambda t: datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d") if t else ""
templates.globals["meetings"] = templates.get_template("_meetings.html").make_module()
