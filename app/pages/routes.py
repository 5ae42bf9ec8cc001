"""The HTML pages: start page, facilitator console, phone view and screen view.

Thin like the API: parse, call the session service, render. The pages carry no token
server-side: the console and screen read theirs from the URL fragment (``#key=…``), the
phone keeps its own in localStorage, and each page then opens ``/live/{code}`` (see
``app.live.htmx``), whose first push fills every live region. Kept out of the OpenAPI schema.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs

import segno
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from markupsafe import Markup

from app.facilitation.errors import FacilitationError, NotFound, Unauthorized
from app.facilitation.formats import builtin_formats, resolve_format
from app.facilitation.models import MAX_NAME, MAX_PHASE_S, MAX_TITLE, SessionState
from app.http.dependencies import runtime
from app.pages.templates import STATIC, render_block, render_page
from app.realtime.service import normalise_code

router = APIRouter(include_in_schema=False)
MAX_FORM_BYTES = 16 * 1024
DEFAULT_FORMAT = "check-in-out"


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC)


def _page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(render_page(name, **context), status_code=status)


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

def _start(status: int = 200, chosen: dict[str, Any] | None = None, error: str | None = None, title: str = "",
           group_key: str = "", created: dict[str, str] | None = None, group_name: str = "") -> HTMLResponse:
    page = _page("start.html", status, formats=_formats(), chosen=chosen or _format(None), error=error,
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
    return _start(413, error="That form is too large.")


def _title(form: dict[str, str], field: str) -> str | None:
    """A session's or group's title from a form: trimmed, or None when empty or too long."""
    value = form.get(field, "").strip()
    return value if 0 < len(value) <= MAX_TITLE else None


def split_group_key(text: str) -> tuple[str, str]:
    """The start page's one "group key" is ``<group id>.<key>`` (a key never holds a dot)."""
    group_id, _, key = text.strip().partition(".")
    return group_id, key


@router.get("/", response_class=HTMLResponse)
async def start_page(error: str | None = None) -> HTMLResponse:
    return _start(error=error)


@router.post("/groups", response_class=HTMLResponse)
async def create_group_from_form(request: Request, form: Form) -> Response:
    """Keep a recurring group; the page shows its key this once (the body is never logged)."""
    name = _title(form, "name")
    if name is None:
        typed = form.get("name", "").strip()[:MAX_TITLE]
        return _start(422, error=f"Give the group a name (up to {MAX_TITLE} characters).", group_name=typed)
    created = await runtime(request).groups.create_group(name)
    key = f"{created.group_id}.{created.group_key}"
    return _start(201, group_key=key, created={"name": name, "key": key})


@router.get("/start/phases", response_class=HTMLResponse)
async def start_phases(format: str = DEFAULT_FORMAT) -> HTMLResponse:
    return HTMLResponse(render_block("start.html", "phases", chosen=_format(format)))


@router.post("/", response_class=HTMLResponse)
async def create_from_form(request: Request, form: Form) -> Response:
    title = _title(form, "title")
    problem = None if title is not None else f"Give the session a title (up to {MAX_TITLE} characters)."
    title = title or form.get("title", "").strip()
    group_key = form.get("group_key", "").strip()[:200]
    chosen = _format(form.get("format"))
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
            problem = problem or f"“{phase['title']}”: enter minutes between 1 and {MAX_PHASE_S // 60}."
        durations[phase["id"]] = seconds
        phase["duration_s"] = seconds if seconds > 0 else phase["duration_s"]
    if problem:
        return _start(422, chosen, problem, title, group_key)
    rt = runtime(request)
    try:
        if group_key:
            group = await rt.groups.authenticate(*split_group_key(group_key))
            created = await rt.groups.start_session(group, title, resolve_format(chosen["id"], durations or None))
        else:
            created = await rt.service.create_session(title, chosen["id"], durations)
    except (Unauthorized, NotFound):
        return _start(401, chosen, "That group key is not right: check it against the one you kept "
                      "when you created the group.", title, group_key)
    except FacilitationError as exc:
        return _start(exc.status, chosen, exc.message, title, group_key)
    # The screen's key rides along in the fragment so the console can show the screen link.
    target = f"/console/{created.code}#key={created.facilitator_token}&screen={created.screen_token}"
    return RedirectResponse(target, status_code=303)


# ------------------------------------------------------------------ the three live pages

async def _session_or_404(request: Request, code: str) -> SessionState | HTMLResponse:
    normal = normalise_code(code)
    try:
        return await runtime(request).service.load(normal or "")
    except FacilitationError:
        return _page("not_found.html", 404, code=code)


async def _room_page(request: Request, code: str, template: str) -> Response:
    """The console or the screen: both show the join link and its QR code."""
    found = await _session_or_404(request, code)
    if isinstance(found, HTMLResponse):
        return found
    link = join_link(request, found.code)
    return _page(template, m=None, code=found.code, title=found.title, join_link=link,
                 qr=qr_svg(link, f"QR code to join session {found.code}"))


@router.get("/console/{code}", response_class=HTMLResponse)
async def console_page(request: Request, code: str) -> Response:
    return await _room_page(request, code, "console.html")


@router.get("/screen/{code}", response_class=HTMLResponse)
async def screen_page(request: Request, code: str) -> Response:
    return await _room_page(request, code, "screen.html")


@router.get("/join", response_class=HTMLResponse)
async def join_by_code(request: Request, code: str | None = None) -> Response:
    if code is None:
        return _page("join_code.html", error=None, code="")
    normal = normalise_code(code)
    if normal is not None:
        try:
            await runtime(request).service.load(normal)
            return RedirectResponse(f"/join/{normal}", status_code=303)
        except FacilitationError:
            pass
    return _page("join_code.html", 404, code=code[:12],
                 error="No session has that code. Check it with your facilitator: six letters and digits.")


@router.get("/join/{code}", response_class=HTMLResponse)
async def phone_page(request: Request, code: str) -> Response:
    found = await _session_or_404(request, code)
    if isinstance(found, HTMLResponse):
        return found
    code, title = found.code, found.title
    # The group's id (not its key) lets the phone find the member code it kept for the group.
    return _page("phone.html", m=None, code=code, title=title, max_name=MAX_NAME, group_id=found.group_id or "")
