"""The anonymous evaluation at the end of a session: statements rated 1 to 5 on the phones.

The rules, all here:

- the statements come from the format file (``evaluation``) or, in a recurring group, from
  the group's own list, copied into the session's format when it starts;
- it is answered on the phones during the check-out (a phase whose purpose is
  ``check-out``), once per person, every statement at once, with an optional line of
  free text that passes the identifier guard (``guard.require_confirmed``);
- answers are kept as the wellbeing scale's are (``tallies``): counts per score per
  statement, apart from the marks of who answered (keyed with each one's own secret),
  folded for the room on the jittered timer, a stage behind;
- the room sees the spread only as a snapshot, taken when the facilitator shows it or the
  check-out ends, and only when at least ``settings.evaluation_k`` answers came in since the
  last showing: no showing moves it by fewer than k answers, so no one's scores can be
  read off the difference. Before that the room sees only how many answered.

Who may send these commands and when is in the engine's one table, ``engine.RULES``.
"""

from __future__ import annotations

from typing import Any

from . import commands as c
from . import guard, tallies
from .errors import Conflict
from .models import Actor, SessionState, WellbeingTally
from .transition import Event, Result


def key(n: int) -> str:
    return f"s{n}"


def offered(state: SessionState) -> bool:
    """Whether the phones offer the evaluation now: the format has statements and the
    current phase is a check-out."""
    if not state.format.evaluation or state.phase is None:
        return False
    return state.format.phases[state.phase.index].purpose == "check-out"


def mark(state: SessionState, actor: Actor) -> str:
    return tallies.mark(actor, "evaluation", state.code)


def answered(state: SessionState) -> int:
    """How many answered, as the room sees it (as of the fold two stages behind)."""
    ts = state.evaluation.tallies
    return tallies.answered(ts[0]) if ts else 0


def evaluate(state: SessionState, cmd: c.Evaluate, actor: Actor, now: float, fresh: Any) -> Result:
    if not offered(state):
        raise Conflict("the evaluation is answered during the check-out", "not_evaluation_time")
    statements = state.format.evaluation
    if len(cmd.scores) != len(statements):
        raise Conflict(f"give one score for each of the {len(statements)} statements, in order", "one_score_each",
                       count=len(statements))
    ev = state.evaluation
    me = mark(state, actor)
    if me in ev.answered:
        raise Conflict("you have answered the evaluation already", "already_answered")
    if cmd.note:
        guard.require_confirmed(cmd.note, cmd.confirmed)
    by_key = {t.phase_id: t for t in ev.tallies}
    counted = []
    for n, score in enumerate(cmd.scores):
        tally = by_key.get(key(n), WellbeingTally(phase_id=key(n)))
        counts = list(tally.counts)
        counts[score - 1] += 1
        counted.append(tally.model_copy(update={"counts": tuple(counts)}))
    # Marks and notes are kept sorted, so their order says nothing about who answered when.
    ev = ev.model_copy(update={"tallies": tuple(counted), "answered": tuple(sorted(ev.answered + (me,))),
                               "notes": tuple(sorted(ev.notes + ((cmd.note,) if cmd.note else ())))})
    state = tallies.scheduled(state.model_copy(update={"evaluation": ev}), now)
    return state, [Event(type="evaluation_answered")], {}


def snapshot(state: SessionState) -> SessionState | None:
    """Show every statement's spread (and the notes) as folded so far; None unless at least
    k answers came in since the last showing."""
    ev = state.evaluation
    k = state.settings.evaluation_k
    shown = [tallies.snapshot(t, k) for t in ev.tallies]
    if not shown or any(t is None for t in shown):
        return None
    ev = ev.model_copy(update={"tallies": tuple(t for t in shown if t is not None), "notes_shown": ev.notes_folded})
    return state.model_copy(update={"evaluation": ev})


def at_phase_end(state: SessionState, events: list[Event]) -> SessionState:
    """Leaving the check-out (for another phase, or by closing) shows the spread, if it may."""
    if not offered(state):
        return state
    shown = snapshot(state)
    if shown is None:
        return state
    events.append(Event(type="evaluation_shown"))
    return shown


def show_evaluation(state: SessionState, cmd: c.ShowEvaluation, actor: Actor, now: float, fresh: Any) -> Result:
    if not state.format.evaluation:
        raise Conflict("this session has no evaluation", "no_evaluation")
    ts = state.evaluation.tallies
    new = tallies.unshown(ts[0]) if ts else 0
    k = state.settings.evaluation_k
    shown = snapshot(state)
    if shown is None:
        since = " since it was last shown" if ts and ts[0].spread is not None else " so far"
        raise Conflict(f"{new} answered{since}; with fewer than {k} new answers the spread could tell who chose what",
                       "below_threshold", count=new, threshold=k)
    return shown, [Event(type="evaluation_shown")], {}


def view(state: SessionState) -> dict[str, Any] | None:
    """What every role sees: the statements, how many answered (batched), and each spread
    only as last shown, with the notes that came with it."""
    statements = state.format.evaluation
    if not statements:
        return None
    by_key = {t.phase_id: t for t in state.evaluation.tallies}
    spreads = [by_key[key(n)].spread if key(n) in by_key else None for n in range(len(statements))]
    return {"statements": [{"text": text, "distribution": list(spread) if spread is not None else None}
                           for text, spread in zip(statements, spreads)],
            "answered": answered(state),
            "in_spread": sum(spreads[0]) if spreads and spreads[0] is not None else 0,
            "notes": list(state.evaluation.notes_shown or ()),
            "k": state.settings.evaluation_k}


def me_extras(state: SessionState, viewer: Actor) -> dict[str, Any]:
    """A phone's own: whether it has answered (only its own secret recomputes its mark)."""
    if viewer.role != "participant" or not state.format.evaluation:
        return {}
    answered = state.evaluation.answered  # (nobody's answer yet: no mark to compute)
    done = viewer.key is not None and bool(answered) and mark(state, viewer) in answered
    return {"evaluation_answered": done, "evaluation_due": offered(state) and not done}


def last_shown(state: SessionState) -> list[tuple[str, tuple[int, int, int, int, int] | None]]:
    """Per statement, the spread as the room was last shown it (None: never shown). The
    group's record is made from this and never from the counts, so it holds nothing the room
    was not shown (``disclosure``)."""
    by_key = {t.phase_id: t for t in state.evaluation.tallies}
    return [(text, by_key[key(n)].spread if key(n) in by_key else None)
            for n, text in enumerate(state.format.evaluation)]

