"""``python -m app``: serve Talking Piece (embedded by default; Redis with REDIS_URL)."""

from __future__ import annotations

import argparse
import logging
import os

import uvicorn

from .config import AppSettings
from .main import create_app


def parse_args(argv: list[str] | None = None) -> AppSettings:
    env = AppSettings()
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    parser.add_argument("--host", default=env.host, help="address to listen on (HOST)")
    parser.add_argument("--port", type=int, default=env.port, help="port to listen on (PORT)")
    parser.add_argument("--redis-url", default=env.redis_url, help="Redis URL for scale-out (REDIS_URL)")
    args = parser.parse_args(argv)
    return env.model_copy(update={"host": args.host, "port": args.port, "redis_url": args.redis_url or None})


def main(argv: list[str] | None = None) -> None:
    settings = parse_args(argv)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    shown = "localhost" if settings.host in ("127.0.0.1", "0.0.0.0", "::") else settings.host
    mode = "Redis at " + settings.redis_url.split("@")[-1] if settings.redis_url else "embedded, in memory"
    print(f"Talking Piece ({mode}): open http://{shown}:{settings.port}/", flush=True)
    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port, log_level=settings.log_level,
        # The access log would record the live socket's URL, which carries a token.
        # Frames over max_frame_bytes get an error frame from the app (the contract); only a frame
        # over this transport ceiling is closed with 1009 before the app sees it.
        access_log=False, ws="websockets-sansio", ws_max_size=max(settings.max_frame_bytes * 16, 16 << 20),
        ws_per_message_deflate=settings.ws_compression,
        proxy_headers=True, forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
    )


if __name__ == "__main__":
    main()
