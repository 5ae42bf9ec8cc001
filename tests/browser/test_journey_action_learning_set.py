"""An Action Learning Set walked through in real Chromium, on the console, the screen and three
phones: the presenter's issue, clarifying questions answered on the presenter's phone, the
questions round, written questions, the summary's actions and consent; what each phase checks is
in tests/browser/journey.py.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import expect_suggestion, fill
from tests.browser.journey import Room, in_first_screen, rate, write

pytestmark = pytest.mark.store("memory")


def test_action_learning_set(server, contexts, shots):
    room = Room(server, contexts, shots, "Action learning set", "action-learning-set")
    console = room.console
    asha, ben, chloe = (room.join(name) for name in ("Asha", "Ben", "Chloe"))
    screen = room.open_screen()
    console.get_by_role("button", name="Start the session").click()

    # Opening round: the wellbeing scale first; the round's prompt on the screen.
    expect(screen.locator("#stage")).to_contain_text("What has happened since we last met")
    room.phase("check-in", {"Asha": "Rate 3 of 5", "Chloe": "Rate 3 of 5"})
    for phone in (asha, ben, chloe):
        rate(phone, 4)

    # The presenter describes the issue: the console says what to do next; the room sees who speaks.
    room.next_phase("Presenter describes the issue")
    expect(console.locator(".next-step")).to_contain_text("Choose the presenter")  # nobody is presenting yet
    expect_suggestion(console, room.view())
    console.get_by_role("button", name="Make Asha the presenter").click()
    expect(asha.locator("#glance")).to_contain_text("Your turn")
    expect(screen.locator("#stage")).to_contain_text("Asha")
    expect(ben.locator("#glance")).to_contain_text("Asha is speaking")
    room.phase("presentation", {"Asha": "Done speaking", "Ben": ben.locator("#glance .countdown")})

    # Clarifying questions: a member asks, and the presenter answers on their phone.
    room.next_phase("Clarifying questions")
    expect(asha.locator("#listening")).to_have_text("")
    expect(console.locator("#people")).not_to_contain_text("listens only in this phase")
    ben.get_by_role("button", name="Raise my hand").click()
    expect(screen.locator("#stage")).to_contain_text("Ben")
    room.phase("clarifying", {"Ben": "Lower my hand", "Chloe": "Raise my hand"})
    console.get_by_role("button", name="Give the turn to Ben").first.click()
    expect(ben.locator("#glance")).to_contain_text("Your turn")
    expect(asha.locator("#glance")).to_contain_text("Up next: you answer")
    ben.get_by_role("button", name="Done speaking").click()
    expect(asha.locator("#glance")).to_contain_text("Your turn to answer")
    in_first_screen(asha, "Done speaking")
    expect_suggestion(console, room.view())
    asha.get_by_role("button", name="Done speaking").click()
    expect(asha.locator("#glance")).not_to_contain_text("Your turn to answer")

    # The questions round goes round the set; after each question the presenter answers.
    room.next_phase("Questions round")
    console.locator("#c-round").click()
    expect(ben.locator("#glance")).to_contain_text("Your turn")
    expect(asha.locator("#glance")).to_contain_text("Up next: you answer")
    expect(console.get_by_role("button", name=re.compile("^Give the turn"))).to_have_count(0)
    room.phase("questioning", {"Ben": "Done speaking", "Asha": asha.locator("#glance-h")})
    for asker in (ben, chloe):
        expect(asker.locator("#glance")).to_contain_text("Your turn")
        asker.get_by_role("button", name="Done speaking").click()
        expect(asha.locator("#glance")).to_contain_text("Your turn to answer")
        asha.get_by_role("button", name="Done speaking").click()
    expect(console.locator("#round")).to_contain_text("No round running")
    expect_suggestion(console, room.view())

    # Written questions and feedback: the question box first; the screen shows what was revealed, large.
    room.next_phase("Written questions and feedback")
    in_first_screen(ben, ben.get_by_label("Your question or feedback"))
    questions = ["What would success look like for you?", "Who else could help?", "What are you not saying yet?"]
    for phone, text in zip((ben, chloe, asha), questions):
        write(phone, text)
    expect(console.locator("#items")).to_contain_text("3 questions waiting")  # counted at a fold
    console.get_by_role("button", name="Reveal questions").click()
    expect(screen.locator("#stage .items.big li")).to_have_count(3)
    for text in questions:
        expect(screen.locator("#stage")).to_contain_text(text)
    room.phase("feedback", {"Chloe": chloe.get_by_label("Your question or feedback")})

    # The presenter's summary and actions: one tap gives the presenter the floor again; the action form first.
    room.next_phase("Presenter's summary and actions")
    console.get_by_role("button", name=re.compile("^Give the presenter, Asha, the floor")).click()
    expect(asha.locator("#glance")).to_contain_text("Your turn")
    in_first_screen(ben, ben.get_by_label("What will you do?"))
    fill(ben.get_by_label("What will you do?"), "Ask the team what success means to them")
    ben.locator("#send-action").click()
    expect(ben.locator("#action-form .replies")).to_contain_text("Action saved")
    expect(ben.get_by_label("What will you do?")).to_have_value("")
    expect(screen.locator("#stage")).to_contain_text("Ask the team what success means to them")
    # A line proposed for the summary comes first on each phone until that phone has answered.
    fill(console.get_by_label(re.compile("^Text")), "Success needs a shared definition")
    console.get_by_role("button", name="Ask the group").click()
    expect(console.locator("#propose .replies")).to_contain_text("each phone can now agree or object")
    room.phase("action-planning", {"Chloe": "Agree: Success needs a shared definition",
                                   "Ben": "Agree: Success needs a shared definition"})
    for phone in (ben, chloe):
        phone.get_by_role("button", name="Agree: Success needs a shared definition").click()
        expect(phone.locator("#g-consent")).to_contain_text("You have answered")

    room.next_phase("Check-out")
    room.phase("check-out", {"Ben": "Rate 3 of 5", "Asha": "Agree: Success needs a shared definition"})
    room.close()
    expect(screen.locator("#stage")).to_contain_text("Thank you")
    expect(screen.locator("main")).not_to_contain_text("Ask the team")
    room.phase("closed", {"Ben": "Download (Markdown)"})
