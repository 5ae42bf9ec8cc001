"""The app's Redis connections pack their commands with hiredis: the same bytes as redis-py's
own packing, for every kind of argument the store sends, and redis-py's own way for the rest."""

from __future__ import annotations

from redis.asyncio.connection import BlockingConnectionPool, Connection, SSLConnection, UnixDomainSocketConnection

from app.realtime.redis.options import packed_in_c


def both(url: str, *args: object) -> tuple[bytes, bytes]:
    """(packed as the app's pool packs it, packed as redis-py alone does)."""
    ours = packed_in_c(BlockingConnectionPool.from_url(url, decode_responses=True)).make_connection()
    theirs = BlockingConnectionPool.from_url(url, decode_responses=True).make_connection()
    return b"".join(ours.pack_command(*args)), b"".join(theirs.pack_command(*args))


def test_a_command_is_packed_to_the_same_bytes_as_redis_py_packs_it() -> None:
    record = '{"title": "Équipe ✓", "text": "a \\"quote\\" and 100%"}' * 400  # longer than redis-py's chunk
    cases = [
        ("EVALSHA", "0123abcd", 3, "tp:s:ABC", "tp:index", "tp:deadlines", "7", record, 86_400_000,
         "1700000000.25", "ABC", "", "tp:c:ABC", "w1:8:12", "", "-", "", 200),
        ("HMGET", "tp:s:ABC", "rev", "record", "presence", "k:c1"),
        ("SET", b"\x00\xffbytes", "", -1, 2**63 - 1),
        ("PUBLISH", "tp:c:ABC", "naïve ☃ \U0001f600"),
    ]
    for args in cases:
        ours, theirs = both("redis://127.0.0.1:6379/0", *args)
        assert ours == theirs, args


def test_what_hiredis_would_write_otherwise_is_packed_by_redis_py() -> None:
    # A float is written as repr writes it (hiredis has its own digits); a true/false is refused
    # by redis-py as it always was; a command name with a space is two words.
    ours, theirs = both("redis://127.0.0.1:6379/0", "ZADD", "tp:deadlines", 0.1, "ABC")
    assert ours == theirs and b"$3\r\n0.1\r\n" in ours
    ours, theirs = both("redis://127.0.0.1:6379/0", "CONFIG GET", "maxmemory")
    assert ours == theirs and ours.startswith(b"*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n")


def test_the_connection_keeps_its_kind_tls_and_unix_sockets_included() -> None:
    for url, kind in (("redis://h:6379/0", Connection), ("rediss://h:6379/0", SSLConnection),
                      ("unix:///tmp/redis.sock", UnixDomainSocketConnection)):
        pool = packed_in_c(BlockingConnectionPool.from_url(url))
        assert issubclass(pool.connection_class, kind) and pool.connection_class is not kind
