"""A recurring group's record over the real server, in both store modes: the evaluation
asked at each check-out, the group's own statements, three meetings kept as counts only,
charts and a CSV with every cell below k suppressed, and erasing the record."""

from __future__ import annotations

import csv
import io
import math
import time

import httpx
import pytest

from tests.support.server import ServerProcess
from tests.test_groups_http import Room, auth, new_group

NAMES = ("Ana", "Ben", "Cat", "Dev")


@pytest.fixture()
def http(server: ServerProcess):
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        yield client


def meet(http: httpx.Client, group: dict, people: tuple[str, ...], scores: list[list[int]],
         notes: dict[str, str] | None = None, codes: dict[str, str] | None = None,
         show_after: str | None = None, title: str = "Monthly meeting") -> Room:
    created = http.post(f"/api/groups/{group['group_id']}/sessions", headers=auth(group["group_key"]),
                        json={"title": title, "format": "check-in-out"})
    assert created.status_code == 201, created.text
    room = Room(http, created.json())
    for name in people:
        room.join(name, (codes or {}).get(name))
    room.send({"type": "start"})
    room.send({"type": "start_round", "seconds_per_turn": 60})
    for _ in people:  # everyone speaks a moment, the first a little longer
        time.sleep(0.15)
        room.send({"type": "next_turn"})
    room.send({"type": "goto_phase", "phase_id": "check-out"})
    for name, s in zip(people, scores):
        note = (notes or {}).get(name, "")
        room.send({"type": "evaluate", "scores": s, "note": note}, name)
        if name == show_after:
            shown_spread(room, people.index(name) + 1)
    # The answers reach the room at its folds; the close shows the spread if it may.
    room.view_when(lambda v: v["evaluation"]["answered"] == len(scores))
    room.send({"type": "close"})
    return room


def shown_spread(room: Room, answered: int) -> dict:
    """The facilitator shows the spread once the room has counted ``answered`` answers."""
    room.view_when(lambda v: v["evaluation"]["answered"] == answered)
    room.send({"type": "show_evaluation"})
    return room.view()["evaluation"]


def get(http: httpx.Client, group: dict, path: str) -> httpx.Response:
    return http.get(f"/api/groups/{group['group_id']}{path}", headers=auth(group["group_key"]))


def test_an_identifying_free_text_line_is_refused_until_confirmed(http: httpx.Client) -> None:
    group = new_group(http)
    created = http.post(f"/api/groups/{group['group_id']}/sessions", headers=auth(group["group_key"]),
                        json={"title": "t", "format": "check-in-out"}).json()
    room = Room(http, created)
    room.join("Ana")
    room.send({"type": "start"})
    room.send({"type": "goto_phase", "phase_id": "check-out"})
    answer = http.post(f"/api/sessions/{room.code}/commands", headers=auth(room.people["Ana"]["token"]),
                       json={"type": "evaluate", "scores": [4, 4, 4], "note": "Call Mrs Okafor on 07700 900123"})
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "possible_identifier"
    assert room.view("Ana")["me"]["evaluation_answered"] is False  # nothing was kept


def test_a_group_that_met_three_times_shows_counts_only_with_cells_below_k_suppressed(http: httpx.Client) -> None:
    group = new_group(http)
    own = ["I could say what was hard", "We kept to time"]
    put = http.put(f"/api/groups/{group['group_id']}/evaluation", headers=auth(group["group_key"]),
                   json={"statements": own})
    assert put.status_code == 200 and put.json() == {"statements": own}
    assert get(http, group, "").json()["statements"] == own
    bad = http.put(f"/api/groups/{group['group_id']}/evaluation", headers=auth(group["group_key"]),
                   json={"statements": ["x" * 201]})
    assert bad.status_code == 422
    assert http.put(f"/api/groups/{group['group_id']}/evaluation", json={"statements": own}).status_code == 401

    titles = ["Handovers in winter", "Case review <b>Ward 7</b>", "=Working with families"]
    first = meet(http, group, NAMES, [[4, 4], [4, 4], [4, 2], [3, 5]], notes={"Ben": "Good to have time"},
                 title=titles[0])
    assert [s["text"] for s in first.view()["evaluation"]["statements"]] == own
    meet(http, group, NAMES[:3], [[5, 5], [5, 4], [4, 4]], title=titles[1])
    meet(http, group, NAMES[:2], [[1, 1], [2, 2]], title=titles[2])  # two people: below k = 3

    meetings = get(http, group, "/record").json()["meetings"]
    assert len(meetings) == 3
    one, two, three = meetings
    # Each meeting is labelled by its title too, opened with the group's key.
    assert [m["title"] for m in meetings] == titles
    assert one["attended"] == 4 and one["answered"] == 4 and 0 < one["evenness"] <= 1
    # Per statement a mean with noise in it (docs/groups.md), never a count of scores.
    for st in one["statements"] + two["statements"]:
        assert set(st) == {"text", "mean"} and 1 <= st["mean"] <= 5 and round(st["mean"], 1) == st["mean"]
    assert three["attended"] is None and three["answered"] is None and three["evenness"] is None
    assert all(s["mean"] is None for s in three["statements"])
    stored = str(meetings)
    assert not any(name in stored for name in NAMES) and "Good to have time" not in stored
    assert first.code not in stored

    csv_answer = get(http, group, "/record.csv")
    assert csv_answer.status_code == 200 and csv_answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv_answer.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(csv_answer.text)))
    assert rows[0] == ["date", "title", "format", "minutes", "attended", "evenness", "answered", "statement", "mean"]
    assert len(rows) == 1 + 3 * 2
    assert rows[1][1] == titles[0] and rows[3][1] == titles[1]
    assert rows[5][1] == "'" + titles[2]  # a title a spreadsheet would run is kept as text
    assert rows[1][4] == "4" and rows[1][6] == "4" and rows[1][7] == own[0]
    assert [float(r[8]) for r in rows[1:5]] == [st["mean"] for m in (one, two) for st in m["statements"]]
    assert rows[5][4:7] == ["<3", "<3", "<3"] and rows[5][8] == ""
    assert not any(name in csv_answer.text for name in NAMES)

    page = get(http, group, "/record.html?part=content")
    assert page.status_code == 200
    assert page.text.count("<svg") == 4  # attendance, evenness, one per statement
    assert 'class="bar suppressed"' in page.text and "fewer than 3, not shown" in page.text
    assert "random noise added" in page.text
    assert titles[0] in page.text and "Case review &lt;b&gt;Ward 7&lt;/b&gt;" in page.text  # as text, escaped
    assert "<b>Ward 7" not in page.text
    assert "<script" not in page.text and "style=" not in page.text
    assert not any(name in page.text for name in NAMES)
    assert get(http, group, "/record.html").text.count("<svg") == 4
    shell = http.get(f"/group/{group['group_id']}")
    assert shell.status_code == 200 and group["group_key"] not in shell.text and "record.js" in shell.text

    wrong = http.get(f"/api/groups/{group['group_id']}/record.csv", headers=auth("not the key"))
    assert wrong.status_code == 401

    erased = http.delete(f"/api/groups/{group['group_id']}/record", headers=auth(group["group_key"]))
    assert erased.status_code == 204
    assert get(http, group, "/record").json() == {"meetings": []}
    assert len(list(csv.reader(io.StringIO(get(http, group, "/record.csv").text)))) == 1
    # A late change to a session that closed before the erasure does not bring its row back.
    first.send({"type": "request_word"}, "Ana")
    assert get(http, group, "/record").json() == {"meetings": []}
    meet(http, group, NAMES[:3], [[3, 3], [3, 3], [3, 3]])
    assert len(get(http, group, "/record").json()["meetings"]) == 1


def test_a_group_can_go_back_to_the_formats_statements(http: httpx.Client) -> None:
    group = new_group(http)
    http.put(f"/api/groups/{group['group_id']}/evaluation", headers=auth(group["group_key"]),
             json={"statements": ["Only this"]})
    http.put(f"/api/groups/{group['group_id']}/evaluation", headers=auth(group["group_key"]),
             json={"statements": None})
    created = http.post(f"/api/groups/{group['group_id']}/sessions", headers=auth(group["group_key"]),
                        json={"title": "t", "format": "check-in-out"}).json()
    texts = [s["text"] for s in Room(http, created).view()["evaluation"]["statements"]]
    assert texts == ["I felt safe to speak", "I felt listened to", "This will help my practice"]


def test_the_red_team_gets_no_ones_scores_from_the_record_or_the_rooms_spread(http: httpx.Client) -> None:
    """The record against the room's last shown spread, and two meetings that differ by one
    person who answered, the others answering alike: read through the group key and the
    report link, as JSON and as CSV."""
    from tests.test_record_disclosure import EPS, likelihood

    group = new_group(http)
    report = http.post(f"/api/groups/{group['group_id']}/report-link", headers=auth(group["group_key"])).json()
    alike = [[4, 4, 3], [5, 4, 4], [3, 3, 3]]
    meet(http, group, NAMES[:3], alike)
    # Dev answers after the room was shown the others' spread: the close shows nothing more.
    late = meet(http, group, NAMES, alike + [[1, 1, 1]], show_after="Cat")
    room = late.view()["evaluation"]
    assert room["answered"] == 4 and room["in_spread"] == 3
    # Dev answers with the others, and the close shows all four.
    meet(http, group, NAMES, alike + [[1, 2, 5]])

    first, second, third = meetings = get(http, group, "/record").json()["meetings"]
    as_reader = http.get(f"/api/groups/{group['group_id']}/record", headers=auth(report["report_key"]))
    assert as_reader.json()["meetings"] == meetings  # the report link reads the same figures
    assert second["answered"] == room["in_spread"] == 3  # nothing the room was not shown
    assert third["answered"] == 4
    rows = list(csv.reader(io.StringIO(get(http, group, "/record.csv").text)))
    assert [float(r[8]) for r in rows[1:]] == [st["mean"] for m in meetings for st in m["statements"]]
    # Subtracting the first meeting from the third: every score Dev might have given explains
    # the published mean, none more than exp(epsilon) times better than another.
    for s, st in enumerate(third["statements"]):
        known = sum(a[s] for a in alike)
        odds = [likelihood(st["mean"], known + x, 4) for x in range(1, 6)]
        assert min(odds) > 0 and max(odds) <= math.exp(EPS) * min(odds) * (1 + 1e-9), (s, st)
    assert "counts" not in str(meetings) and rows[0][-1] == "mean"
