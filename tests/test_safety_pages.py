"""The room's safety on the pages: each page's live regions say what the view allows, no more.

Rendered exactly as the pages' socket pushes them (``app.live.htmx.render_regions``), from states the
core produced, as a phone shows them once its own data is applied (``apply_viewer``): a listening presenter's phone has no hand, a word afterwards is named on the console
alone, and the wellbeing spread appears only once enough people have answered.
"""

from __future__ import annotations

import re

from app.facilitation.models import FACILITATOR, SCREEN
from app.live.htmx import render_regions
from app.pages.regions import apply_viewer
from tests.support.core import folded, person, send, session
from tests.test_room_safety import balint_discussion_with_presenter


def regions(state, actor) -> dict[str, str]:
    """What ``actor``'s page shows: a phone keeps, of the regions it shares with the room, the
    parts its own data meets (web/static/js/viewer.js)."""
    return apply_viewer(render_regions(state, actor, 10.0, {}), "you are %(name)s")


def page_text(state, actor) -> str:
    return " ".join(regions(state, actor).values())


def test_a_listening_presenter_is_told_so_and_has_no_hand() -> None:
    state = balint_discussion_with_presenter(presenter=1)
    presenter = regions(state, person(1))
    assert "You are listening now" in presenter["listening"]
    assert 'role="status"' in presenter["listening"] and 'hx-swap-oob="innerHTML"' in presenter["listening"]
    assert "raise_hand" not in presenter["hand"] and "button" not in presenter["hand"]
    other = regions(state, person(0))
    assert "You are listening now" not in other["listening"] and 'value="raise_hand"' in other["hand"]
    assert "Person 1</strong> listens only in this phase" in regions(state, FACILITATOR)["safety"]


def test_the_presenter_speaks_again_when_their_phase_returns() -> None:
    state = send(balint_discussion_with_presenter(presenter=1), {"type": "goto_phase", "phase_id": "presenter-returns"},
                 now=3)
    presenter = regions(state, person(1))
    assert "You are listening now" not in presenter["listening"] and 'value="raise_hand"' in presenter["hand"]


def test_the_console_offers_a_presenter_only_where_one_presents() -> None:
    state = send(session("balint", 2), {"type": "start"})
    assert 'value="set_presenter"' not in regions(state, FACILITATOR)["people"]  # check-in round
    state = send(state, {"type": "goto_phase", "phase_id": "presentation"}, now=1)
    assert regions(state, FACILITATOR)["people"].count('value="set_presenter"') == 2


def test_a_word_afterwards_is_named_on_the_console_and_nowhere_else() -> None:
    state = send(send(session("check-in-out", 3), {"type": "start"}), {"type": "request_word"}, person(2), now=1)
    assert "<strong>Person 2</strong> would like a word afterwards" in regions(state, FACILITATOR)["safety"]
    for viewer in (SCREEN, person(0), person(1), person(2)):
        assert "would like a word" not in page_text(state, viewer)
    asker = regions(state, person(2))["word"]
    assert "Asked." in asker and " checked" in asker and 'value="withdraw_word"' in asker
    assert " checked" not in regions(state, person(0))["word"]
    state = send(state, {"type": "withdraw_word"}, person(2), now=2)
    assert "Person 2" not in regions(state, FACILITATOR)["safety"]
    assert 'value="request_word"' in regions(state, person(2))["word"]


def test_the_wellbeing_spread_shows_on_console_and_screen_only_once_enough_answered_and_shown() -> None:
    state = send(session("check-in-out", 3), {"type": "start"})
    state = send(state, {"type": "rate_wellbeing", "score": 2}, person(0), now=1)
    state = send(state, {"type": "rate_wellbeing", "score": 5}, person(1), now=2)
    state = folded(state, 60)
    console, screen = regions(state, FACILITATOR)["safety"], regions(state, SCREEN)["wellbeing"]
    assert "2 answered" in console and "<svg" not in console and 'value="show_wellbeing"' not in console
    assert "<svg" not in screen and "answered" not in screen
    state = folded(send(state, {"type": "rate_wellbeing", "score": 5}, person(2), now=61), 120)
    console = regions(state, FACILITATOR)["safety"]
    assert "3 answered" in console and "<svg" not in console and 'value="show_wellbeing"' in console
    assert 'value="show_wellbeing"' not in page_text(state, SCREEN) + page_text(state, person(0))
    state = send(state, {"type": "show_wellbeing"}, now=121)
    assert 'value="show_wellbeing"' not in regions(state, FACILITATOR)["safety"]  # shown: not again for one more
    for html in (regions(state, FACILITATOR)["safety"], regions(state, SCREEN)["wellbeing"]):
        label = re.search(r'<svg[^>]*aria-label="([^"]*)"', html)
        assert label and label.group(1).endswith("0 chose 1, 1 chose 2, 0 chose 3, 0 chose 4, 2 chose 5"), html
        assert not re.search(r"style=|<script|on\w+=", html)
    state = send(state, {"type": "next_phase"}, now=4)
    assert "<svg" not in regions(state, SCREEN)["wellbeing"]  # the room's spread stays with its phase
    assert "<svg" in regions(state, FACILITATOR)["safety"]
