"""Shaping the format in the lobby: reorder, skip and re-time phases before starting.

Once the session has started its phases are fixed (the engine's phase index points into
them). Who may send ``set_phases`` and when is in ``engine.RULES``.
"""

from __future__ import annotations

from typing import Any

from . import commands as c
from .transition import Event, Result
from .formats import customise
from .models import Actor, SessionState


def set_phases(state: SessionState, cmd: c.SetPhases, actor: Actor, now: float, fresh: Any) -> Result:
    spec = customise(state.format, [(p.id, p.duration_s) for p in cmd.phases])
    if spec == state.format:
        return state, [], {}
    return state.model_copy(update={"format": spec}), [Event(type="phases_set", data={"count": len(spec.phases)})], {}
