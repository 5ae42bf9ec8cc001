"""No English is left on a shipped language's pages: every live region of the console, the
phone and the screen, in every shipped format through a whole session, and the print pages
(summary, reflection, record, CPD), rendered in the pseudo-locale ``en-XA`` where every message
of the catalog is accented: a plain English word on them was never put through the catalog.
And no shipped language's catalog keeps an English sentence as its own translation.
No server (the print pages over a real server, in each language: test_print_pages_languages.py)."""

from __future__ import annotations

import re

import pytest

from app.facilitation import commands, cpd, engine, record
from app.facilitation.formats import builtin_formats, format_with_durations
from app.facilitation.errors import FacilitationError

from app.facilitation.models import FACILITATOR, SCREEN
from app.facilitation.reflection import Reflection, evidence
from app.facilitation.summary import summary_for
from app.live.htmx import render_regions
from app.pages import i18n
from app.pages.catalogs import _read, catalog_paths
from app.pages.templates import render_page
from tests.test_room_safety import person, send

PEOPLE = 4
# What the people of the session write: data, shown as written in every language.
WRITTEN = ("Team", "What went well?", "Good pace", "Book the room", "Ward", "Ana")
# Words that are the same in English and the pseudo-locale: the time zone, the product's name,
# file types and a key's name as keyboards print it (<kbd>Shift+N</kbd>).
SAME = {"UTC", "Talking", "Piece", "CSV", "PDF", "Shift"}


def english_left(html: str) -> list[str]:
    """The plain English words a reader sees on ``html`` (text and the attributes read aloud)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<option [^>]*\blang=[^>]*>[^<]*</option>", " ", html)  # the picker: each language in itself
    said = " ".join(re.findall(r'(?:aria-label|title|placeholder|alt)="([^"]*)"', html))
    text = re.sub(r"<[^>]+>", " ", html) + " " + said
    for written in WRITTEN:
        text = text.replace(written, " ")
    text = re.sub(r"\b(?:https?://)?testserver\S*", " ", text)  # a link to join, as typed
    return [w for w in re.findall(r"(?<![\w&#])[A-Za-z]{3,}(?![\w;])", text) if w not in SAME]


def script(format_id: str) -> list[tuple[dict, object]]:
    """Commands that take a session of ``format_id`` through every phase, with a turn, a round,
    hands, items, wellbeing, an action, a word afterwards, a pause and the close."""
    phases = [p.id for p in builtin_formats()[format_id].phases]
    steps: list[tuple[dict, object]] = [({"type": "add_without_phone", "name": "Ana"}, FACILITATOR),
                                        ({"type": "start"}, FACILITATOR),
                                        ({"type": "set_presenter", "participant_id": "p1"}, FACILITATOR)]
    for phase in phases:
        steps += [
            ({"type": "goto_phase", "phase_id": phase}, FACILITATOR),
            ({"type": "raise_hand"}, person(2)),
            ({"type": "start_round", "seconds_per_turn": 60}, FACILITATOR),
            ({"type": "pass"}, person(3)),
            ({"type": "submit_item", "kind": "question", "text": "What went well?"}, person(1)),
            ({"type": "submit_item", "kind": "feedback", "text": "Good pace"}, person(3)),
            ({"type": "submit_paper_item", "kind": "feedback", "text": "Good pace"}, FACILITATOR),
            ({"type": "submit_item", "kind": "question", "text": "What went well?"}, person(0)),
            ({"type": "submit_item", "kind": "question", "text": "What went well?"}, person(2)),
            ({"type": "reveal_items", "kind": "question", "force": True}, FACILITATOR),
            ({"type": "rate_wellbeing", "score": 4}, person(0)),
            ({"type": "add_action", "text": "Book the room"}, person(3)),
            ({"type": "request_word"}, person(1)),
            ({"type": "pause"}, FACILITATOR),
            ({"type": "resume"}, FACILITATOR),
            ({"type": "next_turn"}, FACILITATOR),
        ]
    return steps + [({"type": "leave"}, person(2)), ({"type": "close"}, FACILITATOR)]


def walk(format_id: str):
    """The session's states, people joining without a name (guests: "Guest 1" in the API)."""
    state = engine.new_session(code="ROOM22", title="Team", format=format_with_durations(format_id, None), now=0.0,
                               salt="salt", facilitator_token_hash="f", screen_token_hash="s")
    for i in range(min(PEOPLE, state.format.max_participants or PEOPLE)):
        state = engine.join(state, participant_id=f"p{i}", name="", token_hash=f"t{i}", now=0.0).state
    now = 1.0
    yield state, now
    for command, actor in script(format_id):
        now += 7.5
        try:
            state = send(state, command, actor, now=now)
        except FacilitationError:
            continue
        yield state, now


@pytest.mark.parametrize("format_id", sorted(builtin_formats()))
def test_no_english_is_left_on_any_live_region_in_any_format(pseudo: None, format_id: str) -> None:
    seen = without = 0
    for state, now in walk(format_id):
        phones = [person(int(p.id[1:])) for p in state.participants if not p.phoneless]
        without += len(state.participants) - len(phones)
        for viewer in (FACILITATOR, SCREEN, *phones):
            for region, html in render_regions(state, viewer, now, {}, lang="en-XA").items():
                assert english_left(html) == [], (format_id, state.version, viewer.role, region, english_left(html))
                seen += 1
    assert seen > 200 and (without > 0 or format_id == "one-to-one")  # someone without a phone, where it fits


def test_a_guest_is_named_in_the_readers_language(pseudo: None) -> None:
    state, now = list(walk("check-in-out"))[2]
    console = render_regions(state, FACILITATOR, now, {}, lang="en-XA")["people"]
    assert "Guest 1" not in console and "Ĝûéšţ 1" in console
    with i18n.speaking("pl"):
        assert "Gość 1" in render_regions(state, FACILITATOR, now, {}, lang="pl")["people"]
    # On the printed summary too, where the group agreed to names on the share-of-voice bars.
    from app.pages.names import summary_named
    printed = summary_for(list(walk("check-in-out"))[-1][0], FACILITATOR, now)
    voice = printed["share_of_voice"]
    printed["share_of_voice"] = {**voice, "named": True, "bars": [{**b, "name": "Guest 1"} for b in voice["bars"]]}
    page = render_page("summary.html", "pl", shell=False, code=None, s=summary_named(printed))
    assert "Gość 1" in page and "Guest 1" not in page


def test_no_english_is_left_on_the_print_pages(pseudo: None) -> None:
    states = list(walk("balint"))
    state, now = states[-1]
    assert state.status.value == "closed"
    words = i18n.translations("en-XA")
    pages = {
        "summary": render_page("summary.html", "en-XA", shell=False, code=None, s=summary_for(state, FACILITATOR, now)),
        "my summary": render_page("summary.html", "en-XA", shell=False, code=None,
                                  s=summary_for(state, person(0), now)),
        "reflection": render_page("reflection.html", "en-XA", shell=False, code=None,
                                  r=evidence(state, "p0", Reflection(description="Ward", confirmed=True))),
    }
    row = record.meeting_of(state)
    rows = [{**row, "id": f"m{i}", "at": row["at"] + i * 86400, **({"title": "Team"} if i else {})} for i in range(2)]
    with i18n.speaking("en-XA"):
        charts = record.charts(rows, words.gettext)
    pages["record"] = render_page("record.html", "en-XA", shell=False, code=None,
                                  g={"name": "Ward", "next_facilitator": None, **charts})
    pages["cpd"] = render_page("cpd.html", "en-XA", shell=False, code=None,
                               c=cpd.record_of([], words.gettext, words.ngettext))
    for shell, template in (("summary", "summary.html"), ("reflection", "reflection.html")):
        pages[f"{shell} shell"] = render_page(template, "en-XA", shell=True, code="ROOM22", s=None, r=None)
    for name, html in pages.items():
        assert english_left(html) == [], (name, english_left(html))


def _has_words(message: str) -> bool:
    """A message with words of its own (not only placeholders, markup and punctuation)."""
    bare = re.sub(r"%\([a-z_]+\)[sd]|<[^>]*>|&[a-z]+;", " ", message)
    return re.search(r"[A-Za-z]{3,}", bare) is not None


# Words a language spells as English does (checked by a speaker, not a gap in the catalog).
SPELLED_THE_SAME = {
    "fr": {"Actions", "Conclusion", "Date", "Description", "Format", "format", "Minutes", "Pause", "Phase", "Phases",
           "Question", "question", "## Phases", "Code %(code)s", "Code <strong>%(code)s</strong>",
           "%(minutes)s min", "min", "+1 minute", "Console · %(title)s · Talking Piece",
           "%(minutes)s minute", "%(num)s question", "%(num)s vote", "OK"},
    "pl": {"Format", "format", "min", "%(minutes)s min", "- Format: %(format)s", "OK"},
    "es": {"min", "%(minutes)s min"},
    "cy": set(),
}


@pytest.mark.parametrize("code", sorted(catalog_paths()))
def test_no_shipped_catalog_keeps_english_as_its_translation(code: str) -> None:
    catalog = _read(catalog_paths()[code], locale=code.replace("-", "_"))
    english = []
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        msgstr = message.string if isinstance(message.string, str) else message.string[0]
        if (msgstr == msgid and _has_words(msgid) and msgid not in SPELLED_THE_SAME[code]
                and "Talking Piece" not in msgid):
            english.append(msgid)
    assert english == [], english


def test_no_english_is_left_on_any_whole_page(pseudo: None) -> None:
    """The pages as first served (before the socket fills their regions), each print page's
    shell and the start page's phase list, in every shipped format."""
    import tempfile

    from fastapi.testclient import TestClient

    from app.config import AppSettings
    from app.main import create_app

    with TestClient(create_app(AppSettings(data_dir=tempfile.mkdtemp(), sessions_db="off"))) as client:
        made = client.post("/api/sessions", json={"title": "Team"}).json()
        code = made["code"]
        paths = ["/", "/join", f"/join/{code}", f"/console/{code}", f"/screen/{code}", f"/summary/{code}",
                 f"/reflection/{code}", "/group/somegroup", "/cpd/somegroup", "/join/999999"]
        paths += [f"/start/phases?format={f}" for f in sorted(builtin_formats())]
        for path in paths:
            page = client.get(path + ("&" if "?" in path else "?") + "lang=en-XA")
            assert page.status_code in (200, 404), (path, page.status_code)
            shown = re.sub(f"{code[:3]} ?{code[3:]}", " ", page.text)  # the join code, spaced or not
            assert english_left(shown) == [], (path, english_left(shown))


# ---------------------------------------------------------------- refusals, as a phone's alert says them

# Values a refusal may carry (docs/live-socket.md), for the reasons a page words.
SAMPLE_VALUES = {"name": "Ana", "limit": 3, "kb": 256, "group": 2, "count": 2, "threshold": 3, "command": "start_round",
                 "status": "running", "kind": "question", "found": ["phone"], "hours": 4, "field": "text",
                 "problem": "empty", "role": "participant"}


def triggered_refusals() -> list[tuple[dict, dict]]:
    """Refusals as the room triggers them: (the command, the error object the socket sends). The
    walk through every format, and the ones a room meets at its limits: a full one-to-one, a
    person's most actions, a presenter who listens, a group done, a session at its ceiling."""
    found: list[tuple[dict, dict]] = []

    def attempt(state, command: dict, actor) -> object:
        try:
            return send(state, command, actor, now=5.0)
        except FacilitationError as refused:
            found.append((command, refused.body()))
            return state

    for format_id in sorted(builtin_formats()):
        states = [s for s, _ in walk(format_id)]
        for command, actor in script(format_id):
            attempt(states[-1], command, actor)
    one = engine.new_session(code="ROOM23", title="Team", format=format_with_durations("one-to-one", None), now=0.0,
                             salt="salt", facilitator_token_hash="f", screen_token_hash="s")
    for i in range(2):
        one = engine.join(one, participant_id=f"p{i}", name="", token_hash=f"t{i}", now=0.0).state
    try:
        engine.join(one, participant_id="p9", name="", token_hash="t9", now=0.0)
    except FacilitationError as refused:
        found.append(({"type": "join"}, refused.body()))
    state = list(walk("check-in-out"))[3][0]
    for n in range(engine.RULES[commands.AddAction].per_person + 1):
        state = attempt(state, {"type": "add_action", "text": f"Book the room {n}"}, person(0))
    return found


def test_every_refusal_a_phone_is_shown_is_in_the_pages_language(pseudo: None) -> None:
    """The alert a phone shows for each refusal (the socket's reply, as the page renders it):
    through the catalog in the pseudo-locale, and in Welsh and Polish not the English sentence."""
    from app.live.htmx import error_fragment
    from app.pages.words import BY_REASON

    refusals = triggered_refusals()
    reasons = {error["reason"] for _, error in refusals}
    assert {"session_full", "person_cap", "wrong_status"} <= reasons, reasons  # the limits were reached
    made = [({}, {"code": "conflict", "message": "English message", "reason": reason, "values": SAMPLE_VALUES})
            for reason in sorted(set(BY_REASON) | {"content_ceiling", "group_done", "listens_only", "invalid_field"})]
    for command, error in refusals + made:
        with i18n.speaking("en-XA"):
            alert = error_fragment("c1", command, error)
        assert 'role="alert"' in alert and english_left(alert) == [], (error, english_left(alert))
        with i18n.speaking("en"):
            english = re.sub(r"<[^>]+>", " ", error_fragment("c1", command, error)).split()
        for lang in ("cy", "pl"):
            with i18n.speaking(lang):
                said = re.sub(r"<[^>]+>", " ", error_fragment("c1", command, error)).split()
            assert said != english, (lang, error["reason"], " ".join(said))
