"""Fair shares: how much one address, one token or one session may ask of the server.

Every limit is a token bucket (``Limits``), so a burst is served at once and only a
sustained flood is refused, with the seconds to wait. In Redis mode the buckets for
addresses and sessions live in Redis and count across every worker; the per-token
message bucket is kept by each worker on purpose: a shared one would leave in Redis the
time of each token's latest command, and matching that time to a new anonymous item
would name its author. Tokens are capped across workers anyway by their open sockets
(``Presence``), and every token's messages count in its session's shared bucket.

Addresses and session codes are kept only as keyed hashes, and token buckets under an HMAC
of the token, so no bucket can be tied to a participant, and an erased session leaves
nothing that names it. The key is never in Redis (in Redis mode it is the operator's
``LIMITS_SECRET``, shared by the workers; embedded, random per process): a copy of Redis's
files could otherwise recompute the hash of every possible address.

The limits, and what is refused past each (README.md and SECURITY.md list them):

- creating sessions, per client address: a burst, then a steady rate per hour;
- joining, per client address: a burst large enough for a whole room behind one
  network address (a hospital's Wi-Fi), then a steady rate per minute; and per client
  address in one session: a smaller burst (a room's worth), then about one a second, so
  that one address cannot take every place of a session (200) while its group is still
  joining. A real room behind one address gets its first places at once and the rest
  in turn, each phone waiting a second or two (SECURITY.md);
- commands, HTTP or socket, per token and per session.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Callable

from app.config import AppSettings
from app.realtime import metrics
from app.facilitation.errors import RateLimited
from app.realtime.interfaces import Bucket, Gate, Limits


class TooFast(RateLimited):
    """A fair-share limit was reached; ``retry_after`` says when the request would pass."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = max(1, math.ceil(retry_after))


def _session_refused(wait: float) -> TooFast:
    metrics.refused("session_messages")
    return TooFast("this session is receiving too many commands at once: try again in a moment", wait)


class Quotas:
    def __init__(self, shared: Limits, local: Limits, settings: AppSettings, clock: Callable[[], float],
                 secret: str) -> None:
        self.shared = shared  # Redis in Redis mode
        self.local = local  # this process
        self.settings = settings
        self.clock = clock
        self._secret = secret.encode()

    def _hidden(self, name: str) -> str:
        """An address or a session code as a bucket keeps it: keyed, so not guessable back."""
        return hmac.new(self._secret, name.encode(), hashlib.sha256).hexdigest()[:32]

    def _bucket(self, kind: str, ident: str, per_s: float, burst: float) -> Bucket:
        return Bucket(f"{kind}:{ident}", per_s, burst)

    async def creating(self, address: str | None) -> None:
        s = self.settings
        await self._per_address("create", address, s.sessions_per_address_per_hour / 3600, s.session_burst_per_address,
                                "too many sessions created from your address; wait and try again")

    async def joining(self, address: str | None, code: str) -> None:
        """One join from this address into session ``code``: both its buckets, or neither."""
        s = self.settings
        if address is None:
            return
        everywhere = self._bucket("join", self._hidden(address), s.joins_per_address_per_minute / 60,
                                  s.join_burst_per_address)
        here = self._bucket("join-session", self._hidden(f"{code}\x1f{address}"),
                            s.session_joins_per_address_per_minute / 60, s.session_join_burst_per_address)
        wait = await self.shared.take([everywhere, here], self.clock())
        if wait:
            raise TooFast("too many people joined from your address just now; wait and try again", wait)

    async def _per_address(self, kind: str, address: str | None, per_s: float, burst: float, refusal: str) -> None:
        if address is None:
            return
        wait = await self.shared.take([self._bucket(kind, self._hidden(address), per_s, burst)], self.clock())
        if wait:
            metrics.refused(f"{kind}_per_address")
            raise TooFast(refusal, wait)

    async def commanding(self, token: str, code: str) -> None:
        """One command (over HTTP or a socket) from this token to this session."""
        await (await self.command_gate(token, code)).take()

    async def command_gate(self, token: str, code: str) -> Gate:
        """One command from this token to this session: the token's share is taken here (this
        process keeps it), the session's is the gate the change's store takes with its read."""
        s = self.settings
        now = self.clock()
        mine = hmac.new(token.encode(), b"rate", hashlib.sha256).hexdigest()[:32]
        wait = await self.local.take([self._bucket("token", mine, s.token_messages_per_s, s.token_message_burst)], now)
        if wait:
            metrics.refused("token_messages")
            raise TooFast("you are sending too fast: slow down", wait)
        return Gate(self.shared, (self._bucket("session", self._hidden(code), s.session_messages_per_s,
                                               s.session_message_burst),), now, _session_refused)

    async def guess_wait(self, address: str) -> float:
        """Seconds this address must wait before naming a session again (join-code guessing)."""
        return await self.shared.wait(self._guesses(address), self.clock())

    async def guessed(self, address: str) -> None:
        await self.shared.spend(self._guesses(address), self.clock())

    def _guesses(self, address: str) -> Bucket:
        per_minute = self.settings.guesses_per_minute
        return self._bucket("guess", self._hidden(address), per_minute / 60, per_minute)
