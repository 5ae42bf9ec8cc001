"""Connection options every Redis client of the app shares."""

from __future__ import annotations

from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from app.config import AppSettings


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
