"""A room guided by its phase, walked through whole sessions in real Chromium.

One journey per format (check-in and check-out, an Action Learning Set, a Balint group), each
through every phase on the three pages, as a facilitator (1280x800), phones (360x740) and a
projector (1920x1080) would see it. In every phase: the console suggests what the moment asks
(the view's next step, its control alone highlighted); each phone shows the one thing this moment
asks of its person in its first screen and is no taller than about two screens; nothing scrolls
sideways; axe finds no violation of any impact; screenshots go to test-artifacts/.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import Page, expect

from app.pages.regions import YOU_ARE, apply_viewer
from tests.browser.helpers import (
    absolute,
    axe_all,
    create_session,
    expect_suggestion,
    fill,
    join,
    open_console,
)

SCREEN_H = 740
MOST = 2 * SCREEN_H + 40  # "no taller than about two screens"
LONG_NAME = "Wolfeschlegelsteinhausenbergerdorffvoralternwarengewissenha"  # 60 characters, no break
RECORD_VIBRATION = """
window.tpVibrations = [];
Object.defineProperty(Navigator.prototype, 'vibrate', {configurable: true, value: function (p) {
  window.tpVibrations.push(p); return true; }});
"""
NO_VIBRATION = "delete Navigator.prototype.vibrate;"  # as on an iPhone
RECORD_WAKE_LOCK = """
window.tpWakeLocks = [];
Object.defineProperty(Navigator.prototype, 'wakeLock', {configurable: true, get: function () { return {
  request: function () {
    window.tpWakeLocks.push('lock');
    var lock = new EventTarget();
    lock.release = function () { window.tpWakeLocks.push('release'); return Promise.resolve(); };
    return Promise.resolve(lock);
  }}; }});
"""
# What the page plays, heard from outside it: every oscillator the page's WebAudio starts is
# named when it is scheduled to stop. The chime opens on 880 Hz; the ten-seconds warning is a
# 660 Hz tone of a quarter second (the sound switch's own beep at that pitch is shorter).
RECORD_SOUNDS = """
window.tpHeard = [];
(function () {
  var make = BaseAudioContext.prototype.createOscillator;
  BaseAudioContext.prototype.createOscillator = function () {
    var osc = make.call(this), began = 0, start = osc.start, stop = osc.stop;
    osc.start = function (when) { began = when || 0; return start.apply(osc, arguments); };
    osc.stop = function (when) {
      var freq = osc.frequency.value, seconds = (when || 0) - began;
      if (freq === 880) window.tpHeard.push('chime');
      else if (freq === 660 && seconds > 0.2) window.tpHeard.push('warning');
      return stop.apply(osc, arguments);
    };
    return osc;
  };
})();
"""


class Room:
    """The three pages of one session, and the checks every phase must pass."""

    def __init__(self, server, contexts, shots, title: str, fmt: str) -> None:
        self.base = server.base_url
        self.created = create_session(self.base, title, fmt)
        self.code = self.created["code"]
        self.contexts, self.shots = contexts, shots
        self.console = open_console(contexts(viewport={"width": 1280, "height": 800}), self.base, self.created)
        self.phones: dict[str, Page] = {}
        screen_ctx = contexts(viewport={"width": 1920, "height": 1080})
        screen_ctx.add_init_script(RECORD_WAKE_LOCK)
        screen_ctx.add_init_script(RECORD_SOUNDS)
        self.screen = screen_ctx.new_page()

    def join(self, name: str, script: str = RECORD_VIBRATION, **options) -> Page:
        ctx = self.contexts(phone=True, **options)
        ctx.add_init_script(script)
        self.phones[name] = join(ctx, self.base, self.code, name)
        return self.phones[name]

    def open_screen(self) -> Page:
        self.screen.goto(absolute(self.base, self.created["screen_url"]))
        expect(self.screen.locator("#status")).not_to_have_text("Connecting…")
        return self.screen

    def pages(self) -> list[tuple[str, Page]]:
        return [("console", self.console), ("screen", self.screen),
                *((f"phone-{i + 1}", p) for i, p in enumerate(self.phones.values()))]

    def phase(self, name: str, first: dict[str, object] | None = None) -> None:
        """Check the phase on every page: the console's suggestion is the moment's, the main action
        first, sizes, accessibility; save screenshots."""
        expect_suggestion(self.console, self.view())
        for who, target in (first or {}).items():
            in_first_screen(self.phones[who], target)
        problems = {}
        for label, page in self.pages():
            self.shots(page, f"{name}-{label}")
            width = page.viewport_size["width"]
            assert page.evaluate("() => document.documentElement.scrollWidth") <= width, (name, label, "scrolls sideways")
            if label.startswith("phone"):
                height = page.evaluate("() => document.documentElement.scrollHeight")
                assert height <= MOST, (name, label, f"{height} px tall")
            found = axe_all(page)
            if found:
                problems[label] = found
        assert not problems, (name, problems)

    def view(self) -> dict:
        return httpx.get(f"{self.base}/api/sessions/{self.code}",
                         headers={"Authorization": f"Bearer {self.created['facilitator_token']}"}).json()

    def next_phase(self, title: str) -> None:
        self.console.locator("#c-phase").click()
        expect(self.console.locator("#timeline [aria-current=step]")).to_contain_text(title)

    def close(self) -> None:
        self.console.get_by_text("Close the session…").click()
        self.console.get_by_role("button", name="Yes, close for everyone").click()
        for phone in self.phones.values():
            expect(phone.locator("#glance")).to_contain_text("Thank you")


def in_first_screen(phone: Page, target) -> None:
    """The control is visible without scrolling on a 360x740 phone."""
    locator = phone.get_by_role("button", name=target) if isinstance(target, str | re.Pattern) else target
    phone.evaluate("() => window.scrollTo(0, 0)")
    expect(locator.first).to_be_visible()
    box = locator.first.bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= SCREEN_H, (phone.url, target, box)


def rate(phone: Page, score: int) -> None:
    phone.get_by_role("button", name=f"Rate {score} of 5").click()
    expect(phone.locator("#wellbeing + .replies")).to_contain_text("Only the spread of answers is shown")


def write(phone: Page, text: str) -> None:
    fill(phone.get_by_label("Your question or feedback"), text)
    phone.locator("#send-item").click()
    expect(phone.locator("#write-form .replies")).to_contain_text("Nobody can see who wrote it")
    expect(phone.get_by_label("Your question or feedback")).to_have_value("")


def sounds(page: Page) -> list[str]:
    return page.evaluate("() => window.tpHeard || []")


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
    fill(console.get_by_label("Seconds per turn"), "13")
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
    screen.wait_for_function("() => (window.tpHeard || []).includes('warning')", timeout=8000)
    assert "chime" not in sounds(screen)
    room.phase("check-in-round", {"Asha": "Done speaking"})

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
    journeys above look at the pages themselves.)"""
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
