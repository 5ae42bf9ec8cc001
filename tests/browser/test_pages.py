"""The three pages in real Chromium: a timed round, an offline phone, anonymity, accessibility."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import (
    absolute,
    axe_violations,
    create_session,
    fill,
    join,
    open_console,
    send,
    unfold,
)

pytestmark = pytest.mark.store("memory")

NAMES = ["Asha Verma", "Ben Okafor", "Chloe Martin"]


def test_check_in_round_moves_on_by_itself(server, contexts, shots):
    base = server.base_url
    laptop = contexts()
    console = laptop.new_page()
    console.goto(base + "/")
    shots(console, "start-page")
    console.get_by_label("Title").fill("Tuesday reflective practice")
    with console.expect_response(re.compile(r"/start/phases")):  # the phases are swapped in for the format
        console.get_by_label("Format").select_option("check-in-out")
    expect(console.locator("#format")).not_to_have_class(re.compile("htmx-request"))
    expect(console.locator("#phases")).not_to_have_class(re.compile("htmx-(swapping|settling)"))
    console.get_by_label("Check-in").fill("5")
    console.get_by_role("button", name=re.compile("Create session")).click()
    console.wait_for_url(re.compile(r"/console/[A-Z0-9]{6}#key="))
    code = console.url.split("/console/")[1][:6]
    expect(console.locator("#status")).to_have_text("Not started")
    expect(console.locator("#timeline")).to_contain_text("5 min")
    expect(console.locator("#screen-link")).to_be_visible()
    screen_url = console.locator("#screen-link").get_attribute("href")

    phones = [join(contexts(phone=True), base, code, name) for name in NAMES]
    expect(console.locator("#people")).to_contain_text("People (3)")
    screen = contexts().new_page()
    screen.goto(absolute(base, screen_url))
    expect(screen.locator(".huge-code")).to_have_text(code)
    shots(screen, "screen-lobby")
    shots(console, "console-lobby")

    console.get_by_role("button", name="Start the session").click()
    expect(console.locator("#status")).to_have_text("Running")
    console.get_by_label("Seconds per turn").fill("5")  # long enough for the screenshots below on a busy machine
    console.keyboard.press("Escape")
    console.locator("#c-round").click()

    # Each phone in turn sees its own turn; nobody touches anything: the server moves it on.
    for i, phone in enumerate(phones):
        expect(phone.locator("#glance"), f"phone {i}").to_contain_text("Your turn", timeout=9000)
        expect(phone.locator("#glance [data-ends-at]")).to_have_text(re.compile(r"0:0[0-5]"))
        if i == 0:
            expect(phones[1].locator("#glance")).to_contain_text("Up next")
            expect(console.locator("#floor")).to_contain_text(f"{NAMES[0]} has the floor")
            expect(screen.locator("#stage")).to_contain_text(NAMES[0])
            shots(phone, "phone-your-turn")
            shots(phones[1], "phone-up-next")
            shots(console, "console-round")
            shots(screen, "screen-round")
        others = [p for p in phones if p is not phone]
        for other in others:
            expect(other.locator("#glance")).not_to_contain_text("Your turn")
    expect(console.locator("#round")).to_contain_text("No round running", timeout=9000)
    expect(console.locator("#floor")).to_contain_text("Nobody has the floor")
    bars = console.locator("#voice svg .bar")
    expect(bars).to_have_count(3)
    label = console.locator("#voice svg").get_attribute("aria-label") or ""
    assert all(name in label for name in NAMES) and "(0%)" not in label, label
    shots(console, "console-after-round")


def test_offline_phone_loses_nothing_it_sent(server, contexts, shots):
    base = server.base_url
    created = create_session(base, "Offline group")
    console = open_console(contexts(), base, created)
    phone_ctx = contexts(phone=True)
    phone = join(phone_ctx, base, created["code"], "Dana Reyes")
    send(console, "Start the session")
    expect(phone.locator("#hand")).to_contain_text("Raise my hand")

    phone_ctx.set_offline(True)
    phone.wait_for_function("() => navigator.onLine === false")
    fill(phone.get_by_label("Your question or feedback"), "What helps when a shift goes badly?")
    send(phone, "Send")
    send(phone, "Raise my hand")
    fill(phone.get_by_label("What will you do?"), "Ask for a debrief after hard shifts")
    send(phone, "Save action")
    expect(phone.locator("#conn")).to_contain_text("Waiting to be sent when you are back: 3.")
    shots(phone, "phone-offline")
    time.sleep(0.5)
    expect(console.locator("#items")).to_contain_text("0 questions waiting")

    phone_ctx.set_offline(False)
    expect(console.locator("#items")).to_contain_text("1 question waiting")
    expect(console.locator("#queue")).to_contain_text("Dana Reyes")
    expect(console.locator("#actions")).to_contain_text("Ask for a debrief after hard shifts")
    expect(phone.locator("#conn")).to_be_hidden()
    assert phone.evaluate("() => Object.keys(localStorage).filter(k => k.startsWith('tp:outbox'))"
                          ".map(k => JSON.parse(localStorage[k]).length)") == [0]

    # Once: a reload and a second connection resend nothing and double nothing.
    phone.reload()
    expect(phone.locator("#hand")).to_contain_text("Lower my hand")
    time.sleep(0.5)
    view = httpx.get(f"{base}/api/sessions/{created['code']}",
                     headers={"Authorization": f"Bearer {created['facilitator_token']}"}).json()
    assert view["pending"] == {"question": 1, "feedback": 0}
    assert [a["text"] for a in view["actions"]] == ["Ask for a debrief after hard shifts"]
    shots(console, "console-after-reconnect")


def test_revealed_anonymous_question_shows_no_name_anywhere(server, contexts, shots):
    base = server.base_url
    created = create_session(base, "Anonymity check")
    console = open_console(contexts(), base, created)
    phones = [join(contexts(phone=True), base, created["code"], name) for name in NAMES]
    screen = contexts().new_page()
    screen.goto(absolute(base, created["screen_url"]))
    send(console, "Start the session")
    questions = ["How do we stay kind when tired?", "Who supports the night team?", "Can we talk about breaks?"]
    for phone, text in zip(phones, questions):
        fill(phone.get_by_label("Your question or feedback"), text)
        send(phone, "Send")
        expect(phone.locator("#main")).to_contain_text("Nobody can see who wrote it")
    expect(console.locator("#items")).to_contain_text("3 questions waiting")
    console.get_by_role("button", name="Reveal questions").click()

    pages = [console, screen, *phones]
    for page in pages:
        for text in questions:
            expect(page.locator("#items")).to_contain_text(text)
    ids = [p["id"] for p in httpx.get(f"{base}/api/sessions/{created['code']}", headers={
        "Authorization": f"Bearer {created['facilitator_token']}"}).json()["participants"]]
    for page in pages:
        for item in page.locator("#items li").all():
            html = item.evaluate("el => el.outerHTML")
            for needle in [*NAMES, *(n.split()[0] for n in NAMES), *ids]:
                assert needle not in html, (page.url, needle, html)
    unfold(phones[0].locator("#items li").first)
    phones[0].locator("#items li").first.get_by_role("button").click()
    expect(phones[0].locator("#items")).to_contain_text("you voted")
    shots(console, "console-revealed")
    shots(phones[0], "phone-revealed")
    shots(screen, "screen-revealed")


def test_pages_have_no_serious_accessibility_violations(server, contexts, shots):
    base = server.base_url
    start = contexts().new_page()
    start.goto(base + "/")
    created = create_session(base, "Accessible group")
    console = open_console(contexts(), base, created)
    phone_ctx = contexts(phone=True)
    joining = phone_ctx.new_page()
    joining.goto(f"{base}/join/{created['code']}")
    phone = join(phone_ctx, base, created["code"], "Eve Stone")
    send(console, "Start the session")
    expect(phone.locator("#hand")).to_contain_text("Raise my hand")
    screen = contexts().new_page()
    screen.goto(absolute(base, created["screen_url"]))
    expect(screen.locator("#status")).not_to_have_text("Connecting…")
    big_text = contexts(phone=True).new_page()
    big_text.goto(f"{base}/join/{created['code']}")
    big_text.evaluate("() => document.documentElement.style.fontSize = '200%'")
    problems = {}
    for name, page in [("start", start), ("console", console), ("phone-join", joining), ("phone", phone),
                       ("screen", screen)]:
        found = axe_violations(page)
        if found:
            problems[name] = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in found]
        shots(page, name)
    assert not problems, problems
    # 200% text on a 360 px phone: nothing scrolls sideways.
    assert big_text.evaluate("() => document.documentElement.scrollWidth") <= 360
    shots(big_text, "phone-200-percent-text")
