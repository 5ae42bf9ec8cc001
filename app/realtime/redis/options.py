"""Connection options every Redis client of the app shares."""

from __future__ import annotations

import functools
from typing import Any

from redis.asyncio.connection import AbstractConnection, ConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from app.config import AppSettings

try:
    import hiredis as _hiredis
except ImportError:  # an install without redis's hiredis extra: redis-py packs and parses in Python
    _hiredis = None


def redis_options(settings: AppSettings) -> dict[str, object]:
    """How every Redis connection of the app behaves when Redis is slow, frozen or restarted.

    A frozen Redis (SIGSTOP, a stalled VM) accepts connections and never answers: without a
    socket timeout a request would hang for good; with it, the request fails after
    ``redis_timeout_s`` and the client gets a 503. After a restart every pooled connection
    is dead: a command that meets one is retried on a fresh connection (a dead socket
    fails on writing, before Redis saw the command; a write that did reach Redis and is
    sent again meets the revision check and is recomputed, and a command id acks once). A
    timeout is not retried: Redis may be running the command, and the client is better
    told at once than kept waiting through several timeouts.
    """
    timeout = settings.redis_timeout_s
    return {"socket_timeout": timeout, "socket_connect_timeout": timeout, "health_check_interval": 5,
            "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), 3, supported_errors=(RedisConnectionError,))}


def packed_in_c(pool: ConnectionPool) -> ConnectionPool:
    """``pool``, its commands packed by hiredis where redis-py's asyncio client would pack them
    in Python. A facilitator's command is one script call of some twenty arguments, the room's
    record among them; redis-py joins each argument onto everything packed before it. hiredis
    packs the same bytes (Redis's protocol, UTF-8) in one call: for a command whose arguments
    are text, bytes and whole numbers. Anything else (a float, whose text redis-py writes as
    ``repr`` does) is packed as before. Without hiredis the pool is left as it is."""
    if _hiredis is not None:
        pool.connection_class = _packing(pool.connection_class)
    return pool


@functools.cache
def _packing(base: type[AbstractConnection]) -> type[AbstractConnection]:
    class Packed(base):  # type: ignore[valid-type,misc]  # a TCP, TLS or Unix socket connection alike
        def pack_command(self, *args: Any) -> list[bytes]:
            name = args[0] if args else None
            if type(name) is str and " " not in name and all(type(arg) in _PLAIN for arg in args):
                return [_hiredis.pack_command(args)]
            return super().pack_command(*args)  # type: ignore[no-any-return]

    Packed.__name__ = Packed.__qualname__ = f"Packed{base.__name__}"
    return Packed


_PLAIN = frozenset((str, bytes, int))
