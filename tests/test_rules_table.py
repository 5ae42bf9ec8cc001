"""The engine's one table of who may send what, when: complete, and the only way in."""

from __future__ import annotations

import pytest

from app.facilitation import commands as c
from app.facilitation import engine
from app.facilitation.errors import Conflict, Forbidden, Invalid
from app.facilitation.models import FACILITATOR, SCREEN, SYSTEM, Actor, Fresh, Status

FRESH = Fresh(id="f1", secret="s1")


def every_command_type() -> set[type[c.Command]]:
    found, todo = set(), [c.Command]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub)
            todo.append(sub)
    return found


def test_every_command_type_has_a_rule_and_a_handler() -> None:
    assert every_command_type() == set(engine.RULES)
    for kind, rule in engine.RULES.items():
        assert callable(rule.handler), kind
        assert rule.roles and rule.roles <= {"facilitator", "participant", "system"}, kind
        assert rule.when and rule.when <= set(Status), kind


def test_a_client_can_send_every_command_but_the_clocks() -> None:
    client = {kind for kind, rule in engine.RULES.items() if rule.roles != {"system"}}
    assert {kind.model_fields["type"].annotation.__args__[0] for kind in client} == c.CLIENT_TYPES
    with pytest.raises(Invalid):
        c.parse_command({"type": "expire_turn"})


def test_the_contracts_commands_belong_to_the_contracts_roles() -> None:
    by_type = {kind.model_fields["type"].annotation.__args__[0]: rule for kind, rule in engine.RULES.items()}
    for name in ("start", "next_phase", "goto_phase", "start_round", "next_turn", "give_turn", "pause",
                 "resume", "extend", "set_presenter", "reveal_items", "hide_item", "remove_participant", "close"):
        assert by_type[name].roles == {"facilitator"}, name
    for name in ("leave", "raise_hand", "lower_hand", "pass", "yield_turn", "submit_item", "vote_item", "add_action"):
        assert by_type[name].roles == {"participant"}, name


def lobby() -> engine.SessionState:
    from app.facilitation.formats import format_with_durations
    return engine.new_session(code="ABCDEF", title="t", format=format_with_durations("check-in-out", None),
                              now=0.0, salt="salt", facilitator_token_hash="f", screen_token_hash="s")


@pytest.mark.parametrize("actor", [SCREEN, SYSTEM, Actor(role="participant", participant_id="nobody")])
def test_a_role_outside_the_rule_is_forbidden_and_nothing_changes(actor: Actor) -> None:
    state = lobby()
    with pytest.raises(Forbidden):
        engine.apply(state, c.Start(type="start"), actor, 1.0, FRESH)


def test_a_status_outside_the_rule_is_a_conflict_naming_both() -> None:
    state = lobby()
    with pytest.raises(Conflict, match="cannot pause while the session is lobby"):
        engine.apply(state, c.Pause(type="pause"), FACILITATOR, 1.0, FRESH)


def test_what_stays_with_the_lead_is_in_the_table() -> None:
    by_type = {kind.model_fields["type"].annotation.__args__[0]: rule for kind, rule in engine.RULES.items()}
    assert {name for name, rule in by_type.items() if rule.seats == "lead"} == {
        "invite_cofacilitator", "revoke_cofacilitator", "hand_over", "set_rota", "close"}
    assert {name for name, rule in by_type.items() if rule.seats == "host"} == {"take_back", "reissue_key"}
    assert all(rule.seats in ("any", "lead", "host") for rule in engine.RULES.values())
    co = Actor(role="facilitator", seat="co-x")
    with pytest.raises(Forbidden, match="no longer facilitate"):  # a seat that is not in the session
        engine.apply(lobby(), c.Start(type="start"), co, 1.0, FRESH)
