"""The limit: a minimal broadcast server on the same WebSocket library.

websockets' own asyncio server, nothing else. A socket connects to ``/{room}?token=…``;
the facilitator's token is ``facilitator``. Every socket gets a first state frame; each
command frame from the facilitator bumps the room's version, ``websockets.broadcast``s
one message of ``--size`` bytes (shaped like a Talking Piece state frame, so the load
processes read it the same way) to the room's phones, and acks with the version.
Same keepalive (a ping every ``WS_PING_S`` seconds, 5 by default, answered within as long),
garbage collector settings, event loop (uvloop when installed, as uvicorn picks it) and
permessage-deflate settings (off, or with ``--deflate`` uvicorn's) as Talking Piece's server.

    python bench/raw_server.py --port 8765 --size 2500
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.loadgen import raise_fd_limit  # noqa: E402


def message(version: int, size: int) -> str:
    head = f'{{"type":"state","version":{version},"pad":"'
    return head + "x" * max(0, size - len(head) - 2) + '"}'


async def main(host: str, port: int, size: int, deflate: bool, ping: float) -> None:
    rooms: dict[str, set[ServerConnection]] = {}
    versions: dict[str, int] = {}

    async def handler(ws: ServerConnection) -> None:
        url = urlsplit(ws.request.path)
        room = url.path.strip("/")
        facilitator = parse_qs(url.query).get("token", [""])[0] == "facilitator"
        versions.setdefault(room, 1)
        phones = rooms.setdefault(room, set())
        await ws.send(message(versions[room], size))
        if not facilitator:
            phones.add(ws)
        try:
            async for text in ws:
                command = json.loads(text)
                if facilitator:
                    versions[room] += 1
                    broadcast(phones, message(versions[room], size))
                    await ws.send(json.dumps({"type": "ack", "id": command.get("id"), "version": versions[room]}))
        except ConnectionClosed:
            pass
        finally:
            phones.discard(ws)

    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    # uvicorn's factory when Talking Piece compresses (WS_COMPRESSION), none when it does not.
    extensions = [ServerPerMessageDeflateFactory(server_max_window_bits=12, client_max_window_bits=12,
                                                 compress_settings={"memLevel": 5})] if deflate else None
    async with serve(handler, host, port, backlog=4096, max_size=1 << 20, compression=None,
                     extensions=extensions, ping_interval=ping, ping_timeout=ping):
        print(f"raw broadcast server on ws://{host}:{port}/ ({size}-byte messages)", flush=True)
        await stop


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--size", type=int, default=2500, help="bytes per broadcast message")
    parser.add_argument("--deflate", action="store_true", help="accept permessage-deflate as uvicorn does")
    parser.add_argument("--ping", type=float, default=None,
                        help="seconds between keepalive pings (default: Talking Piece's WS_PING_S)")
    args = parser.parse_args()
    raise_fd_limit()
    from app.__main__ import tune_gc
    tune_gc()  # the same garbage collector settings as Talking Piece's server, so pauses compare
    if args.ping is None:
        from app.config import AppSettings
        args.ping = AppSettings().ws_ping_s  # the same keepalive as Talking Piece's server
    try:
        import uvloop
    except ImportError:
        asyncio.run(main(args.host, args.port, args.size, args.deflate, args.ping))
    else:
        uvloop.run(main(args.host, args.port, args.size, args.deflate, args.ping))
