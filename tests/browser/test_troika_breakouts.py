"""Troika consulting in breakouts, in real Chromium: seven people on phones split into a trio
and a group of four with a projector on the wall; each group runs every rotation on the
server's clock (nobody reaches for a stopwatch), then everyone comes back to the room. A
co-facilitator follows on a second console and takes over when the lead's console closes
while the groups are talking. Each one's quiet preparation puts their private notes first, and
the console suggests what each moment asks (split, wait for the groups, bring them back, the
harvest's round).

The test is a list of steps run in order (``STEPS``) over one ``Troika`` of pages, so a step
can be inserted mid-round (e.g. a co-facilitator taking over while the groups run).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import (
    absolute,
    axe_violations,
    expect_suggestion,
    join,
    open_console,
)

pytestmark = pytest.mark.store("redis")

NAMES = ["Ana Silva", "Ben Okafor", "Cleo Martin", "Dev Patel", "Eli Cohen", "Fay Wong", "Gus Moreau"]
# Short phases: the whole exercise takes under a minute for the group of four.
DURATIONS = {"forming": 600, "preparation": 1, "presentation": 2, "questioning": 1, "consulting": 6,
             "feedback": 2, "harvest": 600}


@dataclass
class Troika:
    base: str
    created: dict[str, str]
    console: Page
    screen: Page
    phones: dict[str, Page]
    shots: Callable[[Page, str], object]
    groups: dict[str, list[str]] = field(default_factory=dict)  # "Group 1" -> names, as the phones say
    cofacilitator: Page | None = None

    def view(self) -> dict:
        return httpx.get(f"{self.base}/api/sessions/{self.created['code']}",
                         headers={"Authorization": f"Bearer {self.created['facilitator_token']}"}).json()


# Records, on a phone, what its page put first the moment it turned to quiet preparation (a
# second or so in these short rotations): the sections of the room from the top, and where each starts.
WATCH_PREPARATION = """() => {
  window.tpPreparation = null;
  const room = document.getElementById('room');
  new MutationObserver(() => {
    if (window.tpPreparation !== null || room.dataset.focus !== 'notes') return;
    window.tpPreparation = [...room.children].filter(e => e.id && e.getClientRects().length > 0)
      .map(e => [e.id, e.getBoundingClientRect().top + window.scrollY])
      .sort((a, b) => a[1] - b[1]);
  }).observe(room, {attributes: true, attributeFilter: ['data-focus']});
}"""


def invite_a_cofacilitator(t: Troika) -> None:
    """The lead invites Sam from the console; Sam opens the console link the reply shows once."""
    t.console.get_by_label("Invite a co-facilitator").fill("Sam")
    t.console.get_by_role("button", name="Invite", exact=True).click()
    link = t.console.locator("a.co-link")
    expect(link).to_have_text("Sam's console link")
    t.cofacilitator = t.console.context.browser.new_context().new_page()
    t.cofacilitator.goto(absolute(t.base, link.get_attribute("href")))
    expect(t.cofacilitator.locator("#lead-line")).to_have_text("The facilitator is leading.")


def the_leads_console_closes(t: Troika) -> None:
    """Mid-round the lead's laptop goes: Sam's console leads on, the groups' clocks never stop."""
    assert t.cofacilitator is not None
    t.console.context.close()
    co = t.console = t.cofacilitator
    expect(co.locator("#lead-line")).to_have_text("You are leading.", timeout=10_000)
    expect(co.locator("#breakouts")).to_contain_text(re.compile(r"Rotation [1-4] of [34]"))  # still following
    t.shots(co, "co-leading")


def start_the_session(t: Troika) -> None:
    t.console.get_by_role("button", name="Start the session").click()
    expect(t.console.locator("#timeline [aria-current=step]")).to_contain_text("Forming trios")


def split_into_trios(t: Troika) -> None:
    expect_suggestion(t.console, t.view())  # forming trios: split the room, not "give the presenter the floor"
    for phone in t.phones.values():
        phone.evaluate(WATCH_PREPARATION)
    t.console.get_by_label("People per group").fill("3")
    t.console.get_by_role("button", name="Split into groups").click()
    cards = t.screen.locator("#breakouts .bk-card")
    expect(cards).to_have_count(2)
    expect(t.screen.locator("#stage")).to_be_hidden()  # the grid is what the room looks at
    # The groups keep their own time: the console offers no room round or phase meanwhile.
    expect(t.console.locator("#c-in-groups")).to_be_visible()
    expect(t.console.locator("#c-round")).to_have_count(0)
    for name, phone in t.phones.items():
        heading = phone.locator("#bk-mine-h")
        expect(heading).to_have_text(re.compile(r"^You are in Group [12] with .+ and .+\.$"))
        text = heading.inner_text()
        number = re.search(r"Group (\d)", text).group(1)
        t.groups.setdefault(f"Group {number}", []).append(name)
        assert name not in text.split(" with ", 1)[1]  # the others, not me
    assert sorted(len(v) for v in t.groups.values()) == [3, 4]  # seven: a trio and a four, nobody alone
    expect_suggestion(t.console, t.view())  # the groups run on their own clocks: nothing to press
    # Quiet preparation put each one's private notes first, in the first screen: never the room's anonymous box.
    for name, phone in t.phones.items():
        phone.wait_for_function("() => window.tpPreparation !== null")
        sections = dict(phone.evaluate("() => window.tpPreparation"))
        folds = [section for section in sections if section.startswith("fold-")]
        assert folds[0] == "fold-reflection" and sections["fold-reflection"] < 740, (name, sections)
    t.shots(t.screen, "screen-grid")
    t.shots(t.phones[NAMES[0]], "phone-my-group")


def the_client_explains(t: Troika) -> None:
    """The server moves each group on: the client gets the floor, on every phone of the group."""
    for group, names in t.groups.items():
        phone = t.phones[names[0]]
        expect(phone.locator("#breakout")).to_contain_text("Client explains", timeout=10_000)
    for card in t.screen.locator("#breakouts .bk-card").all():
        expect(card).to_contain_text(re.compile(r"Rotation 1 of [34]: .+ is the client"))


def consultants_talk(t: Troika) -> None:
    """The client listens only; a consultant's raised hand takes their group's floor at once."""
    for names in t.groups.values():
        first = t.phones[names[0]]
        expect(first.locator("#breakout")).to_contain_text("Consultants talk", timeout=15_000)
        text = first.locator("#breakout").inner_text()
        client = next(n for n in names if f"{n} is the client" in text)
        consultant = next(n for n in names if n != client)
        expect(t.phones[client].locator("#p-hand")).to_have_count(0)  # listening: no hand to raise
        t.phones[consultant].get_by_role("button", name="Raise my hand").click()
        expect(t.phones[client].locator("#breakout")).to_contain_text("Consultants talk")
    expect(t.screen.locator("#breakouts .bk-card", has_text="Speaking:")).to_have_count(2, timeout=8_000)
    t.shots(t.screen, "screen-consulting")
    t.shots(t.console, "console-following")


def two_minutes_left(t: Troika) -> None:
    t.console.get_by_role("button", name="Tell every group: two minutes left").click()
    for page in (t.screen, *t.phones.values()):
        expect(page.locator(".bk-notice")).to_have_text("Two minutes left.")


def every_group_finishes_by_itself(t: Troika) -> None:
    """Every member is the client once; a finished group waits for the room."""
    trio = min(t.groups.values(), key=len)
    four = max(t.groups.values(), key=len)
    expect(t.phones[trio[0]].locator("#breakout")).to_contain_text("Your group is done. Wait for the room.",
                                                                   timeout=60_000)
    expect(t.phones[four[0]].locator("#breakout")).not_to_contain_text("Your group is done")  # groups run apart
    t.shots(t.screen, "screen-one-done")
    for name in NAMES:
        expect(t.phones[name].locator("#breakout")).to_contain_text("Your group is done. Wait for the room.",
                                                                    timeout=60_000)
    expect(t.screen.locator("#breakouts .bk-card.bk-done")).to_have_count(2)
    expect_suggestion(t.console, t.view())  # every group is done: back to the whole room
    assert axe_violations(t.phones[trio[0]]) == []
    assert axe_violations(t.screen) == []


def back_to_the_room(t: Troika) -> None:
    t.console.get_by_role("button", name="Back to the whole room").click()
    expect(t.screen.locator("#breakouts .bk-card")).to_have_count(0)
    expect(t.screen.locator("#stage")).to_be_visible()
    for phone in t.phones.values():
        expect(phone.locator("#bk-mine-h")).to_have_count(0)
        expect(phone.locator("#status")).to_contain_text("Back in the room")  # the phase after the trios'
    expect(t.screen.locator("#status")).to_contain_text("Back in the room")
    expect_suggestion(t.console, t.view())  # the harvest's round
    t.shots(t.screen, "screen-back")


STEPS: list[Callable[[Troika], None]] = [
    invite_a_cofacilitator,
    start_the_session,
    split_into_trios,
    the_client_explains,
    consultants_talk,  # mid-round: the groups are talking
    the_leads_console_closes,  # from here on the co-facilitator's console runs the room
    two_minutes_left,
    every_group_finishes_by_itself,
    back_to_the_room,
]


@pytest.mark.timeout(240)  # nine pages and four timed rotations: more than the suite's default budget
def test_seven_people_run_troika_in_trios_on_the_servers_clock(server, contexts, shots):
    base = server.base_url
    r = httpx.post(f"{base}/api/sessions", json={"title": "Troika, Friday", "format": "troika",
                                                 "durations": DURATIONS})
    r.raise_for_status()
    created = r.json()
    console = open_console(contexts(), base, created)
    screen = contexts().new_page()
    screen.goto(absolute(base, created["screen_url"]))
    phones = {name: join(contexts(phone=True), base, created["code"], name) for name in NAMES}
    t = Troika(base, created, console, screen, phones, shots)
    for step in STEPS:
        step(t)
