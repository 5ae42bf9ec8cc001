"""The pages' socket renders each live region once per audience, from the inputs it declares,
and keeps it between versions.

What a viewer is pushed must be exactly what rendering their page afresh gives, at every
step of a session in which the regions' inputs change in every way the core allows (turns,
hands, items and votes, wellbeing, a word afterwards, pauses, phases, leaving, closing),
over whole sessions of every shipped format, with breakouts, co-facilitation and the five
shipped languages: keeping renderings can only ever save work, never show a stale or
someone else's region. A phone's own data (its name) is applied to the shared regions by
the page's script; ``regions.apply_viewer`` is the same rule, and the equality holds
after it is applied on both sides.
"""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict

import pytest

from app.facilitation.errors import FacilitationError
from app.facilitation.models import FACILITATOR, SCREEN
from app.facilitation.views import scope, view_for
from app.live import htmx
from app.live.htmx import PAGES, FragmentConnection, render_regions
from app.pages import i18n
from app.pages.regions import REGIONS, Regions, apply_viewer
from app.pages.templates import render_block
from app.pages.view import page_model
from app.realtime.frames import SESSION, SETTLE
from app.facilitation import engine
from tests.support.core import person, send, session, speaker
from tests.support.whole_sessions import SHIPPED, viewers, whole_session

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


def fresh(state, actor, now: float, lang: str = "en") -> dict[str, str]:
    """A page's regions rendered the plain way: the viewer's whole model, every block, nothing kept."""
    template, names = PAGES[actor.role]
    model = page_model(view_for(state, actor, now), now)
    return {name: render_block(template, name, lang=lang, m=model) for name in names}


def seen(regions: dict[str, str], lang: str) -> dict[str, str]:
    """What the viewer's page shows once its script has applied the phone's own data."""
    with i18n.speaking(lang):
        you_are = str(i18n.gettext("you are %(name)s"))
    return apply_viewer(regions, you_are)


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


def check_session(walk, people: int, caplog: pytest.LogCaptureFixture) -> int:
    """Every viewer's pushed regions against a fresh render of their page at every step; and
    every region that declares nothing of the viewer is the same HTML for its whole audience."""
    lasting: dict = {}
    steps = 0
    for state, now in walk:
        cache = {SESSION: lasting}
        alike: dict[tuple, set[str]] = defaultdict(set)
        for viewer, lang in viewers(state, people):
            pushed = render_regions(state, viewer, now, cache, lang=lang)
            assert seen(pushed, lang) == seen(fresh(state, viewer, now, lang), lang), (state.version, viewer, lang)
            for region in REGIONS[viewer.role][1]:
                if not region.own:
                    alike[(viewer.role, scope(state, viewer), lang, region.name)].add(pushed[region.name])
        assert all(len(html) == 1 for html in alike.values())
        for settle in cache[SETTLE]:  # as the hub does once every socket has been offered the state
            settle()
        steps += 1
    assert "does not declare" not in caplog.text
    return steps


def test_every_pushed_region_is_what_a_fresh_render_of_that_viewers_page_gives(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    assert check_session(((s, n) for s, n in states()), PEOPLE, caplog) > 30


@pytest.mark.parametrize("format_id", SHIPPED)
def test_over_a_whole_session_of_every_format_each_viewer_is_pushed_what_a_fresh_render_gives(
        format_id: str, caplog: pytest.LogCaptureFixture) -> None:
    """Breakouts (troika's groups), a co-facilitator, a participant handed the facilitation, and
    every page in one of the five shipped languages in turn."""
    caplog.set_level(logging.ERROR)
    assert check_session(whole_session(format_id), 6, caplog) > 40


def test_the_phone_shows_its_own_name_from_its_own_data() -> None:
    state = send(session("check-in-out", 2), {"type": "start"})
    cache: dict = {SESSION: {}}
    mine = render_regions(state, person(0), 1.0, cache, lang="cy")
    theirs = render_regions(state, person(1), 1.0, cache, lang="cy")
    assert mine["status"] == theirs["status"] and "Person" not in mine["status"]  # one status for the room
    assert 'data-name="Person 0"' in mine["viewer"] and 'data-name="Person 1"' in theirs["viewer"]
    with i18n.speaking("cy"):
        words = str(i18n.gettext("you are %(name)s")) % {"name": "Person 0"}
    assert f"· {words}</span>" in seen(mine, "cy")["status"]


def counting(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    rendered: Counter[str] = Counter()
    plain = Regions.render

    def count(template: str, region, *rest):
        rendered[region.name] += 1
        return plain(template, region, *rest)

    monkeypatch.setattr(Regions, "render", staticmethod(count))
    return rendered


def offer(conns: list, state, now: float, lasting: dict) -> dict:
    """Offer a state to every socket as the hub does: each is given the regions that changed for it."""
    cache = {SESSION: lasting}
    frames = {}
    for conn in conns:
        frames[conn.actor] = conn._render_changes(state, conn.actor, now, cache).decode()  # as written: UTF-8
        conn.taken()
    for settle in cache[SETTLE]:
        settle()
    return frames


def test_phones_in_the_same_situation_cost_one_rendering_of_a_region(monkeypatch: pytest.MonkeyPatch) -> None:
    state = send(send(session("check-in-out", 10), {"type": "start"}),
                 {"type": "start_round", "seconds_per_turn": 60}, now=1)
    rendered = counting(monkeypatch)
    lasting: dict = {}
    phones = [FragmentConnection(Socket(), person(i)) for i in range(10)]  # type: ignore[arg-type]
    offer(phones, state, 2.0, lasting)
    # One glance, status, hand and list of items for the room; each phone's own data is a few
    # attributes built for it, with no template to run.
    assert rendered["glance"] == 1 and rendered["items"] == 1 and rendered["clock"] == 1
    assert rendered["status"] == 1 and rendered["hand"] == 1
    assert "viewer" not in rendered

    rendered.clear()
    frames = offer(phones, send(state, {"type": "next_turn"}, now=3), 3.0, lasting)
    # The room's glance once; the own data is sent again only to the phones whose moment
    # changed: the one who spoke, the one who speaks now and the one up next.
    assert rendered == Counter({"glance": 1, "clock": 1}), rendered
    assert sum('id="viewer"' in frame for frame in frames.values()) == 3
    assert len({re.sub(r'<div id="viewer"[^>]*></div>', "", frame) for frame in frames.values()}) == 1  # the rest alike


def test_a_room_of_thirty_costs_the_renderings_of_a_room_of_ten_through_turns_pauses_and_phases(monkeypatch: pytest.MonkeyPatch) -> None:
    rendered = counting(monkeypatch)
    totals = []
    for size in (10, 30):
        state = send(send(session("check-in-out", size), {"type": "start"}),
                     {"type": "start_round", "seconds_per_turn": 60}, now=1)
        conns = [FragmentConnection(Socket(), v)  # type: ignore[arg-type]
                 for v in (FACILITATOR, SCREEN, *(person(i) for i in range(size)))]
        lasting: dict = {}
        offer(conns, state, 2.0, lasting)
        shared, own_at_turns = 0, 0
        for n, command in ((3.0, "next_turn"), (4.0, "next_turn"), (5.0, "pause"), (6.0, "resume"),
                           (7.0, "next_turn"), (8.0, "next_phase")):
            rendered.clear()
            state = send(state, {"type": command}, now=n)
            frames = offer(conns, state, n, lasting)
            shared += sum(rendered.values())
            own = sum('id="viewer"' in frame for frame in frames.values())
            if command == "next_turn":
                own_at_turns += own  # the phones whose moment changed: the same few
            else:  # a pause or a new phase may change what it asks of every phone: its own data, once
                assert own <= size
        totals.append((shared, own_at_turns))
    assert totals[1] == totals[0], totals


class Socket:
    """Enough of a WebSocket for a connection that is never pumped."""


def test_a_socket_is_sent_only_the_regions_that_changed_for_it() -> None:
    state = send(send(session("check-in-out", 3), {"type": "start"}),
                 {"type": "start_round", "seconds_per_turn": 60}, now=1)
    lasting: dict = {}
    bystander = FragmentConnection(Socket(), person(2))  # type: ignore[arg-type]
    first = bystander._render_changes(state, person(2), 2.0, {SESSION: lasting}).decode()
    assert 'id="glance"' in first and 'id="hand"' in first
    bystander.taken()  # as if the pump had sent it
    raised = send(state, {"type": "raise_hand"}, person(1), now=2)
    frame = bystander._render_changes(raised, person(2), 2.0, {SESSION: lasting}).decode()
    assert f'data-version="{raised.version}"' in frame
    assert 'id="hand"' not in frame and 'id="glance"' not in frame  # nothing changed for this phone
    assert frame == htmx.render_regions(raised, person(2), 2.0, {SESSION: lasting})["clock"]


def test_a_turn_change_sends_a_phones_own_data_only_to_the_phones_whose_moment_moved() -> None:
    state = send(send(session("check-in-out", 5), {"type": "start"}),
                 {"type": "start_round", "seconds_per_turn": 60}, now=1)
    lasting: dict = {}
    phones = [FragmentConnection(Socket(), person(i)) for i in range(5)]  # type: ignore[arg-type]
    offer(phones, state, 2.0, lasting)
    first = speaker(state)
    moved = send(state, {"type": "next_turn"}, now=3)
    second = speaker(moved)
    assert first and second and first != second
    frames = offer(phones, moved, 3.0, lasting)
    own = {actor.participant_id: frame for actor, frame in frames.items() if 'id="viewer"' in frame}
    assert first in own and second in own  # my turn ended; my turn began
    assert 'data-is="turn' in own[second] and 'data-is="turn' not in own[first]
    assert len(own) < len(phones)  # a bystander whose moment did not move is not sent theirs again
    assert all('id="glance"' in frame for frame in frames.values())  # the room's glance, to everyone
    again = offer(phones, moved, 3.0, lasting)  # the same state offered again: nothing of anyone's own
    assert not any('id="viewer"' in frame for frame in again.values())


def test_the_share_of_voice_chart_shows_each_persons_time_and_share_and_escapes_their_name() -> None:
    state = session("check-in-out", 0)
    for i, name in enumerate(["Ana", "<b>Konstantina Papadopoulou</b>", "Ben"]):
        state = engine.join(state, participant_id=f"p{i}", name=name, token_hash=f"t{i}", now=0.0).state
    state = send(send(state, {"type": "start"}), {"type": "start_round", "seconds_per_turn": 600}, now=1)
    state = send(state, {"type": "next_turn"}, now=31)  # the first speaker had 30 s
    state = send(state, {"type": "next_turn"}, now=41)  # the second 10 s
    chart = render_regions(state, FACILITATOR, 41.0, {})["voice"]
    assert "<b>" not in chart and ">&lt;b&gt;Konstantin…</text>" in chart  # cut, and shown as text
    labels = re.findall(r'class="bar-label">([^<]*)</text>', chart)
    assert labels[:2] == ["0:30 (75%)", "0:10 (25%)"] and labels[2] == "0:00 (0%)"
    assert re.search(r'aria-label="Share of voice: Ana 0:30 \(75%\), &lt;b&gt;Konstantina Papadopoulou&lt;/b&gt; '
                     r'0:10 \(25%\), Ben 0:00 \(0%\)"', chart)
    with i18n.speaking("cy"):
        welsh = render_regions(state, FACILITATOR, 41.0, {}, lang="cy")["voice"]
    assert welsh.count('class="bar-label"') == 3 and "Share of voice:" not in welsh
