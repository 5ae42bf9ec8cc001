"""A one-to-one session on two phones in real Chromium: a supervisor and a supervisee, a pair
that meets again. Each guided question comes alone on both phones, in turn; a third phone is
turned away; each writes an agreed action with a date to come back to it and carries it; after
the close both download the shared record with both actions, and each has the session in their
own CPD record, which one of them then erases. Nothing of a group's furniture shows: no raised
hands, no anonymous writing, ballot or thresholds, and the words are for two; the console
suggests what each moment asks."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import (
    absolute,
    axe_violations,
    expect_suggestion,
    fill,
    join,
    open_console,
    send,
)
from tests.test_groups_http import auth, new_group

pytestmark = pytest.mark.store("redis")

SAM, JO = "Sam Adeyemi", "Jo Park"
QUESTIONS = ["How did the actions you agreed last time go?", "What happened?", "What was hard?",
             "What would you do differently?", "What have you learned?",
             "What will you do, and by when shall we come back to it?"]
ACTIONS = {SAM: "Book the team debrief", JO: "Read the lone-working policy"}


def test_a_one_to_one_on_two_phones(server, contexts, shots):
    base = server.base_url
    with httpx.Client(base_url=base, timeout=10) as http:
        pair = new_group(http, "Supervision: Sam and Jo")
        created = http.post(f"/api/groups/{pair['group_id']}/sessions", headers=auth(pair["group_key"]),
                            json={"title": "Supervision, January", "format": "one-to-one"}).json()
    token = absolute(base, created["console_url"]).split("#key=")[1].split("&")[0]

    def command(body: dict) -> None:
        httpx.post(f"{base}/api/sessions/{created['code']}/commands", headers=auth(token), json=body).raise_for_status()

    phones = {name: join(contexts(phone=True), base, created["code"], name) for name in (SAM, JO)}
    console = open_console(contexts(), base, created)

    def view() -> dict:
        return httpx.get(f"{base}/api/sessions/{created['code']}", headers=auth(token)).json()

    # A third phone is turned away: the session admits two people, and its join page says so
    # before anyone types a name.
    third = contexts(phone=True).new_page()
    third.goto(f"{base}/join/{created['code']}")
    expect(third.locator("#door-note")).to_have_text("This room is full: nobody else can join.")
    expect(third.get_by_label("Your name")).to_be_hidden()
    expect(third.locator("#room")).to_be_hidden()
    shots(third, "third-phone-refused")

    expect_suggestion(console, view())
    command({"type": "start"})
    for phone in phones.values():  # between two people nothing written could be anonymous: not offered
        expect(phone.locator("#fold-write")).to_be_hidden()
    # No group furniture on the console either: no anonymous queue or its threshold, no ballot.
    expect(console.locator("#items")).to_contain_text("Nothing is written anonymously in a session of two")
    expect(console.locator("main")).not_to_contain_text("once at least")
    expect(console.get_by_role("button", name="Ask the group")).to_have_count(0)
    for n, question in enumerate(QUESTIONS):
        for name, phone in phones.items():
            prompt = phone.locator("p.prompt")
            expect(prompt).to_have_text(question)
            expect(prompt).to_have_count(1)  # one question at a time
            expect(phone.get_by_role("button", name="Raise my hand")).to_have_count(0)  # two people: no hands
        expect_suggestion(console, view())
        if n < len(QUESTIONS) - 1:
            command({"type": "start_round", "seconds_per_turn": 120})
            mine = phones[SAM].locator("#glance[data-my-turn='1'], #glance[data-up-next='1']")
            expect(mine).to_have_count(1)
            first, second = (SAM, JO) if phones[SAM].locator("#glance").get_attribute("data-my-turn") == "1" else (JO, SAM)
            expect(phones[first].locator("#glance")).to_contain_text("Your turn")
            expect(phones[second].locator("#glance")).to_contain_text(f"{first} is speaking")
            if n == 1:
                shots(phones[first], "phone-question-my-turn")
                assert axe_violations(phones[first]) == []
            expect_suggestion(console, view())
            command({"type": "next_turn"})  # then the other answers the same question
            expect(phones[second].locator("#glance")).to_contain_text("Your turn")
            command({"type": "next_phase"})

    # Agreed actions, each with a date to come back to it, carried to the next meeting.
    for name, phone in phones.items():
        fill(phone.get_by_label("What will you do?"), ACTIONS[name])
        phone.get_by_label(re.compile("By when")).fill("2027-01-10")
        expect(phone.locator("#act-note")).to_have_text("Actions carry your name: you both see them.")
        send(phone, "Save action")
        expect(phone.locator("#main")).to_contain_text("Action saved. You both see it with your name.")
        phone.locator("#carry").get_by_role("button", name=f"Carry forward: {ACTIONS[name]}").click()
        expect(phone.locator("#carry").get_by_role(
            "button", name=f"Carried to next time, tap to stop: {ACTIONS[name]}")).to_be_visible()
    shots(phones[JO], "phone-agreed-actions")
    command({"type": "close"})

    # The shared record: both phones download it with both agreed actions and their dates.
    for name, phone in phones.items():
        with phone.expect_download() as info:
            phone.get_by_role("button", name="Download (Markdown)").click()
        shared = Path(info.value.path()).read_text(encoding="utf-8")
        assert "## Agreed actions, and when we come back to them" in shared
        for text in ACTIONS.values():
            assert f"{text} (by 2027-01-10)" in shared
        # ...and the session is in each one's own CPD record, as a one-to-one.
        with phone.expect_popup() as popup:
            phone.get_by_role("link", name="Open my CPD record").click()
        mine = popup.value
        expect(mine.locator("table.cpd-attendance tbody tr")).to_have_count(1)
        expect(mine.locator("#cpd")).to_contain_text("One-to-one reflective session")
        expect(mine.locator("#cpd")).to_contain_text("one-to-one supervision or mentoring")
        expect(mine.locator("#cpd")).to_contain_text(ACTIONS[name])
        other = ACTIONS[JO if name == SAM else SAM]
        expect(mine.locator("#cpd")).not_to_contain_text(other)
        if name == JO:
            shots(mine, "cpd-one-to-one")
            # A member can erase their own CPD record, for good.
            zone = mine.locator("#cpd-erase-zone")
            zone.get_by_text("Erase my CPD record…").click()
            zone.get_by_label("I understand that my CPD record is erased for good.").check()
            zone.get_by_role("button", name="Yes, erase my CPD record").click()
            expect(mine.locator("#cpd-note")).to_have_text("Your CPD record in this group is erased.")
            expect(mine.locator("#cpd")).to_contain_text("No meeting is recorded yet.")
