"""Breakouts on the pages' live regions: each phone is pushed exactly what a fresh render of its
own page gives (its own group's, never another's), and the regions say what a person needs."""

from __future__ import annotations

import pytest

from app.facilitation.errors import FacilitationError
from app.facilitation.models import FACILITATOR, SCREEN
from app.live.htmx import render_regions
from app.realtime.frames import SESSION, SETTLE
from tests.test_breakouts_core import person, room, send, tick
from tests.test_pages_regions import fresh

PHONES = [person(f"p{i}") for i in range(7)]
VIEWERS = (FACILITATOR, SCREEN, *PHONES)


def states():
    state, now = room(7), 1.0
    yield state, now
    state = send(state, {"type": "start_breakouts", "size": 3}, now=now)
    state = state.state
    yield state, now
    g1, g2 = state.breakouts.groups
    script = [
        ({"type": "submit_item", "kind": "feedback", "text": "Ask the team"}, person(g1.members[1])),
        ({"type": "breakout_notice", "minutes": 2}, FACILITATOR),
        ({"type": "pause"}, FACILITATOR),
        ({"type": "resume"}, FACILITATOR),
        ({"type": "move_to_breakout", "participant_id": g2.members[-1], "breakout_id": g1.id}, FACILITATOR),
        ({"type": "next_phase", "breakout_id": g2.id}, FACILITATOR),
    ]
    for command, actor in script:
        now += 3.0
        try:
            state = send(state, command, actor, now=now).state
        except FacilitationError:
            continue
        yield state, now
    for later in (40.0, 51.0, 60.0, 120.0, 210.0):  # the server's clock moves the groups on
        state = tick(state, later)
        yield state, later
    yield send(state, {"type": "end_breakouts"}, now=211.0).state, 211.0


def test_pushed_regions_match_a_fresh_render_for_every_viewer_in_every_group() -> None:
    lasting: dict = {}
    for state, now in states():
        cache = {SESSION: lasting}
        for viewer in VIEWERS:
            assert render_regions(state, viewer, now, cache) == fresh(state, viewer, now), (state.version, viewer)
        for settle in cache[SETTLE]:
            settle()


@pytest.fixture
def split():
    return send(room(7), {"type": "start_breakouts", "size": 3}, now=1.0).state


def test_a_phone_says_which_group_it_is_in_and_with_whom(split) -> None:
    g1 = split.breakouts.groups[0]
    me = person(g1.members[0])
    region = render_regions(split, me, 2.0, {})["breakout"]
    names = {p.id: p.name for p in split.participants}
    others = [names[m] for m in g1.members[1:]]
    assert f"You are in Group 1 with {', '.join(others[:-1])} and {others[-1]}." in region
    assert f"{names[g1.members[0]]} is the client." in region
    assert names[split.breakouts.groups[1].members[0]] not in region  # the other group is not on my phone


def test_the_screen_shows_every_group_and_the_console_can_bring_them_back(split) -> None:
    screen = render_regions(split, SCREEN, 2.0, {})["breakouts"]
    assert screen.count('<li class="bk-card') == 2 and "Silent preparation" in screen
    console = render_regions(split, FACILITATOR, 2.0, {})["breakouts"]
    assert "Back to the whole room" in console and "Two minutes left" in console


def test_the_console_splits_by_hand_with_one_choice_per_person() -> None:
    import json

    from app.facilitation.commands import parse_command
    from app.live.htmx import decode_form

    state = room(5)
    console = render_regions(state, FACILITATOR, 2.0, {})["breakouts"]
    assert console.count("<select id=\"bk-into-") == 5 and "Group for Ana" in console
    form = {"cid": "c1", "type": "start_breakouts", "size": "2", "method": "manual",
            "into_p0": "2", "into_p1": "1", "into_p2": "2", "into_p3": "1", "into_p4": "1"}
    _, data = decode_form(json.dumps(form))
    assert data["groups"] == [["p1", "p3", "p4"], ["p0", "p2"]]
    split = send(state, parse_command(data).model_dump(exclude_none=True), now=3.0).state
    assert [g.members for g in split.breakouts.groups] == [("p1", "p3", "p4"), ("p0", "p2")]
    _, random = decode_form(json.dumps({**form, "method": "random"}))
    assert "groups" not in random  # the choices count only for a split by hand
    # Dealt to start with as the core splits: eight in Troika's trios make two groups of four, no pair.
    from app.facilitation.views import view_for
    from app.pages.breakouts import breakouts_model

    dealt = breakouts_model(view_for(room(8), FACILITATOR, 2.0), 2.0)["by_hand"]
    assert sorted(p["group"] for p in dealt) == [1, 1, 1, 1, 2, 2, 2, 2]


# ---------------------------------------------------------------- every word in the viewer's language

def _english_left(html: str, names: list[str]) -> list[str]:
    """Words of ``html`` that a pseudo-locale did not accent: every message it translates is
    in brackets, so letters outside them (the people's names and the times aside) were not wrapped."""
    import re

    text = re.sub(r"<[^>]*>", " ", html)
    attributes = re.findall(r'(?:aria-label|placeholder)="([^"]*)"', html)
    found = []
    for piece in [text, *attributes]:
        rest = re.sub(r"\[[^\]]*\]", " ", piece)
        for name in sorted(names, key=len, reverse=True):
            rest = rest.replace(name, " ")
        found += re.findall(r"[A-Za-z]{2,}", rest)
    # A list of names is written by Babel from the language's own patterns (CLDR), as the
    # dates and times are: a pseudo-locale borrows English's, so its "and" (and a time's "AM")
    # are the ones English left.
    return [word for word in found if word not in ("and", "AM", "PM")]




def test_the_breakout_regions_are_all_in_the_viewers_language(pseudo) -> None:
    shown = 0
    for state, now in states():
        names = [p.name for p in state.participants]
        for viewer in VIEWERS:
            regions = render_regions(state, viewer, now, {}, lang="en-XA")
            for name in ("breakout", "breakouts"):
                if name in regions and "<section" in regions[name]:
                    shown += 1
                    assert not _english_left(regions[name], names), (state.version, viewer, regions[name])
    assert shown > 20
    split = send(room(7), {"type": "start_breakouts", "size": 3}, now=1.0).state
    english = render_regions(split, person(split.breakouts.groups[0].members[0]), 2.0, {}, lang="en")["breakout"]
    assert "You are in Group 1 with" in english  # English unchanged


def test_the_co_facilitation_panel_and_the_phone_handed_it_are_in_the_viewers_language(pseudo) -> None:
    from app.facilitation.models import Actor, RotaEntry
    from app.pages.templates import render_block

    state = room(3, fmt="check-in-out", durations=None)
    invited = send(state, {"type": "invite_cofacilitator", "name": "Sam"})
    state = send(invited.state, {"type": "hand_over", "to": "p0"}).state
    state = state.model_copy(update={"group_id": "g1", "rota_now": 0,
                                     "rota": (RotaEntry(member_id="m1", name="Ben"), RotaEntry(member_id="m2", name="Cleo"))})
    names = ["Ana", "Ben", "Cleo", "Sam"]
    for seat in ("host", invited.reply["cofacilitator_id"], "p-p0"):
        panel = render_regions(state, Actor(role="facilitator", seat=seat), 2.0, {}, lang="en-XA")["cofacilitation"]
        assert "rota-next" in panel and not _english_left(panel, names), (seat, panel)
    host = render_regions(state, FACILITATOR, 2.0, {}, lang="en-XA")
    # The host handed the lead to Ana: the controls say why closing is not offered, translated.
    assert 'id="lead-only">[' in host["controls"] and "Only the one leading" not in host["controls"]
    phone = render_regions(state, person("p0"), 2.0, {}, lang="en-XA")["facilitating"]
    assert "open-console" in phone and not _english_left(phone, names)
    reply = render_block("_replies.html", "invited", lang="en-XA", cid="c1", co_name="Sam", link="/console/X#key=k")
    assert not _english_left(reply.replace("/console/X#key=k", ""), names)
    english = render_regions(state, FACILITATOR, 2.0, {}, lang="en")["cofacilitation"]
    assert "Next time: Cleo facilitates." in english and "Ana</strong> facilitates this session from their phone." in english
    # The host's console lists every console link, who gave it and when; the others' do not.
    assert "Sam's console link: given by you, <time" in english and "Ana, from their phone: handed" in english
    co = render_regions(state, Actor(role="facilitator", seat=invited.reply["cofacilitator_id"]), 2.0, {}, lang="en")
    assert "seat-links" not in co["cofacilitation"] and "seat-links" in english


def test_a_refused_breakout_or_hand_over_command_reads_as_a_sentence() -> None:
    from app.pages.words import plain

    def status(command: str, status: str) -> str:  # worded from the refusal's reason and values, not its English
        return plain(f"cannot {command} while the session is {status}", None, "wrong_status",
                     {"command": command, "status": status})

    assert status("start_breakouts", "lobby") == "You cannot split into groups now: the session has not started yet."
    assert status("hand_over", "closed") == "You cannot hand over the facilitation now: the session has ended."
    assert status("fly", "paused") == "You cannot do that now: the session is paused."


def test_a_phone_in_a_group_of_two_offers_no_anonymous_writing() -> None:
    state = send(room(5), {"type": "start_breakouts", "size": 3, "method": "manual",
                           "groups": [["p0", "p1"], ["p2", "p3", "p4"]]}).state
    assert 'data-writing="none"' in render_regions(state, person("p0"), 2.0, {}, lang="en")["status"]
    assert 'data-writing="anonymous"' in render_regions(state, person("p2"), 2.0, {}, lang="en")["status"]
    for gid in ("g1", "g2"):
        state = send(state, {"type": "propose_summary", "kind": "theme", "text": "Meet again", "breakout_id": gid}).state
    console = render_regions(state, FACILITATOR, 2.0, {}, lang="en")["breakouts"]
    # The trio's ballot is counted on the console; the pair's counts are not shown at all.
    assert console.count("Asked: 0 agreed, 0 objected.") == 1 and "None" not in console
