"""Recurring groups in Redis: Redis mode's ``GroupStore``.

It shares the sessions' client and connection pool. Keys, all under ``{prefix}{id}``
(``REDIS_PREFIX`` then ``group:``, so ``tp:group:{id}`` by default): the group's hash (name, key_hash, created_at); per
member ``…:member:{member_id}`` (carried JSON, carried_at) and an index from the member
code's hash to the member id, ``…:code:{code_hash}``; the group's own evaluation statements
in the group's hash (``statements``); the record of meetings, aggregate rows by id in
``…:meetings`` and their times in ``…:meeting_at``; each member's sealed CPD entries in
``…:cpd:{member_id}`` and their times in ``…:cpd_at:{member_id}``; between meetings, the
group's agreement, topics, plan and schedule in ``…:doc:between`` and each member's sealed
journal in ``…:doc:journal:{member_id}`` (JSON strings). Keeping carried plans only when they
are newer is one Lua script, so concurrent closes never interleave.
"""

from __future__ import annotations

import json
from typing import Any

from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import WatchError

from app.facilitation.cpd import MAX_ENTRIES
from app.facilitation.record import MAX_MEETINGS
from app.realtime.interfaces import GroupRecord, MemberRecord

# Set a member's field to ARGV[1] stamped ARGV[2], unless what it holds came from a later
# session (KEYS[1] the member's hash; ARGV[3] the field, ARGV[4] its stamp's field): replays
# and late changes to an older session never overwrite newer ones.
_NEWER = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local at = tonumber(redis.call('HGET', KEYS[1], ARGV[4]) or '0')
if at <= tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], ARGV[3], ARGV[1], ARGV[4], ARGV[2])
  return 1
end
return 0
"""


class RedisGroupStore:
    def __init__(self, redis: Redis, *, prefix: str) -> None:
        self.redis = redis  # shared: the runtime closes it
        self.prefix = prefix
        self._newer = self.redis.register_script(_NEWER)
        self.on_erased: Callable[[], None] = lambda: None  # something erased left Redis (``rewrites.py``)

    def _group(self, group_id: str) -> str:
        return f"{self.prefix}{group_id}"

    async def create_group(self, group: GroupRecord) -> None:
        await self.redis.hset(self._group(group.id), mapping={
            "name": group.name, "key_hash": group.key_hash, "created_at": repr(group.created_at)})

    async def load_group(self, group_id: str) -> GroupRecord | None:
        data = await self.redis.hgetall(self._group(group_id))
        if not data:
            return None
        statements = data.get("statements")
        rota = json.loads(data["rota"]) if data.get("rota") else {"rota": [], "next": 0}
        return GroupRecord(id=group_id, name=data["name"], key_hash=data["key_hash"],
                           created_at=float(data["created_at"]),
                           statements=json.loads(statements) if statements is not None else None,
                           least_heard_first=data.get("least_heard_first") == "1",
                           report_hash=data.get("report_hash"), rota=rota["rota"], rota_next=rota["next"])

    async def add_member(self, group_id: str, member_id: str, code_hash: str) -> None:
        base = self._group(group_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(f"{base}:member:{member_id}", mapping={"carried": "[]", "carried_at": "0"})
            pipe.set(f"{base}:code:{code_hash}", member_id)
            pipe.sadd(f"{base}:members", member_id)
            await pipe.execute()

    async def find_member(self, group_id: str, code_hash: str) -> MemberRecord | None:
        base = self._group(group_id)
        member_id = await self.redis.get(f"{base}:code:{code_hash}")
        if member_id is None:
            return None
        data = await self.redis.hgetall(f"{base}:member:{member_id}")
        if not data:
            return None
        return MemberRecord(id=member_id, group_id=group_id, carried=json.loads(data.get("carried", "[]")),
                            carried_at=float(data.get("carried_at", "0")), heard_least=data.get("heard_least") == "1",
                            cpd_key=data.get("cpd_key"))

    async def count_members(self, group_id: str) -> int:
        return int(await self.redis.scard(f"{self._group(group_id)}:members"))

    async def carry(self, group_id: str, carried: dict[str, list[dict[str, Any]]], closed_at: float) -> None:
        base = self._group(group_id)
        for member_id, actions in carried.items():
            await self._newer(keys=[f"{base}:member:{member_id}"],
                              args=[json.dumps(actions), repr(closed_at), "carried", "carried_at"])

    async def set_least_heard_first(self, group_id: str, on: bool) -> None:
        await self.redis.hset(self._group(group_id), "least_heard_first", "1" if on else "0")

    async def note_heard(self, group_id: str, heard_least: dict[str, bool], closed_at: float) -> None:
        base = self._group(group_id)
        for member_id, flag in heard_least.items():
            await self._newer(keys=[f"{base}:member:{member_id}"],
                              args=["1" if flag else "0", repr(closed_at), "heard_least", "heard_at"])

    async def set_statements(self, group_id: str, statements: list[str] | None) -> None:
        if statements is None:
            await self.redis.hdel(self._group(group_id), "statements")
        else:
            await self.redis.hset(self._group(group_id), "statements", json.dumps(statements))

    async def save_rota(self, group_id: str, rota: list[dict[str, str]], next_index: int, closed_at: float) -> None:
        """In the group's hash (``rota``, stamped ``rota_at``), by the same newer-only script as carried plans."""
        await self._newer(keys=[self._group(group_id)],
                          args=[json.dumps({"rota": rota, "next": next_index}), repr(closed_at), "rota", "rota_at"])

    async def add_meeting(self, group_id: str, meeting: dict[str, Any]) -> None:
        """Rows in a hash by id, and their times in a sorted set (to drop the oldest)."""
        base = self._group(group_id)
        erased = await self.redis.hget(base, "record_erased_at")
        if erased is not None and meeting["at"] <= float(erased):
            return  # a meeting from before the group erased its record stays erased
        await self._append_capped(f"{base}:meetings", f"{base}:meeting_at", meeting, MAX_MEETINGS)

    async def _append_capped(self, rows: str, times: str, row: dict[str, Any], cap: int) -> None:
        """A row into the hash ``rows`` by its id, its time into the sorted set ``times``; past
        ``cap`` rows the oldest go."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(rows, row["id"], json.dumps(row))
            pipe.zadd(times, {row["id"]: row["at"]})
            await pipe.execute()
        extra = await self.redis.zrange(times, 0, -cap - 1)
        if extra:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hdel(rows, *extra)
                pipe.zrem(times, *extra)
                await pipe.execute()

    async def set_cpd_key(self, group_id: str, member_id: str, public_key: str) -> None:
        member = f"{self._group(group_id)}:member:{member_id}"
        if await self.redis.exists(member):
            await self.redis.hset(member, "cpd_key", public_key)

    async def add_cpd(self, group_id: str, entries: dict[str, dict[str, Any]]) -> None:
        """Per member, sealed entries by id in ``…:cpd:{member_id}`` and their times in
        ``…:cpd_at:{member_id}`` (to drop the oldest)."""
        base = self._group(group_id)
        for member_id, entry in entries.items():
            erased = await self.redis.hget(f"{base}:member:{member_id}", "cpd_erased_at")
            if erased is not None and entry["at"] <= float(erased):
                continue  # erased by its owner: a late change to that session does not bring it back
            await self._append_capped(f"{base}:cpd:{member_id}", f"{base}:cpd_at:{member_id}", entry, MAX_ENTRIES)

    async def cpd_entries(self, group_id: str, member_id: str) -> list[dict[str, Any]]:
        rows = [json.loads(v) for v in (await self.redis.hgetall(f"{self._group(group_id)}:cpd:{member_id}")).values()]
        return sorted(rows, key=lambda r: r["at"])

    async def erase_cpd(self, group_id: str, member_id: str, at: float) -> None:
        base = self._group(group_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(f"{base}:cpd:{member_id}", f"{base}:cpd_at:{member_id}")
            pipe.hset(f"{base}:member:{member_id}", "cpd_erased_at", repr(at))
            await pipe.execute()
        self.on_erased()

    async def set_report_hash(self, group_id: str, key_hash: str | None) -> None:
        if key_hash is None:
            await self.redis.hdel(self._group(group_id), "report_hash")
        else:
            await self.redis.hset(self._group(group_id), "report_hash", key_hash)

    async def meetings(self, group_id: str) -> list[dict[str, Any]]:
        rows = [json.loads(v) for v in (await self.redis.hgetall(f"{self._group(group_id)}:meetings")).values()]
        return sorted(rows, key=lambda r: r["at"])

    async def erase_record(self, group_id: str, at: float) -> None:
        base = self._group(group_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(f"{base}:meetings", f"{base}:meeting_at")
            pipe.hset(base, "record_erased_at", repr(at))
            await pipe.execute()
        self.on_erased()

    async def load_doc(self, group_id: str, name: str) -> Any | None:
        raw = await self.redis.get(f"{self._group(group_id)}:doc:{name}")
        return json.loads(raw) if raw is not None else None

    async def change_doc(self, group_id: str, name: str, change: Callable[[Any | None], Any | None], *,
                         erases: bool = False) -> Any | None:
        """Optimistically: WATCH the document (and the group, or the member it belongs to), read,
        change, and write in MULTI; a concurrent write makes it run again."""
        base = self._group(group_id)
        key = f"{base}:doc:{name}"
        kind, _, member = name.partition(":")
        owner = f"{base}:member:{member}" if kind == "journal" else base
        async with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(key, owner)
                    if not await pipe.exists(owner):
                        await pipe.reset()
                        return None
                    raw = await pipe.get(key)
                    current = json.loads(raw) if raw is not None else None
                    new = change(current)
                    if new == current:
                        await pipe.reset()
                        return new
                    pipe.multi()
                    if new is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, json.dumps(new))
                    await pipe.execute()
                    if erases:
                        self.on_erased()
                    return new
                except WatchError:
                    continue

    async def close(self) -> None:
        pass
