"""The pages' live socket: ``WS /live/{code}?token=…`` speaking htmx.

It runs exactly like the JSON socket (``live.serve``): same hub, same command handling.
Only the dialect differs. Going out, each state becomes out-of-band HTML fragments, one
per live region, rendered from the same named template blocks as the first page load;
a connection sends only the regions whose HTML changed since it last sent them, so a
focused button or a half-read list is not redrawn for nothing. Coming in, the htmx
WebSocket extension sends form fields as JSON; ``cid`` is the client's command id.

What this costs grows with the audiences, not with the sockets: each region is rendered
once for everyone who sees the same scope in the same role and language, from the inputs
it declares, and again only when those change (``app.pages.regions``); what is a phone's
own is data its page applies (its ``viewer`` region, web/static/viewer.js), or a few values
that sort the room's phones into a handful of kinds. Per socket there remain its own model and
values and a digest per region: a connection remembers each region it was sent by a digest,
not by its HTML.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Query, WebSocket

from app.facilitation.commands import Command
from app.facilitation.models import Actor, SessionState
from app.facilitation.views import me_view, scope, shared_view
from app.live.socket import BadFrame, Dialect, json_frame, open_socket, peek_id, serve
from app.pages.i18n import COOKIE, SOURCE, negotiate, use
from app.pages.regions import NAMES, REGIONS, VIEWER, Leaf, Regions, audience_model, every_input, own_inputs, own_paths
from app.pages.templates import render_block, templates
from app.pages.view import DEFAULT_ERASE_AFTER_S, room_model, viewer_html, viewer_inputs, viewer_own, viewer_region
from app.realtime.connection import LiveConnection
from app.realtime.frames import SESSION, SETTLE, Cache

router = APIRouter()
log = logging.getLogger("talkingpiece.pages")

NUMBERS = {"seconds_per_turn": float, "seconds": float, "score": int, "size": int, "minutes": int}
FLAGS = {"force", "confirmed", "agree", "carry"}  # agree: consent; carry: carry_action
TRUE = {"true", "on", "1", "yes"}
# The live regions of each page, by role: its template and the regions' names (app.pages.regions).
PAGES: dict[str, tuple[str, tuple[str, ...]]] = {role: (t, NAMES[role]) for role, (t, _) in REGIONS.items()}

INDEX = {role: {name: i for i, name in enumerate(names)} for role, names in NAMES.items()}
Page = tuple[Regions, dict[str, Any], dict[str, Any], list[Leaf | None]]  # regions, audience, viewer, leaves (None: the viewer)


def render_regions(state: SessionState, actor: Actor, now: float, cache: Cache,
                   erase_after_s: float = DEFAULT_ERASE_AFTER_S, lang: str = SOURCE) -> dict[str, str]:
    """Every live region of this viewer's page, each rendered once per audience and own inputs.

    ``cache`` is the hub's for this state; under ``SESSION`` it may hold what lasts between
    versions of the session (the rendered regions), otherwise this call renders afresh.
    """
    template, regions = REGIONS[actor.role]
    kept, audience, viewer, leaves = _page(state, actor, now, cache, erase_after_s, lang)
    return {r.name: kept.html(leaf, template, r, audience, viewer, lang) if leaf is not None
            else str(viewer_region(viewer)) for r, leaf in zip(regions, leaves)}


def _page(state: SessionState, actor: Actor, now: float, cache: Cache, erase_after_s: float,
          lang: str = SOURCE) -> Page:
    """This viewer's regions in ``lang``, once per state, viewer and language."""
    key = ("pages", actor.role, actor.participant_id, actor.seat, lang)
    found = cache.get(key)
    if found is not None:
        return found  # type: ignore[no-any-return]
    template, regions = REGIONS[actor.role]
    names = INDEX[actor.role]
    lasting = cache.get(SESSION)
    kept = lasting.setdefault("pages", Regions()) if lasting is not None else Regions()
    if "pages-settle" not in cache:  # once per state
        cache["pages-settle"] = True
        cache.setdefault(SETTLE, []).append(kept.settle)
    where = scope(state, actor)  # the room, or one breakout group: each its shared view
    shared = cache.get(("pages-shared", where))
    if shared is None:  # once per state and scope: the view its viewers share, and the page model's part
        shared = cache[("pages-shared", where)] = shared_view(state, now, where)
        cache[("pages-room", where)] = room_model(shared, now, erase_after_s)
    room = cache[("pages-room", where)]
    audience_key = (actor.role, where, lang)
    seen = cache.get(("pages-audience", audience_key))
    if seen is None:  # once per state and audience: its model and each region's shared inputs
        audience = audience_model(room, shared, actor.role)
        seen = cache[("pages-audience", audience_key)] = (audience, every_input(audience, regions),
                                                           own_paths(regions, audience))
    audience, shared_keys, paths = seen
    viewer = viewer_own(me_view(state, actor), room, audience)
    # Phones alike in every own value the audience's regions read share one list of renderings:
    # a socket costs its own values, not a lookup per region.
    kind = ("pages-kind", audience_key, own_inputs(viewer, paths))
    leaves = cache.get(kind)
    if leaves is None:
        # A phone's own data (``VIEWER``) has no leaf: each connection builds it for itself, and
        # only when its inputs moved (``FragmentConnection``; ``render_regions`` for a fresh render).
        leaves = cache[kind] = kept.leaves(template, regions, audience_key, shared_keys, audience, viewer,
                                           state.version, lang)
    found = cache[key] = (kept, audience, viewer, leaves)
    return found


class FragmentConnection(LiveConnection):
    """A live connection whose frames carry only the regions that changed since they were last queued."""

    kind = "pages"
    __slots__ = ("_erase_after_s", "_shown", "_unsent", "_viewer", "lang", "one_to_one")

    def __init__(self, ws: WebSocket, actor: Actor, erase_after_s: float = DEFAULT_ERASE_AFTER_S,
                 lang: str = SOURCE) -> None:
        super().__init__(ws, actor, self._render_changes)
        self.lang = lang  # the viewer's language: every region this socket is sent is in it
        self._erase_after_s = erase_after_s  # the server's CLOSED_TTL_S: when a closed session's content goes
        # Per region, the digest of what this socket was last given; its HTML is not kept here.
        self._shown: list[int] = [0] * len(NAMES[actor.role])
        self._unsent: dict[str, bytes] = {}
        self._viewer: tuple[object, ...] | None = None  # what this phone's own data region last showed
        self.one_to_one = False  # the view's flag at the last state rendered: replies use the words for two

    def taken(self) -> None:
        self._unsent.clear()  # on its way: the next frame carries only what changes after it

    def _render_changes(self, state: SessionState, actor: Actor, now: float, cache: Cache) -> bytes:
        template, regions = REGIONS[actor.role]
        try:
            kept, audience, viewer, leaves = _page(state, actor, now, cache, self._erase_after_s, self.lang)
            self.one_to_one = bool(audience["one_to_one"])
            shown = self._shown
            for i, leaf in enumerate(leaves):
                if leaf is None:  # the phone's own data: built again only when what it shows moved
                    mine = viewer_inputs(viewer)
                    if mine != self._viewer:
                        self._unsent[VIEWER] = viewer_html(mine).encode()
                        self._viewer = mine
                elif shown[i] != leaf.digest:
                    region = regions[i]
                    self._unsent[region.name] = kept.data(leaf, template, region, audience, viewer, self.lang)
                    shown[i] = leaf.digest
        except Exception:  # a template bug must not stall the other sockets of the room
            log.exception("rendering the %s page failed", actor.role)
        return b"".join(self._unsent.values())


# ------------------------------------------------------------------ the htmx dialect

def decode_form(text: str) -> tuple[str, Any]:
    """``{"cid": …, "type": …, field: "string", "HEADERS": {…}}`` -> (id, command data)."""
    command_id, data = json_frame(text, "cid")
    data.pop("HEADERS", None)
    command: dict[str, Any] = {}
    scores: dict[int, Any] = {}
    by_hand: dict[int, list[str]] = {}  # a split by hand: one "into_<participant id>" select a person
    for name, value in data.items():
        if value == "" or value is None:
            continue  # an empty optional field means "not given"
        if name.startswith("into_") and isinstance(value, str):
            by_hand.setdefault(_number(command_id, "group", value), []).append(name[5:])
            continue
        if name.startswith("score_") and name[6:].isdigit():  # the evaluation's statements, one radio group each
            scores[int(name[6:])] = _number(command_id, "score", value)
            continue
        if name == "scores" and isinstance(value, str):  # sent again as one field: "[4, 3, 5]"
            command[name] = [_number(command_id, "score", v) for v in value.strip("[] ").split(",") if v.strip()]
            continue
        if name == "participant_ids":  # the rota's ordered picks: one select per place, blanks left out
            command[name] = [v for v in (value if isinstance(value, list) else [value]) if v]
            continue
        if name in NUMBERS and isinstance(value, str):
            try:
                value = NUMBERS[name](value)
            except ValueError:
                raise BadFrame(command_id, f"{name}: enter a number") from None
        elif name in FLAGS and isinstance(value, str):
            value = value.lower() in TRUE
        command[name] = value
    if scores:
        command["scores"] = [scores[n] for n in sorted(scores)]
    if by_hand and command.get("method") == "manual":
        command["groups"] = [by_hand[n] for n in sorted(by_hand)]
    return command_id, command


def _number(command_id: str, name: str, value: Any) -> Any:
    try:
        return int(value) if isinstance(value, str) else value
    except ValueError:
        raise BadFrame(command_id, f"{name}: enter a number") from None


def ack_fragment(command_id: str, command: Command, ack: dict[str, Any], conn: LiveConnection) -> str:
    if command.type == "invite_cofacilitator" and "token" in ack:  # the lead's one sight of the link
        return render_block("_replies.html", "invited", cid=command_id, co_name=ack["name"],
                            link=f"/console/{ack['code']}#key={ack['token']}")
    return render_block("_replies.html", "ack", cid=command_id, type=command.type,
                        kind=getattr(command, "kind", None), one_to_one=getattr(conn, "one_to_one", False))


def error_fragment(command_id: str | None, data: Any, error: dict[str, Any]) -> str:
    """A refusal for the page: said from its reason and values, in the reader's language (words.plain)."""
    data = data if isinstance(data, dict) else {}
    return render_block("_replies.html", "error", cid=command_id or "", code=error["code"], message=error["message"],
                        reason=error["reason"], values=error.get("values") or {}, data=data)


HTML_DIALECT = Dialect(decode=decode_form, ack=ack_fragment, error=error_fragment,
                       id_of=lambda text: peek_id(text, "cid"))


@router.websocket("/live/{code}")
async def live_pages(ws: WebSocket, code: str, token: str = "", as_: str = Query("", alias="as"),
                     lang: str = "") -> None:
    # The page says which language it was rendered in (``?lang=``, from <html lang>); else
    # the phone's cookie, else its browser's. Replies to its commands are in it too: they
    # are rendered in this socket's own task.
    language = negotiate(query=lang, cookie=ws.cookies.get(COOKIE), accept_language=ws.headers.get("accept-language"))
    use(language)
    opened = await open_socket(ws, code, token, console=as_ == "console")
    if opened is not None:
        rt, caller = opened
        await serve(ws, rt, caller, FragmentConnection(ws, caller.actor, rt.settings.closed_ttl_s, language),
                    HTML_DIALECT)


__all__ = ["router", "templates"]
