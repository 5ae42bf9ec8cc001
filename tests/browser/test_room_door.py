"""Getting into the room in real Chromium: a code typed as people type it, a locked door, and leaving.

A phone types the code in small letters with a space (as the screen spaces it) and joins.
Then the facilitator locks the room: the next phone's join page says so before anyone types,
the phone asks to come in, the console shows who is waiting, and the one let in is in the
room. No page logs an error to the browser's console (a refused inline style included).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import create_session, open_console, watch_console

pytestmark = pytest.mark.store("redis")


def test_a_typed_code_joins_and_a_locked_room_lets_in_whoever_the_console_admits(server, contexts, shots):
    base = server.base_url
    created = create_session(base, "Door test")
    code = created["code"]
    problems: list[str] = []
    console = open_console(watch_console(contexts(), problems), base, created)

    # "abc 123"-style: small letters, a space in the middle.
    first = watch_console(contexts(phone=True), problems).new_page()
    first.goto(f"{base}/join")
    first.get_by_label("Session code").fill(f"{code[:3].lower()} {code[3:].lower()}")
    first.get_by_role("button", name="Continue").click()
    expect(first).to_have_url(f"{base}/join/{code}")
    first.get_by_label("Your name").fill("Ana")
    first.get_by_label(re.compile("keep what is said here confidential")).check()
    first.get_by_role("button", name="Join").click()
    expect(first.locator("#room")).to_be_visible()
    expect(console.locator("#people-h")).to_have_text("People (1)")

    # A phone whose join page opened while the room was open, and whose Join comes after the lock.
    slow = contexts(phone=True).new_page()
    slow.goto(f"{base}/join/{code}")
    expect(slow.locator("#door-note")).to_have_count(0)

    console.get_by_role("button", name=re.compile("Lock the room")).click()
    expect(console.locator("#people .door")).to_contain_text("Locked")

    contexts.allow("status of 409 (Conflict)")  # the refused join: the page then says why
    slow.get_by_label(re.compile("keep what is said here confidential")).check()
    slow.get_by_role("button", name="Join").click()
    expect(slow.locator("#door-note")).to_contain_text("locked this room")
    expect(slow.get_by_role("button", name="Ask to come in")).to_be_visible()

    late = watch_console(contexts(phone=True), problems).new_page()
    late.goto(f"{base}/join/{code.lower()}")
    # Said at load, before a name is typed or Join tapped.
    expect(late.locator("#door-note")).to_contain_text("locked this room")
    shots(late, "locked-join-page")
    late.get_by_label("Your name").fill("Ben")
    late.get_by_label(re.compile("keep what is said here confidential")).check()
    late.get_by_role("button", name="Ask to come in").click()
    expect(late.locator("#knock-status")).to_have_text("Waiting for the facilitator to let you in…")

    waiting = console.locator("#waiting")
    expect(waiting).to_contain_text("1 waiting to come in")
    expect(waiting).to_contain_text("Ben")
    shots(console, "console-waiting")
    waiting.get_by_role("button", name="Let Ben in").click()
    expect(late.locator("#room")).to_be_visible(timeout=10000)
    expect(late.locator("#status")).to_contain_text("you are Ben")
    expect(console.locator("#people-h")).to_have_text("People (2)")
    expect(console.locator("#waiting")).to_have_count(0)

    # Ana leaves for good: her phone offers nothing more to send.
    first.locator("details.leave > summary").click()
    first.get_by_role("button", name="Leave for good").click()
    expect(first.locator("#glance")).to_contain_text("You have left this session")
    for part in ("#fold-write", "#fold-actions", "#hand", "details.leave"):
        expect(first.locator(part)).to_be_hidden()
    assert problems == []
