"""Recurring groups on the pages: each page's live regions show what the view allows,
and the start page keeps a group and starts its sessions with the key it showed once.

The regions are rendered exactly as the pages' socket pushes them (``app.live.htmx.render_regions``),
from states the core produced; the start page is tried over the real server, in both store modes.
"""

from __future__ import annotations

import re

import httpx
import pytest

from app.facilitation import carry
from app.facilitation.models import FACILITATOR, SCREEN
from app.live.htmx import render_regions
from tests.support.server import ServerProcess
from tests.support.core import person, send, settled
from tests.test_groups_core import check_in_with_p1_on_the_floor, propose, session


def regions(state, actor) -> dict[str, str]:
    return render_regions(state, actor, 10.0, {})


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# ---------------------------------------------------------------- live regions

def test_the_check_in_shows_the_speakers_carried_actions_on_their_phone_the_screen_and_console() -> None:
    state = check_in_with_p1_on_the_floor()
    owner = regions(state, person(1))["carried"]
    assert "Last time you planned… How did it go?" in owner and "Book supervision" in owner
    assert 'value="review_action"' in owner and 'hx-swap-oob="innerHTML"' in owner
    for viewer in (SCREEN, FACILITATOR):
        shown = text(regions(state, viewer)["carried"])
        assert "Last time Person 1 planned… How did it go?" in shown and "Ask about rota" in shown
    for other in (person(0), person(2)):
        page = " ".join(regions(state, other).values())
        assert "Book supervision" not in page and "Ask about rota" not in page


def test_an_owner_off_the_floor_sees_a_quiet_list_and_the_screen_shows_nothing() -> None:
    state = send(check_in_with_p1_on_the_floor(), {"type": "next_turn"}, now=3)
    owner = text(regions(state, person(1))["carried"])
    assert "What you carried from last time" in owner and "Last time you planned" not in owner
    assert "Book supervision" not in regions(state, SCREEN)["carried"]


def test_a_marked_action_shows_its_status_to_the_room() -> None:
    state = check_in_with_p1_on_the_floor()
    state = send(state, {"type": "review_action", "action_id": "c0", "status": "done"}, person(1))
    assert "Done: Book supervision (chosen)" in regions(state, person(1))["carried"]
    assert re.search(r"Book supervision <span class=\"badge\">done</span>", regions(state, SCREEN)["carried"])


def test_members_choose_per_action_what_to_carry_and_see_only_their_own() -> None:
    state = carry.welcome(carry.welcome(session(), "p0", "m0", ()), "p1", "m1", ())
    state = send(send(state, {"type": "start"}), {"type": "add_action", "text": "Book supervision"}, person(0))
    state = send(state, {"type": "add_action", "text": "Read the policy"}, person(1))
    mine = regions(state, person(0))
    assert "Take to the next session?" in mine["carry"] and "Carry forward: Book supervision" in mine["carry"]
    assert "Read the policy" not in mine["carry"]
    assert "Book supervision" not in mine["myactions"]  # listed once, with its choice, for a member
    action = state.actions[0].id
    state = send(state, {"type": "carry_action", "action_id": action, "carry": True}, person(0))
    assert "Carried to next time, tap to stop: Book supervision" in regions(state, person(0))["carry"]


def test_a_session_outside_a_group_offers_no_carrying() -> None:
    state = send(send(session(group=None), {"type": "start"}), {"type": "add_action", "text": "Book supervision"},
                 person(0))
    phone = regions(state, person(0))
    assert "Book supervision" in phone["myactions"] and "carry_action" not in phone["carry"]
    assert phone["carried"].count("<") == 2  # the empty container only


def test_the_ballot_asks_each_phone_once_and_the_console_sees_counts_only() -> None:
    state, theme = propose(send(session(), {"type": "start"}), kind="theme", text="Workload")
    state, change = propose(state, kind="change", text="Quiet handover room")
    state = send(state, {"type": "consent", "proposal_id": theme, "agree": True}, person(0))
    state = send(state, {"type": "consent", "proposal_id": change, "agree": False}, person(1))
    ballot = regions(state, person(0))["consent"]
    assert "Agree: Quiet handover room" in ballot and "Agree: Workload" not in ballot
    assert "You have answered" in ballot
    assert "0 agree · 0 object" in text(regions(state, FACILITATOR)["proposals"])  # counted at the folds
    panel = text(regions(settled(state), FACILITATOR)["proposals"])
    assert "Workload 1 agree · 0 object in the summary" in panel
    assert "Quiet handover room 0 agree · 1 object left out" in panel
    assert "Person" not in panel  # never who


def test_a_closed_session_offers_each_phone_its_own_summary_and_no_ballot() -> None:
    state, theme = propose(send(session(), {"type": "start"}), kind="theme", text="Workload")
    state = send(state, {"type": "close"})
    phone = regions(state, person(0))["consent"]
    assert "Your copy of the summary" in phone and 'value="consent"' not in phone
    assert 'href="/summary/ROOM22"' in phone and "key" not in phone  # groups.js adds the key at the click
    assert "Withdraw" not in regions(state, FACILITATOR)["proposals"]


# ---------------------------------------------------------------- the start page

@pytest.fixture()
def http(server: ServerProcess):
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        yield client


def create_group(http: httpx.Client, name: str = "Ward 4") -> str:
    page = http.post("/groups", data={"name": name})
    assert page.status_code == 201 and page.headers["cache-control"] == "no-store"
    assert "shown only this once" in page.text
    key = re.search(r'id="new-group-key" class="key-field" value="([^"]+)"', page.text).group(1)
    assert f'name="group_key" value="{key}"' in page.text  # filled into the session form
    return key


def test_the_start_page_keeps_a_group_whose_key_starts_its_sessions(http: httpx.Client) -> None:
    key = create_group(http)
    group_id, secret = key.split(".")
    assert http.get(f"/api/groups/{group_id}", headers={"Authorization": f"Bearer {secret}"}).json()["name"] == "Ward 4"
    started = http.post("/", data={"title": "March", "format": "check-in-out", "group_key": key})
    assert started.status_code == 303
    code = re.match(r"/console/([A-Z0-9]{6})#key=", started.headers["location"]).group(1)
    phone = http.get(f"/join/{code}").text
    assert f'data-group="{group_id}"' in phone and 'id="member_code"' in phone
    joined = http.post(f"/api/sessions/{code}/participants", json={"name": "Ana"}).json()
    assert joined["member_code"]


def test_a_wrong_group_key_starts_nothing_and_says_so(http: httpx.Client) -> None:
    key = create_group(http)
    for wrong in (key[:-2] + "xx", "nope", key.split(".")[1]):
        page = http.post("/", data={"title": "March", "format": "check-in-out", "group_key": wrong})
        assert page.status_code == 401 and "That group key is not right" in page.text
        assert page.headers["cache-control"] == "no-store"


def test_a_group_needs_a_name_and_a_one_off_session_has_no_member_code(http: httpx.Client) -> None:
    page = http.post("/groups", data={"name": "  "})
    assert page.status_code == 422 and "Give the group a name" in page.text
    started = http.post("/", data={"title": "One-off", "format": "check-in-out"})
    code = re.match(r"/console/([A-Z0-9]{6})", started.headers["location"]).group(1)
    phone = http.get(f"/join/{code}").text
    assert 'name="member_code"' not in phone and "data-group" not in phone  # no field for a member code
