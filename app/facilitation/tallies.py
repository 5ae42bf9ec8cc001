"""Anonymous counters and presence as the room sees them: batched, a stage behind, on a timer.

A count that moves the moment one person acts names them to anyone who saw who just
tapped, or whose phone just woke. So the true tallies (what the rules check: one vote
each, the reveal threshold) are kept apart from what the views show, and the shown ones
move only when the fold timer fires:

- Each fold moves every anonymous counter one stage on: the shown value takes the staged
  one, the staged one the true one. A change therefore shows at the second fold after it,
  at least half an interval and at most three after the act, together with everything
  else that happened meanwhile. No per-act time is kept anywhere; only the counts.
- The fold times are jittered (between half and one and a half intervals apart), drawn
  from the session's secret salt, so they are exact for a test that knows the salt and
  unpredictable for anyone who does not.
- A fold that would change what the room sees never comes in the same version as a change
  to anyone's entry in ``participants`` (presence is shown at other folds), nor in the
  version right after one made less than half an interval earlier.
- Presence is debounced: the shell reports sockets opening and closing (``online``), and a
  fold shows someone connected only once they have stayed online ``presence_on_s``, and
  disconnected only once they have stayed away ``presence_off_s``. A phone that wakes to
  send and sleeps again never shows at all.

Changes to the true tallies alone are quiet: they are stored but bump no version and send
no frame (a version that moved with nothing to see would itself say someone acted).

Marks that stop a second vote, answer or consent are HMACs keyed with the participant's
own secret (``Actor.key``, derived from their token by the shell), so neither the store
nor anything published can be joined back to a participant.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from typing import Any

from .disclosure import spread_may_move
from .errors import Forbidden
from .transition import ANONYMOUS_ACTS
from .models import ITEM_KINDS, Actor, Item, Participant, SessionState, WellbeingTally

# Events of changes the room does not see (the version stays, nothing is published).
QUIET = ANONYMOUS_ACTS | {"presence_noted", "tallies_staged"}


def mark(actor: Actor, *parts: str) -> str:
    """A participant's mark for one anonymous act: only their own secret recomputes it."""
    if not actor.key:
        raise Forbidden("this needs the participant's own token", "participant_only")
    return hmac.digest(actor.key.encode(), "\x1f".join(parts).encode(), "sha256").hex()  # one call into OpenSSL


# ---------------------------------------------------------------- the fold timer

def _jitter(state: SessionState, k: int) -> float:
    digest = hashlib.sha256(f"{state.salt}\x1ffold\x1f{k}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def tick_at(state: SessionState, k: int) -> float:
    """The k-th fold time: somewhere in the middle half of the k-th interval."""
    interval = state.settings.tally_interval_s
    return state.created_at + (k + 0.25 + 0.5 * _jitter(state, k)) * interval


def next_tick(state: SessionState, after: float) -> float:
    interval = state.settings.tally_interval_s
    k = max(0, math.floor((after - state.created_at) / interval) - 1)
    while tick_at(state, k) <= after:
        k += 1
    return tick_at(state, k)


def scheduled(state: SessionState, now: float) -> SessionState:
    """Make sure a fold is coming (the next tick after now, or an earlier one already set)."""
    if state.flush_at is not None:
        return state
    return state.model_copy(update={"flush_at": next_tick(state, now)})


# ---------------------------------------------------------------- what the room sees

def shown_pending(state: SessionState) -> dict[str, int]:
    return {k: sum(1 for i in state.items if i.kind == k and i.stage == 2 and not i.revealed and not i.hidden)
            for k in ITEM_KINDS}


def shown_items(state: SessionState) -> list[Item]:
    return [i for i in state.items if i.revealed and not i.hidden]


def answered(tally: WellbeingTally) -> int:
    return sum(tally.shown)


def _projection(state: SessionState) -> Any:
    """Everything the views derive from the batched counters."""
    return (shown_pending(state), [(i.id, i.votes_shown) for i in shown_items(state)],
            [(t.phase_id, t.shown, t.spread) for t in state.wellbeing + state.evaluation.tallies],
            [(p.id, p.shown) for p in state.proposals], state.evaluation.notes_shown)


def entries(state: SessionState) -> Any:
    """The participants' entries as the room sees them (and who holds the floor)."""
    groups = state.breakouts.groups if state.breakouts is not None else ()  # each group's floor too
    return (tuple((p.id, p.name, p.present, p.removed, p.connected, p.hand_raised_at is not None, p.spoken_s)
                  for p in state.participants), state.turn.participant_id if state.turn else None,
            tuple(g.turn.participant_id if g.turn else None for g in groups))


# ---------------------------------------------------------------- folding

def _tallies_moving(state: SessionState) -> bool:
    return (any(i.stage < 2 or i.retracted or i.votes_staged != len(i.voter_hashes) or i.votes_shown != i.votes_staged
                for i in state.items)
            or any(t.staged != t.counts or t.shown != t.staged for t in state.wellbeing + state.evaluation.tallies)
            or any(p.staged != (p.agreed, p.objected) or p.shown != p.staged for p in state.proposals)
            or state.evaluation.notes_staged != state.evaluation.notes
            or state.evaluation.notes_folded != state.evaluation.notes_staged)


def _presence_moving(state: SessionState) -> bool:
    return any(p.online != p.connected for p in state.participants if not p.removed)


def fold(state: SessionState) -> SessionState:
    """Every anonymous counter one stage on: shown <- staged <- true."""
    items = []
    for i in state.items:
        if i.retracted == 2:
            continue  # withdrawn by its author: it leaves the views now, a fold after it was withdrawn
        items.append(i.model_copy(update={
            "stage": min(2, i.stage + 1), "retracted": 2 if i.retracted else 0,
            "votes_shown": i.votes_staged, "votes_staged": len(i.voter_hashes)}))
    wellbeing = tuple(_folded(t) for t in state.wellbeing)
    ev = state.evaluation
    evaluation = ev.model_copy(update={"tallies": tuple(_folded(t) for t in ev.tallies),
                                       "notes_folded": ev.notes_staged, "notes_staged": ev.notes})
    proposals = tuple(p.model_copy(update={"shown": p.staged, "staged": (p.agreed, p.objected)})
                      for p in state.proposals)
    return state.model_copy(update={"items": tuple(items), "wellbeing": wellbeing, "evaluation": evaluation,
                                    "proposals": proposals})


def _folded(tally: WellbeingTally) -> WellbeingTally:
    return tally.model_copy(update={"shown": tally.staged, "staged": tally.counts})


def _presence_wait(state: SessionState, p: Participant) -> float:
    """How long a change of ``online`` must last before the room sees it. A first connection
    (just after joining, which the room saw anyway) shows at the next fold; later ones wait."""
    if p.online:
        return state.settings.presence_on_s if p.shown_once else 0.0
    return state.settings.presence_off_s


def _presence_due(state: SessionState, p: Participant, now: float) -> bool:
    if p.removed or p.online == p.connected:
        return False
    return now - p.online_changed_at >= _presence_wait(state, p)


def flush(state: SessionState, now: float) -> tuple[SessionState, str | None]:
    """One tick of the fold timer: (new state, event type or None when nothing was due).

    Either the counters fold or presence changes, never both in one version; a fold the
    room would see waits while someone's entry has only just changed.
    """
    if state.flush_at is None or now < state.flush_at:
        return state, None
    event = "tallies_staged"
    folded = fold(state)
    if _projection(folded) != _projection(state):
        version, at = state.entry_changed
        fresh_entry = version == state.version and now - at < 0.5 * state.settings.tally_interval_s
        if not fresh_entry:
            state, event = folded, "tallies_folded"
    else:
        state = folded  # staging only: nothing the room sees moves
    if event != "tallies_folded":
        due = [p for p in state.participants if _presence_due(state, p, now)]
        if due:
            ids = {p.id for p in due}
            people = tuple(p.model_copy(update={"connected": p.online, "shown_once": p.shown_once or p.online})
                           if p.id in ids else p for p in state.participants)
            state, event = state.model_copy(update={"participants": people}), "presence_shown"
    more = _tallies_moving(state) or _presence_moving(state)
    return state.model_copy(update={"flush_at": next_tick(state, now) if more else None}), event


def note_online(state: SessionState, participant_id: str, online: bool, now: float) -> SessionState | None:
    """The shell saw this participant's first socket open (or last one close). None: no news."""
    person = state.participant(participant_id)
    if person is None or person.online == online:
        return None
    person = person.model_copy(update={"online": online, "online_changed_at": now})
    people = tuple(person if p.id == participant_id else p for p in state.participants)
    state = state.model_copy(update={"participants": people})
    if person.online != person.connected:
        wait = _presence_wait(state, person)
        due = next_tick(state, now + wait - 1e-9) if wait > 0 else next_tick(state, now)
        if state.flush_at is None or due < state.flush_at:
            state = state.model_copy(update={"flush_at": due})
    return state


def unshown(tally: WellbeingTally) -> int:
    """Answers counted since the spread was last shown (all of them, before the first showing)."""
    return answered(tally) - (sum(tally.spread) if tally.spread is not None else 0)


def snapshot(tally: WellbeingTally, threshold: int) -> WellbeingTally | None:
    """The tally with its spread shown as folded so far; None unless at least ``threshold``
    answers came in since it was last shown, so that a showing never moves it by one answer."""
    if not spread_may_move(unshown(tally), threshold):
        return None
    return tally.model_copy(update={"spread": tally.shown})


def snapshot_spread(state: SessionState, phase_id: str) -> SessionState | None:
    """Show a phase's wellbeing spread as counted so far (see ``snapshot``); None if too few."""
    tallies = list(state.wellbeing)
    for n, t in enumerate(tallies):
        shown = snapshot(t, state.settings.reveal_threshold) if t.phase_id == phase_id else None
        if shown is not None:
            tallies[n] = shown
            return state.model_copy(update={"wellbeing": tuple(tallies)})
    return None
