"""What docs/accessibility.md rests on, beyond the journeys' axe runs: Chromium's own
accessibility tree for the phone's live regions, a keyboard-only pass of the phone and the
console, and axe with WCAG 2.2's target-size rule (off in axe by default) on the same pages."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import AXE, create_session, join, open_console
from tests.support.server import ServerProcess

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FOCUSED = """() => { const e = document.activeElement, s = getComputedStyle(e);
  return {tag: e.tagName, id: e.id, text: (e.innerText || '').trim().split('\\n')[0],
          outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2}; }"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(env={"REDIS_URL": ""}, log_path=tmp_path_factory.mktemp("a11y") / "server.log").start()
    try:
        yield proc
    finally:
        proc.stop()


def wcag_violations(page: Page) -> list[tuple[str, list]]:
    """axe's WCAG 2.0-2.2 A and AA rules, target size included, at any impact."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate("async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}, "
                           "rules: {'target-size': {enabled: true}}, resultTypes: ['violations']})", WCAG_AA)
    return [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]]


def ax_tree(page: Page) -> tuple[list[dict], dict[str, dict], dict[str, str]]:
    """Chromium's full accessibility tree: the nodes, by id, and each node's parent."""
    nodes = page.context.new_cdp_session(page).send("Accessibility.getFullAXTree")["nodes"]
    by_id = {n["nodeId"]: n for n in nodes}
    parent = {child: n["nodeId"] for n in nodes for child in n.get("childIds", [])}
    return nodes, by_id, parent


def props(node: dict) -> dict[str, object]:
    return {p["name"]: p["value"].get("value") for p in node.get("properties", [])}


def text_of(node: dict, by_id: dict[str, dict]) -> str:
    own = node.get("name", {}).get("value", "") if node.get("role", {}).get("value") == "StaticText" else ""
    return own + "".join(text_of(by_id[c], by_id) for c in node.get("childIds", []) if c in by_id)


def tab_until(page: Page, want: re.Pattern[str], limit: int = 60) -> list[dict]:
    """Press Tab until the focused element's text matches; every element focused on the way."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        seen.append(page.evaluate(FOCUSED))
        if want.search(seen[-1]["text"]):
            return seen
    raise AssertionError(f"never reached {want.pattern!r} by Tab: {[s['text'] for s in seen]}")


def test_a_phone_joins_and_a_console_runs_a_round_by_keyboard_alone(server, contexts, shots):
    created = create_session(server.base_url, title="Keyboard group")
    phone = contexts(phone=True).new_page()
    phone.goto(f"{server.base_url}/join/{created['code']}")
    assert wcag_violations(phone) == []

    # The first Tab reaches the skip link; following it, the next Tab is in the join form.
    phone.keyboard.press("Tab")
    assert phone.evaluate(FOCUSED)["text"] == "Skip to content"
    phone.keyboard.press("Enter")
    phone.keyboard.press("Tab")
    assert phone.evaluate(FOCUSED)["id"] == "name"
    phone.keyboard.type("Keyla")
    phone.keyboard.press("Tab")
    assert phone.evaluate(FOCUSED)["id"] == "agree"
    phone.keyboard.press("Space")
    walked = tab_until(phone, re.compile(r"^Join$"))
    phone.keyboard.press("Enter")
    expect(phone.locator("#room")).to_be_visible()
    expect(phone.locator("#status")).to_contain_text("you are Keyla")

    console = open_console(contexts(), server.base_url, created)
    walked += tab_until(console, re.compile(r"^Start the session"))
    console.keyboard.press("Enter")
    expect(console.locator("#status")).to_have_text("Running")
    walked += tab_until(console, re.compile(r"^Start a round"))
    console.keyboard.press("Enter")
    expect(phone.locator("#glance")).to_contain_text("Your turn")
    assert wcag_violations(console) == [] and wcag_violations(phone) == []
    walked += tab_until(phone, re.compile(r"^Done speaking"))
    phone.keyboard.press("Enter")
    expect(phone.locator("#glance")).not_to_contain_text("Your turn")
    # Every control on the way showed where the focus was (past the last one, Tab leaves the page).
    assert all(step["outline"] for step in walked if step["tag"] != "BODY"), [s for s in walked if not s["outline"]]
    shots(console, "console-by-keyboard")


def test_the_phones_turn_is_announced_once_and_its_clock_is_not(server, contexts, shots):
    created = create_session(server.base_url, title="Live regions")
    phones = [join(contexts(phone=True), server.base_url, created["code"], name) for name in ("Ana", "Bo")]
    console = open_console(contexts(), server.base_url, created)
    console.get_by_role("button", name="Start the session").click()
    expect(console.locator("#status")).to_have_text("Running")
    console.get_by_label("Seconds per turn").fill("30")
    console.keyboard.press("Escape")
    console.locator("#c-round").click()
    ana = phones[0]
    expect(ana.locator("#glance")).to_contain_text("Your turn")
    expect(ana.locator("#announcer")).to_have_text(re.compile(r"Your turn, 0:[0-3]\d left"))

    nodes, by_id, parent = ax_tree(ana)

    def live_root(node_id: str) -> dict | None:
        while node_id in by_id:
            if "live" in props(by_id[node_id]):
                return by_id[node_id]
            node_id = parent.get(node_id, "")
        return None

    # "Your turn" is spoken at once (assertive), by a region holding just that sentence.
    assertive = [n for n in nodes if props(n).get("live") == "assertive"]
    assert len(assertive) == 1
    assert re.fullmatch(r"Your turn, 0:[0-3]\d left\.?", text_of(assertive[0], by_id).strip())
    # The clock ticks in no live region: a screen reader reads it when asked, not every second.
    clocks = [n for n in nodes if n.get("role", {}).get("value") == "time"]
    assert clocks and all(live_root(n["nodeId"]) is None for n in clocks)
    # The connection banner is a status (polite, read whole); replies beside forms are polite.
    roles = {n.get("role", {}).get("value") for n in nodes if props(n).get("live") == "polite"}
    assert "status" in roles
    status = [n for n in nodes if n.get("role", {}).get("value") == "status"]
    assert all(props(n).get("live") == "polite" and props(n).get("atomic") is True for n in status)
    assert wcag_violations(ana) == [] and wcag_violations(phones[1]) == []
    shots(ana, "phone-turn-announced")


def test_the_consoles_single_key_shortcuts_can_be_turned_off_and_stay_off(server, contexts, shots):
    created = create_session(server.base_url, title="Speech input")
    console = open_console(contexts(), server.base_url, created)
    console.get_by_role("button", name="Start the session").click()
    expect(console.locator("#status")).to_have_text("Running")
    console.locator("body").press("p")  # on by default: P pauses
    expect(console.locator("#status")).to_have_text("Paused")

    switch = console.get_by_role("button", name="Keyboard shortcuts: on")
    expect(switch).to_have_attribute("aria-pressed", "true")
    switch.click()
    expect(console.get_by_role("button", name="Keyboard shortcuts: off")).to_have_attribute("aria-pressed", "false")
    console.reload()  # remembered on this device
    off = console.get_by_role("button", name="Keyboard shortcuts: off")
    expect(off).to_be_visible()
    expect(console.locator("#c-pause")).not_to_have_attribute("aria-keyshortcuts", re.compile("."))
    expect(console.locator("#c-pause kbd")).to_be_hidden()
    console.locator("body").press("p")  # a stray key presses nothing
    console.wait_for_timeout(600)
    expect(console.locator("#status")).to_have_text("Paused")
    assert wcag_violations(console) == []
    shots(console, "shortcuts-off")

    off.click()
    expect(console.locator("#c-pause")).to_have_attribute("aria-keyshortcuts", "P")
    console.locator("body").press("p")
    expect(console.locator("#status")).to_have_text("Running")
