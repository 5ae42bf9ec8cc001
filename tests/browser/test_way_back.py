"""The facilitator never loses the room, in real Chromium.

A console tab closes: the start page on the same device lists the session and reopens its
console; the recovery link the console showed opens it in a fresh browser too. Revoking and
re-issuing that link closes the console still holding the old one. A co-facilitator's console
makes its own screen link. No page logs an error to the browser's console.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import absolute, create_session, open_console, watch_console

pytestmark = pytest.mark.store("redis")


def test_a_closed_console_comes_back_from_the_start_page_and_from_the_recovery_link(server, contexts, shots):
    base = server.base_url
    created = create_session(base, "Thursday supervision")
    code = created["code"]
    problems: list[str] = []
    laptop = watch_console(contexts(), problems)
    console = open_console(laptop, base, created)
    way_back = console.locator("#way-back")
    expect(way_back).to_be_visible()
    expect(way_back).to_contain_text("Keep this link")
    link = console.locator("#way-back-link").input_value()
    assert link.startswith(f"{base}/console/{code}#key=")
    shots(console, "way-back")
    console.close()

    # The same device: the start page lists the session and reopens its console.
    start = laptop.new_page()
    start.goto(base + "/")
    mine = start.locator("#my-sessions")
    expect(mine).to_be_visible()
    mine.get_by_role("link", name=f"Thursday supervision ({code})").click()
    expect(start).to_have_url(re.compile(f"/console/{code}#key="))
    expect(start.locator("#status")).to_have_text(re.compile("Not started|Lobby", re.IGNORECASE))
    expect(start.locator("#conn")).to_be_hidden()

    # Another device: the recovery link alone.
    elsewhere = watch_console(contexts(), problems).new_page()
    elsewhere.goto(link)
    expect(elsewhere.locator("#status")).not_to_have_text("Connecting…")
    expect(elsewhere.locator("#conn")).to_be_hidden()

    # The link may have leaked: revoke and re-issue it. The old link's console is closed.
    start.get_by_role("button", name="Revoke and re-issue").click()
    expect(elsewhere.locator("#conn")).to_contain_text("This link is not valid", timeout=10000)
    expect(start.locator("#way-back-link")).not_to_have_value(link)
    fresh = start.locator("#way-back-link").input_value()
    assert fresh.startswith(f"{base}/console/{code}#key=")
    expect(start.locator("#status")).not_to_have_text("Connecting…")
    expect(start.locator("#conn")).to_be_hidden()
    assert problems == []


def test_a_cofacilitator_makes_a_screen_link_and_copies_an_invite(server, contexts):
    base = server.base_url
    created = create_session(base, "Two facilitators")
    problems: list[str] = []
    lead = open_console(watch_console(contexts(permissions=["clipboard-read", "clipboard-write"]), problems), base, created)
    lead.get_by_label("Invite a co-facilitator").fill("Sam")
    lead.get_by_role("button", name="Invite", exact=True).click()
    invite = lead.locator("a.co-link")
    expect(invite).to_be_visible()
    row = invite.locator("xpath=..")
    row.get_by_role("button", name="Copy").click()
    expect(row).to_contain_text("Copied.")
    assert lead.evaluate("() => navigator.clipboard.readText()") == absolute(base, invite.get_attribute("href"))

    co = watch_console(contexts(), problems).new_page()
    co.goto(absolute(base, invite.get_attribute("href")))
    co.get_by_role("button", name="Make a screen link").click()
    screen_link = co.locator("#screen-link")
    expect(screen_link).to_be_visible()
    screen = contexts().new_page()
    screen.goto(absolute(base, screen_link.get_attribute("href")))
    expect(screen.locator("body")).to_contain_text(created["code"])
    expect(screen.locator("#conn")).to_be_hidden()
    assert problems == []
