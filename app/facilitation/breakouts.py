"""Breakouts: small groups inside one session, each running by itself.

A group (``Breakout``) keeps its own copy of the fields the room's floor and writing live in
(``GROUP_FIELDS``: phase, turn, round, presenter, items, proposals, ...). The engine runs a
command that addresses a group with the room's own handler on a *focused* state: the room's
state with the group's copy in those fields and only the group's members as participants
(``focus``); the result is written back into the group (``unfocus``). So one speaker per
group, equal turns, listens-only roles, least heard first, batched counts and reveals that
wait for enough items hold in every group exactly as in the room.

Anonymous items written in a group stay in it: only its members' views show them; they
come back to the room, when breakouts end, only if the group agreed through the consent
ballot (``agreed_items``), each under a new id, so nobody who saw the group's ids can tell
which group wrote it (``brought_back``). The fold timer folds every group's counters at the
room's ticks (``combined``/``split_back``).

Anonymity needs at least ``FEWEST_ANONYMOUS`` people: between two, each knows the other
wrote, voted or objected. So nobody writes anonymously in a group of two, as in a session
of two (``anonymous_writing``, the one rule for both); a split avoids pairs when the groups'
phases ask for writing; and the facilitator and the screen see a group's anonymous counts
only where it has that many members (``counted``).

This module is pure and knows nothing of the engine; the engine's breakout handlers use it.
"""

from __future__ import annotations

import random
from typing import Any, Literal, TypeVar

from . import commands as c
from .consent import agreed
from .errors import Conflict, Forbidden, Invalid, NotFound
from .formats import is_one_to_one, shown_size
from .models import Breakout, Breakouts, FormatSpec, Item, Participant, SessionState
from .transition import salted_hash

Clocked = TypeVar("Clocked", Breakout, SessionState)  # what holds a turn and a phase

GROUP_FIELDS = ("phase", "turn", "round", "presenter_id", "items", "proposals", "rounds_run", "last_pass",
                "phase_log")

# Where a command applies while breakouts run: its row's ``scope`` in ``engine.RULES``.
# room: the whole room (a facilitator's takes no breakout_id); own_group: a participant's
# own group; own_floor: the same, refused once the group is done (nothing to take); group: a
# group the facilitator names (breakout_id), else the room; floor: the room's floor, which
# waits while breakouts run, so the facilitator must name a group; room_floor: the same, and
# no group takes it (goto_phase); their_group: a named group, else the group of the person it
# names (remove_participant); names_group: breakout_id is an argument, not an address.
Scope = Literal["room", "own_group", "own_floor", "group", "floor", "room_floor", "their_group", "names_group"]

# The fewest people among whom an anonymous act stays anonymous (k): between two, each knows.
FEWEST_ANONYMOUS = 3


def breakout_phases(spec: FormatSpec) -> list[int]:
    """The indices of the phases each group runs, in order."""
    return [i for i, p in enumerate(spec.phases) if p.breakout]


def rotating(spec: FormatSpec) -> bool:
    return spec.breakouts is not None and spec.breakouts.rotate == "presenter"


def group_of(state: SessionState, participant_id: str | None) -> Breakout | None:
    if state.breakouts is None or participant_id is None:
        return None
    return next((g for g in state.breakouts.groups if participant_id in g.members), None)


def find(state: SessionState, breakout_id: str) -> Breakout:
    if state.breakouts is None:
        raise NotFound(f"no breakout {breakout_id!r}: breakouts are not running", "no_breakouts")
    for g in state.breakouts.groups:
        if g.id == breakout_id:
            return g
    ids = ", ".join(g.id for g in state.breakouts.groups)
    raise NotFound(f"no breakout {breakout_id!r}; the groups are {ids}", "no_such_breakout")


def target(state: SessionState, command: c.Command, actor: Any, scope: Scope = "room") -> Breakout | None:
    """The group a command addresses, or None for the room; refuse what does not fit its ``scope``."""
    wanted = None if scope == "names_group" else command.breakout_id
    if state.breakouts is None:
        if wanted is not None:
            find(state, wanted)  # raises: not running
        return None
    if actor.role == "participant":
        mine = group_of(state, actor.participant_id)
        if wanted is not None and (mine is None or mine.id != wanted):
            where = f"group {mine.number}" if mine is not None else "no group"
            raise Forbidden(f"you are in {where}: you may not act in breakout {wanted!r}", "not_your_group")
        if scope in ("own_group", "own_floor") and mine is not None:
            if mine.done and scope == "own_floor":
                raise Conflict("your group is done: wait for the room", "group_done")
            return mine
        return None
    if actor.role == "facilitator":
        if wanted is not None:
            group = find(state, wanted)
            if scope == "room_floor":
                raise Conflict("a group goes through its phases in order: send next_phase with its breakout_id",
                               "group_in_order")
            if scope not in ("group", "floor", "their_group"):
                raise Invalid(f"{command.type} is for the whole room: it takes no breakout_id", "room_only")
            return group
        if scope == "their_group":
            return group_of(state, command.participant_id)  # type: ignore[attr-defined]
        if scope in ("floor", "room_floor"):
            raise Conflict(f"breakouts are running: name the group (breakout_id) for {command.type}, "
                           "or end_breakouts first", "breakouts_running")
        return None
    if wanted is not None:
        raise Invalid(f"{command.type} takes no breakout_id", "room_only")
    return None


def present_members(state: SessionState, group: Breakout) -> int:
    """How many of the group's members are here (neither left nor removed)."""
    members = set(group.members)
    return sum(1 for p in state.participants if p.id in members and p.present and not p.removed)


def anonymous_writing(state: SessionState, group: Breakout | None = None) -> bool:
    """Whether people may write anonymously in the room (``group`` None) or in a group: never
    between two, where the other would know who wrote it: a session of two (a one-to-one),
    or a breakout group with fewer than ``FEWEST_ANONYMOUS`` members present."""
    if is_one_to_one(state.format):
        return False
    return group is None or present_members(state, group) >= FEWEST_ANONYMOUS


def counted(state: SessionState, group: Breakout) -> bool:
    """Whether the facilitator and the screen may see the group's anonymous counts (pending,
    votes, consent): only where it has enough members that a count names nobody."""
    return present_members(state, group) >= FEWEST_ANONYMOUS


def focus(state: SessionState, group: Breakout) -> SessionState:
    """The room's state as the group lives it: its own floor and writing, its members only."""
    members = set(group.members)
    update: dict[str, Any] = {f: getattr(group, f) for f in GROUP_FIELDS}
    update["participants"] = tuple(p for p in state.participants if p.id in members)
    return state.model_copy(update=update)


def unfocus(room: SessionState, group: Breakout, focused: SessionState) -> SessionState:
    """Write a focused state's result back: the group's fields into the group, the rest into the room."""
    group = group.model_copy(update={f: getattr(focused, f) for f in GROUP_FIELDS})
    changed = {p.id: p for p in focused.participants}
    people = tuple(changed.get(p.id, p) for p in room.participants)
    keep = set(GROUP_FIELDS) | {"participants", "breakouts"}
    rest = {k: getattr(focused, k) for k in SessionState.model_fields if k not in keep}
    return with_group(room.model_copy(update={**rest, "participants": people}), group)


def with_group(state: SessionState, group: Breakout) -> SessionState:
    assert state.breakouts is not None
    groups = tuple(group if g.id == group.id else g for g in state.breakouts.groups)
    return state.model_copy(update={"breakouts": state.breakouts.model_copy(update={"groups": groups})})


# ---------------------------------------------------------------- splitting

def writes_in_groups(spec: FormatSpec) -> bool:
    """Whether the groups' phases ask for writing (the Troika's silent preparation)."""
    return any(p.breakout and p.kind == "writing" for p in spec.phases)


def group_count(n: int, size: int, avoid_pairs: bool = False) -> int:
    """How many groups ``n`` people make in groups of about ``size``: nearest whole number,
    never a group of one (7 in threes: 3 + 4; 8 in threes: 3 + 3 + 2). With ``avoid_pairs``
    (groups of three or more asked for, to write in), no group of two where the people allow
    it: 8 in threes make 4 + 4."""
    k = max(1, min(int(n / size + 0.5), n // 2))
    if avoid_pairs and size >= FEWEST_ANONYMOUS and n >= FEWEST_ANONYMOUS:
        k = max(1, min(k, n // FEWEST_ANONYMOUS))
    return k


def split(people: list[Participant], size: int, method: str, seed: str,
          avoid_pairs: bool = False) -> list[tuple[str, ...]]:
    """Deal the people into groups whose sizes differ by one at most. ``balanced`` deals
    from the least heard up, so the quietest are spread across the groups."""
    k = group_count(len(people), size, avoid_pairs)
    if method == "balanced":
        order = [p.id for p in sorted(people, key=lambda p: (p.spoken_s, p.joined_at, p.id))]
    else:
        order = [p.id for p in people]
        random.Random(seed).shuffle(order)
    return [tuple(order[i::k]) for i in range(k)]


def by_hand(people: list[Participant], groups: tuple[tuple[str, ...], ...]) -> list[tuple[str, ...]]:
    """The facilitator's own groups: every present person exactly once, no group of one."""
    present = {p.id for p in people}
    seen: set[str] = set()
    for members in groups:
        for pid in members:
            if pid not in present:
                raise NotFound(f"no present participant {pid!r} in this session", "no_such_participant")
            if pid in seen:
                raise Invalid(f"groups: {pid!r} is in two groups", "split_repeats")
            seen.add(pid)
        if len(members) < 2:
            raise Invalid("groups: every group needs at least two people", "group_of_one")
    missing = present - seen
    if missing:
        raise Invalid(f"groups: {len(missing)} present participant(s) are in no group", "split_leaves_out",
                      count=len(missing))
    return [tuple(m) for m in groups]


def smallest(state: SessionState) -> Breakout:
    """Where a late joiner goes: the group with fewest present members (first among equals)."""
    assert state.breakouts is not None
    present = {p.id for p in state.participants if p.present and not p.removed}
    return min(state.breakouts.groups, key=lambda g: (g.done, sum(1 for m in g.members if m in present), g.number))


def next_presenter(state: SessionState, group: Breakout) -> str | None:
    """Who takes the rotating role next: the first present member who has not had it."""
    present = {p.id for p in state.participants if p.present and not p.removed}
    return next((m for m in group.members if m in present and m not in group.presented), None)


def rotations(state: SessionState, group: Breakout) -> int:
    """How many rotations the group runs: one per member (rotating formats), else one."""
    if not rotating(state.format):
        return 1
    present = {p.id for p in state.participants if p.present and not p.removed}
    return len(set(group.presented) | {m for m in group.members if m in present})


# ---------------------------------------------------------------- what the groups hold

def combined(state: SessionState) -> SessionState:
    """The room with every group's items and proposals beside its own, for one fold of the counters."""
    if state.breakouts is None:
        return state
    items = state.items + tuple(i for g in state.breakouts.groups for i in g.items)
    proposals = state.proposals + tuple(p for g in state.breakouts.groups for p in g.proposals)
    return state.model_copy(update={"items": items, "proposals": proposals})


def split_back(before: SessionState, folded: SessionState) -> SessionState:
    """Undo ``combined`` after the fold: each item and proposal back where it came from."""
    if before.breakouts is None:
        return folded
    items = {i.id: i for i in folded.items}
    proposals = {p.id: p for p in folded.proposals}
    groups = tuple(g.model_copy(update={
        "items": tuple(items[i.id] for i in g.items if i.id in items),
        "proposals": tuple(proposals[p.id] for p in g.proposals if p.id in proposals)})
        for g in before.breakouts.groups)
    mine_i = {i.id for i in before.items}
    mine_p = {p.id for p in before.proposals}
    return folded.model_copy(update={
        "items": tuple(i for i in folded.items if i.id in mine_i),
        "proposals": tuple(p for p in folded.proposals if p.id in mine_p),
        "breakouts": before.breakouts.model_copy(update={"groups": groups})})


def agreed_items(state: SessionState, group: Breakout) -> list[Any]:
    """The group's revealed items its members agreed (consent, no objection) to bring back."""
    focused = focus(state, group)
    chosen = {p.item_id for p in agreed(focused) if p.kind == "item"}
    return [i for i in group.items if i.id in chosen and i.revealed and not i.hidden]


def brought_back(items: list[Item], secret: str) -> tuple[Item, ...]:
    """The items the groups bring back to the room, each under a new id drawn from ``secret``
    (the command's own randomness, kept nowhere), without the votes cast in the group, in the
    order of the new ids: nothing the facilitator saw of a group's items points to them now."""
    fresh = (i.model_copy(update={"id": salted_hash(secret, "brought back", i.id)[:16], "voter_hashes": (),
                                  "votes_staged": 0, "votes_shown": 0}) for i in items)
    return tuple(sorted(fresh, key=lambda i: i.id))


def content(state: SessionState) -> int:
    """About how many bytes the groups' writing adds to the views (see ``engine.content_bytes``)."""
    if state.breakouts is None:
        return 0
    return sum(shown_size(i.text) + 60 for g in state.breakouts.groups for i in g.items if not i.hidden) + sum(
        shown_size(p.text) + 100 for g in state.breakouts.groups for p in g.proposals)


def shifted(group: Clocked, delta: float) -> Clocked:
    """The room's or a group's clocks after a pause of ``delta`` seconds: every clock stood still."""
    turn, phase = group.turn, group.phase
    if turn is not None:
        turn = turn.model_copy(update={"started_at": turn.started_at + delta, "ends_at": turn.ends_at + delta,
                                       "counted_from": turn.counted_from + delta})
    if phase is not None:
        phase = phase.model_copy(update={"started_at": phase.started_at + delta, "ends_at": phase.ends_at + delta})
    return group.model_copy(update={"turn": turn, "phase": phase})


def deadlines(state: SessionState) -> list[float]:
    """When each running group needs the clock next: its turn's end or its phase's end."""
    if state.breakouts is None:
        return []
    due = []
    for g in state.breakouts.groups:
        if g.done:
            continue
        if g.turn is not None:
            due.append(g.turn.ends_at)
        if g.phase is not None:
            due.append(g.phase.ends_at)
    return due


def new_breakouts(groups: list[tuple[str, ...]], size: int, method: str, now: float) -> Breakouts:
    return Breakouts(groups=tuple(Breakout(id=f"g{n}", number=n, members=m) for n, m in enumerate(groups, 1)),
                     size=size, method=method, started_at=now)  # type: ignore[arg-type]
