"""Getting back to the room: re-issuing the facilitator's key, and more screen links.

A closed console tab is reopened with the facilitator's key (the console link, kept on the
device or copied). That key is the facilitator's whole power, so whatever brings them back is
exactly as strong as it: when it may have leaked, the facilitator re-issues it, the old key is
refused from the next change on and every console holding it is closed. A co-facilitator has
no screen key; any facilitator's seat may ask for another screen link, which shows the room's
screen and nothing more.
"""

from __future__ import annotations

import hashlib
from typing import Any

from . import commands as c
from .errors import Conflict
from .models import Actor, Fresh, SessionState
from .transition import Event, Result

MAX_SCREEN_KEYS = 8  # screen links handed out besides the one made with the session


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def reissue_key(state: SessionState, cmd: c.ReissueKey, actor: Actor, now: float, fresh: Fresh) -> Result:
    """A new facilitator key (``fresh.secret``, in the reply only); the old one stops working."""
    state = state.model_copy(update={"facilitator_token_hash": _hash(fresh.secret)})
    return state, [Event(type="facilitator_key_reissued")], {"key": fresh.secret}


def screen_link(state: SessionState, cmd: c.ScreenLink, actor: Actor, now: float, fresh: Fresh) -> Result:
    """Another key that opens the screen view (for a co-facilitator, whose console has none)."""
    if len(state.screen_keys) >= MAX_SCREEN_KEYS:
        raise Conflict(f"this session has {MAX_SCREEN_KEYS} extra screen links already: use one of them",
                       "screen_link_cap", limit=MAX_SCREEN_KEYS)
    state = state.model_copy(update={"screen_keys": state.screen_keys + (_hash(fresh.secret),)})
    return state, [Event(type="screen_link_made")], {"screen_token": fresh.secret}


def is_screen_key(state: SessionState, digest: str, same: Any) -> bool:
    """Whether ``digest`` is one of the extra screen keys (``same`` compares in constant time)."""
    return any(same(digest, k) for k in state.screen_keys)
