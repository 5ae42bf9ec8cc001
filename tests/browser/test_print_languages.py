"""The print pages in real Chromium, in a language Chromium has no date data for.

A Welsh phone in Auckland's time zone, at a group's meeting where someone has spoken: once the
session closes, the phone says when its content is erased in Welsh words and in its own clock,
and its printed summary opens (no "this key cannot read the summary"), with the phases' times
in the phone's own clock. Both store modes (the suite's ``server``).
"""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import expect

from tests.test_groups_http import Room, auth, new_group

ZONE = "Pacific/Auckland"
WELSH_DAYS = ("Dydd Llun", "Dydd Mawrth", "Dydd Mercher", "Dydd Iau", "Dydd Gwener", "Dydd Sadwrn", "Dydd Sul")


def test_a_welsh_phone_opens_its_printed_summary_in_welsh_and_its_own_clock(server, contexts):
    base = server.base_url
    with httpx.Client(base_url=base, timeout=10) as http:
        group = new_group(http, "Ward")
        created = http.post(f"/api/groups/{group['group_id']}/sessions", headers=auth(group["group_key"]),
                            json={"title": "Ward", "format": "check-in-out"}).json()
        room = Room(http, created)
        for name in ("Ana", "Ben", ""):
            room.join(name)
        room.send({"type": "start"})
        room.send({"type": "give_turn", "participant_id": room.pid("Ana")})
        time.sleep(0.3)
        room.send({"type": "yield_turn"}, "Ana")
        room.send({"type": "close"})
        summary_json = http.get(f"/api/sessions/{room.code}/summary", headers=auth(room.people["Ana"]["token"])).json()
    entered = summary_json["phases"][0]["entered_at"]
    local = datetime.fromtimestamp(entered, ZoneInfo(ZONE))

    ctx = contexts(phone=True, locale="cy-GB", timezone_id=ZONE)
    token = room.people["Ana"]["token"]
    ctx.add_init_script(f"localStorage.setItem('tp:token:{room.code}', '{token}')")
    phone = ctx.new_page()
    errors: list[str] = []
    phone.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    phone.goto(f"{base}/join/{room.code}")
    expect(phone.locator("html")).to_have_attribute("lang", "cy")
    erase = phone.locator(".erase-note time[data-localised]").first
    expect(erase).to_be_visible()
    said = erase.inner_text()
    assert any(day in said for day in WELSH_DAYS), said  # never "M12 7, Mon 20:16"
    assert "UTC" not in said and "Mon" not in said.split()

    summary = ctx.new_page()
    summary.goto(f"{base}/summary/{room.code}#key={token}")
    expect(summary.locator("#summary h1")).to_have_text("Ward")
    expect(summary.locator("#summary")).not_to_contain_text("Ni all yr allwedd hon")  # "This key cannot read…"
    first_start = summary.locator("table.phases tbody tr").first.locator("time").first
    expect(first_start).to_have_text(local.strftime("%H:%M"))  # Welsh writes HH:mm, in the phone's clock
    expect(summary.locator("table.phases thead")).not_to_contain_text("UTC")
    assert errors == [], errors
