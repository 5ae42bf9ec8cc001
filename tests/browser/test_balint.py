"""A Balint group in real Chromium, tried as a new user would.

The presenter's phone is locked to listening during the discussion, anonymous questions stay
sealed until three are in, a word afterwards reaches the facilitator alone, the wellbeing spread
shows only once enough have answered, and each participant leaves with a reflection file that
only their own phone could download.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import (
    absolute,
    axe_violations,
    check,
    create_session,
    fill,
    join,
    open_console,
    send,
)

pytestmark = pytest.mark.store("memory")

PRESENTER, *GROUP = NAMES = ["Asha Verma", "Ben Okafor", "Chloe Martin", "Dev Patel"]
ACTIONS = {"Asha Verma": "Talk to my supervisor about this family", "Ben Okafor": "Read about transference"}
QUESTIONS = ["How old was the patient when you first met?", "Who else was in the room?",
             "How often did you see her after that?"]
# Each person's reflection: (prompt label, words only they wrote).
REFLECTIONS = {
    "Asha Verma": ("2. Feelings", "I felt the group hold the weight I had carried alone"),
    "Ben Okafor": ("1. Description", "Asha told a case about a patient who kept missing visits"),
    "Chloe Martin": ("3. Evaluation", "Hearing the others made me think of my own cases"),
    "Dev Patel": ("6. Action plan", "Bring my own stuck case to the next meeting"),
}


def token_of(phone: Page, code: str) -> str:
    return phone.evaluate("code => localStorage.getItem('tp:token:' + code)", code)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def rate(phone: Page, score: int) -> None:
    phone.get_by_role("button", name=f"Rate {score} of 5").click()
    expect(phone.locator("#main")).to_contain_text("Only the spread of answers is shown")


def next_phase(console: Page, title: str) -> None:
    console.locator("#c-phase").click()
    expect(console.locator("#timeline [aria-current=step]")).to_contain_text(title)


def ask(phone: Page, text: str) -> None:
    fill(phone.get_by_label("Your question or feedback"), text)
    send(phone, "Send")
    expect(phone.locator("#main")).to_contain_text("Nobody can see who wrote it")


def write_reflection(phone: Page, name: str) -> None:
    label, words = REFLECTIONS[name]
    fill(phone.get_by_label(label), words)
    phone.get_by_role("button", name="Save my reflection").click()


def test_balint_group_protects_the_presenter_and_keeps_each_reflection_private(server, contexts, shots):
    base = server.base_url
    created = create_session(base, "Balint group, Thursday", "balint")
    code = created["code"]
    console = open_console(contexts(), base, created)
    phones = {name: join(contexts(phone=True), base, code, name) for name in NAMES}
    presenter = phones[PRESENTER]
    screen = contexts().new_page()
    screen.goto(absolute(base, created["screen_url"]))
    send(console, "Start the session")
    expect(console.locator("#timeline [aria-current=step]")).to_contain_text("Check-in")

    # Check-in: the wellbeing spread stays hidden until three have answered and the facilitator
    # shows it, then only counts.
    rate(phones["Ben Okafor"], 4)
    rate(phones["Chloe Martin"], 2)
    expect(console.locator("#safety")).to_contain_text("2 answered. The spread is shown once enough")
    expect(console.locator("#safety svg")).to_have_count(0)
    expect(screen.locator("#wellbeing svg")).to_have_count(0)
    rate(phones["Dev Patel"], 4)
    expect(console.locator("#safety")).to_contain_text("3 answered")  # counted; shown when the facilitator shows it
    expect(screen.locator("#wellbeing svg")).to_have_count(0)
    console.get_by_role("button", name="Show the spread").click()
    for page in (console, screen):
        chart = page.locator("#wellbeing svg" if page is screen else "#safety svg")
        expect(chart).to_have_attribute("aria-label", re.compile(
            r"^3 answered, .*: 0 chose 1, 1 chose 2, 0 chose 3, 2 chose 4, 0 chose 5$"))
    shots(screen, "screen-wellbeing")
    next_phase(console, "The case, told from memory")  # the room's spread stays with the check-in
    expect(screen.locator("#wellbeing svg")).to_have_count(0)
    expect(console.locator("#safety svg")).to_have_count(1)

    # A word afterwards: named on the console, on nobody else's page; the tick shows it back.
    ben = phones["Ben Okafor"]
    check(ben.get_by_label("I'd like a word with the facilitator afterwards"))
    expect(console.locator("#safety")).to_contain_text("Ben Okafor would like a word afterwards")
    expect(ben.locator("#word")).to_contain_text("Asked.")
    expect(ben.get_by_label("I'd like a word with the facilitator afterwards")).to_be_checked()
    chloe = phones["Chloe Martin"]
    check(chloe.get_by_label("I'd like a word with the facilitator afterwards"))
    expect(console.locator("#safety")).to_contain_text("Chloe Martin would like a word afterwards")
    check(chloe.get_by_label("I'd like a word with the facilitator afterwards"), False)
    expect(console.locator("#safety")).not_to_contain_text("Chloe Martin would like")
    expect(chloe.locator("#word")).not_to_contain_text("Asked.")
    for page in (screen, *phones.values()):
        expect(page.locator("body")).not_to_contain_text("would like a word")
    shots(ben, "phone-word-asked")

    # The case: the facilitator makes Asha the presenter, who takes the floor.
    console.get_by_role("button", name=f"Make {PRESENTER} the presenter").click()
    expect(presenter.locator("#glance")).to_contain_text("Your turn")
    expect(console.locator("#safety")).to_contain_text(f"{PRESENTER} presents")

    # Factual questions: a member asks, and the presenter answers on their phone.
    next_phase(console, "Factual questions")
    expect(presenter.locator("#listening")).to_have_text("")
    asker = phones["Ben Okafor"]
    asker.get_by_role("button", name="Raise my hand").click()
    console.locator("#queue").get_by_role("button", name="Give the turn to Ben Okafor").click()
    expect(asker.locator("#glance")).to_contain_text("Your turn")
    expect(presenter.locator("#glance")).to_contain_text("Up next: you answer")
    asker.get_by_role("button", name="Done speaking").click()
    expect(presenter.locator("#glance")).to_contain_text("Your turn to answer")
    shots(presenter, "phone-presenter-answers")
    presenter.get_by_role("button", name="Done speaking").click()
    expect(presenter.locator("#glance")).not_to_contain_text("Your turn to answer")

    # The discussion: the presenter listens; no hand, no turn.
    next_phase(console, "The group explores; the presenter listens")
    expect(presenter.locator("#listening")).to_have_text(re.compile(r"^\s*You are listening now"))
    expect(presenter.locator("#listening")).to_have_attribute("role", "status")
    expect(presenter.locator("#hand button")).to_have_count(0)
    expect(presenter.get_by_role("button", name="Raise my hand")).to_have_count(0)
    expect(console.locator("#safety")).to_contain_text(f"{PRESENTER} listens only in this phase")
    for name in GROUP:
        expect(phones[name].get_by_role("button", name="Raise my hand")).to_be_visible()
        expect(phones[name].locator("#listening")).to_have_text("")
    refused = httpx.post(f"{base}/api/sessions/{code}/commands", json={"type": "raise_hand"},
                         headers=auth(token_of(presenter, code)))
    assert refused.status_code == 409, refused.text
    shots(presenter, "phone-presenter-listening")
    presenter.evaluate("() => document.documentElement.style.fontSize = '200%'")  # readable on a small phone
    assert presenter.evaluate("() => document.documentElement.scrollWidth") <= 360
    shots(presenter, "phone-presenter-listening-200-percent-text")
    presenter.evaluate("() => document.documentElement.style.fontSize = ''")

    # Anonymous questions: two are in, sealed everywhere (counts only), even when the facilitator tries.
    ask(phones["Ben Okafor"], QUESTIONS[0])
    ask(phones["Chloe Martin"], QUESTIONS[1])
    expect(console.locator("#items")).to_contain_text("2 questions waiting")
    for name in NAMES:
        expect(phones[name].locator("#items")).to_contain_text("Nothing revealed yet (2 questions")
    console.get_by_role("button", name="Reveal questions").click()
    expect(console.locator("#main")).to_contain_text("Only a few questions are waiting")
    shots(console, "console-two-questions-sealed")
    for page in (console, screen, *phones.values()):
        for text in QUESTIONS[:2]:
            expect(page.locator("body")).not_to_contain_text(text)
    ask(phones["Dev Patel"], QUESTIONS[2])
    expect(console.locator("#items")).to_contain_text("3 questions waiting")
    console.get_by_role("button", name="Reveal questions").click()
    for page in (console, screen, *phones.values()):
        for text in QUESTIONS:
            expect(page.locator("#items")).to_contain_text(text)
    shots(console, "console-balint")
    shots(screen, "screen-questions-revealed")

    problems = {name: [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in axe_violations(page)]
                for name, page in (("console", console), ("presenter", presenter), ("ben", ben))}
    assert not any(problems.values()), problems

    # Actions carry names (the group sees them); each record holds its writer's own actions only.
    fill(presenter.get_by_label("What will you do?"), ACTIONS[PRESENTER])
    send(presenter, "Save action")
    fill(ben.get_by_label("What will you do?"), ACTIONS["Ben Okafor"])
    send(ben, "Save action")
    expect(console.locator("#actions")).to_contain_text(ACTIONS["Ben Okafor"])

    # Reflections: each writes, saves and downloads their own; the guard asks before keeping a number.
    dev = phones["Dev Patel"]
    fill(dev.get_by_label("4. Analysis"), "Her GP said to call 07700 900123 if she got worse")
    write_reflection(dev, "Dev Patel")
    expect(dev.locator("#reflection-guard")).to_contain_text("a phone number")
    expect(dev.get_by_role("button", name="Edit it")).to_be_focused()
    shots(dev, "phone-reflection-guard")
    dev.get_by_role("button", name="Edit it").click()
    fill(dev.get_by_label("4. Analysis"), "Her GP was worried about her too")
    dev.get_by_role("button", name="Save my reflection").click()
    expect(dev.locator("#reflection-status")).to_contain_text("Saved at")

    fill(chloe.get_by_label("5. Conclusion"), "Mrs Okonkwo reminded me of my grandmother")
    write_reflection(chloe, "Chloe Martin")
    expect(chloe.locator("#reflection-guard")).to_contain_text("a person's full name")
    chloe.get_by_role("button", name="Save as it is").click()
    expect(chloe.locator("#reflection-status")).to_contain_text("Saved at")
    expect(chloe.locator("#reflection-guard")).to_be_hidden()

    for name in (PRESENTER, "Ben Okafor"):
        write_reflection(phones[name], name)
        expect(phones[name].locator("#reflection-status")).to_contain_text("Saved at")

    for name, phone in phones.items():
        with phone.expect_download() as download:
            phone.get_by_role("button", name="Download as Markdown").click()
        assert re.fullmatch(r"reflection-\d{4}-\d{2}-\d{2}\.md", download.value.suggested_filename)
        text = Path(download.value.path()).read_text(encoding="utf-8")
        assert REFLECTIONS[name][1] in text and "Balint group" in text, text
        assert ACTIONS.get(name, "None recorded") in text, text
        others = [words for other, (_, words) in REFLECTIONS.items() if other != name]
        others += [words for other, words in ACTIONS.items() if other != name]
        assert not any(words in text for words in others + QUESTIONS), text
        assert "07700 900123" not in text  # Dev edited it out before saving

    # What was saved comes back after a reload (the phone's key opens it again).
    chloe.reload()
    expect(chloe.get_by_label("3. Evaluation")).to_have_value(REFLECTIONS["Chloe Martin"][1])

    # The print-ready page opens from the phone with the phone's own key, no token in any URL.
    with presenter.context.expect_page() as opened:
        presenter.get_by_role("link", name="Print-ready page").click()
    printable = opened.value
    expect(printable.locator("h1")).to_have_text("Reflective practice record")
    expect(printable.locator("main")).to_contain_text(REFLECTIONS[PRESENTER][1])
    expect(printable.locator("main")).to_contain_text(ACTIONS[PRESENTER])
    expect(printable.locator("main")).not_to_contain_text(ACTIONS["Ben Okafor"])
    assert token_of(presenter, code) not in printable.url
    assert not axe_violations(printable), axe_violations(printable)
    shots(printable, "reflection-print-page")
    stranger = contexts(phone=True).new_page()
    stranger.goto(f"{base}/reflection/{code}")
    expect(stranger.locator("main")).to_contain_text("Open this page on the phone you joined the session with")

    # Nobody else's token reads a reflection: another participant's reads only their own, the
    # facilitator and the screen are refused, and no token at all is refused.
    asha_words = REFLECTIONS[PRESENTER][1]
    for name in GROUP:
        for path in ("reflection", "reflection?download=md", "reflection.html"):
            theirs = httpx.get(f"{base}/api/sessions/{code}/{path}", headers=auth(token_of(phones[name], code)))
            assert theirs.status_code == 200 and asha_words not in theirs.text
            assert REFLECTIONS[name][1] in theirs.text
    for token in (created["facilitator_token"], created["screen_token"]):
        for path in ("reflection", "reflection.html"):
            refused = httpx.get(f"{base}/api/sessions/{code}/{path}", headers=auth(token))
            assert refused.status_code == 403 and asha_words not in refused.text
    assert httpx.get(f"{base}/api/sessions/{code}/reflection.html").status_code == 401
    for page in (console, screen):
        expect(page.locator("body")).not_to_contain_text(asha_words)
    log = server.log_path.read_text(encoding="utf-8", errors="replace")
    assert asha_words not in log and token_of(presenter, code) not in log
