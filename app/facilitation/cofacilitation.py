"""Co-facilitation: who may run the session, and which of them leads.

A session has one or more facilitation seats, each with its own console:

- ``host``: whoever holds the facilitator token (the session's creator);
- a co-facilitator the lead invited, by the name the lead gave (their seat is their id);
- in a peer-led group, the participant the facilitation was handed to (``p-`` + their id):
  they open the console with their own participant token, and go on taking part on
  their phone.

Every seat sees the same console and may send the facilitator's commands. One seat leads
at a time (``SessionState.lead``); the commands a rule marks ``lead`` (inviting and
revoking, handing over, the rota) are the lead's alone, those marked ``host`` the host's
(taking the lead and the facilitation back), and ``close`` is the host's or, until the host
leads again, that of the seat the host handed the lead to (``may_close``,
``SessionState.lead_granted``). Erasing is the host's alone
(``may_erase``). The table is ``engine.RULES``.

A seat lasts as long as its grant. Each seat but the host's was granted by another seat
(``CoFacilitator.by``, ``SessionState.peer_by``): whoever invited the co-facilitator, or
handed the participant the facilitation. When a seat ends (revoked, taken back, handed
back, its participant removed or replaced), every seat it granted ends with it, however
far down (``settled``, after every change): their tokens open nothing and their consoles
close. The host's seat never ends, and ``take_back`` always gives the host the lead, so
nobody the host let in can keep the host out. A seat granted through a participant's
facilitation counts as theirs: it is not told who asked the facilitators for a private word.

When every console of the lead's seat has closed for ``presence_off_s`` (the presence
debounce) and another seat's console is open, that seat becomes the lead at the next tick
of the fold timer: server timers never stop, and the one still there carries on. An old
lead that comes back is a co-facilitator until the lead is handed back.
"""

from __future__ import annotations

import hashlib

from . import commands as c
from . import tallies
from .errors import Conflict, Forbidden, NotFound
from .models import Actor, CoFacilitator, Fresh, RotaEntry, SeatPresence, SessionState
from .transition import Event, Result

HOST = "host"
PEER = "p-"
MAX_COFACILITATORS = 5


def seat_of(actor: Actor) -> str:
    return actor.seat or HOST


def peer_seat(participant_id: str) -> str:
    return PEER + participant_id


def cofacilitator(state: SessionState, seat: str) -> CoFacilitator | None:
    for co in state.cofacilitators:
        if co.id == seat:
            return co
    return None


def granted_by(state: SessionState, seat: str) -> str | None:
    """The seat that granted this one; None for the host or a seat not in the session."""
    co = cofacilitator(state, seat)
    if co is not None:
        return co.by
    if seat.startswith(PEER) and state.peer_id is not None and seat == peer_seat(state.peer_id):
        person = state.participant(state.peer_id)
        return state.peer_by if person is not None and not person.removed else None
    return None


def chain(state: SessionState, seat: str) -> list[str] | None:
    """The seat and every seat its grant comes through, up to the host's; None when a link has
    ended (the seat is not one any more)."""
    found = [seat]
    while found[-1] != HOST:
        up = granted_by(state, found[-1])
        if up is None or up in found:  # ended, or (never made by the handlers) a loop
            return None
        found.append(up)
    return found


def is_seat(state: SessionState, seat: str) -> bool:
    """Whether ``seat`` may run the session now: it, and every seat it was granted through, still holds."""
    return chain(state, seat) is not None


def through_peer(state: SessionState, seat: str) -> bool:
    """Whether a seat holds through a participant's facilitation (theirs, or one they granted)."""
    found = chain(state, seat)
    return found is None or any(s.startswith(PEER) for s in found)


def seats(state: SessionState) -> list[str]:
    """Every seat in the order that takes over from an absent lead: host, co-facilitators, peer."""
    found = [HOST] + [co.id for co in state.cofacilitators]
    if state.peer_id is not None and is_seat(state, peer_seat(state.peer_id)):
        found.append(peer_seat(state.peer_id))
    return found


def lead_of(state: SessionState) -> str:
    """The seat that leads; the host whenever the named lead may no longer run the session."""
    return state.lead if is_seat(state, state.lead) else HOST


def is_lead(state: SessionState, actor: Actor) -> bool:
    return actor.role == "facilitator" and seat_of(actor) == lead_of(state)


def may_close(state: SessionState, actor: Actor) -> bool:
    """The host while leading, or the seat the host handed the lead to, whenever it leads, until
    the host leads again: not a seat that took over while the host's console was closed, nor one
    another seat handed the lead to."""
    if not is_lead(state, actor):
        return False
    return seat_of(actor) in (HOST, state.lead_granted)


def may_erase(state: SessionState, actor: Actor) -> bool:
    """Erasing deletes everything at once, for good: the host's alone, whoever leads."""
    return actor.role == "facilitator" and seat_of(actor) == HOST


def settled(state: SessionState) -> SessionState:
    """After any change: a seat whose grant ended is gone, with every seat it granted, and its
    console presence; a lead that ended goes back to the host. Unchanged when nothing ended."""
    kept = tuple(co for co in state.cofacilitators if is_seat(state, co.id))
    peer = state.peer_id if state.peer_id is not None and is_seat(state, peer_seat(state.peer_id)) else None
    lead_ok = is_seat(state, state.lead)
    granted = state.lead_granted if state.lead_granted is not None and is_seat(state, state.lead_granted) else None
    if len(kept) == len(state.cofacilitators) and peer == state.peer_id and lead_ok and granted == state.lead_granted:
        return state
    update: dict[str, object] = {"cofacilitators": kept, "peer_id": peer, "lead_granted": granted}
    if peer is None:
        update.update(peer_by=HOST, peer_at=None)
    if not lead_ok:
        update.update(lead=HOST, lead_granted=None)
    state = state.model_copy(update=update)
    return state.model_copy(update={"seats_online": tuple(p for p in state.seats_online if is_seat(state, p.seat))})


def name_of(state: SessionState, seat: str) -> str | None:
    """The name a seat is shown by; None for the host (the pages say "the facilitator")."""
    co = cofacilitator(state, seat)
    if co is not None:
        return co.name
    if seat.startswith(PEER):
        person = state.participant(seat[len(PEER):])
        return person.name if person is not None else None
    return None


def check(state: SessionState, actor: Actor, seat_rule: str, command_type: str) -> None:
    """``engine.apply``'s check of a rule's seat column, for a facilitator's command."""
    if actor.role != "facilitator":
        return
    if not is_seat(state, seat_of(actor)):
        raise Forbidden("you no longer facilitate this session", "no_longer_facilitating")
    if seat_rule == "lead" and not is_lead(state, actor):
        raise Forbidden(f"only the lead facilitator may send {command_type}", "lead_only", command=command_type)
    if seat_rule == "host" and seat_of(actor) != HOST:
        raise Forbidden(f"only the session's own facilitator may send {command_type}", "host_only", command=command_type)
    if seat_rule == "host_grant" and not may_close(state, actor):
        raise Forbidden(f"only the session's own facilitator, or the lead they handed it to, may send {command_type}",
                        "host_or_lead_only", command=command_type)


# ---------------------------------------------------------------- handlers

def invite(state: SessionState, cmd: c.InviteCofacilitator, actor: Actor, now: float, fresh: Fresh) -> Result:
    """A new co-facilitator seat; its token (``fresh.secret``) is in the reply only, its hash in the state."""
    if len(state.cofacilitators) >= MAX_COFACILITATORS:
        raise Conflict(f"a session has at most {MAX_COFACILITATORS} co-facilitators: revoke one first", "cofacilitator_cap",
                       limit=MAX_COFACILITATORS)
    co = CoFacilitator(id="co-" + fresh.id, name=cmd.name, token_hash=hashlib.sha256(fresh.secret.encode()).hexdigest(),
                       invited_at=now, by=seat_of(actor))
    state = state.model_copy(update={"cofacilitators": state.cofacilitators + (co,)})
    return state, [Event(type="cofacilitator_invited", data={"cofacilitator_id": co.id})], \
        {"cofacilitator_id": co.id, "name": co.name, "code": state.code, "token": fresh.secret}


def revoke(state: SessionState, cmd: c.RevokeCofacilitator, actor: Actor, now: float, fresh: Fresh) -> Result:
    """A co-facilitator's seat ends, and every seat it granted with it (``settled``)."""
    co = cofacilitator(state, cmd.cofacilitator_id)
    if co is None:
        raise NotFound(f"no co-facilitator {cmd.cofacilitator_id!r} in this session", "no_such_cofacilitator")
    if co.id == seat_of(actor):
        raise Conflict("you cannot revoke yourself: hand the lead over first", "revoke_yourself")
    if co.id in (chain(state, seat_of(actor)) or ()):
        raise Conflict("your own seat was granted through theirs and would end with it: ask the facilitator",
                       "own_seat_depends")
    state = state.model_copy(update={"cofacilitators": tuple(x for x in state.cofacilitators if x.id != co.id)})
    return state, [Event(type="cofacilitator_revoked", data={"cofacilitator_id": co.id})], {}


def hand_over(state: SessionState, cmd: c.HandOver, actor: Actor, now: float, fresh: Fresh) -> Result:
    """The lead makes another seat the lead; naming a participant hands them the facilitation
    (one participant at a time: whoever had it before loses it, with the seats they granted).
    The old lead stays a seat, except a participant who hands the lead to the host: they hand
    their facilitation back."""
    me = seat_of(actor)
    to = cmd.to
    update: dict[str, object] = {}
    if to != HOST and cofacilitator(state, to) is None:
        pid = to[len(PEER):] if to.startswith(PEER) else to
        person = state.participant(pid)
        if person is None or person.removed or not person.present:
            raise NotFound(f"no co-facilitator or participant {cmd.to!r} in this session", "no_such_seat")
        to = peer_seat(pid)
        if pid != state.peer_id:  # a new participant facilitates
            old = peer_seat(state.peer_id) if state.peer_id is not None else None
            if old is not None and old != me and old in (chain(state, me) or ()):
                raise Conflict("your own seat was granted through that participant's facilitation and would end "
                               "with it: hand the lead to the facilitator", "own_seat_depends")
            # Passed on by the participant who had it, it keeps the grant it came with.
            update.update(peer_id=pid, peer_by=state.peer_by if me == old else me, peer_at=now)
    if to == me:
        raise Conflict("you are leading already", "leading_already")
    if me.startswith(PEER) and to == HOST:
        update.update(peer_id=None, peer_by=HOST, peer_at=None)  # the participant hands the facilitation back
    update.update(lead=to)
    if me == HOST or to == HOST:  # the host's word: given with the lead, withdrawn when it comes back
        update.update(lead_granted=None if to == HOST else to)
    state = state.model_copy(update=update)
    return state, [Event(type="lead_handed_over", data={"from": me, "to": to})], {"lead": to}


def take_back(state: SessionState, cmd: c.TakeBack, actor: Actor, now: float, fresh: Fresh) -> Result:
    """The host leads again, whoever led, and a participant's facilitation ends (with every seat
    it granted). It always works: nobody the host let in can keep the host out."""
    if state.peer_id is None and lead_of(state) == HOST:
        return state, [], {"lead": HOST}  # nothing to take back
    state = state.model_copy(update={"peer_id": None, "peer_by": HOST, "peer_at": None, "lead": HOST,
                                     "lead_granted": None})
    return state, [Event(type="facilitation_taken_back")], {"lead": HOST}


def set_rota(state: SessionState, cmd: c.SetRota, actor: Actor, now: float, fresh: Fresh) -> Result:
    """A recurring group's rota, by its members (each named by their participant here): the
    first facilitates next time, then the next, and round again. An empty list clears it."""
    if state.group_id is None:
        raise Conflict("only a recurring group keeps a rota of who facilitates", "not_a_group")
    if len(set(cmd.participant_ids)) != len(cmd.participant_ids):
        raise Conflict("name each person once in the rota", "rota_repeats")
    entries = []
    for pid in cmd.participant_ids:
        person = state.participant(pid)
        if person is None or person.removed:
            raise NotFound(f"no participant {pid!r} in this session", "no_such_participant")
        if person.member_id is None:
            raise Conflict(f"{person.name} is not a member of the group yet", "not_a_member", name=person.name)
        entries.append(RotaEntry(member_id=person.member_id, name=person.name))
    state = state.model_copy(update={"rota": tuple(entries), "rota_now": -1})
    return state, [Event(type="rota_set")], {}


def next_on_rota(state: SessionState) -> tuple[int, RotaEntry] | None:
    """Who facilitates the group's next session (index in the rota, entry); None without a rota."""
    if not state.rota:
        return None
    n = (state.rota_now + 1) % len(state.rota)
    return n, state.rota[n]


# ---------------------------------------------------------------- presence and taking over

def _without(present: tuple[SeatPresence, ...], seat: str) -> tuple[SeatPresence, ...]:
    return tuple(p for p in present if p.seat != seat)


def presence(state: SessionState, seat: str) -> SeatPresence | None:
    for p in state.seats_online:
        if p.seat == seat:
            return p
    return None


def online(state: SessionState, seat: str) -> bool:
    found = presence(state, seat)
    return found is not None and found.online


def note_seat(state: SessionState, seat: str, is_online: bool, now: float) -> SessionState | None:
    """The shell saw a seat's first console open, or its last one close. None: no news."""
    if not is_seat(state, seat):
        return None
    found = presence(state, seat)
    if found is not None and found.online == is_online:
        return None
    state = state.model_copy(update={"seats_online": _without(state.seats_online, seat)
                                     + (SeatPresence(seat=seat, online=is_online, changed_at=now),)})
    return _scheduled(state)


def _away_since(state: SessionState) -> float | None:
    """When the lead's last console closed, if it is closed and another seat could take over."""
    found = presence(state, lead_of(state))
    if found is None or found.online:
        return None
    if not any(online(state, s) for s in seats(state) if s != lead_of(state)):
        return None
    return found.changed_at


def _scheduled(state: SessionState) -> SessionState:
    """Make sure the fold timer ticks once the lead has been away for the debounce."""
    since = _away_since(state)
    if since is None:
        return state
    due = tallies.next_tick(state, since + state.settings.presence_off_s - 1e-9)
    if state.flush_at is None or due < state.flush_at:
        state = state.model_copy(update={"flush_at": due})
    return state


def take_over(state: SessionState, now: float) -> tuple[SessionState, list[Event]]:
    """At a tick of the fold timer: an absent lead's place goes to the first seat still there."""
    since = _away_since(state)
    if since is None:
        return state, []
    if now - since < state.settings.presence_off_s:
        return _scheduled(state), []
    away = lead_of(state)
    to = next(s for s in seats(state) if s != away and online(state, s))
    # Taken over: nobody handed it; the host's word stands only for the seat it was given to.
    state = state.model_copy(update={"lead": to, **({"lead_granted": None} if to == HOST else {})})
    return state, [Event(type="lead_taken_over", data={"from": away, "to": to})]


# ---------------------------------------------------------------- what each viewer is told

def granted_seats(state: SessionState) -> list[dict[str, object]]:
    """For the host's console alone: every seat that opens a console besides the host's own,
    who holds it, which seat granted it and when, in the order granted. A co-facilitator's
    seat is their own token; a participant's is their phone's token, opening the console."""
    found: list[dict[str, object]] = [
        {"seat": co.id, "name": co.name, "kind": "cofacilitator", "by": co.by, "by_name": name_of(state, co.by),
         "at": co.invited_at} for co in state.cofacilitators]
    if state.peer_id is not None and is_seat(state, peer_seat(state.peer_id)):
        found.append({"seat": peer_seat(state.peer_id), "name": name_of(state, peer_seat(state.peer_id)),
                      "kind": "participant", "by": state.peer_by, "by_name": name_of(state, state.peer_by),
                      "at": state.peer_at})
    lead = lead_of(state)
    for entry in found:
        entry.update(lead=entry["seat"] == lead, online=online(state, str(entry["seat"])))
    return sorted(found, key=lambda e: e["at"] if isinstance(e["at"], (int, float)) else 0.0)



def me_extras(state: SessionState, viewer: Actor) -> dict[str, object]:
    """A facilitator's seat and who leads (every console shows it); a participant's phone is
    told only whether the facilitation was handed to them."""
    lead = lead_of(state)
    if viewer.role == "facilitator":
        seat = seat_of(viewer)
        up = next_on_rota(state)
        return {
            "rota": [e.name for e in state.rota],
            "rota_now": state.rota[state.rota_now].name if 0 <= state.rota_now < len(state.rota) else None,
            "rota_next": up[1].name if up is not None else None,
            "seat": seat, "lead": seat == lead, "seat_name": name_of(state, seat),
            "lead_seat": lead, "lead_name": name_of(state, lead),
            "may_close": may_close(state, viewer), "may_erase": may_erase(state, viewer),
            "cofacilitators": [{"id": co.id, "name": co.name, "lead": co.id == lead, "online": online(state, co.id)}
                               for co in state.cofacilitators],
            "seats": granted_seats(state) if seat == HOST else None,
            "peer": ({"participant_id": state.peer_id, "name": name_of(state, peer_seat(state.peer_id)),
                      "lead": lead == peer_seat(state.peer_id)}
                     if state.peer_id is not None and is_seat(state, peer_seat(state.peer_id)) else None),
        }
    if viewer.role == "participant" and viewer.participant_id is not None \
            and state.peer_id == viewer.participant_id and is_seat(state, peer_seat(viewer.participant_id)):
        return {"facilitating": True, "facilitation_lead": lead == peer_seat(viewer.participant_id)}
    if viewer.role == "participant":
        return {"facilitating": False}
    return {}
