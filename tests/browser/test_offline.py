"""Offline is honest, in real Chromium.

A phone loses its network for 30 seconds while someone else holds the floor: it says it is
offline in place of the floor and its clock (no clock ticking a turn it no longer knows), the
console shows that person offline and asks a second time before giving them the floor, and
the phone catches up when it is back. No page logs an error to the browser's console.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import create_session, join, open_console, watch_console

pytestmark = pytest.mark.store("redis")


def test_a_phone_offline_for_half_a_minute_says_so_and_catches_up(server, contexts, shots):
    base = server.base_url
    created = create_session(base, "Offline test")
    code = created["code"]
    problems: list[str] = []
    console = open_console(watch_console(contexts(), problems), base, created)
    dev_ctx = watch_console(contexts(phone=True), problems)
    # Dev's live socket goes through the test, so that losing the network drops it as a real
    # loss does (the browser's offline switch alone leaves an open socket open).
    network = {"down": False, "sockets": []}

    def live(ws) -> None:
        if network["down"]:
            ws.close(code=1012, reason="offline")  # a code the page retries after, as after a drop
            return
        network["sockets"].append((ws, ws.connect_to_server()))

    dev_ctx.route_web_socket(re.compile(r"/live/"), live)
    dev = join(dev_ctx, base, code, "Dev")
    ana = join(watch_console(contexts(phone=True), problems), base, code, "Ana")
    console.locator("#c-start").click()
    expect(console.locator("#people")).to_contain_text("Dev")
    expect(console.locator("#people li", has_text="Dev")).to_contain_text("online")
    console.get_by_role("button", name="Give the turn to Ana").first.click()
    expect(dev.locator("#glance")).to_contain_text("Ana")
    expect(dev.locator("#glance .countdown").first).to_be_visible()

    network["down"] = True
    dev_ctx.set_offline(True)
    for page_end, server_end in network["sockets"]:
        server_end.close()
        page_end.close(code=1012, reason="offline")
    cover = dev.locator("#offline-cover")
    expect(cover).to_be_visible(timeout=10000)
    expect(cover).to_contain_text("This phone is offline")
    expect(dev.locator(".countdown:visible")).to_have_count(0)
    expect(dev.locator("#glance")).to_be_hidden()
    shots(dev, "offline")

    # The console sees Dev offline, and giving Dev the floor takes a second, deliberate tap.
    dev_row = console.locator("#people li", has_text="Dev")
    expect(dev_row).to_contain_text("offline", timeout=20000)
    expect(dev_row.get_by_role("button", name="Give the turn to Dev")).to_have_count(0)
    dev_row.get_by_text("Give turn…").click()
    expect(dev_row).to_contain_text("Offline: their phone will not show the turn")
    expect(dev_row.get_by_role("button", name="Give the turn to Dev anyway")).to_be_visible()
    # The floor moves on while Dev is away: Ana is done.
    ana.get_by_role("button", name="Done speaking").click()
    expect(console.locator("#floor")).not_to_contain_text("Ana has the floor")

    dev.wait_for_timeout(30000 - 15000)  # half a minute offline in all (the steps above took the rest)
    expect(cover).to_be_visible()
    expect(dev.locator(".countdown:visible")).to_have_count(0)

    network["down"] = False
    dev_ctx.set_offline(False)
    expect(cover).to_be_hidden(timeout=20000)
    expect(dev.locator("#glance")).to_be_visible()
    expect(dev.locator("#glance")).not_to_contain_text(re.compile("Ana (is speaking|has the floor)"))
    expect(console.locator("#people li", has_text="Dev")).to_contain_text("online", timeout=20000)
    # (the browser's own reports of the cut connection are left to the contexts fixture)
    assert [p for p in problems if not any(c in p for c in ("ERR_INTERNET_DISCONNECTED", "[object Event]"))] == []
