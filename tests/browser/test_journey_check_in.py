"""A check-in and check-out session walked through in real Chromium, on the console, the
screen and four phones (one with a name too long to break, one in another time zone without
vibration), from the join form to the erasure; what each phase checks is in
tests/browser/journey.py.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from app.pages.regions import YOU_ARE, apply_viewer
from tests.browser.helpers import axe_all, expect_suggestion, fill
from tests.browser.journey import LONG_NAME, NO_VIBRATION, Room, in_first_screen, rate, sounds, write

pytestmark = pytest.mark.store("redis")


def test_check_in_and_check_out(server, contexts, shots):
    room = Room(server, contexts, shots, "Tuesday check-in", "check-in-out")
    console = room.console
    joining = contexts(phone=True).new_page()  # the join form itself, before anyone is in
    joining.goto(f"{room.base}/join/{room.code}")
    expect(joining.get_by_role("button", name="Join")).to_be_visible()
    assert axe_all(joining) == []
    shots(joining, "join-form")
    asha = room.join("Asha")
    ben = room.join("Ben", NO_VIBRATION, timezone_id="Pacific/Auckland", locale="en-GB")
    long = room.join(LONG_NAME)
    dana = room.join("Dana")
    screen = room.open_screen()

    # The status line is the room's, the same HTML on every phone; each phone's name is its
    # own data, which its script applies as app/pages/regions.py's apply_viewer states it.
    for name, phone in (("Asha", asha), (LONG_NAME, long)):
        own = f'<div id="viewer" hidden data-name="{html.escape(name)}"></div>'  # as the phone is sent it
        applied = apply_viewer({"status": YOU_ARE, "viewer": own}, "you are %(name)s")["status"]
        expect(phone.locator("#status [data-you-are]")).to_have_text(html.unescape(re.sub(r"<[^>]+>", "", applied)))

    # The lobby: the screen shows the code, the QR code and how many have joined.
    expect(screen.locator("#stage")).to_have_text("4 people have joined")
    expect(screen.locator(".huge-code")).to_have_text(room.code)
    expect(screen.locator(".qr-box svg")).to_be_visible()
    expect(asha.locator("#glance")).to_contain_text("Waiting for the start")
    room.phase("lobby", {"Asha": asha.locator("#glance-h")})

    # A removed phone sees that it was removed, cannot join afresh, and comes back when let in.
    console.locator("#people summary[aria-label='Remove Dana…']").click()
    console.get_by_role("button", name="Remove Dana").click()
    expect(dana.locator("#removed-panel")).to_be_visible()
    expect(dana.locator("#removed-panel")).to_contain_text("The facilitator removed you")
    dana.reload()
    expect(dana.locator("#removed-panel")).to_be_visible()
    expect(dana.locator("#join-form")).to_be_hidden()
    expect(dana.locator("#room")).to_be_hidden()
    assert axe_all(dana) == []
    shots(dana, "removed")
    console.get_by_role("button", name="Let Dana back in").click()
    expect(dana.locator("#room")).to_be_visible(timeout=12000)
    expect(console.locator("#people")).to_contain_text("People (4)")

    # Check-in: the wellbeing scale first on every phone, the prompt on the screen.
    console.get_by_role("button", name="Start the session").click()
    expect(screen.locator("#stage")).to_contain_text("How are you arriving today?")
    rate(asha, 4)
    rate(long, 3)
    room.phase("check-in", {"Ben": "Rate 3 of 5", "Dana": "Rate 3 of 5"})
    rate(ben, 2)
    rate(dana, 5)

    # Sound is off until switched on, and the screen remembers it. The switch is out of the
    # room's view until the operator's pointer nears the bottom edge.
    toggle = screen.get_by_role("button", name=re.compile("^Sound"))
    expect(toggle).to_have_text("Sound: off")
    expect(toggle).not_to_be_in_viewport()
    viewport = screen.viewport_size or {"width": 1280, "height": 720}
    screen.mouse.move(viewport["width"] / 2, viewport["height"] - 5)
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    screen.reload()
    expect(screen.get_by_role("button", name=re.compile("^Sound"))).to_have_text("Sound: on")

    # The round: your turn first on the phone; Give turn and Raise my hand only where accepted.
    # Turns of 35 s: the room's check below (screenshots and axe on every page) runs inside
    # Asha's turn, before its ten-second warning, on a busy machine too.
    fill(console.get_by_label("Seconds per turn"), "35")
    console.locator("#c-round").click()
    expect(asha.locator("#glance")).to_contain_text("Your turn")
    expect(asha.locator("#hand button")).to_have_count(0)
    expect(console.get_by_role("button", name=re.compile("^Give the turn"))).to_have_count(0)
    expect(console.locator("#people")).to_contain_text("During a round, turns go in its order")
    expect(ben.locator("#glance")).to_contain_text("Up next")
    expect(ben.locator("#glance")).to_have_class(re.compile(r"\bcue\b"))  # no vibration on this phone: a visual cue
    assert asha.evaluate("() => window.tpVibrations") == [[200, 100, 200]]
    expect(screen.locator("#stage")).to_contain_text("Asha")
    expect(screen.locator("#stage")).to_contain_text("How are you arriving today?")
    screen.wait_for_function("() => (window.tpWakeLocks || []).includes('lock')")
    room.phase("check-in-round", {"Asha": "Done speaking"})
    # The warning comes with ten seconds of Asha's turn left: what follows has those ten seconds.
    screen.wait_for_function("() => (window.tpHeard || []).includes('warning')", timeout=35000)
    assert "chime" not in sounds(screen)

    # A pass can be taken back for a few seconds, in the place where Pass was.
    asha.locator("#p-pass").click()
    expect(ben.locator("#glance")).to_contain_text("Your turn")
    in_first_screen(asha, "Undo my pass")
    asha.get_by_role("button", name="Undo my pass").click()
    expect(asha.locator("#glance")).to_contain_text("Your turn")
    expect(ben.locator("#glance")).to_contain_text("Up next")
    asha.get_by_role("button", name="Done speaking").click()
    expect(ben.locator("#glance")).to_contain_text("Your turn")
    screen.wait_for_function("() => (window.tpHeard || []).includes('chime')")
    long.wait_for_function("() => window.tpVibrations.length >= 1")  # up next after Ben
    for phone in (ben, long, dana):
        expect(phone.locator("#glance")).to_contain_text("Your turn")
        phone.get_by_role("button", name="Done speaking").click()
    expect(console.locator("#round")).to_contain_text("No round running")
    expect_suggestion(console, room.view())  # the round has run: move on, not start it again
    screen.wait_for_function("() => (window.tpWakeLocks || []).includes('release')")

    # Open discussion: Raise my hand first; the screen shows the hands.
    room.next_phase("Open discussion")
    in_first_screen(ben, "Raise my hand")
    ben.get_by_role("button", name="Raise my hand").click()
    expect(screen.locator("#stage")).to_contain_text("Hands up")
    expect(screen.locator("#stage")).to_contain_text("Ben")
    # The guard's warning sits beside its box, with both choices; the text stays until accepted.
    flagged = "Could we call the ward on 07700 900123 after hard shifts?"
    fill(long.get_by_label("Your question or feedback"), flagged)
    long.locator("#send-item").click()
    warning = long.locator("#write-form .replies")
    expect(warning).to_contain_text("a phone number")
    expect(warning).not_to_contain_text("confirmed")
    expect(warning.get_by_role("button", name="Edit it")).to_be_visible()
    expect(long.get_by_label("Your question or feedback")).to_have_value(flagged)
    warning.get_by_role("button", name="Send as it is").click()
    expect(warning).to_contain_text("Nobody can see who wrote it")
    expect(long.get_by_label("Your question or feedback")).to_have_value("")
    write(asha, "W" * 1000)  # one unbroken word of the longest length allowed
    expect(console.locator("#items")).to_contain_text("2 questions waiting")
    console.get_by_role("button", name="Reveal questions").click()
    beside = console.locator("#items + .replies")
    expect(beside).to_contain_text("Only a few questions are waiting")
    beside.get_by_role("button", name="Reveal anyway").click()
    expect(screen.locator("#items")).to_contain_text(flagged)
    console.get_by_role("button", name="Give the turn to Ben").first.click()
    expect(ben.locator("#glance")).to_contain_text("Your turn")
    expect(ben.locator("#hand button")).to_have_count(0)
    room.phase("discussion", {"Ben": "Done speaking", "Asha": "Raise my hand"})

    # Back a phase and a jump from the timeline; entering a phase ends the turn.
    console.get_by_role("button", name=re.compile("^Back to the previous phase")).click()
    expect(console.locator("#timeline [aria-current=step]")).to_contain_text("Check-in")
    expect(ben.locator("#glance")).not_to_contain_text("Your turn")
    console.get_by_role("button", name="Go to phase 3: Check-out").click()
    expect(console.locator("#timeline [aria-current=step]")).to_contain_text("Check-out")
    expect(screen.locator("#stage")).to_contain_text("One thing I take away")
    room.phase("check-out", {"Asha": "Rate 4 of 5", "Ben": "Rate 4 of 5"})

    # Close: confirmed first; then every page says when it is erased, in the viewer's own time.
    room.close()
    erase_at = datetime.fromtimestamp(room.view()["closed_at"] + 24 * 3600, ZoneInfo("Pacific/Auckland"))
    expect(ben.locator(".erase-note")).to_contain_text(erase_at.strftime("%H:%M"))
    expect(ben.locator(".erase-note")).not_to_contain_text("UTC")
    in_first_screen(ben, "Download (Markdown)")
    expect(asha.locator("#write-form")).to_be_hidden()
    expect(asha.locator("#hand button")).to_have_count(0)
    expect(screen.locator("#stage")).to_contain_text("Thank you")
    expect(screen.locator(".erase-note")).to_be_visible()
    for text in ("Ben", "Asha", flagged, "W" * 50):
        expect(screen.locator("main")).not_to_contain_text(text)
    expect(console.locator(".erase-note")).to_be_visible()
    room.phase("closed", {"Asha": asha.locator("#glance-h")})

    # Erase now, from the console: every page then says the session is gone.
    console.get_by_text("Erase everything now…").click()
    console.get_by_role("button", name="Yes, erase now").click()
    for page in (asha, ben, screen):
        expect(page.locator("#conn")).to_contain_text("This session no longer exists")
    assert room.view()["error"]["code"] == "not_found"
