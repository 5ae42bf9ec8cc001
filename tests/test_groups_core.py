"""Issue 7 in the pure core: consent to share, carried actions, the summary, and
shaping a format before starting. No server, no event loop, no sleeping: time is passed in."""

from __future__ import annotations

import json

import pytest

from app.facilitation import carry, consent, engine, summary
from app.facilitation.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    PossibleIdentifier,
)
from app.facilitation.formats import (
    builtin_formats,
    customise,
    parse_format,
    resolve_format,
)
from app.facilitation.models import (
    FACILITATOR,
    SCREEN,
    CarriedAction,
    SessionState,
)
from app.facilitation.views import view_for
from tests.support import core
from tests.support.core import apply, person, send, settled


def session(format_id: str = "check-in-out", people: int = 3, group: str | None = "g1") -> SessionState:
    """A session of a recurring group ("g1") unless ``group`` says otherwise."""
    return core.session(format_id, people, title="Ward team", group=group)


def propose(state: SessionState, **fields) -> tuple[SessionState, str]:
    t = apply(state, {"type": "propose_summary", **fields})
    return t.state, t.reply["proposal_id"]


# ---------------------------------------------------------------- consent to share

def test_an_objection_removes_an_item_from_the_summary() -> None:
    state = send(session(), {"type": "start"})
    state, kept = propose(state, kind="theme", text="Night shifts feel isolating")
    state, objected = propose(state, kind="change", text="Ask for a second nurse at night")
    for i in range(3):
        state = send(state, {"type": "consent", "proposal_id": kept, "agree": True}, person(i))
    state = send(state, {"type": "consent", "proposal_id": objected, "agree": True}, person(0))
    state = send(state, {"type": "consent", "proposal_id": objected, "agree": False}, person(1))
    state = send(state, {"type": "close"}, now=10)

    record = summary.summary(state, 10)
    assert record["agreed"] == [{"kind": "theme", "title": "Themes", "lines": ["Night shifts feel isolating"]}]
    text = summary.to_markdown(record)
    assert "Night shifts feel isolating" in text
    assert "second nurse" not in text
    assert record["left_out"] == 1


def test_a_proposal_nobody_answered_stays_out_of_the_summary() -> None:
    state = send(session(), {"type": "start"})
    state, _ = propose(state, kind="theme", text="Only the facilitator thinks so")
    assert summary.summary(send(state, {"type": "close"}), 1)["agreed"] == []


def test_no_view_shows_who_objected() -> None:
    state = send(session(), {"type": "start"})
    state, pid = propose(state, kind="theme", text="Workload")
    state = send(state, {"type": "consent", "proposal_id": pid, "agree": False}, person(2))
    state = send(state, {"type": "consent", "proposal_id": pid, "agree": True}, person(0))
    for viewer in (FACILITATOR, SCREEN):  # counts reach the room batched, two folds later
        assert view_for(state, viewer, 1)["proposals"][0]["answered"] == 0
    state = settled(state)
    for viewer in (FACILITATOR, SCREEN, person(0), person(1), person(2)):
        view = view_for(state, viewer, 1)
        assert view["proposals"] == [{"id": pid, "kind": "theme", "text": "Workload", "item_id": None,
                                      "agreed": 1, "objected": 1, "answered": 2}]
        dumped = json.dumps(view)
        for mark in state.proposals[0].answered:
            assert mark not in dumped
    # Each phone knows only that it answered, not what the others answered.
    assert view_for(state, person(2), 1)["me"]["consent_answered"] == [pid]
    assert view_for(state, person(1), 1)["me"]["consent_answered"] == []
    assert "objected" not in json.dumps(view_for(state, person(2), 1)["me"])


def test_consent_is_answered_once() -> None:
    state = send(session(), {"type": "start"})
    state, pid = propose(state, kind="theme", text="Workload")
    state = send(state, {"type": "consent", "proposal_id": pid, "agree": True}, person(0))
    with pytest.raises(Conflict, match="answered this proposal already"):
        send(state, {"type": "consent", "proposal_id": pid, "agree": False}, person(0))


def test_only_the_facilitator_proposes_and_only_participants_consent() -> None:
    state = send(session(), {"type": "start"})
    with pytest.raises(Forbidden):
        send(state, {"type": "propose_summary", "kind": "theme", "text": "x"}, person(0))
    state, pid = propose(state, kind="theme", text="Workload")
    with pytest.raises(Forbidden):
        send(state, {"type": "consent", "proposal_id": pid, "agree": True})
    with pytest.raises(Forbidden):
        send(state, {"type": "consent", "proposal_id": pid, "agree": True}, SCREEN)


def test_a_revealed_item_can_be_proposed_by_id_and_hiding_it_drops_it() -> None:
    state = send(session(), {"type": "start"})
    for i in range(3):
        state = send(state, {"type": "submit_item", "kind": "question", "text": f"Question {i}"}, person(i))
    state = send(settled(state), {"type": "reveal_items", "kind": "question"})
    item = state.items[0]
    state, pid = propose(state, kind="item", item_id=item.id)
    assert state.proposals[0].text == item.text
    state = send(state, {"type": "consent", "proposal_id": pid, "agree": True}, person(0))
    assert [p.id for p in consent.agreed(state)] == [pid]
    state = send(state, {"type": "hide_item", "item_id": item.id})
    assert consent.agreed(state) == []


def test_proposing_needs_text_or_a_revealed_item() -> None:
    state = send(session(), {"type": "start"})
    with pytest.raises(Invalid, match="needs its text"):
        send(state, {"type": "propose_summary", "kind": "change"})
    with pytest.raises(NotFound):
        send(state, {"type": "propose_summary", "kind": "item", "item_id": "nope"})
    with pytest.raises(PossibleIdentifier):
        send(state, {"type": "propose_summary", "kind": "theme", "text": "Call 07700 900123 about it"})


def test_proposals_are_made_before_close_not_after() -> None:
    state = send(send(session(), {"type": "start"}), {"type": "close"})
    with pytest.raises(Conflict):
        send(state, {"type": "propose_summary", "kind": "theme", "text": "Too late"})


# ---------------------------------------------------------------- share of voice

def spoken(state: SessionState, seconds: list[float]) -> SessionState:
    people = tuple(p.model_copy(update={"spoken_s": s}) for p, s in zip(state.participants, seconds))
    return state.model_copy(update={"participants": people})


def test_share_of_voice_has_no_names_unless_the_group_agreed() -> None:
    state = spoken(send(session(), {"type": "start"}), [60, 60, 120])
    voice = summary.share_of_voice(state, 1)
    assert voice["named"] is False
    assert [b["name"] for b in voice["bars"]] == [None, None, None]
    assert [b["share"] for b in voice["bars"]] == [0.5, 0.25, 0.25]
    text = summary.to_markdown(summary.summary(state, 1))
    assert not any(f"Person {i}" in text for i in range(3))

    state, pid = propose(state, kind="names")
    state = send(state, {"type": "consent", "proposal_id": pid, "agree": True}, person(0))
    voice = summary.share_of_voice(state, 1)
    assert voice["named"] is True
    assert voice["bars"][0]["name"] == "Person 2"
    assert "1. Person 2: " in summary.to_markdown(summary.summary(state, 1))


def test_one_objection_keeps_names_off_the_chart() -> None:
    state = spoken(send(session(), {"type": "start"}), [60, 60, 120])
    state, pid = propose(state, kind="names")
    state = send(state, {"type": "consent", "proposal_id": pid, "agree": True}, person(0))
    state = send(state, {"type": "consent", "proposal_id": pid, "agree": False}, person(1))
    assert summary.share_of_voice(state, 1)["named"] is False


def test_evenness_is_one_when_time_was_shared_equally_and_falls_when_not() -> None:
    assert summary.gini([60, 60, 60]) == 0
    assert summary.share_of_voice(spoken(session(), [60, 60, 60]), 0)["evenness"] == 1.0
    assert summary.share_of_voice(spoken(session(), [0, 0, 180]), 0)["evenness"] == pytest.approx(0.33, abs=0.01)
    assert summary.share_of_voice(spoken(session(), [0, 0, 0]), 0)["evenness"] is None


def test_phases_are_recorded_with_the_times_they_actually_ran() -> None:
    state = send(session(), {"type": "start"}, now=1000)
    state = send(state, {"type": "next_phase"}, now=1400)
    state = send(state, {"type": "goto_phase", "phase_id": "check-out"}, now=2000)
    state = send(state, {"type": "close"}, now=2300)
    rows = summary.phases_run(state)
    assert [(r["id"], r["actual_s"], r["planned_s"]) for r in rows] == [
        ("check-in", 400, 600), ("discussion", 600, 1200), ("check-out", 300, 600)]
    assert rows[0]["entered_at"] == 1000 and rows[-1]["left_at"] == 2300


def test_own_actions_appear_only_in_their_owners_summary() -> None:
    state = send(session(), {"type": "start"})
    state = send(state, {"type": "add_action", "text": "Book supervision"}, person(0))
    state = send(state, {"type": "add_action", "text": "Read the policy"}, person(1))
    facilitator = summary.to_markdown(summary.summary(state, 1))
    mine = summary.to_markdown(summary.summary(state, 1, participant_id="p0"))
    assert "Book supervision" not in facilitator and "Read the policy" not in facilitator
    assert "Book supervision" in mine and "Read the policy" not in mine


# ---------------------------------------------------------------- carried actions

def carried(*texts: str) -> tuple[CarriedAction, ...]:
    return tuple(CarriedAction(id=f"c{i}", text=t) for i, t in enumerate(texts))


def test_only_actions_their_author_chose_are_carried_forward() -> None:
    state = session(people=2)
    state = carry.welcome(state, "p0", "m0", ())
    state = carry.welcome(state, "p1", "m1", ())
    state = send(state, {"type": "start"})
    t = apply(state, {"type": "add_action", "text": "Book supervision"}, person(0))
    state, kept = t.state, t.reply["action_id"]
    state = send(state, {"type": "add_action", "text": "Private thought"}, person(0))
    state = send(state, {"type": "carry_action", "action_id": kept, "carry": True}, person(0))
    with pytest.raises(Forbidden):
        send(state, {"type": "carry_action", "action_id": kept, "carry": False}, person(1))
    state = send(state, {"type": "close"})
    assert carry.carried_forward(state) == {"m0": [{"id": kept, "text": "Book supervision", "due": None}],
                                            "m1": []}


def test_carrying_needs_a_group() -> None:
    state = send(session(group=None), {"type": "start"})
    t = apply(state, {"type": "add_action", "text": "Book supervision"}, person(0))
    with pytest.raises(Conflict, match="not part of a recurring group"):
        send(t.state, {"type": "carry_action", "action_id": t.reply["action_id"], "carry": True}, person(0))


def check_in_with_p1_on_the_floor() -> SessionState:
    state = carry.welcome(session(), "p1", "m1", carried("Book supervision", "Ask about rota"))
    state = send(state, {"type": "start"}, now=1)
    state = send(state, {"type": "start_round", "seconds_per_turn": 60}, now=1)
    assert state.turn.participant_id == "p0"
    return send(state, {"type": "next_turn"}, now=2)


def test_carried_actions_show_on_the_screen_only_while_their_owner_holds_the_floor() -> None:
    state = carry.welcome(session(), "p1", "m1", carried("Book supervision"))
    state = send(state, {"type": "start"}, now=1)
    state = send(state, {"type": "start_round", "seconds_per_turn": 60}, now=1)
    assert view_for(state, SCREEN, 1)["me"]["floor_carried"] is None  # p0 speaks, carried nothing
    state = send(state, {"type": "next_turn"}, now=2)
    shown = view_for(state, SCREEN, 2)["me"]["floor_carried"]
    assert shown["participant_id"] == "p1"
    assert [a["text"] for a in shown["actions"]] == ["Book supervision"]
    assert view_for(state, FACILITATOR, 2)["me"]["floor_carried"] == shown
    state = send(state, {"type": "next_turn"}, now=3)
    assert view_for(state, SCREEN, 3)["me"]["floor_carried"] is None


def test_carried_actions_reach_their_owners_phone_and_no_other() -> None:
    state = check_in_with_p1_on_the_floor()
    mine = view_for(state, person(1), 2)
    assert [a["text"] for a in mine["me"]["carried"]] == ["Book supervision", "Ask about rota"]
    assert mine["me"]["reviewing"] is True
    for other in (person(0), person(2)):
        view = view_for(state, other, 2)
        assert "Book supervision" not in json.dumps(view)
        assert view["me"]["carried"] == [] and "floor_carried" not in view["me"]
    assert "Book supervision" not in json.dumps(engine.Transition(state=state).model_dump()["state"]["actions"])


def test_carried_actions_are_not_on_screen_outside_the_check_in() -> None:
    state = check_in_with_p1_on_the_floor()
    state = send(state, {"type": "next_phase"}, now=3)
    state = send(state, {"type": "give_turn", "participant_id": "p1"}, now=3)
    assert view_for(state, SCREEN, 3)["me"]["floor_carried"] is None
    assert view_for(state, person(1), 3)["me"]["reviewing"] is False


def test_a_member_marks_carried_actions_done_going_or_dropped() -> None:
    state = check_in_with_p1_on_the_floor()
    state = send(state, {"type": "review_action", "action_id": "c0", "status": "done"}, person(1), now=3)
    state = send(state, {"type": "review_action", "action_id": "c1", "status": "going"}, person(1), now=3)
    shown = view_for(state, SCREEN, 3)["me"]["floor_carried"]["actions"]
    assert [(a["status"], a["carry"]) for a in shown] == [("done", False), ("going", True)]
    with pytest.raises(NotFound):
        send(state, {"type": "review_action", "action_id": "c0", "status": "dropped"}, person(0), now=3)
    with pytest.raises(Conflict, match="marked done"):
        send(state, {"type": "carry_action", "action_id": "c0", "carry": True}, person(1), now=3)
    state = send(state, {"type": "close"}, now=4)
    # Still going carries on; done does not.
    assert carry.carried_forward(state)["m1"] == [{"id": "c1", "text": "Ask about rota", "due": None}]
    mine = summary.summary(state, 4, participant_id="p1")
    assert [(a["text"], a["status"]) for a in mine["my_carried_in"]] == [
        ("Book supervision", "done"), ("Ask about rota", "going")]


def test_the_first_phase_reviews_when_a_format_marks_none() -> None:
    state = carry.welcome(session("gibbs"), "p0", "m0", carried("Book supervision"))
    state = send(state, {"type": "start"}, now=1)
    state = send(state, {"type": "give_turn", "participant_id": "p0"}, now=1)
    assert carry.reviewing_phase(state)
    assert view_for(state, SCREEN, 1)["me"]["floor_carried"]["participant_id"] == "p0"


# ---------------------------------------------------------------- formats

def test_set_phases_reorders_skips_and_retimes_in_the_lobby_only() -> None:
    state = session()
    state = send(state, {"type": "set_phases", "phases": [{"id": "check-out", "duration_s": 120}, {"id": "check-in"}]})
    assert [(p.id, p.duration_s) for p in state.format.phases] == [("check-out", 120), ("check-in", 600)]
    with pytest.raises(Invalid, match="unknown phase"):
        send(state, {"type": "set_phases", "phases": [{"id": "discussion"}]})
    with pytest.raises(Invalid):
        send(state, {"type": "set_phases", "phases": [{"id": "check-in", "duration_s": 0}]})
    with pytest.raises(Forbidden):
        send(state, {"type": "set_phases", "phases": [{"id": "check-in"}]}, person(0))
    state = send(state, {"type": "start"})
    with pytest.raises(Conflict, match="running"):
        send(state, {"type": "set_phases", "phases": [{"id": "check-in"}]})


def test_customise_refuses_repeats_and_empty_lists() -> None:
    spec = builtin_formats()["check-in-out"]
    with pytest.raises(Invalid, match="only once"):
        customise(spec, [("check-in", None), ("check-in", 60)])
    with pytest.raises(Invalid, match="at least one"):
        customise(spec, [])


CUSTOM = '''
id = "peer-supervision"
title = "Peer supervision"

[[phases]]
id = "check-in"
title = "Check-in"
kind = "round"
duration_s = 300
review_actions = true

[[phases]]
id = "case"
title = "Case"
kind = "presentation"
duration_s = 900
'''


def test_a_custom_format_file_is_parsed_and_can_be_shaped() -> None:
    spec = resolve_format(None, {"case": 600}, CUSTOM, [("case", None), ("check-in", 120)])
    assert spec.id == "peer-supervision"
    assert [(p.id, p.duration_s) for p in spec.phases] == [("case", 600), ("check-in", 120)]


@pytest.mark.parametrize("text, message", [
    ("id = ", "not valid TOML"),
    ('id = "x"\ntitle = "X"\nphases = []', "has no phases"),
    (CUSTOM.replace("duration_s = 900", "duration_s = -5"), 'phases[1] (id "case").duration_s'),
    (CUSTOM.replace('kind = "presentation"', 'kind = "lecture"'), "kind: Input should be"),
    (CUSTOM.replace('title = "Case"', 'title = "Case"\ncolour = "red"'), "colour: Extra inputs are not permitted"),
    (CUSTOM.replace('id = "case"', 'id = "check-in"'), "repeats a phase id"),
    (CUSTOM.replace('title = "Peer supervision"', 'title = "' + "x" * 200 + '"'), "longer than 120"),
])
def test_a_bad_format_file_is_refused_naming_the_problem(text: str, message: str) -> None:
    with pytest.raises(Invalid, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        parse_format(text)


def test_built_in_formats_include_troika_and_thinking_environment() -> None:
    formats = builtin_formats()
    assert {"troika", "thinking-environment"} <= set(formats)
    troika = {p.id: p for p in formats["troika"].phases}
    assert troika["consulting"].listens_only == ("presenter",)  # the client listens while the consultants talk
    assert troika["questioning"].listens_only == ()  # and answers the clarifying questions


def test_the_group_core_modules_stay_pure() -> None:
    import ast
    from pathlib import Path

    impure = {"asyncio", "fastapi", "starlette", "redis", "jinja2", "sqlite3", "time", "random", "secrets", "os"}
    folder = Path(carry.__file__).parent
    for name in ("carry.py", "consent.py", "lobby.py", "summary.py", "formats.py"):
        tree = ast.parse((folder / name).read_text())
        imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
        assert not imported & impure, (name, imported & impure)
