"""The CPD record in the core and in the store: what a member's entry holds (and never
holds), how the headings are laid out, the one-to-one's cap, and that what the server keeps
opens with the member's code alone. No server: time is passed in."""

from __future__ import annotations

import asyncio
import json

import pytest

from app.facilitation import carry, cpd, engine
from app.facilitation.errors import Conflict
from app.facilitation.models import CarriedAction
from app.realtime.group_service import GroupService
from app.realtime.interfaces import GroupRecord
from app.realtime.sealing import CpdOpener, cpd_public_key
from app.realtime.sqlite.groups import SqliteGroupStore
from tests.support.core import apply, person, settled
from tests.test_groups_core import session


def closed_meeting(one_to_one: bool = False):
    state = session("one-to-one" if one_to_one else "check-in-out", people=2)
    state = carry.welcome(state, "p0", "m0", (CarriedAction(id="c1", text="Phone the hospice", status="open"),),
                          cpd_key=cpd_public_key("code-of-p0"))
    state = carry.welcome(state, "p1", "m1", (), cpd_key=cpd_public_key("code-of-p1"))
    state = apply(state, {"type": "start"}, now=0.0).state
    state = apply(state, {"type": "review_action", "action_id": "c1", "status": "done"}, person(0), now=30.0).state
    state = apply(state, {"type": "add_action", "text": "Write up the near miss", "due": "2027-02-01"},
                  person(0), now=60.0).state
    state = apply(state, {"type": "add_action", "text": "Person 1 plans a rota swap"}, person(1), now=60.0).state
    if not one_to_one:
        state = apply(state, {"type": "goto_phase", "phase_id": "check-out"}, now=90.0).state
        state = apply(state, {"type": "evaluate", "scores": [1, 2, 3], "note": "anonymous words"},
                      person(0), now=100.0).state
        state = settled(state)
    return apply(state, {"type": "close"}, now=1800.0).state


def test_a_members_entry_holds_their_own_doing_and_nothing_anonymous() -> None:
    state = closed_meeting()
    entries = cpd.entries_at_close(state)
    assert set(entries) == {"m0", "m1"}
    mine = entries["m0"]
    assert mine["minutes"] == 30 and mine["role"] == "member" and mine["format"] == "Check-in and check-out"
    assert mine["actions"] == [{"text": "Write up the near miss", "due": "2027-02-01", "carried": False}]
    assert mine["reviewed"] == [{"text": "Phone the hospice", "due": None, "status": "done"}]
    text = json.dumps(mine)
    for never in ("Person 0", "Person 1", "rota", "anonymous words", "ROOM22", "Ward team", "scores"):
        assert never not in text, never
    assert entries["m0"]["id"] != entries["m1"]["id"]
    assert cpd.entries_at_close(state)["m0"]["id"] == mine["id"], "a replay replaces, it does not add"


def test_the_headings_follow_the_nmc_form_and_social_work_englands_record() -> None:
    entry = {**cpd.entries_at_close(closed_meeting())["m0"],
             "reflection": {"description": "Handover went badly.", "feelings": "Anxious.", "evaluation": "",
                            "analysis": "Rushed.", "conclusion": "Ask earlier.", "action_plan": "Pause first."}}
    laid = cpd.laid_out(entry)
    assert [h["heading"] for h in laid["nmc"]] == [h for _, h in cpd.NMC_HEADINGS]
    nmc = {h["key"]: h["paragraphs"] for h in laid["nmc"]}
    assert nmc["nature"][0].startswith("A reflective practice group (Check-in and check-out), 30 minutes")
    assert "Handover went badly." in nmc["nature"] and nmc["code"] == []
    assert "Last time I planned: Phone the hospice. How it went: done." in nmc["changed"]
    md = cpd.to_markdown(cpd.record_of([entry]))
    assert "| 1970-01-01 | Check-in and check-out | 30 | member |" in md
    assert "_Choose one or more themes of the Code: Prioritise people, Practise effectively, Preserve safety, " \
           "Promote professionalism and trust._" in md
    assert "Pause first." in md and "Ask earlier." in md


def test_a_one_to_one_admits_two_people_and_no_third() -> None:
    state = session("one-to-one", people=2)
    with pytest.raises(Conflict, match="admits 2 people"):
        engine.join(state, participant_id="p9", name="Third", token_hash="t9", now=1.0)
    state = apply(state, {"type": "remove_participant", "participant_id": "p1"}).state
    assert engine.join(state, participant_id="p9", name="Instead", token_hash="t9", now=1.0).state
    assert cpd.entries_at_close(closed_meeting(one_to_one=True))["m0"]["one_to_one"] is True
    assert cpd.entries_at_close(closed_meeting())["m0"]["one_to_one"] is False


@pytest.fixture(params=["sqlite", "redis"])
def make_store(request, tmp_path):
    """A group store of either kind (Redis: the suite's redis-server, under a prefix of its own)."""
    def make():
        if request.param == "sqlite":
            return SqliteGroupStore(str(tmp_path / "groups.sqlite3")), None
        from redis.asyncio import Redis

        from app.realtime.redis.groups import RedisGroupStore
        client = Redis.from_url(request.getfixturevalue("redis_server").url, decode_responses=True)
        return RedisGroupStore(client, prefix=f"tp-cpd-{tmp_path.name}:group:"), client
    return make


async def _raw_entries(store) -> str:
    if isinstance(store, SqliteGroupStore):
        return "\n".join(row[0] for row in await store._run("SELECT data FROM cpd_entries"))
    rows = [await store.redis.hgetall(f"{store.prefix}g1:cpd:{m}") for m in ("m0", "m1")]
    return "\n".join(json.dumps(row) for row in rows)


def test_the_store_keeps_only_what_the_members_code_opens(make_store) -> None:
    async def run() -> None:
        store, client = make_store()
        groups = GroupService(store, sessions=None, clock=lambda: 5000.0)  # type: ignore[arg-type]
        await store.create_group(GroupRecord(id="g1", name="Ward", key_hash="k", created_at=0.0))
        await store.add_member("g1", "m0", "hash0")
        await store.add_member("g1", "m1", "hash1")
        await groups.session_changed(closed_meeting())
        raw = await _raw_entries(store)
        assert raw and "near miss" not in raw and "hospice" not in raw and "Check-in" not in raw
        m0 = await store.find_member("g1", "hash0")
        assert m0 is not None
        mine = await groups.cpd_record(m0, "code-of-p0")
        assert [a["text"] for a in mine["entries"][0]["actions"]] == ["Write up the near miss"]
        assert (await groups.cpd_record(m0, "code-of-p1"))["entries"] == [], "another code opens nothing"
        await groups.session_changed(closed_meeting())  # a replay of the same close
        assert len((await groups.cpd_record(m0, "code-of-p0"))["entries"]) == 1
        await groups.erase_cpd(m0)
        await groups.session_changed(closed_meeting())  # a late change to a session from before the erase
        assert (await groups.cpd_record(m0, "code-of-p0"))["entries"] == []
        m1 = await store.find_member("g1", "hash1")
        assert m1 is not None and len((await groups.cpd_record(m1, "code-of-p1"))["entries"]) == 1
        await store.set_report_hash("g1", "report-hash")
        assert (await store.load_group("g1")).report_hash == "report-hash"
        await store.set_report_hash("g1", None)
        assert (await store.load_group("g1")).report_hash is None
        await store.close()
        if client is not None:
            await client.aclose()
    asyncio.run(run())


def test_an_opener_refuses_another_context() -> None:
    from app.realtime.sealing import seal_to
    sealed = seal_to(cpd_public_key("c"), "cpd/g1/m0/entry", "{}")
    assert CpdOpener("c").open("cpd/g1/m0/entry", sealed) == "{}"
    assert CpdOpener("c").open("cpd/g1/m1/entry", sealed) is None
