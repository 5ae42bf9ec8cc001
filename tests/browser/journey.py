"""The pages of one room walked through whole sessions in real Chromium: what every journey
(tests/browser/test_journey_*.py, one file per format, so that the suite's workers can take
them in parallel) checks in each phase.

One journey per format (check-in and check-out, an Action Learning Set, a Balint group), each
through every phase on the three pages, as a facilitator (1280x800), phones (360x740) and a
projector (1920x1080) would see it. In every phase: the console suggests what the moment asks
(the view's next step, its control alone highlighted); each phone shows the one thing this moment
asks of its person in its first screen and is no taller than about two screens; nothing scrolls
sideways; axe finds no violation of any impact; screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

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
