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
    # erase is the shell's to carry out once the table allows it (engine.permit): never applied as a command
    client = {kind for kind, rule in engine.RULES.items() if rule.roles != {"system"} and kind is not c.Erase}
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
        "invite_cofacilitator", "revoke_cofacilitator", "hand_over", "set_rota"}
    assert {name for name, rule in by_type.items() if rule.seats == "host"} == {"take_back", "erase", "reissue_key"}
    assert {name for name, rule in by_type.items() if rule.seats == "host_grant"} == {"close"}
    assert all(rule.seats in ("any", "lead", "host", "host_grant") for rule in engine.RULES.values())
    co = Actor(role="facilitator", seat="co-x")
    with pytest.raises(Forbidden, match="no longer facilitate"):  # a seat that is not in the session
        engine.apply(lobby(), c.Start(type="start"), co, 1.0, FRESH)


# ------------------------------------------------------------------ the same over every way in
# Each row of the table, sent where it does not belong, is refused alike over HTTP, the JSON
# socket and the pages' socket: by a role outside the row, and in a status outside the row.

EXAMPLES: dict[str, dict] = {
    "goto_phase": {"phase_id": "check-in"}, "give_turn": {"participant_id": "x"}, "extend": {"seconds": 60},
    "set_presenter": {"participant_id": "x"}, "reveal_items": {"kind": "question"}, "hide_item": {"item_id": "x"},
    "remove_participant": {"participant_id": "x"}, "set_phases": {"phases": [{"id": "check-in"}]},
    "propose_summary": {"kind": "theme", "text": "Workload"}, "withdraw_proposal": {"proposal_id": "x"},
    "readmit_participant": {"participant_id": "x"}, "submit_item": {"kind": "question", "text": "Why?"},
    "retract_item": {"receipt": "x"}, "vote_item": {"item_id": "x"}, "add_action": {"text": "Rest"},
    "edit_action": {"action_id": "x", "text": "Rest"}, "remove_action": {"action_id": "x"},
    "rate_wellbeing": {"score": 3}, "evaluate": {"scores": [3, 3, 3]}, "consent": {"proposal_id": "x", "agree": True},
    "carry_action": {"action_id": "x", "carry": True}, "review_action": {"action_id": "x", "status": "done"},
    "start_breakouts": {"size": 3}, "move_to_breakout": {"breakout_id": "g1", "participant_id": "x"},
    "breakout_notice": {"minutes": 2}, "invite_cofacilitator": {"name": "Sam"},
    "revoke_cofacilitator": {"cofacilitator_id": "x"}, "hand_over": {"to": "host"}, "set_rota": {"participant_ids": ["x"]},
    "add_without_phone": {"name": "Kim"}, "raise_hand_for": {"participant_id": "x"},
    "submit_paper_item": {"kind": "question", "text": "Why?"},
    "admit_knock": {"knock_id": "x"}, "decline_knock": {"knock_id": "x"},
}
FAST = {"TOKEN_MESSAGE_BURST": "100000", "TOKEN_MESSAGES_PER_S": "100000", "SESSION_MESSAGE_BURST": "100000",
        "SESSION_MESSAGES_PER_S": "100000", "LIVE_MESSAGE_BURST": "100000", "LIVE_MESSAGES_PER_S": "100000"}


def client_rows() -> list[tuple[str, engine.Rule]]:
    return sorted((kind.model_fields["type"].annotation.__args__[0], rule) for kind, rule in engine.RULES.items()
                  if kind.model_fields["type"].annotation.__args__[0] in c.CLIENT_TYPES)


def refusals_everywhere(server, code: str, token: str, command: dict) -> list[tuple[int | str, str]]:
    """(code, reason) of one refusal over HTTP, the JSON socket and the pages' socket."""
    import asyncio
    import json
    import re

    import websockets

    from tests.support.client import Api, LiveClient, error_of

    with Api(server.base_url) as api:
        answer = api.command(code, token, command)
        http = error_of(answer)

    async def sockets() -> tuple[dict, str]:
        live = await LiveClient.connect(server.ws_base, code, token)
        try:
            frame = await live.send_command(command)
        finally:
            await live.close()
        async with websockets.connect(f"{server.ws_base}/live/{code}?token={token}") as page:
            await asyncio.wait_for(page.recv(), 5)  # the page's regions first
            await page.send(json.dumps({"cid": "row", **command}))
            while True:
                fragment = str(await asyncio.wait_for(page.recv(), 5))
                if 'data-reply-id="row"' in fragment:
                    break
        return frame["error"], re.search(r'data-reason="([a-z_]+)"', fragment)[1]

    frame, page_reason = asyncio.run(sockets())
    return [(answer.status_code, http["reason"]), (frame["code"], frame["reason"]), ("page", page_reason)]


def test_every_row_is_enforced_alike_over_http_and_both_sockets(tmp_path) -> None:
    from tests.support.client import Api
    from tests.support.server import ServerProcess

    server = ServerProcess(env={"REDIS_URL": "", **FAST}, log_path=tmp_path / "server.log").start()
    try:
        with Api(server.base_url) as api:
            lobby_room = api.create_session("Rules", format="check-in-out")
            person = api.join(lobby_room["code"], "Ana")
            closed_room = api.create_session("Rules, closed", format="check-in-out")
            closed_person = api.join(closed_room["code"], "Cal")
            api.ok(closed_room["code"], closed_room["facilitator_token"], {"type": "close"})
            running = api.create_session("Rules, running", format="check-in-out")
            leaver = api.join(running["code"], "Lee")
            api.ok(running["code"], running["facilitator_token"], {"type": "start"})
            api.ok(running["code"], leaver["token"], {"type": "leave"})
        rows = client_rows()
        assert len(rows) == len(c.CLIENT_TYPES)
        for name, rule in rows:
            command = {"type": name, **EXAMPLES.get(name, {})}
            # A role outside the row: the screen always; the other side of the room too.
            outsiders = [lobby_room["screen_token"]] + (
                [person["token"]] if "participant" not in rule.roles else [lobby_room["facilitator_token"]])
            for token in outsiders:
                got = refusals_everywhere(server, lobby_room["code"], token, command)
                assert got == [(403, "role_may_not_send"), ("forbidden", "role_may_not_send"),
                               ("page", "role_may_not_send")], (name, got)
            # A status outside the row, sent by a role inside it.
            for room, member, status in ((lobby_room, person, Status.lobby), (closed_room, closed_person, Status.closed)):
                if status in rule.when:
                    continue
                token = room["facilitator_token"] if "facilitator" in rule.roles else member["token"]
                got = refusals_everywhere(server, room["code"], token, command)
                assert got == [(409, "wrong_status"), ("conflict", "wrong_status"), ("page", "wrong_status")], (name, got)
            # Presence: a participant who has left sends nothing the row keeps for those present.
            if "participant" in rule.roles and rule.present and Status.running in rule.when:
                got = refusals_everywhere(server, running["code"], leaver["token"], command)
                assert got == [(409, "left_session"), ("conflict", "left_session"), ("page", "left_session")], (name, got)
    finally:
        server.stop()
