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

from app.facilitation import cofacilitation, commands, engine
from app.facilitation.errors import Conflict, Forbidden
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
            # Nothing left to take back: the room is sent nothing. The room's folds (the shown
            # presence and counts, on their own jittered timer) may move the version between the
            # read and the command, but not three times running.
            unchanged = []
            for _ in range(3):
                before = api.view(code, host_token)["version"]
                unchanged.append((await host.apply({"type": "take_back"}))["version"] == before)
                if unchanged[-1]:
                    break
            assert unchanged[-1], unchanged
            await close_all([host, phone])
    run(scenario())


def test_a_seat_minted_by_a_participant_dies_when_the_host_takes_back_on_every_socket(server: ServerProcess) -> None:
    async def scenario() -> None:
        with Api(server.base_url) as api:
            created, people = room(api)
            code, host_token = created["code"], created["facilitator_token"]
            ana, ben = people["Ana"], people["Ben"]
            host = await LiveClient.connect(server.ws_base, code, host_token)
            phone = await LiveClient.connect(server.ws_base, code, ben["token"])
            await host.apply({"type": "start"})
            await phone.apply({"type": "request_word"})
            await host.apply({"type": "hand_over", "to": ana["participant_id"]})
            console = await LiveClient.connect(server.ws_base, code, ana["token"] + "&as=console")
            minted = await console.apply({"type": "invite_cofacilitator", "name": "Kim"})
            kim = {"id": minted["cofacilitator_id"], "token": minted["token"]}
            kims = [await LiveClient.connect(server.ws_base, code, kim["token"]) for _ in range(2)]
            # What a participant's own seat may not see, a seat they minted may not see either.
            assert kims[0].view["me"]["word_requests"] == [] and console.view["me"]["word_requests"] == []
            assert [w["name"] for w in host.view["me"]["word_requests"]] == ["Ben"]
            # The host's console and its view list every seat: who holds it, who minted it, when.
            listed = (await host.wait_for_state(lambda v: len(v["me"]["seats"]) == 2))["view"]["me"]["seats"]
            assert [(s["name"], s["kind"], s["by_name"]) for s in listed] == [
                ("Ana", "participant", None), ("Kim", "cofacilitator", "Ana")]
            assert listed[1]["by"] == "p-" + ana["participant_id"] and listed[1]["at"] >= listed[0]["at"]
            assert kim["token"] not in str(host.view) and "seats" not in str(phone.view["me"])
            seen = api.view(code, host_token)["me"]["seats"]
            assert [s["name"] for s in seen] == ["Ana", "Kim"]
            # Taken back: Ana's console and both of Kim's sockets close with 4401; Kim's token opens nothing.
            await host.apply({"type": "take_back"})
            for gone in (console, *kims):
                assert (await gone.closed())[0] == 4401
            assert api.request("GET", f"/api/sessions/{code}", kim["token"]).status_code == 401
            assert api.command(code, kim["token"], {"type": "remove_participant",
                                                    "participant_id": ben["participant_id"]}).status_code == 401
            with pytest.raises(SocketClosed) as refused:
                await LiveClient.connect(server.ws_base, code, kim["token"])
            assert refused.value.code == 4401
            view = await host.wait_for_state(lambda v: v["me"]["seats"] == [] and v["me"]["lead"])
            assert view["view"]["me"]["cofacilitators"] == [] and ben["participant_id"] in str(view["view"]["participants"])
            await close_all([host, phone])
    run(scenario())


def test_the_host_is_never_locked_out_and_only_the_host_erases(server: ServerProcess) -> None:
    async def scenario() -> None:
        with Api(server.base_url) as api:
            created, people = room(api)
            code, host_token = created["code"], created["facilitator_token"]
            ana = people["Ana"]
            host = await LiveClient.connect(server.ws_base, code, host_token)
            await host.apply({"type": "start"})
            await host.apply({"type": "hand_over", "to": ana["participant_id"]})
            console = await LiveClient.connect(server.ws_base, code, ana["token"] + "&as=console")
            minted = await console.apply({"type": "invite_cofacilitator", "name": "Kim"})
            kim = await LiveClient.connect(server.ws_base, code, minted["token"])
            # Ana hands the lead to the seat she minted: it leads, but it does not lock the host out.
            await console.apply({"type": "hand_over", "to": minted["cofacilitator_id"]})
            await kim.wait_for_state(lambda v: v["me"]["lead"])
            assert kim.view["me"]["may_close"] is False and kim.view["me"]["may_erase"] is False
            await kim.refused({"type": "close"}, "forbidden")
            await kim.refused({"type": "erase"}, "forbidden")
            assert api.request("DELETE", f"/api/sessions/{code}", minted["token"]).status_code == 403
            await host.refused({"type": "close"}, "forbidden")  # the host takes the lead back first
            assert api.command(code, host_token, {"type": "take_back"}).status_code == 200
            for gone in (console, kim):
                assert (await gone.closed())[0] == 4401
            await host.wait_for_state(lambda v: v["me"]["lead"] and v["me"]["may_close"] and v["me"]["may_erase"])
            sam = invite(api, code, host_token)
            assert api.request("DELETE", f"/api/sessions/{code}/cofacilitators/{sam['cofacilitator_id']}",
                               host_token).status_code == 204
            assert api.command(code, host_token, {"type": "close"}).status_code == 200
            assert api.request("DELETE", f"/api/sessions/{code}", host_token).status_code == 204
            assert (await host.closed())[0] == 4404
            assert api.request("GET", f"/api/sessions/{code}", host_token).status_code == 404
    run(scenario())


def test_a_cofacilitator_who_took_the_lead_while_the_host_was_away_cannot_erase_or_close(server: ServerProcess) -> None:
    async def scenario() -> None:
        with Api(server.base_url) as api:
            created, _ = room(api)
            code, host_token = created["code"], created["facilitator_token"]
            sam = invite(api, code, host_token)
            host = await LiveClient.connect(server.ws_base, code, host_token)
            co = await LiveClient.connect(server.ws_base, code, sam["token"])
            await host.apply({"type": "start"})
            await host.close()  # the host's console closes: Sam carries on
            await co.wait_for_state(lambda v: v["me"]["lead"], timeout=10)
            assert co.view["me"]["may_close"] is False and co.view["me"]["may_erase"] is False
            await co.refused({"type": "erase"}, "forbidden")
            await co.refused({"type": "close"}, "forbidden")
            assert api.request("DELETE", f"/api/sessions/{code}", sam["token"]).status_code == 403
            await co.apply({"type": "next_phase"})
            # The host comes back to their session, takes the lead back and closes it.
            back = await LiveClient.connect(server.ws_base, code, host_token)
            await back.apply({"type": "take_back"})
            await back.apply({"type": "close"})
            assert api.view(code, host_token)["status"] == "closed"
            await close_all([co, back])
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


# ---------------------------------------------------------------- seats end with their grant

ANA_CONSOLE = Actor(role="facilitator", seat="p-p0")


def _handed_to_ana() -> engine.SessionState:
    """Ana (p0) is handed the facilitation and leads; Ben (p1) asked the facilitator for a word."""
    state = engine.join(_session(), participant_id="p1", name="Ben", token_hash="t1", now=0.0).state
    state = _send(state, {"type": "start"}).state
    state = _send(state, {"type": "request_word"}, Actor(role="participant", participant_id="p1", key="k1")).state
    return _send(state, {"type": "hand_over", "to": "p0"}, now=5.0).state


def _mint(state: engine.SessionState, by: Actor, name: str, now: float) -> tuple[engine.SessionState, Actor, str]:
    done = _send(state, {"type": "invite_cofacilitator", "name": name}, by, now=now)
    return done.state, Actor(role="facilitator", seat=done.reply["cofacilitator_id"]), done.reply["token"]


def test_seats_a_participant_minted_end_when_the_host_takes_the_facilitation_back() -> None:
    from app.facilitation.errors import Unauthorized
    from app.realtime.service import actor_for

    state, kim, kim_token = _mint(_handed_to_ana(), ANA_CONSOLE, "Kim", 6.0)
    state = _send(state, {"type": "hand_over", "to": kim.seat}, ANA_CONSOLE, now=6.5).state
    state, lee, lee_token = _mint(state, kim, "Lee", 7.0)  # a seat Kim minted in turn, leading
    # Whoever holds a seat through a participant's facilitation does not see who asked for a word.
    for seat in (ANA_CONSOLE, kim, lee):
        assert view_for(state, seat, 8.0)["me"]["word_requests"] == []
    assert actor_for(state, lee_token).seat == lee.seat
    # The host's console lists every seat: who holds it, which seat granted it, and when.
    listed = view_for(state, FACILITATOR, 8.0)["me"]["seats"]
    assert [(s["name"], s["kind"], s["by"], s["by_name"], s["at"]) for s in listed] == [
        ("Ana", "participant", "host", None, 5.0), ("Kim", "cofacilitator", "p-p0", "Ana", 6.0),
        ("Lee", "cofacilitator", kim.seat, "Kim", 7.0)]
    assert view_for(state, kim, 8.0)["me"]["seats"] is None  # the host's alone
    state = _send(state, {"type": "take_back"}, now=9.0).state
    assert state.cofacilitators == () and state.peer_id is None
    for seat in (ANA_CONSOLE, kim, lee):
        with pytest.raises(Forbidden, match="no longer facilitate"):
            _send(state, {"type": "remove_participant", "participant_id": "p1"}, seat, now=10.0)
    for token in (kim_token, lee_token):
        with pytest.raises(Unauthorized):
            actor_for(state, token)
    assert view_for(state, FACILITATOR, 10.0)["me"]["seats"] == []


def test_the_host_is_never_locked_out_of_their_session() -> None:
    state, kim, _ = _mint(_handed_to_ana(), ANA_CONSOLE, "Kim", 6.0)
    state = _send(state, {"type": "hand_over", "to": kim.seat}, ANA_CONSOLE, now=7.0).state
    assert view_for(state, kim, 7.0)["me"]["lead"] is True and state.peer_id == "p0"  # Ana still holds her seat
    # Kim leads, but holds the lead from Ana, not the host: no closing, no erasing, no revoking upward.
    with pytest.raises(Forbidden):
        _send(state, {"type": "close"}, kim, now=8.0)
    assert not cofacilitation.may_erase(state, kim) and cofacilitation.may_erase(state, FACILITATOR)
    with pytest.raises(Conflict, match="granted through"):
        _send(state, {"type": "hand_over", "to": "p1"}, kim, now=8.0)
    with pytest.raises(Forbidden):
        _send(state, {"type": "close"}, FACILITATOR, now=8.0)  # not leading: take the lead back first
    # The host takes it back: the host leads, Ana's facilitation and Kim's seat end.
    taken = _send(state, {"type": "take_back"}, now=9.0)
    assert taken.reply == {"lead": "host"} and taken.state.cofacilitators == () and taken.state.peer_id is None
    state, sam, _ = _mint(taken.state, FACILITATOR, "Sam", 10.0)
    state = _send(state, {"type": "revoke_cofacilitator", "cofacilitator_id": sam.seat}, now=11.0).state
    assert _send(state, {"type": "take_back"}, now=12.0).state == state  # nothing to take back: no change
    assert _send(state, {"type": "close"}, now=13.0).state.status.value == "closed"


def test_a_cofacilitator_who_took_over_from_an_absent_host_may_not_close_or_erase() -> None:
    state, sam, _ = _mint(_send(_session(), {"type": "start"}).state, FACILITATOR, "Sam", 1.0)
    for seat in ("host", sam.seat):
        state = engine.set_seat_online(state, seat, True, 1.0).state
    state = engine.set_seat_online(state, "host", False, 2.0).state
    state = engine.apply(state, commands.FlushTallies(type="flush_tallies"), SYSTEM, state.flush_at,
                         Fresh(id="t", secret="")).state
    me = view_for(state, sam, 50.0)["me"]
    assert (me["lead"], me["may_close"], me["may_erase"]) == (True, False, False)
    with pytest.raises(Forbidden):
        _send(state, {"type": "close"}, sam, now=50.0)
    _send(state, {"type": "next_phase"}, sam, now=50.0)  # running the session goes on
    # Back, the host takes the lead and hands it over in person: now Sam may close (not erase).
    state = _send(state, {"type": "take_back"}, now=60.0).state
    state = _send(state, {"type": "hand_over", "to": sam.seat}, now=61.0).state
    me = view_for(state, sam, 62.0)["me"]
    assert (me["lead"], me["may_close"], me["may_erase"]) == (True, True, False)
    assert _send(state, {"type": "close"}, sam, now=63.0).state.status.value == "closed"


def test_removing_the_participant_who_facilitates_ends_the_seats_they_minted_for_good() -> None:
    state, kim, _ = _mint(_handed_to_ana(), ANA_CONSOLE, "Kim", 6.0)
    state = _send(state, {"type": "remove_participant", "participant_id": "p0"}, now=7.0).state
    assert state.cofacilitators == () and state.peer_id is None
    state = _send(state, {"type": "readmit_participant", "participant_id": "p0"}, now=8.0).state
    for seat in (ANA_CONSOLE, kim):  # back in the room, not back in the facilitation
        with pytest.raises(Forbidden, match="no longer facilitate"):
            _send(state, {"type": "next_phase"}, seat, now=9.0)


def test_the_seat_the_host_handed_the_lead_may_close_until_the_host_leads_again() -> None:
    state, kim, _ = _mint(_handed_to_ana(), ANA_CONSOLE, "Kim", 6.0)  # the host handed Ana the lead
    assert view_for(state, ANA_CONSOLE, 6.0)["me"]["may_close"] is True
    state = _send(state, {"type": "hand_over", "to": kim.seat}, ANA_CONSOLE, now=7.0).state
    assert view_for(state, kim, 7.0)["me"]["may_close"] is False  # Ana's choice, not the host's
    state = _send(state, {"type": "hand_over", "to": "p0"}, kim, now=8.0).state
    assert view_for(state, ANA_CONSOLE, 8.0)["me"]["may_close"] is True  # back with the one the host chose
    state = _send(state, {"type": "take_back"}, now=9.0).state
    state = _send(state, {"type": "hand_over", "to": "p0"}, now=10.0).state
    state = _send(state, {"type": "hand_over", "to": "host"}, ANA_CONSOLE, now=11.0).state  # handed back
    assert state.lead_granted is None and state.peer_id is None
