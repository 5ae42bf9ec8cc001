"""What one facilitator's command costs a worker in Redis mode, without sockets.

A room of 10 in a round, taken through turn changes the way the service makes them: each
through ``RedisStore.update`` with the command's fair share as its gate, against a
redis-server of the benchmark's own. Prints the worker's CPU and the wall time per command
and the round trips to Redis per command, the best of ``--repeat`` runs (a shared machine's
speed moves from one run to the next):

    python -m bench.command
    python -m bench.command --commands 1000 --repeat 9

The fan-out benchmark (bench/fanout.py) measures the whole server; this isolates the
command's path through the store, so a change to it can be weighed alone.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from redis.asyncio import Redis

from app.facilitation import commands, engine
from app.facilitation.errors import FacilitationError
from app.facilitation.formats import format_with_durations
from app.facilitation.models import FACILITATOR, SessionState
from app.facilitation.transition import Fresh
from app.realtime.interfaces import Bucket, Gate, Record
from app.realtime.redis.limits import RedisLimits
from app.realtime.redis.options import packed_in_c
from app.realtime.redis.store import RedisStore
from bench.fanout import redis_server

NOW = 1_000_000.0
CODE = "BENCH1"


def room(people: int) -> SessionState:
    state = engine.new_session(code=CODE, title="Team", format=format_with_durations("check-in-out", None), now=NOW,
                               salt="salt", facilitator_token_hash="f", screen_token_hash="s")
    for i in range(people):
        state = engine.join(state, participant_id=f"p{i}", name=f"Person {i}", token_hash=f"t{i}", now=NOW).state
    return engine.apply(state, commands.parse_command({"type": "start"}), FACILITATOR, NOW, Fresh(id="s", secret="r")).state


def turn_change(n: int):
    """The next turn, or a new round once the last one has ended (pure, as the service's changes are)."""
    def change(record: Record) -> Record:
        fresh = Fresh(id=f"c{n}", secret="r")
        try:
            state = engine.apply(record.state, commands.parse_command({"type": "next_turn"}), FACILITATOR, NOW + n, fresh).state
        except FacilitationError:
            state = engine.apply(record.state, commands.parse_command({"type": "start_round", "seconds_per_turn": 3600}),
                                 FACILITATOR, NOW + n, fresh).state
        return Record(state=state, acks=record.remember(f"c{n}", {"version": state.version}))
    return change


async def measure(url: str, commands_per_run: int, repeat: int, people: int) -> list[tuple[float, float, float]]:
    client = Redis.from_url(url, decode_responses=True)
    packed_in_c(client.connection_pool)  # as the app's pools pack their commands
    calls = [0]
    original = client.execute_command

    async def counted(*args, **kwargs):
        calls[0] += 1
        return await original(*args, **kwargs)

    client.execute_command = counted  # type: ignore[method-assign]
    store = RedisStore(client, prefix="bench:", clock=lambda: NOW, closed_ttl_s=60, idle_ttl_s=3600)
    limits = RedisLimits(client, prefix="bench:")
    gate = Gate(limits, (Bucket(f"session:{CODE}", 1e9, 1e9),), NOW, lambda wait: RuntimeError(wait))
    await store.create(Record(state=room(people)))
    runs, n = [], 0
    for _ in range(repeat + 1):  # the first run warms up (scripts loaded, code paths taken)
        cpu, wall, calls[0] = time.process_time(), time.perf_counter(), 0
        for _ in range(commands_per_run):
            n += 1
            await store.update(CODE, turn_change(n), gate)
        runs.append(((time.process_time() - cpu) / commands_per_run, (time.perf_counter() - wall) / commands_per_run,
                     calls[0] / commands_per_run))
    await client.aclose()
    return runs[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commands", type=int, default=400, help="turn changes per run")
    parser.add_argument("--repeat", type=int, default=5, help="runs, of which the best is printed")
    parser.add_argument("--people", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server, url = redis_server(Path(tmp))
        try:
            runs = asyncio.run(measure(url, args.commands, args.repeat, args.people))
        finally:
            server.stop()
    cpu, wall, trips = min(runs)
    print(f"a room of {args.people}, {args.commands} turn changes a run, best of {len(runs)}: "
          f"{cpu * 1000:.3f} ms of the worker's CPU and {wall * 1000:.3f} ms a command, "
          f"{trips:.2f} round trips to Redis a command")


if __name__ == "__main__":
    main()
