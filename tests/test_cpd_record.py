"""A member's own CPD record over the real server, in both store modes: appended when each
session of the group closes, opened with the member's code alone, laid out under the NMC's
and Social Work England's headings, naming no one else and holding nothing anonymous, and
erased by its owner."""

from __future__ import annotations

import httpx
import pytest

from tests.support.server import ServerProcess
from tests.test_groups_http import Room, auth, new_group

REFLECTION = {"description": "A hard handover after a death on the ward.",
              "feelings": "I felt rushed and unheard.", "evaluation": "The group listened well.",
              "analysis": "I hold back when the shift is short.", "conclusion": "I could have asked for a pause.",
              "action_plan": "Ask for five quiet minutes at handover.", "confirmed": True}


@pytest.fixture()
def http(server: ServerProcess):
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        yield client


def meeting(http: httpx.Client, group: dict, codes: dict[str, str | None]) -> Room:
    created = http.post(f"/api/groups/{group['group_id']}/sessions", headers=auth(group["group_key"]),
                        json={"title": "Ward 7, monthly", "format": "check-in-out"})
    assert created.status_code == 201, created.text
    room = Room(http, created.json())
    for name, code in codes.items():
        joined = room.join(name, code)
        codes[name] = code or joined["member_code"]
    room.send({"type": "start"})
    return room


def cpd(http: httpx.Client, group: dict, code: str | None, path: str = "") -> httpx.Response:
    return http.get(f"/api/groups/{group['group_id']}/cpd{path}", headers=auth(code) if code else {})


def test_each_member_keeps_a_cpd_record_of_their_own(http: httpx.Client) -> None:
    group = new_group(http)
    codes: dict[str, str | None] = {"Ana": None, "Ben": None, "Cat": None}
    room = meeting(http, group, codes)
    room.send({"type": "set_presenter", "participant_id": room.pid("Ana")})
    plan = room.send({"type": "add_action", "text": "Ask for a handover pause", "due": "2026-12-20"}, "Ana")
    room.send({"type": "carry_action", "action_id": plan["action_id"], "carry": True}, "Ana")
    room.send({"type": "add_action", "text": "Ben's own plan about rotas"}, "Ben")
    room.send({"type": "goto_phase", "phase_id": "check-out"})
    for name in ("Ana", "Ben", "Cat"):  # anonymous answers: never in anyone's CPD record
        room.send({"type": "evaluate", "scores": [5, 4, 3], "note": "the room felt safe"}, name)
    saved = http.put(f"/api/sessions/{room.code}/reflection", headers=auth(room.people["Ana"]["token"]),
                     json=REFLECTION)
    assert saved.status_code == 204, saved.text
    assert cpd(http, group, codes["Ana"]).json()["entries"] == [], "nothing until the session closes"
    room.send({"type": "close"})

    mine = cpd(http, group, codes["Ana"])
    assert mine.status_code == 200 and mine.headers["cache-control"] == "no-store"
    [entry] = mine.json()["entries"]
    assert entry["format"] == "Check-in and check-out" and entry["role"] == "presenter"
    assert entry["actions"] == [{"text": "Ask for a handover pause", "due": "2026-12-20", "carried": True}]
    nmc = {h["key"]: h["paragraphs"] for h in entry["nmc"]}
    swe = {h["key"]: h["paragraphs"] for h in entry["swe"]}
    assert REFLECTION["description"] in nmc["nature"] and REFLECTION["analysis"] in nmc["learned"]
    assert REFLECTION["action_plan"] in swe["impact"] and REFLECTION["feelings"] in swe["peer"]
    assert [h["heading"] for h in entry["nmc"]][2] == "How did you change or improve your practice as a result?"

    text = mine.text
    for other in ("Ben", "Cat", "rotas", "the room felt safe", "Ward 7, monthly", room.code):
        assert other not in text, other
    assert mine.json()["group"] == "Ward 7 reflective practice"  # the record says whose group it is
    assert '"scores"' not in text and "evaluation_k" not in text

    # Ben's record is Ben's: his own action, no reflection, not Ana's.
    ben = cpd(http, group, codes["Ben"]).json()["entries"]
    assert ben[0]["role"] == "member" and ben[0]["actions"][0]["text"] == "Ben's own plan about rotas"
    assert "handover" not in str(ben) and ben[0]["nmc"][1]["paragraphs"] == []  # wrote no reflection
    # A reflection written after the close still reaches its writer's entry (and only theirs).
    later = {key: "" for key in REFLECTION} | {"analysis": "Rotas wear me down.", "confirmed": True}
    assert http.put(f"/api/sessions/{room.code}/reflection", headers=auth(room.people["Ben"]["token"]),
                    json=later).status_code == 204
    [ben_entry] = cpd(http, group, codes["Ben"]).json()["entries"]
    assert ben_entry["id"] == ben[0]["id"] and "Rotas wear me down." in str(ben_entry["nmc"])
    assert "Rotas wear me down." not in cpd(http, group, codes["Ana"]).text

    # Only a member's code of this group opens it.
    assert cpd(http, group, None).status_code == 401
    assert cpd(http, group, "not-a-member-code").status_code == 401
    assert cpd(http, group, group["group_key"]).status_code == 401
    assert cpd(http, {"group_id": "nosuchgroup"}, codes["Ana"]).status_code == 404
    other = new_group(http, "Another team")
    assert cpd(http, other, codes["Ana"]).status_code == 401

    # The next meeting: Ana says how her plan went; her record grows by one entry.
    again = meeting(http, group, {"Ana": codes["Ana"], "Ben": codes["Ben"]})
    carried = again.view("Ana")["me"]["carried"][0]
    again.send({"type": "start_round", "seconds_per_turn": 60})
    again.send({"type": "review_action", "action_id": carried["id"], "status": "done"}, "Ana")
    again.send({"type": "close"})
    entries = cpd(http, group, codes["Ana"]).json()["entries"]
    assert len(entries) == 2 and entries[1]["role"] == "member"
    assert entries[1]["reviewed"][0]["text"] == "Ask for a handover pause"
    assert entries[1]["reviewed"][0]["status"] == "done"
    assert cpd(http, group, codes["Cat"]).json()["entries"].__len__() == 1, "Cat missed the second meeting"

    # Markdown and the print page, under both bodies' headings.
    md = cpd(http, group, codes["Ana"], ".md")
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert "attachment" in md.headers["content-disposition"]
    for heading in ("## Attendance", "### NMC reflective account", "### Social Work England CPD record",
                    "How is this relevant to the Code?", "Prioritise people", "Ask for a handover pause: done",
                    "| presenter |"):
        assert heading in md.text, heading
    assert "Ben" not in md.text
    page = cpd(http, group, codes["Ana"], ".html")
    assert page.status_code == 200 and "<h1>My CPD record</h1>" in page.text
    assert "NMC reflective account" in page.text and REFLECTION["conclusion"] in page.text
    part = cpd(http, group, codes["Ana"], ".html?part=content")
    assert part.text.lstrip().startswith("<header>")
    # In the reader's language (the page's ?lang=, as cpd.js sends it); the JSON stays English.
    french = cpd(http, group, codes["Ana"], ".md?lang=fr").text
    assert "Inclusion et clôture" in french and "Check-in and check-out" not in french
    french_page = cpd(http, group, codes["Ana"], ".html?part=content&lang=fr").text
    assert "Présence" in french_page and "Mes actions" in french_page and "Inclusion et clôture" in french_page

    # Erasing is the owner's, and only theirs.
    assert http.delete(f"/api/groups/{group['group_id']}/cpd", headers=auth(group["group_key"])).status_code == 401
    assert http.delete(f"/api/groups/{group['group_id']}/cpd", headers=auth(codes["Ana"])).status_code == 204
    assert cpd(http, group, codes["Ana"]).json()["entries"] == []
    assert len(cpd(http, group, codes["Ben"]).json()["entries"]) == 2


def test_a_session_of_no_group_and_a_member_who_left_keep_no_entry(http: httpx.Client) -> None:
    group = new_group(http)
    codes: dict[str, str | None] = {"Ana": None, "Ben": None}
    room = meeting(http, group, codes)
    room.send({"type": "remove_participant", "participant_id": room.pid("Ben")})
    room.send({"type": "close"})
    assert len(cpd(http, group, codes["Ana"]).json()["entries"]) == 1
    assert cpd(http, group, codes["Ben"]).json()["entries"] == []
