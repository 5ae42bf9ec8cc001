"""A member code a person can type: four groups of four from an alphabet without look-alikes,
read back whatever the case, the spaces and dashes, and O for 0 or I and L for 1; the codes
handed out before (24 URL-safe characters) still recognise their member and open their CPD
record; and the slow derivation runs once for a code presented again within a short time."""

from __future__ import annotations

import asyncio
import hashlib
import re

from app.facilitation.errors import Unauthorized
from app.realtime.group_service import GroupService
from app.realtime.interfaces import GroupRecord
from app.realtime.member_codes import Derivations, derive, new_code, typed
from app.realtime.sealing import cpd_public_key
from app.facilitation import carry
from tests.test_cpd_core import make_store  # noqa: F401 (a fixture)
from tests.test_groups_core import apply, person, session


def meeting(keys: dict[str, str]):
    """A closed group session whose two people are members m0 and m1, with these CPD keys."""
    state = session("check-in-out", people=2)
    for i in range(2):
        state = carry.welcome(state, f"p{i}", f"m{i}", (), cpd_key=keys[f"m{i}"])
    state = apply(state, {"type": "start"}, now=0.0).state
    for i in range(2):
        state = apply(state, {"type": "add_action", "text": f"Plan {i}"}, person(i), now=60.0).state
    return apply(state, {"type": "close"}, now=1800.0).state

SHAPE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}")


def test_a_new_code_is_four_groups_of_four_without_lookalike_letters() -> None:
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200 and all(SHAPE.fullmatch(c) for c in codes)
    assert not set("ILOU") & set("".join(codes))


def test_a_code_is_read_back_as_people_type_it() -> None:
    assert typed("7k3m 9qxd-2hbw r4tn") == "7K3M9QXD2HBWR4TN"
    assert typed("OILS-0000-1111-2222") == "011S000011112222"  # O is 0, I and L are 1
    assert typed("7K3M-9QXD-2HBW") is None  # too short
    assert typed("aB3_xYz-9Qw8Rt5Uv6Mn4Lk2") is None  # a code from before: used as written


def test_a_recognised_codes_keys_are_kept_for_a_short_time_only() -> None:
    now = [0.0]
    kept = Derivations(lambda: now[0], ttl_s=60)
    code = new_code()
    keys = derive("g1", code)
    assert kept.kept("g1", code) is None
    kept.remember("g1", code, keys)
    assert kept.kept("g1", code.lower().replace("-", " ")) == keys  # as typed again: the same code
    assert kept.kept("g2", code) is None and derive("g2", code) != keys  # another group: another salt
    now[0] = 61.0
    assert kept.kept("g1", code) is None  # forgotten after a minute


def test_new_and_old_codes_recognise_their_member_and_open_their_record(make_store) -> None:  # noqa: F811
    async def run() -> None:
        store, client = make_store()
        groups = GroupService(store, sessions=None, clock=lambda: 5000.0)  # type: ignore[arg-type]
        await store.create_group(GroupRecord(id="g1", name="Ward", key_hash="k", created_at=0.0))
        old = "code-of-p0"  # as the member codes were: verbatim, SHA-256 to recognise, PBKDF2 to open
        await store.add_member("g1", "m0", hashlib.sha256(old.encode()).hexdigest())
        await store.set_cpd_key("g1", "m0", cpd_public_key(old))
        new = new_code()
        keys = derive("g1", new)
        await store.add_member("g1", "m1", keys.lookup)
        await store.set_cpd_key("g1", "m1", cpd_public_key(keys.cpd_seed))
        await groups.session_changed(meeting({"m0": cpd_public_key(old), "m1": cpd_public_key(keys.cpd_seed)}))
        assert keys.lookup not in (new, hashlib.sha256(new.encode()).hexdigest())  # the store holds neither
        m0 = await groups.member("g1", old)
        assert m0.id == "m0" and len((await groups.cpd_record(m0, old))["entries"]) == 1
        m1 = await groups.member("g1", new.lower().replace("-", " ").replace("0", "o"))
        assert m1.id == "m1" and len((await groups.cpd_record(m1, new))["entries"]) == 1
        for wrong in (new[:-1] + ("0" if new[-1] != "0" else "1"), "code-of-p1"):
            try:
                await groups.member("g1", wrong)
                raise AssertionError("a wrong code was recognised")
            except Unauthorized:
                pass
        await store.close()
        if client is not None:
            await client.aclose()
    asyncio.run(run())
