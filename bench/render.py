"""What one turn change costs the pages' socket to render, without sockets: a room of 10 phones,
its console and its screen, taken through turn changes the way the hub offers each new state.

    python -m bench.render                 # 200 turn changes, English
    python -m bench.render --lang cy       # the same in Welsh
    python -m bench.render --repeat 9      # the best and the median of nine runs
    python -m bench.render --changes 500 --profile   # and cProfile's top functions

Prints the time per change (models, keys, the renders the kept regions could not spare, and each
socket's frame as its writer has it, UTF-8) and the block renders per change, by region. On a
shared machine one run's time moves by a tenth or more with its neighbours' work: ``--repeat``
runs it again in the same process and prints the best run (the least disturbed) and the median;
two versions compare by their best, taken in turn. The fan-out benchmark (bench/fanout.py)
measures the whole server; this isolates the part the templates decide, so a change to them can
be weighed alone.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time
from collections import Counter
from typing import Any

from app.facilitation import commands, engine
from app.facilitation.formats import format_with_durations
from app.facilitation.models import FACILITATOR, SCREEN, Actor
from app.facilitation.transition import Fresh
from app.live.htmx import FragmentConnection
from app.pages import i18n
from app.pages.regions import Regions
from app.realtime.frames import SESSION, SETTLE


class Socketless:
    """Stands in for a WebSocket: the connection only needs to exist."""


def room(people: int):
    state = engine.new_session(code="BENCH1", title="Team", format=format_with_durations("check-in-out", None),
                               now=0.0, salt="salt", facilitator_token_hash="f", screen_token_hash="s")
    for i in range(people):
        state = engine.join(state, participant_id=f"p{i}", name=f"Person {i}", token_hash=f"t{i}", now=0.0).state
    return state


def send(state, command: dict[str, Any], now: float):
    return engine.apply(state, commands.parse_command(command), FACILITATOR, now, Fresh(id=f"c{now}", secret="r")).state


def run(changes: int, people: int, lang: str) -> tuple[float, Counter[str]]:
    viewers = [FACILITATOR, SCREEN, *(Actor(role="participant", participant_id=f"p{i}", key=f"k{i}")
                                     for i in range(people))]
    conns = [FragmentConnection(Socketless(), v) for v in viewers]  # type: ignore[arg-type]
    state, now = send(send(room(people), {"type": "start"}, 0.0), {"type": "start_round", "seconds_per_turn": 3600}, 1.0), 1.0
    lasting: dict = {}
    rendered: Counter[str] = Counter()
    plain = Regions.render

    def counting(template: str, region: Any, *rest: Any) -> str:
        rendered[region.name] += 1
        return plain(template, region, *rest)

    Regions.render = staticmethod(counting)  # type: ignore[method-assign]
    spent = 0.0
    with i18n.speaking(lang):
        for n in range(changes):
            now += 2.0
            try:
                state = send(state, {"type": "next_turn"}, now)
            except Exception:
                state = send(state, {"type": "start_round", "seconds_per_turn": 3600}, now)
            started = time.perf_counter()
            cache: dict = {SESSION: lasting}
            for conn in conns:
                frame = conn.render(state, conn.actor, now, cache)
                if type(frame) is str:  # as the socket's writer has it: UTF-8 (the pages' frames are already)
                    frame.encode()
                conn.taken()
            for settle in cache.get(SETTLE, ()):
                settle()
            spent += time.perf_counter() - started
    Regions.render = staticmethod(plain)  # type: ignore[method-assign]
    return spent / changes, rendered


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.render", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--people", type=int, default=10)
    parser.add_argument("--lang", default="en")
    parser.add_argument("--repeat", type=int, default=1, help="runs of --changes each: the best and the median")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    run(20, args.people, args.lang)  # warm: templates compiled, catalogs read
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    runs = [run(args.changes, args.people, args.lang) for _ in range(max(1, args.repeat))]
    if profiler:
        profiler.disable()
    times = sorted(per_change for per_change, _ in runs)
    per_change, rendered = runs[0][0], runs[0][1]
    print(f"{args.people} phones, a console and a screen, {args.changes} turn changes, language {args.lang}: "
          f"{times[0] * 1000:.2f} ms of rendering per change"
          + (f" (best of {len(times)}; median {statistics.median(times) * 1000:.2f} ms)" if len(times) > 1 else ""))
    print("block renders per change: " + ", ".join(f"{block} {count / args.changes:.1f}"
                                                    for block, count in rendered.most_common()))
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
