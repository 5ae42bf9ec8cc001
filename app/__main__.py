"""python -m app: serve Talking Piece (embedded by default; Redis with REDIS_URL)."""

from __future__ import annotations

import argparse
import errno
import gc
import logging
import logging.config
import socket
import sys

import uvicorn

from app.config import AppSettings
from app.resources import MissingResource, check

EPILOG = ("Every option can also come from the environment (the names in brackets); "
          "the README lists the other settings.")


def parse_args(argv: list[str] | None = None) -> tuple[AppSettings, bool]:
    """The settings, with the command line written over the environment, and whether --lan was asked."""
    env = AppSettings()
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__, epilog=EPILOG)
    parser.add_argument("--host", help=f"address to listen on (HOST; default {env.host})")
    parser.add_argument("--port", type=int, default=env.port, help="port to listen on (PORT; default %(default)s)")
    parser.add_argument("--redis-url", default=env.redis_url, help="Redis URL for scale-out (REDIS_URL)")
    parser.add_argument("--lan", action="store_true",
                        help="serve the local network too, so phones on the same network can join: listens on "
                             "every interface and makes the links and QR codes point at this machine's LAN "
                             "address (unless PUBLIC_URL is set)")
    args = parser.parse_args(argv)
    host = args.host or ("0.0.0.0" if args.lan else env.host)
    update = {"host": host, "port": args.port, "redis_url": args.redis_url or None}
    return env.model_copy(update=update), args.lan


def lan_address() -> str | None:
    """This machine's address on its local network: the one its default route leaves from.

    Connecting a UDP socket sends nothing; it only asks the kernel which interface, and so
    which address, a packet to the outside would use. That is the address a phone on the
    same Wi-Fi reaches. None when there is no network (only loopback).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1 (RFC 5737): never routed to anyone
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


def fail(message: str) -> SystemExit:
    print(f"Talking Piece: {message}", file=sys.stderr, flush=True)
    return SystemExit(1)


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything is printed, or a one-line reason why not."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise fail(f"cannot listen on {host!r}: {exc.strerror}") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: restart at once
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise fail(f"port {port} is already in use on {host} (is another server running there?); "
                       "choose another with --port or PORT") from None
        if exc.errno == errno.EACCES:
            raise fail(f"not allowed to listen on port {port} (ports below 1024 need root); "
                       "choose another with --port or PORT") from None
        raise fail(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


YOUNG_OBJECTS = 200_000  # see tune_gc


def tune_gc() -> None:
    """Rarer garbage collections for a server holding thousands of sockets.

    A collection walks the objects of its generation and every reference they hold, with the
    whole server stopped. What start-up loaded (modules, schemas, routes) never becomes
    garbage, so it is frozen out of every walk. The youngest generation is collected once
    200,000 more objects have been made than freed, not CPython's 700. At 5,000 phones, 500
    rooms each changing every 2 s, each room's state and renderings live until its next
    change: with 700 each was walked several times before it died (about a tenth of a core in
    Redis mode, enough to make the server fall behind); now most die before any walk, at the
    price of a walk of up to about a tenth of a second every few seconds under that load
    (docs/benchmarks.md). A full collection waits for 100 passes of the middle generation
    instead of 10 (CPython also waits until the long-lived objects have grown by a quarter):
    at 5,000 phones it walks some 900,000 objects. Reference counting frees everything else
    at once, as before; only reference cycles wait longer.
    """
    gc.collect()
    gc.freeze()
    _, middle, _ = gc.get_threshold()
    gc.set_threshold(YOUNG_OBJECTS, middle, 100)


class AnnouncingServer(uvicorn.Server):
    """Prints the URL to open once the app has started and the socket accepts, not before."""

    def __init__(self, config: uvicorn.Config, announcement: str, as_log: bool = False) -> None:
        super().__init__(config)
        self.announcement = announcement
        self.as_log = as_log  # a log record (JSON lines), not a printed line

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.as_log:
            logging.getLogger("talkingpiece").info(self.announcement)
        else:
            print(self.announcement, flush=True)


def main(argv: list[str] | None = None) -> None:
    settings, lan = parse_args(argv)
    try:
        check()
    except MissingResource as exc:
        raise fail(str(exc)) from None
    # Imported here, once checked: loading the pages reads those files.
    from app.main import KeptAlive, create_app, log_config

    logs = log_config(settings)
    if logs is None:
        logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    else:
        logging.config.dictConfig(logs)
    shown = "localhost" if settings.host in ("127.0.0.1", "0.0.0.0", "::") else settings.host
    url = f"http://{shown}:{settings.port}/"
    note = ""
    if lan:
        address = lan_address()
        if address is None:
            raise fail("--lan: this machine has no local network address (connect it to the Wi-Fi first)")
        url = f"http://{address}:{settings.port}/"
        if settings.public_url:
            links = f"the join links and QR codes use PUBLIC_URL, {settings.public_url}"
        else:
            links = "the join links and QR codes point there"
            settings = settings.model_copy(update={"public_url": url.rstrip("/")})
        note = (f"\n  Phones on the same Wi-Fi can open it; {links}."
                "\n  Plain HTTP on a network you trust: for anything else put a TLS proxy in front (README).")
    problem = settings.limits_secret_problem()
    if problem is not None:
        raise fail(problem)
    sock = bind(settings.host, settings.port)
    if settings.redis_url:
        mode = "Redis at " + settings.redis_url.split("@")[-1]
    else:
        mode = f"embedded, sessions kept in {settings.sessions_path}" if settings.sessions_path else \
            "embedded, sessions in memory only"
    app = create_app(settings)
    tune_gc()
    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, log_level=settings.log_level,
        # The access log would record the live socket's URL, which carries a token.
        # Frames over max_frame_bytes get an error frame from the app (the contract); only a frame
        # over this transport ceiling is closed with 1009 before the app sees it.
        # uvicorn's sans-I/O WebSocket protocol, pinged by one sweep a worker (app/live/keepalive.py).
        access_log=False, ws=KeptAlive, ws_max_size=max(settings.max_frame_bytes * 16, 16 << 20),
        ws_per_message_deflate=settings.ws_compression,
        ws_ping_interval=settings.ws_ping_s, ws_ping_timeout=settings.ws_ping_s,
        proxy_headers=True, forwarded_allow_ips=settings.forwarded_allow_ips,
        **({"log_config": logs} if logs is not None else {}),
    )
    AnnouncingServer(config, f"Talking Piece ({mode}): open {url}{note}", as_log=logs is not None).run(sockets=[sock])


if __name__ == "__main__":
    main()
