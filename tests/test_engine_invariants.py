"""The transition function under random sessions: the invariants of engine.py hold always.

A hypothesis state machine sends random commands from random actors at increasing
times (the shell's deadline reports included). A refusal must change nothing; every
accepted change must keep the invariants that make the room fair and safe.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from pydantic import BaseModel, ValidationError

from app.facilitation import commands, engine, tallies
from app.facilitation.errors import FacilitationError
from app.facilitation.formats import builtin_formats, format_with_durations
from app.facilitation.models import FACILITATOR, SCREEN, SYSTEM, Actor, Fresh
from app.facilitation.views import view_for
from tests.support.core import send, session

NAMES = ["Ana", "Ben", "Cleo", "Dev", "Eli"]
TEXTS = ["What helped?", "Why then?", "You were kind", "Try again", "What next?"]

FACILITATOR_COMMANDS = st.one_of(
    st.sampled_from([{"type": t} for t in ("start", "next_phase", "next_turn", "pause", "resume", "close")]),
    st.builds(lambda s: {"type": "start_round", "seconds_per_turn": s}, st.sampled_from([1, 2.5, 30])),
    st.just({"type": "start_round"}),
    st.builds(lambda s: {"type": "extend", "seconds": s}, st.sampled_from([1, 60])),
    st.builds(lambda k, f: {"type": "reveal_items", "kind": k, "force": f},
              st.sampled_from(["question", "feedback"]), st.booleans()),
)
PARTICIPANT_COMMANDS = st.one_of(
    st.sampled_from([{"type": t} for t in ("raise_hand", "lower_hand", "pass", "undo_pass", "yield_turn")]),
    st.builds(lambda k, t: {"type": "submit_item", "kind": k, "text": t},
              st.sampled_from(["question", "feedback"]), st.sampled_from(TEXTS)),
    st.builds(lambda t: {"type": "add_action", "text": t}, st.sampled_from(TEXTS)),
)


class Session(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        fmt = format_with_durations("check-in-out", {"check-in": 20, "discussion": 30, "check-out": 20})
        self.state = engine.new_session(code="HYPO22", title="t", format=fmt, now=0.0, salt="salt",
                                        facilitator_token_hash="f", screen_token_hash="s")
        self.now = 0.0
        self.counter = 0
        self.spoken: dict[str, float] = {}
        self.version = 0
        self.authors: dict[str, str] = {}  # item text -> who wrote it (the test knows; no view may)
        self.history: list[tuple] = []  # (state before, state after, when) of every version

    @initialize(people=st.integers(0, 3), started=st.booleans())
    def a_group_gathers(self, people: int, started: bool) -> None:
        for _ in range(people):
            self.someone_joins()
        if started:
            self.attempt(commands.parse_command({"type": "start"}), FACILITATOR)

    def fresh(self) -> Fresh:
        self.counter += 1
        return Fresh(id=f"{(self.counter * 7919) % 10007:05d}{self.counter}", secret=f"receipt-{self.counter}")

    def attempt(self, command, actor: Actor) -> None:
        before = self.state
        try:
            result = engine.apply(self.state, command, actor, self.now, self.fresh())
        except FacilitationError:
            assert self.state == before
            return
        if result.events and all(e.type in tallies.QUIET for e in result.events):
            assert result.state.version == before.version  # the true tallies alone: nothing to see yet
            assert tallies.entries(result.state) == tallies.entries(before)
        elif result.events:
            assert result.state.version == before.version + 1
        else:
            assert result.state == before
        if result.state.version > before.version:
            self.history.append((before, result.state, self.now))
        self.state = result.state

    @rule(seconds=st.sampled_from([0.0, 0.1, 0.5, 1.0, 3.0]))
    def time_passes(self, seconds: float) -> None:
        self.now += seconds
        deadline = engine.next_deadline(self.state)
        if deadline is not None and deadline <= self.now:
            if engine.turn_due(self.state, self.now):
                self.attempt(commands.ExpireTurn(type="expire_turn"), SYSTEM)
            if engine.flush_due(self.state, self.now):
                self.attempt(commands.FlushTallies(type="flush_tallies"), SYSTEM)

    @precondition(lambda self: len(self.state.participants) < len(NAMES))
    @rule()
    def someone_joins(self) -> None:
        i = len(self.state.participants)
        try:
            self.state = engine.join(self.state, participant_id=f"p{i}", name=NAMES[i], token_hash=f"t{i}",
                                     now=self.now).state
        except FacilitationError:
            pass

    @rule(command=FACILITATOR_COMMANDS)
    def facilitator_acts(self, command) -> None:
        self.attempt(commands.parse_command(command), FACILITATOR)

    @rule(kind=st.sampled_from(["give_turn", "remove_participant", "set_presenter"]), who=st.integers(0, 4))
    def facilitator_aims_at_someone(self, kind: str, who: int) -> None:
        self.attempt(commands.parse_command({"type": kind, "participant_id": f"p{who}"}), FACILITATOR)

    @rule(command=PARTICIPANT_COMMANDS, who=st.integers(0, 4))
    def participant_acts(self, command, who: int) -> None:
        if self.state.participant(f"p{who}") is None:
            return
        if command["type"] == "submit_item":
            command = {**command, "text": f"{command['text']} #{self.counter}"}
        before = len(self.state.items)
        self.attempt(commands.parse_command(command), Actor(role="participant", participant_id=f"p{who}", key=f"k{who}"))
        if len(self.state.items) > before:
            self.authors[command["text"]] = f"p{who}"

    @rule(who=st.integers(0, 4), which=st.integers(0, 20))
    def participant_votes(self, who: int, which: int) -> None:
        shown = [i for i in self.state.items if i.revealed and not i.hidden]
        if shown and self.state.participant(f"p{who}") is not None:
            item = shown[which % len(shown)]
            self.attempt(commands.parse_command({"type": "vote_item", "item_id": item.id}),
                         Actor(role="participant", participant_id=f"p{who}", key=f"k{who}"))

    @rule(who=st.integers(0, 4))
    def someone_leaves(self, who: int) -> None:
        if self.state.participant(f"p{who}") is not None:
            self.attempt(commands.parse_command({"type": "leave"}), Actor(role="participant", participant_id=f"p{who}", key=f"k{who}"))

    # ------------------------------------------------------------ invariants

    @invariant()
    def at_most_one_speaker_and_they_are_present(self) -> None:
        turn = self.state.turn
        if turn is not None:
            person = self.state.participant(turn.participant_id)
            assert person is not None and person.present

    @invariant()
    def spoken_time_never_decreases(self) -> None:
        view = view_for(self.state, FACILITATOR, self.now)
        for p in view["participants"]:
            assert p["spoken_s"] >= self.spoken.get(p["id"], 0.0), p
            self.spoken[p["id"]] = p["spoken_s"]

    @invariant()
    def every_turn_in_a_round_has_the_same_duration(self) -> None:
        rnd, turn = self.state.round, self.state.turn
        if rnd is not None and turn is not None and turn.source == "round":
            assert turn.duration_s == rnd.duration_s

    @invariant()
    def versions_only_grow(self) -> None:
        assert self.state.version >= self.version
        self.version = self.state.version

    @invariant()
    def counts_move_apart_from_anyones_entry(self) -> None:
        """A fold that moves an anonymous count changes nobody's entry, and does not follow a
        fresh change to someone's entry (see tallies)."""
        for before, after, when in self.history[-1:]:
            if tallies._projection(before) == tallies._projection(after) or after.flush_at == before.flush_at:
                continue  # not a fold (reveals, hides and phase ends move counts by the facilitator's hand)
            assert tallies.entries(before) == tallies.entries(after)
            version, at = before.entry_changed
            assert not (version == before.version and when - at < 0.5 * before.settings.tally_interval_s)

    @invariant()
    def shown_counts_never_run_ahead_of_the_truth(self) -> None:
        for item in self.state.items:
            assert item.votes_shown <= item.votes_staged <= len(item.voter_hashes)

    @invariant()
    def no_view_ties_an_item_to_its_author(self) -> None:
        viewers = [FACILITATOR, SCREEN] + [Actor(role="participant", participant_id=p.id, key="k" + p.id[1:])
                                           for p in self.state.participants]
        pending = sum(1 for i in self.state.items if not i.revealed and not i.hidden and i.stage == 2)
        for viewer in viewers:
            view = view_for(self.state, viewer, self.now)
            assert sum(view["pending"].values()) == pending
            for item in view["items"]:
                assert set(item) == {"id", "kind", "text", "votes"}
                author = self.authors.get(item["text"])
                rendered = json.dumps(item)
                for p in self.state.participants:
                    assert p.id not in rendered and p.name not in rendered and p.token_hash not in rendered
                assert author is None or author not in rendered
            dumped = json.dumps(view)
            assert "receipt" not in dumped and "voter" not in dumped and self.state.salt not in dumped


Session.TestCase.settings = settings(max_examples=200, stateful_step_count=50, deadline=None, derandomize=True,
                                     suppress_health_check=[HealthCheck.too_slow])
TestSessionInvariants = Session.TestCase


def test_every_builtin_format_has_phases_of_known_kinds() -> None:
    for spec in builtin_formats().values():
        assert spec.phases and all(p.kind in ("round", "presentation", "queue", "writing") for p in spec.phases)
    assert {"action-learning-set", "balint", "gibbs", "check-in-out", "troika", "thinking-environment"} <= set(builtin_formats())


def test_a_copy_with_changes_is_the_copy_pydantic_makes() -> None:
    """``Frozen.model_copy`` takes a shorter path than pydantic's: every new state is made by
    copying, so a copy that kept an old value, lost track of which fields were set or could
    be changed in place would be a wrong room, not a slow one."""
    state = send(send(session(people=3), {"type": "start"}), {"type": "start_round", "seconds_per_turn": 60}, now=1.0)
    assert state.round is not None
    cases = [(state, {"version": state.version + 1, "title": "Team B"}), (state.participants[0], {"spoken_s": 3.5}),
             (state.round, {"position": 2}), (state.settings, {"reveal_threshold": 5})]
    for model, update in cases:
        ours, theirs = model.model_copy(update=update), BaseModel.model_copy(model, update=update)
        assert type(ours) is type(theirs) and ours == theirs
        assert ours.__dict__ == theirs.__dict__ and ours.__dict__ is not model.__dict__
        assert ours.model_fields_set == theirs.model_fields_set
        assert (ours.__pydantic_extra__, ours.__pydantic_private__) == (theirs.__pydantic_extra__, theirs.__pydantic_private__)
        assert ours.model_dump_json(exclude_unset=True) == theirs.model_dump_json(exclude_unset=True)
        assert all(getattr(model, name) != value for name, value in update.items())  # the original is untouched
        with pytest.raises(ValidationError):
            setattr(ours, next(iter(update)), None)  # and the copy is as frozen
    assert state.model_copy() == state and state.model_copy(update={}).__dict__ == state.__dict__
