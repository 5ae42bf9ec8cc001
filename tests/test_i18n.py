"""The pages in the viewer's language: choosing it, its plurals, the memo per language, the
picker and <html lang dir>, the screen's default from the session (app/pages/i18n.py).

Rendering runs in-process (no server): what is tested is which words a page is given.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from fastapi.testclient import TestClient

from app.config import AppSettings
from app.live.htmx import render_regions
from app.main import create_app
from app.pages import i18n
from app.pages.regions import Regions
from app.pages.templates import templates
from app.realtime.frames import SESSION
from app.resources import STATIC
from tests.support.core import person, send, session

FORM = {"content-type": "application/x-www-form-urlencoded"}


def _reset() -> None:
    i18n.shipped.cache_clear()
    i18n.translations.cache_clear()




@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(AppSettings(data_dir=tempfile.mkdtemp(), sessions_db="off"))) as c:
        yield c


def _catalog(tmp: Path, code: str, messages: dict[str | tuple[str, str], str | tuple[str, ...]]) -> Path:
    catalog = Catalog(locale=code)
    for msgid, msgstr in messages.items():
        catalog.add(msgid, msgstr)
    path = tmp / code / "LC_MESSAGES" / "messages.po"
    path.parent.mkdir(parents=True)
    with path.open("wb") as f:
        write_po(f, catalog)
    return path


@pytest.fixture
def locale_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty app/locale/ of our own: the languages shipped are the catalogs put in it."""
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    _reset()
    yield tmp_path
    _reset()


# ------------------------------------------------------------------ choosing a language

def test_the_browser_preference_picks_the_first_shipped_language_it_names() -> None:
    assert i18n.negotiate(accept_language="pl-PL,pl;q=0.9,en;q=0.8") == "pl"
    assert i18n.negotiate(accept_language="de-DE, cy;q=0.5, fr;q=0.7") == "fr"  # by weight, not by order
    assert i18n.negotiate(accept_language="cy-GB") == "cy"  # a region falls back to its language
    assert i18n.negotiate(accept_language="de, ja;q=0.5") == "en"  # nothing shipped: English
    assert i18n.negotiate(accept_language="fr;q=0, es;q=0.1") == "es"  # q=0 means "not this one"
    assert i18n.negotiate(accept_language=";;;, q=x, *") == "en"  # garbage is no error


def test_the_picker_beats_the_cookie_which_beats_the_session_default_and_the_browser() -> None:
    assert i18n.negotiate(query="cy", cookie="pl", default="fr", accept_language="es") == "cy"
    assert i18n.negotiate(query="xx", cookie="pl", default="fr", accept_language="es") == "pl"
    assert i18n.negotiate(cookie="", default="fr", accept_language="es") == "fr"
    assert i18n.negotiate(cookie="klingon", accept_language="es") == "es"


def test_a_pseudo_locale_is_offered_only_when_the_setting_says_so(pseudo: None) -> None:
    assert "en-XA" in i18n.shipped() and "ar-XB" in i18n.shipped()
    assert i18n.negotiate(query="ar-XB") == "ar-XB"


def test_without_the_setting_no_pseudo_locale_is_offered() -> None:
    _reset()
    assert "en-XA" not in i18n.shipped() and "ar-XB" not in i18n.shipped()
    assert i18n.negotiate(query="en-XA") == "en"


def test_a_language_is_shipped_by_adding_its_one_catalog_file(locale_dir: Path) -> None:
    assert i18n.shipped() == ("en",)
    _catalog(locale_dir, "de", {"Join": "Beitreten", "Send": ""})
    _reset()
    assert i18n.shipped() == ("en", "de")
    assert {"code": "de", "name": "Deutsch"} in i18n.languages()
    with i18n.speaking("de"):
        assert i18n.gettext("Join") == "Beitreten"
        assert i18n.gettext("Send") == "Send"  # untranslated: English, never an empty button


# ------------------------------------------------------------------ plurals

PLURAL = templates.from_string(
    "{% trans count=n %}{{ count }} person has joined.{% pluralize %}{{ count }} people have joined.{% endtrans %}")


def test_english_plurals_say_one_person_and_two_people() -> None:
    with i18n.speaking("en"):
        assert [PLURAL.render(n=n) for n in (0, 1, 2)] == [
            "0 people have joined.", "1 person has joined.", "2 people have joined."]


def test_a_language_with_three_plural_forms_gets_each_of_them(locale_dir: Path) -> None:
    # Polish: 1 osoba, 2-4 osoby, 5+ osób; the rule comes from the catalog's locale.
    _catalog(locale_dir, "pl", {("%(num)s person has joined.", "%(num)s people have joined."):
                                ("%(num)s osoba dołączyła.", "%(num)s osoby dołączyły.", "%(num)s osób dołączyło."),
                                ("%(count)s person has joined.", "%(count)s people have joined."):
                                ("%(count)s osoba dołączyła.", "%(count)s osoby dołączyły.", "%(count)s osób dołączyło.")})
    _reset()
    with i18n.speaking("pl"):
        assert [PLURAL.render(n=n) for n in (1, 3, 5, 22)] == [
            "1 osoba dołączyła.", "3 osoby dołączyły.", "5 osób dołączyło.", "22 osoby dołączyły."]


def test_numbers_and_dates_are_written_as_the_viewer_writes_them() -> None:
    with i18n.speaking("pl"):
        assert i18n.local_number(1.5) == "1,5"
        assert i18n.local_datetime(1767362700) == "2 stycznia (piątek) o 14:05 UTC"  # never "o piątek"
    with i18n.speaking("cy"):
        assert i18n.local_datetime(1767362700) == "Dydd Gwener 2 Ionawr, 14:05 UTC"
    with i18n.speaking("en"):
        assert i18n.local_number(1.5) == "1.5"
        assert i18n.local_datetime(1767362700) == "2:05\u202fPM UTC on Friday 2 January"


def test_a_page_brings_its_own_month_and_weekday_names_for_browsers_without_them() -> None:
    """Chromium has no Welsh date data: the page carries CLDR's names and the time pattern."""
    words = i18n.date_words("cy")
    assert words["months"][11] == "Rhagfyr" and words["weekdays"][1] == "Dydd Llun"  # getDay(): Sunday is 0
    assert words["time"] == "HH:mm" and "%(weekday)s" in words["moment"]
    assert i18n.date_words("pl")["months"][11] == "grudnia"  # the form a date takes with its day


# ------------------------------------------------------------------ live regions per language

def test_each_language_renders_a_shared_region_once_and_gets_its_own_words(
        pseudo: None, monkeypatch: pytest.MonkeyPatch) -> None:
    state = send(send(session("check-in-out", 6), {"type": "start"}), {"type": "start_round", "seconds_per_turn": 60}, now=1)
    rendered: Counter[tuple[str, str]] = Counter()
    plain = Regions.render

    def counting(template: str, region, audience: dict, viewer: dict, lang: str = "en"):
        rendered[(region.name, lang)] += 1
        return plain(template, region, audience, viewer, lang)

    monkeypatch.setattr(Regions, "render", staticmethod(counting))
    cache: dict = {SESSION: {}}
    langs = ["en", "en", "en", "en-XA", "en", "en-XA"]
    pages = [render_regions(state, person(i), 2.0, cache, lang=lang) for i, lang in enumerate(langs)]
    # Person 0 speaks, person 1 is next, 2 to 5 wait: one glance in each language, the one
    # every phone of it is sent (each phone picks its own part of it).
    assert rendered[("glance", "en")] == 1 and rendered[("glance", "en-XA")] == 1
    assert pages[0]["glance"] == pages[2]["glance"] == pages[4]["glance"]
    assert pages[3]["glance"] == pages[5]["glance"] != pages[2]["glance"]
    assert "is speaking" in pages[2]["glance"] and "îš šþéåķîñĝ" in pages[3]["glance"]


def test_the_screen_and_a_phone_in_different_languages_each_get_their_own(pseudo: None) -> None:
    state = send(session("check-in-out", 2), {"type": "start"})
    from app.facilitation.models import SCREEN
    cache: dict = {SESSION: {}}
    screen = render_regions(state, SCREEN, 1.0, cache, lang="en")
    phone = render_regions(state, person(0), 1.0, cache, lang="en-XA")
    assert "Check-in" in screen["status"]
    assert "[Ċĥéċķ-îñ" in phone["status"] and "Check-in" not in phone["status"]


# ------------------------------------------------------------------ pages

def test_every_page_names_its_language_and_direction_and_offers_the_picker(pseudo: None, client: TestClient) -> None:
    for url in ("/", "/join", "/join/NOPE99"):
        page = client.get(url + "?lang=ar-XB").text
        assert re.search(r'<html lang="ar-XB" dir="rtl">', page), url
        assert '<select id="language-choice" name="lang"' in page and '<label for="language-choice">' in page
        assert '<option value="cy" lang="cy">Cymraeg</option>' in page
    client.cookies.clear()
    english = client.get("/", headers={"accept-language": "en-GB"}).text
    assert '<html lang="en" dir="ltr">' in english


def test_the_phone_remembers_its_choice_in_a_cookie(pseudo: None, client: TestClient) -> None:
    chosen = client.get("/join?lang=en-XA")
    assert "lang=en-XA" in chosen.headers["set-cookie"] and "Max-Age" in chosen.headers["set-cookie"]
    later = client.get("/join", headers={"accept-language": "fr"})  # the client sends the cookie back
    assert '<html lang="en-XA"' in later.text
    assert "[Ĵöîñ å šéššîöñ" in later.text


def test_the_facilitators_choice_is_the_screens_default_and_each_viewer_may_differ(
        pseudo: None, client: TestClient) -> None:
    made = client.post("/", content="title=Team&format=balint&language=en-XA", headers=FORM, follow_redirects=False)
    code = made.headers["location"].split("/")[2].split("#")[0]
    client.cookies.clear()
    assert '<html lang="en-XA"' in client.get(f"/screen/{code}", headers={"accept-language": "en"}).text
    chosen = client.get(f"/screen/{code}?lang=ar-XB")  # the screen's own picker
    assert '<html lang="ar-XB"' in chosen.text
    assert "set-cookie" not in chosen.headers  # the laptop's console keeps the facilitator's language
    client.cookies.clear()
    assert '<html lang="en"' in client.get(f"/console/{code}", headers={"accept-language": "en"}).text
    assert '<html lang="fr"' in client.get(f"/join/{code}", headers={"accept-language": "fr-FR"}).text


def test_an_error_on_the_start_page_is_in_the_viewers_language(pseudo: None, client: TestClient) -> None:
    refused = client.post("/?lang=en-XA", content="title=&format=balint", headers=FORM)
    assert refused.status_code == 422
    error = re.search(r'id="start-error">([^<]*)<', refused.text)
    assert error and error.group(1).startswith("[Ĝîṽé ţĥé šéššîöñ å ţîţļé")


def test_the_scripts_get_their_words_from_the_page(pseudo: None, client: TestClient) -> None:
    page = client.get("/join?lang=en-XA").text
    found = re.search(r'<script type="application/json" id="script-words">(.*?)</script>', page, re.S)
    assert found
    words = json.loads(found.group(1))
    assert words["reconnecting"].startswith("[Ŕéċöññéċţîñĝ…")
    assert "%(count)s" in words["waiting_to_send"]  # placeholders reach the script whole
    scripts = sorted((STATIC / "js").rglob("*.js"))
    assert len(scripts) > 20  # every page script, wherever it lives
    for path in scripts:
        name, script = path.stem, path.read_text()
        shown = re.findall(r"(?:textContent =|announce\(|banner\(|say\(|show\(|confirm\(|new Error\()\s*['\"]([A-Z][a-z][^'\"]+)['\"]", script)
        assert not shown, f"{name}.js shows English of its own: {shown}"


def test_the_downloads_are_in_the_readers_language(pseudo: None, client: TestClient) -> None:
    made = client.post("/api/sessions", json={"title": "Team", "format": "balint"}).json()
    key = {"Authorization": f"Bearer {made['facilitator_token']}"}
    english = client.get(f"/api/sessions/{made['code']}/summary.md", headers={**key, "accept-language": "en"}).text
    assert "## Share of voice" in english and "- Format: Balint group" in english
    pseudo_md = client.get(f"/api/sessions/{made['code']}/summary.md?lang=en-XA", headers=key).text
    assert "## Share of voice" not in pseudo_md
    assert "Šĥåŕé öƒ ṽöîċé" in pseudo_md
    assert "Ɓåļîñţ ĝŕöûþ" in pseudo_md  # the format's title, from its TOML file, through the catalog
    printed = client.get(f"/api/sessions/{made['code']}/summary.html?lang=en-XA", headers=key).text
    assert '<html lang="en-XA"' in printed and "Šĥåŕé öƒ ṽöîċé" in printed
