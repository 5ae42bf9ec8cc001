"""Steps a person takes in the pages, shared by the browser tests."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

AXE = next((Path(__file__).parent / "vendor").glob("axe-core-*.min.js"))


def create_session(base_url: str, title: str = "Tuesday group", fmt: str = "check-in-out") -> dict[str, str]:
    """Through the public API (the start page itself is covered by the round test)."""
    r = httpx.post(f"{base_url}/api/sessions", json={"title": title, "format": fmt})
    r.raise_for_status()
    return r.json()


def absolute(base_url: str, url: str) -> str:
    return url if url.startswith("http") else base_url + url


def open_console(ctx, base_url: str, created: dict[str, str]) -> Page:
    page = ctx.new_page()
    page.goto(absolute(base_url, created["console_url"]))
    expect(page.locator("#status")).not_to_have_text("Connecting…")
    return page


def join(ctx, base_url: str, code: str, name: str) -> Page:
    page = ctx.new_page()
    page.goto(f"{base_url}/join/{code}")
    if name:
        page.get_by_label("Your name").fill(name)
    page.get_by_label(re.compile("keep what is said here confidential")).check()
    page.get_by_role("button", name="Join").click()
    expect(page.locator("#room")).to_be_visible()
    expect(page.locator("#status")).not_to_have_text("Connecting…")
    return page


def send(page: Page, button_name: str | re.Pattern[str]) -> None:
    page.get_by_role("button", name=button_name).first.click()


def axe_violations(page: Page) -> list[dict]:
    # Evaluated through the devtools protocol rather than a <script> tag, so a strict CSP still holds.
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def axe_all(page: Page) -> list[tuple[str, str, list]]:
    """Every axe violation, whatever its impact, as (rule, impact, first targets)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]]


def unfold(locator) -> None:
    """Open the folded section (a <details>) that holds this control, as a person taps its title."""
    summary = locator.locator("xpath=ancestor::details[not(@open)][1]/summary")
    if summary.count():
        summary.first.click()


def fill(locator, text: str) -> None:
    unfold(locator)
    locator.fill(text)


def check(locator, checked: bool = True) -> None:
    unfold(locator)
    locator.set_checked(checked)


def watch_console(ctx, problems: list[str]):
    """Collect every error a page of this context logs to the browser's console (a refused
    inline style or script is one) and every uncaught exception; returns the context."""
    ctx.on("console", lambda msg: problems.append(f"{msg.page.url if msg.page else ''} {msg.location.get('url')}:{msg.location.get('lineNumber')}:{msg.location.get('columnNumber')}: {msg.text}") if msg.type == "error" else None)
    ctx.on("weberror", lambda err: problems.append(f"exception: {err.error}"))
    return ctx


# The console's controls a suggested command stands for (the console highlights the one suggested).
SUGGESTED_CONTROL = {"start": "#c-start", "set_presenter": "#c-presenter-floor", "start_round": "#c-round",
                     "next_turn": "#c-next", "next_phase": "#c-phase", "start_breakouts": "#bk-start",
                     "end_breakouts": "#bk-end"}


def expect_suggestion(console: Page, view: dict) -> None:
    """The console suggests what the view says the moment asks (the core's ``next_step``, its
    overtime twin once the phase is past its time): its words, and that control alone highlighted."""
    from app.pages.view import NEXT_STEP, QUIET_STEPS

    suggested = view["next_step"]
    phase = view.get("phase")
    if view["status"] == "running" and phase and phase["ends_at"] <= time.time():
        suggested = suggested["overtime"]
    step, command = suggested["step"], (suggested["command"] or {}).get("type")
    hint = console.locator(".next-step")
    if step in QUIET_STEPS or view["status"] not in ("running", "paused"):
        expect(hint).to_have_count(0)
    else:
        expect(hint).to_have_attribute("data-suggested", command or "")
        expect(hint).to_contain_text(NEXT_STEP[step])
    highlighted = console.locator(", ".join(f"{control}.primary" for control in SUGGESTED_CONTROL.values()))
    if command in SUGGESTED_CONTROL:
        expect(highlighted).to_have_count(1)
        expect(console.locator(SUGGESTED_CONTROL[command])).to_have_class(re.compile(r"\bprimary\b"))
    else:
        expect(highlighted).to_have_count(0)
    if command == "give_turn":  # the first raised hand's button, on the console
        name = next(p["name"] for p in view["participants"] if p["id"] == suggested["command"]["participant_id"])
        expect(console.get_by_role("button", name=f"Give the turn to {name}").first).to_be_visible()
