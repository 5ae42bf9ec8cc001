"""A group between two meetings in real Chromium: the organiser drafts the agreement from its
template and sets the rhythm on the page the group's record links to; members agree to it on
their phones; one offers a case anonymously, another marks it, the organiser settles it and its
author consents to present it; between meetings her journal asks how her carried action went
and she brings an entry to the check-in. At the second meeting the check-in shows the
agreement, the agreed case (with her as the presenter), the next date, and her own words."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import absolute, axe_violations, fill, join, open_console, send

pytestmark = pytest.mark.store("memory")

ASHA, BEN = "Asha Verma", "Ben Okafor"
CARRIED = "Ask for a debrief after night shifts"
CASE = "A discharge that went wrong on a Friday"
WORDS = "I asked for the debrief and it helped more than I expected"


def meeting(base: str, group: dict, title: str) -> dict:
    r = httpx.post(f"{base}/api/groups/{group['group_id']}/sessions", json={"title": title, "format": "balint"},
                   headers={"Authorization": f"Bearer {group['group_key']}"})
    r.raise_for_status()
    return r.json()


def between(page: Page, base: str, group_id: str) -> Page:
    page.goto(f"{base}/meetings/{group_id}")
    expect(page.locator("#meetings h1")).to_have_text("Between meetings")
    return page


def test_a_group_agrees_between_meetings_and_the_check_in_shows_it(server, contexts, shots):
    base = server.base_url
    group = httpx.post(f"{base}/api/groups", json={"name": "Ward 4 reflective practice"}).json()
    gid = group["group_id"]

    # The organiser: the group's record page links to the page between meetings, with the key.
    organiser = contexts().new_page()
    organiser.goto(f"{base}/group/{gid}#key={gid}.{group['group_key']}")
    organiser.locator("#record-meetings").click()
    expect(organiser.locator("#meetings h1")).to_have_text("Between meetings")
    expect(organiser.get_by_label("Draft it, starting from this template")).to_contain_text("What is said here stays here")
    organiser.get_by_role("button", name="Save the agreement").click()
    expect(organiser.locator("#m-agreement")).to_contain_text("0 members agreed")
    organiser.get_by_label("From").fill("2030-01-01")
    organiser.get_by_role("button", name="Save the schedule").click()
    expect(organiser.locator("#next-meeting")).to_have_text("Next meeting: 2030-01-10 14:00 (Europe/London)")
    assert axe_violations(organiser) == []
    shots(organiser, "between-organiser")

    # ---------------------------------------------------------------- meeting 1
    first = meeting(base, group, "Ward 4, January")
    console = open_console(contexts(), base, first)
    phones = {name: join(contexts(phone=True), base, first["code"], name) for name in (ASHA, BEN)}
    expect(phones[ASHA].locator("#g-meeting")).to_contain_text("Our agreement")
    expect(phones[ASHA].locator("#next-meeting")).to_contain_text("2030-01-10 14:00")
    send(console, "Start the session")
    fill(phones[ASHA].get_by_label("What will you do?"), CARRIED)
    send(phones[ASHA], "Save action")
    phones[ASHA].locator("#carry").get_by_role("button", name=f"Carry forward: {CARRIED}").click()
    expect(phones[ASHA].get_by_role("button", name=f"Carried to next time, tap to stop: {CARRIED}")).to_be_visible()
    httpx.post(f"{base}/api/sessions/{first['code']}/commands", json={"type": "close"},
               headers={"Authorization": f"Bearer {first['facilitator_token']}"}).raise_for_status()

    # ---------------------------------------------------------------- between meetings, on the phones
    pages = {name: between(phone.context.new_page(), base, gid) for name, phone in phones.items()}
    for page in pages.values():
        page.get_by_role("button", name="I agree").click()
        expect(page.locator("#i-agreed")).to_be_visible()
    asha, ben = pages[ASHA], pages[BEN]
    asha.get_by_label("Offer", exact=True).select_option("case")
    asha.get_by_label("In a line (no names or details that identify anyone)").fill(CASE)
    asha.get_by_role("button", name="Offer it to the group").click()  # no name: anonymous
    expect(asha.locator("#m-topics")).to_contain_text(CASE)
    ben.reload()
    expect(ben.locator("#m-topics")).to_contain_text("anonymous")
    ben.get_by_role("button", name="I would like this").click()
    expect(ben.locator("#m-topics")).to_contain_text("1 would like it")

    organiser.reload()
    expect(organiser.locator("#m-agreement")).to_contain_text("2 members agreed")
    organiser.get_by_role("button", name="Settle for the next meeting").click()
    expect(organiser.locator("#plan-consent")).to_have_text("Waiting for its author to agree to present it.")
    asha.reload()
    asha.get_by_role("button", name="I will present it").click()
    expect(asha.locator("#plan-consent")).to_have_text("The presenter has agreed to present it.")

    # Her journal asks about the action she carried; she brings an entry to the check-in.
    expect(asha.locator("#journal-prompts")).to_contain_text(f"How did “{CARRIED}” go?")
    expect(asha.locator("#journal-prompts")).to_contain_text(CASE)
    asha.get_by_label("New entry").fill(WORDS)
    asha.get_by_label("Bring it to the next check-in (with my name)").check()
    asha.get_by_role("button", name="Save the entry").click()
    expect(asha.locator(".journal-entries")).to_contain_text(WORDS)
    assert axe_violations(asha) == []
    shots(asha, "between-member-journal")

    # ---------------------------------------------------------------- meeting 2
    second = meeting(base, group, "Ward 4, February")
    console2 = open_console(contexts(), base, second)
    phones2 = {name: join(phones[name].context, base, second["code"], name) for name in (ASHA, BEN)}
    for phone in phones2.values():  # recognised by the code each phone kept
        expect(phone.locator("#g-meeting")).to_contain_text("This meeting's case")
        expect(phone.locator("#g-meeting")).to_contain_text(CASE)
    send(console2, "Start the session")
    for page in (phones2[BEN], console2):
        region = page.locator("#g-meeting")
        expect(region).to_contain_text("Our agreement")
        expect(region).to_contain_text("What is said here stays here")
        expect(region).to_contain_text("2 members agreed")
        expect(region).to_contain_text("Next meeting: 2030-01-10 14:00 (Europe/London)")
    expect(phones2[ASHA].locator("#brought")).to_contain_text(WORDS)
    expect(phones2[BEN].locator("#g-meeting")).not_to_contain_text(WORDS)
    view = httpx.get(f"{base}/api/sessions/{second['code']}",
                     headers={"Authorization": f"Bearer {second['facilitator_token']}"}).json()
    asha_id = next(p["id"] for p in view["participants"] if p["name"] == ASHA)
    assert view["presenter_id"] == asha_id, "the session opened with the presenter who consented"
    screen = contexts().new_page()
    screen.goto(absolute(base, second["screen_url"]))
    console2.get_by_role("button", name=f"Give the turn to {ASHA}").first.click()
    expect(screen.locator("#g-meeting")).to_contain_text(f"{ASHA}, from their journal")
    expect(screen.locator("#g-meeting")).to_contain_text(WORDS)
    shots(phones2[BEN], "check-in-agreement")
    shots(screen, "check-in-brought-words")
