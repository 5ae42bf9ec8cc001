"""The pages' languages: which are shipped, which one a viewer gets, and its words.

The catalogs are gettext ``.po`` files under ``app/locale/<language>/LC_MESSAGES/messages.po``,
read directly at start-up (no compile step to forget); the shipped languages are the files
present, so a new language is one new file (docs/translating.md). English is the source
language: its words are the msgids themselves.

One jinja environment serves every language: the gettext callables installed in it read
the language of the render under way from a context variable (``speaking``), so a phone
in Welsh and a screen in English render from the same templates side by side. Each live
region is rendered once per language of its audience (``app.pages.regions``).

Two pseudo-locales, made from messages.pot at start when ``TP_PSEUDO_LOCALES`` is set
(never otherwise): ``en-XA`` (every word accented and lengthened, in brackets: a string
that is not accented was missed) and ``ar-XB`` (the same, right to left).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from markupsafe import escape
from babel.dates import format_time
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import NullTranslations, Translations

from app.pages.pseudo import pseudo_catalog, pseudo_text
from app.resources import LOCALE, require

LOCALE_DIR = require(LOCALE)
POT = LOCALE_DIR / "messages.pot"
SOURCE = "en"
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
PSEUDO = {"en-XA": "en", "ar-XB": "ar"}  # pseudo-locale -> the real one whose dates and numbers it uses
RTL_PSEUDO = {"ar-XB"}


def pseudo_enabled() -> bool:
    return os.environ.get("TP_PSEUDO_LOCALES", "").strip().lower() in {"1", "true", "yes", "on"}


def tag(code: str) -> str:
    """``pt_BR`` / ``pt-br`` -> ``pt-BR``: the form used in URLs, cookies and ``lang``."""
    lang, _, region = code.replace("_", "-").partition("-")
    return f"{lang.lower()}-{region.upper()}" if region else lang.lower()


@cache
def shipped() -> tuple[str, ...]:
    """The languages on offer: English, every catalog present, and the pseudo-locales if enabled."""
    found = sorted(tag(p.parent.parent.name) for p in LOCALE_DIR.glob("*/LC_MESSAGES/messages.po"))
    codes = [SOURCE, *(c for c in found if c != SOURCE)]
    if pseudo_enabled():
        codes += list(PSEUDO)
    return tuple(codes)


def babel_locale(code: str) -> Locale:
    """The Babel locale for dates, numbers and plural rules (a pseudo-locale borrows a real one's)."""
    code = PSEUDO.get(code, code)
    try:
        return Locale.parse(code.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(SOURCE)


def direction(code: str) -> str:
    return "rtl" if code in RTL_PSEUDO or babel_locale(code).character_order == "right-to-left" else "ltr"


def autonym(code: str) -> str:
    """The language's name in itself, as the picker shows it ("Cymraeg", "Polski")."""
    if code in PSEUDO:
        return {"en-XA": "[Ƥšéûðô Éñĝļîšĥ]", "ar-XB": "[Ƥšéûðô ŔŤĻ]"}[code]
    name = babel_locale(code).get_display_name(babel_locale(code)) or code
    return name[:1].upper() + name[1:]


def languages() -> list[dict[str, str]]:
    return [{"code": c, "name": autonym(c)} for c in shipped()]


def _po_path(code: str) -> Path | None:
    for name in (code, code.replace("-", "_")):
        path = LOCALE_DIR / name / "LC_MESSAGES" / "messages.po"
        if path.is_file():
            return path
    return None


def _translations_of(catalog: Catalog) -> Translations:
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer)


@cache
def translations(code: str) -> NullTranslations:
    """The words of ``code``; English (and anything unknown) is the msgids themselves.
    An untranslated message falls back to English, never to an empty string."""
    if code in PSEUDO and pseudo_enabled():
        return _translations_of(pseudo_catalog(code, POT, PSEUDO[code]))
    path = _po_path(code)
    if code == SOURCE or path is None:
        return NullTranslations()
    with path.open("rb") as f:
        return _translations_of(read_po(f, locale=code.replace("-", "_")))


# ------------------------------------------------------------------ the language of a render

_current: ContextVar[str] = ContextVar("page_language", default=SOURCE)


def current() -> str:
    return _current.get()


@contextmanager
def speaking(code: str) -> Iterator[None]:
    """Render in ``code`` inside the block (templates, words, dates and numbers)."""
    token = _current.set(code)
    try:
        yield
    finally:
        _current.reset(token)


def use(code: str) -> None:
    """Render in ``code`` for the rest of this task (a socket's own task: its acks and errors)."""
    _current.set(code)


def gettext(message: str) -> str:
    if not message:  # "" is the catalog's header in gettext: an empty text stays empty
        return message
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return translations(_current.get()).pgettext(context, message)


def stray_percent(text: str) -> bool:
    """A ``%`` that is neither ``%%`` nor a named placeholder: the pages fill every message of
    theirs with its values (``%``), and such a sign would fail there (in one language, if it
    is in a translation). Templates and catalogs with one are refused."""
    return "%" in re.sub(r"%\([a-z_]+\)[sd]", "", text.replace("%%", ""))


class Words(str):
    """Words a page model carries before it knows its reader's language (a guest's name, "someone"):
    as a str, the English text; written by a template (jinja escapes through ``__html__``) or
    shown with ``|translated``, the words in the language of the render under way. The room's
    model is made once for every viewer of a state, whatever their language."""

    message: str
    values: dict[str, Any]

    def __new__(cls, message: str, **values: Any) -> "Words":
        made = super().__new__(cls, message % values if values else message)
        made.message, made.values = message, values
        return made

    def translated(self) -> str:
        words = gettext(self.message)
        return words % self.values if self.values else words

    def __html__(self) -> str:
        return str(escape(self.translated()))


def shown(value: Any) -> str:
    """``value`` as the reader sees it: ``Words`` in their language, anything else as it is."""
    return value.translated() if isinstance(value, Words) else str(value)


def N_(message: str) -> str:
    """Marks a message for extraction where it is defined; it is translated where it is shown."""
    return message


# ------------------------------------------------------------------ choosing a language

def supported(code: str | None) -> str | None:
    """The shipped language ``code`` names (``cy-GB`` -> ``cy``), or None."""
    if not code:
        return None
    wanted = tag(code.strip())
    codes = shipped()
    if wanted in codes:
        return wanted
    base = wanted.split("-")[0]
    if base in codes:
        return base
    return None


def parse_accept_language(header: str) -> list[str]:
    """The languages of an Accept-Language header, best first (q=0 ones left out)."""
    weighted = []
    for i, part in enumerate(header.split(",")[:20]):
        name, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if name and name != "*" and q > 0:
            weighted.append((-q, i, name.strip()))
    return [name for _, _, name in sorted(weighted)]


def negotiate(*, query: str | None = None, cookie: str | None = None, default: str | None = None,
              accept_language: str | None = None) -> str:
    """The viewer's language: asked for in the URL, then remembered in the cookie, then the
    session's default (the screen's), then the browser's preference, then English."""
    for chosen in (query, cookie, default):
        found = supported(chosen)
        if found:
            return found
    for name in parse_accept_language(accept_language or ""):
        found = supported(name)
        if found:
            return found
    return SOURCE


def request_language(request: Any, default: str | None = None) -> str:
    """An HTTP request's language (``?lang=``, the cookie, ``default``, Accept-Language)."""
    return negotiate(query=request.query_params.get("lang"), cookie=request.cookies.get(COOKIE), default=default,
                     accept_language=request.headers.get("accept-language"))


def words_for(request: Any) -> Any:
    """A download's gettext in the request's language (``app.state.words_for``: the JSON API
    layer has no catalogs of its own)."""
    catalog = translations(request_language(request))

    def gettext(message: str) -> str:
        return catalog.gettext(message) if message else message
    return gettext


def plurals_for(request: Any) -> Any:
    """A download's ngettext in the request's language (``app.state.plurals_for``), for a count."""
    catalog = translations(request_language(request))
    return catalog.ngettext


# ------------------------------------------------------------------ dates and numbers

# One moment in a sentence ("erased for good at …"), written by the page itself in every
# language: a browser may lack a language's date data (Chromium has no Welsh), and the order
# and little words around a date are the sentence's grammar, so the pattern is a message.
MOMENT = N_("%(time)s on %(weekday)s %(day)s %(month)s")


@cache
def date_words(code: str) -> dict[str, Any]:
    """What a page's script needs to write a moment in the viewer's own clock, in ``code``:
    the pattern, CLDR's month names (the form used with a day: Polish "grudnia") and weekday
    names (Sunday first, as ``Date.getDay``), the short time pattern and its AM/PM words."""
    locale = babel_locale(code)
    names = locale.months["format"]["wide"], locale.days["format"]["wide"]
    periods = locale.day_periods["format"]["abbreviated"]
    words = {
        "moment": translations(code).gettext(MOMENT),
        "months": [names[0][m] for m in range(1, 13)],
        "months_short": [locale.months["format"]["abbreviated"][m] for m in range(1, 13)],
        "weekdays": [names[1][(d + 6) % 7] for d in range(7)],  # CLDR counts from Monday (0)
        "time": locale.time_formats["short"].pattern,
        "am": periods.get("am", "AM"), "pm": periods.get("pm", "PM"),
    }
    if code in PSEUDO:  # the borrowed locale's names are English: accent them too
        words["months"] = [pseudo_text(code, m) for m in words["months"]]
        words["months_short"] = [pseudo_text(code, m) for m in words["months_short"]]
        words["weekdays"] = [pseudo_text(code, d) for d in words["weekdays"]]
    return words


def local_datetime(timestamp: float) -> str:
    """A moment in the viewer's language, in UTC ("20:16 UTC on Monday 7 December"); the page's
    script rewrites it into the viewer's own time zone with the same words (``date_words``)."""
    at, code = datetime.fromtimestamp(timestamp, UTC), _current.get()
    words = date_words(code)
    time = format_time(at, "short", tzinfo=UTC, locale=babel_locale(code))
    return words["moment"] % {"time": f"{time} UTC", "weekday": words["weekdays"][(at.weekday() + 1) % 7],
                              "day": at.day, "month": words["months"][at.month - 1]}


def local_day(timestamp: float) -> str:
    """A day, short ("6 Dec 2026", "6 gru 2026"), in UTC: the page's script rewrites it in the
    reader's own time zone with the same names."""
    at, code = datetime.fromtimestamp(timestamp, UTC), _current.get()
    return f"{at.day} {date_words(code)['months_short'][at.month - 1]} {at.year}"


def local_day_time(timestamp: float) -> str:
    """A day and its time ("7 Dec 2026, 14:05 UTC"), rewritten by the page's script likewise."""
    return f"{local_day(timestamp)}, {local_clock(timestamp)}"


def local_clock(timestamp: float) -> str:
    """A time of day in UTC ("20:16 UTC"), for a page's script to rewrite into the viewer's clock."""
    at = datetime.fromtimestamp(timestamp, UTC)
    return f"{format_time(at, 'short', tzinfo=UTC, locale=babel_locale(_current.get()))} UTC"


def local_number(value: float | int, decimals: int | None = None) -> str:
    """``1.5`` as the viewer writes it (``1,5`` in Polish); ``decimals`` fixes the places."""
    pattern = None if decimals is None else "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=babel_locale(_current.get()))


def local_percent(share: float) -> str:
    """``0.35`` as ``35%`` in the viewer's way (``35 %`` in French): whole percents, as shown."""
    return _percent(round(share * 100), _current.get())


@cache
def _percent(whole: int, code: str) -> str:  # the console's chart asks on every turn, for everyone
    return format_percent(whole / 100, locale=babel_locale(code))


def page_context(code: str) -> dict[str, Any]:
    """What base.html needs for ``<html lang dir>`` and the picker."""
    return {"lang": code, "dir": direction(code), "languages": languages()}
