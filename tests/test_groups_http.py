"""Recurring groups over the real server: a group meets twice; what was carried
by consent reaches its owner at the next check-in, and the summary holds only what the
group agreed to."""

from __future__ import annotations

import asyncio
import re
import time

import httpx
import pytest
import websockets

from tests.support.server import ServerProcess

CARRIED = "Book a supervision slot with Sam"
NOT_CARRIED = "Write down my private worry"
OTHER_CARRIED = "Read the new lone-working policy"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Room:
    """One session seen from outside: the facilitator, the screen and named phones."""

    def __init__(self, http: httpx.Client, created: dict) -> None:
        self.http, self.created, self.code = http, created, created["code"]
        self.people: dict[str, dict] = {}

    def join(self, name: str, member_code: str | None = None) -> dict:
        body = {"name": name} | ({"member_code": member_code} if member_code else {})
        answer = self.http.post(f"/api/sessions/{self.code}/participants", json=body)
        assert answer.status_code == 201, answer.text
        self.people[name] = answer.json()
        return answer.json()

    def send(self, command: dict, who: str | None = None) -> dict:
        token = self.people[who]["token"] if who else self.created["facilitator_token"]
        answer = self.http.post(f"/api/sessions/{self.code}/commands", json=command, headers=auth(token))
        assert answer.status_code == 200, answer.text
        return answer.json()

    def view(self, who: str | None = None, screen: bool = False) -> dict:
        token = (self.created["screen_token"] if screen else
                 self.people[who]["token"] if who else self.created["facilitator_token"])
        return self.http.get(f"/api/sessions/{self.code}", headers=auth(token)).json()

    def view_when(self, predicate, timeout: float = 10.0) -> dict:
        """The facilitator's view once ``predicate`` holds (anonymous counts arrive at a fold)."""
        deadline = time.monotonic() + timeout
        while not predicate(view := self.view()):
            assert time.monotonic() < deadline, view.get("pending")
            time.sleep(0.05)
        return view

    def pid(self, name: str) -> str:
        return self.people[name]["participant_id"]


@pytest.fixture()
def http(server: ServerProcess):
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        yield client


def new_group(http: httpx.Client, name: str = "Ward 7 reflective practice") -> dict:
    answer = http.post("/api/groups", json={"name": name})
    assert answer.status_code == 201, answer.text
    return answer.json()


def first_meeting(http: httpx.Client, group: dict) -> tuple[Room, dict[str, str]]:
    created = http.post(f"/api/groups/{group['group_id']}/sessions", headers=auth(group["group_key"]),
                        json={"title": "March meeting", "format": "check-in-out"})
    assert created.status_code == 201, created.text
    assert created.json()["group"] == group["group_id"]
    room = Room(http, created.json())
    codes = {name: room.join(name)["member_code"] for name in ("Ana", "Ben", "Cat")}
    room.send({"type": "start"})
    room.send({"type": "goto_phase", "phase_id": "check-out"})
    a1 = room.send({"type": "add_action", "text": CARRIED}, "Ana")["action_id"]
    room.send({"type": "add_action", "text": NOT_CARRIED}, "Ana")
    b1 = room.send({"type": "add_action", "text": OTHER_CARRIED}, "Ben")["action_id"]
    room.send({"type": "carry_action", "action_id": a1, "carry": True}, "Ana")
    room.send({"type": "carry_action", "action_id": b1, "carry": True}, "Ben")
    return room, codes


def test_a_new_member_gets_a_member_code_once(http: httpx.Client) -> None:
    group = new_group(http)
    room, codes = first_meeting(http, group)
    typeable = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}")  # no I, L, O, U
    assert all(typeable.fullmatch(c) for c in codes.values()), codes
    assert len(set(codes.values())) == 3
    again = room.join("Ana again", codes["Ana"].lower().replace("-", " "))  # as a person types it
    assert "member_code" not in again
    plain = http.post("/api/sessions", json={"title": "No group"}).json()
    assert "member_code" not in Room(http, plain).join("Dee")


def test_an_objection_removes_an_item_from_the_summary(http: httpx.Client) -> None:
    room, _ = first_meeting(http, new_group(http))
    for n, name in enumerate(("Ana", "Ben", "Cat")):
        room.send({"type": "submit_item", "kind": "feedback", "text": f"Feedback {n} on rotas"}, name)
    room.view_when(lambda v: v["pending"]["feedback"] == 3)
    room.send({"type": "reveal_items", "kind": "feedback"})
    item = room.view()["items"][0]
    theme = room.send({"type": "propose_summary", "kind": "theme", "text": "Night shifts feel isolating"})
    change = room.send({"type": "propose_summary", "kind": "change", "text": "Raise staffing at handover"})
    shared = room.send({"type": "propose_summary", "kind": "item", "item_id": item["id"]})
    for name in ("Ana", "Ben", "Cat"):
        room.send({"type": "consent", "proposal_id": theme["proposal_id"], "agree": True}, name)
        room.send({"type": "consent", "proposal_id": shared["proposal_id"], "agree": True}, name)
        room.send({"type": "consent", "proposal_id": change["proposal_id"], "agree": name != "Cat"}, name)
    room.view_when(lambda v: sum(p["answered"] for p in v["proposals"]) == 9)  # counted at a fold
    counts = {p["text"]: (p["agreed"], p["objected"]) for p in room.view("Ana")["proposals"]}
    assert counts["Raise staffing at handover"] == (2, 1)
    room.send({"type": "close"})

    markdown = http.get(f"/api/sessions/{room.code}/summary.md", headers=auth(room.created["facilitator_token"]))
    assert markdown.status_code == 200
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "attachment" in markdown.headers["content-disposition"]
    text = markdown.text
    assert "Night shifts feel isolating" in text and item["text"] in text
    assert "Raise staffing at handover" not in text
    # No names on the chart (nobody proposed them), and no one's actions in the facilitator's copy.
    assert not any(name in text for name in ("Ana", "Ben", "Cat"))
    assert CARRIED not in text and OTHER_CARRIED not in text

    page = http.get(f"/api/sessions/{room.code}/summary.html", headers=auth(room.created["facilitator_token"]))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Night shifts feel isolating" in page.text and "Raise staffing" not in page.text
    assert "<script" not in page.text and "style=" not in page.text
    assert 'href="/static/summary.css"' in page.text


def test_each_phone_downloads_its_own_actions_only(http: httpx.Client) -> None:
    room, _ = first_meeting(http, new_group(http))
    room.send({"type": "close"})
    mine = http.get(f"/api/sessions/{room.code}/summary.md", headers=auth(room.people["Ana"]["token"])).text
    assert CARRIED in mine and NOT_CARRIED in mine and OTHER_CARRIED not in mine
    assert "carried to the next session" in mine
    record = http.get(f"/api/sessions/{room.code}/summary", headers=auth(room.people["Ben"]["token"])).json()
    assert [a["text"] for a in record["my_actions"]] == [OTHER_CARRIED]
    screen = http.get(f"/api/sessions/{room.code}/summary", headers=auth(room.created["screen_token"]))
    assert screen.status_code == 403 and screen.json()["error"]["code"] == "forbidden"
    assert http.get(f"/api/sessions/{room.code}/summary").status_code == 401


def test_the_summary_print_page_carries_no_content_without_a_key(http: httpx.Client) -> None:
    room, _ = first_meeting(http, new_group(http))
    page = http.get(f"/summary/{room.code}")
    assert page.status_code == 200
    assert "March meeting" not in page.text
    assert '<script type="module" src="/static/js/pages/summary.js"></script>' in page.text
    for asset in ("/static/js/pages/summary.js", "/static/summary.css"):
        assert http.get(asset).status_code == 200


async def _frames(server: ServerProcess, code: str, tokens: dict[str, str], act) -> dict[str, list[str]]:
    """Every frame each socket receives while ``act`` runs (and shortly after)."""
    frames: dict[str, list[str]] = {who: [] for who in tokens}
    sockets = {who: await websockets.connect(server.live_url(code, t)) for who, t in tokens.items()}
    try:
        for who, ws in sockets.items():
            frames[who].append(await asyncio.wait_for(ws.recv(), 5))
        await asyncio.to_thread(act)
        for who, ws in sockets.items():
            while True:
                try:
                    frames[who].append(await asyncio.wait_for(ws.recv(), 0.7))
                except TimeoutError:
                    break
    finally:
        for ws in sockets.values():
            await ws.close()
    return frames


def test_a_carried_action_appears_in_the_next_check_in_for_its_owner_only(
        http: httpx.Client, server: ServerProcess) -> None:
    group = new_group(http)
    first, codes = first_meeting(http, group)
    first.send({"type": "close"})

    created = http.post("/api/sessions", json={"title": "April meeting", "group": group["group_id"],
                                               "group_key": group["group_key"]})
    assert created.status_code == 201, created.text
    room = Room(http, created.json())
    room.join("Ana", codes["Ana"])
    room.join("Ben", codes["Ben"])
    room.join("Cat", codes["Cat"])  # carried nothing
    room.join("Dan")  # new to the group
    room.send({"type": "start"})
    assert room.view()["phase"]["id"] == "check-in"

    ana, ben = room.view("Ana")["me"], room.view("Ben")["me"]
    assert [a["text"] for a in ana["carried"]] == [CARRIED]
    assert [a["text"] for a in ben["carried"]] == [OTHER_CARRIED]
    assert room.view("Cat")["me"]["carried"] == [] and room.view("Dan")["me"]["carried"] == []

    tokens = {"screen": room.created["screen_token"], "facilitator": room.created["facilitator_token"],
              **{name: room.people[name]["token"] for name in ("Ana", "Ben", "Cat", "Dan")}}
    seen: dict[str, list[str]] = {}

    def check_in_round() -> None:
        room.send({"type": "start_round", "seconds_per_turn": 60})
        while room.view()["round"] is not None:
            speaker = room.view()["turn"]["participant_id"]
            on_screen = room.view(screen=True)["me"]["floor_carried"]
            seen[speaker] = [a["text"] for a in on_screen["actions"]] if on_screen else []
            if speaker == room.pid("Ana"):
                assert room.view("Ana")["me"]["reviewing"] is True
                action_id = room.view("Ana")["me"]["carried"][0]["id"]
                room.send({"type": "review_action", "action_id": action_id, "status": "done"}, "Ana")
            room.send({"type": "next_turn"})

    frames = asyncio.run(_frames(server, room.code, tokens, check_in_round))
    # The screen showed each speaker's own carried actions, and only while they spoke.
    assert seen == {room.pid("Ana"): [CARRIED], room.pid("Ben"): [OTHER_CARRIED],
                    room.pid("Cat"): [], room.pid("Dan"): []}
    # No phone but its owner's ever received another member's carried action.
    for who, texts in frames.items():
        blob = "\n".join(texts)
        assert (CARRIED in blob) == (who in ("Ana", "screen", "facilitator")), who
        assert (OTHER_CARRIED in blob) == (who in ("Ben", "screen", "facilitator")), who
    assert NOT_CARRIED not in "\n".join(t for texts in frames.values() for t in texts)
    assert room.view("Ana")["me"]["carried"][0]["status"] == "done"


def test_group_capabilities_are_checked(http: httpx.Client) -> None:
    group = new_group(http)
    gid = group["group_id"]
    bad = http.post(f"/api/groups/{gid}/sessions", headers=auth("not-the-key"), json={"title": "x"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "unauthorized"
    assert http.post(f"/api/groups/{gid}/sessions", json={"title": "x"}).status_code == 401
    assert http.post("/api/sessions", json={"title": "x", "group": gid}).status_code == 401
    assert http.post("/api/sessions", json={"title": "x", "group": "nope", "group_key": "k"}).status_code == 404
    assert http.post("/api/sessions", json={"title": "x", "group_key": "k"}).status_code == 422
    info = http.get(f"/api/groups/{gid}", headers=auth(group["group_key"])).json()
    assert info == {"id": gid, "name": "Ward 7 reflective practice", "created_at": info["created_at"], "members": 0,
                    "statements": None, "least_heard_first": False, "report_link": False, "rota": [],
                    "next_facilitator": None, "next_at": None}
    assert http.get(f"/api/groups/{gid}", headers=auth("wrong")).status_code == 401
    assert http.post("/api/groups", json={"name": ""}).status_code == 422

    room, codes = first_meeting(http, group)
    assert http.get(f"/api/groups/{gid}", headers=auth(group["group_key"])).json()["members"] == 3
    other = new_group(http, "Another group")
    created = http.post(f"/api/groups/{other['group_id']}/sessions", headers=auth(other["group_key"]),
                        json={"title": "Theirs"}).json()
    wrong = http.post(f"/api/sessions/{created['code']}/participants", json={"name": "Ana", "member_code": codes["Ana"]})
    assert wrong.status_code == 401
    plain = http.post("/api/sessions", json={"title": "No group"}).json()
    not_group = http.post(f"/api/sessions/{plain['code']}/participants", json={"name": "A", "member_code": "x"})
    assert not_group.status_code == 422


CUSTOM = """
id = "peer-supervision"
title = "Peer supervision"

[[phases]]
id = "check-in"
title = "Check-in"
kind = "round"
duration_s = 300

[[phases]]
id = "case"
title = "Case"
kind = "presentation"
duration_s = 900

[[phases]]
id = "close"
title = "Close"
kind = "round"
duration_s = 300
"""


def test_a_facilitator_loads_a_custom_format_and_reorders_skips_and_retimes_it(http: httpx.Client) -> None:
    created = http.post("/api/sessions", json={"title": "Custom", "format_toml": CUSTOM,
                                               "phases": [{"id": "case", "duration_s": 600}, {"id": "check-in"}]})
    assert created.status_code == 201, created.text
    room = Room(http, created.json())
    view = room.view()
    assert view["format"] == "peer-supervision"
    assert [(p["id"], p["duration_s"]) for p in view["phases"]] == [("case", 600), ("check-in", 300)]
    room.send({"type": "set_phases", "phases": [{"id": "check-in", "duration_s": 120}]})
    assert [(p["id"], p["duration_s"]) for p in room.view()["phases"]] == [("check-in", 120)]


@pytest.mark.parametrize("body, words", [
    ({"format_toml": "id = "}, "not valid TOML"),
    ({"format_toml": CUSTOM.replace("duration_s = 900", "duration_s = 0")}, 'phases[1] (id "case").duration_s'),
    ({"format_toml": CUSTOM, "format": "balint"}, "not both"),
    ({"format": "balint", "phases": [{"id": "nope"}]}, "unknown phase id(s) for balint: nope"),
    ({"phases": [{"id": "check-in", "duration_s": 0}]}, "phases"),
    ({"phases": []}, "phases"),
])
def test_a_bad_format_or_phase_list_is_a_clear_422(http: httpx.Client, body: dict, words: str) -> None:
    answer = http.post("/api/sessions", json={"title": "Custom"} | body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "invalid"
    assert words in answer.json()["error"]["message"]
