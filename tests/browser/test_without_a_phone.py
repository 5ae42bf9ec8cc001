"""Someone without a phone, in real Chromium: the facilitator adds Dev by
name from the console; Dev takes a turn in the round like the two phones, then from the queue
once the facilitator raises Dev's hand, and Dev's floor time shows. A note from Dev's paper,
typed in at the console, is revealed with the others, with nothing saying whose or from paper."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import create_session, fill, join, open_console

pytestmark = pytest.mark.store("redis")


def test_a_facilitator_runs_a_round_and_the_queue_with_someone_without_a_phone(server, contexts):
    base = server.base_url
    created = create_session(base, "Ward")
    console = open_console(contexts(), base, created)
    errors: list[str] = []
    console.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    ana = join(contexts(phone=True), base, created["code"], "Ana")
    join(contexts(phone=True), base, created["code"], "Ben")

    adding = console.locator("#add-phoneless")
    adding.locator("summary").click()
    expect(adding).to_contain_text("anyone can type it in as a note from paper")
    fill(adding.get_by_label("Their name"), "Dev")
    adding.get_by_role("button", name="Add").click()
    dev = console.locator("#people li", has_text="Dev")
    expect(dev).to_contain_text("no phone")

    console.get_by_role("button", name="Start the session").click()
    fill(console.get_by_label("Seconds per turn"), "30")
    console.locator("#c-round").click()
    expect(ana.locator("#glance")).to_contain_text("Your turn")
    for _ in range(2):  # Ana's turn, then Ben's: Dev's comes in the round's order
        console.get_by_role("button", name=re.compile("^Next turn")).click()
    expect(console.locator("#floor")).to_contain_text("Dev")
    console.wait_for_timeout(1200)
    console.get_by_role("button", name=re.compile("^Next turn")).click()  # the round ends
    expect(console.locator("#floor")).not_to_contain_text("Dev")
    expect(dev).not_to_contain_text("0:00")  # Dev's floor time shows

    # From the queue: Dev raises a hand in the room; the facilitator raises it here.
    dev.get_by_role("button", name="Raise Dev's hand: they raised it in the room").click()
    expect(console.locator("#queue")).to_contain_text("Dev")
    console.locator("#queue").get_by_role("button", name="Give the turn to Dev").click()
    expect(console.locator("#floor")).to_contain_text("Dev")

    # A note from Dev's paper, typed in at the console.
    paper = console.locator("#paper-item")
    paper.locator("summary").click()
    fill(paper.get_by_label("What is written on the paper"), "Who covers nights?")
    paper.get_by_role("button", name="Send").click()
    expect(paper.get_by_label("What is written on the paper")).to_have_value("")
    assert errors == [], errors
