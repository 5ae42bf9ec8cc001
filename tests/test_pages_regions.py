"""The pages' socket renders each live region once per distinct input and keeps it between versions.

What a viewer is pushed must be exactly what rendering their page afresh gives, at every
step of a session in which the regions' inputs change in every way the core allows (turns,
hands, items and votes, wellbeing, a word afterwards, pauses, phases, leaving, closing):
the memo can only ever save work, never show a stale or someone else's region.
"""

from __future__ import annotations

from collections import Counter

import pytest

from app.facilitation.errors import FacilitationError
from app.facilitation.models import FACILITATOR, SCREEN
from app.facilitation.views import view_for
from app.live import htmx
from app.live.htmx import PAGES, FragmentConnection, render_regions
from app.pages import memo
from app.pages.templates import render_block
from app.pages.view import page_model
from app.realtime.frames import SESSION, SETTLE
from tests.support.core import person, send, session

PEOPLE = 4
VIEWERS = (FACILITATOR, SCREEN, *(person(i) for i in range(PEOPLE)))

# (command, who sends it): a session that goes through most of what the pages show.
SCRIPT = [
    ({"type": "start"}, FACILITATOR),
    ({"type": "raise_hand"}, person(2)),
    ({"type": "raise_hand"}, person(0)),
    ({"type": "start_round", "seconds_per_turn": 60}, FACILITATOR),
    ({"type": "next_turn"}, FACILITATOR),
    ({"type": "pass"}, person(3)),
    ({"type": "lower_hand"}, person(2)),
    ({"type": "submit_item", "kind": "question", "text": "What went well?"}, person(1)),
    ({"type": "submit_item", "kind": "question", "text": "What would we change?"}, person(2)),
    ({"type": "submit_item", "kind": "feedback", "text": "Good pace"}, person(3)),
    ({"type": "submit_item", "kind": "question", "text": "Who decides?"}, person(0)),
    ({"type": "reveal_items", "kind": "question"}, FACILITATOR),
    ({"type": "pause"}, FACILITATOR),
    ({"type": "resume"}, FACILITATOR),
    ({"type": "request_word"}, person(1)),
    ({"type": "yield_turn"}, person(0)),
    ({"type": "next_turn"}, FACILITATOR),
    ({"type": "next_phase"}, FACILITATOR),
    ({"type": "rate_wellbeing", "score": 4}, person(0)),
    ({"type": "rate_wellbeing", "score": 2}, person(1)),
    ({"type": "rate_wellbeing", "score": 5}, person(2)),
    ({"type": "add_action", "text": "Book the room"}, person(3)),
    ({"type": "withdraw_word"}, person(1)),
    ({"type": "leave"}, person(2)),
    ({"type": "next_phase"}, FACILITATOR),
    ({"type": "close"}, FACILITATOR),
]


def fresh(state, actor, now: float) -> dict[str, str]:
    """A page's regions rendered the plain way: the viewer's model, every block, nothing kept."""
    template, names = PAGES[actor.role]
    model = page_model(view_for(state, actor, now), now)
    return {name: render_block(template, name, m=model) for name in names}


def states():
    state, now = session("check-in-out", PEOPLE), 0.0
    yield state, now
    for command, actor in SCRIPT:
        now += 7.5
        try:
            state = send(state, command, actor, now=now)
        except FacilitationError:
            continue  # refused in this state: the script goes on with the others
        yield state, now
        yield state, now + 1.0  # the same state a second later: only the clocks move


def test_every_pushed_region_is_what_a_fresh_render_of_that_viewers_page_gives(
        monkeypatch: pytest.MonkeyPatch) -> None:
    unkeyed: list[str] = []
    traced = memo.render_traced

    def noting(template: str, block: str, model: dict, lang: str = "en"):
        made = traced(template, block, model, lang)
        if made is None:
            unkeyed.append(f"{template} {block}")
        return made

    monkeypatch.setattr(memo, "render_traced", noting)
    lasting: dict = {}
    steps = 0
    for state, now in states():
        cache = {SESSION: lasting}
        for viewer in VIEWERS:
            assert render_regions(state, viewer, now, cache) == fresh(state, viewer, now), (state.version, viewer)
        for settle in cache[SETTLE]:  # as the hub does once every socket has been offered the state
            settle()
        steps += 1
    assert steps > 30
    assert not unkeyed, "regions rendered without the memo: " + ", ".join(sorted(set(unkeyed)))


def test_phones_in_the_same_situation_cost_one_rendering_of_a_region(monkeypatch: pytest.MonkeyPatch) -> None:
    state = send(send(session("check-in-out", 10), {"type": "start"}),
                 {"type": "start_round", "seconds_per_turn": 60}, now=1)
    rendered: Counter[str] = Counter()
    traced = memo.render_traced

    def counting(template: str, block: str, model: dict, lang: str = "en"):
        rendered[block] += 1
        return traced(template, block, model, lang)

    monkeypatch.setattr(memo, "render_traced", counting)
    lasting: dict = {}
    cache = {SESSION: lasting}
    phones = [person(i) for i in range(10)]
    glances = {render_regions(state, phone, 2.0, cache)["glance"] for phone in phones}
    # The speaker's glance, the next one's, and everyone else's: three, not ten.
    assert len(glances) == 3 and rendered["glance"] == 3
    assert rendered["items"] == 1 and rendered["clock"] == 1
    assert rendered["status"] == 10  # "· you are Person 3": one each

    for settle in cache[SETTLE]:
        settle()
    rendered.clear()
    state = send(state, {"type": "next_turn"}, now=3)
    cache = {SESSION: lasting}
    glances = {render_regions(state, phone, 3.0, cache)["glance"] for phone in phones}
    # Only the two whose moment changed (the speaker before and the one now: what their phone
    # puts first) have their status and items rendered again; the other eight keep theirs.
    assert rendered["status"] <= 2 and rendered["items"] <= 2, rendered
    # Speaking, up next, waiting (may pass), done: once each.
    assert len(glances) == 4 and rendered["glance"] == 4 and rendered["clock"] == 1


class Socket:
    """Enough of a WebSocket for a connection that is never pumped."""


def test_a_socket_is_sent_only_the_regions_that_changed_for_it() -> None:
    state = send(send(session("check-in-out", 3), {"type": "start"}),
                 {"type": "start_round", "seconds_per_turn": 60}, now=1)
    lasting: dict = {}
    bystander = FragmentConnection(Socket(), person(2))  # type: ignore[arg-type]
    first = bystander._render_changes(state, person(2), 2.0, {SESSION: lasting})
    assert 'id="glance"' in first and 'id="hand"' in first
    bystander.taken()  # as if the pump had sent it
    raised = send(state, {"type": "raise_hand"}, person(1), now=2)
    frame = bystander._render_changes(raised, person(2), 2.0, {SESSION: lasting})
    assert f'data-version="{raised.version}"' in frame
    assert 'id="hand"' not in frame and 'id="glance"' not in frame  # nothing changed for this phone
    assert frame == htmx.render_regions(raised, person(2), 2.0, {SESSION: lasting})["clock"]
