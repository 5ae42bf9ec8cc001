"""Getting in: codes as people type them, and knocking at a locked door.

A real server in each store mode: a code typed with spaces, dashes, small letters or a
look-alike digit finds its session on every route that takes one and on the live socket;
someone at a locked door leaves a name, the console sees them waiting, and the one admitted
is in the room with the token their phone already holds, while the one declined is told so.
"""

from __future__ import annotations

import asyncio

from app.realtime.service import CODE_ALPHABET, code_forms, normalise_code
from tests.support.client import Api, LiveClient, error_of
from tests.support.server import ServerProcess


def typed(code: str) -> list[str]:
    """How people type a code they read off a screen."""
    return [f"{code[:3].lower()} {code[3:].lower()}", f"{code[:3]}-{code[3:]}", f" {code.lower()} ",
            f"{code[:3]}\u2009{code[3:]}"]


def test_new_codes_hold_no_look_alikes_and_typed_ones_are_read_the_same() -> None:
    assert not set(CODE_ALPHABET) & set("0O1IL258")
    assert normalise_code("eju p5m") == "EJUP5M"
    assert normalise_code("EJU-P5M") == "EJUP5M"
    assert normalise_code("EJU P5") is None and normalise_code("EJUP5MM") is None and normalise_code("EJU P0M") is None
    # a code drawn before look-alikes were left out is found as typed; a new one whichever way its letters are read
    assert code_forms("ab2 c5d") == ["AB2C5D", "ABZCSD"]
    assert code_forms("abz csd") == ["ABZCSD"]


def test_a_code_typed_with_spaces_dashes_and_small_letters_joins(server: ServerProcess) -> None:
    async def scenario() -> None:
        with Api(server.base_url) as api:
            created = api.create_session(title="Typed codes")
            code = created["code"]
            for n, form in enumerate(typed(code)):
                joined = api.request("POST", f"/api/sessions/{form}/participants", json={"name": f"P{n}"})
                assert joined.status_code == 201, joined.text
                page = api.request("GET", f"/join?code={form}", follow_redirects=False)
                assert page.status_code == 303 and page.headers["location"] == f"/join/{code}"
            # a look-alike digit read for the letter the code has
            swapped = code.replace("S", "5").replace("Z", "2").replace("B", "8")
            assert api.request("POST", f"/api/sessions/{swapped.lower()}/participants",
                               json={"name": "Look-alike"}).status_code == 201
            token = api.join(code, "Sockets")["token"]
            live = await LiveClient.connect(server.ws_base, typed(code)[0].replace(" ", "%20"), token)
            assert live.view["code"] == code
            assert len(live.view["participants"]) == len(typed(code)) + 2
            await live.close()
            wrong = api.request("POST", f"/api/sessions/{code[:5]}/participants", json={"name": "x"})
            assert wrong.status_code == 404

    asyncio.run(scenario())


def test_someone_at_a_locked_door_waits_until_the_facilitator_lets_them_in(server: ServerProcess) -> None:
    async def scenario() -> None:
        with Api(server.base_url) as api:
            created = api.create_session(title="Locked door")
            code, fac_token = created["code"], created["facilitator_token"]
            ana = api.join(code, "Ana")
            fac = await LiveClient.connect(server.ws_base, code, fac_token)
            phone = await LiveClient.connect(server.ws_base, code, ana["token"])
            # an open room is joined, not knocked at
            open_knock = api.request("POST", f"/api/sessions/{code}/knocks", json={"name": "Early"})
            assert open_knock.status_code == 409
            await fac.apply({"type": "lock_room"})
            assert "locked" in api.request("GET", f"/join/{code}").text.lower()

            knock = api.request("POST", f"/api/sessions/{code.lower()}/knocks", json={"name": "Ben, late"})
            assert knock.status_code == 202, knock.text
            ben = knock.json()
            other = api.request("POST", f"/api/sessions/{code}/knocks", json={"name": "Cleo"}).json()
            seen = (await fac.wait_for_state(lambda v: len(v["me"].get("waiting", [])) == 2))["view"]
            assert [w["name"] for w in seen["me"]["waiting"]] == ["Ben, late", "Cleo"]
            # nobody but the facilitators sees who is at the door
            assert "waiting" not in (await phone.wait_for_version(seen["version"]))["me"]
            assert "Cleo" not in str(api.view(code, ana["token"]))
            status = api.request("GET", f"/api/sessions/{code}/knock", token=ben["token"])
            assert status.json() == {"status": "waiting"}
            # the knock's token opens nothing until it is admitted
            assert api.request("GET", f"/api/sessions/{code}", token=ben["token"]).status_code == 401
            # only the facilitator answers the door
            refused = await phone.send_command({"type": "admit_knock", "knock_id": ben["knock_id"]})
            assert refused["type"] == "error" and refused["error"]["code"] == "forbidden"

            await fac.apply({"type": "admit_knock", "knock_id": ben["knock_id"]})
            await fac.apply({"type": "decline_knock", "knock_id": other["knock_id"]})
            after = (await fac.wait_for_state(lambda v: not v["me"]["waiting"]))["view"]
            assert [p["name"] for p in after["participants"]] == ["Ana", "Ben, late"]
            assert after["locked"] is True
            admitted = api.request("GET", f"/api/sessions/{code}/knock", token=ben["token"]).json()
            assert admitted == {"status": "admitted", "participant_id": ben["knock_id"]}
            assert api.view(code, ben["token"])["me"]["participant_id"] == ben["knock_id"]
            declined = api.request("GET", f"/api/sessions/{code}/knock", token=other["token"]).json()
            assert declined == {"status": "declined"}
            assert api.request("GET", f"/api/sessions/{code}", token=other["token"]).status_code == 401
            gone = api.request("POST", f"/api/sessions/{code}/commands", token=fac_token,
                               json={"type": "admit_knock", "knock_id": other["knock_id"]})
            assert gone.status_code == 404 and error_of(gone)["code"] == "not_found"
            await fac.close()
            await phone.close()

    asyncio.run(scenario())


def test_a_removed_phone_asks_at_the_door_without_an_error_until_it_is_let_back_in(server: ServerProcess) -> None:
    with Api(server.base_url) as api:
        created = api.create_session(title="Removed")
        code, fac = created["code"], created["facilitator_token"]
        dana = api.join(code, "Dana")
        api.ok(code, fac, {"type": "remove_participant", "participant_id": dana["participant_id"]})
        asked = api.request("GET", f"/api/sessions/{code}/knock", token=dana["token"])
        assert asked.status_code == 200 and asked.json() == {"status": "removed"}
        api.ok(code, fac, {"type": "readmit_participant", "participant_id": dana["participant_id"]})
        assert api.request("GET", f"/api/sessions/{code}/knock", token=dana["token"]).json() == {
            "status": "admitted", "participant_id": dana["participant_id"]}
        assert api.request("GET", f"/api/sessions/{code}/knock").status_code == 401


def locked_group_meeting(http, title: str):
    """A group that met once (Ana, Ben and Cat, with their codes), and its next meeting with the
    door locked: (group, codes, session code, facilitator token, ``command`` as its facilitator)."""
    from tests.test_groups_http import auth, first_meeting, new_group

    group = new_group(http)
    first, codes = first_meeting(http, group)
    first.send({"type": "close"})
    created = http.post(f"/api/groups/{group['group_id']}/sessions", headers=auth(group["group_key"]),
                        json={"title": title, "format": "check-in-out"}).json()
    code, fac = created["code"], created["facilitator_token"]

    def command(body: dict) -> dict:
        answer = http.post(f"/api/sessions/{code}/commands", headers=auth(fac), json=body)
        assert answer.status_code == 200, answer.text
        return answer.json()

    command({"type": "lock_room"})
    return group, codes, code, fac, command


def test_a_group_member_let_in_at_the_locked_door_is_the_member_they_are(server: ServerProcess) -> None:
    """Knocking is joining by another door: a member who knocks with their code and is let in
    brings what they carried and keeps their CPD record, as a member who joined; a newcomer
    who knocks becomes a member, with a code of their own."""
    import httpx

    from tests.test_groups_http import CARRIED, auth

    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        group, codes, code, fac, command = locked_group_meeting(http, "April meeting")
        wrong = http.post(f"/api/sessions/{code}/knocks", json={"name": "Ana", "member_code": "0000-0000-0000-0000"})
        assert wrong.status_code == 401  # a code of no member of this group, as at a join
        ana = http.post(f"/api/sessions/{code}/knocks", json={"name": "Ana", "member_code": codes["Ana"]})
        assert ana.status_code == 202 and "member_code" not in ana.json()
        newcomer = http.post(f"/api/sessions/{code}/knocks", json={"name": "Dev"})
        assert newcomer.status_code == 202 and newcomer.json()["member_code"]
        waiting = http.get(f"/api/sessions/{code}", headers=auth(fac)).json()["me"]["waiting"]
        assert [w["name"] for w in waiting] == ["Ana", "Dev"] and "member_id" not in str(waiting)
        for knock in (ana.json(), newcomer.json()):
            command({"type": "admit_knock", "knock_id": knock["knock_id"]})

        mine = http.get(f"/api/sessions/{code}", headers=auth(ana.json()["token"])).json()["me"]
        assert [a["text"] for a in mine["carried"]] == [CARRIED]  # recognised: what she carried is here
        command({"type": "start"})
        command({"type": "close"})
        # Both are members: their CPD records have this meeting, opened with their codes.
        for member_code, meetings in ((codes["Ana"], 2), (newcomer.json()["member_code"], 1)):
            record = http.get(f"/api/groups/{group['group_id']}/cpd", headers=auth(member_code))
            assert record.status_code == 200 and len(record.json()["entries"]) == meetings
        # A code given for a session of no group is refused at the door as at a join.
        plain = Api(server.base_url).create_session(title="No group")
        http.post(f"/api/sessions/{plain['code']}/commands", headers=auth(plain["facilitator_token"]),
                  json={"type": "lock_room"})
        refused = http.post(f"/api/sessions/{plain['code']}/knocks", json={"name": "Eve", "member_code": codes["Ana"]})
        assert refused.status_code == 422


def test_a_newcomer_turned_away_at_a_groups_door_is_no_member(server: ServerProcess) -> None:
    """The member code a newcomer is given at a locked group session's door opens nothing of the
    group (its agreement, its cases, its journal) unless a facilitator lets them in: anyone who
    reads a session's code off a screen can knock."""
    import httpx

    from tests.test_groups_http import auth

    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        group, _, code, fac, command = locked_group_meeting(http, "May meeting")
        between = f"/api/groups/{group['group_id']}/between"
        stranger = http.post(f"/api/sessions/{code}/knocks", json={"name": "Eve"}).json()
        newcomer = http.post(f"/api/sessions/{code}/knocks", json={"name": "Dev"}).json()
        for knock in (stranger, newcomer):  # a code each, opening nothing while they wait
            assert knock["member_code"]
            assert http.get(between, headers=auth(knock["member_code"])).status_code == 401
        command({"type": "decline_knock", "knock_id": stranger["knock_id"]})
        command({"type": "admit_knock", "knock_id": newcomer["knock_id"]})
        assert http.get(between, headers=auth(stranger["member_code"])).status_code == 401
        assert http.get(between, headers=auth(newcomer["member_code"])).status_code == 200
        view = http.get(f"/api/sessions/{code}", headers=auth(fac)).text  # nothing of the code in a view
        assert newcomer["member_code"] not in view and "joins_group" not in view


def test_what_a_member_brings_is_used_up_only_once_they_are_let_in_at_the_door(server: ServerProcess) -> None:
    """A journal entry a member marked to bring stays marked when they are turned away at a
    locked door (they bring it another time), and is used up once they are let in."""
    import httpx

    from tests.test_groups_http import auth

    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        group, codes, code, _, command = locked_group_meeting(http, "June meeting")
        journal = f"/api/groups/{group['group_id']}/journal"
        assert http.post(journal, headers=auth(codes["Ana"]),
                         json={"text": "The night shift I keep thinking about", "bring": True}).status_code == 201

        def marked() -> list[bool]:
            return [e["bring"] for e in http.get(journal, headers=auth(codes["Ana"])).json()["entries"]]

        first_try = http.post(f"/api/sessions/{code}/knocks", json={"name": "Ana", "member_code": codes["Ana"]})
        command({"type": "decline_knock", "knock_id": first_try.json()["knock_id"]})
        assert marked() == [True]
        again = http.post(f"/api/sessions/{code}/knocks", json={"name": "Ana", "member_code": codes["Ana"]})
        command({"type": "admit_knock", "knock_id": again.json()["knock_id"]})
        assert marked() == [False]

