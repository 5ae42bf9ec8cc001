"""One room, three languages, in real Chromium: the console in English, one phone in Welsh
(from its browser's Accept-Language) and one in Polish (chosen with the picker, then
remembered), and the room's screen in Polish too (chosen for it on the console). Each page must be wholly in its own language: no English on it outside
people's names, what they wrote, the session's title and code, and the picker's language
names; and axe finds no violation on any of them. Both store modes.

The same journey runs again with the pseudo-locales (en-XA for the "Welsh" phone, ar-XB,
right to left, for the "Polish" one: every message accented and bracketed), which proves
the wiring for every message, translated or not: a single unwrapped string shows up as
unaccented English.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from app.pages import catalogs
from tests.browser.helpers import absolute, axe_all, create_session, unfold
from tests.conftest import server_env
from tests.support.server import ServerProcess

pytestmark = pytest.mark.store("memory")

# (the phone that follows its browser, the phone that uses the picker, that one's picker label)
REAL = ("cy", "pl")
PSEUDO = ("en-XA", "ar-XB")


CASES = [pytest.param(REAL, id="welsh-and-polish"), pytest.param(PSEUDO, id="pseudo-locales")]


@pytest.fixture(scope="module")
def lang_server(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    """A server of this module's own, on the store the module names: the pseudo-locales are on
    (they never are otherwise)."""
    mode = request.node.get_closest_marker("store").args[0]
    log = request.getfixturevalue("tmp_path_factory").mktemp(f"lang-{mode}") / "server.log"
    proc = ServerProcess(env={**server_env(mode, request), "TP_PSEUDO_LOCALES": "1"}, log_path=log).start()
    try:
        yield proc
    finally:
        proc.stop()


VISIBLE_TEXT = """() => {
  const own = document.documentElement.lang, out = [];
  const shown = el => el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const foreign = el => { const l = el.closest('[lang]'); return l && l.getAttribute('lang') !== own; };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement, text = n.textContent.trim();
    if (!text || !shown(el) || foreign(el) || el.closest('script, style, select')) continue;
    out.push(text);
  }
  for (const el of document.querySelectorAll('[aria-label], [placeholder], [title]')) {
    if (!shown(el) || foreign(el)) continue;
    for (const a of ['aria-label', 'placeholder', 'title']) if (el.getAttribute(a)) out.push(el.getAttribute(a));
  }
  const chosen = document.querySelector('#language-choice');
  if (chosen) out.push(document.title);
  return out;
}"""


def english_on(page: Page, lang: str, allowed: list[str]) -> list[str]:
    """The visible texts of ``page`` that are English: for a pseudo-locale any letters outside
    its brackets; for a language, any message of the English catalog that it translates."""
    texts = page.evaluate(VISIBLE_TEXT)
    allowed = sorted(allowed, key=len, reverse=True)  # a link before the code inside it
    found = []
    if lang in PSEUDO:
        for text in texts:
            rest = re.sub(r"\[[^\]]*\]", "", text)
            for kept in allowed:
                rest = rest.replace(kept, "")
            if re.search(r"[A-Za-z]{2,}", rest):
                found.append(text)
        return found
    path = catalogs.catalog_paths()[lang]
    catalog = catalogs._read(path, lang)
    english = set()
    for message in catalog:
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        for msgid in ids:
            for piece in re.split(r"%\([a-z_]+\)[sd]|<[^>]+>", msgid or ""):
                piece = piece.strip(" .,:;·()“”")
                if len(piece) >= 12 and " " in piece and not any(piece in s for s in strings):
                    english.add(piece)
    page_text = "\n".join(texts)
    for kept in allowed:
        page_text = page_text.replace(kept, "")
    return sorted(p for p in english if p in page_text)


def no_violations(page: Page, where: str) -> None:
    found = axe_all(page)
    assert not found, f"{where}: {found}"


@pytest.mark.parametrize("langs", CASES)
def test_one_room_three_languages(lang_server, contexts, shots, langs: tuple[str, str]) -> None:
    follows, picks = langs
    base = lang_server.base_url
    created = create_session(base, "Ward 7 reflective practice", "check-in-out")
    code = created["code"]
    allowed = ["Ward 7 reflective practice", code, " ".join(code), "Anwen", "Zofia", "Talking Piece",
               f"{base}/join/{code}", base.split("//")[1] + "/join", "Shift+N", "UTC",
               "Mae'r gwely yn rhydd?"]  # what Anwen writes

    console = contexts(viewport={"width": 1280, "height": 800}, locale="en-GB").new_page()
    screen_key = created["screen_url"].split("#key=")[1]
    console.goto(absolute(base, created["console_url"]) + f"&screen={screen_key}")
    expect(console.locator("#status")).to_have_text("Not started")
    # The facilitator chooses the screen's language on the console: the screen link carries it.
    console.locator("#screen-language").select_option(picks)
    screen_link = console.locator("#screen-link").get_attribute("href")
    assert screen_link and f"?lang={picks}" in screen_link
    screen = contexts(viewport={"width": 1920, "height": 1080}, locale="en-GB").new_page()
    screen.goto(absolute(base, screen_link))
    expect(screen.locator("html")).to_have_attribute("lang", picks)
    expect(screen.locator("#status")).to_have_attribute("data-status", "lobby")

    # The first phone follows its browser's language.
    a_ctx = contexts(phone=True, extra_http_headers={"Accept-Language": f"{follows},en;q=0.5"})
    phone_a = a_ctx.new_page()
    phone_a.goto(f"{base}/join/{code}")
    expect(phone_a.locator("html")).to_have_attribute("lang", follows)
    # The second phone opens in English and chooses its language with the picker.
    b_ctx = contexts(phone=True, locale="en-GB")
    phone_b = b_ctx.new_page()
    phone_b.goto(f"{base}/join/{code}")
    expect(phone_b.locator("html")).to_have_attribute("lang", "en")
    phone_b.locator("#language-choice").select_option(picks)
    expect(phone_b.locator("html")).to_have_attribute("lang", "en")  # choosing alone changes nothing (WCAG 3.2.2)
    phone_b.locator("[data-language-submit]").click()
    expect(phone_b.locator("html")).to_have_attribute("lang", picks)
    phone_b.goto(f"{base}/join/{code}")  # remembered: the cookie, not the URL
    expect(phone_b.locator("html")).to_have_attribute("lang", picks)
    if picks == "ar-XB":
        expect(phone_b.locator("html")).to_have_attribute("dir", "rtl")

    for phone, name in ((phone_a, "Anwen"), (phone_b, "Zofia")):
        assert not english_on(phone, phone.evaluate("document.documentElement.lang"), allowed), name
        phone.locator("#name").fill(name)
        phone.locator("#agree").check()
        phone.locator("#join-btn").click()
        expect(phone.locator("#room")).to_be_visible()
        expect(phone.locator("#glance-h")).not_to_be_empty()

    console.locator("#c-start").click()
    expect(console.locator("#status")).to_have_text("Running")
    console.locator("#c-round").click()
    expect(console.locator("#floor .holder")).to_contain_text("has the floor")

    # Anwen writes a question: the reply beside the button is in her language too.
    fold = phone_a.locator("#fold-write")
    unfold(phone_a.locator("#item-text"))
    phone_a.locator("#item-text").fill("Mae'r gwely yn rhydd?")
    phone_a.locator("#send-item").click()
    expect(fold.locator(".notice.ok")).to_be_visible()

    for page, lang, where in ((phone_a, follows, "phone A"), (phone_b, picks, "phone B")):
        expect(page.locator("#status")).to_have_attribute("data-status", "running")
        page.locator("details.fold").evaluate_all("els => els.forEach(d => d.open = true)")
        left = english_on(page, lang, allowed)
        assert not left, f"{where} ({lang}) shows English: {left[:10]}"
        no_violations(page, where)
        shots(page, f"{lang}-{where.replace(' ', '-')}")

    expect(screen.locator("#status")).to_have_attribute("data-status", "running")
    left = english_on(screen, picks, allowed)
    assert not left, f"screen ({picks}) shows English: {left[:10]}"
    no_violations(screen, "screen")
    shots(screen, f"{picks}-screen")

    # The console stays English: no pseudo accents, no Welsh or Polish.
    assert console.locator("html").get_attribute("lang") == "en"
    assert "~~" not in console.locator("main").inner_text()  # what every pseudo-locale message ends with
    no_violations(console, "console")
    shots(console, "console")
