"""What a command's handler returns, and the salted marks that stand in for people.

Every handler has the same shape, ``(state, command, actor, now, fresh) -> Result``, and
lives in the module of its rules (``engine``, ``lobby``, ``carry``, ``consent``); the
engine's one table, ``engine.RULES``, names each of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from .models import Actor, Fresh, Frozen, SessionState


# Acts whose author the product promises not to reveal: the shell counts these but never
# writes them to the log, where a line's time could be set beside who was seen tapping.
ANONYMOUS_ACTS = frozenset({"item_submitted", "item_retracted", "item_voted", "wellbeing_rated", "consent_given",
                            "evaluation_answered"})


class Event(Frozen):
    """Something that happened, in the past tense. The shell counts them by type and logs the
    types of those that concern no anonymous act; ``data`` is for tests and never logged."""

    type: str
    data: dict[str, Any] = {}


class Transition(Frozen):
    state: SessionState
    events: tuple[Event, ...] = ()
    reply: dict[str, Any] = {}


Result = tuple[SessionState, list[Event], dict[str, Any]]
Handler = Callable[[SessionState, Any, Actor, float, Fresh], Result]


def salted_hash(*parts: str) -> str:
    """A mark that can be checked again by whoever knows every part, and by nobody else."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
