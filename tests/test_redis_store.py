"""The Redis pieces one by one, against the run's own redis-server: no lost update, acks
with the session, expiry, a fan-out that survives a dropped connection, and deadlines
that end a turn exactly once whichever worker is alive."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from redis.asyncio import Redis

from app.facilitation import engine
from app.facilitation.formats import format_with_durations
from app.facilitation.models import SessionState, Status
from app.realtime.interfaces import Record
from app.realtime.redis.broker import RedisBroker
from app.realtime.redis.deadlines import SharedDeadlines
from app.realtime.redis.pubsub import PubSubLoop
from app.realtime.redis.store import RedisStore, deadlines_key, session_key
from tests.support.redis_server import RedisServer

NOW = 1_000_000.0


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def new_state(code: str) -> SessionState:
    return engine.new_session(code=code, title="Unit", format=format_with_durations(None, None), now=NOW,
                              salt="s", facilitator_token_hash="f", screen_token_hash="x")


def renamed(title: str):
    """A change that appends to the title: lost updates would show as missing letters."""
    def change(record: Record) -> Record:
        state = record.state.model_copy(update={"title": record.state.title + title,
                                                "version": record.state.version + 1})
        return Record(state=state, acks=record.remember(title, {"version": state.version}))
    return change


def stores(redis_server: RedisServer, n: int, **kw) -> tuple[list[Redis], list[RedisStore], str]:
    """``n`` stores on separate connections, as ``n`` workers would have."""
    prefix = f"unit-{uuid.uuid4().hex[:8]}:"
    clients = [Redis.from_url(redis_server.url, decode_responses=True) for _ in range(n)]
    made = [RedisStore(c, prefix=prefix, clock=lambda: NOW, closed_ttl_s=60, idle_ttl_s=3600, **kw) for c in clients]
    return clients, made, prefix


def test_two_workers_updating_at_once_both_apply(redis_server: RedisServer) -> None:
    async def scenario() -> None:
        clients, (a, b), _ = stores(redis_server, 2)
        assert await a.create(Record(state=new_state("AAAAAA")))
        assert not await b.create(Record(state=new_state("AAAAAA")))  # the code is taken
        letters = [f"<{i}>" for i in range(60)]
        await asyncio.gather(*((a if i % 2 else b).update("AAAAAA", renamed(t)) for i, t in enumerate(letters)))
        record = await b.load("AAAAAA")
        assert record is not None
        assert sorted(record.state.title.split("<")[1:]) == sorted(t[1:] for t in letters)
        assert record.state.version == 60
        for letter in letters:  # every ack kept with the session, each read by its own command
            seen, _ = await a.update("AAAAAA", lambda record: None, ack=letter)
            assert seen.acks == {letter: {"version": seen.acks[letter]["version"]}}
        for c in clients:
            await c.aclose()

    run(scenario())


def test_a_conflicting_write_makes_the_change_run_again_on_the_newer_record(redis_server: RedisServer) -> None:
    async def scenario() -> None:
        clients, (a, b), _ = stores(redis_server, 2)
        await a.create(Record(state=new_state("BBBBBB")))
        calls = []

        def slow(record: Record) -> Record:
            calls.append(record.state.title)
            return renamed("-slow")(record)

        # Interleave by hand: read with a, write with b, then let a's compare-and-set fail.
        first = await a._get("BBBBBB")
        assert first is not None
        await b.update("BBBBBB", renamed("-fast"))
        assert await a._put(first.rev, renamed("-stale")(first.record), publish=True, was=first) == 0  # refused
        record, changed = await a.update("BBBBBB", slow)
        assert changed and record.state.title == "Unit-fast-slow" and calls == ["Unit-fast"]
        for c in clients:
            await c.aclose()

    run(scenario())


def test_an_unknown_session_is_a_key_error_and_nothing_is_created(redis_server: RedisServer) -> None:
    async def scenario() -> None:
        clients, (a,), prefix = stores(redis_server, 1)
        with pytest.raises(KeyError):
            await a.update("ZZZZZZ", renamed("x"))
        assert not await clients[0].exists(session_key(prefix, "ZZZZZZ"))
        await clients[0].aclose()

    run(scenario())


def test_closed_sessions_expire_after_closed_ttl_and_open_ones_after_idle_ttl(redis_server: RedisServer) -> None:
    async def scenario() -> None:
        clients, (a,), prefix = stores(redis_server, 1)
        await a.create(Record(state=new_state("CCCCCC")))
        key = session_key(prefix, "CCCCCC")
        assert 3_590_000 < await clients[0].pttl(key) <= 3_636_000  # rounded up to a hundredth of the idle time
        assert await a.count() == 1

        def close(record: Record) -> Record:
            state = record.state.model_copy(update={"status": Status.closed, "closed_at": NOW, "version": 9})
            return Record(state=state, acks=record.acks)

        await a.update("CCCCCC", close)
        assert 50_000 < await clients[0].pttl(key) <= 60_000
        await a.delete("CCCCCC")
        assert await a.count() == 0
        await clients[0].aclose()

    run(scenario())


def test_the_fan_out_reconnects_and_rereads_what_the_gap_hid(redis_server: RedisServer) -> None:
    async def scenario() -> None:
        clients, (a,), prefix = stores(redis_server, 1)
        await a.create(Record(state=new_state("DDDDDD")))

        async def reload(code: str):
            record = await a.load(code)
            return record.state if record else None

        pubsub = PubSubLoop(redis_server.url, name=f"{prefix}pubsub", health_s=1.0)
        broker = RedisBroker(pubsub, prefix=prefix, reload=reload)
        pubsub.start()
        arrived: asyncio.Queue = asyncio.Queue()
        states = aiter_queue(arrived)
        async with broker.subscribe("DDDDDD", arrived.put_nowait, lambda *_: None):
            await a.update("DDDDDD", renamed("1"))
            assert (await asyncio.wait_for(anext(states), 5)).title == "Unit1"
            # Drop the subscriber's connection; a change while it is away must still arrive.
            ours = [c["id"] for c in await clients[0].client_list() if c["name"] == f"{prefix}pubsub"]
            assert ours and all([await clients[0].client_kill_filter(_id=i) for i in ours])
            await a.update("DDDDDD", renamed("2"))
            while (await asyncio.wait_for(anext(states), 5)).title != "Unit12":
                pass
            assert pubsub.reconnects >= 1
            await a.update("DDDDDD", renamed("3"))  # and it is subscribed again
            while (await asyncio.wait_for(anext(states), 5)).title != "Unit123":
                pass
        await broker.close()
        await clients[0].aclose()

    run(scenario())


def test_every_worker_gets_each_change_and_the_writer_keeps_its_own_unparsed(redis_server: RedisServer) -> None:
    async def scenario() -> None:
        clients, (a, b), prefix = stores(redis_server, 2)
        await a.create(Record(state=new_state("DDDDDF")))

        async def reload(code: str):  # what a worker does on another's change: read the record
            record = await b.load(code)
            return record.state if record else None

        pubsub = PubSubLoop(redis_server.url, name=f"{prefix}pubsub")
        broker = RedisBroker(pubsub, prefix=prefix, reload=reload, mine=a.published_here)  # a's worker
        pubsub.start()
        arrived: asyncio.Queue = asyncio.Queue()
        states = aiter_queue(arrived)
        async with broker.subscribe("DDDDDF", arrived.put_nowait, lambda *_: None):
            await asyncio.wait_for(pubsub.connected.wait(), 5)
            written, _ = await b.update("DDDDDF", renamed("B"))  # another worker's change: read here
            while (got := await asyncio.wait_for(anext(states), 5)).title != written.state.title:
                pass  # (the first read on subscribing may come first)
            assert got == written.state and got is not written.state
            written, _ = await a.update("DDDDDF", renamed("A"))  # this worker's own: the state it wrote
            got = await asyncio.wait_for(anext(states), 5)
            assert got is written.state and got.title == "UnitBA"
            # The same when the change's message comes back before the write's own reply, as it
            # can on a busy worker: the pub/sub connection is read first.
            write = a._write

            async def late_reply(**kwargs):
                done = await write(**kwargs)
                await asyncio.sleep(0.2)
                return done

            a._write = late_reply
            written, _ = await a.update("DDDDDF", renamed("C"))
            got = await asyncio.wait_for(anext(states), 5)
            assert got is written.state and got.title == "UnitBAC"
        await broker.close()
        for client in clients:
            await client.aclose()

    run(scenario())


def test_a_worker_behind_on_its_messages_still_delivers_its_own_writes_unread(redis_server: RedisServer) -> None:
    """A loaded worker reads its pub/sub connection late: hundreds of rooms' changes may be
    written before their messages come back. Each must still be delivered as the state it
    wrote: reading them back instead is dearer, and a worker already behind would fall
    further behind. A session no socket here follows keeps nothing (its message never comes)."""
    async def scenario() -> None:
        clients, (a,), prefix = stores(redis_server, 1)
        codes = [f"Q{n:05d}" for n in range(300)]
        followed = set(codes[:-1])
        a.follows = followed.__contains__
        listener = Redis.from_url(redis_server.url, decode_responses=True)
        pubsub = listener.pubsub()
        await pubsub.psubscribe(f"{prefix}c:*")
        for code in codes:
            await a.create(Record(state=new_state(code)))
        written = {code: (await a.update(code, renamed("!")))[0].state for code in codes}
        messages = []
        deadline = asyncio.get_running_loop().time() + 10
        while len(messages) < len(codes):
            assert asyncio.get_running_loop().time() < deadline, f"{len(messages)} of {len(codes)} messages came"
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
            if message is not None:  # (None: the subscription's own confirmation)
                messages.append(message)
        for message in messages:  # the messages, read only now
            code = message["channel"].rsplit(":", 1)[1]
            worker, revision, _ = message["data"].split(":")
            held = a.published_here(code, worker, int(revision))
            assert (held is written[code]) if code in followed else held is None, code
        await pubsub.aclose()
        await listener.aclose()
        for client in clients:
            await client.aclose()

    run(scenario())


def test_a_deadline_fires_once_on_a_surviving_worker_when_its_scheduler_is_gone(redis_server: RedisServer) -> None:
    async def scenario() -> None:
        clock = {"now": NOW}
        deadline_of = {"DDDDDE": NOW + 0.3}
        clients, stores_, prefix = stores(redis_server, 3, deadline_of=lambda s: deadline_of.get(s.code))
        for s in stores_:
            s._clock = lambda: clock["now"]
        scheduler, *workers = stores_
        expired: list[str] = []

        # The scheduling worker writes the session (and so its deadline) and then dies:
        # it runs no deadline loop at all. Two other workers share the work.
        await scheduler.create(Record(state=new_state("DDDDDE")))
        assert await clients[0].zscore(deadlines_key(prefix), "DDDDDE") == pytest.approx(NOW + 0.3)

        loops = []
        for store, client in zip(workers, clients[1:]):
            async def expire(code: str, store=store) -> None:
                expired.append(code)
                deadline_of.pop(code, None)  # the turn ended: no deadline follows
                await store.update(code, renamed("!"))
            pubsub = PubSubLoop(redis_server.url, name=f"{prefix}pubsub")
            pubsub.start()
            loop = SharedDeadlines(client, store, pubsub, prefix=prefix, clock=lambda: clock["now"])
            await loop.start(expire)
            loops.append((loop, pubsub))

        async def tick() -> None:
            while True:
                clock["now"] += 0.05
                await asyncio.sleep(0.05)

        ticker = asyncio.create_task(tick())
        for _ in range(60):
            await asyncio.sleep(0.05)
            if expired:
                break
        await asyncio.sleep(0.5)  # time for any second, wrong expiry
        ticker.cancel()
        assert expired == ["DDDDDE"]
        assert await clients[0].zscore(deadlines_key(prefix), "DDDDDE") is None  # reconciled away
        record = await scheduler.load("DDDDDE")
        assert record is not None and record.state.title == "Unit!"
        for loop, pubsub in loops:
            await loop.close()
            await pubsub.close()
        for c in clients:
            await c.aclose()

    run(scenario())


async def aiter_queue(queue: asyncio.Queue):
    while True:
        yield await queue.get()


def test_presence_is_kept_apart_and_a_lost_one_shows_everyone_gone_after_the_wait(redis_server: RedisServer) -> None:
    """Who is online is in the session's ``presence`` field, not its record; a Redis that came
    back from its append-only file has none, and then everyone shown connected has just gone."""
    async def scenario() -> None:
        clients, (a,), prefix = stores(redis_server, 1)
        state = engine.join(new_state("PPPPPP"), participant_id="ana", name="Ana", token_hash="h", now=NOW).state
        ana = state.participants[0].model_copy(update={"connected": True, "online": False, "online_changed_at": NOW - 5})
        await a.create(Record(state=state.model_copy(update={"participants": (ana,)})))
        stored = await clients[0].hgetall(session_key(prefix, "PPPPPP"))
        assert '"online":true' in stored["record"] and json.loads(stored["presence"]) == {"ana": NOW - 5}
        loaded = await a.load("PPPPPP")
        assert (loaded.state.participants[0].online, loaded.state.participants[0].online_changed_at) == (False, NOW - 5)

        await clients[0].hdel(session_key(prefix, "PPPPPP"), "presence")  # as after a restart from the file
        lost = (await a.load("PPPPPP")).state.participants[0]
        assert (lost.connected, lost.online, lost.online_changed_at) == (True, False, NOW)
        for c in clients:
            await c.aclose()

    run(scenario())


def test_a_worker_reads_back_its_own_write_as_any_worker_parses_it(redis_server: RedisServer) -> None:
    """The writer keeps the record it wrote, so its next command on the session skips the parse:
    through a room's changes (joins, a round, an anonymous question, a vote), what it reads back
    equals what another worker parses from the same JSON."""
    from app.facilitation import commands
    from app.facilitation.models import FACILITATOR, Actor
    from app.facilitation.transition import Fresh

    async def scenario() -> None:
        clients, (a, b), _ = stores(redis_server, 2)
        await a.create(Record(state=new_state("DDDDDG")))
        ana = Actor(role="participant", participant_id="p0", key="k0")
        steps = [(FACILITATOR, {"type": "start"}), (FACILITATOR, {"type": "start_round", "seconds_per_turn": 60}),
                 (FACILITATOR, {"type": "next_turn"}), (ana, {"type": "raise_hand"}),
                 (ana, {"type": "submit_item", "kind": "question", "text": "Why then? <b>%s</b>"}),
                 (FACILITATOR, {"type": "next_turn"})]

        def joined(n: int):
            def change(record: Record) -> Record:
                return Record(state=engine.join(record.state, participant_id=f"p{n}", name=f"Person {n}",
                                                token_hash=f"t{n}", now=NOW + n).state, acks=record.acks)
            return change

        def applied(n: int, actor: Actor, command: dict):
            def change(record: Record) -> Record:
                state = engine.apply(record.state, commands.parse_command(command), actor, NOW + 10 + n,
                                     Fresh(id=f"c{n}", secret="r")).state
                return Record(state=state, acks=record.remember(f"c{n}", {"version": state.version}))
            return change

        changes = [joined(n) for n in range(3)] + [applied(n, actor, c) for n, (actor, c) in enumerate(steps)]
        for change in changes:
            await a.update("DDDDDG", change)
            kept = a._written["DDDDDG"][1]
            mine, theirs = await a.load("DDDDDG"), await b.load("DDDDDG")
            assert mine is not None and theirs is not None
            assert mine.state == theirs.state and mine.acks == theirs.acks
            assert mine.state is not theirs.state and mine.acks is kept.acks  # read back unparsed
        for client in clients:
            await client.aclose()

    run(scenario())


def test_a_command_on_a_session_this_worker_wrote_last_is_one_round_trip_and_never_stale(
        redis_server: RedisServer) -> None:
    """A command's share, the check and the write go in one script when the worker still holds the
    session as it wrote it. The change is computed from what Redis would give back: every step of a
    room gives the same record as a worker that reads it. When another worker wrote meanwhile, or
    Redis lost the session's presence, the command is computed again from a read; and a refused
    share writes nothing."""
    from app.facilitation import commands
    from app.facilitation.models import FACILITATOR, Actor
    from app.facilitation.transition import Fresh
    from app.realtime.interfaces import Bucket, Gate
    from app.realtime.redis.limits import RedisLimits

    class Refused(Exception):
        pass

    async def scenario() -> None:
        clients, (a, b), prefix = stores(redis_server, 2)
        calls: list[str] = []
        original = clients[0].execute_command

        def trips() -> int:  # a script's first run here is refused (NOSCRIPT), loaded and run again
            return calls.count("evalsha") - calls.count("script load")

        async def counted(*args, **kwargs):
            calls.append(str(args[0]).lower())
            return await original(*args, **kwargs)

        clients[0].execute_command = counted  # type: ignore[method-assign]
        limits = RedisLimits(clients[0], prefix=prefix)

        def gate(burst: float = 100) -> Gate:
            return Gate(limits, (Bucket("session:GGGGGG", 0.001, burst),), NOW, lambda wait: Refused(wait))

        def applied(n: int, actor: Actor, command: dict):
            def change(record: Record) -> Record:
                state = engine.apply(record.state, commands.parse_command(command), actor, NOW + n,
                                     Fresh(id=f"c{n}", secret="r")).state
                return Record(state=state, acks=record.remember(f"c{n}", {"version": state.version}))
            return change

        state = new_state("GGGGGG")
        for n in range(3):
            state = engine.join(state, participant_id=f"p{n}", name=f"Person {n}", token_hash=f"t{n}", now=NOW).state
        await a.create(Record(state=state))
        ana = Actor(role="participant", participant_id="p2", key="k2")  # not the first to speak
        steps = [(FACILITATOR, {"type": "start"}), (FACILITATOR, {"type": "start_round", "seconds_per_turn": 60}),
                 (ana, {"type": "raise_hand"}), (ana, {"type": "submit_item", "kind": "question", "text": "Why?"}),
                 (FACILITATOR, {"type": "next_turn"})]
        await a.update("GGGGGG", applied(0, *steps[0]), gate())  # read, then written: a holds it from here
        for n, (actor, command) in enumerate(steps[1:], start=1):
            calls.clear()
            record, changed = await a.update("GGGGGG", applied(n, actor, command), gate())
            assert changed and trips() == 1, calls  # one round trip: share, check and write
            theirs = await b.load("GGGGGG")
            assert theirs is not None and theirs.state == record.state.model_copy(update={"items": theirs.state.items})
            acked, _ = await b.update("GGGGGG", lambda record: None, ack=f"c{n}")
            assert acked.acks == {f"c{n}": record.acks[f"c{n}"]}  # its ack, as another worker reads it

        await b.update("GGGGGG", applied(10, FACILITATOR, {"type": "next_turn"}))  # another worker writes
        calls.clear()
        record, _ = await a.update("GGGGGG", applied(11, FACILITATOR, {"type": "next_turn"}), gate())
        assert record.state.version == (await b.load("GGGGGG")).state.version  # computed from b's write
        assert set(record.acks) == {"c11"} and trips() == 3  # tried, read, written

        await clients[0].hdel(session_key(prefix, "GGGGGG"), "presence")  # as after a restart from the file
        calls.clear()
        await a.update("GGGGGG", applied(12, ana, {"type": "lower_hand"}), gate())
        assert trips() == 3 and await clients[0].hexists(session_key(prefix, "GGGGGG"), "presence")

        before = await clients[0].hgetall(session_key(prefix, "GGGGGG"))
        await clients[0].delete(f"{prefix}rl:session:GGGGGG")
        with pytest.raises(Refused):
            await a.update("GGGGGG", applied(13, FACILITATOR, {"type": "next_turn"}), gate(burst=0.5))
        assert await clients[0].hgetall(session_key(prefix, "GGGGGG")) == before  # nothing written
        for client in clients:
            await client.aclose()

    run(scenario())


def test_each_ack_is_kept_apart_so_a_long_session_costs_each_command_what_its_first_did(
        redis_server: RedisServer) -> None:
    """A command reads and writes its own ack and no other: the record every command writes and
    every worker reads to follow the room stays the size of the room, however many commands it
    has seen. A command sent again is still answered from its ack (on the worker that wrote it
    last too, which computes commands without a read), the oldest acks go past the session's
    allowance, and a record written before acks had fields of their own keeps its acks."""
    from app.realtime.interfaces import Bucket, Gate
    from app.realtime.redis.limits import RedisLimits

    def command(key: str):
        def change(record: Record) -> Record | None:
            if key in record.acks:  # done before: answered from its ack, as the service does
                return None
            state = record.state.model_copy(update={"version": record.state.version + 1})
            return Record(state=state, acks=record.remember(key, {"sealed": f"ack of {key}"}))
        return change

    async def scenario() -> None:
        clients, (a, b), prefix = stores(redis_server, 2)
        key = session_key(prefix, "HHHHHH")
        await a.create(Record(state=new_state("HHHHHH")))
        limits = RedisLimits(clients[0], prefix=prefix)

        def gate() -> Gate:
            return Gate(limits, (Bucket("session:HHHHHH", 1000, 1000),), NOW, lambda wait: RuntimeError(wait))

        await a.update("HHHHHH", command("c0"), gate(), ack="c0")
        first = len(await clients[0].hget(key, "record"))
        for n in range(1, 400):
            await (a if n % 3 else b).update("HHHHHH", command(f"c{n}"), gate(), ack=f"c{n}")
        record = await b.load("HHHHHH")
        assert record is not None and record.state.version == 400 and record.acks == {}
        assert len(await clients[0].hget(key, "record")) <= first + 2  # (the version's digits)

        for worker in (a, b):  # a wrote last: its replay is tried on what it holds, then read
            again, changed = await worker.update("HHHHHH", command("c7"), gate(), ack="c7")
            assert not changed and again.acks == {"c7": {"sealed": "ack of c7"}} and again.state.version == 400
        written, changed = await a.update("HHHHHH", command("c399"), gate(), ack="c399")
        assert not changed and written.state.version == 400

        assert len([f for f in await clients[0].hkeys(key) if f.startswith("k:")]) == 400
        a.max_acks = b.max_acks = 5  # a session's allowance: past it, the oldest go
        await a.create(Record(state=new_state("JJJJJJ")))
        for n in range(8):
            await (a if n % 2 else b).update("JJJJJJ", command(f"j{n}"), gate(), ack=f"j{n}")
        fields = await clients[0].hkeys(session_key(prefix, "JJJJJJ"))
        assert sorted(f for f in fields if f.startswith("k:")) == [f"k:j{n}" for n in range(3, 8)]
        assert sorted(f for f in fields if f.startswith("n:")) == [f"n:{n}" for n in range(4, 9)]
        again, changed = await a.update("JJJJJJ", command("j3"), gate(), ack="j3")
        assert not changed and again.acks == {"j3": {"sealed": "ack of j3"}}

        # Written before acks had fields of their own: the acks are in the record's JSON.
        old = Record(state=new_state("IIIIII"), acks={"o1": {"sealed": "ack of o1"}, "o2": {"sealed": "ack of o2"}})
        await clients[0].hset(session_key(prefix, "IIIIII"), mapping={
            "rev": "1", "record": old.model_dump_json(), "presence": "{}"})
        again, changed = await b.update("IIIIII", command("o1"), gate(), ack="o1")
        assert not changed and again.acks["o1"] == {"sealed": "ack of o1"}
        await b.update("IIIIII", command("n1"), gate(), ack="n1")  # the next write moves them to their fields
        stored = await clients[0].hgetall(session_key(prefix, "IIIIII"))
        assert json.loads(stored["record"]).get("acks", {}) == {}  # none left in the record (a default is not written)
        assert {f for f in stored if f.startswith("k:")} == {"k:o1", "k:o2", "k:n1"}
        again, changed = await a.update("IIIIII", command("o2"), gate(), ack="o2")
        assert not changed and again.acks == {"o2": {"sealed": "ack of o2"}}
        for client in clients:
            await client.aclose()

    run(scenario())


def test_an_erased_session_leaves_every_worker_that_held_it(redis_server: RedisServer) -> None:
    """A worker keeps the sessions it wrote last (to skip a read and a parse). When another worker
    erases one, the tombstone on its channel makes this worker let go of it too: its content does
    not wait in memory for the worker to need the room."""
    async def scenario() -> None:
        clients, (a, b), prefix = stores(redis_server, 2)
        await a.create(Record(state=new_state("EEEEEA")))
        await b.update("EEEEEA", renamed(" with a secret title"))  # b now holds the session as it wrote it
        assert "EEEEEA" in b._heads and "EEEEEA" in b._written

        async def reload(code: str):
            record = await b.load(code)
            return record.state if record else None

        pubsub = PubSubLoop(redis_server.url, name=f"{prefix}pubsub")
        broker = RedisBroker(pubsub, prefix=prefix, reload=reload, mine=b.published_here, forget=b.forget)  # b's
        pubsub.start()
        gone: asyncio.Queue = asyncio.Queue()
        async with broker.subscribe("EEEEEA", lambda state: None, gone.put_nowait):
            await asyncio.wait_for(pubsub.connected.wait(), 5)
            a_pubsub = PubSubLoop(redis_server.url, name=f"{prefix}pubsub-a")
            a_broker = RedisBroker(a_pubsub, prefix=prefix, reload=reload)
            await a.delete("EEEEEA")  # a erases it, as its service does: the record, then the tombstone
            await a_broker.erased("EEEEEA")
            assert await asyncio.wait_for(gone.get(), 5)  # b's sockets are told
            assert "EEEEEA" not in b._heads and "EEEEEA" not in b._written and "EEEEEA" not in a._heads
            await a_broker.close()
        await broker.close()
        for client in clients:
            await client.aclose()

    run(scenario())
