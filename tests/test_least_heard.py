"""Least heard across meetings, a recurring group's option: a round and the queue start with
the members who were in the quieter half of floor time at their last meeting."""

from __future__ import annotations

import time

import httpx
import pytest

from app.facilitation import carry
from tests.support.server import ServerProcess
from tests.test_groups_http import Room, auth, new_group
from tests.support.core import person, send, session


def with_members(quiet: set[int], on: bool = True, people: int = 4):
    state = session("check-in-out", people)
    for i in range(people):
        state = carry.welcome(state, f"p{i}", f"m{i}", (), heard_least=i in quiet)
    return state.model_copy(update={"settings": state.settings.model_copy(update={"least_heard_first": on})})


def test_the_quieter_half_is_below_the_median_of_floor_time() -> None:
    state = session("check-in-out", 4)
    for i in range(4):
        state = carry.welcome(state, f"p{i}", f"m{i}", ())
    assert carry.quieter_half(state) == {f"m{i}": False for i in range(4)}  # nobody spoke
    people = tuple(p.model_copy(update={"spoken_s": s}) for p, s in zip(state.participants, (120, 10, 60, 30)))
    state = state.model_copy(update={"participants": people})
    assert carry.quieter_half(state) == {"m0": False, "m1": True, "m2": False, "m3": True}


def test_a_round_starts_with_the_least_heard_when_the_group_chose_it() -> None:
    state = send(send(with_members({1, 3}), {"type": "start"}), {"type": "start_round", "seconds_per_turn": 60}, now=1)
    assert state.round.order == ("p1", "p3", "p0", "p2")
    off = send(send(with_members({1, 3}, on=False), {"type": "start"}), {"type": "start_round", "seconds_per_turn": 60},
               now=1)
    assert off.round.order == ("p0", "p1", "p2", "p3")


def test_the_queue_starts_with_the_least_heard_when_the_group_chose_it() -> None:
    state = send(send(with_members({2}), {"type": "start"}), {"type": "goto_phase", "phase_id": "discussion"}, now=1)
    for i, at in ((0, 2), (1, 3), (2, 4)):
        state = send(state, {"type": "raise_hand"}, person(i), now=at)
    from app.facilitation.engine import queue_order
    assert queue_order(state, 5) == ["p2", "p0", "p1"]


@pytest.fixture()
def http(server: ServerProcess):
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        yield client


def test_the_group_option_carries_last_meetings_least_heard_into_the_next_round(http: httpx.Client) -> None:
    group = new_group(http)
    assert http.put(f"/api/groups/{group['group_id']}/options", json={"least_heard_first": True}).status_code == 401
    put = http.put(f"/api/groups/{group['group_id']}/options", headers=auth(group["group_key"]),
                   json={"least_heard_first": True})
    assert put.status_code == 200 and put.json() == {"least_heard_first": True}
    assert http.get(f"/api/groups/{group['group_id']}", headers=auth(group["group_key"])).json()["least_heard_first"]

    def session_of_group() -> Room:
        created = http.post(f"/api/groups/{group['group_id']}/sessions", headers=auth(group["group_key"]),
                            json={"title": "Meeting", "format": "check-in-out"})
        assert created.status_code == 201, created.text
        return Room(http, created.json())

    first = session_of_group()
    codes = {name: first.join(name)["member_code"] for name in ("Ana", "Ben", "Cat", "Dev")}
    first.send({"type": "start"})
    for name, seconds in (("Ana", 0.6), ("Ben", 0.05), ("Cat", 0.6), ("Dev", 0.05)):
        first.send({"type": "give_turn", "participant_id": first.pid(name)})
        time.sleep(seconds)
        first.send({"type": "yield_turn"}, name)
    first.send({"type": "close"})

    second = session_of_group()
    for name in ("Ana", "Ben", "Cat", "Dev"):
        second.join(name, codes[name])
    second.send({"type": "start"})
    second.send({"type": "start_round", "seconds_per_turn": 60})
    order = second.view()["round"]["order"]
    names = {second.pid(n): n for n in ("Ana", "Ben", "Cat", "Dev")}
    assert [names[pid] for pid in order] == ["Ben", "Dev", "Ana", "Cat"]
