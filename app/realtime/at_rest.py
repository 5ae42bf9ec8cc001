"""What a session's record is when it is stored: nothing a view of the room would not show
about who did what, or when.

A store keeps its versions in order (SQLite's write-ahead log, Redis's append-only file, a
replica, a backup), so whoever reads it sees each write next to the ones before and after.
Three things in a live state would turn that order into authorship, and none of them is
kept at rest:

- A participant's true presence (``online`` and when it last changed) is live: a phone that
  wakes to send, sends and sleeps again flips it just before and after its anonymous act.
  At rest each participant is as the room was shown them (``online`` equal to ``connected``,
  no time). The embedded store keeps the true value in memory only; Redis keeps it apart
  (``presence``), written only by a presence change, never by an anonymous act.
- A per-author count of items: the cap per person is kept in memory (``item_cap``).
- The order items were written in: pending items are kept sorted by their random id, after
  the revealed ones (which keep the order the room was shown them in).
"""

from __future__ import annotations

from app.facilitation.models import Item, Participant, SessionState

# {participant id: when their socket count last crossed zero}, for those whose true presence
# differs from what the room is shown (``online`` is then ``not connected``).
Presence = dict[str, float]


def at_rest(state: SessionState) -> SessionState:
    """``state`` as it may be stored: presence as shown, pending items in an order of chance."""
    people = tuple(_as_shown(p) for p in state.participants)
    update: dict[str, object] = {"participants": people, "items": _ordered(state.items)}
    if state.breakouts is not None:
        groups = tuple(g.model_copy(update={"items": _ordered(g.items)}) for g in state.breakouts.groups)
        update["breakouts"] = state.breakouts.model_copy(update={"groups": groups})
    return state.model_copy(update=update)


def presence_of(state: SessionState) -> Presence:
    """The true presence that ``at_rest`` leaves out."""
    return {p.id: p.online_changed_at for p in state.participants if p.online != p.connected}


def with_presence(state: SessionState, presence: Presence) -> SessionState:
    """A stored state with its true presence put back (everyone else: online as shown)."""
    if not presence:
        return state
    people = tuple(p.model_copy(update={"online": not p.connected, "online_changed_at": presence[p.id]})
                   if p.id in presence else p for p in state.participants)
    return state.model_copy(update={"participants": people})


def presence_lost(state: SessionState, now: float) -> SessionState:
    """A stored state whose true presence was lost: everyone shown connected has just gone
    (the room sees it after the usual wait, unless their sockets are found again first)."""
    people = tuple(p.model_copy(update={"online": False, "online_changed_at": now}) if p.connected else p
                   for p in state.participants)
    return state.model_copy(update={"participants": people})


def _as_shown(p: Participant) -> Participant:
    if p.online == p.connected and p.online_changed_at == 0.0:
        return p
    return p.model_copy(update={"online": p.connected, "online_changed_at": 0.0})


def _ordered(items: tuple[Item, ...]) -> tuple[Item, ...]:
    revealed = tuple(i for i in items if i.revealed)
    return revealed + tuple(sorted((i for i in items if not i.revealed), key=lambda i: i.id))
