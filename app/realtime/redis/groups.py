"""Recurring groups in Redis (the ``GroupStore`` of groups.py), for Redis mode.

Keys, all under ``tp:group:{id}``: the group's hash (name, key_hash, created_at); per
member ``…:member:{member_id}`` (carried JSON, carried_at) and an index from the member
code's hash to the member id, ``…:code:{code_hash}``. Keeping carried plans only when they
are newer is one Lua script, so concurrent closes never interleave.
"""

from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis

from app.realtime.interfaces import GroupRecord, MemberRecord

_CARRY = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local at = tonumber(redis.call('HGET', KEYS[1], 'carried_at') or '0')
if at <= tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'carried', ARGV[1], 'carried_at', ARGV[2])
  return 1
end
return 0
"""


class RedisGroupStore:
    def __init__(self, url: str, prefix: str = "tp:group:", **options: object) -> None:
        self.redis = Redis.from_url(url, decode_responses=True, **options)
        self.prefix = prefix
        self._carry = self.redis.register_script(_CARRY)

    def _group(self, group_id: str) -> str:
        return f"{self.prefix}{group_id}"

    async def create_group(self, group: GroupRecord) -> None:
        await self.redis.hset(self._group(group.id), mapping={
            "name": group.name, "key_hash": group.key_hash, "created_at": repr(group.created_at)})

    async def load_group(self, group_id: str) -> GroupRecord | None:
        data = await self.redis.hgetall(self._group(group_id))
        if not data:
            return None
        return GroupRecord(id=group_id, name=data["name"], key_hash=data["key_hash"],
                           created_at=float(data["created_at"]))

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
                            carried_at=float(data.get("carried_at", "0")))

    async def count_members(self, group_id: str) -> int:
        return int(await self.redis.scard(f"{self._group(group_id)}:members"))

    async def carry(self, group_id: str, carried: dict[str, list[dict[str, Any]]], closed_at: float) -> None:
        base = self._group(group_id)
        for member_id, actions in carried.items():
            await self._carry(keys=[f"{base}:member:{member_id}"], args=[json.dumps(actions), repr(closed_at)])

    async def close(self) -> None:
        await self.redis.aclose()
