"""The print pages in real Chromium, in a language Chromium has no date data for.

A Welsh phone in Auckland's time zone, at a group's meeting where someone has spoken: once the
session closes, the phone says when its content is erased in Welsh words and in its own clock,
and its printed summary opens (no "this key cannot read the summary"), with the phases' times
in the phone's own clock. Both store modes (the suite's ``server``).
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import expect

from tests.test_groups_http import Room, auth, new_group

pytestmark = pytest.mark.store("memory")

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
    # (tried on every document, about:blank too, whose storage the browser refuses)
    ctx.add_init_script(f"try {{ localStorage.setItem('tp:token:{room.code}', '{token}'); }} catch (e) {{}}")
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


def test_the_records_meetings_are_told_apart_their_values_read_and_erasing_is_confirmed(server, contexts, shots):
    """Two meetings on one day: each labelled by its title, day and time (not "12-06" twice), every
    bar with its value beside it, the figures in a table; erasing sits apart, in two steps."""
    from tests.test_group_record import meet

    base = server.base_url
    with httpx.Client(base_url=base, timeout=10) as http:
        group = new_group(http, "Ward")
        for title in ("March meeting", "April meeting"):
            meet(http, group, ("A", "B", "C"), [[4, 4, 4], [5, 5, 5], [3, 4, 5]], title=title)
    ctx = contexts(locale="pl-PL", timezone_id=ZONE)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/group/{group['group_id']}?lang=pl#key={group['group_id']}.{group['group_key']}")
    record = page.locator("#record")
    attendance = record.locator("svg.record-chart").first
    expect(attendance.locator("text.tick")).to_have_count(2)
    ticks = attendance.locator("text.tick").all_text_contents()
    day = datetime.now(ZoneInfo(ZONE))
    titles = attendance.locator("text.tick tspan.meeting-title").all_text_contents()
    assert titles == ["March meeting", "April meeting"], ticks  # each meeting by its title
    when = [t.split(" · ")[1] for t in ticks]
    assert all(w.startswith(f"{day.day} ") and f"{day.year}, " in w for w in when), when  # the day, in Polish
    assert all(re.fullmatch(r".*, \d\d:\d\d", w) and "UTC" not in w for w in when), when  # the time, in Auckland
    assert attendance.locator("text.value").all_text_contents() == ["3", "3"]
    evenness = record.locator("svg.record-chart").nth(1).locator("text.value").all_text_contents()
    assert all("," in v for v in evenness), evenness  # 0,97: written the Polish way
    rows = record.locator("table.meetings tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(1).locator("th")).to_have_text("Spotkanie 2")

    shots(page, "record-labels")

    # Erasing: not among the downloads; opened, ticked, then confirmed, with no browser dialog.
    expect(page.locator(".summary-tools #record-erase")).to_have_count(0)
    zone = page.locator("#record-erase-zone")
    page.on("dialog", lambda d: errors.append("a dialog: " + d.message))
    zone.locator("summary").click()
    confirm = zone.get_by_role("button", name="Tak, usuń zapis")
    expect(confirm).to_be_disabled()
    zone.get_by_role("checkbox").check()
    confirm.click()
    expect(zone.locator("#record-erase-note")).not_to_be_empty()
    expect(record.locator("svg.record-chart")).to_have_count(0)
    assert errors == [], errors
