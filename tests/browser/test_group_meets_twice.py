"""A recurring group meets twice in real Chromium, tried as a new user would.

Session 1: the facilitator keeps a group from the start page and starts its first session with
the key shown once; members join and are given their member codes; they write actions and
choose which to carry; the facilitator proposes lines for the summary, one member objects to
one of them; the session closes, and the summary downloaded as Markdown holds only what the
group agreed. Session 2: the same phones join the group's next session and are recognised by
the code they kept; in the check-in each speaker's phone and the screen show that person's
carried actions ("Last time you planned…"), nobody else's, and marking one done works.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import axe_violations, fill, join, send

pytestmark = pytest.mark.store("redis")

ASHA, BEN, CHLOE = NAMES = ["Asha Verma", "Ben Okafor", "Chloe Martin"]
# What each writes in session 1, and which of it they carry to session 2.
ACTIONS = {ASHA: ["Ask for a debrief after night shifts", "Try the new handover sheet"],
           BEN: ["Read the safeguarding policy again"],
           CHLOE: ["Take a proper lunch break"]}
CARRIED = {ASHA: ["Ask for a debrief after night shifts"], BEN: ["Read the safeguarding policy again"], CHLOE: []}
THEME = "Workload on night shifts weighs on everyone"
CHANGE = "Handovers need a quiet room"  # Ben objects: it must stay out of the summary
QUESTIONS = ["What helps you switch off after a shift?", "When did you last feel heard at work?",
             "What would make handovers calmer?"]


def start_session(console: Page, title: str, group_key: str) -> str:
    console.get_by_label("Title").fill(title)
    console.get_by_label("Group key", exact=True).fill(group_key)
    console.get_by_role("button", name=re.compile("Create session")).click()
    console.wait_for_url(re.compile(r"/console/[A-Z0-9]{6}#key="))
    expect(console.locator("#status")).to_have_text("Not started")
    return console.url.split("/console/")[1][:6]


def member_code(phone: Page) -> str | None:
    return phone.evaluate("() => { const g = document.querySelector('#member-card').dataset.group;"
                          " return localStorage.getItem('tp:member:' + g); }")


def give_turn(console: Page, name: str) -> None:
    console.get_by_role("button", name=f"Give the turn to {name}").first.click()
    expect(console.locator("#floor")).to_contain_text(f"{name} has the floor")


def add_action(phone: Page, text: str) -> None:
    fill(phone.get_by_label("What will you do?"), text)
    send(phone, "Save action")
    expect(phone.locator("#main")).to_contain_text("Action saved")


def download(page: Page, button: str) -> str:
    with page.expect_download() as info:
        page.get_by_role("button", name=button).click()
    return Path(info.value.path()).read_text(encoding="utf-8")


def test_a_group_meets_twice_and_the_check_in_asks_each_member_about_their_own_actions(server, contexts, shots):
    base = server.base_url
    urls: list[str] = []  # every HTTP request any of the browsers made (no fragment: it never leaves)

    def opened(phone: bool = False):
        ctx = contexts(phone=phone)
        ctx.on("request", lambda request: urls.append(request.url))
        return ctx

    console = opened().new_page()
    console.goto(base + "/")

    # The facilitator keeps a group: its key is shown this once, and filled into the session form.
    console.get_by_label("Group name").fill("Ward 4 reflective practice")
    console.get_by_role("button", name="Create the group").click()
    created = console.locator("#group-created")
    expect(created).to_contain_text("shown only this once")
    group_key = console.locator("#new-group-key").input_value()
    assert re.fullmatch(r"[0-9a-f]{16}\.[\w-]{20,}", group_key)
    expect(console.get_by_label("Group key", exact=True)).to_have_value(group_key)
    expect(console.locator("#new-group-key")).to_be_focused()
    assert axe_violations(console) == []
    shots(console, "start-group-created")
    console.reload()  # a reload asks the server again: the key is not shown again
    expect(console.locator("#group-created")).to_have_count(0)
    console.goto(base + "/")

    # ---------------------------------------------------------------- session 1
    code = start_session(console, "Ward 4, March", group_key)
    screen_url = console.locator("#screen-link").get_attribute("href")
    phone_ctx = {name: opened(phone=True) for name in NAMES}
    phones = {name: join(phone_ctx[name], base, code, name) for name in NAMES}
    codes = {}
    for name, phone in phones.items():
        card = phone.locator("#member-card")
        expect(card).to_have_attribute("open", "")  # shown open the first time, with how to keep it
        expect(card).to_contain_text("note this code down")
        codes[name] = member_code(phone)
        expect(phone.locator("#member-code-text")).to_have_text(codes[name])
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}", codes[name])  # typeable: four groups of four
    assert len(set(codes.values())) == 3
    expect(phones[ASHA].locator("#member-link")).to_have_attribute("href", re.compile(r"/join#member=[0-9a-f]{16}\."))
    shots(phones[ASHA], "phone-member-code")
    screen = opened().new_page()
    screen.goto(base + screen_url)

    send(console, "Start the session")
    expect(console.locator("#status")).to_have_text("Running")
    # Nobody carried anything in yet: the check-in shows no review on the screen or any phone.
    give_turn(console, ASHA)
    expect(phones[ASHA].locator("#glance")).to_contain_text("Your turn")
    expect(screen.locator("#g-floor-carried")).to_be_empty()
    expect(phones[ASHA].locator("#g-carried")).to_be_empty()

    # Questions, so that there is a revealed item to propose.
    for phone, text in zip(phones.values(), QUESTIONS):
        fill(phone.get_by_label("Your question or feedback"), text)
        send(phone, "Send")
        expect(phone.locator("#main")).to_contain_text("Nobody can see who wrote it")
    sent = min(len(QUESTIONS), len(phones))  # counted at a fold, then revealable
    expect(console.locator("#items")).to_contain_text(f"{sent} questions waiting")
    console.locator("#reveal-question").click()
    expect(console.locator("#proposals")).to_contain_text(QUESTIONS[0])

    # Actions, and each member chooses what to carry to the next meeting.
    for name, texts in ACTIONS.items():
        for text in texts:
            add_action(phones[name], text)
        carry = phones[name].locator("#carry")
        expect(carry).to_contain_text("Take to the next session?")
        for text in CARRIED[name]:
            carry.get_by_role("button", name=f"Carry forward: {text}").click()
            expect(carry.get_by_role("button", name=f"Carried to next time, tap to stop: {text}")).to_be_visible()
    expect(phones[ASHA].locator("#carry")).not_to_contain_text(ACTIONS[BEN][0])
    shots(phones[ASHA], "phone-carry")

    # The facilitator proposes a theme, a change and a revealed question; the phones answer.
    for kind, text in (("theme", THEME), ("change", CHANGE)):
        console.locator("#proposal-kind").select_option(kind)
        console.get_by_label(re.compile("^Text")).fill(text)
        console.get_by_role("button", name="Ask the group").click()
        expect(console.locator("#proposals")).to_contain_text(text)
    console.get_by_role("button", name=f"Propose for the summary: {QUESTIONS[1]}").click()
    expect(console.locator("#proposals .proposal-list li")).to_have_count(3)
    for name, phone in phones.items():
        ballot = phone.locator("#consent")
        expect(ballot.locator("li")).to_have_count(3)
        if name == ASHA:
            shots(phone, "phone-ballot")
            assert axe_violations(phone) == []
        for text in (THEME, QUESTIONS[1], CHANGE):
            answer = "Object" if name == BEN and text == CHANGE else "Agree"
            ballot.get_by_role("button", name=f"{answer}: {text}").click()
            expect(phone.locator("#main")).to_contain_text("Nobody can see which answer was yours")
            # Taken, as the person sees it, before the next tap: the answered proposal's buttons go.
            expect(ballot.get_by_role("button", name=re.compile(f"^(Agree|Object): {re.escape(text)}$"))).to_have_count(0)
            if name == ASHA and text == THEME:  # the answered buttons are gone: focus moves on, not to the top
                expect(ballot.get_by_role("button", name=f"Agree: {CHANGE}")).to_be_focused()
        expect(ballot.get_by_role("button", name=re.compile("^(Agree|Object)"))).to_have_count(0)
        expect(ballot).to_contain_text("You have answered")
    change = console.locator("#proposals li", has_text=CHANGE)
    expect(change).to_contain_text("2 agree · 1 object")
    expect(change).to_contain_text("left out")
    expect(console.locator("#proposals li", has_text=THEME)).to_contain_text("3 agree · 0 object")
    shots(console, "console-proposals")

    console_keys = [console.url.split("#key=")[1].split("&")[0]]
    console.get_by_text("Close the session…").click()
    console.get_by_role("button", name="Close for everyone").click()
    expect(console.locator("#status")).to_have_text("Closed")

    # The summary holds the agreed lines only: as Markdown, and on the print page.
    markdown = download(console, "Download Markdown")
    assert THEME in markdown and QUESTIONS[1] in markdown
    assert CHANGE not in markdown and QUESTIONS[0] not in markdown
    assert not any(name in markdown for name in NAMES)  # no names on the chart: nobody proposed them
    with console.expect_popup() as popup:
        console.get_by_role("link", name="Print-ready page").click()
    printed = popup.value
    expect(printed.locator("#summary")).to_contain_text(THEME)
    expect(printed.locator("#summary")).not_to_contain_text(CHANGE)
    assert "#key=" in printed.url
    shots(printed, "summary-print")
    # Each member's own copy adds their own actions, nobody else's.
    mine = download(phones[BEN], "Download (Markdown)")
    assert ACTIONS[BEN][0] in mine and ACTIONS[ASHA][0] not in mine and THEME in mine and CHANGE not in mine

    # Ben will come back on a new phone: he keeps his personal link.
    ben_link = phones[BEN].locator("#member-link").get_attribute("href")
    assert ben_link == f"{base}/join#member={ben_link.split('#member=')[1]}" and codes[BEN] in ben_link

    # ---------------------------------------------------------------- session 2
    console.goto(base + "/")
    expect(console.locator("#group-created")).to_have_count(0)
    code2 = start_session(console, "Ward 4, April", group_key)
    assert code2 != code
    screen.goto(base + console.locator("#screen-link").get_attribute("href"))
    phone_ctx[BEN] = opened(phone=True)  # a new phone, nothing in its storage: the link brings the code
    page = phone_ctx[BEN].new_page()
    page.goto(ben_link)
    expect(page.locator("#member-kept")).to_be_visible()
    assert "#member" not in page.url  # taken out of the address bar and history
    page.get_by_label("Session code").fill(code2)
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(f"{base}/join/{code2}")
    page.close()
    phones = {}
    for name in NAMES:
        page = phone_ctx[name].new_page()
        page.goto(f"{base}/join/{code2}")
        expect(page.get_by_label(re.compile("Member code"))).to_have_value(codes[name])  # this phone kept it
        page.close()
        phones[name] = join(phone_ctx[name], base, code2, name)
        expect(phones[name].locator("#member-card")).not_to_have_attribute("open", "")
        expect(phones[name].locator("#member-code-text")).to_have_text(codes[name])

    # Before the check-in, each phone already holds its own carried actions and nobody else's.
    for name, phone in phones.items():
        carried = phone.locator("#g-carried")
        for other in NAMES:
            for text in ACTIONS[other]:
                if other == name and text in CARRIED[name]:
                    expect(carried).to_contain_text(text)
                else:
                    expect(carried).not_to_contain_text(text)
    expect(phones[CHLOE].locator("#g-carried")).to_be_empty()  # carried nothing

    send(console, "Start the session")
    expect(console.locator("#timeline [aria-current=step]")).to_contain_text("Check-in")
    give_turn(console, ASHA)
    asha = phones[ASHA].locator("#carried")
    expect(asha).to_contain_text("Last time you planned… How did it go?")
    expect(asha).to_contain_text(CARRIED[ASHA][0])
    stage = screen.locator("#g-floor-carried")
    expect(stage).to_contain_text(f"Last time {ASHA} planned")
    expect(stage).to_contain_text(CARRIED[ASHA][0])
    expect(stage).not_to_contain_text(CARRIED[BEN][0])
    expect(console.locator("#g-floor-carried")).to_contain_text(CARRIED[ASHA][0])
    expect(phones[BEN].locator("#g-carried")).not_to_contain_text(CARRIED[ASHA][0])
    expect(phones[BEN].locator("#g-carried")).not_to_contain_text("Last time you planned")
    assert axe_violations(phones[ASHA]) == []
    shots(phones[ASHA], "phone-check-in-review")
    shots(screen, "screen-check-in-review")

    phones[ASHA].get_by_role("button", name=f"Done: {CARRIED[ASHA][0]}").click()
    expect(phones[ASHA].get_by_role("button", name=f"Done: {CARRIED[ASHA][0]} (chosen)")).to_be_visible()
    expect(stage.locator("li", has_text=CARRIED[ASHA][0])).to_contain_text("done")
    shots(screen, "screen-marked-done")

    give_turn(console, BEN)
    expect(stage).to_contain_text(f"Last time {BEN} planned")
    expect(stage).to_contain_text(CARRIED[BEN][0])
    expect(stage).not_to_contain_text(CARRIED[ASHA][0])
    expect(phones[BEN].locator("#carried")).to_contain_text("Last time you planned")
    expect(phones[ASHA].locator("#carried")).to_contain_text("What you carried from last time")
    phones[BEN].get_by_role("button", name=f"Still going: {CARRIED[BEN][0]}").click()
    expect(stage.locator("li", has_text=CARRIED[BEN][0])).to_contain_text("still going")
    shots(phones[BEN], "phone-still-going")

    give_turn(console, CHLOE)  # carried nothing: the screen shows no review for her
    expect(stage).to_be_empty()

    # No key went into a request's URL (the summary's came in fragments and headers) or the log.
    console_keys.append(console.url.split("#key=")[1].split("&")[0])
    secrets = [group_key.split(".")[1], *codes.values(), *console_keys]
    assert any("/summary/" in url for url in urls) and any("/summary.md" in url for url in urls)
    assert [s for s in secrets if any(s in url for url in urls)] == []
    log = server.log_path.read_text(encoding="utf-8", errors="replace")
    assert [s for s in secrets if s in log] == []
