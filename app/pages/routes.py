"""The HTML pages: start page, facilitator console, phone view and screen view.

Thin like the API: parse, call the session service, render. The pages carry no token
server-side: the console and screen read theirs from the URL fragment (``#key=…``), the
phone keeps its own in localStorage, and each page then opens ``/live/{code}`` (see
``app.live.htmx``), whose first push fills every live region. Kept out of the OpenAPI schema.
"""

from __future__ import annotations

import mimetypes
from typing import Annotated, Any
from urllib.parse import parse_qs

import segno
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from markupsafe import Markup

from app.facilitation.errors import FacilitationError, NotFound, Unauthorized
from app.facilitation import knocks
from app.facilitation.formats import builtin_formats, resolve_format
from app.facilitation.models import MAX_NAME, MAX_PHASE_S, MAX_TITLE, SessionState
from app.http.dependencies import runtime
from app.pages import i18n
from app.pages.templates import render_block, render_page
from app.pages.words import plain
from app.realtime.service import normalise_code
from app.resources import STATIC, require

router = APIRouter(include_in_schema=False)
MAX_FORM_BYTES = 16 * 1024
DEFAULT_FORMAT = "check-in-out"


def static_files() -> StaticFiles:
    mimetypes.add_type("application/manifest+json", ".webmanifest")  # the web app manifest, on any system
    mimetypes.add_type("text/javascript", ".js")  # a module script runs only when served as JavaScript
    return StaticFiles(directory=require(STATIC))


def page_language(request: Request | None, default: str | None = None) -> str:
    """The viewer's language: ``?lang=`` (the picker), the cookie, the session's default, the browser's."""
    if request is None:
        return i18n.current()
    return i18n.request_language(request, default)


def remember_language(request: Request | None, response: Response, lang: str) -> Response:
    """A language chosen with the picker (``?lang=``) is kept in a cookie: the phone remembers it."""
    if request is not None and i18n.supported(request.query_params.get("lang")) == lang:
        response.set_cookie(i18n.COOKIE, lang, max_age=i18n.COOKIE_MAX_AGE, samesite="lax", path="/")
    return response


def _speak(request: Request) -> str:
    """Words made in this request (its errors) in the viewer's language."""
    lang = page_language(request)
    i18n.use(lang)
    return lang


def _(message: str) -> str:
    return i18n.gettext(message)


def _page(name: str, status: int = 200, request: Request | None = None, lang: str | None = None,
          **context: Any) -> HTMLResponse:
    lang = lang or page_language(request)
    with i18n.speaking(lang):
        response = HTMLResponse(render_page(name, lang, **context), status_code=status)
    if name == "screen.html":  # the room's screen keeps its choice in its URL: the cookie is the viewer's own
        return response
    return remember_language(request, response, lang)


def join_link(request: Request, code: str) -> str:
    """Absolute, so that a phone scanning the QR code can open it."""
    base = (runtime(request).settings.public_url or str(request.base_url)).rstrip("/")
    return f"{base}/join/{code}"


def qr_svg(data: str, label: str) -> Markup:
    """An inline SVG QR code (segno writes only attributes, no style, so a strict CSP holds)."""
    svg = segno.make(data, error="m").svg_inline(scale=1, border=2, dark="#000", light="#fff",
                                                 svgclass="qr", lineclass=None, omitsize=True)
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{Markup.escape(label)}" ', 1))


def _formats() -> list[dict[str, Any]]:
    return [f.model_dump() for f in builtin_formats().values()]


def _format(format_id: str | None) -> dict[str, Any]:
    formats = {f["id"]: f for f in _formats()}
    return formats.get(format_id or DEFAULT_FORMAT) or next(iter(formats.values()))


# ------------------------------------------------------------------ start page

def _start(request: Request | None, status: int = 200, chosen: dict[str, Any] | None = None, error: str | None = None, title: str = "",
           group_key: str = "", created: dict[str, str] | None = None, group_name: str = "") -> HTMLResponse:
    page = _page("start.html", status, request, formats=_formats(), chosen=chosen or _format(None), error=error,
                 max_title=MAX_TITLE, title=title, group_key=group_key, created=created, group_name=group_name)
    if group_key or created:  # a group key is a capability: keep the page out of every cache
        page.headers["Cache-Control"] = "no-store"
    return page


class FormTooLarge(Exception):
    """A posted form over ``MAX_FORM_BYTES``: the start page answers 413 and says so."""


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise FormTooLarge()
    return {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}


Form = Annotated[dict[str, str], Depends(_form)]


async def form_too_large(request: Request, exc: Exception) -> HTMLResponse:
    _speak(request)
    return _start(request, 413, error=_("That form is too large."))


def _title(form: dict[str, str], field: str) -> str | None:
    """A session's or group's title from a form: trimmed, or None when empty or too long."""
    value = form.get(field, "").strip()
    return value if 0 < len(value) <= MAX_TITLE else None


def split_group_key(text: str) -> tuple[str, str]:
    """The start page's one "group key" is ``<group id>.<key>`` (a key never holds a dot)."""
    group_id, _, key = text.strip().partition(".")
    return group_id, key


@router.get("/", response_class=HTMLResponse)
async def start_page(request: Request, error: str | None = None) -> HTMLResponse:
    return _start(request, error=error)


@router.post("/groups", response_class=HTMLResponse)
async def create_group_from_form(request: Request, form: Form) -> Response:
    """Keep a recurring group; the page shows its key this once (the body is never logged)."""
    _speak(request)
    name = _title(form, "name")
    if name is None:
        typed = form.get("name", "").strip()[:MAX_TITLE]
        return _start(request, 422, error=_("Give the group a name (up to %(max)s characters).") % {"max": MAX_TITLE},
                      group_name=typed)
    created = await runtime(request).groups.create_group(name)
    key = f"{created.group_id}.{created.group_key}"
    return _start(request, 201, group_key=key, created={"name": name, "key": key})


@router.get("/start/phases", response_class=HTMLResponse)
async def start_phases(request: Request, format: str = DEFAULT_FORMAT) -> HTMLResponse:
    return HTMLResponse(render_block("start.html", "phases", lang=_speak(request), chosen=_format(format)))


@router.post("/", response_class=HTMLResponse)
async def create_from_form(request: Request, form: Form) -> Response:
    _speak(request)
    title = _title(form, "title")
    problem = None if title is not None else _("Give the session a title (up to %(max)s characters).") % {"max": MAX_TITLE}
    title = title or form.get("title", "").strip()
    group_key = form.get("group_key", "").strip()[:200]
    chosen = _format(form.get("format"))
    language = i18n.supported(form.get("language")) or ""
    durations: dict[str, int] = {}
    for phase in chosen["phases"]:
        raw = form.get(f"minutes-{phase['id']}", "").strip().replace(",", ".")
        if not raw:
            continue
        try:
            seconds = round(float(raw) * 60)
        except ValueError:
            seconds = -1
        if not 1 <= seconds <= MAX_PHASE_S:
            problem = problem or _("“%(phase)s”: enter minutes between 1 and %(max)s.") % {
                "phase": _(phase["title"]), "max": MAX_PHASE_S // 60}
        durations[phase["id"]] = seconds
        phase["duration_s"] = seconds if seconds > 0 else phase["duration_s"]
    if problem:
        return _start(request, 422, chosen, problem, title, group_key)
    rt = runtime(request)
    try:
        if group_key:
            group = await rt.groups.authenticate(*split_group_key(group_key))
            created = await rt.groups.start_session(group, title, resolve_format(chosen["id"], durations or None),
                                                    language)
        else:
            created = await rt.service.create_session(title, chosen["id"], durations, language=language)
    except (Unauthorized, NotFound):
        return _start(request, 401, chosen, _("That group key is not right: check it against the one you kept "
                                               "when you created the group."), title, group_key)
    except FacilitationError as exc:
        return _start(request, exc.status, chosen, plain(exc.message, reason=exc.reason, values=exc.values), title, group_key)
    # The screen's key rides along in the fragment so the console can show the screen link.
    target = f"/console/{created.code}#key={created.facilitator_token}&screen={created.screen_token}"
    return RedirectResponse(target, status_code=303)


# ------------------------------------------------------------------ the three live pages

async def _session_or_404(request: Request, code: str) -> SessionState | HTMLResponse:
    try:
        return await runtime(request).service.load(code)
    except FacilitationError:
        return _page("not_found.html", 404, request, code=code)


async def _room_page(request: Request, code: str, template: str) -> Response:
    """The console or the screen: both show the join link and its QR code."""
    found = await _session_or_404(request, code)
    if isinstance(found, HTMLResponse):
        return found
    link = join_link(request, found.code)
    # The screen's default is the language the facilitator chose for the room; the console's
    # (and a screen whose picker was used) the viewer's own.
    lang = page_language(request)
    if template == "screen.html" and not i18n.supported(request.query_params.get("lang")):
        lang = i18n.supported(found.settings.language) or lang
    with i18n.speaking(lang):
        label = _("QR code to join session %(code)s") % {"code": found.code}
    return _page(template, 200, request, lang, m=None, code=found.code, title=found.title, join_link=link,
                 qr=qr_svg(link, label))


@router.get("/console/{code}", response_class=HTMLResponse)
async def console_page(request: Request, code: str) -> Response:
    return await _room_page(request, code, "console.html")


@router.get("/screen/{code}", response_class=HTMLResponse)
async def screen_page(request: Request, code: str) -> Response:
    return await _room_page(request, code, "screen.html")


@router.get("/join", response_class=HTMLResponse)
async def join_by_code(request: Request, code: str | None = None) -> Response:
    if code is None:
        return _page("join_code.html", 200, request, error=None, code="")
    if normalise_code(code) is not None:
        try:
            found = await runtime(request).service.load(code)
            return RedirectResponse(f"/join/{found.code}", status_code=303)
        except FacilitationError:
            pass
    _speak(request)
    return _page("join_code.html", 404, request, code=code[:12],
                 error=_("No session has that code. Check it with your facilitator: six letters and digits."))


@router.get("/join/{code}", response_class=HTMLResponse)
async def phone_page(request: Request, code: str) -> Response:
    found = await _session_or_404(request, code)
    if isinstance(found, HTMLResponse):
        return found
    if found.code != code:  # typed with spaces, dashes, small letters or a look-alike: the canonical page
        return RedirectResponse(f"/join/{found.code}", status_code=303)
    code, title = found.code, found.title
    # The group's id (not its key) lets the phone find the member code it kept for the group.
    # The door (open, locked, full, closed) shows before anyone types: the page for a code
    # that exists says no more than joining it would.
    return _page("phone.html", 200, request, m=None, code=code, title=title, max_name=MAX_NAME,
                 group_id=found.group_id or "", door=knocks.door(found))
