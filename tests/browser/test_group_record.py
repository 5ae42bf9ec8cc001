"""A recurring group's evaluation and record in real Chromium.

The group has met twice already (once with too few people to show anything); at its third
meeting three phones answer the evaluation in the check-out, one with a line of free text the
identifier guard questions first; the facilitator shows the spread; then whoever holds the
group's key opens the record page: charts of three meetings, the CSV for a commissioner,
every count below k suppressed and each mean made noisy, with no name anywhere and no key in
any URL the server saw.
The key holder makes a read-only report link, a commissioner opens it (charts and CSV only),
and the link is revoked. One member, who came to all three meetings, opens "My CPD record" on
her phone: three meetings, her role, under the NMC's and Social Work England's headings, as a
print page and as Markdown, naming no one else.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import absolute, axe_violations, join, open_console, unfold
from tests.test_group_record import meet
from tests.test_groups_http import auth, new_group

pytestmark = pytest.mark.store("memory")

NAMES = ["Asha Verma", "Ben Okafor", "Chloe Martin"]
SCORES = {NAMES[0]: (5, 4, 4), NAMES[1]: (4, 4, 3), NAMES[2]: (4, 5, 4)}


TITLES = ["Ward 9, March", "Ward 9, April", "Ward 9, May"]


def test_a_group_that_met_three_times_shows_its_record_without_names(server, contexts, shots):
    base = server.base_url
    urls: list[str] = []
    with httpx.Client(base_url=base, timeout=10) as http:
        group = new_group(http, "Ward 9 reflective practice")
        first = meet(http, group, ("A", "B", "C", "D"), [[4, 4, 4], [4, 4, 4], [3, 4, 5], [5, 5, 5]],
                     title="Ward 9, March")
        asha_code = first.people["A"]["member_code"]  # A is Asha: she comes to all three meetings
        meet(http, group, ("A", "B"), [[1, 1, 1], [2, 2, 2]], codes={"A": asha_code}, title="Ward 9, April")
        created = http.post(f"/api/groups/{group['group_id']}/sessions", headers=auth(group["group_key"]),
                            json={"title": "Ward 9, May", "format": "check-in-out"}).json()

    console_ctx = contexts()
    console_ctx.on("request", lambda r: urls.append(r.url))
    console = open_console(console_ctx, base, created)
    phones = {}
    for name in NAMES:
        ctx = contexts(phone=True)
        ctx.on("request", lambda r: urls.append(r.url))
        if name == NAMES[0]:  # Asha's phone keeps her code from her personal link
            kept = ctx.new_page()
            kept.goto(f"{base}/join#member={group['group_id']}.{asha_code}")
            expect(kept.locator("#member-kept")).to_be_visible()
            kept.close()
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
        expect(phone.locator("#evaluation-form")).to_have_count(0)
        thanks = phone.locator("#fold-evaluation .replies")  # outlasts the form it answered
        expect(thanks).to_contain_text("Only the spread of answers is shown")
        expect(thanks).to_be_visible()
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
    expect(record).to_contain_text("random noise added")
    expect(record.locator("svg.record-chart")).to_have_count(5)  # attendance, evenness, three statements
    expect(record.locator("rect.suppressed")).not_to_have_count(0)
    expect(record.get_by_role("img", name=re.compile("People at each meeting: .*fewer than 3, not shown"))).to_have_count(1)
    for name in NAMES + ["More time for the case"]:
        expect(record).not_to_contain_text(name)
    expect(record.locator("table tbody tr")).to_have_count(3)
    # Each meeting labelled by its title and date: in the table and beside every chart's bar.
    expect(record.locator("table tbody td.meeting-title")).to_have_text(TITLES)
    expect(record.locator("svg.record-chart").first.locator("tspan.meeting-title")).to_have_text(TITLES)
    expect(record.get_by_role("img", name=re.compile("People at each meeting: Ward 9, March · "))).to_have_count(1)
    assert axe_violations(page) == []
    shots(page, "group-record")

    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").click()
    rows = list(csv.reader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8"))))
    assert len(rows) == 1 + 3 * 3
    by_meeting = [rows[i] for i in (1, 4, 7)]
    assert [r[1] for r in by_meeting] == TITLES
    assert [r[4] for r in by_meeting] == ["4", "<3", "3"]
    assert rows[4][6:] == ["<3", "I felt safe to speak", ""]
    assert rows[7][6:8] == ["3", "I felt safe to speak"] and 1 <= float(rows[7][8]) <= 5  # a noisy mean, no counts
    text = "\n".join(",".join(r) for r in rows)
    assert not any(n in text for n in NAMES)
    assert not any(group["group_key"] in u or token in u for u in urls)

    # A read-only report link for a commissioner: charts and CSV, nothing else; then revoked.
    links = page.locator("#report-link")
    expect(page.locator("#report-link-none")).to_be_visible()
    expect(links.get_by_role("button", name="Revoke the report link")).to_be_hidden()
    links.get_by_role("button", name="Create a report link").click()
    expect(page.locator("#report-link-exists")).to_be_visible()
    expect(page.locator("#report-link-none")).to_be_hidden()
    report_url = page.get_by_label(re.compile("The report link")).input_value()
    assert re.fullmatch(re.escape(f"{base}/group/{group['group_id']}#report=") + r"[\w-]{20,}", report_url)
    shots(page, "group-record-report-link")
    reader_ctx = contexts()
    reader_ctx.on("request", lambda r: urls.append(r.url))
    reader = reader_ctx.new_page()
    reader.goto(report_url)
    expect(reader.locator("#record svg.record-chart")).to_have_count(5)
    expect(reader.locator("#record-readonly")).to_be_visible()
    expect(reader.locator("#record table tbody td.meeting-title")).to_have_text(TITLES)  # the link opens the titles
    expect(reader.locator("#record-erase-zone")).to_be_hidden()
    expect(reader.locator("#report-link")).to_be_hidden()
    with reader.expect_download() as info:
        reader.get_by_role("button", name="Download CSV").click()
    assert len(Path(info.value.path()).read_text(encoding="utf-8").splitlines()) == 1 + 3 * 3
    shots(reader, "group-record-read-only")
    links.get_by_role("button", name="Revoke the report link").click()
    expect(page.locator("#report-link-revoked")).to_be_visible()
    contexts.allow("status of 401 (Unauthorized)")  # the revoked key, refused as it must be
    reader.reload()
    expect(reader.locator("#record")).to_contain_text("This key does not open the group's record.")
    page.reload()
    expect(page.locator("#report-link-none")).to_be_visible()

    # Asha's own CPD record, from her phone: three meetings, no one else in it.
    asha = phones[NAMES[0]]
    cpd_link = asha.locator("#cpd-link")
    expect(cpd_link).to_be_visible()
    with asha.expect_popup() as popup:
        cpd_link.get_by_role("link", name="Open my CPD record").click()
    mine = popup.value
    attendance = mine.locator("table.cpd-attendance tbody tr")
    expect(attendance).to_have_count(3)
    expect(mine.locator("#cpd")).to_contain_text("NMC reflective account")
    expect(mine.locator("#cpd .group-name")).to_have_text("Group: Ward 9 reflective practice")  # whose group
    expect(mine.locator("#cpd")).to_contain_text("Social Work England CPD record")
    expect(mine.locator("#cpd")).to_contain_text("How is this relevant to the Code?")
    assert axe_violations(mine) == []
    shots(mine, "cpd-print")
    with mine.expect_download() as info:
        mine.get_by_role("button", name="Download Markdown").click()
    md = Path(info.value.path()).read_text(encoding="utf-8")
    assert md.startswith("# My CPD record") and md.count("| Check-in and check-out |") == 3
    assert "### NMC reflective account" in md and "### Social Work England CPD record" in md
    assert "Group: Ward 9 reflective practice" in md  # whose group the record is of
    for other in NAMES + ["More time for the case", "I felt safe to speak"]:
        assert other not in md, other
    assert not any(asha_code in u for u in urls)
    # Ben came to one meeting only: his phone's record has one.
    with phones[NAMES[1]].expect_popup() as popup:
        phones[NAMES[1]].get_by_role("link", name="Open my CPD record").click()
    expect(popup.value.locator("table.cpd-attendance tbody tr")).to_have_count(1)

    zone = page.locator("#record-erase-zone")
    zone.get_by_text("Erase the record…").click()
    zone.get_by_label("I understand that the record is erased for good.").check()
    zone.get_by_role("button", name="Yes, erase the record").click()
    expect(zone.locator("#record-erase-note")).to_have_text("The record is erased.")
    expect(record).to_contain_text("No meeting has closed since the record began.")
