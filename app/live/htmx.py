"""The pages' live socket: ``WS /live/{code}?token=…`` speaking htmx.

It runs exactly like the JSON socket (``live.serve``): same hub, same command handling.
Only the dialect differs. Going out, each state becomes out-of-band HTML fragments, one
per live region, rendered from the same named template blocks as the first page load;
a connection sends only the regions whose HTML changed since it last sent them, so a
focused button or a half-read list is not redrawn for nothing. Coming in, the htmx
WebSocket extension sends form fields as JSON; ``cid`` is the client's command id.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, WebSocket

from app.facilitation.commands import Command
from app.facilitation.models import Actor, SessionState
from app.facilitation.views import view_for
from app.live.socket import BadFrame, Dialect, json_frame, open_socket, peek_id, serve
from app.pages.templates import render_block, templates
from app.pages.view import DEFAULT_ERASE_AFTER_S, page_model
from app.realtime.connection import LiveConnection
from app.realtime.frames import Cache

router = APIRouter()
log = logging.getLogger("talkingpiece.pages")

# The live regions of each page, by template and block name (see web/templates/).
PAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "facilitator": ("console.html", ("clock", "status", "timeline", "floor", "controls", "round",
                                     "queue", "voice", "people", "items", "actions", "safety",
                                     "carried", "proposals")),
    "participant": ("phone.html", ("clock", "status", "glance", "listening", "hand", "wellbeing", "evaluation", "word",
                                  "items", "myactions", "carried", "carry", "consent")),
    "screen": ("screen.html", ("clock", "status", "stage", "order", "items", "wellbeing", "evaluation", "carried")),
}

NUMBERS = {"seconds_per_turn": float, "seconds": float, "score": int}
FLAGS = {"force", "confirmed", "agree", "carry"}  # agree: consent; carry: carry_action
TRUE = {"true", "on", "1", "yes"}


def render_regions(state: SessionState, actor: Actor, now: float, cache: Cache,
                   erase_after_s: float = DEFAULT_ERASE_AFTER_S) -> dict[str, str]:
    """Every live region of this viewer's page, each rendered once per state and viewer."""
    template, names = PAGES[actor.role]
    key = ("pages", actor.role, actor.participant_id)
    if key not in cache:
        model = page_model(view_for(state, actor, now), now, erase_after_s)
        for name in names:
            cache[(*key, name)] = render_block(template, name, m=model)
        cache[key] = ""
    return {name: cache[(*key, name)] for name in names}


class FragmentConnection(LiveConnection):
    """A live connection whose frames carry only the regions that changed since they were last queued."""

    def __init__(self, ws: WebSocket, actor: Actor, erase_after_s: float = DEFAULT_ERASE_AFTER_S) -> None:
        super().__init__(ws, actor, self._render_changes)
        self._erase_after_s = erase_after_s
        self._shown: dict[str, str] = {}
        self._unsent: dict[str, str] = {}

    def _render_changes(self, state: SessionState, actor: Actor, now: float, cache: Cache) -> str:
        if self._state is None:  # the pump has taken the previous frame: it is on its way
            self._unsent.clear()
        try:
            regions = render_regions(state, actor, now, cache, self._erase_after_s)
        except Exception:  # a template bug must not stall the other sockets of the room
            log.exception("rendering the %s page failed", actor.role)
            regions = {}
        for name, html in regions.items():
            if self._shown.get(name) != html:
                self._shown[name] = html
                self._unsent[name] = html
        return "".join(self._unsent.values())


# ------------------------------------------------------------------ the htmx dialect

def decode_form(text: str) -> tuple[str, Any]:
    """``{"cid": …, "type": …, field: "string", "HEADERS": {…}}`` -> (id, command data)."""
    command_id, data = json_frame(text, "cid")
    data.pop("HEADERS", None)
    command: dict[str, Any] = {}
    scores: dict[int, Any] = {}
    for name, value in data.items():
        if value == "" or value is None:
            continue  # an empty optional field means "not given"
        if name.startswith("score_") and name[6:].isdigit():  # the evaluation's statements, one radio group each
            scores[int(name[6:])] = _number(command_id, "score", value)
            continue
        if name == "scores" and isinstance(value, str):  # sent again as one field: "[4, 3, 5]"
            command[name] = [_number(command_id, "score", v) for v in value.strip("[] ").split(",") if v.strip()]
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
    return command_id, command


def _number(command_id: str, name: str, value: Any) -> Any:
    try:
        return int(value) if isinstance(value, str) else value
    except ValueError:
        raise BadFrame(command_id, f"{name}: enter a number") from None


def ack_fragment(command_id: str, command: Command, ack: dict[str, Any]) -> str:
    return render_block("_replies.html", "ack", cid=command_id, type=command.type,
                        kind=getattr(command, "kind", None))


def error_fragment(command_id: str | None, data: Any, code: str, message: str) -> str:
    data = data if isinstance(data, dict) else {}
    return render_block("_replies.html", "error", cid=command_id or "", code=code, message=message, data=data)


HTML_DIALECT = Dialect(decode=decode_form, ack=ack_fragment, error=error_fragment,
                       id_of=lambda text: peek_id(text, "cid"))


@router.websocket("/live/{code}")
async def live_pages(ws: WebSocket, code: str, token: str = "") -> None:
    opened = await open_socket(ws, code, token)
    if opened is not None:
        rt, caller = opened
        await serve(ws, rt, caller, FragmentConnection(ws, caller.actor, rt.settings.closed_ttl_s), HTML_DIALECT)


__all__ = ["router", "templates"]
