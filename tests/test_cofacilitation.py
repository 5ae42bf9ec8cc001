"""Co-facilitation through the public contract: a real server in each store mode, real sockets.

The lead invites a co-facilitator, who opens the same console with their own token and
runs the session; the lead alone revokes, hands over and closes; a revoked token stops at
once (401, close 4401); when every console of the lead closes, the co-facilitator leads
after the presence debounce (zero on the test servers); a participant handed the
facilitation opens the console with their own token and still takes part.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

import pytest

from app.facilitation import commands, engine
from app.facilitation.errors import Forbidden
from app.facilitation.formats import format_with_durations
from app.facilitation.models import FACILITATOR, SYSTEM, Actor, Fresh
from app.facilitation.views import view_for
from tests.support.client import Api, LiveClient, SocketClosed, close_all, error_of, speaker
from tests.support.server import ServerProcess

T = TypeVar("T")


def run(coro: Awaitable[T], timeout: float = 60.0) -> T:
    return asyncio.run(asyncio.wait_for(coro, timeout))


def invite(api: Api, code: str, token: str, name: str = "Sam") -> dict[str, Any]:
    answer = api.request("POST", f"/api/sessions/{code}/cofacilitators", token, json={"name": name})
    assert answer.status_code == 201, answer.text
    return answer.json()


def room(api: Api, names: tuple[str, ...] = ("Ana", "Ben", "Cleo")) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    created = api.create_session(format="check-in-out")
    return created, {n: api.join(created["code"], n) for n in names}


# ---------------------------------------------------------------- through the server, both store modes

def test_a_cofacilitator_runs_the_session_and_is_revoked_at_once(server: ServerProcess) -> None:
    async def scenario() -> None:
        with Api(server.base_url) as api:
            created, people = room(api)
            code, lead_token = created["code"], created["facilitator_token"]
            sam = invite(api, code, lead_token)
            assert sam["console_url"].endswith(f"/console/{code}#key={sam['token']}")
            assert sam["cofacilitator_id"] and sam["token"] not in str(api.view(code, lead_token))

            lead = await LiveClient.connect(server.ws_base, code, lead_token)
            co = await LiveClient.connect(server.ws_base, code, sam["token"])
            phone = await LiveClient.connect(server.ws_base, code, people["Ana"]["token"])
            # Both consoles: the contract's facilitator role; who leads, by the name the lead gave.
            assert co.view["me"]["role"] == "facilitator" and co.view["me"]["lead"] is False
            assert co.view["me"]["seat_name"] == "Sam" and co.view["me"]["lead_seat"] == "host"
            assert lead.view["me"]["lead"] is True
            assert [c["name"] for c in lead.view["me"]["cofacilitators"]] == ["Sam"]
            assert "cofacilitators" not in phone.view["me"] and phone.view["me"]["facilitating"] is False

            # The co-facilitator runs the session: the same commands as the facilitator's.
            await co.apply({"type": "start"})
            await co.apply({"type": "start_round", "seconds_per_turn": 30})
            turn = await lead.wait_for_state(lambda v: v["turn"] is not None)
            first = speaker(turn["view"])
            await co.apply({"type": "next_turn"})
            await lead.wait_for_state(lambda v: speaker(v) not in (None, first))

            # What stays with the lead: revoking, handing over, closing, erasing.
            for command in ({"type": "revoke_cofacilitator", "cofacilitator_id": sam["cofacilitator_id"]},
                            {"type": "hand_over", "to": "host"}, {"type": "close"},
                            {"type": "invite_cofacilitator", "name": "Kim"}):
                await co.refused(command, "forbidden")
            no = api.request("DELETE", f"/api/sessions/{code}/cofacilitators/{sam['cofacilitator_id']}", sam["token"])
            assert no.status_code == 403 and error_of(no)["code"] == "forbidden"
            assert api.request("DELETE", f"/api/sessions/{code}", sam["token"]).status_code == 403
            for command in ({"type": "close"}, {"type": "hand_over", "to": sam["cofacilitator_id"]}):
                refused = api.command(code, sam["token"], command)
                assert refused.status_code == 403 and error_of(refused)["code"] == "forbidden", refused.text
            assert api.request("POST", f"/api/sessions/{code}/cofacilitators", people["Ben"]["token"],
                               json={"name": "Me"}).status_code == 403

            # Revoked: the socket closes with 4401 and the token answers 401; the session goes on.
            gone = api.request("DELETE", f"/api/sessions/{code}/cofacilitators/{sam['cofacilitator_id']}", lead_token)
            assert gone.status_code == 204
            assert (await co.closed())[0] == 4401
            assert api.request("GET", f"/api/sessions/{code}", sam["token"]).status_code == 401
            assert api.command(code, sam["token"], {"type": "next_turn"}).status_code == 401
            with pytest.raises(SocketClosed) as refused:
                await LiveClient.connect(server.ws_base, code, sam["token"])
            assert refused.value.code == 4401
            view = await lead.wait_for_state(lambda v: v["me"]["cofacilitators"] == [])
            assert view["view"]["status"] == "running" and view["view"]["turn"] is not None
            await phone.probe()
            again = api.request("DELETE", f"/api/sessions/{code}/cofacilitators/{sam['cofacilitator_id']}", lead_token)
            assert again.status_code == 404
            await close_all([lead, phone])
    run(scenario())


def test_hand_over_then_the_old_lead_is_a_cofacilitator(server: ServerProcess) -> None:
    async def scenario() -> None:
        with Api(server.base_url) as api:
            created, _ = room(api)
            code, host_token = created["code"], created["facilitator_token"]
            sam = invite(api, code, host_token)
            host = await LiveClient.connect(server.ws_base, code, host_token)
            co = await LiveClient.connect(server.ws_base, code, sam["token"])
            await host.apply({"type": "hand_over", "to": sam["cofacilitator_id"]})
            view = (await co.wait_for_state(lambda v: v["me"]["lead"]))["view"]
            assert view["me"]["lead_name"] == "Sam"
            assert (await host.wait_for_state(lambda v: not v["me"]["lead"]))["view"]["me"]["lead_name"] == "Sam"
            await host.refused({"type": "close"}, "forbidden")
            await host.refused({"type": "hand_over", "to": "host"}, "forbidden")
            await co.refused({"type": "hand_over", "to": sam["cofacilitator_id"]}, "conflict")
            await co.refused({"type": "hand_over", "to": "nobody"}, "not_found")
            await co.refused({"type": "revoke_cofacilitator", "cofacilitator_id": sam["cofacilitator_id"]}, "conflict")
            await co.apply({"type": "hand_over", "to": "host"})
            await host.wait_for_state(lambda v: v["me"]["lead"])
            await host.apply({"type": "close"})
            await close_all([host, co])
    run(scenario())


def test_when_the_leads_consoles_all_close_the_cofacilitator_leads_and_the_turns_go_on(server: ServerProcess) -> None:
    async def scenario() -> None:
        with Api(server.base_url) as api:
            created, people = room(api)
            code, host_token = created["code"], created["facilitator_token"]
            sam = invite(api, code, host_token)
            first = await LiveClient.connect(server.ws_base, code, host_token)
            second = await LiveClient.connect(server.ws_base, code, host_token)  # the lead on two devices
            co = await LiveClient.connect(server.ws_base, code, sam["token"])
            await first.apply({"type": "start"})
            await first.apply({"type": "start_round", "seconds_per_turn": 1})
            await first.close()
            await co.probe()
            await asyncio.sleep(0.6)  # several folds: one console of the lead is still open
            assert co.view["me"]["lead"] is False
            await second.close()
            led = await co.wait_for_state(lambda v: v["me"]["lead"], timeout=10)
            assert led["view"]["me"]["lead_seat"] == sam["cofacilitator_id"]
            # The round's one-second turns keep ending on the server, and the co moves them on too.
            before = speaker(led["view"])
            await co.wait_for_state(lambda v: speaker(v) != before, timeout=10)
            await co.apply({"type": "next_turn"})
            await co.apply({"type": "invite_cofacilitator", "name": "Kim"})
            # The old lead comes back as a co-facilitator until handed the lead again.
            back = await LiveClient.connect(server.ws_base, code, host_token)
            assert back.view["me"]["lead"] is False and back.view["me"]["lead_name"] == "Sam"
            await back.refused({"type": "close"}, "forbidden")
            await co.apply({"type": "hand_over", "to": "host"})
            await back.wait_for_state(lambda v: v["me"]["lead"])
            await close_all([co, back])
            assert people
    run(scenario())


def test_a_participant_handed_the_facilitation_opens_the_console_and_still_takes_part(server: ServerProcess) -> None:
    async def scenario() -> None:
        with Api(server.base_url) as api:
            created, people = room(api)
            code, host_token = created["code"], created["facilitator_token"]
            ana = people["Ana"]
            host = await LiveClient.connect(server.ws_base, code, host_token)
            phone = await LiveClient.connect(server.ws_base, code, ana["token"])
            # Before the hand-over her token opens no console.
            with pytest.raises(SocketClosed) as refused:
                await LiveClient.connect(server.ws_base, code, ana["token"] + "&as=console")
            assert refused.value.code == 4401
            await host.apply({"type": "start"})
            acked = await host.apply({"type": "hand_over", "to": ana["participant_id"]})
            assert ana["token"] not in str(acked) and ana["token"] not in str(host.view)
            assert (await phone.wait_for_state(lambda v: v["me"].get("facilitating")))["view"]["me"]["facilitation_lead"]
            console = await LiveClient.connect(server.ws_base, code, ana["token"] + "&as=console")
            assert console.view["me"]["role"] == "facilitator" and console.view["me"]["lead"] is True
            assert console.view["me"]["seat_name"] == "Ana"
            assert host.view["me"]["peer"]["name"] == "Ana"
            assert api.request("GET", f"/api/sessions/{code}?as=console", ana["token"]).json()["me"]["lead"] is True
            # She runs the session from the console and takes part from her phone.
            await console.apply({"type": "give_turn", "participant_id": ana["participant_id"]})
            await phone.wait_for_state(lambda v: speaker(v) == ana["participant_id"])
            await phone.apply({"type": "yield_turn"})  # she speaks, and hands the floor on herself
            await console.wait_for_state(lambda v: speaker(v) != ana["participant_id"])
            await host.refused({"type": "close"}, "forbidden")
            # The host takes it back: her console closes (4401), her phone goes on.
            await host.apply({"type": "take_back"})
            assert (await console.closed())[0] == 4401
            await phone.wait_for_state(lambda v: v["me"]["facilitating"] is False)
            assert (await host.wait_for_state(lambda v: v["me"]["lead"]))["view"]["me"]["peer"] is None
            assert api.request("GET", f"/api/sessions/{code}?as=console", ana["token"]).status_code == 401
            await phone.apply({"type": "request_word"})
            await host.refused({"type": "take_back"}, "conflict")
            await close_all([host, phone])
    run(scenario())


def test_stale_and_garbage_cofacilitator_tokens_are_refused_without_a_500(server: ServerProcess) -> None:
    with Api(server.base_url) as api:
        created, _ = room(api, ("Ana",))
        code, token = created["code"], created["facilitator_token"]
        for bad in ("x", "co-123", "A" * 300):
            answer = api.request("POST", f"/api/sessions/{code}/cofacilitators", bad, json={"name": "Sam"})
            assert answer.status_code == 401, answer.text
            assert api.request("GET", f"/api/sessions/{code}?as=console", bad).status_code == 401
        for body in ({}, {"name": ""}, {"name": "x" * 61}, {"name": "Sam", "extra": 1}, [1]):
            answer = api.request("POST", f"/api/sessions/{code}/cofacilitators", token, json=body)
            assert answer.status_code == 422 and error_of(answer)["code"], (body, answer.text)
        assert api.request("DELETE", f"/api/sessions/{code}/cofacilitators/{'z' * 200}", token).status_code in (404, 422)
        for command in ({"type": "hand_over"}, {"type": "hand_over", "to": ""}, {"type": "revoke_cofacilitator"}):
            assert api.command(code, token, command).status_code == 422
        assert api.view(code, token)["status"] == "lobby"


# ---------------------------------------------------------------- the core's rules

def _session() -> engine.SessionState:
    state = engine.new_session(code="ROOM22", title="t", format=format_with_durations("check-in-out", None), now=0.0,
                               salt="salt", facilitator_token_hash="f", screen_token_hash="s")
    return engine.join(state, participant_id="p0", name="Ana", token_hash="t0", now=0.0).state


def _send(state: engine.SessionState, command: dict, actor: Actor = FACILITATOR, now: float = 0.0) -> engine.Transition:
    return engine.apply(state, commands.parse_command(command), actor, now, Fresh(id=f"f{now}", secret=f"s{now}"))


def test_the_lead_drops_and_the_first_cofacilitator_still_there_leads_after_the_debounce() -> None:
    invited = _send(_session(), {"type": "invite_cofacilitator", "name": "Sam"})
    state, sam = invited.state, invited.reply["cofacilitator_id"]
    assert state.settings.presence_off_s == 20.0
    co = Actor(role="facilitator", seat=sam)
    for seat in ("host", sam):
        state = engine.set_seat_online(state, seat, True, 1.0).state
    state = engine.set_seat_online(state, "host", False, 10.0).state
    assert state.flush_at is not None and state.flush_at >= 30.0
    early = engine.apply(state, commands.FlushTallies(type="flush_tallies"), SYSTEM, 25.0, Fresh(id="t", secret=""))
    assert view_for(early.state, co, 25.0)["me"]["lead"] is False
    due = state.flush_at
    state = engine.apply(state, commands.FlushTallies(type="flush_tallies"), SYSTEM, due, Fresh(id="t", secret="")).state
    assert view_for(state, co, due)["me"]["lead"] is True
    assert view_for(state, FACILITATOR, due)["me"]["lead_name"] == "Sam"
    with pytest.raises(Forbidden):
        _send(state, {"type": "close"})


def test_the_lead_stays_when_nobody_else_has_a_console_open() -> None:
    state = _session()
    state = _send(state, {"type": "invite_cofacilitator", "name": "Sam"}).state
    state = engine.set_seat_online(state, "host", True, 1.0).state
    state = engine.set_seat_online(state, "host", False, 2.0).state
    assert state.flush_at is None
    assert view_for(state, FACILITATOR, 100.0)["me"]["lead"] is True


# ---------------------------------------------------------------- a recurring group's rota

def test_a_groups_rota_of_who_facilitates_advances_when_each_session_closes(server: ServerProcess) -> None:
    async def scenario() -> None:
        with Api(server.base_url) as api:
            made = api.request("POST", "/api/groups", json={"name": "Peer supervision"}).json()
            gid, key = made["group_id"], made["group_key"]

            def meet(codes: dict[str, str]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
                answer = api.request("POST", f"/api/groups/{gid}/sessions", key,
                                     json={"title": "Peer supervision", "format": "check-in-out"})
                assert answer.status_code == 201, answer.text
                created = answer.json()
                people = {}
                for name in ("Ana", "Ben", "Cleo"):
                    body = {"name": name, **({"member_code": codes[name]} if name in codes else {})}
                    joined = api.request("POST", f"/api/sessions/{created['code']}/participants", json=body).json()
                    codes.setdefault(name, joined.get("member_code"))
                    people[name] = joined
                return created, people

            def group() -> dict[str, Any]:
                return api.request("GET", f"/api/groups/{gid}", key).json()

            codes: dict[str, str] = {}
            created, people = meet(codes)
            lead = await LiveClient.connect(server.ws_base, created["code"], created["facilitator_token"])
            assert lead.view["me"]["rota"] == [] and lead.view["me"]["rota_next"] is None
            order = [people[n]["participant_id"] for n in ("Ana", "Ben", "Cleo")]
            await lead.refused({"type": "set_rota", "participant_ids": [order[0], order[0]]}, "conflict")
            await lead.refused({"type": "set_rota", "participant_ids": ["nobody"]}, "not_found")
            await lead.apply({"type": "set_rota", "participant_ids": order})
            assert lead.view["me"]["rota_next"] == "Ana"
            assert group()["next_facilitator"] is None  # kept by the group when the session closes
            await lead.apply({"type": "close"})
            await close_all([lead])
            assert api.view_when(created["code"], created["facilitator_token"], lambda v: True)
            seen = group()
            for _ in range(50):
                if seen["next_facilitator"] == "Ana":
                    break
                await asyncio.sleep(0.1)
                seen = group()
            assert seen["rota"] == ["Ana", "Ben", "Cleo"] and seen["next_facilitator"] == "Ana"
            assert "member_id" not in str(seen) and "Next time: Ana facilitates." in api.request(
                "GET", f"/api/groups/{gid}/record.html", key).text

            # Next meeting: Ana facilitates this time, Ben next; each close moves it on, round again.
            for now, following in (("Ana", "Ben"), ("Ben", "Cleo"), ("Cleo", "Ana")):
                created, _ = meet(codes)
                lead = await LiveClient.connect(server.ws_base, created["code"], created["facilitator_token"])
                assert (lead.view["me"]["rota_now"], lead.view["me"]["rota_next"]) == (now, following)
                await lead.apply({"type": "close"})
                assert lead.view["me"]["rota_next"] == following
                await close_all([lead])
                for _ in range(50):
                    if group()["next_facilitator"] == following:
                        break
                    await asyncio.sleep(0.1)
                assert group()["next_facilitator"] == following
            # A session without a group keeps no rota.
            plain = api.create_session(format="check-in-out")
            assert api.command(plain["code"], plain["facilitator_token"],
                               {"type": "set_rota", "participant_ids": []}).status_code == 409
    run(scenario())


def test_an_idempotency_key_already_used_for_another_command_is_refused_not_a_500(server: ServerProcess) -> None:
    with Api(server.base_url) as api:
        created, _ = room(api, ("Ana",))
        code, token = created["code"], created["facilitator_token"]
        api.ok(code, token, {"type": "lock_room"}, idempotency_key="k-1")
        answer = api.request("POST", f"/api/sessions/{code}/cofacilitators", token, json={"name": "Sam"},
                             headers={"Idempotency-Key": "k-1"})
        assert answer.status_code == 409 and error_of(answer)["code"] == "conflict"
        first = api.request("POST", f"/api/sessions/{code}/cofacilitators", token, json={"name": "Sam"},
                            headers={"Idempotency-Key": "k-2"}).json()
        again = api.request("POST", f"/api/sessions/{code}/cofacilitators", token, json={"name": "Sam"},
                            headers={"Idempotency-Key": "k-2"})
        assert again.status_code == 201 and again.json() == first  # a retry is one invitation
        assert [c["name"] for c in api.view(code, token)["me"]["cofacilitators"]] == ["Sam"]


def test_a_participant_facilitating_does_not_see_who_asked_the_facilitator_for_a_word() -> None:
    state = engine.join(_session(), participant_id="p1", name="Ben", token_hash="t1", now=0.0).state
    state = _send(state, {"type": "start"}).state
    state = _send(state, {"type": "request_word"}, Actor(role="participant", participant_id="p1", key="k1")).state
    invited = _send(state, {"type": "invite_cofacilitator", "name": "Sam"})
    state = _send(invited.state, {"type": "hand_over", "to": "p0"}).state
    peer = Actor(role="facilitator", seat="p-p0")
    co = Actor(role="facilitator", seat=invited.reply["cofacilitator_id"])
    assert view_for(state, peer, 1.0)["me"]["word_requests"] == []
    assert view_for(state, FACILITATOR, 1.0)["me"]["word_requests"] == [{"participant_id": "p1", "name": "Ben"}]
    assert view_for(state, co, 1.0)["me"]["word_requests"] == [{"participant_id": "p1", "name": "Ben"}]
    assert view_for(state, peer, 1.0)["me"]["lead"] is True
