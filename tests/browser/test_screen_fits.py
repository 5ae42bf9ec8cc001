"""The projector's screen fits the screen, in real Chromium.

At 1920x1080 and at 1280x720 the screen view's document never scrolls: in a Balint group's
review with the evaluation's spread shown (three statements and a note from everyone, each
as long as a note may be) and with a round running, on its thank-you screen after the close,
and in a round of twenty people, whose chips keep each number with its name. Nothing for the
operator's eyes (the language picker, the sound switch) is in view, and the join QR code is
there for a late joiner. No page logs an error to the browser's console.
"""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect, TimeoutError as PlaywrightTimeoutError

from tests.browser.helpers import absolute, watch_console

pytestmark = pytest.mark.store("memory")

SIZES = [(1920, 1080), (1280, 720)]
NOTE = ("A long and careful note about how the group felt today, " * 6)[:300]  # the longest a note may be


def api(base: str, method: str, path: str, token: str | None = None, **kw) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = httpx.request(method, base + path, headers=headers, timeout=10, **kw)
    assert r.status_code < 400, r.text
    return r


def command(base: str, code: str, token: str, cmd: dict) -> httpx.Response:
    return httpx.post(f"{base}/api/sessions/{code}/commands", json=cmd, headers={"Authorization": f"Bearer {token}"},
                      timeout=10)


def room(base: str, fmt: str, names: list[str]) -> tuple[dict, list[str]]:
    created = api(base, "POST", "/api/sessions", json={"title": "A group's long title, as people write them: Thursday's reflective practice", "format": fmt}).json()
    tokens = [api(base, "POST", f"/api/sessions/{created['code']}/participants", json={"name": n}).json()["token"]
              for n in names]
    return created, tokens


FITS = "() => document.documentElement.scrollHeight <= innerHeight && document.documentElement.scrollWidth <= innerWidth"


def fits(page: Page) -> None:
    """No vertical (or horizontal) scroll: the whole document is in view. The page fits itself on
    the animation frame after each swap has settled and after each resize: watched frame by frame
    for up to three seconds, then measured."""
    try:
        page.wait_for_function(FITS, polling="raf", timeout=3000)
    except PlaywrightTimeoutError:
        pass  # the figures below say by how much it does not fit
    size = page.evaluate("() => [document.documentElement.scrollHeight, innerHeight, document.documentElement.scrollWidth, innerWidth]")
    assert size[0] <= size[1] and size[2] <= size[3], size


def caught_up(page: Page, base: str, code: str, token: str) -> None:
    """The page has been sent every change made so far: its hidden clock region names the
    session's current version."""
    version = api(base, "GET", f"/api/sessions/{code}", token).json()["version"]
    page.wait_for_function("v => Number(document.getElementById('clock').dataset.version) >= v", arg=version)


def nothing_for_the_operator(page: Page) -> None:
    expect(page.locator(".language-picker")).not_to_be_in_viewport()
    expect(page.get_by_role("button", name=re.compile("^Sound"))).not_to_be_in_viewport()


def screen_at(contexts, problems, created, width, height) -> Page:
    page = watch_console(contexts(viewport={"width": width, "height": height}), problems).new_page()
    page.goto(absolute("", created["screen_url"]) if created["screen_url"].startswith("http") else created["screen_url"])
    return page


@pytest.mark.parametrize("width,height", SIZES)
def test_a_balint_review_with_its_evaluation_and_its_thank_you_fit_the_screen(server, contexts, shots, width, height):
    base = server.base_url
    names = [f"Person {n} with a longer name" for n in range(1, 9)]
    created, tokens = room(base, "balint", names)
    code, fac = created["code"], created["facilitator_token"]
    problems: list[str] = []
    screen = watch_console(contexts(viewport={"width": width, "height": height}), problems).new_page()
    screen.goto(absolute(base, created["screen_url"]))
    expect(screen.locator(".screen-lobby .qr-box svg")).to_be_visible()
    fits(screen)
    nothing_for_the_operator(screen)

    api(base, "POST", f"/api/sessions/{code}/commands", fac, json={"type": "start"})
    api(base, "POST", f"/api/sessions/{code}/commands", fac, json={"type": "goto_phase", "phase_id": "check-out"})
    for token in tokens:
        api(base, "POST", f"/api/sessions/{code}/commands", token,
            json={"type": "evaluate", "scores": [4, 5, 3], "note": NOTE, "confirmed": True})
        api(base, "POST", f"/api/sessions/{code}/commands", token, json={"type": "rate_wellbeing", "score": 4})
    for _ in range(100):  # the anonymous answers fold in on the server's timer
        if command(base, code, fac, {"type": "show_evaluation"}).status_code == 200:
            break
        screen.wait_for_timeout(100)
    api(base, "POST", f"/api/sessions/{code}/commands", fac, json={"type": "start_round"})
    expect(screen.locator("#evaluation")).to_contain_text("This will help my practice")
    expect(screen.locator("#evaluation")).to_contain_text("A long and careful note")
    expect(screen.locator("#order .order-item")).to_have_count(len(names))
    fits(screen)
    nothing_for_the_operator(screen)
    shots(screen, f"review-{width}")

    api(base, "POST", f"/api/sessions/{code}/commands", fac, json={"type": "close"})
    expect(screen.locator("#stage")).to_contain_text("Thank you")
    expect(screen.locator("#evaluation")).to_contain_text("This will help my practice")
    fits(screen)
    shots(screen, f"thanks-{width}")
    assert problems == []


@pytest.mark.parametrize("width,height", SIZES)
def test_a_round_of_twenty_fits_the_screen_and_keeps_each_number_with_its_name(server, contexts, shots, width, height):
    base = server.base_url
    names = [f"Participant {n:02d} Longname" for n in range(1, 21)]
    created, _ = room(base, "check-in-out", names)
    code, fac = created["code"], created["facilitator_token"]
    problems: list[str] = []
    screen = watch_console(contexts(viewport={"width": width, "height": height}), problems).new_page()
    screen.goto(absolute(base, created["screen_url"]))
    api(base, "POST", f"/api/sessions/{code}/commands", fac, json={"type": "start"})
    api(base, "POST", f"/api/sessions/{code}/commands", fac, json={"type": "start_round"})
    chips = screen.locator("#order .order-item")
    expect(chips).to_have_count(20)
    fits(screen)
    nothing_for_the_operator(screen)
    # Each chip is one line: its number never wraps away from the name.
    heights = chips.evaluate_all("els => els.map(e => [e.getBoundingClientRect().height, parseFloat(getComputedStyle(e).lineHeight) || 0])")
    tallest = max(h for h, _ in heights)
    assert tallest < 2 * min(h for h, _ in heights) + 1, heights
    # A late joiner: the join QR code on demand, then away again.
    screen.mouse.move(width / 2, height - 10)  # the operator's pointer at the bottom edge brings the tools up
    screen.get_by_role("button", name="Show how to join").click()
    expect(screen.locator(".screen-lobby .qr-box svg")).to_be_in_viewport()
    fits(screen)
    shots(screen, f"round-of-20-join-{width}")
    screen.keyboard.press("Escape")
    expect(screen.locator(".screen-lobby")).to_be_hidden()
    screen.keyboard.press("j")  # or with its key
    expect(screen.locator(".screen-lobby")).to_be_visible()
    screen.keyboard.press("Escape")
    expect(screen.locator(".screen-lobby")).to_be_hidden()
    # Single keys can be turned off with the tools' switch (WCAG 2.1.4): J then does nothing.
    screen.mouse.move(width / 2, height - 10)
    screen.get_by_role("button", name="Keyboard shortcuts: on").click()
    expect(screen.get_by_role("button", name="Show how to join")).not_to_have_attribute("aria-keyshortcuts", re.compile("."))
    screen.keyboard.press("j")
    screen.wait_for_timeout(300)
    expect(screen.locator(".screen-lobby")).to_be_hidden()
    shots(screen, f"round-of-20-{width}")
    assert problems == []


def test_every_phase_of_every_shipped_format_fits_the_screen(server, contexts):
    """Each format's phases in turn, with a round running where the phase has one, at both sizes."""
    base = server.base_url
    formats = api(base, "GET", "/api/formats").json()
    page = contexts(viewport={"width": 1920, "height": 1080}).new_page()
    for fmt in formats:
        people = 2 if fmt["id"] == "one-to-one" else 6  # a one-to-one admits two
        created, _ = room(base, fmt["id"], [f"Member {n} of the group" for n in range(1, people + 1)])
        code, fac = created["code"], created["facilitator_token"]
        page.goto(absolute(base, created["screen_url"]))
        api(base, "POST", f"/api/sessions/{code}/commands", fac, json={"type": "start"})
        for phase in fmt["phases"]:
            api(base, "POST", f"/api/sessions/{code}/commands", fac, json={"type": "goto_phase", "phase_id": phase["id"]})
            command(base, code, fac, {"type": "start_round"})  # refused where the phase takes no round
            expect(page.locator("#status")).to_contain_text(phase["title"])
            caught_up(page, base, code, fac)  # the round too, where it started
            for width, height in SIZES:
                page.set_viewport_size({"width": width, "height": height})
                fits(page)
        api(base, "POST", f"/api/sessions/{code}/commands", fac, json={"type": "close"})
        expect(page.locator("#stage")).to_contain_text("Thank you")
        caught_up(page, base, code, fac)
        fits(page)
