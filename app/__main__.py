"""``python -m app``: serve Talking Piece (embedded by default; Redis with REDIS_URL)."""

from __future__ import annotations

import argparse
import gc
import logging
import os

import uvicorn

from app.config import AppSettings
from app.main import create_app


def parse_args(argv: list[str] | None = None) -> AppSettings:
    env = AppSettings()
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    parser.add_argument("--host", default=env.host, help="address to listen on (HOST)")
    parser.add_argument("--port", type=int, default=env.port, help="port to listen on (PORT)")
    parser.add_argument("--redis-url", default=env.redis_url, help="Redis URL for scale-out (REDIS_URL)")
    args = parser.parse_args(argv)
    return env.model_copy(update={"host": args.host, "port": args.port, "redis_url": args.redis_url or None})


def tune_gc() -> None:
    """Rarer, shorter full garbage collections for a server holding thousands of sockets.

    A full collection walks every tracked object with the whole server stopped: at 5,000
    phones that is some 900,000 objects and 0.4 s, every room's turn change late by as
    much (docs/benchmarks.md). What start-up loaded (modules, schemas, routes) never becomes
    garbage, so it is frozen out of the walk; and a full collection waits for 100 passes of
    the middle generation instead of 10 (CPython still runs one only once the long-lived
    objects have grown by a quarter). Plain reference counting frees everything else as
    before; only reference cycles wait longer.
    """
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 100)


def main(argv: list[str] | None = None) -> None:
    settings = parse_args(argv)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    shown = "localhost" if settings.host in ("127.0.0.1", "0.0.0.0", "::") else settings.host
    if settings.redis_url:
        mode = "Redis at " + settings.redis_url.split("@")[-1]
    else:
        mode = f"embedded, sessions kept in {settings.sessions_path}" if settings.sessions_path else \
            "embedded, sessions in memory only"
    print(f"Talking Piece ({mode}): open http://{shown}:{settings.port}/", flush=True)
    app = create_app(settings)
    tune_gc()
    uvicorn.run(
        app, host=settings.host, port=settings.port, log_level=settings.log_level,
        # The access log would record the live socket's URL, which carries a token.
        # Frames over max_frame_bytes get an error frame from the app (the contract); only a frame
        # over this transport ceiling is closed with 1009 before the app sees it.
        access_log=False, ws="websockets-sansio", ws_max_size=max(settings.max_frame_bytes * 16, 16 << 20),
        ws_per_message_deflate=settings.ws_compression,
        proxy_headers=True, forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
    )


if __name__ == "__main__":
    main()
