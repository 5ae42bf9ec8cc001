"""What writing sessions through to the SQLite file costs the event loop (docs/benchmarks.md).

    python -m bench.write_through                  # 50 rooms of 12, 20,000 commands
    python -m bench.write_through --rooms 10 --commands 2000 --out /tmp/wt.json

The shell as the server runs it (``SessionService`` over the embedded ``MemoryStore``),
in one process without sockets, so that only the store differs: once with sessions in
memory only (``SESSIONS_DB=off``), once written through to a file in a temporary
directory. Each room runs a round; its people raise and lower hands and submit questions
over and over, every command with its own id (so each leaves an ack to keep), at a
steady rate spread over the rooms. Reported per mode:

- **CPU per command**: the event loop thread's CPU time over the run (the ticker's share
  included, the same in both modes) and the writer thread's, divided by the commands: the
  figure the machine's load disturbs least;
- **per command on the loop**: the time ``service.execute`` holds the event loop (the core's
  transition, the store, publishing), p50/p99/max;
- **loop lag**: how late a 1 ms ticker on the same loop wakes while the commands run, p99/max
  (what every other room would feel, the writer thread's share of the interpreter included);
- **writes**: transactions the writer thread made for those commands (a burst of changes to
  a session is one write of its latest state), and the file's size;
- **drain**: how long after the last command the file has everything (``flush``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from app.facilitation.commands import parse_command
from app.facilitation.errors import FacilitationError
from app.realtime.memory.broker import MemoryBroker
from app.realtime.memory.deadlines import LocalDeadlines
from app.realtime.memory.store import MemoryStore
from app.realtime.service import SessionService
from app.realtime.sqlite.store import SessionFile


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] if ordered else float("nan")


async def run_mode(mode: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    path = tmp / f"sessions-{mode}.sqlite3"
    file = SessionFile(str(path)) if mode == "file" else None
    store = MemoryStore(clock=time.time, closed_ttl_s=86400, idle_ttl_s=7 * 86400, file=file)
    deadlines = LocalDeadlines(time.time)
    service = SessionService(store, MemoryBroker(), deadlines, time.time, max_sessions=100_000)
    await deadlines.start(service.expire)
    rooms = []
    for n in range(args.rooms):
        created = await service.create_session(f"room {n}", None, None)
        tokens = [(await service.join(created.code, f"person {i}")).token for i in range(args.per_room)]
        people = [(await service.authenticate(created.code, token))[1] for token in tokens]
        _, facilitator = await service.authenticate(created.code, created.facilitator_token)
        await service.execute(facilitator, parse_command({"type": "start"}))
        await service.execute(facilitator, parse_command({"type": "start_round", "seconds_per_turn": 3600}))
        rooms.append((created.code, people))
    if file is not None:
        await asyncio.to_thread(file.flush)
        writes_before = file.writes

    lags: list[float] = []
    running = True

    async def ticker() -> None:
        loop = asyncio.get_running_loop()
        while running:
            start = loop.time()
            await asyncio.sleep(0.001)
            lags.append(max(0.0, loop.time() - start - 0.001))

    commands = [{"type": "raise_hand"}, {"type": "lower_hand"},
                {"type": "submit_item", "kind": "question", "text": "How did that land with you? " * 4}]
    held: list[float] = []
    refused = 0
    tick = asyncio.get_running_loop().create_task(ticker())
    gap = 1.0 / args.rate
    cpu_before, writer_before = time.thread_time(), file.cpu_s if file is not None else 0.0
    started = time.perf_counter()
    for n in range(args.commands):
        code, people = rooms[n % len(rooms)]
        caller = people[(n // len(rooms)) % len(people)]
        command = parse_command(commands[n % len(commands)])
        t0 = time.perf_counter()
        try:
            await service.execute(caller, command, secrets.token_hex(8))
        except FacilitationError:  # e.g. the speaker raising a hand: refused, nothing to write
            refused += 1
        held.append(time.perf_counter() - t0)
        due = started + (n + 1) * gap
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
    loop_cpu = time.thread_time() - cpu_before
    running = False
    await tick
    t0 = time.perf_counter()
    if file is not None:
        await asyncio.to_thread(file.flush)
    drain = time.perf_counter() - t0
    row: dict[str, Any] = {
        "mode": mode, "rooms": args.rooms, "per_room": args.per_room, "commands": args.commands,
        "rate_per_s": args.rate, "refused": refused,
        "held_p50_us": percentile(held, 50) * 1e6, "held_p99_us": percentile(held, 99) * 1e6,
        "held_max_us": max(held) * 1e6, "held_mean_us": statistics.fmean(held) * 1e6,
        "lag_p99_ms": percentile(lags, 99) * 1e3, "lag_max_ms": max(lags) * 1e3,
        "loop_cpu_per_command_us": loop_cpu / args.commands * 1e6,
        "writer_cpu_per_command_us": (file.cpu_s - writer_before) / args.commands * 1e6 if file is not None else 0.0,
        "writes": (file.writes - writes_before) if file is not None else 0,
        "drain_ms": drain * 1e3,
        "file_kb": sum(p.stat().st_size for p in tmp.glob(f"sessions-{mode}.sqlite3*")) / 1024 if file else 0,
        "state_kb": len((await store.load(rooms[0][0])).state.model_dump_json()) / 1024,
    }
    await store.close()
    if file is not None:  # everything the loop saw is in the file
        conn = sqlite3.connect(path)
        row["acks_in_file"] = conn.execute("SELECT count(*) FROM acks").fetchone()[0]
        conn.close()
    print(f"  {mode:>6}: CPU per command: loop {row['loop_cpu_per_command_us']:.0f} us, "
          f"writer {row['writer_cpu_per_command_us']:.0f} us; on the loop p50 {row['held_p50_us']:.0f} us, p99 {row['held_p99_us']:.0f} us, "
          f"max {row['held_max_us']:.0f} us; loop lag p99 {row['lag_p99_ms']:.2f} ms, max {row['lag_max_ms']:.2f} ms; "
          f"{row['writes']} writes for {args.commands} commands; drain {row['drain_ms']:.1f} ms", flush=True)
    return row


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.write_through", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--per-room", type=int, default=12)
    parser.add_argument("--commands", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=1000, help="commands a second, over all rooms")
    parser.add_argument("--dir", default=None, help="where the file goes (default: a temporary directory)")
    parser.add_argument("--out", default="", help="results JSON")
    args = parser.parse_args(argv)
    result: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "config": vars(args),
                              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                          "sqlite": sqlite3.sqlite_version, "loadavg_at_start": os.getloadavg()},
                              "runs": []}
    with tempfile.TemporaryDirectory(prefix="tp-bench-wt-", dir=args.dir) as tmpdir:
        for mode in ("memory", "file"):
            result["runs"].append(asyncio.run(run_mode(mode, args, Path(tmpdir))))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
