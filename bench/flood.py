"""How late a quiet room's turns end while another room is flooded.

Starts the server (and, for Redis mode, a redis-server of its own) as separate processes;
one room is flooded by every participant's sockets sending hand up, hand down at the
per-socket limit, while a second room runs rounds of short turns. Lateness is the server's
own record: each turn's ``started_at`` against the previous turn's ``ends_at``. Run it
with the fair-share limits as configured, and with them lifted (``--unlimited``) to see
what they buy:

    python -m bench.flood --modes embedded redis
    python -m bench.flood --unlimited

The goal (SECURITY.md, "Fair shares"): no turn of the quiet room ends more than 0.5 s late.
``tests/test_flood_fairness.py`` holds the server to it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
import websockets

from bench.fanout import Server, _http_ready, free_port, percentile, redis_server

UNLIMITED = {"TOKEN_MESSAGES_PER_S": "100000", "TOKEN_MESSAGE_BURST": "100000",
             "SESSION_MESSAGES_PER_S": "100000", "SESSION_MESSAGE_BURST": "100000"}


async def flood(url: str, stop: asyncio.Event, per_s: float, sent: list[int]) -> None:
    try:
        async with websockets.connect(url, max_size=None, max_queue=None) as ws:
            async def drain() -> None:
                async for _ in ws:
                    pass

            reader, n = asyncio.create_task(drain()), 0
            while not stop.is_set():
                kind = "raise_hand" if n % 2 == 0 else "lower_hand"
                await ws.send(json.dumps({"type": "command", "id": f"f{n}", "command": {"type": kind}}))
                n, sent[0] = n + 1, sent[0] + 1
                await asyncio.sleep(1 / per_s)
            reader.cancel()
    except websockets.ConnectionClosed:
        pass


async def scenario(port: int, args: argparse.Namespace) -> dict[str, Any]:
    base, ws_base = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        async def post(path: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            answer = await http.post(path, json=body, headers=headers)
            answer.raise_for_status()
            return answer.json()

        busy = await post("/api/sessions", {"title": "Flooded"})
        tokens = [(await post(f"/api/sessions/{busy['code']}/participants", {"name": f"F{n}"}))["token"]
                  for n in range(args.flooders)]
        await post(f"/api/sessions/{busy['code']}/commands", {"type": "start"}, busy["facilitator_token"])
        quiet = await post("/api/sessions", {"title": "Quiet"})
        for n in range(args.turns + 1):
            await post(f"/api/sessions/{quiet['code']}/participants", {"name": f"Q{n}"})
        fac = quiet["facilitator_token"]
        await post(f"/api/sessions/{quiet['code']}/commands", {"type": "start"}, fac)

        stop, sent = asyncio.Event(), [0]
        floods = [asyncio.create_task(flood(f"{ws_base}/api/sessions/{busy['code']}/live?token={t}", stop,
                                            args.per_socket, sent))
                  for t in tokens for _ in range(args.sockets)]
        await asyncio.sleep(2)
        async with websockets.connect(f"{ws_base}/api/sessions/{quiet['code']}/live?token={fac}",
                                      max_size=None) as watcher:
            await post(f"/api/sessions/{quiet['code']}/commands",
                       {"type": "start_round", "seconds_per_turn": args.turn_s}, fac)
            lateness: list[float] = []
            previous: dict[str, Any] | None = None
            while len(lateness) < args.turns:
                frame = json.loads(await asyncio.wait_for(watcher.recv(), 30))
                turn = frame.get("view", {}).get("turn") if frame["type"] == "state" else None
                if turn is None or (previous is not None and turn["started_at"] <= previous["started_at"]):
                    continue
                if previous is not None:
                    lateness.append(turn["started_at"] - previous["ends_at"])
                previous = turn
        stop.set()
        await asyncio.gather(*floods, return_exceptions=True)
    return {"sockets": args.flooders * args.sockets, "messages_sent": sent[0], "turns": len(lateness),
            "late_p50_s": round(percentile(lateness, 50), 3), "late_max_s": round(max(lateness), 3)}


def run(mode: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    port = free_port()
    env = {"LOG_LEVEL": "warning", "REDIS_URL": "", "GROUPS_DB": str(tmp / f"groups-{port}.sqlite3"),
           **(UNLIMITED if args.unlimited else {})}
    redis = None
    if mode == "redis":
        redis, env["REDIS_URL"] = redis_server(tmp)
        env["LIMITS_SECRET"] = secrets.token_hex(32)
    try:
        server = Server([sys.executable, "-m", "app", "--port", str(port)], env, _http_ready(port), tmp / "server.log")
        try:
            return {"mode": mode, "limits": "lifted" if args.unlimited else "default",
                    **asyncio.run(scenario(port, args))}
        finally:
            server.stop()
    finally:
        if redis is not None:
            redis.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", nargs="+", default=["embedded", "redis"], choices=["embedded", "redis"])
    parser.add_argument("--flooders", type=int, default=12, help="participants flooding the busy room")
    parser.add_argument("--sockets", type=int, default=5, help="sockets per flooding participant")
    parser.add_argument("--per-socket", type=float, default=20, help="messages a second per socket")
    parser.add_argument("--turns", type=int, default=8, help="turn ends measured in the quiet room")
    parser.add_argument("--turn-s", type=float, default=1.0)
    parser.add_argument("--unlimited", action="store_true", help="lift the per-token and per-session rates")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for mode in args.modes:
            print(json.dumps(run(mode, args, Path(tmp))), flush=True)


if __name__ == "__main__":
    main()
