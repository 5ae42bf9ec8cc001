"""Encoding states as the live socket's frames, sharing work between sockets.

The view shared by every role is serialised once per state and reused for every
socket; only the small per-connection ``me`` part is encoded per viewer.
"""

from __future__ import annotations

import json
from typing import Any

from app.facilitation.models import Actor, SessionState
from app.facilitation.views import me_view, scope, shared_view

Cache = dict[Any, Any]  # what one state's frames share, for every socket the hub offers it to
SESSION = "session"  # in a Cache: a dict that lasts while the session has sockets on this worker
SETTLE = "settle"    # in a Cache: what to call once the state has been offered to every socket


_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode  # one encoder for every frame


def state_frame(state: SessionState, viewer: Actor, now: float, cache: Cache) -> str:
    where = scope(state, viewer)  # the room's view, or one breakout group's
    shared = cache.get(("shared", where))
    if shared is None:
        body = _dumps(shared_view(state, now, where))
        shared = cache[("shared", where)] = (
            f'{{"type":"state","version":{state.version},"server_time":{now!r},"view":{body[:-1]}')
    key = ("me", viewer.role, viewer.participant_id, viewer.seat)
    me = cache.get(key)
    if me is None:
        me = cache[key] = _dumps(me_view(state, viewer))
    return f'{shared},"me":{me}}}}}'


def ack_frame(command_id: str, ack: dict[str, Any]) -> str:
    return _dumps({"type": "ack", "id": command_id, **ack})


def error_frame(command_id: str | None, error: dict[str, Any]) -> str:
    """A refusal: ``error`` is the contract's ``{code, reason, message}`` (``errors.error_object``)."""
    return _dumps({"type": "error", "id": command_id, "error": error})

