"""A group between its meetings, over the real server in both store modes: its agreement
(agreed on members' phones, a count in the record), topics and cases agreed beforehand (the
next session opens with the case and its consenting presenter), its rhythm and calendar file,
and each member's private journal (sealed in the store, opened by their code alone)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import httpx
import pytest

from tests.support.server import ServerProcess
from tests.support.stored import redis_dump
from tests.test_groups_http import CARRIED, Room, auth, first_meeting, new_group

SCHEDULE = {"every": "month", "interval": 1, "weekday": "TH", "nth": 2, "time": "14:00", "minutes": 90,
            "tz": "Europe/London", "starts": "2030-01-01"}


@pytest.fixture()
def http(server: ServerProcess):
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        yield client


def g(group: dict, path: str) -> str:
    return f"/api/groups/{group['group_id']}{path}"


def between(http: httpx.Client, group: dict, bearer: str) -> dict:
    answer = http.get(g(group, "/between"), headers=auth(bearer))
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    return answer.json()


def closed_meeting(http: httpx.Client, group: dict) -> tuple[Room, dict[str, str]]:
    room, codes = first_meeting(http, group)
    room.send({"type": "close"})
    return room, codes


def next_session(http: httpx.Client, group: dict) -> Room:
    created = http.post(g(group, "/sessions"), headers=auth(group["group_key"]),
                        json={"title": "April meeting", "format": "balint"})
    assert created.status_code == 201, created.text
    return Room(http, created.json())


def store_text(server: ServerProcess, request: pytest.FixtureRequest) -> str:
    """Everything the groups' store holds at rest: Redis keys and values, or every byte of the
    groups' SQLite file and its write-ahead log."""
    dump = redis_dump(server, request)
    if dump is not None:
        return "\n".join(f"{k} {v}" for k, v in dump.items())
    path = Path(server.env["GROUPS_DB"])
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists()).decode("latin-1")


def stored_between(server: ServerProcess, request: pytest.FixtureRequest, group_id: str) -> tuple[str, list[str]]:
    """The group's document between meetings as stored, and its members' ids."""
    if getattr(server, "mode", "memory") == "redis":
        client = request.getfixturevalue("redis_server").client()
        base = f"{server.env['REDIS_PREFIX']}group:{group_id}"
        try:
            return client.get(f"{base}:doc:between") or "", sorted(client.smembers(f"{base}:members"))
        finally:
            client.close()
    conn = sqlite3.connect(f"file:{server.env['GROUPS_DB']}?mode=ro", uri=True)
    try:
        [(doc,)] = conn.execute("SELECT data FROM group_docs WHERE group_id = ? AND name = 'between'", (group_id,))
        return doc, [mid for (mid,) in conn.execute("SELECT id FROM members WHERE group_id = ?", (group_id,))]
    finally:
        conn.close()


def test_the_group_agrees_its_agreement_and_the_record_keeps_text_and_count(http: httpx.Client,
                                                                            server: ServerProcess,
                                                                            request: pytest.FixtureRequest) -> None:
    group = new_group(http)
    room, codes = first_meeting(http, group)
    fresh = between(http, group, group["group_key"])
    assert fresh["agreement"] is None and "stays here" in fresh["template"]

    # Only the key holder drafts it; a member cannot.
    assert http.put(g(group, "/agreement"), headers=auth(codes["Ana"]), json={"text": "x"}).status_code == 403
    text = fresh["template"] + "\nWe keep to 90 minutes."
    drafted = http.put(g(group, "/agreement"), headers=auth(group["group_key"]), json={"text": text})
    assert drafted.status_code == 200, drafted.text
    v1 = drafted.json()["agreement"]
    assert v1["version"] == 1 and v1["agreed"] == 0

    for name in ("Ana", "Ben", "Cat"):
        answer = http.post(g(group, "/agreement/agree"), headers=auth(codes[name]), json={"version": 1})
        assert answer.status_code == 200 and answer.json()["agreement"]["i_agreed"] is True
    again = http.post(g(group, "/agreement/agree"), headers=auth(codes["Ana"]), json={"version": 1})
    assert again.json()["agreement"]["agreed"] == 3, "one agreement per member"
    assert between(http, group, group["group_key"])["agreement"]["agreed"] == 3
    assert "i_agreed" not in between(http, group, group["group_key"])["agreement"]
    assert http.post(g(group, "/agreement/agree"), headers=auth("not-a-code"), json={"version": 1}).status_code == 401

    room.send({"type": "close"})
    [row] = http.get(g(group, "/record"), headers=auth(group["group_key"])).json()["meetings"]
    assert row["agreement"] == {"text": text, "agreed": 3}
    page = http.get(g(group, "/record.html?part=content"), headers=auth(group["group_key"])).text
    assert "Agreed to the agreement" in page and "We keep to 90 minutes." in page

    # The store keeps a count and marks nobody can link to a member without their code.
    doc, member_ids = stored_between(server, request, group["group_id"])
    assert '"agreed": 3' in doc
    for leak in [*member_ids, *codes.values(), "Ana", "Ben", "Cat"]:
        assert leak not in doc, leak

    # A change is agreed again: nobody has agreed to the new version yet.
    changed = http.put(g(group, "/agreement"), headers=auth(group["group_key"]),
                       json={"text": text + "\nPhones off."}).json()["agreement"]
    assert changed["version"] == 2 and changed["agreed"] == 0
    stale = http.post(g(group, "/agreement/agree"), headers=auth(codes["Ben"]), json={"version": 1})
    assert stale.status_code == 409
    mine = between(http, group, codes["Ben"])["agreement"]
    assert mine["i_agreed"] is False

    # The next session shows it at the check-in, with when it was last revisited.
    nxt = next_session(http, group)
    nxt.join("Ana", codes["Ana"])
    plan = nxt.view("Ana")["group_plan"]
    assert plan["agreement"]["text"].endswith("Phones off.") and plan["agreement"]["agreed"] == 0
    assert plan["agreement"]["revised_at"] >= v1["revised_at"]


def test_a_case_agreed_beforehand_opens_the_next_session_with_its_presenter(http: httpx.Client) -> None:
    group = new_group(http)
    _, codes = closed_meeting(http, group)

    topic = http.post(g(group, "/topics"), headers=auth(codes["Ben"]),
                      json={"kind": "topic", "text": "Boundaries with families"})
    assert topic.status_code == 201
    case = http.post(g(group, "/topics"), headers=auth(codes["Ana"]),
                     json={"kind": "case", "text": "A discharge that went wrong"})  # anonymous: no name
    assert case.status_code == 201, case.text
    case_id = case.json()["id"]
    assert http.post(g(group, "/topics"), headers=auth(group["group_key"]),
                     json={"kind": "case", "text": "x"}).status_code == 401
    assert http.post(g(group, "/topics"), headers=auth(codes["Ana"]),
                     json={"kind": "rant", "text": "x"}).status_code == 422

    listed = {t["id"]: t for t in between(http, group, codes["Cat"])["topics"]}
    assert listed[case_id]["name"] is None and listed[case_id]["mine"] is False
    assert between(http, group, codes["Ana"])["topics"][1]["mine"] is True  # its author's phone alone knows

    for name in ("Ben", "Cat", "Cat"):  # Cat marks twice: one mark per member
        assert http.put(g(group, f"/topics/{case_id}/mark"), headers=auth(codes[name]), json={}).status_code == 200
    shown = {t["id"]: t for t in between(http, group, codes["Cat"])["topics"]}
    assert shown[case_id]["likes"] == 2 and shown[case_id]["marked"] is True
    assert {t["id"]: t for t in between(http, group, codes["Ana"])["topics"]}[case_id]["marked"] is False

    # The facilitator settles it; a member who is not next on the rota cannot.
    assert http.post(g(group, "/plan"), headers=auth(codes["Ben"]), json={"topic_id": case_id}).status_code == 403
    settled = http.post(g(group, "/plan"), headers=auth(group["group_key"]), json={"topic_id": case_id})
    assert settled.status_code == 200 and settled.json()["plan"]["consent"] == "asked"
    assert case_id not in {t["id"] for t in settled.json()["topics"]}
    assert between(http, group, codes["Ana"])["plan"]["mine"] is True
    assert between(http, group, codes["Ben"])["plan"]["mine"] is False
    # Only its author can consent to present it.
    assert http.post(g(group, "/plan/consent"), headers=auth(codes["Ben"]), json={"agree": True}).status_code == 403

    # Not yet consented: a session started now would not open with it.
    early = next_session(http, group)
    early.join("Ana", codes["Ana"])
    assert early.view()["group_plan"]["case"] is None and early.view()["presenter_id"] is None

    agreed = http.post(g(group, "/plan/consent"), headers=auth(codes["Ana"]), json={"agree": True})
    assert agreed.status_code == 200 and agreed.json()["plan"]["consent"] == "agreed"

    room = next_session(http, group)
    room.join("Ben", codes["Ben"])
    assert room.view()["presenter_id"] is None
    ana = room.join("Ana", codes["Ana"])
    view = room.view()
    assert view["group_plan"]["case"] == {"kind": "case", "text": "A discharge that went wrong", "name": None}
    assert view["presenter_id"] == ana["participant_id"], "the session opens with the presenter who consented"
    room.send({"type": "start"})
    room.send({"type": "close"})
    assert between(http, group, group["group_key"])["plan"] is None, "used up by the meeting that held it"


def test_the_calendar_file_is_rfc_5545_with_its_rule_and_names_no_one(http: httpx.Client) -> None:
    group = new_group(http)
    _, codes = closed_meeting(http, group)
    assert http.get(g(group, "/calendar.ics"), headers=auth(codes["Ana"])).status_code == 404  # no schedule yet
    bad = dict(SCHEDULE, tz="Mars/Olympus")
    assert http.put(g(group, "/schedule"), headers=auth(group["group_key"]), json={"schedule": bad}).status_code == 422
    assert http.put(g(group, "/schedule"), headers=auth(codes["Ana"]), json={"schedule": SCHEDULE}).status_code == 403
    set_ = http.put(g(group, "/schedule"), headers=auth(group["group_key"]), json={"schedule": SCHEDULE})
    assert set_.status_code == 200, set_.text
    assert set_.json()["schedule"]["next_local"] == "2030-01-10 14:00"
    moved = http.post(g(group, "/schedule/moves"), headers=auth(group["group_key"]),
                      json={"date": "2030-01-10", "to": "2030-01-17T15:30"})
    assert moved.status_code == 200 and moved.json()["schedule"]["next_local"] == "2030-01-17 15:30"
    assert http.post(g(group, "/schedule/moves"), headers=auth(group["group_key"]),
                     json={"date": "2030-02-14", "to": None}).status_code == 200  # cancelled
    assert http.post(g(group, "/schedule/moves"), headers=auth(group["group_key"]),
                     json={"date": "2030-02-13"}).status_code == 422  # no meeting that day
    assert http.get(f"/api/groups/{group['group_id']}", headers=auth(group["group_key"])).json()["next_at"] > 0

    answer = http.get(g(group, "/calendar.ics"), headers=auth(codes["Ben"]))
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/calendar")
    ics = answer.text
    assert http.get(g(group, "/calendar.ics")).status_code == 401
    parsed = parse_ics(ics)
    assert parsed["name"] == "VCALENDAR" and ("VERSION", {}, "2.0") in parsed["props"]
    assert any(p[0] == "PRODID" for p in parsed["props"])
    [tz] = [c for c in parsed["children"] if c["name"] == "VTIMEZONE"]
    assert ("TZID", {}, "Europe/London") in tz["props"]
    assert {c["name"] for c in tz["children"]} == {"STANDARD", "DAYLIGHT"}
    events = [c for c in parsed["children"] if c["name"] == "VEVENT"]
    assert len(events) == 2
    rule, override = (dict((n, (params, v)) for n, params, v in e["props"]) for e in events)
    assert rule["RRULE"][1] == "FREQ=MONTHLY;INTERVAL=1;BYDAY=2TH"
    assert rule["DTSTART"] == ({"TZID": "Europe/London"}, "20300110T140000")
    assert rule["EXDATE"] == ({"TZID": "Europe/London"}, "20300214T140000")
    assert re.fullmatch(r"\d{8}T\d{6}Z", rule["DTSTAMP"][1]) and rule["UID"][1] == override["UID"][1]
    assert override["RECURRENCE-ID"] == ({"TZID": "Europe/London"}, "20300110T140000")
    assert override["DTSTART"] == ({"TZID": "Europe/London"}, "20300117T153000")
    assert rule["DURATION"][1] == "PT90M"
    for who in ("Ana", "Ben", "Cat", CARRIED, group["group_id"], "Ward 7"):
        assert who not in ics, who


def parse_ics(text: str) -> dict:
    """A strict reading of RFC 5545's structure: CRLF line ends, lines of at most 75 octets
    (folded with a leading space), ``NAME;PARAM=V:VALUE`` content lines, BEGIN/END nesting."""
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    raw = text.split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in raw)
    lines: list[str] = []
    for line in raw:
        if line.startswith(" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    root: dict = {"name": None, "props": [], "children": []}
    stack = [root]
    for line in lines:
        m = re.fullmatch(r"([A-Z][A-Z0-9-]*)((?:;[A-Z-]+=[^;:]+)*):(.*)", line)
        assert m, line
        name, params, value = m.group(1), m.group(2), m.group(3)
        if name == "BEGIN":
            child = {"name": value, "props": [], "children": []}
            stack[-1]["children"].append(child)
            stack.append(child)
        elif name == "END":
            assert stack.pop()["name"] == value
        else:
            stack[-1]["props"].append((name, dict(p.split("=", 1) for p in params.split(";")[1:]), value))
    assert len(stack) == 1 and len(root["children"]) == 1
    return root["children"][0]


def test_a_journal_entry_is_sealed_in_the_store_and_opens_with_its_members_code(
        http: httpx.Client, server: ServerProcess, request: pytest.FixtureRequest) -> None:
    group = new_group(http)
    _, codes = closed_meeting(http, group)  # Ana carried CARRIED
    secret = "I froze when the consultant shouted on ward round"
    written = http.post(g(group, "/journal"), headers=auth(codes["Ana"]), json={"text": secret})
    assert written.status_code == 201, written.text
    second = http.post(g(group, "/journal"), headers=auth(codes["Ana"]),
                       json={"text": "Asked Sam for the slot today", "bring": True, "cpd": True}).json()["id"]

    assert secret not in store_text(server, request)
    assert "Asked Sam" not in store_text(server, request)

    mine = http.get(g(group, "/journal"), headers=auth(codes["Ana"]))
    assert mine.status_code == 200 and mine.headers["cache-control"] == "no-store"
    body = mine.json()
    assert [e["text"] for e in body["entries"]] == [secret, "Asked Sam for the slot today"]
    assert {"kind": "action", "subject": CARRIED, "text": f"How did “{CARRIED}” go?"} in body["prompts"]
    french = http.get(g(group, "/journal?lang=fr"), headers=auth(codes["Ana"])).json()["prompts"][0]["text"]
    assert CARRIED in french and "How did" not in french
    assert http.get(g(group, "/journal"), headers=auth(codes["Ben"])).json()["entries"] == []
    assert http.get(g(group, "/journal"), headers=auth(group["group_key"])).status_code == 401

    # Into my CPD record, as I chose.
    cpd = http.get(g(group, "/cpd"), headers=auth(codes["Ana"])).json()
    assert [n["text"] for n in cpd["journal"]] == ["Asked Sam for the slot today"]
    printed = http.get(g(group, "/cpd.html?part=content&lang=es"), headers=auth(codes["Ana"])).text
    assert "De mi diario" in printed and "Asked Sam for the slot today" in printed and secret not in printed
    markdown = http.get(g(group, "/cpd.md"), headers=auth(codes["Ana"])).text
    assert "## From my journal" in markdown and "Asked Sam for the slot today" in markdown

    # Brought to the next check-in as my own words: my phone, and the screen while I hold the floor.
    room = next_session(http, group)
    ana = room.join("Ana", codes["Ana"])
    room.join("Ben", codes["Ben"])
    assert room.view("Ana")["me"]["brought"] == ["Asked Sam for the slot today"]
    assert room.view("Ben")["me"]["brought"] == []
    room.send({"type": "start"})
    room.send({"type": "give_turn", "participant_id": ana["participant_id"]})
    floor = room.view(screen=True)["me"]["floor_brought"]
    assert floor["name"] == "Ana" and floor["words"] == ["Asked Sam for the slot today"]
    assert not any(e["bring"] for e in http.get(g(group, "/journal"), headers=auth(codes["Ana"])).json()["entries"])

    # Erasable by its owner.
    assert http.delete(g(group, f"/journal/{second}"), headers=auth(codes["Ben"])).status_code == 404
    assert http.delete(g(group, f"/journal/{second}"), headers=auth(codes["Ana"])).status_code == 204
    assert len(http.get(g(group, "/journal"), headers=auth(codes["Ana"])).json()["entries"]) == 1
    assert http.delete(g(group, "/journal"), headers=auth(codes["Ana"])).status_code == 204
    assert http.get(g(group, "/journal"), headers=auth(codes["Ana"])).json()["entries"] == []


# ---------------------------------------------------------------- the session's pages (live regions)

def test_the_check_in_shows_the_agreement_the_case_the_next_date_and_brought_words() -> None:
    from app.facilitation import between as core, opening
    from app.facilitation.models import FACILITATOR, SCREEN
    from tests.test_groups_core import check_in_with_p1_on_the_floor, person, send
    from tests.test_groups_pages import regions, text

    b = core.draft(core.Between(), "What is said here stays here.\nPhones away.", now=1_900_000_000)
    b = core.agree(b, 1, "mark-a", True)
    b = core.settle(core.propose(b, "t1", "topic", "Boundaries with families", None, "o", 0), "t1", 0)
    plan = opening.plan_for_session(b, 1_900_000_000.0, 90, "Europe/London")
    state = check_in_with_p1_on_the_floor()
    state = state.model_copy(update={"group_plan": plan})
    state = opening.arrive(state, "p1", "m1", ("Asked Sam for the slot",))

    for viewer in (person(0), person(1), SCREEN, FACILITATOR):
        shown = text(regions(state, viewer)["meeting"])
        assert "Our agreement" in shown and "Phones away." in shown, viewer
        assert "1 member agreed" in shown and "Last revisited 2030-03-17" in shown
        assert "This meeting's topic" in shown and "Boundaries with families" in shown
        assert "Next meeting: 2030-03-17 17:46 (Europe/London)" in shown
    assert "Asked Sam for the slot" in text(regions(state, person(1))["meeting"])
    assert "Asked Sam for the slot" not in text(regions(state, person(0))["meeting"])
    on_screen = text(regions(state, SCREEN)["meeting"])
    assert "Person 1, from their journal" in on_screen and "Asked Sam for the slot" in on_screen

    # Past the check-in the agreement folds to its one line; the screen drops it.
    later = send(state, {"type": "next_phase"}, now=5)
    assert "Phones away." not in text(regions(later, person(0))["meeting"])
    assert "Our agreement" not in text(regions(later, SCREEN)["meeting"])
    assert "Asked Sam" not in text(regions(later, SCREEN)["meeting"])
    welsh = text(render_in(state, person(0), "cy"))
    assert "Ein cytundeb" in welsh and "Cyfarfod nesaf" in welsh


def render_in(state, viewer, lang: str) -> str:
    from app.live.htmx import render_regions
    return render_regions(state, viewer, 10.0, {}, lang=lang)["meeting"]


# ---------------------------------------------------------------- the page between meetings

def test_the_page_between_meetings_serves_members_and_the_organiser(http: httpx.Client) -> None:
    group = new_group(http)
    _, codes = closed_meeting(http, group)
    http.put(g(group, "/schedule"), headers=auth(group["group_key"]), json={"schedule": SCHEDULE})
    http.put(g(group, "/agreement"), headers=auth(group["group_key"]), json={"text": "Phones away."})
    shell = http.get(f"/meetings/{group['group_id']}")
    assert shell.status_code == 200 and "/static/js/pages/meetings.js" in shell.text and codes["Ana"] not in shell.text

    member = http.get(g(group, "/between.html?part=content"), headers=auth(codes["Ana"]))
    assert member.status_code == 200 and member.headers["cache-control"] == "no-store"
    page = member.text
    assert "Next meeting: 2030-01-10 14:00 (Europe/London)" in page and "data-calendar" in page
    assert 'data-api="POST /agreement/agree"' in page and "Phones away." in page
    assert f"How did “{CARRIED}” go?" in page and 'data-api="POST /journal"' in page
    assert 'data-api="PUT /agreement"' not in page and 'data-api="PUT /schedule"' not in page

    organiser = http.get(g(group, "/between.html?part=content&lang=es"), headers=auth(group["group_key"])).text
    assert 'data-api="PUT /agreement"' in organiser and 'data-api="PUT /schedule"' in organiser
    assert "Próxima reunión" in organiser and 'data-api="POST /journal"' not in organiser
    assert http.get(g(group, "/between.html"), headers=auth("nope")).status_code == 401

    record = http.get(g(group, "/record.html?part=content"), headers=auth(group["group_key"])).text
    assert "Next meeting: 2030-01-10 14:00 (Europe/London)" in record


def test_docs_give_the_agreements_template() -> None:
    from app.facilitation.between import TEMPLATE
    docs = (Path(__file__).resolve().parent.parent / "docs" / "groups.md").read_text()
    assert "\n".join("> " + line for line in TEMPLATE.splitlines()) in docs


def test_bad_input_between_meetings_is_a_clear_refusal(http: httpx.Client) -> None:
    group = new_group(http)
    _, codes = closed_meeting(http, group)
    key, ana = auth(group["group_key"]), auth(codes["Ana"])
    bad = [
        ("put", "/schedule", key, {"schedule": {**SCHEDULE, "nth": "second"}}),
        ("put", "/schedule", key, {"schedule": {**SCHEDULE, "interval": "1"}}),
        ("put", "/schedule", key, {"schedule": {**SCHEDULE, "starts": "2030-02-30"}}),
        ("put", "/schedule", key, {"schedule": {"every": "fortnight"}}),
        ("put", "/schedule", key, {"schedule": {**SCHEDULE, "tz": "../../etc/passwd"}}),
        ("post", "/schedule/moves", key, {"date": "2030-01-10", "to": "soon"}),
        ("post", "/schedule/moves", key, {"date": "2030-01-10"}),  # no schedule yet: 404
        ("put", "/agreement", key, {"text": "   "}),
        ("put", "/agreement", key, {"text": "x" * 4001}),
        ("post", "/agreement/agree", ana, {"version": 1}),  # nothing drafted: 404
        ("post", "/topics", ana, {"kind": "case", "text": ""}),
        ("post", "/topics", ana, {"kind": "case", "text": "x", "name": "  "}),
        ("put", "/topics/nope/mark", ana, {"like": True}),
        ("delete", "/topics/nope", ana, None),
        ("post", "/plan", key, {"topic_id": "nope"}),
        ("post", "/plan/consent", ana, {"agree": True}),
        ("post", "/journal", ana, {"text": ""}),
        ("post", "/journal", ana, {"text": "x" * 4001}),
        ("patch", "/journal/nope", ana, {"bring": True}),
        ("delete", "/journal/nope", ana, None),
    ]
    for method, path, who, body in bad:
        answer = http.request(method.upper(), g(group, path), headers=who, **({"json": body} if body is not None else {}))
        assert 400 <= answer.status_code < 500, (path, body, answer.status_code, answer.text)
        assert answer.json()["error"]["message"], path
    assert between(http, group, group["group_key"]) == between(http, {"group_id": group["group_id"]},
                                                                 group["group_key"])  # nothing changed
    assert between(http, group, group["group_key"])["schedule"] is None


def test_the_rotas_next_facilitator_organises_with_their_member_code(http: httpx.Client) -> None:
    group = new_group(http)
    room, codes = first_meeting(http, group)
    room.send({"type": "set_rota", "participant_ids": [room.pid("Cat"), room.pid("Ben")]})
    room.send({"type": "close"})
    info = http.get(f"/api/groups/{group['group_id']}", headers=auth(group["group_key"])).json()
    nxt = info["next_facilitator"]
    other = "Ben" if nxt == "Cat" else "Cat"
    assert nxt in ("Ben", "Cat")
    ok = http.put(g(group, "/agreement"), headers=auth(codes[nxt]), json={"text": "Phones away."})
    assert ok.status_code == 200 and ok.json()["agreement"]["version"] == 1
    assert http.put(g(group, "/agreement"), headers=auth(codes[other]), json={"text": "x"}).status_code == 403
    page = http.get(g(group, "/between.html?part=content"), headers=auth(codes[nxt])).text
    assert 'data-api="PUT /agreement"' in page and 'data-api="POST /journal"' in page  # organiser and member
