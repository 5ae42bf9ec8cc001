"""What each role sees: the one place a view is computed from the state.

The anonymity rule lives here. An item is shown as exactly ``{id, kind, text, votes}``
and nothing else about items leaves this module: no receipt, no voter, no position in
submission order, no timestamp. Pending items are shown only as counts per kind. Every
anonymous count (pending, votes, wellbeing answers and spread, consent) and ``connected``
is shown as last folded by ``tallies``, never as it is this moment. The
tests in tests/test_views.py (and the end-to-end audit, tests/test_anonymity_audit.py) hold every role's view to that.
"""

from __future__ import annotations

from typing import Any

from . import breakouts, carry, cofacilitation, consent, evaluation, floor, knocks, opening, tallies
from .engine import listening, queue_order, removed_people, spoken_now, undo_pass_until, vote_mark, wellbeing_mark
from .formats import is_one_to_one
from .models import Actor, SessionState, WellbeingTally


def view_for(state: SessionState, viewer: Actor, now: float) -> dict[str, Any]:
    """The complete view for one viewer at ``now`` (spoken times include the live turn)."""
    view = shared_view(state, now, scope(state, viewer))
    view["me"] = me_view(state, viewer)
    return view


def scope(state: SessionState, viewer: Actor) -> str | None:
    """Whose shared view a viewer gets: their group's while breakouts run (a phone sees only
    its own group), else the room's (the facilitator and the screen always see the room)."""
    if viewer.role != "participant":
        return None
    group = breakouts.group_of(state, viewer.participant_id)
    return group.id if group is not None else None


def shared_view(state: SessionState, now: float, breakout_id: str | None = None) -> dict[str, Any]:
    """The part of the view that is the same for every viewer of one scope (cacheable per
    version and scope): the room's, or one group's (``breakout_id``, see ``scope``)."""
    if breakout_id is not None and state.breakouts is not None:
        group = breakouts.find(state, breakout_id)
        view = _shared(breakouts.focus(state, group), now)
        view["anonymous_writing"] = breakouts.anonymous_writing(state, group)  # not in a group of two
        view["breakout"] = _group_view(state, group, now, members_only=True)
        view["breakouts"] = None
        view["breakouts_notice"] = _notice(state)
        return view
    view = _shared(state, now)
    if state.breakouts is not None:
        view["queue"] = []  # hands are raised in the groups (each group's `queue`): the room's floor waits
    view["breakout"] = None
    view["breakouts"] = ([_group_view(state, g, now, members_only=False) for g in state.breakouts.groups]
                         if state.breakouts is not None else None)
    view["breakouts_notice"] = _notice(state)
    return view


def _notice(state: SessionState) -> dict[str, Any] | None:
    b = state.breakouts
    if b is None or b.notice_minutes is None:
        return None
    return {"minutes": b.notice_minutes, "at": b.notice_at}


def _group_view(state: SessionState, group: Any, now: float, *, members_only: bool) -> dict[str, Any]:
    """One group at a glance. Its items' text and its proposals' text are for its members
    alone: the facilitator and the screen get counts and ids only."""
    focused = breakouts.focus(state, group)
    phase = None
    if group.phase is not None:
        spec = state.format.phases[group.phase.index]
        phase = {"id": spec.id, "title": spec.title, "kind": spec.kind, "index": group.phase.index,
                 "started_at": group.phase.started_at, "ends_at": group.phase.ends_at}
    turn = None
    if group.turn is not None:
        turn = {"participant_id": group.turn.participant_id, "ends_at": group.turn.ends_at,
                "source": group.turn.source}
    view: dict[str, Any] = {
        "id": group.id, "number": group.number,
        # In the group's order: the rotating role goes down this list.
        "members": [{"id": p.id, "name": p.name, "present": p.present}
                    for p in sorted(focused.participants, key=lambda p: group.members.index(p.id)) if not p.removed],
        "phase": phase, "turn": turn, "presenter_id": group.presenter_id,
        "step": group.step, "steps": len(breakouts.breakout_phases(state.format)),
        "rotation": len(group.presented), "rotations": breakouts.rotations(state, group), "done": group.done,
        "queue": queue_order(focused, now),
        "notice": _notice(state),
    }
    if not members_only:
        # A group too small for its counts to name nobody shows none (null): among two, a vote
        # or an objection is the other one's.
        counted = breakouts.counted(state, group)
        view["pending"] = tallies.shown_pending(focused) if counted else None
        view["items"] = [{"id": i.id, "kind": i.kind, "votes": i.votes_shown if counted else None}
                         for i in tallies.shown_items(focused)]
        view["proposals"] = [{"id": p.id, "kind": p.kind, "item_id": p.item_id,
                              "agreed": p.shown[0] if counted else None, "objected": p.shown[1] if counted else None,
                              "answered": sum(p.shown) if counted else None} for p in group.proposals]
    return view


def _shared(state: SessionState, now: float) -> dict[str, Any]:
    phase = None
    if state.phase is not None:
        spec = state.format.phases[state.phase.index]
        phase = {"id": spec.id, "title": spec.title, "kind": spec.kind, "index": state.phase.index,
                 "started_at": state.phase.started_at, "ends_at": state.phase.ends_at,
                 "listens_only": list(spec.listens_only), "answers": list(spec.answers), "wellbeing": spec.wellbeing,
                 "purpose": spec.purpose, "prompt": spec.prompt}
    turn = None
    if state.turn is not None:
        t = state.turn
        turn = {"participant_id": t.participant_id, "started_at": t.started_at, "ends_at": t.ends_at,
                "duration_s": t.duration_s, "source": t.source}
    rnd = None
    if state.round is not None:
        r = state.round
        # next_id and places come from ``floor``, the rules the engine acts on: never a leaver as next.
        upcoming = floor.next_id(state)
        rnd = {"order": list(r.order), "position": r.position, "duration_s": r.duration_s,
               "marks": dict(r.marks), "next_id": upcoming,
               "places": [{"participant_id": pid, "place": place} for pid, place in floor.places(state, upcoming)]}
    return {
        "code": state.code,
        "title": state.title,
        "format": state.format.id,
        "format_title": state.format.title,
        "version": state.version,
        "status": state.status.value,
        "locked": state.locked,
        "paused_at": state.paused_at,
        "closed_at": state.closed_at,
        "phases": [{"id": p.id, "title": p.title, "kind": p.kind, "duration_s": p.duration_s,
                    "listens_only": list(p.listens_only), "answers": list(p.answers), "wellbeing": p.wellbeing,
                    "purpose": p.purpose, "prompt": p.prompt, "breakout": p.breakout, "speaker": p.speaker}
                   for p in state.format.phases],
        # How the format's breakouts run (None: it has none): the suggested size, the rotating role.
        "breakout_plan": (state.format.breakouts.model_dump() if state.format.breakouts is not None
                          else None),
        # Whether people may write anonymously here: not in a session of two, where the other
        # would always know who wrote it (a one-to-one).
        "anonymous_writing": breakouts.anonymous_writing(state),
        # A session of two (a one-to-one): no raised hands, no anonymous ballot, no thresholds.
        "one_to_one": is_one_to_one(state.format),
        "phase": phase,
        "participants": [
            {"id": p.id, "name": p.name, "present": p.present, "connected": p.connected,
             "spoken_s": round(spoken_now(state, p, now), 1), "hand_raised": p.hand_raised_at is not None,
             **({"phoneless": True} if p.phoneless else {})}  # in the room without a phone
            for p in state.participants if not p.removed
        ],
        "turn": turn,
        "round": rnd,
        "queue": queue_order(state, now),
        "presenter_id": state.presenter_id,
        # Who answers each question in this phase (the presenter, where the phase says so), if present.
        "answerer_id": floor.answerer(state),
        # The console's suggested next step and the command of the control it stands for; "overtime"
        # is the step once the phase is past its time (the pages know the clock, the view does not).
        "next_step": {**floor.suggest(state), "overtime": floor.suggest(state, overtime=True)},
        "items": [{"id": i.id, "kind": i.kind, "text": i.text, "votes": i.votes_shown}
                  for i in tallies.shown_items(state)],
        "pending": tallies.shown_pending(state),
        "actions": [{"id": a.id, "participant_id": a.participant_id, "text": a.text, "due": a.due}
                    for a in state.actions],
        # A phase's tally joins the view at the fold that first counts an answer, not at the answer.
        "wellbeing": [_wellbeing(state, t) for t in state.wellbeing if tallies.answered(t) or t.spread],
        # The statements, how many answered (batched), and the spreads only as last shown.
        "evaluation": evaluation.view(state),
        "settings": {"queue_turn_s": state.settings.queue_turn_s,
                     "reveal_threshold": state.settings.reveal_threshold},
        "group": state.group_id is not None,
        "proposals": consent.view(state),  # counts only: never who agreed or objected
        "group_plan": opening.view(state),  # the group's agreement, settled case and next date
    }


def _wellbeing(state: SessionState, tally: WellbeingTally) -> dict[str, Any]:
    """The room sees how many answered (batched), and the spread only as last shown: when the
    facilitator showed it or the phase ended, with enough answers that it names nobody."""
    return {"phase_id": tally.phase_id, "answered": tallies.answered(tally),
            "distribution": list(tally.spread) if tally.spread is not None else None}


def me_view(state: SessionState, viewer: Actor) -> dict[str, Any]:
    """The per-connection part: who I am, and which items I voted for (mine alone to see)."""
    group = breakouts.group_of(state, viewer.participant_id) if viewer.role == "participant" else None
    if group is not None:  # in a group, my marks, listening and passes are the group's
        state = breakouts.focus(state, group)
    me: dict[str, Any] = {"role": viewer.role, "participant_id": viewer.participant_id}
    person = state.participant(viewer.participant_id) if viewer.participant_id else None
    if person is not None:
        me["name"] = person.name
        me["present"] = person.present
        # Only the voter's own secret recomputes their marks; nobody else's view shows them.
        keyed = viewer.key is not None
        # (an item nobody voted for needs no mark computed: none can be mine)
        me["voted_item_ids"] = [i.id for i in tallies.shown_items(state)
                                if keyed and i.voter_hashes and vote_mark(state, i.id, viewer) in i.voter_hashes]
        me["listening"] = listening(state, person.id)
        me["answering"] = floor.answerer(state) == person.id  # the presenter answers each question here
        me["hand_lowered"] = person.hand_lowered  # the phase changed while my hand was up
        me["wellbeing_answered"] = [t.phase_id for t in state.wellbeing
                                    if keyed and t.answered and wellbeing_mark(state, t.phase_id, viewer) in t.answered]
        me["requested_word"] = person.id in state.word_requests
        me["has_reflection"] = person.reflection is not None
        me["undo_pass_until"] = undo_pass_until(state, person.id)  # mine alone: nobody else sees who passed
    if viewer.role == "facilitator":
        # Named, and for the facilitator's eyes only: nobody else's view carries these.
        names = {p.id: p.name for p in state.participants}
        # A participant handed the facilitation is one of the group: who asked the facilitator for
        # a private word afterwards stays with the facilitators proper.
        peer = cofacilitation.through_peer(state, cofacilitation.seat_of(viewer))
        me["word_requests"] = [] if peer else [{"participant_id": pid, "name": names.get(pid, "")}
                                               for pid in state.word_requests]
        me["removed"] = removed_people(state)
        me["waiting"] = knocks.waiting_view(state)  # at the locked door, asking to be let in
    me.update(consent.me_extras(state, viewer))
    me.update(evaluation.me_extras(state, viewer))  # whether this phone has answered: its own secret alone knows
    me.update(carry.me_extras(state, viewer))  # carried actions: the owner's phone, and the speaker's on screen
    me.update(opening.me_extras(state, viewer))  # journal entries brought to the check-in: their own words
    me.update(cofacilitation.me_extras(state, viewer))  # a console's seat and who leads; a phone handed the facilitation
    return me
