"""The floor, decided once (app/facilitation/floor.py): who is next, who answers, what the
console suggests, as the engine acts on it and the pages show it."""

from __future__ import annotations

from app.facilitation import commands, engine, floor
from app.facilitation.models import FACILITATOR, SessionState
from app.facilitation.views import view_for
from app.pages.view import page_model
from tests.support.core import person, send, session, speaker


def round_of(people: int, fmt: str = "check-in-out") -> SessionState:
    state = send(session(fmt, people), {"type": "start"})
    return send(state, {"type": "start_round", "seconds_per_turn": 60}, now=1)


def places(state: SessionState) -> dict[str, str]:
    return dict(floor.places(state))


def test_a_leaver_is_never_next_and_the_real_next_person_gets_the_cue() -> None:
    state = round_of(5)
    assert speaker(state) == "p0" and floor.next_id(state) == "p1"
    state = send(state, {"type": "leave"}, person(1), now=2)
    assert floor.next_id(state) == "p2"
    view = view_for(state, person(2), 3)
    assert view["round"]["next_id"] == "p2"
    assert places(state)["p1"] == "left" and places(state)["p2"] == "next"
    assert page_model(view, 3)["my"]["up_next"] is True
    assert page_model(view_for(state, person(3), 3), 3)["my"]["up_next"] is False
    # The next turn goes to the person the view named.
    assert speaker(send(state, {"type": "next_turn"}, now=4)) == "p2"


def test_a_pass_shows_as_a_pass_and_the_second_chance_is_named() -> None:
    state = round_of(3)
    state = send(state, {"type": "pass"}, person(0), now=2)  # passes while speaking
    assert places(state)["p0"] == "passed" and speaker(state) == "p1"
    state = send(state, {"type": "next_turn"}, now=3)
    assert floor.next_id(state) == "p0"  # offered again at the end of the round
    state = send(state, {"type": "next_turn"}, now=4)
    assert speaker(state) == "p0"
    shown = [(pid, place) for pid, place in floor.places(state)]
    assert shown == [("p0", "passed"), ("p1", "done"), ("p2", "done"), ("p0", "speaking")]
    assert page_model(view_for(state, person(0), 5), 5)["my"]["second_chance"] is True


def balint_at(phase_id: str) -> SessionState:
    state = send(session("balint", 4), {"type": "start"})
    state = send(state, {"type": "goto_phase", "phase_id": "presentation"}, now=1)
    state = send(state, {"type": "set_presenter", "participant_id": "p1"}, now=1)
    return send(state, {"type": "goto_phase", "phase_id": phase_id}, now=2)


def test_in_balint_factual_questions_the_presenter_answers_each_asker() -> None:
    state = balint_at("questioning")
    assert not engine.listening(state, "p1") and floor.answerer(state) == "p1"
    assert view_for(state, person(1), 3)["me"]["answering"] is True
    state = send(state, {"type": "raise_hand"}, person(2), now=3)
    state = send(state, {"type": "give_turn", "participant_id": "p2"}, now=4)
    state = send(state, {"type": "yield_turn"}, person(2), now=10)
    # The question asked, the presenter has the floor to answer, and that time is theirs.
    assert state.turn.participant_id == "p1" and state.turn.source == "answer"
    before = state.participant("p1").spoken_s
    state = send(state, {"type": "yield_turn"}, person(1), now=25)
    assert state.turn is None and state.participant("p1").spoken_s == before + 15
    # The facilitator can give the presenter the floor to answer, too.
    state = send(state, {"type": "give_turn", "participant_id": "p1"}, now=26)
    assert state.turn.source == "answer"
    model = page_model(view_for(state, person(1), 27), 27)
    assert model["floor"]["mine"] and model["floor"]["source"] == "answer"


def test_in_balint_exploration_the_presenter_listens_only() -> None:
    state = balint_at("discussion")
    assert engine.listening(state, "p1") and floor.answerer(state) is None
    assert view_for(state, person(1), 3)["me"]["listening"] is True


def test_in_an_action_learning_set_questions_round_the_presenter_answers_after_each_asker() -> None:
    state = send(session("action-learning-set", 4), {"type": "start"})
    state = send(state, {"type": "goto_phase", "phase_id": "presentation"}, now=1)
    state = send(state, {"type": "set_presenter", "participant_id": "p0"}, now=1)
    state = send(state, {"type": "goto_phase", "phase_id": "questioning"}, now=2)
    state = send(state, {"type": "start_round"}, now=2)
    assert "p0" not in state.round.order and len(state.round.order) == 3
    # Six turns share the phase: three questions and three answers.
    assert state.round.duration_s == round(900 / 6, 1)
    first, presented = speaker(state), state.participant("p0").spoken_s
    assert floor.next_id(state) == "p0"
    assert page_model(view_for(state, person(0), 3), 3)["my"]["up_next"] is True
    state = send(state, {"type": "next_turn"}, now=10)
    assert speaker(state) == "p0" and state.turn.source == "answer"
    assert places(state)[first] == "done"
    second = floor.next_id(state)
    assert second == state.round.order[1]
    state = send(state, {"type": "next_turn"}, now=20)
    assert speaker(state) == second and state.participant("p0").spoken_s == presented + 10


def test_a_raised_hand_belongs_to_its_phase() -> None:
    state = balint_at("questioning")
    state = send(state, {"type": "raise_hand"}, person(2), now=3)
    assert engine.queue_order(state, 3) == ["p2"]
    state = send(state, {"type": "next_phase"}, now=4)
    view = view_for(state, person(2), 5)
    assert view["queue"] == [] and view["me"]["hand_lowered"] is True
    assert page_model(view, 5)["my"]["hand_raised"] is False
    state = send(state, {"type": "raise_hand"}, person(2), now=6)
    assert view_for(state, person(2), 7)["me"]["hand_lowered"] is False


def test_the_console_suggests_what_the_moment_asks() -> None:
    state = send(session("check-in-out", 3), {"type": "start"})
    assert floor.suggest(state)["command"] == {"type": "start_round"}
    state = send(state, {"type": "start_round", "seconds_per_turn": 5}, now=1)
    assert floor.suggest(state)["step"] == "next_turn"
    for t in range(3):
        state = send(state, {"type": "next_turn"}, now=2 + t)
    assert state.round is None
    assert floor.suggest(state)["step"] == "next_phase"  # not "start the round" again
    model = page_model(view_for(state, person(0), 5), 5)
    assert model["suggested"] == "next_phase"

    balint = send(session("balint", 3), {"type": "start"})
    balint = send(balint, {"type": "goto_phase", "phase_id": "presentation"}, now=1)
    assert floor.suggest(balint)["step"] == "choose_presenter"
    troika = send(session("troika", 6), {"type": "start"})  # forming trios: split, not a presenter's floor
    assert floor.suggest(troika)["command"] == {"type": "start_breakouts", "size": 3}
    troika = send(troika, {"type": "start_breakouts", "size": 3}, now=1)
    assert floor.suggest(troika)["step"] == "groups_running"
    console = page_model(view_for(troika, FACILITATOR, 2), 2)
    assert console["suggested"] is None and "presenter" not in console["next_step"]


def test_a_phase_past_its_time_shows_overtime_and_the_console_suggests_moving_on() -> None:
    state = send(session("check-in-out", 3), {"type": "start"})
    ends = state.phase.ends_at
    before = page_model(view_for(state, person(0), ends - 1), ends - 1)
    assert before["phase"]["overtime"] is False and before["suggested"] == "start_round"
    after = page_model(view_for(state, person(0), ends + 1), ends + 1)
    assert after["phase"]["overtime"] is True and after["suggested"] == "next_phase"


def test_a_breakout_groups_round_starts_with_the_least_heard_when_the_group_chose_it() -> None:
    state = session("check-in-out", 4)
    quiet = tuple(p.model_copy(update={"heard_least": p.id == "p3"}) for p in state.participants)
    state = state.model_copy(update={"participants": quiet,
                                     "settings": state.settings.model_copy(update={"least_heard_first": True})})
    state = send(state, {"type": "start"})
    assert floor.round_order(state)[0] == "p3"


def test_a_one_to_one_has_no_hands_no_ballot_and_the_one_who_reflects_answers() -> None:
    import pytest

    from app.facilitation.errors import Conflict

    state = send(session("one-to-one", 2), {"type": "start"})
    with pytest.raises(Conflict, match="no raised hands"):
        send(state, {"type": "raise_hand"}, person(0), now=1)
    with pytest.raises(Conflict, match="anonymous ballot"):
        send(state, {"type": "propose_summary", "kind": "theme", "text": "Workload"}, now=1)
    assert floor.suggest(state)["step"] == "choose_presenter"
    # The supervisee (p1) reflects: naming them gives nobody the floor yet.
    state = send(state, {"type": "set_presenter", "participant_id": "p1"}, now=1)
    assert state.presenter_id == "p1" and state.turn is None
    state = send(state, {"type": "start_round"}, now=2)
    assert state.round.order == ("p0",) and speaker(state) == "p0"  # the supervisor asks
    state = send(state, {"type": "next_turn"}, now=30)
    assert speaker(state) == "p1" and state.turn.source == "answer"  # the supervisee answers
    model = page_model(view_for(state, person(0), 31), 31)
    assert model["one_to_one"] is True and model["focus"] != "hand"


def test_troika_preparation_puts_private_notes_first() -> None:
    state = send(session("troika", 3), {"type": "start"})
    state = send(state, {"type": "goto_phase", "phase_id": "preparation"}, now=1)
    assert page_model(view_for(state, person(0), 2), 2)["focus"] == "notes"


def test_every_phase_of_every_shipped_format_suggests_a_step_the_console_has_words_for() -> None:
    from app.facilitation.formats import builtin_formats
    from app.pages.view import NEXT_STEP, QUIET_STEPS

    for format_id, spec in builtin_formats().items():
        state = send(session(format_id, 3 if spec.max_participants != 2 else 2), {"type": "start"})
        for phase in spec.phases:
            state = send(state, {"type": "goto_phase", "phase_id": phase.id}, now=1)
            for overtime in (False, True):
                step = floor.suggest(state, overtime=overtime)
                assert step["step"] in NEXT_STEP or step["step"] in QUIET_STEPS, (format_id, phase.id, step)
                if step["command"] is not None:  # the control it stands for is a command the facilitator may send
                    assert "facilitator" in engine.RULES[type(commands.parse_command(step["command"]))].roles
            if phase.kind == "presentation" and format_id != "troika":
                assert floor.suggest(state)["step"] in ("choose_presenter", "give_presenter_floor"), (format_id, phase.id)
