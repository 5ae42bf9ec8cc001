"""What a session's record is when it is stored: nothing a view of the room would not show
about who did what, or when.

A store keeps its versions in order (SQLite's write-ahead log, Redis's append-only file, a
replica, a backup), so whoever reads it sees each write next to the ones before and after.
Four things in a live state would turn that order into authorship, and none of them is
kept at rest:

- A participant's true presence (``online`` and when it last changed) is live: a phone that
  wakes to send, sends and sleeps again flips it just before and after its anonymous act.
  At rest each participant is as the room was shown them (``online`` equal to ``connected``,
  no time). The embedded store keeps the true value in memory only; Redis keeps it apart
  (``presence``), written only by a presence change, never by an anonymous act.
- When a facilitation seat's console last opened or closed (``seats_online[].changed_at``):
  a participant handed the console is one of the room, and the times their console opened
  and closed would sit beside their anonymous acts. Whether a console is open is kept (the
  other consoles are shown it at once); the time is live only, kept apart as presence is,
  and a store that lost it counts the seat as changed just now (a lead away is then taken
  over ``PRESENCE_OFF_S`` later, never sooner).
- A per-author count of items: the cap per person is kept in memory (``item_cap``).
- The order items were written in: pending items are kept sorted by their random id, after
  the revealed ones (which keep the order the room was shown them in).
"""

from __future__ import annotations

from pydantic import BaseModel

from app.facilitation.models import Item, Participant, SessionState

# {participant id: when their socket count last crossed zero}, for those whose true presence
# differs from what the room is shown (``online`` is then ``not connected``); and
# {SEAT + seat: when its consoles last opened or closed}.
Presence = dict[str, float]
SEAT = "seat:"


def at_rest(state: SessionState) -> SessionState:
    """``state`` as it may be stored: presence as shown, pending items in an order of chance."""
    people = tuple(_as_shown(p) for p in state.participants)
    update: dict[str, object] = {"participants": people, "items": _ordered(state.items),
                                 "seats_online": tuple(s.model_copy(update={"changed_at": 0.0}) if s.changed_at else s
                                                       for s in state.seats_online)}
    if state.breakouts is not None:
        groups = tuple(g.model_copy(update={"items": _ordered(g.items)}) for g in state.breakouts.groups)
        update["breakouts"] = state.breakouts.model_copy(update={"groups": groups})
    return state.model_copy(update=update)


def stored_json(model: BaseModel) -> str:
    """A state at rest (or a record holding one) as the stores write it: a field left at its
    default is left out, and read back as that default. A room's record is mostly defaults
    (each person's hand not raised, no reflection, nothing carried in), so written whole it
    was three times the size; and every change of every room is written, parsed by the other
    workers in Redis mode, and kept in the store's history."""
    return model.model_dump_json(exclude_defaults=True)


def presence_of(state: SessionState) -> Presence:
    """The true presence that ``at_rest`` leaves out."""
    people = {p.id: p.online_changed_at for p in state.participants if p.online != p.connected}
    return people | {SEAT + s.seat: s.changed_at for s in state.seats_online if s.changed_at}


def with_presence(state: SessionState, presence: Presence) -> SessionState:
    """A stored state with its true presence put back (everyone else: online as shown)."""
    if not presence:
        return state
    people = tuple(p.model_copy(update={"online": not p.connected, "online_changed_at": presence[p.id]})
                   if p.id in presence else p for p in state.participants)
    seats = tuple(s.model_copy(update={"changed_at": presence[SEAT + s.seat]}) if SEAT + s.seat in presence else s
                  for s in state.seats_online)
    return state.model_copy(update={"participants": people, "seats_online": seats})


def presence_lost(state: SessionState, now: float) -> SessionState:
    """A stored state whose true presence was lost: everyone shown connected has just gone
    (the room sees it after the usual wait, unless their sockets are found again first)."""
    people = tuple(p.model_copy(update={"online": False, "online_changed_at": now}) if p.connected else p
                   for p in state.participants)
    return seat_times_lost(state.model_copy(update={"participants": people}), now)


def seat_times_lost(state: SessionState, now: float) -> SessionState:
    """A stored state whose seats' times were lost (a restart, or Redis's ``presence`` gone):
    each seat as having changed just now, so no absent lead is taken over sooner than it
    would have been."""
    if not state.seats_online:
        return state
    return state.model_copy(update={"seats_online": tuple(s.model_copy(update={"changed_at": now}) if not s.changed_at
                                                          else s for s in state.seats_online)})


def _as_shown(p: Participant) -> Participant:
    if p.online == p.connected and p.online_changed_at == 0.0:
        return p
    return p.model_copy(update={"online": p.connected, "online_changed_at": 0.0})


def _ordered(items: tuple[Item, ...]) -> tuple[Item, ...]:
    revealed = tuple(i for i in items if i.revealed)
    return revealed + tuple(sorted((i for i in items if not i.revealed), key=lambda i: i.id))
