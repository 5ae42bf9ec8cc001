"""A Balint group walked through in real Chromium, on the console, the screen and three phones
(the presenter listening while the group explores, a pause, the presenter's return); and the two
formats without a journey of their own, Gibbs' cycle and thinking rounds, whose every moment the
console suggests. What each phase checks is in tests/browser/journey.py.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import expect_suggestion
from tests.browser.journey import Room

pytestmark = pytest.mark.store("memory")


def test_balint_group(server, contexts, shots):
    room = Room(server, contexts, shots, "Balint group", "balint")
    console = room.console
    asha, ben, chloe = (room.join(name) for name in ("Asha", "Ben", "Chloe"))
    screen = room.open_screen()
    room.phase("lobby", {"Ben": ben.locator("#glance-h")})
    console.get_by_role("button", name="Start the session").click()
    room.phase("check-in", {"Ben": "Rate 3 of 5"})

    room.next_phase("The case, told from memory")
    console.get_by_role("button", name="Make Asha the presenter").click()
    expect(asha.locator("#glance")).to_contain_text("Your turn")
    room.phase("case", {"Asha": "Done speaking", "Chloe": chloe.locator("#glance .countdown")})

    room.next_phase("Factual questions")
    expect(screen.locator("#stage")).to_contain_text("Factual questions only")
    chloe.get_by_role("button", name="Raise my hand").click()
    console.get_by_role("button", name="Give the turn to Chloe").first.click()
    expect(chloe.locator("#glance")).to_contain_text("Your turn")
    expect(chloe.locator("#hand button")).to_have_count(0)
    expect(asha.locator("#glance")).to_contain_text("Up next: you answer")  # the presenter answers
    room.phase("questions", {"Asha": asha.locator("#glance-h"), "Chloe": "Done speaking", "Ben": "Raise my hand"})
    chloe.get_by_role("button", name="Done speaking").click()
    expect(asha.locator("#glance")).to_contain_text("Your turn to answer")
    asha.get_by_role("button", name="Done speaking").click()

    room.next_phase("The group explores; the presenter listens")
    ben.get_by_role("button", name="Raise my hand").click()
    expect(screen.locator("#stage")).to_contain_text("Hands up")
    expect(console.get_by_role("button", name="Give the turn to Asha")).to_have_count(0)
    room.phase("discussion", {"Asha": asha.locator("#listening"), "Ben": "Lower my hand"})
    console.locator("#c-pause").click()
    expect(ben.locator("#glance")).to_contain_text("Paused")
    expect(screen.locator("#status")).to_contain_text("Paused")
    room.phase("discussion-paused", {"Ben": "Lower my hand"})
    console.locator("#c-pause").click()
    expect(ben.locator("#glance")).not_to_contain_text("Paused")

    # The presenter returns: the floor in one tap, as the contract allows (set_presenter).
    room.next_phase("Presenter returns")
    expect(asha.locator("#listening")).to_have_text("")
    console.get_by_role("button", name=re.compile("^Give the presenter, Asha, the floor")).click()
    expect(asha.locator("#glance")).to_contain_text("Your turn")
    expect(screen.locator("#stage")).to_contain_text("What struck you?")
    room.phase("presenter-returns", {"Asha": "Done speaking", "Ben": ben.locator("#glance .countdown")})

    room.next_phase("Review")
    room.phase("review", {"Ben": "Rate 3 of 5", "Asha": "Rate 3 of 5"})
    room.close()
    room.phase("closed", {"Chloe": "Download (Markdown)"})


def test_the_console_suggests_each_moment_of_gibbs_and_of_thinking_rounds(server, contexts, shots):
    """The two formats without a journey of their own, walked on a console and two phones: at
    each moment the console suggests what it asks. (No screenshots or audits here: the
    journeys of the other formats look at the pages themselves.)"""
    room = Room(server, contexts, shots, "Gibbs cycle", "gibbs")
    console = room.console
    asha, ben = room.join("Asha"), room.join("Ben")

    def suggests() -> None:
        expect_suggestion(console, room.view())

    def round_runs() -> None:
        console.locator("#c-round").click()
        expect(asha.locator("#glance")).to_contain_text("Your turn")
        suggests()  # the round is running: next turn
        for phone in (asha, ben):
            expect(phone.locator("#glance")).to_contain_text("Your turn")
            phone.get_by_role("button", name="Done speaking").click()
        expect(console.locator("#round")).to_contain_text("No round running")
        suggests()  # the round has run: move on

    suggests()  # start
    console.get_by_role("button", name="Start the session").click()
    expect(console.locator("#timeline [aria-current=step]")).to_contain_text("Description")
    suggests()  # choose the presenter
    console.get_by_role("button", name="Make Asha the presenter").click()
    expect(asha.locator("#glance")).to_contain_text("Your turn")
    suggests()  # the presenter speaks: nothing to press
    asha.get_by_role("button", name="Done speaking").click()
    expect(console.locator(".next-step")).to_have_attribute("data-suggested", "next_phase")
    suggests()
    room.next_phase("Feelings")
    suggests()  # start the round
    round_runs()
    room.next_phase("Evaluation")
    suggests()  # wait for a hand
    ben.get_by_role("button", name="Raise my hand").click()
    expect(console.get_by_role("button", name="Give the turn to Ben").first).to_be_visible()
    suggests()  # give the turn to the first hand
    room.next_phase("Analysis")
    suggests()  # the hand went with the phase: wait for one
    room.next_phase("Conclusion")
    suggests()  # people write
    room.next_phase("Action plan")
    suggests()  # people write their actions
    room.close()
    suggests()  # closed: nothing

    room = Room(server, contexts, shots, "Thinking rounds", "thinking-environment")
    console = room.console
    asha, ben = room.join("Asha"), room.join("Ben")
    console.get_by_role("button", name="Start the session").click()
    expect(console.locator("#timeline [aria-current=step]")).to_contain_text("Opening round")
    suggests()  # start the round
    room.next_phase("Thinking round")
    suggests()
    room.next_phase("Closing round")
    suggests()
    round_runs()  # the last phase's round has run: close
