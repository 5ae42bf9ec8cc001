"""Two facilitators in real Chromium: the lead invites a co-facilitator from the console, the
lead's console is closed mid-round, the round's turns go on ending on the server's time, and
the co-facilitator's console says it is leading now and moves the turn on.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import absolute, create_session, join, open_console

pytestmark = pytest.mark.store("redis")

NAMES = ["Ana", "Ben", "Cleo"]


def holder(console: Page) -> str:
    return console.locator("#floor .holder strong").inner_text()


def test_the_cofacilitator_takes_over_when_the_leads_console_closes(server, contexts, shots):
    base = server.base_url
    created = create_session(base, "Thursday supervision")
    code = created["code"]
    lead = open_console(contexts(), base, created)
    expect(lead.locator("#lead-line")).to_have_text("You are leading.")

    # The lead invites Sam from the console; the reply shows Sam's link this once.
    lead.get_by_label("Invite a co-facilitator").fill("Sam")
    lead.get_by_role("button", name="Invite", exact=True).click()
    link = lead.locator("a.co-link")
    expect(link).to_have_text("Sam's console link")
    co_url = link.get_attribute("href")
    assert co_url and co_url.startswith(f"/console/{code}#key=")
    shots(lead, "lead-invited")

    co = contexts().new_page()
    co.goto(absolute(base, co_url))
    expect(co.locator("#lead-line")).to_have_text("The facilitator is leading.")
    expect(lead.locator("#cofacilitation .cofacilitators")).to_contain_text("Sam")
    expect(lead.locator("#cofacilitation .cofacilitators")).to_contain_text("console open")

    phones = [join(contexts(phone=True), base, code, name) for name in NAMES]
    expect(lead.locator("#people-h")).to_have_text("People (3)")

    lead.locator("#c-start").click()
    expect(lead.locator("#status")).to_have_text(re.compile("Running", re.I))
    lead.get_by_label("Seconds per turn").fill("3")
    lead.locator("#c-round").click()
    expect(co.locator("#floor .holder")).to_contain_text("has the floor")
    first = holder(co)
    # Closing stays with the lead: the co's console says so instead of offering it.
    lead_only = "Only the facilitator, or whoever they hand the lead to, can close the session; only the facilitator can erase it."
    expect(co.locator("#lead-only")).to_have_text(lead_only)
    expect(co.locator("#close-zone")).to_have_count(0)
    expect(lead.locator("#seat-links")).to_contain_text("Sam's console link: given by you")

    # Mid-round, the lead's console page closes (a laptop lid, a dropped link).
    lead.close()
    expect(co.locator("#lead-line")).to_have_text("You are leading.", timeout=10000)
    # Sam carries on, but closing and erasing stay with the host, who did not hand them over.
    expect(co.locator("#lead-only")).to_have_text(lead_only)
    expect(co.locator("#close-zone")).to_have_count(0)
    expect(co.locator("#erase-zone")).to_have_count(0)
    shots(co, "co-leading")

    # The turns keep ending on the server's timer: nobody presses anything.
    expect(co.locator("#floor .holder strong")).not_to_have_text(first, timeout=10000)
    second = holder(co)
    expect(phones[0].locator("#main")).to_contain_text(second)

    # The co-facilitator moves the turn on by hand, and leads the rest (here: closing).
    co.locator("#c-next").click()
    expect(co.locator("#floor .holder strong")).not_to_have_text(second, timeout=4000)
    shots(co, "co-moved-on")
    for phone in phones:
        expect(phone.locator("#status")).not_to_have_text("Connecting…")
    shots(phones[0], "phone")

    # The old lead comes back: a co-facilitator now, until handed the lead again.
    back = open_console(contexts(), base, created)
    expect(back.locator("#lead-line")).to_have_text("Sam is leading.")
    expect(back.get_by_role("button", name="Take the lead back")).to_be_visible()  # the host is never locked out
    co.get_by_role("button", name="Hand the lead back to the facilitator").click()
    expect(back.locator("#lead-line")).to_have_text("You are leading.")
    expect(co.locator("#lead-line")).to_have_text("The facilitator is leading.")
    shots(back, "lead-back")


def test_a_participant_handed_the_facilitation_opens_the_console_from_their_phone(server, contexts, shots):
    base = server.base_url
    created = create_session(base, "Peer-led group")
    code = created["code"]
    host = open_console(contexts(), base, created)
    phone_ctx = contexts(phone=True)
    ana = join(phone_ctx, base, code, "Ana")
    join(contexts(phone=True), base, code, "Ben")
    expect(host.locator("#people-h")).to_have_text("People (2)")
    host.locator("#c-start").click()

    host.get_by_label("Hand the facilitation to a participant").select_option(label="Ana")
    host.get_by_role("button", name="Hand over", exact=True).click()
    expect(host.locator("#lead-line")).to_have_text("Ana is leading.")
    expect(ana.locator("#facilitating")).to_contain_text("You have been handed the facilitation.")
    shots(ana, "phone-handed")

    # Her phone opens the console with its own key: no link with a token was shown to anyone.
    assert ana.evaluate("code => localStorage.getItem('tp:token:' + code)", code) not in host.content()
    with phone_ctx.expect_page() as opened:
        ana.get_by_role("link", name="Open the console").click()
    console = opened.value
    expect(console.locator("#lead-line")).to_have_text("You are leading.")
    console.get_by_label("Seconds per turn").fill("30")
    console.locator("#c-round").click()
    expect(host.locator("#floor .holder")).to_contain_text("has the floor")
    shots(console, "peer-console")
    # She still takes part: her phone shows the round and she can pass her turn when it comes.
    expect(ana.locator("#status")).not_to_have_text("Connecting…")

    # The host takes the facilitation back: her console stops, her phone goes on.
    host.get_by_role("button", name="Take the facilitation back").click()
    expect(host.locator("#lead-line")).to_have_text("You are leading.")
    expect(ana.locator("#facilitating")).not_to_contain_text("handed the facilitation")
    expect(console.locator("#conn")).to_contain_text("This link is not valid for this session.", timeout=8000)
    shots(console, "peer-console-ended")
