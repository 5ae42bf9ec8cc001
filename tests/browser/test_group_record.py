"""A recurring group's evaluation and record in real Chromium.

The group has met twice already (once with too few people to show anything); at its third
meeting three phones answer the evaluation in the check-out, one with a line of free text the
identifier guard questions first; the facilitator shows the spread; then whoever holds the
group's key opens the record page: charts of three meetings, the CSV for a commissioner, and
every count below k suppressed, with no name anywhere and no key in any URL the server saw.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import httpx
from playwright.sync_api import expect

from tests.browser.helpers import absolute, axe_violations, join, open_console, unfold
from tests.test_group_record import meet
from tests.test_groups_http import auth, new_group

NAMES = ["Asha Verma", "Ben Okafor", "Chloe Martin"]
SCORES = {NAMES[0]: (5, 4, 4), NAMES[1]: (4, 4, 3), NAMES[2]: (4, 5, 4)}


def test_a_group_that_met_three_times_shows_its_record_without_names(server, contexts, shots):
    base = server.base_url
    urls: list[str] = []
    with httpx.Client(base_url=base, timeout=10) as http:
        group = new_group(http, "Ward 9 reflective practice")
        meet(http, group, ("A", "B", "C", "D"), [[4, 4, 4], [4, 4, 4], [3, 4, 5], [5, 5, 5]])
        meet(http, group, ("A", "B"), [[1, 1, 1], [2, 2, 2]])
        created = http.post(f"/api/groups/{group['group_id']}/sessions", headers=auth(group["group_key"]),
                            json={"title": "Ward 9, May", "format": "check-in-out"}).json()

    console_ctx = contexts()
    console_ctx.on("request", lambda r: urls.append(r.url))
    console = open_console(console_ctx, base, created)
    phones = {}
    for name in NAMES:
        ctx = contexts(phone=True)
        ctx.on("request", lambda r: urls.append(r.url))
        phones[name] = join(ctx, base, created["code"], name)
    console.get_by_role("button", name="Start the session").first.click()
    expect(console.locator("#status")).to_have_text("Running")
    token = absolute(base, created["console_url"]).split("#key=")[1].split("&")[0]
    httpx.post(f"{base}/api/sessions/{created['code']}/commands", headers=auth(token),
               json={"type": "goto_phase", "phase_id": "check-out"}).raise_for_status()

    for name, scores in SCORES.items():
        phone = phones[name]
        form = phone.locator("#evaluation-form")
        expect(form).to_have_count(1)
        unfold(form)  # folded while the wellbeing scale comes first: a tap on its title opens it
        expect(form).to_be_visible()
        for n, score in enumerate(scores):
            form.locator(f"label[for='ev-{n}-{score}']").click()
        if name == NAMES[1]:
            form.get_by_label("Anything else?").fill("Ring Mrs Patel on 07700 900123")
            form.get_by_role("button", name="Send").click()
            expect(phone.locator("#main")).to_contain_text("This looks like it may contain")
            shots(phone, "phone-evaluation-guard")
            phone.get_by_role("button", name="Edit it").click()
            form.get_by_label("Anything else?").fill("More time for the case next time")
            for n, score in enumerate(scores):  # the form is as it was: the scores are still chosen
                expect(form.locator(f"#ev-{n}-{score}")).to_be_checked()
        form.get_by_role("button", name="Send").click()
        expect(phone.locator("#main")).to_contain_text("Only the spread of answers is shown")
        expect(phone.locator("#evaluation-form")).to_have_count(0)
    assert axe_violations(phones[NAMES[0]]) == []

    expect(console.locator("#safety")).to_contain_text("3 answered")
    console.get_by_role("button", name="Show the spread").click()
    spread = console.locator("#safety .evaluation-spread")
    expect(spread.locator("svg")).to_have_count(3)
    expect(spread.get_by_role("img", name=re.compile("I felt safe to speak|3 answered"))).to_have_count(3)
    expect(spread).to_contain_text("More time for the case next time")
    expect(phones[NAMES[2]].locator("#evaluation svg")).to_have_count(3)
    shots(console, "console-evaluation")
    httpx.post(f"{base}/api/sessions/{created['code']}/commands", headers=auth(token),
               json={"type": "close"}).raise_for_status()

    # Whoever holds the group's key opens the record: the key only in the fragment.
    page_ctx = contexts()
    page_ctx.on("request", lambda r: urls.append(r.url))
    page = page_ctx.new_page()
    page.goto(f"{base}/group/{group['group_id']}#key={group['group_id']}.{group['group_key']}")
    record = page.locator("#record")
    expect(record).to_contain_text("3 meetings")
    expect(record.locator("svg.record-chart")).to_have_count(5)  # attendance, evenness, three statements
    expect(record.locator("rect.suppressed")).not_to_have_count(0)
    expect(record.get_by_role("img", name=re.compile("People at each meeting: .*fewer than 3, not shown"))).to_have_count(1)
    for name in NAMES + ["More time for the case"]:
        expect(record).not_to_contain_text(name)
    assert axe_violations(page) == []
    shots(page, "group-record")

    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").click()
    rows = list(csv.reader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8"))))
    assert len(rows) == 1 + 3 * 3
    by_meeting = [rows[i] for i in (1, 4, 7)]
    assert [r[3] for r in by_meeting] == ["4", "<3", "3"]
    assert rows[4][5:] == ["<3", "I felt safe to speak", "", "", "", "", "", ""]
    assert rows[7][6:] == ["I felt safe to speak", "4.33", "0", "0", "0", "<3", "<3"]
    text = "\n".join(",".join(r) for r in rows)
    assert not any(n in text for n in NAMES)
    assert not any(group["group_key"] in u or token in u for u in urls)

    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Erase the record").click()
    expect(page.locator("#record-note")).to_have_text("The record is erased.")
    expect(record).to_contain_text("No meeting has closed since the record began.")
