"""Breakouts over the live socket, in both store modes: seven people run Troika in groups of
three and four, each group on the server's own clock, then come back to the room.

Phases the test acts in last a minute (the facilitator moves that group on with
``next_phase`` and its ``breakout_id``); the others last a second and end by themselves.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.client import View, speaker
from tests.support.server import ServerProcess
from tests.test_protocol import Room, open_room, run

SEVEN = ("Ana", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus")
TROIKA = {"format": "troika", "durations": {"forming": 600, "preparation": 1, "presentation": 2,
                                            "questioning": 1, "consulting": 60, "feedback": 1, "harvest": 600}}


async def see(client: Any, predicate: Any, timeout: float = 5.0) -> View:
    """The first state this socket receives that satisfies ``predicate`` (its view)."""
    return (await client.wait_for_state(predicate, timeout=timeout))["view"]


def mine(view: View) -> dict[str, Any]:
    assert view["breakout"] is not None, "this phone is in no group"
    return view["breakout"]


def groups(view: View) -> list[dict[str, Any]]:
    assert view["breakouts"] is not None
    return view["breakouts"]


def in_phase(phase_id: str):
    return lambda v: v["phase"] is not None and v["phase"]["id"] == phase_id


async def group_phones(room: Room, group: dict[str, Any]) -> list[Any]:
    return [room.phones[room.name_of(m["id"])] for m in group["members"]]


def test_troika_in_trios_runs_by_itself_and_comes_back(server: ServerProcess) -> None:
    async def scenario() -> None:
        room = await open_room(server, SEVEN, **TROIKA)
        fac, screen = room.fac, room.screen
        try:
            await fac.apply({"type": "start"})
            await fac.refused({"type": "start_breakouts", "size": 1}, "invalid")
            await fac.refused({"type": "next_phase", "breakout_id": "g1"}, "not_found")  # not running yet
            ack = await fac.apply({"type": "start_breakouts", "size": 3})
            assert sorted(ack["sizes"]) == [3, 4]  # the odd one joins a trio: never alone
            room_view = fac.view
            assert [len(g["members"]) for g in groups(room_view)] == ack["sizes"]
            assert room_view["breakout"] is None and room_view["phase"]["id"] == "forming"
            await see(screen, lambda v: v["breakouts"] is not None and len(v["breakouts"]) == 2)

            # Phones see their own group only: who is in it, its phase, its people.
            by_id = {g["id"]: g for g in groups(room_view)}
            for name, phone in room.phones.items():
                view = await see(phone, lambda v: v["breakout"] is not None)
                group = by_id[mine(view)["id"]]
                assert room.ids[name] in [m["id"] for m in mine(view)["members"]]
                assert {p["id"] for p in view["participants"]} == {m["id"] for m in group["members"]}
                assert view["breakouts"] is None

            # The server moves every group on: preparation (1 s) -> the client explains (1 s,
            # holding the floor) -> questions (1 s) -> consulting, each on its group's clock.
            trio = min(groups(room_view), key=lambda g: len(g["members"]))
            four = max(groups(room_view), key=lambda g: len(g["members"]))
            for group in (trio, four):
                phones = await group_phones(room, group)
                explaining = await see(phones[0], in_phase("presentation"), timeout=10)
                assert speaker(explaining) == group["members"][0]["id"] == explaining["presenter_id"]
                assert explaining["turn"]["ends_at"] == pytest.approx(explaining["phase"]["ends_at"])  # the whole phase
                consulting = await see(phones[0], in_phase("consulting"), timeout=10)
                # never early: questions (1 s) began when the client's time was up, consulting after them
                assert consulting["phase"]["started_at"] >= explaining["phase"]["ends_at"] + 1.0 - 0.01
            await see(fac, lambda v: all(g["phase"] and g["phase"]["id"] == "consulting"
                                                   for g in groups(v)), timeout=10)

            # One speaker per group: a consultant's hand takes the free floor, the next waits.
            # The client listens only while the consultants talk.
            speakers = {}
            for group in (trio, four):
                phones = await group_phones(room, group)
                client, first, second = phones[0], phones[1], phones[2]
                await client.refused({"type": "raise_hand"}, "conflict")
                assert client.view["me"]["listening"] is True
                await first.apply({"type": "raise_hand"})
                await second.apply({"type": "raise_hand"})
                view = await see(second, lambda v: speaker(v) == group["members"][1]["id"])
                assert view["queue"] == [group["members"][2]["id"]]
                speakers[group["id"]] = speaker(view)
            view = await see(fac, lambda v: all(g["turn"] for g in groups(v)))
            assert {g["id"]: g["turn"]["participant_id"] for g in groups(view)} == speakers
            assert view["turn"] is None  # the room's own floor stays free

            # A phone may not act in another group; the room's floor waits for a group's id.
            trio_phone = (await group_phones(room, trio))[1]
            await trio_phone.refused({"type": "raise_hand", "breakout_id": four["id"]}, "forbidden")
            await fac.refused({"type": "next_turn"}, "conflict")
            await fac.refused({"type": "next_phase", "breakout_id": "g9"}, "not_found")

            await items_stay_in_the_group(room, trio, four)

            # "Two minutes left" reaches every phone and the screen.
            await fac.apply({"type": "breakout_notice", "minutes": 2})
            for phone in room.phones.values():
                await see(phone, lambda v: v["breakout"] is not None and v["breakout"]["notice"] is not None
                                           and v["breakout"]["notice"]["minutes"] == 2)
            await see(screen, lambda v: v["breakouts_notice"] == fac.view["breakouts_notice"])

            # The trio moves on: feedback (1 s, the client speaks), then the next client.
            await fac.apply({"type": "next_phase", "breakout_id": trio["id"]})
            phones = await group_phones(room, trio)
            view = await see(phones[0], lambda v: mine(v)["rotation"] == 2, timeout=10)
            assert view["presenter_id"] == trio["members"][1]["id"] and mine(view)["rotations"] == 3
            four_now = next(g for g in groups(fac.view) if g["id"] == four["id"])
            assert four_now["rotation"] == 1 and four_now["phase"]["id"] == "consulting"  # groups run apart

            # A late joiner joins the smallest group while breakouts run.
            late = room.api.join(room.code, "Hal")
            view = await see(fac, lambda v: any(m["id"] == late["participant_id"]
                                                          for g in groups(v) for m in g["members"]))
            assert sorted(len(g["members"]) for g in groups(view)) == [4, 4]
            hal = await room.connect(late["token"])
            assert mine(hal.view)["id"] == trio["id"]
            await hal.close()

            # Everyone comes back to the room; what the trio agreed to share comes with them.
            ack = await fac.apply({"type": "end_breakouts"})
            views = await room.everyone_sees(lambda v: v["version"] >= ack["version"])
            for view in views:
                assert view["breakout"] is None and view["breakouts"] is None
                assert view["phase"]["id"] == "harvest" and view["turn"] is None  # the phase after the groups'
                assert [i["text"] for i in view["items"]] == ["We could ask the team first"]
            await fac.refused({"type": "end_breakouts"}, "conflict")
            await fac.apply({"type": "close"})
        finally:
            await room.close()

    run(scenario(), timeout=90)


async def items_stay_in_the_group(room: Room, trio: dict[str, Any], four: dict[str, Any]) -> None:
    """Anonymous items written in the trio: batched and revealed within it; they reach the
    room only when the trio agrees, through its own consent ballot."""
    fac, screen = room.fac, room.screen
    phones = await group_phones(room, trio)
    others = await group_phones(room, four)
    texts = ["We could ask the team first", "Try it for a week", "Write to the manager"]
    for phone, text in zip(phones, texts):
        await phone.apply({"type": "submit_item", "kind": "feedback", "text": text})
    for phone in phones:
        await see(phone, lambda v: v["pending"]["feedback"] == 3, timeout=10)
    assert others[0].view["pending"]["feedback"] == 0
    await fac.refused({"type": "reveal_items", "kind": "feedback", "breakout_id": four["id"]}, "conflict")
    await fac.apply({"type": "reveal_items", "kind": "feedback", "breakout_id": trio["id"]})
    seen = await see(phones[0], lambda v: len(v["items"]) == 3)
    assert sorted(i["text"] for i in seen["items"]) == sorted(texts)
    assert others[0].view["items"] == []
    for viewer in (fac, screen, others[0]):  # the texts are for the trio's eyes only
        assert not any(t in str(viewer.view) for t in texts)
    summary = next(g for g in groups(fac.view) if g["id"] == trio["id"])
    assert len(summary["items"]) == 3 and "text" not in summary["items"][0]
    chosen = next(i["id"] for i in seen["items"] if i["text"] == texts[0])
    ack = await fac.apply({"type": "propose_summary", "kind": "item", "item_id": chosen, "breakout_id": trio["id"]})
    proposal = ack["proposal_id"]
    await others[0].refused({"type": "consent", "proposal_id": proposal, "agree": True}, "not_found")
    for phone in phones:
        await see(phone, lambda v: any(p["id"] == proposal for p in v["proposals"]))
        await phone.apply({"type": "consent", "proposal_id": proposal, "agree": True})
    await see(fac, lambda v: next(g for g in groups(v) if g["id"] == trio["id"])["proposals"][0]["agreed"] == 3,
                             timeout=10)


def test_breakouts_by_hand_balanced_and_moving_people(server: ServerProcess) -> None:
    async def scenario() -> None:
        room = await open_room(server, SEVEN[:5], **TROIKA)
        fac, ids = room.fac, room.ids
        try:
            await fac.apply({"type": "start"})
            await fac.refused({"type": "start_breakouts", "size": 2, "method": "manual",
                               "groups": [[ids["Ana"]], [ids["Ben"], ids["Cleo"], ids["Dev"], ids["Eli"]]]}, "invalid")
            await fac.refused({"type": "start_breakouts", "size": 2, "method": "manual",
                               "groups": [[ids["Ana"], "nobody"], [ids["Ben"], ids["Cleo"], ids["Dev"], ids["Eli"]]]},
                              "not_found")
            await fac.apply({"type": "start_breakouts", "size": 2, "method": "manual",
                             "groups": [[ids["Ana"], ids["Ben"]], [ids["Cleo"], ids["Dev"], ids["Eli"]]]})
            view = fac.view
            assert [[m["name"] for m in g["members"]] for g in groups(view)] == [["Ana", "Ben"], ["Cleo", "Dev", "Eli"]]
            g1, g2 = (g["id"] for g in groups(view))
            await fac.refused({"type": "move_to_breakout", "participant_id": ids["Ana"], "breakout_id": g2}, "conflict")
            await fac.refused({"type": "move_to_breakout", "participant_id": ids["Eli"], "breakout_id": "g5"}, "not_found")
            await fac.apply({"type": "move_to_breakout", "participant_id": ids["Eli"], "breakout_id": g1})
            view = await see(room.phones["Eli"], lambda v: (v["breakout"] or {}).get("id") == g1)
            assert sorted(m["name"] for m in mine(view)["members"]) == ["Ana", "Ben", "Eli"]
            await fac.apply({"type": "end_breakouts"})
            # Balanced: after a round where Ana, Ben and Cleo hand the floor on at once, the
            # two who spoke most (Dev, Eli) go to different groups and the quiet are spread.
            await fac.apply({"type": "goto_phase", "phase_id": "harvest"})
            await fac.apply({"type": "start_round", "seconds_per_turn": 3})
            for name in ("Ana", "Ben", "Cleo"):
                await see(fac, lambda v: speaker(v) == ids[name], timeout=5)
                await room.phones[name].apply({"type": "yield_turn"})
            await see(fac, lambda v: v["round"] is None, timeout=15)
            ack = await fac.apply({"type": "start_breakouts", "size": 2, "method": "balanced"})
            assert sorted(ack["sizes"]) == [2, 3]
            where = {m["name"]: g["id"] for g in groups(fac.view) for m in g["members"]}
            assert where["Dev"] != where["Eli"]
            assert len({where["Ana"], where["Ben"], where["Cleo"]}) == 2
            await fac.apply({"type": "close"})  # its groups' clocks stop: the shared server stays quiet
            assert fac.view["breakouts"] is None and fac.view["status"] == "closed"
        finally:
            await room.close()

    run(scenario(), timeout=60)


def group_in(view: View, breakout_id: str) -> dict[str, Any]:
    """One group as the console or the screen sees it ({} while no such group runs)."""
    return next((g for g in view["breakouts"] or () if g["id"] == breakout_id), {})


def test_small_groups_keep_anonymity_a_troika_of_eight_makes_no_pair(server: ServerProcess) -> None:
    """Eight in Troika split 4 + 4; a pair made by hand writes nothing anonymously and shows the
    console no counts; an item a trio brings back to the room comes back under a new id."""
    async def scenario() -> None:
        room = await open_room(server, SEVEN + ("Hal",), **TROIKA)
        fac, screen, ids = room.fac, room.screen, room.ids
        try:
            await fac.apply({"type": "start"})
            ack = await fac.apply({"type": "start_breakouts", "size": 3})
            assert sorted(ack["sizes"]) == [4, 4]  # not 3 + 3 + 2: nobody writes in a pair
            await fac.apply({"type": "end_breakouts"})

            pair, trio, other = [ids["Ana"], ids["Ben"]], [ids["Cleo"], ids["Dev"], ids["Eli"]], \
                [ids["Fay"], ids["Gus"], ids["Hal"]]
            await fac.apply({"type": "start_breakouts", "size": 3, "method": "manual", "groups": [pair, trio, other]})
            g_pair, g_trio, _ = (g["id"] for g in groups(fac.view))
            ana = await see(room.phones["Ana"], lambda v: len((v["breakout"] or {}).get("members", ())) == 2)
            assert ana["breakout"]["id"] == g_pair and ana["anonymous_writing"] is False
            cleo = await see(room.phones["Cleo"], lambda v: len((v["breakout"] or {}).get("members", ())) == 3)
            assert cleo["breakout"]["id"] == g_trio and cleo["anonymous_writing"] is True
            refused = await room.phones["Ana"].refused({"type": "submit_item", "kind": "feedback", "text": "Mine"},
                                                       "conflict")
            assert "no anonymous writing" in refused["error"]["message"]

            # The pair's answers to its own ballot stay with it; the trio's are counted.
            for gid in (g_pair, g_trio):
                await fac.apply({"type": "propose_summary", "kind": "theme", "text": "Meet again", "breakout_id": gid})
            for name in ("Ana", "Ben", "Cleo", "Dev", "Eli"):
                phone = room.phones[name]
                view = await see(phone, lambda v: len(v["proposals"]) == 1)
                await phone.apply({"type": "consent", "proposal_id": view["proposals"][0]["id"], "agree": name != "Ben"})
            texts = ["Ask the team", "Try a week", "Write it down"]
            for name, text in zip(("Cleo", "Dev", "Eli"), texts):
                await room.phones[name].apply({"type": "submit_item", "kind": "feedback", "text": text})
            for viewer in (fac, screen):
                view = await see(viewer, lambda v: group_in(v, g_trio).get("pending") == {"question": 0, "feedback": 3}
                                 and [p["agreed"] for p in group_in(v, g_trio)["proposals"]] == [3], timeout=15)
                by_id = {g["id"]: g for g in groups(view)}
                assert by_id[g_trio]["proposals"][0]["agreed"] == 3
                assert by_id[g_pair]["pending"] is None
                assert [(p["agreed"], p["objected"], p["answered"]) for p in by_id[g_pair]["proposals"]] == \
                    [(None, None, None)]

            # The trio brings one piece back: the room gets it under an id the console never saw.
            await fac.apply({"type": "reveal_items", "kind": "feedback", "breakout_id": g_trio})
            trio_view = await see(room.phones["Cleo"], lambda v: len(v["items"]) == 3)
            shown = await see(fac, lambda v: len(group_in(v, g_trio).get("items", ())) == 3)
            seen_by_console = {i["id"] for i in group_in(shown, g_trio)["items"]}
            chosen = next(i["id"] for i in trio_view["items"] if i["text"] == texts[0])
            ask = await fac.apply({"type": "propose_summary", "kind": "item", "item_id": chosen, "breakout_id": g_trio})
            for name in ("Cleo", "Dev", "Eli"):
                phone = room.phones[name]
                await see(phone, lambda v: any(p["id"] == ask["proposal_id"] for p in v["proposals"]))
                await phone.apply({"type": "consent", "proposal_id": ask["proposal_id"], "agree": True})
            await see(fac, lambda v: [p["agreed"] for p in group_in(v, g_trio).get("proposals", ())] == [3, 3],
                      timeout=15)
            ended = await fac.apply({"type": "end_breakouts"})
            back = await see(fac, lambda v: v["version"] >= ended["version"])
            assert [i["text"] for i in back["items"]] == [texts[0]]
            assert back["items"][0]["id"] not in seen_by_console | {chosen} and back["items"][0]["votes"] == 0
            await fac.apply({"type": "close"})
        finally:
            await room.close()

    run(scenario(), timeout=90)
